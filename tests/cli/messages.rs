//! The messages an owner reads: each names the problem once, where it is
//! (the config line), in words rather than internal names, and what to do.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `simulate` with a config file holding `config`, a one-second scenario.
fn simulate_with_config(config: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "wait 1\n").unwrap();
    Command::new(BIN)
        .args(["simulate", "--virtual-time", "--script"])
        .arg(&script)
        .arg("--config")
        .arg(&path)
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn range_and_order_errors_name_the_line_and_show_numbers_short() {
    let out = simulate_with_config(
        "# thresholds\n[button]\nreboot_after_s = 1e298\n",
        &["--fake-stats"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("line 3"), "{err}");
    assert!(err.contains("`button.reboot_after_s` is 1e298"), "{err}");
    assert!(err.len() < 300, "the number is not spelt out: {err}");

    let out = simulate_with_config("[button]\n\nshutdown_after_s = 4\n", &["--fake-stats"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains("line 3: `button.shutdown_after_s` is 4 s: it must be longer than button.reboot_after_s (8 s)"),
        "{err}"
    );
}

#[test]
fn a_line_given_with_chip_and_offset_is_refused() {
    let out = simulate_with_config(
        "[led]\nline = \"GPIO23\"\nchip = \"/dev/gpiochip0\"\noffset = 23\n",
        &["--fake-stats"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("line 2: `led.line`"), "{err}");
    assert!(err.contains("not both"), "{err}");
}

#[test]
fn a_missing_chip_is_called_a_missing_chip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[button]\nchip = \"/nonexistent/gpiochip9\"\noffset = 20\n[display]\nbus = \"/nonexistent/i2c-9\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("GPIO chip /nonexistent/gpiochip9 does not exist"),
        "{text}"
    );
    assert!(!text.contains("no GPIO line named /nonexistent"), "{text}");
}

#[test]
fn a_mistyped_interface_is_warned_about() {
    let out = simulate_with_config("[network]\ninterface = \"wlan9\"\n", &[]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("network.interface = \"wlan9\" is not an interface of this machine"),
        "{err}"
    );
    assert!(
        err.contains("lo"),
        "the interfaces there are are listed: {err}"
    );
}

#[test]
fn a_lost_display_is_logged_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.txt");
    std::fs::write(&script, "wait 1\ndisplay unplug\npress 0.2\nwait 1\n").unwrap();
    let out = Command::new(BIN)
        .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
        .arg(&script)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("display lost"), "{err}");
    assert!(!err.contains("BusWriteError"), "{err}");
    assert!(err.contains("no acknowledgement"), "{err}");
}

#[test]
fn without_gpio_chips_the_daemon_points_to_the_simulator() {
    let has_chips = std::fs::read_dir("/dev")
        .unwrap()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with("gpiochip"));
    if has_chips {
        eprintln!("this machine has GPIO chips: nothing to check here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "").unwrap();
    let out = Command::new(BIN)
        .args(["run", "--dry-run", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("rackpi-panel simulate"), "{err}");
}
