//! Fault injection in the simulator: the display unplugged at every phase,
//! NACK storms, failing power commands. Each run must end normally, lose no
//! press, and report the right events and LED pattern.

use std::path::Path;

use rackpi_panel::config::Config;
use rackpi_panel::sim::{simulate, SimOptions, SimSummary};
use serde_json::Value;

/// Runs a scenario; events are returned, frames are left in `dir/frames`.
fn run(script: &str, fail_every: u64) -> (SimSummary, Vec<Value>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("s.txt");
    std::fs::write(&script_path, script).unwrap();
    let events_path = dir.path().join("events.jsonl");
    let options = SimOptions {
        script: Some(script_path),
        virtual_time: true,
        fake_stats: true,
        events: Some(events_path.clone()),
        frames: Some(dir.path().join("frames")),
        fail_every,
        ..SimOptions::default()
    };
    let summary = simulate(&Config::default(), &options).expect("the simulation runs to the end");
    let events = read_events(&events_path);
    (summary, events, dir)
}

fn read_events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(events: &[Value], name: &str) -> usize {
    events.iter().filter(|e| e["event"] == name).count()
}

fn patterns(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "led")
        .map(|e| e["pattern"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn unplugged_at_start_the_button_still_works() {
    let (_, ev, _dir) = run(
        "display unplug\nwait 1\npress 0.1\nwait 1\npress 9\nwait 1\n",
        0,
    );
    assert_eq!(count(&ev, "display_lost"), 1);
    assert_eq!(count(&ev, "press"), 2, "no press is lost");
    assert_eq!(count(&ev, "reboot"), 1);
    assert!(patterns(&ev).contains(&"double-blink".to_string()));
}

#[test]
fn unplugged_during_the_action_screen_the_action_stands() {
    let (_, ev, _dir) = run(
        "wait 1\ndown\nwait 8.5\ndisplay unplug\nup\nwait 5\ndisplay plug\nwait 40\n",
        0,
    );
    assert_eq!(count(&ev, "reboot"), 1);
    assert_eq!(count(&ev, "display_lost"), 1);
    assert_eq!(
        count(&ev, "display_restored"),
        1,
        "the action screen is redrawn"
    );
}

#[test]
fn a_nack_storm_never_loses_a_press_or_an_action() {
    for every in [2, 3, 5, 7, 13] {
        let (summary, ev, _dir) = run(
            "wait 1\npress 0.1\nwait 1\npress 0.1\nwait 1\npress 0.1\nwait 2\npress 9\nwait 60\n",
            every,
        );
        assert_eq!(count(&ev, "press"), 4, "every {every}");
        assert_eq!(
            count(&ev, "page"),
            4,
            "every {every}: the three short presses turn pages"
        );
        assert_eq!(count(&ev, "reboot"), 1, "every {every}");
        assert!(summary.bus.nacks > 0);
        assert!(
            count(&ev, "display_lost") <= count(&ev, "display_restored") + 1,
            "every {every}: losses and recoveries alternate"
        );
    }
}

#[test]
fn mid_flush_failures_are_recovered_with_a_full_redraw() {
    // Every 70th transaction fails. Start-up takes about 60 (init, then a
    // full frame) and a page change about 35, so the failures land in the
    // middle of flushes; each retry re-initialises and redraws everything.
    let (summary, ev, dir) = run(
        "wait 1\npress 0.1\nwait 3\npress 0.1\nwait 3\npress 0.1\nwait 5\nquit\n",
        70,
    );
    assert!(summary.bus.nacks >= 2, "{:?}", summary.bus);
    assert!(count(&ev, "display_lost") >= 2);
    assert_eq!(count(&ev, "display_lost"), count(&ev, "display_restored"));
    assert_eq!(count(&ev, "page"), 4, "no press lost");
    // the last picture before the program stopped is the whole page, not a torn one
    let mut names: Vec<_> = std::fs::read_dir(dir.path().join("frames"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let last_lit = names
        .iter()
        .rev()
        .map(|p| {
            rackpi_panel::frame::Frame::from_png(
                &std::fs::read(p).unwrap(),
                rackpi_panel::sim::PNG_SCALE,
            )
            .unwrap()
        })
        .find(|f| f.lit_count() > 0)
        .unwrap();
    let expected = rackpi_panel::layout::render_page(
        rackpi_panel::core::PageKind::Info,
        rackpi_panel::config::PanelSize::W128H32.dimensions(),
    );
    assert_eq!(last_lit, expected);
}

#[test]
fn a_failing_power_command_is_reported_and_not_retried() {
    let (_, ev, _dir) = run("power fail\nwait 1\npress 9\nwait 30\n", 0);
    assert_eq!(count(&ev, "reboot"), 1, "run once, never again by itself");
    assert_eq!(count(&ev, "action_failed"), 1);
    let p = patterns(&ev);
    assert_eq!(p[p.len() - 2], "double-blink");
    // after the failure the button works again and the command can succeed
    let (_, ev, _dir) = run(
        "power fail\nwait 1\npress 9\nwait 12\npower ok\npress 13\nwait 2\n",
        0,
    );
    assert_eq!(count(&ev, "action_failed"), 1);
    assert_eq!(count(&ev, "shutdown"), 1);
}
