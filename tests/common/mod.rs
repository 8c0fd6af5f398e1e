//! What the integration tests share: a driver for the firmware core (the
//! timeline and property tests: inputs at their times, deadlines in between,
//! every effect recorded), and the binary under test with readers of what
//! its runs printed.
#![allow(dead_code)] // each test crate uses its own part

pub mod mosquitto;
pub mod private_bus;

use std::time::Duration;

use rackpi_panel::core::{Effect, Event, Input, LedPattern, Panel, PowerAction, Rules};

pub fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// Drives a panel like the runtime does: inputs at their times, deadlines
/// in between, recording every effect with its time.
pub struct Harness {
    pub panel: Panel,
    pub now: Duration,
    pub log: Vec<(u64, Effect)>,
}

impl Harness {
    pub fn new(rules: Rules, pressed_at_start: bool) -> Self {
        let (panel, effects) = Panel::start(rules, ms(0), pressed_at_start);
        let mut h = Harness {
            panel,
            now: ms(0),
            log: Vec::new(),
        };
        h.record(effects);
        h
    }

    pub fn default() -> Self {
        Self::new(Rules::default(), false)
    }

    pub fn record(&mut self, effects: Vec<Effect>) {
        let t = self.now.as_millis() as u64;
        self.log.extend(effects.into_iter().map(|e| (t, e)));
    }

    /// Runs every deadline up to `t` (inclusive), then stops there.
    pub fn run_until(&mut self, t: u64) {
        while let Some(deadline) = self.panel.next_deadline() {
            assert!(
                deadline >= self.now,
                "deadline {deadline:?} is in the past ({:?})",
                self.now
            );
            if deadline > ms(t) {
                break;
            }
            self.now = deadline;
            let effects = self.panel.step(Input::Tick, deadline);
            self.record(effects);
        }
        self.now = ms(t);
    }

    pub fn input(&mut self, t: u64, input: Input) {
        self.run_until(t);
        let effects = self.panel.step(input, ms(t));
        self.record(effects);
    }

    pub fn level(&mut self, t: u64, pressed: bool) {
        self.input(t, Input::Button { pressed });
    }

    /// Press at `t`, hold `hold` ms, release.
    pub fn press(&mut self, t: u64, hold: u64) {
        self.level(t, true);
        self.level(t + hold, false);
    }

    pub fn events(&self) -> Vec<(u64, Event)> {
        self.log
            .iter()
            .filter_map(|(t, e)| match e {
                Effect::Event(ev) => Some((*t, ev.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.events()
            .iter()
            .map(|(_, e)| e.name())
            .filter(|n| *n != "led")
            .collect()
    }

    pub fn count(&self, event: &Event) -> usize {
        self.events().iter().filter(|(_, e)| e == event).count()
    }

    pub fn actions(&self) -> Vec<PowerAction> {
        self.log
            .iter()
            .filter_map(|(_, e)| match e {
                Effect::RunPower(a) => Some(*a),
                _ => None,
            })
            .collect()
    }

    pub fn patterns(&self) -> Vec<(u64, LedPattern)> {
        self.events()
            .into_iter()
            .filter_map(|(t, e)| match e {
                Event::Led(p) => Some((t, p)),
                _ => None,
            })
            .collect()
    }
}

/// The `rackpi-panel` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// Fails the test with the run's stderr unless it exited with 0.
pub fn assert_succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON Lines events a run printed on stdout (`--events -`).
pub fn events_of(out: &std::process::Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The events called `name`.
pub fn named<'a>(events: &'a [serde_json::Value], name: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// `simulate --virtual-time --fake-stats --events -` with `script` (written
/// to a file) and `extra` arguments.
pub fn simulate(script: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.txt");
    std::fs::write(&path, script).unwrap();
    let mut args = vec![
        "simulate",
        "--virtual-time",
        "--fake-stats",
        "--events",
        "-",
        "--script",
        path.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    std::process::Command::new(BIN)
        .args(&args)
        .output()
        .unwrap()
}

/// Every frame a run showed, in order, from its `--frames` directory.
pub fn frames_in(dir: &std::path::Path) -> Vec<rackpi_panel::frame::Frame> {
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|path| {
            let png = std::fs::read(path).unwrap();
            rackpi_panel::frame::Frame::from_png(&png, rackpi_panel::sim::PNG_SCALE).unwrap()
        })
        .collect()
}

/// `simulate` in real time with `config`, its events on its standard output
/// (stderr dropped), playing `wait SECONDS` from its standard input.
pub fn simulate_waiting(config: &std::path::Path, seconds: u32) -> std::process::Child {
    use std::process::{Command, Stdio};
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "--fake-stats",
            "--events",
            "-",
            "--script",
            "-",
            "--config",
        ])
        .arg(config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let script = format!("wait {seconds}\n");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), script.as_bytes()).unwrap();
    child
}
