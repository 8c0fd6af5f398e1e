//! Every discovery payload the panel publishes, checked by Home Assistant's
//! own code (tests/ha_discovery_check.py, in the venv tests/setup makes):
//! the schema of each platform, units, templates rendered on real states.

use std::path::PathBuf;
use std::process::Command;

use rackpi_panel::core::LedPattern;
use rackpi_panel::mqtt::discovery::{configs, removals};
use rackpi_panel::mqtt::{node_name, DiscoverySettings, StateReport};
use serde_json::{json, Value};

/// The venv of tests/setup: `RACKPI_HA_VENV`, else `rackpi-ha/venv` in the
/// user's cache directory.
fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("RACKPI_HA_VENV") {
        return dir.into();
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/nonexistent"));
    cache.join("rackpi-ha/venv")
}

/// The venv's python, or `None` (the test is skipped, loudly) when
/// tests/setup has not made it; under CI a missing venv is a failure.
fn home_assistant_python() -> Option<PathBuf> {
    let venv = venv();
    // written by tests/setup once the install is complete
    if venv.join("rackpi-ha-ready").exists() {
        return Some(venv.join("bin/python"));
    }
    let why = format!(
        "no Home Assistant venv at {} (tests/setup makes it; it needs Python 3.13)",
        venv.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}");
    }
    eprintln!("skipped: the Home Assistant discovery check: {why}");
    None
}

fn states() -> Vec<String> {
    let busy = StateReport {
        host: "pi3".into(),
        ip: Some("10.0.0.3".parse().unwrap()),
        cpu_pct: Some(97.5),
        mem_pct: 40.0,
        temp_c: Some(71.2),
        disk_pct: Some(88.0),
        uptime_s: 3_600,
        attention: true,
        attention_text: vec!["nginx.service".into(), "backup failed".into()],
        led: LedPattern::TripleBlink,
        version: "0.1.0".into(),
    };
    let unknown = StateReport {
        ip: None,
        cpu_pct: None,
        temp_c: None,
        disk_pct: None,
        attention: false,
        attention_text: Vec::new(),
        led: LedPattern::On,
        ..busy.clone()
    };
    vec![busy.to_json(), unknown.to_json()]
}

/// Runs the checker on `configs` and `removals`: (passed, its output).
fn check(settings: &DiscoverySettings, configs: Vec<(String, String)>) -> Option<(bool, String)> {
    let python = home_assistant_python()?;
    let mut removed = removals(settings, false);
    removed.extend(removals(settings, true));
    let given = json!({
        "discovery_prefix": settings.discovery_prefix,
        "configs": configs,
        "removals": removed,
        "states": states(),
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("discovery.json");
    std::fs::write(&file, given.to_string()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ha_discovery_check.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.success(), text))
}

fn settings(node: &str, allow_power: bool) -> DiscoverySettings {
    DiscoverySettings {
        prefix: "site/rackpi".into(),
        node: node_name(node, "unused").unwrap(),
        discovery_prefix: "homeassistant".into(),
        allow_power,
        version: "0.1.0".into(),
    }
}

#[test]
fn every_discovery_payload_is_taken_by_home_assistant() {
    for settings in [settings("pi3", true), settings("Top Shelf.3", false)] {
        let Some((passed, output)) = check(&settings, configs(&settings)) else {
            return;
        };
        assert!(passed, "{settings:?}:\n{output}");
        eprintln!("{output}");
    }
}

/// Replaces `key` of the config whose topic ends with `object` by `value`.
fn broken(list: &mut [(String, String)], object: &str, key: &str, value: Value) {
    let (_, payload) = list
        .iter_mut()
        .find(|(topic, _)| topic.ends_with(&format!("/{object}/config")))
        .unwrap();
    let mut config: Value = serde_json::from_str(payload).unwrap();
    config[key] = value;
    *payload = config.to_string();
}

#[test]
fn the_check_refuses_a_payload_home_assistant_would_refuse_or_misread() {
    let settings = settings("pi3", true);
    let mut list = configs(&settings);
    broken(&mut list, "restart", "device_class", json!("reboot"));
    broken(&mut list, "temperature", "unit_of_measurement", json!("%"));
    broken(&mut list, "cpu", "unit_of_measurment", json!("%"));
    broken(
        &mut list,
        "attention",
        "value_template",
        json!("{{ value_json.attention }}"),
    );
    let Some((passed, output)) = check(&settings, list) else {
        return;
    };
    assert!(!passed, "{output}");
    eprintln!("{output}");
    for (object, why) in [
        ("restart", "device_class"),
        ("temperature", "does not fit device class temperature"),
        ("cpu", "has no option ['unit_of_measurment']"),
        ("attention", "neither ON nor OFF"),
    ] {
        let line = output
            .lines()
            .find(|line| line.contains(&format!("/{object}/config")))
            .unwrap_or_else(|| panic!("nothing about {object}:\n{output}"));
        assert!(line.contains(why), "{line}");
    }
}
