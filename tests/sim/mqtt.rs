//! The rack over MQTT end to end (SPEC §9): real `simulate` processes in
//! real time on a real Mosquitto of their own (one broker a test, so the
//! tests run in parallel), driven and read with `mosquitto_pub` and
//! `mosquitto_sub`. Each test keeps to a few seconds: keepalives of 5 s (the least allowed),
//! waits of seconds.

mod faults;
mod flood;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rackpi_panel::frame::Frame;
use serde_json::Value;

use crate::common::mosquitto::{Mosquitto, Options};
use crate::common::{frames_in, BIN};

/// The keepalive of every panel here, in seconds.
const KEEPALIVE_S: u64 = 5;
/// The button's debounce (the default) and what a loaded machine may add.
const DEBOUNCE_MS: u64 = 30;
const MARGIN_MS: u64 = 250;

/// A `simulate` run in real time, its events read as they come.
struct Sim {
    child: Child,
    dir: tempfile::TempDir,
    events: Arc<Mutex<Vec<Value>>>,
    /// When each event was read from the pipe (for the measurements).
    read_at: Arc<Mutex<Vec<SystemTime>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// `[mqtt]` for node `node` on `url` with the lines of `mqtt` added, and
/// the lines of `rest` after it (other tables).
fn config(url: &str, node: &str, mqtt: &str, rest: &str) -> String {
    format!(
        "[mqtt]\nurl = \"{url}\"\nnode = \"{node}\"\nkeepalive_s = {KEEPALIVE_S}\n{mqtt}\n\
         [display]\npages = [\"info\", \"rack\", \"system\"]\n{rest}\n"
    )
}

fn url(broker: &Mosquitto) -> String {
    format!("mqtt://127.0.0.1:{}", broker.port)
}

impl Sim {
    /// Starts `simulate --config … --script … --events - --fake-stats`
    /// (frames into `frames/` too); the log goes to a file.
    fn start(config: &str, script: &str) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("config.toml"), config).unwrap();
        std::fs::write(path("scenario.txt"), script).unwrap();
        let mut child = Command::new(BIN)
            .arg("simulate")
            .arg("--config")
            .arg(path("config.toml"))
            .arg("--script")
            .arg(path("scenario.txt"))
            .arg("--frames")
            .arg(path("frames"))
            .args(["--events", "-", "--fake-stats"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(path("stderr")).unwrap())
            .spawn()
            .expect("start the simulator");
        let events = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let read_at = Arc::new(Mutex::new(Vec::new()));
        let (sink, times) = (events.clone(), read_at.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let event = serde_json::from_str(&line).expect("each line is JSON");
                sink.lock().unwrap().push(event);
                times.lock().unwrap().push(SystemTime::now());
            }
        });
        Sim {
            child,
            dir,
            events,
            read_at,
            reader: Some(reader),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// What the run logged so far.
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Waits up to `within` for an event that `wanted` accepts, among those
    /// from index `from` on; its index. Fails with the events and the log.
    fn wait_for(
        &self,
        from: usize,
        within: Duration,
        what: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> usize {
        let deadline = Instant::now() + within;
        loop {
            let events = self.events();
            if let Some(i) = events.iter().skip(from).position(&wanted) {
                return from + i;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {within:?}; events: {events:?}\nlog:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn wait_connected(&self) {
        self.wait_for(0, Duration::from_secs(10), "mqtt_connected", |e| {
            e["event"] == "mqtt_connected"
        });
    }

    /// Waits for the end of the script (at most `within`); the events and
    /// the log.
    fn finish(mut self, within: Duration) -> (Vec<Value>, String) {
        self.end(within)
    }

    /// [`Sim::finish`], with the frames shown, in order.
    fn finish_with_frames(mut self, within: Duration) -> (Vec<Value>, Vec<Frame>) {
        let (events, _) = self.end(within);
        (events, frames_in(&self.dir.path().join("frames")))
    }

    fn end(&mut self, within: Duration) -> (Vec<Value>, String) {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "the run did not end within {within:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.reader.take().unwrap().join().unwrap();
        assert!(status.success(), "{status:?}; log:\n{}", self.log());
        (self.events(), self.log())
    }

    /// `kill -9`: no clean stop, the broker says the will.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The `rack` event's figures.
fn rack(event: &Value) -> Option<(u64, u64)> {
    (event["event"] == "rack").then(|| {
        (
            event["up"].as_u64().unwrap(),
            event["total"].as_u64().unwrap(),
        )
    })
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

fn t_ms(event: &Value) -> u64 {
    event["t_ms"].as_u64().unwrap()
}

/// The first `name` event at or after `at_ms` came within the debounce
/// and a margin of it.
fn assert_on_time(events: &[Value], name: &str, at_ms: u64) {
    let first = events
        .iter()
        .find(|e| e["event"] == name && t_ms(e) + 5 >= at_ms)
        .unwrap_or_else(|| panic!("no {name} from {at_ms} ms on: {events:?}"));
    assert!(
        t_ms(first) <= at_ms + DEBOUNCE_MS + MARGIN_MS,
        "{name} at {} ms for a press at {at_ms} ms: {events:?}",
        t_ms(first)
    );
}

/// The number of log lines that contain `text`.
fn lines_with(log: &str, text: &str) -> usize {
    log.lines().filter(|line| line.contains(text)).count()
}

/// Everything `mosquitto_sub` printed until `sub` ended.
fn output_of(mut sub: Child) -> String {
    let mut out = String::new();
    sub.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let _ = sub.wait();
    out
}

/// The retained messages under `filter` right now (`-v`: "topic payload").
fn retained_under(broker: &Mosquitto, filter: &str) -> Vec<String> {
    let out = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args(["-t", filter, "-v", "--retained-only", "-W", "1"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// `kill -SIG pid`.
fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} {pid}");
}

/// The panels of a rack see each other. One killed (its socket closed by
/// the kernel) is seen offline by the others at once, through its Last
/// Will; one frozen (SIGSTOP: a Pi whose network or power went, the socket
/// left open) when the broker's keepalive runs out (1.5 × keepalive, plus
/// the broker's own timer); each is back when it runs again.
#[test]
fn three_panels_see_each_other_and_a_killed_or_frozen_one_go_offline() {
    let Some(broker) = Mosquitto::start("three_panels", Options::default()) else {
        return;
    };
    let start = |node: &str| Sim::start(&config(&url(&broker), node, "", ""), "wait 60\n");
    let a = start("pi-a");
    let b = start("pi-b");
    let mut c = start("pi-c");
    let full = |e: &Value| rack(e) == Some((3, 3));
    let down = |e: &Value| rack(e) == Some((2, 3));
    let within = Duration::from_secs(10);
    for sim in [&a, &b, &c] {
        sim.wait_for(0, within, "rack 3/3", full);
    }
    // the broker drops a silent client after 1.5 × keepalive; Mosquitto
    // 2.0 looks only every few seconds (measured: 11.6 s for 7.5 s)
    let limit = Duration::from_millis(KEEPALIVE_S * 1500 + 5000);
    // each sim's events so far, then a wait on what comes after them
    let mark = || [a.events().len(), b.events().len()];
    let wait = |from: [usize; 2], what: &str, wanted: &dyn Fn(&Value) -> bool, within| {
        a.wait_for(from[0], within, what, wanted);
        b.wait_for(from[1], within, what, wanted);
    };

    let from = mark();
    let killed = Instant::now();
    c.kill();
    wait(from, "rack 2/3 after the kill", &down, limit);
    let after_kill = killed.elapsed();
    let from = mark();
    let c = start("pi-c");
    wait(from, "rack 3/3 again", &full, within);
    c.wait_for(0, within, "rack 3/3 on the restarted one", full);

    let from = mark();
    let frozen = Instant::now();
    signal(c.pid(), "-STOP");
    wait(from, "rack 2/3 after the freeze", &down, limit);
    let after_freeze = frozen.elapsed();
    let from = mark();
    signal(c.pid(), "-CONT");
    wait(from, "rack 3/3 after the thaw", &full, within);
    assert!(
        after_freeze >= Duration::from_secs(KEEPALIVE_S),
        "a frozen panel is seen offline by the broker's keepalive, not before: {after_freeze:?}"
    );
    println!("seen offline {after_kill:?} after a kill -9, {after_freeze:?} after a SIGSTOP");
}

/// identify and notify (JSON and plain text) from `mosquitto_pub`; a
/// retained reboot waiting on the broker is ignored and logged.
#[test]
fn commands_from_mosquitto_pub_and_a_retained_reboot_ignored() {
    let Some(broker) = Mosquitto::start("commands", Options::default()) else {
        return;
    };
    broker.publish("rackpi/pi-a/cmd/power", b"reboot", true);
    let mqtt = "allow_power = true\npower_countdown_s = 3";
    let sim = Sim::start(&config(&url(&broker), "pi-a", mqtt, ""), "wait 6\n");
    sim.wait_connected();
    let within = Duration::from_secs(5);
    broker.publish("rackpi/pi-a/cmd/identify", b"5", false);
    let i = sim.wait_for(0, within, "identify", |e| e["event"] == "identify");
    let json = br#"{"level":"warn","text":"disk nearly full","for_s":60}"#;
    broker.publish("rackpi/pi-a/cmd/notify", json, false);
    let notified = |e: &Value| e["event"] == "attention" && e["source"] == "notify";
    let i = sim.wait_for(i, within, "attention from notify JSON", notified);
    broker.publish("rackpi/pi-a/cmd/notify", b"hello from the shell", false);
    sim.wait_for(i + 1, within, "attention from plain text", notified);
    let (events, log) = sim.finish(Duration::from_secs(15));

    let commands: Vec<&Value> = named(&events, "command");
    let names: Vec<&str> = commands
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["identify", "notify", "notify"], "{events:?}");
    assert!(
        commands.iter().all(|e| e["source"] == "mqtt"),
        "{commands:?}"
    );
    let texts: Vec<String> = named(&events, "attention")
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("disk nearly full")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("hello from the shell")),
        "{texts:?}"
    );
    for never in ["reboot_armed", "reboot", "shutdown_armed"] {
        assert!(named(&events, never).is_empty(), "{never}: {events:?}");
    }
    assert_eq!(
        lines_with(&log, "retained command `power` is ignored"),
        1,
        "{log}"
    );
}

/// Without `allow_power` a reboot from MQTT is refused and logged.
#[test]
fn a_reboot_without_allow_power_is_refused() {
    let Some(broker) = Mosquitto::start("reboot_refused", Options::default()) else {
        return;
    };
    let sim = Sim::start(&config(&url(&broker), "pi-a", "", ""), "wait 3\n");
    sim.wait_connected();
    broker.publish("rackpi/pi-a/cmd/power", b"reboot", false);
    let (events, log) = sim.finish(Duration::from_secs(10));
    for never in ["reboot_armed", "reboot", "command"] {
        assert!(named(&events, never).is_empty(), "{never}: {events:?}");
    }
    assert_eq!(lines_with(&log, "mqtt: refused:"), 1, "{log}");
    assert!(
        log.contains("allow_power"),
        "the refusal names the setting: {log}"
    );
}

/// With `allow_power` a reboot counts down; a press cancels it, without
/// one it runs (the simulator records it).
#[test]
fn a_reboot_from_mqtt_counts_down_and_a_press_cancels_it() {
    let Some(broker) = Mosquitto::start("reboot_countdown", Options::default()) else {
        return;
    };
    let mqtt = "allow_power = true\npower_countdown_s = 3";
    let run = |script: &str| {
        let sim = Sim::start(&config(&url(&broker), "pi-a", mqtt, ""), script);
        sim.wait_connected();
        broker.publish("rackpi/pi-a/cmd/power", b"reboot", false);
        sim.finish(Duration::from_secs(15)).0
    };

    let pressed = run("wait 2\npress 0.1\nwait 3\n");
    let armed = named(&pressed, "reboot_armed");
    assert_eq!(armed.len(), 1, "{pressed:?}");
    assert_eq!(armed[0]["source"], "mqtt");
    assert!(t_ms(armed[0]) < 2000, "armed before the press: {pressed:?}");
    assert_eq!(named(&pressed, "cancelled").len(), 1, "{pressed:?}");
    assert!(named(&pressed, "reboot").is_empty(), "{pressed:?}");

    let left = run("wait 5\n");
    let armed = named(&left, "reboot_armed");
    let reboot = named(&left, "reboot");
    assert_eq!((armed.len(), reboot.len()), (1, 1), "{left:?}");
    let countdown = t_ms(reboot[0]) - t_ms(armed[0]);
    assert!(
        (2900..=3000 + MARGIN_MS).contains(&countdown),
        "the countdown took {countdown} ms: {left:?}"
    );
    assert!(named(&left, "cancelled").is_empty(), "{left:?}");
}

/// availability, state and events as a subscriber sees them.
#[test]
fn availability_state_and_a_press_on_the_broker() {
    let Some(broker) = Mosquitto::start("published", Options::default()) else {
        return;
    };
    let sim = Sim::start(
        &config(&url(&broker), "pi-a", "", ""),
        "wait 2\npress 0.3\nwait 1\n",
    );
    sim.wait_connected();
    let event_sub = broker.subscriber("rackpi/pi-a/event", 1, Duration::from_secs(5));
    assert_eq!(
        broker.retained("rackpi/pi-a/availability").as_deref(),
        Some("online")
    );
    let state: Value = serde_json::from_str(&broker.retained("rackpi/pi-a/state").unwrap())
        .expect("the state is JSON");
    for field in [
        "host",
        "ip",
        "cpu_pct",
        "mem_pct",
        "temp_c",
        "disk_pct",
        "uptime_s",
        "attention",
        "attention_text",
        "led",
        "version",
    ] {
        assert!(!state[field].is_null(), "no {field} in {state}");
    }
    assert_eq!(state["host"], "rackpi");
    assert_eq!(state["attention"], false);
    sim.finish(Duration::from_secs(10));

    let press: Value = serde_json::from_str(output_of(event_sub).trim()).unwrap();
    assert_eq!(press["event"], "press", "{press}");
    assert_eq!(press["held_s"], 0.3, "{press}");
    assert_eq!(
        broker.retained("rackpi/pi-a/availability").as_deref(),
        Some("offline"),
        "a clean stop says offline"
    );
}

/// Home Assistant's configs are retained with discovery on and removed at
/// the next start with it off.
#[test]
fn discovery_configs_come_and_go() {
    let Some(broker) = Mosquitto::start("discovery", Options::default()) else {
        return;
    };
    let run = |mqtt: &str| {
        let sim = Sim::start(&config(&url(&broker), "pi-a", mqtt, ""), "wait 1\n");
        sim.wait_connected();
        sim.finish(Duration::from_secs(10));
    };
    run("allow_power = true");
    let configs = retained_under(&broker, "homeassistant/#");
    let count = |part: &str| configs.iter().filter(|c| c.contains(part)).count();
    assert!(count("/sensor/") >= 5, "{configs:#?}");
    assert_eq!(count("/binary_sensor/"), 1, "{configs:#?}");
    assert!(
        count("/button/") >= 3,
        "identify, restart, shutdown: {configs:#?}"
    );
    for config in &configs {
        let (topic, payload) = config.split_once(' ').unwrap();
        assert!(topic.ends_with("/config"), "{topic}");
        let json: Value = serde_json::from_str(payload).unwrap();
        assert!(json["unique_id"].as_str().is_some(), "{config}");
        assert!(payload.contains("rackpi/pi-a/availability"), "{config}");
    }

    run("allow_power = true\ndiscovery = false");
    let left = retained_under(&broker, "homeassistant/#");
    assert!(left.is_empty(), "discovery off leaves {left:#?}");
}

/// Not a check: how long from a release (the `press` event goes out with
/// `held_s` at the release, in the event's `t_ms`) to the message reaching
/// a subscriber (`mosquitto_sub -F %U`, the wall clock), for
/// docs/benchmarks.md. `cargo test --release --test sim -- --ignored
/// --nocapture press_to_broker`.
#[test]
#[ignore]
fn press_to_broker_latency() {
    let Some(broker) = Mosquitto::start("press_to_broker", Options::default()) else {
        return;
    };
    let presses = 20;
    let script = "wait 1\n".to_string() + &"press 0.1\nwait 0.4\n".repeat(presses);
    let sim = Sim::start(&config(&url(&broker), "pi-a", "", ""), &script);
    sim.wait_connected();
    let sub = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &broker.port.to_string()])
        .args([
            "-t",
            "rackpi/pi-a/event",
            "-F",
            "%U %p",
            "-C",
            &presses.to_string(),
        ])
        .args(["-W", "30"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let read_at = sim.read_at.clone();
    let (events, _) = sim.finish(Duration::from_secs(30));
    let times = read_at.lock().unwrap().clone();
    let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    // the run's time 0 on the wall clock: the least of read time − t_ms
    // (an event read late only makes its difference larger)
    let origin = events
        .iter()
        .zip(&times)
        .map(|(e, t)| seconds(*t) - t_ms(e) as f64 / 1000.0)
        .fold(f64::INFINITY, f64::min);
    let releases: Vec<f64> = named(&events, "release")
        .iter()
        .map(|e| origin + t_ms(e) as f64 / 1000.0)
        .collect();
    let arrivals: Vec<f64> = output_of(sub)
        .lines()
        .filter(|line| line.contains("\"press\""))
        .map(|line| line.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let mut ms: Vec<f64> = releases
        .iter()
        .zip(&arrivals)
        .map(|(release, arrival)| (arrival - release) * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    println!(
        "release to subscriber, {} presses: min {:.2} ms, median {:.2} ms, max {:.2} ms",
        ms.len(),
        ms[0],
        ms[ms.len() / 2],
        ms[ms.len() - 1]
    );
}
