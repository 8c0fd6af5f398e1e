//! The payloads with the real core: messages as the broker delivers them
//! become the core's inputs, and its events go out as `P/N/event` would
//! carry them; a node's state is what its peers read.

use std::time::Duration;

use rackpi_panel::core::{LedPattern, MqttRules, PeerState, PeerUpdate, Rules};
use rackpi_panel::mqtt::{
    arrival, peer_state, Arrival, CommandPolicy, EventFeed, StateReport, Topics,
};
use serde_json::{json, Value};

use crate::common::{ms, Harness};

fn topics(node: &str) -> Topics {
    Topics {
        prefix: "rackpi".into(),
        node: node.into(),
        discovery_prefix: "homeassistant".into(),
    }
}

fn rules(allow_power: bool) -> Rules {
    Rules {
        mqtt: Some(MqttRules {
            node: "pi3".into(),
            publish_every: Duration::from_secs(60),
            rack_attention: false,
            power_countdown: allow_power.then_some(Duration::from_secs(10)),
        }),
        ..Rules::default()
    }
}

/// Delivers `payload` on `topic` (not retained) to the panel at `t`.
fn deliver(panel: &mut Harness, t: u64, topic: &str, payload: &str, allow_power: bool) {
    let policy = CommandPolicy { allow_power };
    match arrival(&topics("pi3"), policy, topic, payload.as_bytes(), false) {
        Ok(Some(Arrival::Input(input))) => panel.input(t, input),
        other => panic!("{topic} {payload}: {other:?}"),
    }
}

/// What the panel's events publish on `P/N/event`, as JSON.
fn published(harness: &Harness) -> Vec<Value> {
    let mut feed = EventFeed::new();
    harness
        .events()
        .iter()
        .filter_map(|(t, event)| feed.payload(event, ms(*t)))
        .map(|payload| serde_json::from_str(&payload).unwrap())
        .collect()
}

#[test]
fn a_hold_to_reboot_goes_out_as_a_press_with_its_length_then_the_reboot() {
    let mut panel = Harness::default();
    panel.press(1_000, 9_000);
    panel.run_until(12_000);
    let sent = published(&panel);
    let names: Vec<&str> = sent.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["press", "reboot"], "{sent:?}");
    assert_eq!(sent[0]["held_s"], 9.0);
}

#[test]
fn a_notify_from_mqtt_calls_for_attention_until_it_expires() {
    let mut panel = Harness::new(rules(false), false);
    let payload = r#"{"level": "warn", "text": "restic: backup failed", "for_s": 60}"#;
    deliver(&mut panel, 500, "rackpi/pi3/cmd/notify", payload, false);
    panel.run_until(61_000);
    assert_eq!(
        published(&panel),
        [
            json!({"event": "attention", "source": "notify", "level": "warn",
                   "text": "restic: backup failed"}),
            json!({"event": "attention_cleared"}),
        ]
    );
}

#[test]
fn a_reboot_from_mqtt_counts_down_then_runs_and_a_press_would_have_stopped_it() {
    let mut panel = Harness::new(rules(true), false);
    deliver(&mut panel, 1_000, "rackpi/pi3/cmd/power", "reboot", true);
    panel.run_until(12_000);
    assert_eq!(
        published(&panel),
        [
            json!({"event": "reboot_armed", "source": "mqtt"}),
            json!({"event": "reboot"}),
        ]
    );
    let mut panel = Harness::new(rules(true), false);
    deliver(&mut panel, 1_000, "rackpi/pi3/cmd/power", "poweroff", true);
    panel.press(3_000, 200);
    panel.run_until(15_000);
    let sent = published(&panel);
    let names: Vec<&str> = sent.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["shutdown_armed", "cancelled", "press"], "{sent:?}");
    assert!(panel.actions().is_empty());
}

#[test]
fn a_nodes_state_is_what_its_peers_read() {
    let report = StateReport {
        host: "pi7".into(),
        ip: Some("10.0.0.7".parse().unwrap()),
        cpu_pct: Some(12.0),
        mem_pct: 40.0,
        temp_c: Some(61.25),
        disk_pct: None,
        uptime_s: 100,
        attention: true,
        attention_text: vec!["nginx.service".into()],
        led: LedPattern::TripleBlink,
        version: "0.1.0".into(),
    };
    let policy = CommandPolicy { allow_power: false };
    let payload = report.to_json();
    let arrived = arrival(
        &topics("pi3"),
        policy,
        &topics("pi7").state(),
        payload.as_bytes(),
        true,
    );
    let expected = PeerState {
        attention: true,
        attention_text: vec!["nginx.service".into()],
        temp_c: Some(61.3),
    };
    assert_eq!(peer_state(payload.as_bytes()), Ok(expected.clone()));
    let Ok(Some(Arrival::Input(rackpi_panel::core::Input::Peer { node, update }))) = arrived else {
        panic!("{arrived:?}");
    };
    assert_eq!(
        (node.as_str(), update),
        ("pi7", PeerUpdate::State(expected))
    );
}
