//! `rackpi-panel notify` and `identify` as a person runs them: the real
//! binary against the daemon's end of the socket — taken, refused for a
//! user outside the group, a clear error when no daemon runs — and as an
//! attacker tries it: datagrams from a socket whose path was swapped for a
//! symlink (to systemd's notify socket, or to the daemon's own), a flood.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rackpi_panel::core::{Input, Level};
use rackpi_panel::linux::notify::{NotifyServer, BURST, SOCKET_ENV};

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

fn spawn(socket: &Path, args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .env(SOCKET_ENV, socket)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Serves the socket until the command ends; returns what it sent and its output.
fn serve(server: &mut NotifyServer, mut child: std::process::Child) -> (Vec<Input>, Output) {
    let started = Instant::now();
    let mut inputs = Vec::new();
    loop {
        inputs.extend(server.receive(Duration::ZERO));
        if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (inputs, child.wait_with_output().unwrap())
}

#[test]
fn notify_and_identify_reach_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify.sock");
    let mut server = NotifyServer::bind(&socket).unwrap();
    let child = spawn(
        &socket,
        &[
            "notify", "--level", "error", "--for", "2h", "restic:", "backup", "failed",
        ],
    );
    let (inputs, out) = serve(&mut server, child);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        inputs,
        vec![Input::Notify {
            level: Level::Error,
            text: "restic: backup failed".into(),
            lasts: Some(Duration::from_secs(7200)),
        }]
    );
    let (inputs, out) = serve(&mut server, spawn(&socket, &["identify"]));
    assert!(out.status.success());
    assert_eq!(
        inputs,
        vec![Input::Identify {
            lasts: Duration::from_secs(60)
        }]
    );
}

#[test]
fn without_a_daemon_the_error_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = spawn(&dir.path().join("notify.sock"), &["notify", "hello"])
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("daemon is not running"), "{err}");
    assert!(err.contains("systemctl start rackpi-panel"), "{err}");
    // where there is no daemon to start, the simulator takes the same requests
    for needle in [
        "`n`",
        "`i`",
        "rackpi-panel simulate",
        "`notify LEVEL TEXT`",
        "`identify SECONDS`",
    ] {
        assert!(err.contains(needle), "`{needle}` not in: {err}");
    }
    let out = spawn(&dir.path().join("notify.sock"), &["identify"])
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("`i` (identify)"), "{err}");
}

#[test]
fn a_text_too_long_or_empty_is_refused_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let long = "x".repeat(201);
    let out = spawn(&dir.path().join("notify.sock"), &["notify", &long])
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.contains("at most 200"), "{err}");
    let out = spawn(
        &dir.path().join("notify.sock"),
        &["notify", "--for", "soon", "x"],
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("e.g. 90s"));
}

#[test]
fn a_user_outside_the_group_is_refused_with_what_to_do() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: needs root to run the command as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let socket = dir.path().join("notify.sock");
    let mut server = NotifyServer::bind(&socket).unwrap();
    let child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN])
        .args(["notify", "--level", "error", "not from nobody"])
        .env(SOCKET_ENV, &socket)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (inputs, out) = serve(&mut server, child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(inputs, vec![], "nothing reached the panel");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("not allowed"), "{err}");
    assert!(err.contains("rackpi-notify"), "{err}");
}

/// A sender's datagram socket bound at `dir/reply.sock`, whose path is then
/// swapped for a symlink to `target`: an answer sent to the sender's path
/// would land at `target`.
fn sender_redirected_to(dir: &Path, target: &Path) -> UnixDatagram {
    let sender = UnixDatagram::bind(dir.join("reply.sock")).unwrap();
    sender.set_nonblocking(true).unwrap();
    std::os::unix::fs::symlink(target, dir.join("swap")).unwrap();
    std::fs::rename(dir.join("swap"), dir.join("reply.sock")).unwrap();
    sender
}

const INJECTION: &[u8] = b"notify x\nSTATUS=owned\nWATCHDOG=trigger\n - x";

#[test]
fn an_answer_cannot_be_steered_into_another_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify.sock");
    let mut server = NotifyServer::bind(&socket).unwrap();
    // stands for systemd's notify socket
    let systemd = UnixDatagram::bind(dir.path().join("systemd.sock")).unwrap();
    systemd.set_nonblocking(true).unwrap();
    let attacker = sender_redirected_to(dir.path(), &dir.path().join("systemd.sock"));
    let sent = attacker.send_to(INJECTION, &socket);
    for _ in 0..10 {
        assert_eq!(server.receive(Duration::ZERO), vec![]);
    }
    let mut buf = [0u8; 512];
    let landed = systemd
        .recv(&mut buf)
        .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned());
    assert!(
        landed.is_err(),
        "the daemon's answer reached the other socket: {landed:?}"
    );
    assert!(
        sent.is_err(),
        "a datagram is refused by the kernel: {sent:?}"
    );
}

#[test]
fn an_answer_cannot_be_steered_back_into_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("notify.sock");
    let mut server = NotifyServer::bind(&socket).unwrap();
    let attacker = sender_redirected_to(dir.path(), &socket);
    let _ = attacker.send_to(b"identify x", &socket);
    // each answer would be a new request: the daemon would never rest
    let mut wakes = 0;
    for _ in 0..100 {
        let mut fds = [nix::poll::PollFd::new(
            server.fd(),
            nix::poll::PollFlags::POLLIN,
        )];
        if nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).unwrap() == 0 {
            break;
        }
        wakes += 1;
        server.receive(Duration::ZERO);
    }
    assert!(wakes <= 1, "the daemon kept waking: {wakes} times");
}

#[test]
fn a_members_flood_does_not_refuse_root() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("skipped: needs root to run the command as another user");
        return;
    }
    const MEMBER: u32 = 65534;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let socket = dir.path().join("notify.sock");
    // the member's group is the group that may send
    let mut server = NotifyServer::bind_for(&socket, Some(MEMBER)).unwrap();
    let flood = format!(
        "for i in $(seq {}); do {BIN} notify \"flood $i\" || echo refused; done",
        BURST + 10
    );
    let child = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(&flood)
        .env(SOCKET_ENV, &socket)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (inputs, out) = serve(&mut server, child);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(inputs.len(), BURST as usize, "{err}");
    assert_eq!(err.matches("too many messages").count(), 10, "{err}");
    let (inputs, out) = serve(
        &mut server,
        spawn(&socket, &["notify", "root still gets through"]),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(inputs.len(), 1);
}
