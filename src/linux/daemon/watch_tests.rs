//! The watch of SPEC §10 through the daemon's own inputs: files laid out
//! as a Pi's sysfs in a temporary directory (`[system] sysfs`), the real
//! sensor thread reading them every `poll_s`, the `woken` socket, and the
//! core deciding what the panel calls for.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::poll::HwInputs;
use super::tests::Still;
use super::{monotonic_now, wake_pipe};
use crate::app::ports::{Inputs, Wake};
use crate::core::{AttentionSource, Event, Input, Level, Panel, Rules};
use crate::linux::sensors::{SensorPaths, Sensors, Watch, WATCH_QUEUE};

/// The daemon's inputs, fed by a watch on `sysfs` every 50 ms; the sensor
/// thread and the other ends of the pipes are kept by the caller.
fn watched_inputs(sysfs: &Path) -> (HwInputs, Sensors, [UnixStream; 3]) {
    let (button, button_peer) = UnixStream::pair().unwrap();
    let (stop, stop_peer) = wake_pipe().unwrap();
    let (reload, reload_peer) = wake_pipe().unwrap();
    let (woken, waker) = wake_pipe().unwrap();
    let (inputs, watched) = mpsc::sync_channel(WATCH_QUEUE);
    let mut sensors = Sensors::new(SensorPaths::under(sysfs));
    sensors.watch(Watch {
        every: Duration::from_millis(50),
        inputs,
        waker,
    });
    let inputs = HwInputs {
        watched: Some(watched),
        ..HwInputs::bare(Box::new(Still(button)), stop, reload, woken)
    };
    (inputs, sensors, [button_peer, stop_peer, reload_peer])
}

/// A Pi 4's files: the SoC's thermal zone and the firmware's `get_throttled`.
fn lay_out_a_pi(sysfs: &Path, millidegrees: &str, throttled: &str) {
    let zone = sysfs.join("class/thermal/thermal_zone0");
    let firmware = sysfs.join("devices/platform/soc/soc:firmware");
    for dir in [&zone, &firmware] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(zone.join("temp"), millidegrees).unwrap();
    std::fs::write(firmware.join("get_throttled"), throttled).unwrap();
}

/// The loop's side: waits on the inputs as the daemon does and feeds the
/// core what the watch sent, until `wanted` is among the events reported
/// (or 10 s pass); returns every event reported meanwhile.
fn until_event(
    inputs: &mut HwInputs,
    panel: &mut Panel,
    wanted: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let give_up = Instant::now() + Duration::from_secs(10);
    let mut events = Vec::new();
    while Instant::now() < give_up {
        let wake = inputs
            .wait(Some(monotonic_now() + Duration::from_secs(1)))
            .unwrap();
        assert!(matches!(wake, Wake::Woken | Wake::Deadline), "{wake:?}");
        for input in inputs.pending_inputs() {
            let effects = panel.step(input, monotonic_now());
            events.extend(effects.into_iter().filter_map(|e| match e {
                crate::core::Effect::Event(event) => Some(event),
                _ => None,
            }));
        }
        if events.iter().any(&wanted) {
            return events;
        }
    }
    panic!("not within 10 s; reported: {events:?}");
}

fn attention(source: AttentionSource, text: &str) -> Event {
    Event::Attention {
        source,
        level: Level::Warn,
        text: text.into(),
    }
}

#[test]
fn under_voltage_and_heat_in_the_files_reach_the_attention_list() {
    let dir = tempfile::tempdir().unwrap();
    let sysfs = dir.path();
    lay_out_a_pi(sysfs, "45000\n", "0\n");
    let (mut inputs, _sensors, _peers) = watched_inputs(sysfs);
    let (mut panel, _) = Panel::start(Rules::default(), monotonic_now(), false);
    let firmware = sysfs.join("devices/platform/soc/soc:firmware/get_throttled");
    let zone = sysfs.join("class/thermal/thermal_zone0/temp");

    std::fs::write(&firmware, "0x50005\n").unwrap();
    let under = attention(AttentionSource::Power, "under-voltage");
    let events = until_event(&mut inputs, &mut panel, |e| *e == under);
    let reported = events.iter().find(|e| **e == under).unwrap();
    let reported = serde_json::to_value(reported).unwrap();
    assert_eq!(reported["source"], "power", "{reported}");

    std::fs::write(&firmware, "0x50000\n").unwrap();
    until_event(&mut inputs, &mut panel, |e| *e == Event::AttentionCleared);

    std::fs::write(&zone, "83000\n").unwrap();
    let hot = attention(AttentionSource::Temp, "too hot: 83 °C");
    until_event(&mut inputs, &mut panel, |e| *e == hot);
    std::fs::write(&zone, "76000\n").unwrap();
    // 76 °C is sent to the core (it changed) and keeps the condition
    let mut seen_76 = false;
    let give_up = Instant::now() + Duration::from_secs(10);
    while !seen_76 && Instant::now() < give_up {
        inputs
            .wait(Some(monotonic_now() + Duration::from_secs(1)))
            .unwrap();
        for input in inputs.pending_inputs() {
            seen_76 |= input == Input::Temperature(Some(76.0));
            let effects = panel.step(input, monotonic_now());
            assert!(effects
                .iter()
                .all(|e| !matches!(e, crate::core::Effect::Event(Event::AttentionCleared))));
        }
    }
    assert!(seen_76, "76 °C was read");
    assert!(panel.attention_listed());
    std::fs::write(&zone, "74000\n").unwrap();
    until_event(&mut inputs, &mut panel, |e| *e == Event::AttentionCleared);
}

#[test]
fn on_a_machine_without_the_files_the_watch_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let (mut inputs, _sensors, _peers) = watched_inputs(dir.path());
    // 20 periods of the watch: nothing to read, nothing sent, no wake-up
    let started = monotonic_now();
    let wake = inputs
        .wait(Some(started + Duration::from_millis(1000)))
        .unwrap();
    assert_eq!(wake, Wake::Deadline);
    assert!(inputs.pending_inputs().is_empty());
}

#[test]
fn a_steady_machine_wakes_the_loop_once() {
    let dir = tempfile::tempdir().unwrap();
    lay_out_a_pi(dir.path(), "51000\n", "0\n");
    let (mut inputs, _sensors, _peers) = watched_inputs(dir.path());
    let started = monotonic_now();
    let mut received = Vec::new();
    let mut wakes = 0;
    loop {
        let wake = inputs
            .wait(Some(started + Duration::from_millis(1000)))
            .unwrap();
        if wake == Wake::Deadline {
            break;
        }
        wakes += 1;
        received.extend(inputs.pending_inputs());
    }
    // the first look tells the temperature; 19 more, unchanged, tell nothing
    assert_eq!(received, vec![Input::Temperature(Some(51.0))]);
    assert_eq!(wakes, 1);
}
