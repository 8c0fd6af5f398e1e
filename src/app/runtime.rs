//! The main loop, shared by `run` and `simulate`: wait for an edge, a
//! deadline or a signal, feed the core, carry out what it returns through
//! the ports, and feed the ports' answers back as inputs. Every decision is
//! the core's; this only wires.

use std::collections::VecDeque;

use crate::app::ports::{Broker, PageSource, PanelState, PortSettings, StatsSource, Wake};
use crate::app::ports::{DisplayPort, EdgeBatch, Inputs, LedPort, PowerPort, Reloader, Reporter};
use crate::core::{Effect, Event, Input, Panel, Rules, Time, View};
use crate::frame::Frame;
use crate::layout;
use crate::stats::Stats;

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
    /// The custom pages' content.
    pub pages: &'a mut dyn PageSource,
    /// Logs and outputs.
    pub reporter: &'a mut dyn Reporter,
    /// Configuration reload on SIGHUP, if supported.
    pub reload: Option<&'a mut Reloader<'a>>,
    /// The MQTT broker, when `[mqtt] url` is set.
    pub broker: Option<&'a mut dyn Broker>,
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Loop iterations (wake-ups), for benchmarks.
    pub wakeups: u64,
}

/// One input waiting to be fed to the core: stepped at `at`, its effects
/// reported at `reported_at` (never later than the loop's clock).
struct Work {
    input: Input,
    at: Time,
    reported_at: Time,
}

struct Loop<'a> {
    ports: Ports<'a>,
    panel: Panel,
    stats: Stats,
    frame: Frame,
    queue: VecDeque<Work>,
}

/// Runs the firmware until a stop; errors only when the inputs fail.
pub fn run(ports: Ports<'_>, rules: Rules) -> std::io::Result<Outcome> {
    let now = ports.inputs.now();
    let pressed = ports.inputs.button_pressed()?;
    ports.reporter.event(now, &Event::Started);
    if pressed {
        log::warn!("the button is held at start: it is ignored until released");
    }
    let (width, height) = ports.display.dimensions();
    let (panel, effects) = Panel::start(rules, now, pressed);
    let mut lp = Loop {
        ports,
        panel,
        stats: Stats::default(),
        frame: Frame::new(width, height),
        queue: VecDeque::new(),
    };
    lp.apply(effects, now);
    lp.work_off();
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
            let wake = self.ports.inputs.wait(self.panel.next_deadline())?;
            wakeups += 1;
            let now = self.ports.inputs.now();
            // Read after the clock: every edge up to `now` is queued by then, and
            // each is fed at its own time before `now` moves the core on, so a
            // stall of this loop never lengthens a hold or merges two taps.
            if let Some(batch) = self.ports.inputs.pending_edges()? {
                self.edges(batch, now);
            }
            for input in self.ports.inputs.pending_inputs() {
                self.push(input, now, now);
            }
            match wake {
                Wake::Button { pressed, at } => {
                    self.push(Input::Button { pressed }, at.min(now), now)
                }
                Wake::Deadline | Wake::Woken => self.push(Input::Tick, now, now),
                Wake::Reload => self.reload(),
                Wake::Stop => {
                    self.push(Input::Stop, now, now);
                    self.work_off();
                    self.ports.reporter.settled(now);
                    return Ok(Outcome { wakeups });
                }
            }
            self.work_off();
            if let Some(result) = self.ports.power.poll() {
                // (a failure is reported once, as the core's action_failed)
                let result = result.map_err(|err| err.to_string());
                self.push(Input::ActionDone(result), now, now);
                self.work_off();
            }
            for (name, changed) in self.ports.pages.poll() {
                self.push(Input::PageRefreshed { name, changed }, now, now);
            }
            self.work_off();
            self.ports.reporter.settled(now);
        }
    }

    fn push(&mut self, input: Input, at: Time, reported_at: Time) {
        self.queue.push_back(Work {
            input,
            at,
            reported_at,
        });
    }

    /// Feeds every queued input to the core, in order, carrying out the
    /// effects of each before the next; the ports' answers join the queue.
    fn work_off(&mut self) {
        while let Some(work) = self.queue.pop_front() {
            let effects = self.panel.step(work.input, work.at);
            self.apply(effects, work.reported_at);
        }
    }

    /// Switches the LED and the display off after a failure of the loop.
    fn go_dark(&mut self) {
        if let Err(err) = self.ports.led.set(false) {
            log::warn!("cannot switch the LED off: {err}");
        }
        if self.panel.display_answers() {
            if let Err(fault) = self.ports.display.set_on(false) {
                log::debug!("cannot switch the display off: {fault}");
            }
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
            let pressed = !first_pressed;
            self.push(Input::EdgesLost { pressed }, first_at, first_at.min(now));
        }
        for (pressed, at) in batch.edges {
            self.push(Input::Button { pressed }, at, at.min(now));
        }
        // the core's view of the level is reconciled with the line's
        let pressed = batch.level;
        self.push(Input::Button { pressed }, now, now);
        self.work_off();
    }

    fn reload(&mut self) {
        let Some(reload) = self.ports.reload.as_mut() else {
            log::info!("SIGHUP: this mode has no configuration to reload");
            return;
        };
        match reload() {
            Ok((rules, settings)) => {
                self.ports.power.reconfigure(&settings.power);
                self.ports.pages.reconfigure(&settings.pages);
                log::info!("configuration reloaded");
                self.panel.set_rules(rules);
                // what the new rules change (an ignored unit) is reported now
                let now = self.ports.inputs.now();
                self.push(Input::Tick, now, now);
            }
            Err(message) => {
                log::error!("configuration not reloaded, keeping the old one: {message}")
            }
        }
    }

    /// This panel's state on the broker: the attention list as the page
    /// shows it, the LED, and fresh figures (the temperature from the
    /// sensor thread's last reading at worst).
    fn publish_state(&mut self) {
        let Some(broker) = self.ports.broker.as_deref_mut() else {
            return;
        };
        let items = self.panel.attention_items();
        let state = PanelState {
            attention: self.panel.needs_attention(),
            attention_text: items.iter().map(layout::attention_line).collect(),
            led: self.panel.led_pattern(),
        };
        let stats = self.ports.stats.sample(crate::core::PageKind::System);
        broker.publish_state(&state, &stats);
    }

    /// Carries out the core's effects. The display is initialised first,
    /// and switched on last, once the new frame is in the panel's memory, so
    /// a stale picture is never lit. After a display failure the rest of the
    /// display's work waits: the core decides when to try again.
    fn apply(&mut self, effects: Vec<Effect>, now: Time) {
        let mut init = false;
        let mut draw = false;
        let mut power = None;
        for effect in effects {
            match effect {
                Effect::Event(event) => {
                    self.ports.reporter.event(now, &event);
                    if let Some(broker) = self.ports.broker.as_deref_mut() {
                        broker.event(now, &event);
                    }
                }
                Effect::PublishState => self.publish_state(),
                Effect::Led(lit) => {
                    if let Err(err) = self.ports.led.set(lit) {
                        log::warn!("cannot drive the LED: {err}");
                    }
                }
                Effect::RunPower(action) => self.ports.power.start(action),
                // (before the draw below: a file that answers at once is shown)
                Effect::RefreshPage(name) => self.ports.pages.refresh(name),
                Effect::InitDisplay => init = true,
                Effect::Draw => draw = true,
                Effect::DisplayPower(on) => power = Some(on),
            }
        }
        if !(init || draw || power.is_some()) {
            return;
        }
        let mut result = Ok(());
        if init {
            result = self.ports.display.init();
            if result.is_ok() {
                if !self.panel.display_answers() {
                    log::info!("display answers again");
                }
                self.push(Input::DisplayHealth(true), now, now);
            }
        }
        if result.is_ok() && power == Some(false) {
            result = self.ports.display.set_on(false);
        }
        if result.is_ok() && draw {
            result = self.draw(now);
        }
        if result.is_ok() && power == Some(true) {
            result = self.ports.display.set_on(true);
        }
        if let Err(fault) = result {
            if self.panel.display_answers() {
                log::error!("display lost: {fault}");
            } else {
                log::debug!("display still missing: {fault}");
            }
            self.push(Input::DisplayHealth(false), now, now);
        }
    }

    fn draw(&mut self, now: Time) -> Result<(), crate::app::ports::DisplayFault> {
        let view = self.panel.view();
        if let View::Page { page, .. } = view {
            self.stats = self.ports.stats.sample(page);
            if let Some(name) = page.custom() {
                self.stats.page_text = self.ports.pages.text(name);
            }
            let known = self.stats.ip.is_some();
            self.push(Input::IpKnown(known), now, now);
        }
        let Ok(()) = layout::draw(&mut self.frame, &self.stats, &view);
        self.ports.display.show(&self.frame)
    }
}

/// The configuration at `path` (None: the default one) read again for a
/// reload: the core's rules from it and each port's part; `Err` says why it
/// was refused. `loaded` sees the new file first (to warn about what waits
/// for a restart).
pub(crate) fn reread_config(
    path: Option<&std::path::Path>,
    loaded: impl FnOnce(&crate::config::Config),
) -> Result<(Rules, PortSettings), String> {
    let new = crate::config::Config::load(path).map_err(|e| e.to_string())?;
    loaded(&new);
    rules_and_settings(&new)
}

/// The core's rules and the ports' settings of a configuration just read.
pub(crate) fn rules_and_settings(
    config: &crate::config::Config,
) -> Result<(Rules, PortSettings), String> {
    let rules = Rules::try_from(config).map_err(|e| e.to_string())?;
    Ok((rules, PortSettings::from_config(config)))
}
