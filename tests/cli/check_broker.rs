//! `rackpi-panel check` with `[mqtt] url` set: one line on the broker, ok
//! with the right login, a failure naming the cause and the fix otherwise
//! (against a real Mosquitto, tests/common/mosquitto.rs), the password
//! never shown.

use std::path::Path;
use std::process::Command;

use crate::common::mosquitto::{free_port, Mosquitto, Options};
use crate::common::BIN;

/// The report's MQTT line and the line after it (the fix, when failed).
fn mqtt_lines(config: &Path) -> String {
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    let at = report
        .find(" MQTT ")
        .unwrap_or_else(|| panic!("no MQTT line: {report}"));
    let start = report[..at].rfind('\n').map_or(0, |i| i + 1);
    report[start..]
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn check_tries_the_broker_and_names_what_failed() {
    let user = Some(("panel".to_string(), "s3cret-pw".to_string()));
    let Some(broker) = Mosquitto::start(
        "check: the broker",
        Options {
            user,
            ..Options::default()
        },
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("pw");
    let config = dir.path().join("config.toml");
    let write = |port: u16, pw: &str| {
        std::fs::write(&password, format!("{pw}\n")).unwrap();
        std::fs::write(
            &config,
            format!(
                "[mqtt]\nurl = \"mqtt://127.0.0.1:{port}\"\nusername = \"panel\"\npassword_file = \"{}\"\n",
                password.display()
            ),
        )
        .unwrap();
    };
    write(broker.port, "s3cret-pw");
    let ok = mqtt_lines(&config);
    assert!(
        ok.starts_with("ok   MQTT") && ok.contains("logged in as panel"),
        "{ok}"
    );
    write(broker.port, "wrong-pw");
    let refused = mqtt_lines(&config);
    assert!(refused.starts_with("FAIL MQTT"), "{refused}");
    assert!(
        refused.contains("bad username or password") && refused.contains("fix:"),
        "{refused}"
    );
    assert!(
        !refused.contains("wrong-pw"),
        "the password shows: {refused}"
    );
    write(free_port(), "s3cret-pw");
    let nobody = mqtt_lines(&config);
    assert!(nobody.contains("no broker listens"), "{nobody}");
}
