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
fn render_says_what_is_missing_or_wrong_on_its_command_line() {
    // neither --page nor --screen: both are named, as a bad command line
    let out = run(&["render", "--out", "/tmp/x.png"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--page") && err.contains("--screen"), "{err}");
    // a screen that does not exist is a bad command line too (2, not 1)
    fails_with(
        &["render", "--screen", "foo", "--out", "-"],
        2,
        "no screen named `foo` for --screen: the screens are info,",
    );
    fails_with(
        &["render", "--page", "info", "--screen", "info", "--out", "-"],
        2,
        "cannot be used with",
    );
}

#[test]
fn an_output_that_is_no_file_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let out = run(&["render", "--page", "info", "--out", dir_arg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "{dir_arg} is a directory, not a regular file: give a file name"
        )),
        "{err}"
    );
    let socket = dir.path().join("panel.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let socket_arg = socket.to_str().unwrap();
    let out = run(&["render", "--page", "info", "--out", socket_arg]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{socket_arg} is a socket, not a regular file")),
        "{err}"
    );
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "wait 1\n").unwrap();
    fails_with(
        &[
            "simulate",
            "--virtual-time",
            "--script",
            script.to_str().unwrap(),
            "--events",
            socket_arg,
        ],
        1,
        &format!("the events file {socket_arg} is a socket: give a regular file"),
    );
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
        "9 / 13 / 21 s",
        // the script language, every command
        "press SECONDS",
        "down | up",
        "wait SECONDS",
        "display unplug | display plug",
        "power fail | power ok",
        "quit",
        "SIGTERM",
        "SIGHUP reloads --config",
        "--replace-frames",
        "--cells",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let out = run(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for command in ["run", "check", "off", "simulate", "render"] {
        assert!(text.contains(command));
    }
}

#[test]
fn help_for_off_says_how_the_unit_runs_it_and_what_the_exit_status_means() {
    let out = run(&["off", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for needle in [
        "ExecStopPost=-/usr/bin/rackpi-panel off",
        "never touches the button",
        "nothing is drawn",
        "EXIT_STATUS=0",
        "Exit status: 0",
        "does not stop it",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

/// `rackpi-panel off` with a config file holding `config`, and the systemd
/// variables `EXIT_CODE` / `EXIT_STATUS` set as given (unset otherwise).
fn off(config: &str, service_exit: Option<(&str, &str)>) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(BIN);
    command
        .args(["off", "--config", path.to_str().unwrap()])
        .env_remove("EXIT_CODE")
        .env_remove("EXIT_STATUS");
    if let Some((code, status)) = service_exit {
        command.env("EXIT_CODE", code).env("EXIT_STATUS", status);
    }
    let out = command.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

const ABSENT: &str = "[led]\nchip = \"/nonexistent/gpiochip9\"\noffset = 23\n\
                      [display]\nbus = \"/nonexistent/i2c-9\"\n";
// there, but unusable: a device that is not a GPIO chip, a bus that cannot be opened
const BROKEN: &str = "[led]\nchip = \"/dev/null\"\noffset = 23\n[display]\nbus = \"/\"\n";

#[test]
fn off_reports_parts_that_are_not_there_and_exits_0() {
    let (code, err) = off(ABSENT, None);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("LED not there, nothing to switch off")
            && err.contains("/nonexistent/gpiochip9"),
        "{err}"
    );
    assert!(
        err.contains("display not there, nothing to switch off: no I2C bus /nonexistent/i2c-9"),
        "{err}"
    );
}

#[test]
fn off_on_a_machine_without_gpio_chips_says_so_and_exits_0() {
    let has_chips = std::fs::read_dir("/dev")
        .unwrap()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with("gpiochip"));
    if has_chips {
        eprintln!("this machine has GPIO chips: the no-chip case is tested elsewhere");
        return;
    }
    // the default LED line, looked for by name
    let (code, err) = off("[display]\nbus = \"/nonexistent/i2c-1\"\n", None);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("LED not there, nothing to switch off: no GPIO chip found"),
        "{err}"
    );
    assert!(err.contains("no I2C bus /nonexistent/i2c-1"), "{err}");
}

#[test]
fn off_fails_when_a_part_that_is_there_cannot_be_switched_off() {
    let (code, err) = off(BROKEN, None);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("LED could NOT be switched off") && err.contains("/dev/null"),
        "{err}"
    );
    assert!(
        err.contains("display could NOT be switched off: cannot open I2C bus /"),
        "{err}"
    );
}

#[test]
fn off_after_a_clean_exit_of_the_daemon_leaves_the_panel_alone() {
    // the daemon left the Rebooting screen up on purpose: nothing is touched
    // (the broken config would fail if anything were)
    let (code, err) = off(BROKEN, Some(("exited", "0")));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("nothing to do"), "{err}");
    assert!(!err.contains("could NOT"), "{err}");
    // killed, crashed or failed: it switches off
    for (exit_code, status) in [("killed", "KILL"), ("dumped", "ABRT"), ("exited", "1")] {
        let (code, err) = off(BROKEN, Some((exit_code, status)));
        assert_eq!(code, Some(1), "{exit_code} {status}: {err}");
        assert!(err.contains("LED could NOT be switched off"), "{err}");
    }
}

#[test]
fn off_with_a_broken_config_still_uses_its_led_and_display() {
    // an unknown key, a power program that no longer exists: `run` refuses
    // this file, but after a crash `off` must still darken the panel it names
    let config = format!(
        "{ABSENT}[power]\nreboot = [\"/nonexistent/reboot-script\"]\n[button]\nno_such_key = 1\n"
    );
    let (code, err) = off(&config, Some(("killed", "KILL")));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("no_such_key"), "the problem is named: {err}");
    assert!(
        err.contains("/nonexistent/gpiochip9") && err.contains("/nonexistent/i2c-9"),
        "the file's own LED and display are used: {err}"
    );
    // not even TOML: the RackPi's default LED and display
    let (code, err) = off("[[[ not toml", Some(("killed", "KILL")));
    assert_ne!(code, Some(78), "{err}");
    assert!(err.contains("using the default LED and display"), "{err}");
}

#[test]
fn under_systemd_log_lines_carry_the_journal_priority_and_no_level_text() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.txt");
    // a button held at start is a warning; the summary at the end is info
    std::fs::write(&script, "down\nwait 1\nup\nwait 1\n").unwrap();
    let stderr_path = dir.path().join("stderr");
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let out = Command::new(BIN)
        .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
        .arg(&script)
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .env_remove("RUST_LOG")
        .stderr(stderr)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        text.lines()
            .any(|l| l.starts_with("<4>the button is held at start")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("<6>simulation ended")),
        "{text}"
    );
    assert!(!text.contains("[INFO") && !text.contains("[WARN"), "{text}");

    // a JOURNAL_STREAM that is not this stderr (inherited by a child that
    // writes elsewhere) leaves the lines as they are
    let out = Command::new(BIN)
        .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
        .arg(&script)
        .env("JOURNAL_STREAM", "1:1")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("<6>"), "{text}");
    assert!(text.contains("simulation ended"), "{text}");
}

/// Width and height of a PNG, from its header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (word(16), word(20))
}

#[test]
fn render_screen_honours_the_config_and_draws_every_screen_named_in_help() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[display]\nsize = \"128x64\"\n[button]\nreboot_after_s = 3.0\nshutdown_after_s = 5.0\ncancel_after_s = 30.0\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let render = |args: &[&str]| {
        let out = run(&[&["render", "--out", "-"], args].concat());
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    for name in rackpi_panel::layout::SCREENS {
        assert_eq!(png_size(&render(&["--screen", name])), (512, 128), "{name}");
        assert_eq!(
            png_size(&render(&["--screen", name, "--config", config])),
            (512, 256),
            "{name}"
        );
        assert_eq!(
            png_size(&render(&[
                "--screen", name, "--config", config, "--size", "128x32"
            ])),
            (512, 128),
            "{name}: --size beats the config"
        );
    }
    // the countdowns follow the thresholds: 2 s to the shutdown stage, 25 s to cancel
    for name in ["stage-reboot", "stage-shutdown"] {
        let with = render(&["--screen", name, "--config", config, "--size", "128x32"]);
        assert_ne!(with, render(&["--screen", name]), "{name}");
    }
    fails_with(
        &["render", "--screen", "bogus", "--out", "-"],
        2,
        "the screens are info, system, network",
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[button]\nreboot_after_s = 30.0\n").unwrap();
    fails_with(
        &[
            "render",
            "--screen",
            "info",
            "--config",
            bad.to_str().unwrap(),
            "--out",
            "-",
        ],
        78,
        "button.shutdown_after_s",
    );
}

#[test]
fn check_on_a_machine_without_gpio_chips_says_so_once() {
    let has_chips = std::fs::read_dir("/dev").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().starts_with("gpiochip"))
    });
    if has_chips {
        eprintln!("skipped: this machine has GPIO chips");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[display]\nbus = \"/nonexistent/i2c-1\"\n").unwrap();
    let out = run(&["check", "--config", config.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert_eq!(report.matches("not a Raspberry Pi").count(), 1, "{report}");
    assert_eq!(report.matches("no GPIO chip").count(), 2, "{report}");
    assert!(report.contains("rackpi-panel simulate"), "{report}");
}
