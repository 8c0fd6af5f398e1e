//! The loop stalled while the button moved (a slow SD card, a display that
//! times out, SIGSTOP): the real runtime against a kernel-like edge queue.
//! The queue keeps every edge with its own timestamp, drops the oldest when
//! full (as gpiolib-cdev does) and the loop sees it only when it runs again.
//! Whatever the stall, taps never become a reboot, a hold is never
//! lengthened, and a real hold afterwards acts exactly once.

use std::collections::VecDeque;
use std::time::Duration;

use rackpi_panel::app::ports::{EdgeBatch, Inputs, Reporter, Wake};
use rackpi_panel::app::runtime::{self, Ports};
use rackpi_panel::config::Config;
use rackpi_panel::core::{Event, PowerAction, Rules, Time};
use rackpi_panel::linux::display::{PanelSettings, Ssd1306Port};
use rackpi_panel::linux::pages::CustomPages;
use rackpi_panel::sim::{FakeStats, SimBus, SimClock, SimLed, SimPower};

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// The button's real life and the loop's stalls, on one virtual clock.
struct KernelQueue {
    now: Time,
    /// Edges still to happen: (pressed, when).
    future: VecDeque<(bool, Time)>,
    /// Edges that happened and were not read yet, oldest first.
    queued: VecDeque<(bool, Time)>,
    /// Edges dropped since the last read (the queue was full).
    dropped: u64,
    capacity: usize,
    level: bool,
    /// The loop does not run inside these windows: [from, to).
    stalls: Vec<(Time, Time)>,
    end: Time,
    /// The wait fails (the GPIO request is gone) from this time on.
    fail_at: Option<Time>,
    /// Edges at these times change the level but are never reported, and
    /// leave no gap in the sequence numbers (the worst a driver can do).
    unreported: Vec<Time>,
}

impl KernelQueue {
    fn new(levels: &[(u64, bool)], stalls: &[(u64, u64)], end: u64) -> Self {
        KernelQueue {
            now: Duration::ZERO,
            future: levels.iter().map(|&(t, p)| (p, ms(t))).collect(),
            queued: VecDeque::new(),
            dropped: 0,
            capacity: 16,
            level: false,
            stalls: stalls.iter().map(|&(a, b)| (ms(a), ms(b))).collect(),
            end: ms(end),
            fail_at: None,
            unreported: Vec::new(),
        }
    }

    /// Lets the world run to `t`: edges happen and queue up.
    fn happen_until(&mut self, t: Time) {
        while let Some(&(pressed, at)) = self.future.front() {
            if at > t {
                break;
            }
            self.future.pop_front();
            self.level = pressed;
            if self.unreported.contains(&at) {
                continue;
            }
            if self.queued.len() == self.capacity {
                self.queued.pop_front();
                self.dropped += 1;
            }
            self.queued.push_back((pressed, at));
        }
        self.now = self.now.max(t);
    }

    /// When the loop really runs if it wants to run at `t`.
    fn resumed(&self, t: Time) -> Time {
        self.stalls
            .iter()
            .find(|(from, to)| *from <= t && t < *to)
            .map_or(t, |&(_, to)| to)
    }
}

impl Inputs for KernelQueue {
    fn now(&mut self) -> Time {
        self.now
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        Ok(self.level)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        let next_edge = self.future.front().map(|&(_, at)| at);
        let want = [deadline, next_edge, Some(self.end)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(self.end)
            .max(self.now);
        let at = self.resumed(want);
        self.happen_until(at);
        if self.fail_at.is_some_and(|fail| at >= fail) {
            return Err(std::io::Error::other("the GPIO request went away"));
        }
        if at >= self.end {
            return Ok(Wake::Stop);
        }
        Ok(if self.queued.is_empty() {
            Wake::Deadline
        } else {
            Wake::Woken
        })
    }

    fn pending_edges(&mut self) -> std::io::Result<Option<EdgeBatch>> {
        if self.queued.is_empty() {
            return Ok(None);
        }
        let batch = EdgeBatch {
            edges: self.queued.drain(..).collect(),
            lost: std::mem::take(&mut self.dropped),
            level: self.level,
        };
        Ok(Some(batch))
    }
}

#[derive(Default)]
struct Events(Vec<(Time, Event)>);

impl Reporter for Events {
    fn event(&mut self, at: Time, event: &Event) {
        self.0.push((at, event.clone()));
    }
}

/// Runs the real loop over the button's levels with the given stalls;
/// returns the power actions started and the events.
fn run(levels: &[(u64, bool)], stalls: &[(u64, u64)], end: u64) -> (Vec<PowerAction>, Events) {
    run_with(KernelQueue::new(levels, stalls, end))
}

fn run_with(mut inputs: KernelQueue) -> (Vec<PowerAction>, Events) {
    let config = Config::default();
    let mut display = Ssd1306Port::new(
        SimBus::new(0x3c, SimClock::new(true)),
        PanelSettings::from_config(&config),
    );
    let mut power = SimPower::default();
    let mut events = Events::default();
    runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: &mut SimLed::default(),
            power: &mut power,
            stats: &mut FakeStats,
            pages: &mut CustomPages::new(&[], None),
            reporter: &mut events,
            reload: None,
            broker: None,
        },
        Rules::default(),
    )
    .expect("the simulated inputs do not fail");
    let started = power.started.borrow().clone();
    (started, events)
}

/// Press at `t` for `hold` ms.
fn tap(t: u64, hold: u64) -> [(u64, bool); 2] {
    [(t, true), (t + hold, false)]
}

#[test]
fn a_tap_during_a_stall_then_a_tap_9_s_later_is_two_short_presses() {
    let levels = [tap(2_000, 300), tap(11_500, 300)].concat();
    let (actions, events) = run(&levels, &[(1_800, 3_300)], 20_000);
    assert_eq!(actions, vec![]);
    // each tap turned the page (the screen was on from the start)
    let pages = events
        .0
        .iter()
        .filter(|(_, e)| matches!(e, Event::Page(_)))
        .count();
    assert_eq!(pages, 3, "{:?}", events.0);
}

#[test]
fn several_taps_during_one_stall_do_nothing() {
    // 12 taps (24 edges) overflow the 16-edge queue
    let levels: Vec<_> = (0..12).flat_map(|i| tap(2_000 + i * 400, 150)).collect();
    let (actions, events) = run(&levels, &[(1_500, 9_000)], 30_000);
    assert_eq!(actions, vec![]);
    assert!(!events.0.iter().any(|(_, e)| *e == Event::RebootArmed));
}

#[test]
fn a_stall_during_a_hold_does_not_lengthen_it() {
    // held 6 s, the loop stopped from 3 s to 11 s
    let (actions, _) = run(&tap(1_000, 6_000), &[(3_000, 11_000)], 30_000);
    assert_eq!(actions, vec![]);
}

#[test]
fn a_stall_across_the_reboot_threshold_does_not_arm() {
    // released at 7.5 s of hold; the loop stopped from 6 s to 12 s of hold
    let (actions, events) = run(&tap(1_000, 7_500), &[(7_000, 13_000)], 30_000);
    assert_eq!(actions, vec![]);
    assert!(
        !events.0.iter().any(|(_, e)| *e == Event::RebootArmed),
        "{:?}",
        events.0
    );
}

#[test]
fn after_stalled_taps_a_real_hold_reboots_once() {
    let levels = [
        tap(2_000, 300).to_vec(),
        (0..12).flat_map(|i| tap(4_000 + i * 300, 100)).collect(),
        tap(20_000, 9_500).to_vec(),
    ]
    .concat();
    let (actions, _) = run(&levels, &[(1_800, 3_000), (3_900, 9_000)], 60_000);
    assert_eq!(actions, vec![PowerAction::Reboot]);
}

#[test]
fn a_real_hold_released_during_a_stall_counts_by_its_edges() {
    // held 9.5 s; the loop was stopped from 5 s to 12 s of the hold: the
    // release happened in the reboot stage, so it reboots, once
    let (actions, _) = run(&tap(1_000, 9_500), &[(6_000, 13_000)], 40_000);
    assert_eq!(actions, vec![PowerAction::Reboot]);
    // and 13.5 s with a stall over both thresholds shuts down, once
    let (actions, _) = run(&tap(1_000, 13_500), &[(8_000, 16_000)], 40_000);
    assert_eq!(actions, vec![PowerAction::Shutdown]);
}

#[test]
fn a_release_pushed_out_of_a_full_queue_never_completes_a_hold() {
    // pressed at 1 s (seen), released at 1.3 s during a stall, then taps
    // from 8 s overflow the queue and push that release out: the press
    // seen at 1 s can no longer be timed, so it does nothing
    let mut levels = vec![(1_000, true), (1_300, false)];
    levels.extend((0..12).flat_map(|i| tap(8_000 + i * 300, 100)));
    let (actions, events) = run(&levels, &[(1_200, 13_000)], 40_000);
    assert_eq!(actions, vec![], "{:?}", events.0);
}

#[test]
fn the_edges_left_after_an_overflow_are_timed_as_they_happened() {
    // a burst of bounce at the start of a real 9.5 s hold overflows the
    // queue; the edges that remain are the newest, so the hold is never
    // longer than it was: it reboots, once
    let mut levels = vec![(1_000, true)];
    for i in 0..10 {
        levels.push((1_100 + i * 10, false));
        levels.push((1_105 + i * 10, true));
    }
    levels.push((10_500, false));
    let (actions, events) = run(&levels, &[(900, 11_000)], 40_000);
    assert_eq!(actions, vec![PowerAction::Reboot], "{:?}", events.0);
}

#[test]
fn when_the_loop_fails_it_leaves_the_led_and_the_display_off() {
    let config = Config::default();
    let mut inputs = KernelQueue::new(&tap(1_000, 300), &[], 60_000);
    inputs.fail_at = Some(ms(5_000));
    let bus = SimBus::new(0x3c, SimClock::new(true));
    let mut display = Ssd1306Port::new(bus.clone(), PanelSettings::from_config(&config));
    let led = SimLed::default();
    let result = runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: &mut led.clone(),
            power: &mut SimPower::default(),
            stats: &mut FakeStats,
            pages: &mut CustomPages::new(&[], None),
            reporter: &mut Events::default(),
            reload: None,
            broker: None,
        },
        Rules::default(),
    );
    assert!(result.is_err());
    assert!(!led.0.get(), "the LED is left lit");
    assert!(!bus.state().model.display_on(), "the display is left on");
}

#[test]
fn a_release_never_reported_is_found_by_reading_the_line() {
    // a tap during a stall whose release edge never arrives: the level read
    // after the batch says the button is up, so the next tap, 9 s later, is
    // a tap and not the end of a 9 s hold
    let levels = [tap(2_000, 300), tap(11_300, 300)].concat();
    let mut inputs = KernelQueue::new(&levels, &[(1_800, 3_000)], 30_000);
    inputs.unreported = vec![ms(2_300)];
    let (actions, events) = run_with(inputs);
    assert_eq!(actions, vec![], "{:?}", events.0);
}
