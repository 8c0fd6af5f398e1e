//! Soak: seven simulated days of random presses and display faults through
//! the real binary in virtual time. No press is lost, every action is
//! reported, the screen timeout never drifts, and memory does not grow
//! (peak RSS of a 7-day run against a 1-day run).

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");
const DAY_S: u64 = 86_400;

/// A small deterministic generator (xorshift), so every run soaks the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Default, Debug)]
struct Plan {
    script: String,
    presses: usize,
    reboots: usize,
    shutdowns: usize,
}

/// Presses 60 s to 10 min apart (each one's screen has timed out before the
/// next); holds short, reboot, shutdown or cancel; the display unplugged
/// and plugged in between. Power commands fail, so the panel carries on.
fn plan(days: u64, seed: u64) -> Plan {
    let mut rng = Rng(seed);
    let mut p = Plan {
        script: "power fail\n".into(),
        ..Plan::default()
    };
    let mut t = 0;
    while t < days * DAY_S {
        let gap = 60 + rng.below(540);
        let (hold, kind) = match rng.below(10) {
            0 => (9.0, 1),
            1 => (13.0, 2),
            2 => (25.0, 0),
            _ => (0.1 + rng.below(500) as f64 / 1000.0, 0),
        };
        if rng.below(8) == 0 {
            let plugged = rng.below(2) == 0;
            p.script += if plugged {
                "display plug\n"
            } else {
                "display unplug\n"
            };
        }
        p.script += &format!("wait {}\npress {hold}\n", gap);
        p.presses += 1;
        match kind {
            1 => p.reboots += 1,
            2 => p.shutdowns += 1,
            _ => {}
        }
        t += gap + hold as u64 + 1;
    }
    p.script += "display plug\nwait 60\n";
    p
}

/// Runs a plan; returns its events and the peak RSS of all children so far (KiB).
fn soak(plan: &Plan) -> (Vec<Value>, i64) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("soak.txt");
    std::fs::write(&script, &plan.script).unwrap();
    let events = dir.path().join("events.jsonl");
    // the log (every failed power command) is not wanted here
    let output = Command::new(BIN)
        .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
        .arg(&script)
        .arg("--events")
        .arg(&events)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let ev = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (ev, usage.max_rss())
}

fn count(events: &[Value], name: &str) -> usize {
    events.iter().filter(|e| e["event"] == name).count()
}

#[test]
fn seven_days_of_presses_and_faults() {
    let one_day = plan(1, 0x5eed);
    let (_, rss_one_day) = soak(&one_day);
    let week = plan(7, 0x5eed);
    let (ev, rss_week) = soak(&week);
    eprintln!(
        "soak: {} presses over 7 days, {} events; peak RSS 1 day {} KiB, 7 days {} KiB",
        week.presses,
        ev.len(),
        rss_one_day,
        rss_week
    );
    assert!(week.presses > 1500);
    assert_eq!(count(&ev, "press"), week.presses, "no press lost");
    assert_eq!(count(&ev, "release"), week.presses);
    assert_eq!(count(&ev, "reboot"), week.reboots);
    assert_eq!(count(&ev, "shutdown"), week.shutdowns);
    assert_eq!(count(&ev, "action_failed"), week.reboots + week.shutdowns);
    assert_eq!(
        count(&ev, "screen_off"),
        week.presses + 1,
        "every wake-up times out"
    );
    assert!(count(&ev, "display_lost") >= 10, "the faults were noticed");
    let lost = count(&ev, "display_lost");
    let restored = count(&ev, "display_restored");
    assert!(
        lost == restored || lost == restored + 1,
        "{lost} lost, {restored} restored"
    );

    // The timeout never drifts: the screen goes off exactly 15 s after the
    // last thing that kept it on (a release, or the end of a failure screen).
    let mut anchor = 0;
    for e in &ev {
        let t = e["t_ms"].as_u64().unwrap();
        match e["event"].as_str().unwrap() {
            "release" => anchor = t,
            "action_failed" => anchor = t + 10_000,
            "screen_off" => assert_eq!(t, anchor + 15_000, "screen_off at {t}"),
            _ => {}
        }
    }

    // Memory does not grow with the length of the run.
    assert!(
        rss_week <= rss_one_day + 1024,
        "peak RSS grew from {rss_one_day} KiB (1 day) to {rss_week} KiB (7 days)"
    );
}
