//! The interactive simulator in a pseudo-terminal, driven by keys as a
//! person would: the panel appears, a press and release turn the page, `q`
//! quits with status 0 and gives the terminal back.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// Reads from the terminal until `needle` appears (or 10 s pass).
fn read_until(master: &mut std::fs::File, seen: &mut String, needle: &str) -> bool {
    let end = Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        if Instant::now() > end {
            return false;
        }
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap_or(0) == 0 {
            continue;
        }
        let mut buf = [0u8; 4096];
        match master.read(&mut buf) {
            Ok(0) | Err(_) => return seen.contains(needle),
            Ok(n) => seen.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    true
}

#[test]
fn keys_press_the_button_and_q_quits() {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let mut child = Command::new(BIN)
        .args(["simulate", "--fake-stats"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    assert!(
        read_until(&mut master, &mut seen, "page info"),
        "no start-up screen:\n{seen}"
    );
    assert!(seen.contains("rackpi-panel simulator"));
    assert!(
        read_until(&mut master, &mut seen, "▄"),
        "the panel is drawn with half blocks"
    );
    assert!(
        read_until(&mut master, &mut seen, "LED ●"),
        "the LED is shown lit"
    );

    master.write_all(b" ").unwrap();
    assert!(
        read_until(&mut master, &mut seen, "press"),
        "SPACE presses:\n{seen}"
    );
    std::thread::sleep(Duration::from_millis(200));
    master.write_all(b" ").unwrap();
    assert!(
        read_until(&mut master, &mut seen, "page system"),
        "SPACE again releases, the page turns"
    );

    master.write_all(b"q").unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < end, "q did not quit");
        // keep draining, so the child never blocks on a full terminal
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) > 0 {
            let mut buf = [0u8; 4096];
            if let Ok(n) = master.read(&mut buf) {
                seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
    };
    assert!(status.success());
    let _ = read_until(&mut master, &mut seen, "\x1b[?25h");
    assert!(seen.contains("\x1b[?25h"), "the cursor is given back");
}
