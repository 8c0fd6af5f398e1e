//! The broker as a hostile or careless world uses it, against the real
//! binary's `simulate` and a real Mosquitto: floods of commands.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::mosquitto::{Mosquitto, Options};
use crate::common::{named, BIN};

/// Waits until `node` says `online` on the broker (within 10 s), and a
/// second more for its subscriptions (sent right after).
fn until_subscribed(broker: &Mosquitto, node: &str) {
    let topic = format!("rackpi/{node}/availability");
    let until = Instant::now() + Duration::from_secs(10);
    while broker.retained(&topic).as_deref() != Some("online") {
        assert!(Instant::now() < until, "{node} not online within 10 s");
    }
    std::thread::sleep(Duration::from_secs(1));
}

#[test]
fn a_cancel_after_a_flood_of_commands_still_stops_the_countdown() {
    let test = "a_cancel_after_a_flood_of_commands_still_stops_the_countdown";
    let Some(broker) = Mosquitto::start(test, Options::default()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("panel.toml");
    std::fs::write(
        &config,
        format!(
            "[mqtt]\nurl = \"mqtt://127.0.0.1:{}\"\nnode = \"pi-a\"\n\
             allow_power = true\npower_countdown_s = 4\n",
            broker.port
        ),
    )
    .unwrap();
    let script = dir.path().join("script");
    std::fs::write(&script, "wait 9\n").unwrap();
    let events = dir.path().join("events.jsonl");
    let simulator = Command::new(BIN)
        .arg("simulate")
        .arg("--config")
        .arg(&config)
        .arg("--script")
        .arg(&script)
        .arg("--events")
        .arg(&events)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until_subscribed(&broker, "pi-a");
    // someone on the broker arms a reboot and floods the panel with
    // messages past the rate limit; the owner then sends `cancel`
    broker.publish("rackpi/pi-a/cmd/power", b"reboot", false);
    let flood: String = (0..40).map(|i| format!("flood {i}\n")).collect();
    std::thread::scope(|scope| {
        // the flood goes on for two seconds, far past the rate (10/s)
        scope.spawn(|| {
            let until = Instant::now() + Duration::from_secs(2);
            while Instant::now() < until {
                broker.publish_lines("rackpi/pi-a/cmd/notify", &flood);
            }
        });
        std::thread::sleep(Duration::from_secs(1));
        broker.publish("rackpi/pi-a/cmd/power", b"cancel", false);
    });
    let out = simulator.wait_with_output().unwrap();
    let ev: Vec<serde_json::Value> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(named(&ev, "reboot_armed").len(), 1, "{log}");
    assert!(
        named(&ev, "reboot").is_empty(),
        "the flood used up the rate, and the owner's `cancel` was refused: the Pi rebooted\n{log}"
    );
    assert_eq!(named(&ev, "cancelled").len(), 1, "{log}");
}
