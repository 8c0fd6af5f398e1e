//! Load from the broker: a burst of commands and a huge payload while the
//! button is pressed, and a rack of a hundred nodes. Presses stay on time,
//! memory stays bounded, refusals are logged a bounded number of times.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use rackpi_panel::core::View;
use rackpi_panel::frame::Frame;
use rackpi_panel::stats::Stats;

use super::{assert_on_time, config, lines_with, rack, url, Sim};
use crate::common::mosquitto::{Mosquitto, Options};

/// The simulator's resident memory now, in KiB.
fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_burst_of_commands_and_a_huge_payload_leave_the_button_alone() {
    let Some(broker) = Mosquitto::start("flood", Options::default()) else {
        return;
    };
    let script = "wait 3\npress 0.1\nwait 2\npress 0.1\nwait 2\n";
    let sim = Sim::start(&config(&url(&broker), "pi-a", "", ""), script);
    sim.wait_connected();
    std::thread::sleep(Duration::from_millis(500));
    let before = resident_kb(sim.pid());
    let burst: String = (0..1000).map(|i| format!("message {i}\n")).collect();
    broker.publish_lines("rackpi/pi-a/cmd/notify", &burst);
    broker.publish("rackpi/pi-a/cmd/notify", &vec![b'x'; 1 << 20], false);
    broker.publish("rackpi/pi-a/cmd/identify", &vec![b'9'; 1 << 20], false);
    std::thread::sleep(Duration::from_millis(1500));
    let after = resident_kb(sim.pid());
    let (events, log) = sim.finish(Duration::from_secs(20));

    // presses at 3 s and 5.1 s: on at once, the messages the burst left
    // acknowledged at the release
    assert_on_time(&events, "press", 3000);
    assert_on_time(&events, "acknowledged", 3100);
    assert_on_time(&events, "press", 5100);
    assert_on_time(&events, "acknowledged", 5200);
    assert!(
        after <= before + 16 * 1024,
        "VmRSS grew from {before} KiB to {after} KiB"
    );
    let refusals = lines_with(&log, "mqtt: refused:") + lines_with(&log, "mqtt: dropped");
    assert!(
        (1..=6).contains(&refusals),
        "{refusals} lines about refusals:\n{log}"
    );
    let commands = super::named(&events, "command").len();
    assert!(
        (1..1000).contains(&commands),
        "{commands} of the 1000 commands taken: the burst was not limited"
    );
    println!(
        "VmRSS {before} KiB before the flood, {after} KiB after; {commands} commands taken; {refusals} log lines about refusals"
    );
}

/// One MQTT 3.1.1 connection that publishes retained QoS 0 messages and
/// disconnects: a hundred nodes' worth at once, without a process each.
fn publish_retained(port: u16, messages: &[(String, String)]) {
    fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n % 128) as u8;
            n /= 128;
            out.push(if n > 0 { byte | 0x80 } else { byte });
            if n == 0 {
                return;
            }
        }
    }
    fn string(s: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
        out.extend_from_slice(s);
    }
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut body = Vec::new();
    string(b"MQTT", &mut body);
    body.extend_from_slice(&[4, 0x02, 0, 60]);
    string(b"rack-of-100", &mut body);
    let mut packet = vec![0x10];
    remaining_length(body.len(), &mut packet);
    packet.extend_from_slice(&body);
    stream.write_all(&packet).unwrap();
    let mut connack = [0; 4];
    stream.read_exact(&mut connack).unwrap();
    assert_eq!(connack, [0x20, 2, 0, 0], "the broker took the connection");
    let mut all = Vec::new();
    for (topic, payload) in messages {
        let mut body = Vec::new();
        string(topic.as_bytes(), &mut body);
        body.extend_from_slice(payload.as_bytes());
        all.push(0x31); // PUBLISH, QoS 0, retained
        remaining_length(body.len(), &mut all);
        all.extend_from_slice(&body);
    }
    all.extend_from_slice(&[0xe0, 0]); // DISCONNECT
    stream.write_all(&all).unwrap();
    let _ = stream.read(&mut [0; 1]); // the broker closes after DISCONNECT
}

fn state(temp_c: f32, attention: Option<&str>) -> String {
    let text: Vec<&str> = attention.into_iter().collect();
    serde_json::json!({
        "host": "n", "ip": "10.0.0.1", "cpu_pct": 1.0, "mem_pct": 2.0,
        "temp_c": temp_c, "disk_pct": 3.0, "uptime_s": 60,
        "attention": attention.is_some(), "attention_text": text,
        "led": "on", "version": "0.1.0",
    })
    .to_string()
}

#[test]
fn a_rack_of_a_hundred_nodes() {
    let Some(broker) = Mosquitto::start("rack_of_100", Options::default()) else {
        return;
    };
    let offline = ["node-013", "node-077"];
    let calling = [("node-042", "disk full"), ("node-090", "hot")];
    let mut messages = Vec::new();
    for i in 0..100 {
        let name = format!("node-{i:03}");
        let up = if offline.contains(&name.as_str()) {
            "offline"
        } else {
            "online"
        };
        let attention = calling.iter().find(|(n, _)| *n == name).map(|(_, t)| *t);
        messages.push((format!("rackpi/{name}/availability"), up.to_string()));
        messages.push((format!("rackpi/{name}/state"), state(40.0, attention)));
    }
    publish_retained(broker.port, &messages);

    // the rack page is the second: one press after the nodes are in
    let sim = Sim::start(
        &config(&url(&broker), "pi-a", "", ""),
        "wait 3\npress 0.1\nwait 1\n",
    );
    let full = |e: &serde_json::Value| rack(e) == Some((99, 101));
    sim.wait_for(0, Duration::from_secs(3), "rack 99/101", full);
    let rss = resident_kb(sim.pid());
    let (events, frames) = sim.finish_with_frames(Duration::from_secs(10));
    assert_on_time(&events, "page", 3100);
    assert!(rss < 64 * 1024, "VmRSS {rss} KiB with 100 nodes");

    // offline first, then attention, then the hottest (this Pi's fake 45 °C)
    let mut lines = vec![
        "node-013 offline".to_string(),
        "node-077 offline".to_string(),
        "node-042 ! disk full".to_string(),
        "node-090 ! hot".to_string(),
        "pi-a 45°C".to_string(),
    ];
    for i in 0..100 {
        let name = format!("node-{i:03}");
        if !lines.iter().any(|line| line.starts_with(&name)) {
            lines.push(format!("{name} 40°C"));
        }
    }
    let mut want = Frame::new(128, 32);
    let view = View::Rack {
        up: 99,
        total: 101,
        lines,
        first: 0,
    };
    let Ok(()) = rackpi_panel::layout::draw(&mut want, &Stats::default(), &view);
    assert!(
        frames.contains(&want),
        "no frame shows\n{}\nframes:\n{}",
        want.to_ascii(),
        frames
            .iter()
            .map(Frame::to_ascii)
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!("VmRSS {rss} KiB following 100 nodes");
}
