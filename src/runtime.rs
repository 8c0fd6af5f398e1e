//! The main loop, shared by `run` and `simulate`: wait for an edge, a
//! deadline or a signal, feed the core, carry out what it returns through
//! the ports. Every decision is the core's; this only wires.

use std::collections::VecDeque;

use crate::config::Timings;
use crate::core::{Effect, Event, Input, Panel, PowerAction, Time, View};
use crate::display::{Backoff, DisplayFault, DisplayPort};
use crate::frame::Frame;
use crate::layout;
use crate::stats::{Stats, StatsSource};

/// What woke the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Wake {
    /// The button's level changed at `at` (a kernel timestamp where there is one).
    Button {
        /// True while held down.
        pressed: bool,
        /// When.
        at: Time,
    },
    /// The deadline passed.
    Deadline,
    /// Something else may be ready (a power command finished).
    Woken,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGTERM, SIGINT, `quit`, or the end of a script.
    Stop,
}

/// The button edges queued while the loop was busy, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeBatch {
    /// Each edge: (pressed, when, on the inputs' clock).
    pub edges: Vec<(bool, Time)>,
    /// How many edges the source dropped (a gap in the kernel's sequence numbers).
    pub lost: u64,
    /// The button's level, read after the edges.
    pub level: bool,
}

/// Where inputs and time come from.
pub trait Inputs {
    /// The current time on the inputs' clock.
    fn now(&mut self) -> Time;
    /// Whether the button is held down now (read once at start).
    fn button_pressed(&mut self) -> std::io::Result<bool>;
    /// Blocks until something happens or `deadline` (on the same clock) passes.
    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake>;
    /// Every edge queued by now, without blocking (sources that report
    /// edges through `Wake::Button` have none).
    fn pending_edges(&mut self) -> std::io::Result<Option<EdgeBatch>> {
        Ok(None)
    }
}

/// The status LED.
pub trait LedPort {
    /// Lights (true) or darkens the LED.
    fn set(&mut self, lit: bool) -> std::io::Result<()>;
}

/// Runs the reboot and power-off commands.
pub trait PowerPort {
    /// Starts `action` (never blocks for long).
    fn start(&mut self, action: PowerAction);
    /// The result of the command started last, once it has finished.
    fn poll(&mut self) -> Option<Result<(), String>>;
}

/// Receives what happened, for logs, systemd and the simulator's outputs.
pub trait Reporter {
    /// An event at `at`.
    fn event(&mut self, at: Time, event: &Event);
    /// The loop finished handling everything up to `at`.
    fn settled(&mut self, _at: Time) {}
}

/// Supplies new timings on SIGHUP; `Err` keeps the old ones (the message is logged).
pub type Reloader<'a> = dyn FnMut() -> Result<Timings, String> + 'a;

/// The ports the loop drives.
pub struct Ports<'a> {
    /// Button, clock and signals.
    pub inputs: &'a mut dyn Inputs,
    /// The OLED.
    pub display: &'a mut dyn DisplayPort,
    /// The LED.
    pub led: &'a mut dyn LedPort,
    /// Reboot and power off.
    pub power: &'a mut dyn PowerPort,
    /// Figures for the pages.
    pub stats: &'a mut dyn StatsSource,
    /// Logs and outputs.
    pub reporter: &'a mut dyn Reporter,
    /// Configuration reload on SIGHUP, if supported.
    pub reload: Option<&'a mut Reloader<'a>>,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Loop iterations (wake-ups), for benchmarks.
    pub wakeups: u64,
    /// A power action had been started.
    pub action_started: bool,
}

struct DisplayHealth {
    healthy: bool,
    want_on: bool,
    retry_at: Option<Time>,
    backoff: Backoff,
    last_fault: Option<DisplayFault>,
}

struct Loop<'a> {
    ports: Ports<'a>,
    panel: Panel,
    health: DisplayHealth,
    stats: Stats,
    frame: Frame,
    follow_ups: VecDeque<Input>,
    action_started: bool,
}

/// Runs the firmware until a stop; errors only when the inputs fail.
pub fn run(ports: Ports<'_>, timings: Timings) -> std::io::Result<Outcome> {
    let now = ports.inputs.now();
    let pressed = ports.inputs.button_pressed()?;
    ports.reporter.event(now, &Event::Started);
    if pressed {
        log::warn!("the button is held at start: it is ignored until released");
    }
    let (width, height) = ports.display.dimensions();
    let (panel, effects) = Panel::start(timings, now, pressed);
    let mut lp = Loop {
        ports,
        panel,
        health: DisplayHealth {
            healthy: true,
            want_on: false,
            retry_at: None,
            backoff: Backoff::default(),
            last_fault: None,
        },
        stats: Stats::default(),
        frame: Frame::new(width, height),
        follow_ups: VecDeque::new(),
        action_started: false,
    };
    if let Err(fault) = lp.ports.display.init() {
        lp.display_lost(now, fault);
    }
    lp.apply(effects, now);
    lp.ports.reporter.settled(now);
    let outcome = lp.serve();
    if let Err(err) = &outcome {
        // the loop cannot go on: nothing may stay lit that says "alive"
        log::error!("the main loop stopped: {err}");
        lp.go_dark();
    }
    outcome
}

impl Loop<'_> {
    /// Runs until a stop; errors only when the inputs fail.
    fn serve(&mut self) -> std::io::Result<Outcome> {
        let mut wakeups = 0;
        loop {
            let deadline = self.deadline();
            let wake = self.ports.inputs.wait(deadline)?;
            wakeups += 1;
            let now = self.ports.inputs.now();
            // Read after the clock: every edge up to `now` is queued by then, and
            // each is fed at its own time before `now` moves the core on, so a
            // stall of this loop never lengthens a hold or merges two taps.
            if let Some(batch) = self.ports.inputs.pending_edges()? {
                self.edges(batch, now);
            }
            let effects = match wake {
                Wake::Button { pressed, at } => {
                    self.panel.step(Input::Button { pressed }, at.min(now))
                }
                Wake::Deadline | Wake::Woken => self.panel.step(Input::Tick, now),
                Wake::Reload => {
                    self.reload();
                    Vec::new()
                }
                Wake::Stop => {
                    let effects = self.panel.step(Input::Stop, now);
                    self.apply(effects, now);
                    self.ports.reporter.settled(now);
                    return Ok(Outcome {
                        wakeups,
                        action_started: self.action_started,
                    });
                }
            };
            self.apply(effects, now);
            if let Some(result) = self.ports.power.poll() {
                // (a failure is reported once, as the core's action_failed)
                self.follow_ups.push_back(Input::ActionDone(result));
                self.drain(now);
            }
            if self.health.retry_at.is_some_and(|at| at <= now) && self.health.want_on {
                self.retry_display(now);
            }
            self.ports.reporter.settled(now);
        }
    }

    /// Switches the LED and the display off after a failure of the loop.
    fn go_dark(&mut self) {
        if let Err(err) = self.ports.led.set(false) {
            log::warn!("cannot switch the LED off: {err}");
        }
        if self.health.healthy {
            if let Err(fault) = self.ports.display.set_on(false) {
                log::debug!("cannot switch the display off: {fault}");
            }
        }
    }

    fn deadline(&self) -> Option<Time> {
        let retry = self.health.retry_at.filter(|_| self.health.want_on);
        match (self.panel.next_deadline(), retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn edges(&mut self, batch: EdgeBatch, now: Time) {
        if let (true, Some(&(first_pressed, first_at))) = (batch.lost > 0, batch.edges.first()) {
            // The kernel drops the oldest edges: the ones left are the true
            // recent history, but the press in progress lost its end.
            log::warn!(
                "{} button edges were lost while the loop was stalled: the press in progress does nothing",
                batch.lost
            );
            let effects = self.panel.step(
                Input::EdgesLost {
                    pressed: !first_pressed,
                },
                first_at,
            );
            self.apply(effects, first_at.min(now));
        }
        for (pressed, at) in batch.edges {
            let effects = self.panel.step(Input::Button { pressed }, at);
            self.apply(effects, at.min(now));
        }
        // the core's view of the level is reconciled with the line's
        let effects = self.panel.step(
            Input::Button {
                pressed: batch.level,
            },
            now,
        );
        self.apply(effects, now);
    }

    fn reload(&mut self) {
        let Some(reload) = self.ports.reload.as_mut() else {
            log::info!("SIGHUP: this mode has no configuration to reload");
            return;
        };
        match reload() {
            Ok(timings) => {
                log::info!("configuration reloaded");
                self.panel.set_timings(timings);
            }
            Err(message) => {
                log::error!("configuration not reloaded, keeping the old one: {message}")
            }
        }
    }

    fn drain(&mut self, now: Time) {
        while let Some(input) = self.follow_ups.pop_front() {
            let effects = self.panel.step(input, now);
            self.apply(effects, now);
        }
    }

    /// Carries out the core's effects. Display power-on waits until the new
    /// frame is in the panel's memory, so a stale picture is never lit.
    fn apply(&mut self, effects: Vec<Effect>, now: Time) {
        let mut draw = false;
        let mut power = None;
        for effect in effects {
            match effect {
                Effect::Event(event) => self.ports.reporter.event(now, &event),
                Effect::Led(lit) => {
                    if let Err(err) = self.ports.led.set(lit) {
                        log::warn!("cannot drive the LED: {err}");
                    }
                }
                Effect::RunPower(action) => {
                    self.action_started = true;
                    self.ports.power.start(action);
                }
                Effect::Draw => draw = true,
                Effect::DisplayPower(on) => power = Some(on),
            }
        }
        if let Some(on) = power {
            self.health.want_on = on;
        }
        if power == Some(false) {
            self.send_power(now, false);
        }
        if draw && self.health.want_on {
            self.draw(now);
        }
        if power == Some(true) {
            if self.health.healthy {
                self.send_power(now, true);
            } else if self.health.retry_at.is_none() {
                // the screen is wanted again: try the display now
                self.health.retry_at = Some(now);
            }
        }
        self.drain(now);
    }

    fn send_power(&mut self, now: Time, on: bool) {
        if !self.health.healthy {
            return;
        }
        if let Err(fault) = self.ports.display.set_on(on) {
            self.display_lost(now, fault);
        }
    }

    fn draw(&mut self, now: Time) {
        if !self.health.healthy {
            return;
        }
        let view = self.panel.view();
        if let View::Page { page, .. } = view {
            self.stats = self.ports.stats.sample(page);
            self.follow_ups
                .push_back(Input::IpKnown(self.stats.ip.is_some()));
        }
        let Ok(()) = layout::draw(&mut self.frame, &self.stats, &view);
        if let Err(fault) = self.ports.display.show(&self.frame) {
            self.display_lost(now, fault);
        }
    }

    fn display_lost(&mut self, now: Time, fault: DisplayFault) {
        if self.health.healthy {
            log::error!("display lost: {fault}");
            self.health.healthy = false;
            self.follow_ups.push_back(Input::DisplayHealth(false));
        } else if self.health.last_fault.as_ref() != Some(&fault) {
            log::debug!("display still missing: {fault}");
        }
        self.health.last_fault = Some(fault);
        self.health.retry_at = Some(now + self.health.backoff.next_delay());
    }

    fn retry_display(&mut self, now: Time) {
        self.health.retry_at = None;
        match self.ports.display.init() {
            Ok(()) => {
                log::info!("display answers again");
                self.health.healthy = true;
                self.health.backoff.reset();
                self.health.last_fault = None;
                // init forgot what was sent: this draw is a full frame
                self.draw(now);
                self.send_power(now, self.health.want_on);
                if self.health.healthy {
                    self.follow_ups.push_back(Input::DisplayHealth(true));
                }
            }
            Err(fault) => self.display_lost(now, fault),
        }
        self.drain(now);
    }
}
