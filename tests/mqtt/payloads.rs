//! The payloads with the real core: a press and a command as they would go
//! out and come in, a node's state as its peers read it.

use rackpi_panel::core::{Input, LedPattern, Level};
use rackpi_panel::mqtt::{
    Command, CommandPolicy, EventFeed, Incoming, PeerState, StateReport, Topics,
};
use serde_json::Value;

use crate::common::{ms, Harness};

fn topics(node: &str) -> Topics {
    Topics {
        prefix: "rackpi".into(),
        node: node.into(),
        discovery_prefix: "homeassistant".into(),
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
fn a_notify_from_mqtt_calls_for_attention_and_says_so_on_the_event_topic() {
    let me = topics("pi3");
    let Some(Incoming::Command { name }) = me.classify("rackpi/pi3/cmd/notify") else {
        panic!("a command to this node");
    };
    let payload = br#"{"level": "warn", "text": "restic: backup failed", "for_s": 60}"#;
    let command = CommandPolicy { allow_power: false }
        .accept(&name, payload, false)
        .unwrap();
    let Command::Notify { level, text, lasts } = command else {
        panic!("a notify: {command:?}");
    };
    assert_eq!(level, Level::Warn);
    let mut panel = Harness::default();
    panel.input(500, Input::Notify { level, text, lasts });
    panel.run_until(61_000);
    let sent = published(&panel);
    assert_eq!(
        sent,
        [
            serde_json::json!({"event": "attention", "source": "notify", "level": "warn",
                               "text": "restic: backup failed"}),
            serde_json::json!({"event": "attention_cleared"}),
        ]
    );
}

#[test]
fn a_nodes_state_is_what_its_peers_read() {
    let pi3 = topics("pi3");
    let report = StateReport {
        host: "pi3".into(),
        ip: Some("10.0.0.3".parse().unwrap()),
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
    let pi7 = topics("pi7");
    assert_eq!(
        pi7.classify(&pi3.state()),
        Some(Incoming::PeerState { node: "pi3".into() })
    );
    let peer = PeerState::parse(report.to_json().as_bytes()).unwrap();
    assert!(peer.attention);
    assert_eq!(peer.attention_text, ["nginx.service"]);
    assert_eq!(peer.temp_c, Some(61.3));
    assert_eq!(pi3.classify(&pi3.state()), None);
}
