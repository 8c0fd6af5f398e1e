//! The interactive simulator in an 80×24 pseudo-terminal, driven by keys as
//! a person would, its output fed to a small terminal emulator: the panel,
//! the status line and the keys are on the screen, no line is wider than the
//! terminal, nothing scrolls, and the terminal is given back however the
//! run ends (q, SIGTERM).

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::Winsize;

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// Just enough of a VT100 to see what a person would: cursor positioning,
/// erasing, the alternate screen; and to notice a wrap or a scroll.
struct Vt {
    cols: usize,
    rows: usize,
    grid: Vec<Vec<char>>,
    row: usize,
    col: usize,
    pending_wrap: bool,
    wrapped: Vec<String>,
    scrolled: bool,
    alternate: bool,
    cursor_visible: bool,
    bytes: Vec<u8>,
}

impl Vt {
    fn new(cols: usize, rows: usize) -> Self {
        Vt {
            cols,
            rows,
            grid: vec![vec![' '; cols]; rows],
            row: 0,
            col: 0,
            pending_wrap: false,
            wrapped: Vec::new(),
            scrolled: false,
            alternate: false,
            cursor_visible: true,
            bytes: Vec::new(),
        }
    }

    fn line_feed(&mut self) {
        if self.row + 1 == self.rows {
            self.scrolled = true;
            self.grid.remove(0);
            self.grid.push(vec![' '; self.cols]);
        } else {
            self.row += 1;
        }
    }

    fn csi(&mut self, params: &str, fin: char) {
        let nums: Vec<usize> = params
            .trim_start_matches('?')
            .split(';')
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        let arg =
            |i: usize, default: usize| nums.get(i).copied().filter(|&n| n > 0).unwrap_or(default);
        match fin {
            'H' | 'f' => {
                self.row = (arg(0, 1) - 1).min(self.rows - 1);
                self.col = (arg(1, 1) - 1).min(self.cols - 1);
                self.pending_wrap = false;
            }
            'K' => {
                let from = if nums[0] == 0 { self.col } else { 0 };
                for c in &mut self.grid[self.row][from..] {
                    *c = ' ';
                }
            }
            'J' => {
                let from_row = if nums[0] == 2 || nums[0] == 3 {
                    0
                } else {
                    self.row + 1
                };
                if nums[0] == 0 {
                    let col = self.col;
                    for c in &mut self.grid[self.row][col..] {
                        *c = ' ';
                    }
                }
                for row in &mut self.grid[from_row..] {
                    row.fill(' ');
                }
            }
            'h' | 'l' if params.starts_with('?') => {
                let on = fin == 'h';
                match nums[0] {
                    1049 | 47 | 1047 => {
                        self.alternate = on;
                        for row in &mut self.grid {
                            row.fill(' ');
                        }
                    }
                    25 => self.cursor_visible = on,
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Puts back an unfinished escape sequence for the next read.
    fn keep(&mut self, rest: &[char]) {
        let mut bytes = rest.iter().collect::<String>().into_bytes();
        bytes.append(&mut self.bytes);
        self.bytes = bytes;
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.bytes) {
            Ok(text) => text.len(),
            Err(err) => err.valid_up_to(),
        };
        let text: Vec<char> = String::from_utf8_lossy(&self.bytes[..valid])
            .chars()
            .collect();
        self.bytes.drain(..valid);
        let mut i = 0;
        while i < text.len() {
            let c = text[i];
            i += 1;
            match c {
                '\x1b' => {
                    // an escape sequence split across reads waits for the rest
                    let start = i - 1;
                    match text.get(i) {
                        None => {
                            self.keep(&text[start..]);
                            return;
                        }
                        Some('[') => {
                            let end = text[i + 1..].iter().position(|c| ('@'..='~').contains(c));
                            let Some(end) = end.map(|e| i + 1 + e) else {
                                self.keep(&text[start..]);
                                return;
                            };
                            let params: String = text[i + 1..end].iter().collect();
                            self.csi(&params, text[end]);
                            i = end + 1;
                        }
                        Some(_) => i += 1,
                    }
                }
                '\r' => {
                    self.col = 0;
                    self.pending_wrap = false;
                }
                '\n' => {
                    self.pending_wrap = false;
                    self.line_feed();
                }
                c if (c as u32) < 0x20 => {}
                c => {
                    if self.pending_wrap {
                        self.wrapped.push(self.text(self.row));
                        self.col = 0;
                        self.pending_wrap = false;
                        self.line_feed();
                    }
                    self.grid[self.row][self.col] = c;
                    if self.col + 1 == self.cols {
                        self.pending_wrap = true;
                    } else {
                        self.col += 1;
                    }
                }
            }
        }
    }

    fn text(&self, row: usize) -> String {
        self.grid[row]
            .iter()
            .collect::<String>()
            .trim_end()
            .to_owned()
    }

    fn screen(&self) -> String {
        (0..self.rows).map(|r| self.text(r) + "\n").collect()
    }
}

struct Panel {
    child: Child,
    master: std::fs::File,
    /// The child's terminal, kept to read its modes.
    slave: std::fs::File,
    vt: Vt,
}

impl Panel {
    fn start(config: &str) -> (Panel, tempfile::TempDir) {
        Panel::start_with(config, (80, 24), &[])
    }

    /// In a terminal of `size` (columns, rows), with more arguments (`{}`
    /// in one stands for the test's directory).
    fn start_with(config: &str, size: (u16, u16), args: &[&str]) -> (Panel, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let args: Vec<String> = args
            .iter()
            .map(|a| a.replace("{}", &dir.path().display().to_string()))
            .collect();
        let (cols, rows) = size;
        let size = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).unwrap();
        // the child gets the slave as its terminal, never the master
        nix::fcntl::fcntl(
            &pty.master,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
        )
        .unwrap();
        let slave = std::fs::File::from(pty.slave);
        let child = Command::new(BIN)
            .args(["simulate", "--fake-stats", "--config"])
            .arg(&config_path)
            .args(&args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()))
            .spawn()
            .unwrap();
        let panel = Panel {
            child,
            master: std::fs::File::from(pty.master),
            slave,
            vt: Vt::new(usize::from(cols), usize::from(rows)),
        };
        (panel, dir)
    }

    /// Reads until the screen satisfies `done` (or 10 s pass).
    fn until(&mut self, what: &str, done: impl Fn(&Vt) -> bool) {
        let end = Instant::now() + Duration::from_secs(10);
        while !done(&self.vt) {
            assert!(
                Instant::now() < end,
                "waited for {what}; the screen:\n{}",
                self.vt.screen()
            );
            self.read_some();
        }
    }

    fn read_some(&mut self) -> bool {
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(50u16)).unwrap_or(0) == 0 {
            return true;
        }
        let mut buf = [0u8; 8192];
        match self.master.read(&mut buf) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.vt.feed(&buf[..n]);
                true
            }
        }
    }

    /// Whether the terminal is in raw mode (no line editing, no echo).
    fn raw(&self) -> bool {
        let modes = nix::sys::termios::tcgetattr(&self.slave).unwrap();
        !modes
            .local_flags
            .contains(nix::sys::termios::LocalFlags::ICANON)
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    /// The process state letter of /proc/PID/stat (`T`: stopped).
    fn state(&self) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.chars().next().unwrap()
    }

    fn key(&mut self, key: &[u8]) {
        self.master.write_all(key).unwrap();
    }

    /// Waits for the exit, reading all the while (the child must never
    /// block on a full terminal).
    fn exit(&mut self) -> std::process::ExitStatus {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.read_some() {
                    let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
                    if poll(&mut fds, PollTimeout::ZERO).unwrap_or(0) == 0 {
                        break;
                    }
                }
                return status;
            }
            assert!(Instant::now() < end, "the simulator did not end");
            self.read_some();
        }
    }

    fn assert_fits(&self, size: &str) {
        assert!(
            self.vt.wrapped.is_empty(),
            "{size}: lines wider than 80 columns wrapped: {:#?}",
            self.vt.wrapped
        );
        assert!(
            !self.vt.scrolled,
            "{size}: the screen scrolled:\n{}",
            self.vt.screen()
        );
    }
}

impl Drop for Panel {
    /// A failed test leaves no simulator running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn has(needle: &'static str) -> impl Fn(&Vt) -> bool {
    move |vt| vt.screen().contains(needle)
}

#[test]
fn in_80_by_24_both_panel_sizes_fit_keys_work_and_q_gives_the_terminal_back() {
    for size in ["128x32", "128x64"] {
        let (mut panel, _dir) = Panel::start(&format!("[display]\nsize = \"{size}\"\n"));
        panel.until("the alternate screen", |vt| vt.alternate);
        panel.until("the first page", has("page info"));
        panel.until("the panel's border", has("┌ rackpi-panel simulator"));
        panel.until("the status line", has("LED ●"));
        let screen = panel.vt.screen();
        assert!(screen.contains("q quit"), "{size}: the key line:\n{screen}");
        assert!(screen.contains("r 9 s: reboot"), "{size}:\n{screen}");
        assert!(
            !panel.vt.cursor_visible,
            "the cursor is hidden while drawing"
        );

        panel.key(b" ");
        panel.until("the press", has("press"));
        std::thread::sleep(Duration::from_millis(200));
        panel.key(b" ");
        panel.until("the page to turn", has("page system"));

        // keys that change no input of the firmware repaint at once
        panel.key(b"f");
        panel.until("the status line after f", has("power commands fail"));
        panel.key(b"u");
        panel.until("the status line after u", has("display UNPLUGGED"));
        panel.assert_fits(size);

        panel.key(b"q");
        let status = panel.exit();
        assert!(status.success(), "{size}: q exits with 0, got {status:?}");
        assert!(!panel.vt.alternate, "{size}: the alternate screen is left");
        assert!(panel.vt.cursor_visible, "{size}: the cursor is given back");
    }
}

#[test]
fn the_keys_follow_the_configured_thresholds() {
    let (mut panel, _dir) = Panel::start(
        "[button]\nreboot_after_s = 3.0\nshutdown_after_s = 4.0\ncancel_after_s = 6.0\n",
    );
    panel.until("the key line", has("r 3.5 s: reboot"));
    assert!(panel.vt.screen().contains("s 5 s: shutdown"));
    assert!(panel.vt.screen().contains("c 7 s: cancel"));
    panel.key(b"r");
    panel.until("a reboot after 3.5 s", has("s  reboot\n"));
    panel.until(
        "the status line after the reboot",
        has("reboot recorded, not run: panel back in"),
    );
    panel.assert_fits("128x32");
    panel.key(b"q");
    assert!(panel.exit().success());
}

#[test]
fn sigterm_ends_the_interactive_run_and_gives_the_terminal_back() {
    let (mut panel, _dir) = Panel::start("");
    panel.until("the first page", has("page info"));
    let pid = nix::unistd::Pid::from_raw(panel.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = panel.exit();
    assert_eq!(status.code(), Some(0), "SIGTERM ends the run as q does");
    assert!(!panel.vt.alternate, "the alternate screen is left");
    assert!(panel.vt.cursor_visible, "the cursor is given back");
}

/// The events the run wrote to `path`, by name.
fn event_names(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["event"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn count(events: &[String], name: &str) -> usize {
    events.iter().filter(|e| *e == name).count()
}

#[test]
fn a_held_hold_key_auto_repeating_holds_as_long_as_its_key_says() {
    let (mut panel, dir) = Panel::start_with(
        "[button]\nreboot_after_s = 3.0\nshutdown_after_s = 4.0\ncancel_after_s = 6.0\n",
        (80, 24),
        &["--events", "{}/events.jsonl"],
    );
    panel.until("the key line", has("r 3.5 s: reboot"));
    // `r` held down for 2 s: the terminal repeats it 25 times a second
    for _ in 0..50 {
        panel.key(b"r");
        std::thread::sleep(Duration::from_millis(40));
        panel.read_some();
    }
    panel.until("the reboot", has("s  reboot\n"));
    panel.key(b"q");
    assert!(panel.exit().success());
    let events = event_names(&dir.path().join("events.jsonl"));
    assert_eq!(count(&events, "reboot"), 1, "{events:?}");
    assert_eq!(count(&events, "shutdown"), 0, "{events:?}");
    assert_eq!(count(&events, "press"), 1, "{events:?}");
}

#[test]
fn a_held_space_is_one_press_held_until_the_key_is_let_go() {
    let (mut panel, dir) = Panel::start_with("", (80, 24), &["--events", "{}/events.jsonl"]);
    panel.until("the first page", has("page info"));
    // a first press, the auto-repeat after half a second, for a second
    panel.key(b" ");
    std::thread::sleep(Duration::from_millis(500));
    for _ in 0..25 {
        panel.key(b" ");
        std::thread::sleep(Duration::from_millis(40));
        panel.read_some();
    }
    panel.until("the release", has("release"));
    // and a deliberate press and release, one second apart
    std::thread::sleep(Duration::from_millis(500));
    panel.key(b" ");
    std::thread::sleep(Duration::from_millis(1000));
    panel.key(b" ");
    panel.until("the page to turn again", has("page network"));
    panel.key(b"q");
    assert!(panel.exit().success());
    let events = event_names(&dir.path().join("events.jsonl"));
    assert_eq!(count(&events, "press"), 2, "{events:?}");
    assert_eq!(count(&events, "release"), 2, "{events:?}");
    assert_eq!(
        count(&events, "page"),
        3,
        "info, then one turn per press: {events:?}"
    );
}

#[test]
fn sigquit_ends_the_run_as_quit_does_and_gives_the_terminal_back() {
    let (mut panel, dir) = Panel::start_with("", (80, 24), &["--events", "{}/events.jsonl"]);
    panel.until("the first page", has("page info"));
    assert!(panel.raw());
    panel.signal(nix::sys::signal::Signal::SIGQUIT);
    let status = panel.exit();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(!panel.vt.alternate, "the alternate screen is left");
    assert!(!panel.raw(), "the terminal is out of raw mode");
    let events = event_names(&dir.path().join("events.jsonl"));
    assert_eq!(
        events.last().map(String::as_str),
        Some("stopped"),
        "{events:?}"
    );
}

#[test]
fn sigtstp_gives_the_terminal_back_and_sigcont_takes_it_again() {
    let (mut panel, _dir) = Panel::start("");
    panel.until("the first page", has("page info"));
    for stop in [&b"\x1a"[..], &[]] {
        if stop.is_empty() {
            panel.signal(nix::sys::signal::Signal::SIGTSTP);
        } else {
            // Ctrl-Z, which raw mode passes on as a byte
            panel.key(stop);
        }
        panel.until("the normal screen", |vt| !vt.alternate && vt.cursor_visible);
        let end = Instant::now() + Duration::from_secs(10);
        while panel.state() != 'T' {
            assert!(Instant::now() < end, "the process did not stop");
            panel.read_some();
        }
        assert!(
            !panel.raw(),
            "the terminal is out of raw mode while stopped"
        );
        panel.signal(nix::sys::signal::Signal::SIGCONT);
        panel.until("the panel again", |vt| {
            vt.alternate && vt.screen().contains("┌ rackpi-panel simulator")
        });
        assert!(panel.raw(), "raw mode again");
    }
    panel.key(b"q");
    assert!(panel.exit().success());
}

#[test]
fn in_60_by_20_and_40_by_10_the_status_and_every_key_stay_visible() {
    for (size, panel_size) in [
        ((60, 20), "128x64"),
        ((40, 10), "128x64"),
        ((40, 10), "128x32"),
    ] {
        let (mut panel, _dir) =
            Panel::start_with(&format!("[display]\nsize = \"{panel_size}\"\n"), size, &[]);
        panel.until("the status line", has("LED ●"));
        panel.until("the whole key line", has("q quit"));
        let screen = panel.vt.screen();
        for item in ["display plugged", "r 9 s: reboot", "c 21 s: cancel"] {
            assert!(
                screen.contains(item),
                "{size:?} {panel_size}: no {item}:\n{screen}"
            );
        }
        panel.assert_fits(panel_size);
        panel.key(b"q");
        assert!(panel.exit().success());
    }
}

#[test]
fn interactive_with_standard_input_not_a_terminal_says_why_instead_of_ending_at_once() {
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = std::fs::File::from(pty.slave);
    let out = Command::new(BIN)
        .args(["simulate", "--fake-stats"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("standard input is not a terminal"),
        "{stderr}"
    );
}

#[test]
fn the_attention_keys_fail_a_unit_send_a_message_and_identify() {
    let (mut panel, dir) = Panel::start_with("", (80, 24), &["--events", "{}/events.jsonl"]);
    panel.until("the key line", has("x unit fail"));
    panel.key(b"x");
    panel.until("the unit's attention", has("attention"));
    // (a second key within 150 ms would be the first one's auto-repeat)
    std::thread::sleep(std::time::Duration::from_millis(300));
    panel.key(b"x");
    panel.until("the unit's recovery", has("attention_cleared"));
    panel.key(b"n");
    panel.until("the message", has("message 1 from the keyboard"));
    panel.key(b"i");
    panel.until("identify", has("s  identify\n"));
    panel.key(b"q");
    assert!(panel.exit().success());
    let events = event_names(&dir.path().join("events.jsonl"));
    assert_eq!(count(&events, "attention"), 2, "{events:?}");
    assert_eq!(count(&events, "attention_cleared"), 1, "{events:?}");
    assert_eq!(count(&events, "identify"), 1, "{events:?}");
}

#[test]
fn the_status_line_says_the_button_is_held_and_the_screen_is_off() {
    let (mut panel, _dir) = Panel::start("[display]\ntimeout_s = 1\n");
    panel.until("the first page", has("page info"));
    panel.until("the screen going off", has("display plugged, screen off"));
    // one SPACE: the button stays down, and the status line says so
    panel.key(b" ");
    panel.until("the held button", has("button held (SPACE releases)"));
    panel.until("the screen woken by the press", |vt| {
        !vt.screen().contains("screen off")
    });
    std::thread::sleep(Duration::from_millis(300));
    panel.key(b" ");
    panel.until("the release", |vt| !vt.screen().contains("button held"));
    panel.assert_fits("128x32");
    panel.key(b"q");
    assert!(panel.exit().success());
}

#[test]
fn a_long_error_line_in_the_event_pane_is_wrapped_to_its_fix() {
    let (mut panel, dir) = Panel::start("");
    panel.until("the first page", has("page info"));
    // a reload of a file the simulator refuses: a long line ending with the fix
    std::fs::write(
        dir.path().join("config.toml"),
        "[display]\ntimeout_s = \"15\"\n",
    )
    .unwrap();
    panel.signal(nix::sys::signal::Signal::SIGHUP);
    let fix = |vt: &Vt| {
        let words: Vec<String> = vt.screen().split_whitespace().map(str::to_owned).collect();
        words.join(" ").contains("write `timeout_s = 15`")
    };
    panel.until("the refused reload with its fix", fix);
    panel.assert_fits("128x32");
    panel.key(b"q");
    assert!(panel.exit().success());
}

#[test]
fn b_puts_the_ups_on_battery_and_back_on_line() {
    let (mut panel, _dir) =
        Panel::start("[display]\npages = [\"ups\", \"info\"]\n\n[ups]\nserver = \"localhost\"\n");
    panel.until("the key line", has("b UPS"));
    panel.until("the ups page", has("page ups"));
    panel.key(b"b");
    panel.until("the attention", has("attention ups warn on battery"));
    // (closer than 150 ms, a second `b` would be the key's auto-repeat)
    std::thread::sleep(Duration::from_millis(300));
    panel.key(b"b");
    panel.until("the attention cleared", has("attention_cleared"));
    panel.key(b"q");
    assert!(panel.exit().success());
}

#[test]
fn the_v_key_puts_the_supply_under_voltage_and_back() {
    let (mut panel, dir) = Panel::start_with("", (80, 24), &["--events", "{}/events.jsonl"]);
    panel.until("the key line", has("v undervolt"));
    panel.key(b"v");
    panel.until("the power condition", has("under-voltage\n"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    panel.key(b"v");
    panel.until("its end", has("attention_cleared"));
    panel.key(b"q");
    assert!(panel.exit().success());
    let events = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(
        events.contains(r#""source":"power","level":"warn","text":"under-voltage""#),
        "{events}"
    );
}

#[test]
fn with_mqtt_the_status_line_says_whether_the_broker_is_there() {
    use crate::common::mosquitto::{Mosquitto, Options};
    let test = "with_mqtt_the_status_line_says_whether_the_broker_is_there";
    let Some(mut broker) = Mosquitto::start(test, Options::default()) else {
        return;
    };
    let port = broker.port;
    let (mut panel, _dir) = Panel::start(&format!(
        "[display]\npages = [\"info\", \"rack\", \"system\"]\n\
         [mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\nnode = \"pi-a\"\n"
    ));
    // on the status line itself (the log pane says `mqtt: connected to`
    // a moment before the loop takes the news)
    panel.until("the broker's connection", status_says("mqtt: connected"));

    broker.kill();
    // killed mid-connection: the reset is said in words (the next tries
    // then find nobody listening)
    panel.until("the broker lost", status_says("mqtt: down (127.0.0.1:"));
    let screen = panel.vt.screen();
    assert!(
        screen.contains(&format!(
            "mqtt: down (127.0.0.1:{port} closed the connection)"
        )) || screen.contains(&format!(
            "mqtt: down (127.0.0.1:{port} refused the connection"
        )),
        "the reason names the broker:\n{screen}"
    );
    panel.assert_fits("80x24, broker down");

    // it comes back: the panel reconnects by itself (1 s, then 2 s, …)
    broker.restart();
    panel.until("the broker back", status_says("mqtt: connected"));
    panel.assert_fits("80x24, broker back");

    panel.key(b"q");
    assert!(panel.exit().success());
}

/// The status line (the one that starts with the LED, or the line after
/// it, where a long broker reason goes) contains `needle`.
fn status_says(needle: &'static str) -> impl Fn(&Vt) -> bool {
    move |vt| {
        let Some(row) = (0..vt.rows).find(|&row| vt.text(row).starts_with("LED ")) else {
            return false;
        };
        let next = if row + 1 < vt.rows {
            vt.text(row + 1)
        } else {
            String::new()
        };
        vt.text(row).contains(needle) || (next.starts_with("mqtt:") && next.contains(needle))
    }
}
