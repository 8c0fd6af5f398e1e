//! Bad command lines, one flag at a time: a clear message naming the
//! problem, a non-zero exit, and nothing left half-written.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn fails_with(args: &[&str], code: i32, needle: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: `{needle}` not in: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn wrong_values_for_each_flag() {
    fails_with(
        &["render", "--page", "weather", "--out", "/tmp/x.png"],
        2,
        "weather",
    );
    fails_with(
        &[
            "render",
            "--page",
            "info",
            "--size",
            "96x16",
            "--out",
            "/tmp/x.png",
        ],
        2,
        "96x16",
    );
    fails_with(&["render", "--page", "info"], 2, "--out");
    fails_with(
        &[
            "render",
            "--page",
            "info",
            "--out",
            "/nonexistent/dir/x.png",
        ],
        1,
        "/nonexistent/dir/x.png",
    );
    fails_with(&["run", "--gpio", "sysfs"], 2, "sysfs");
    fails_with(
        &["run", "--config", "/nonexistent/c.toml"],
        78,
        "/nonexistent/c.toml",
    );
    fails_with(&["check", "--config", "/"], 78, "cannot read config file /");
    fails_with(
        &["simulate", "--script", "/nonexistent/s.txt"],
        1,
        "/nonexistent/s.txt",
    );
    fails_with(
        &["simulate", "--script", "/"],
        1,
        "cannot read the script /",
    );
    fails_with(
        &["simulate", "--virtual-time"],
        1,
        "--virtual-time needs --script",
    );
    fails_with(&["simulate"], 1, "not a terminal");
    fails_with(&["simulate", "--fake-stats", "--bogus"], 2, "--bogus");
    fails_with(&["frobnicate"], 2, "frobnicate");
}

#[test]
fn outputs_that_cannot_be_written_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "wait 1\npress 9\n").unwrap();
    let events = dir.path().join("events.jsonl");
    let script_arg = script.to_str().unwrap();
    let events_arg = events.to_str().unwrap();
    // Each time one output cannot be created: the events file, which could
    // be, must not be left behind by the failed start.
    for (flag, path, message) in [
        (
            "--i2c-log",
            "/nonexistent/dir/i2c.log",
            "/nonexistent/dir/i2c.log",
        ),
        // a frames directory that cannot be created, not even by root
        (
            "--frames",
            "/proc/rackpi-frames",
            "frames directory /proc/rackpi-frames",
        ),
    ] {
        let args = [
            "simulate",
            "--virtual-time",
            "--script",
            script_arg,
            "--events",
            events_arg,
            flag,
            path,
        ];
        fails_with(&args, 1, message);
        assert!(!events.exists(), "{flag}: a half-done run left {events:?}");
    }
}

#[test]
fn help_lists_the_simulator_keys_and_commands() {
    let out = run(&["simulate", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "--virtual-time",
        "--fake-stats",
        "--events",
        "--frames",
        "--i2c-log",
        "SPACE",
        "hold 9 s",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let out = run(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["run", "check", "simulate", "render"] {
        assert!(text.contains(command));
    }
}
