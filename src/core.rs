//! The firmware core: button debounce and hold stages, screen state and LED
//! pattern, as a state machine that performs no I/O, reads no clock and cannot
//! fail. `step` takes an input and the time, returns what to do;
//! `next_deadline` says when to call it again if nothing happens.

use std::time::Duration;

use crate::config::{PageKind, Timings};
use crate::led::LedPattern;

/// A monotonic time, measured from an arbitrary origin.
pub type Time = Duration;

/// How long a failed action's reason stays on the screen.
pub const FAILED_SCREEN: Duration = Duration::from_secs(10);
/// The screen is redrawn this often while it is on.
pub const REFRESH: Duration = Duration::from_secs(1);
/// With no screen timeout, the content moves by a pixel this often (burn-in).
pub const SHIFT_EVERY: Duration = Duration::from_secs(180);

/// Which power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Restart the machine.
    Reboot,
    /// Power the machine off.
    Shutdown,
}

impl PowerAction {
    /// The name used in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            PowerAction::Reboot => "reboot",
            PowerAction::Shutdown => "shutdown",
        }
    }
}

/// How far a held press has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HoldStage {
    /// Released now: a short press.
    Short,
    /// Released now: reboot.
    Reboot,
    /// Released now: shut down.
    Shutdown,
    /// Held too long: release does nothing.
    Cancelled,
}

/// Something that happens to the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The button's raw level changed (or was read again).
    Button {
        /// True while the button is held down.
        pressed: bool,
    },
    /// Nothing happened; a deadline passed.
    Tick,
    /// The power command finished.
    ActionDone(Result<(), String>),
    /// The kernel dropped button edges (its queue overflowed while the loop
    /// was stalled); the button is at `pressed` now. The press in progress,
    /// if any, can no longer be timed: it is dropped without acting.
    EdgesLost {
        /// The line's real level, read after the loss.
        pressed: bool,
    },
    /// The display answered again (true) or stopped answering (false).
    DisplayHealth(bool),
    /// Whether the machine has an IP address (for `show_until_ip`).
    IpKnown(bool),
    /// SIGTERM / SIGINT / `quit`.
    Stop,
}

/// Something observable that happened, for logs and the simulator's events.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The firmware started (reported by the runtime).
    Started,
    /// A debounced press.
    Press,
    /// A debounced release.
    Release,
    /// The display was switched on.
    ScreenOn,
    /// The display was switched off.
    ScreenOff,
    /// Another page is shown.
    Page(PageKind),
    /// Held to the reboot stage.
    RebootArmed,
    /// Held to the shutdown stage.
    ShutdownArmed,
    /// Held to the cancel stage.
    Cancelled,
    /// The reboot command is started.
    Reboot,
    /// The power-off command is started.
    Shutdown,
    /// A power command failed.
    ActionFailed {
        /// Which one.
        action: PowerAction,
        /// Why.
        reason: String,
    },
    /// The display stopped answering.
    DisplayLost,
    /// The display answers again.
    DisplayRestored,
    /// The LED pattern changed.
    Led(LedPattern),
    /// The firmware stopped.
    Stopped,
}

impl Event {
    /// The event's name in the simulator's JSON Lines.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::Press => "press",
            Event::Release => "release",
            Event::ScreenOn => "screen_on",
            Event::ScreenOff => "screen_off",
            Event::Page(_) => "page",
            Event::RebootArmed => "reboot_armed",
            Event::ShutdownArmed => "shutdown_armed",
            Event::Cancelled => "cancelled",
            Event::Reboot => "reboot",
            Event::Shutdown => "shutdown",
            Event::ActionFailed { .. } => "action_failed",
            Event::DisplayLost => "display_lost",
            Event::DisplayRestored => "display_restored",
            Event::Led(_) => "led",
            Event::Stopped => "stopped",
        }
    }
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Report this.
    Event(Event),
    /// Switch the display on (true) or off (false).
    DisplayPower(bool),
    /// Draw `view()` now (only the parts that changed need to be sent).
    Draw,
    /// Drive the LED lit (true) or dark (false).
    Led(bool),
    /// Start this power command.
    RunPower(PowerAction),
}

/// What the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// The display is off.
    Off,
    /// A page of information; `shift` moves it against burn-in.
    Page {
        /// Which page.
        page: PageKind,
        /// Pixel offset (x, y), each 0 or 1.
        shift: (i32, i32),
    },
    /// The button is held into a stage.
    Stage {
        /// Which stage.
        stage: HoldStage,
        /// Whole seconds until the next stage (0 when cancelled).
        seconds_left: u64,
    },
    /// An action was started.
    Action(PowerAction),
    /// An action failed.
    Failed {
        /// Which one.
        action: PowerAction,
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Mode {
    /// Pages and presses.
    Normal,
    /// A power command was started and has not finished yet.
    Acting(PowerAction),
    /// The command succeeded: the machine should be going down. If it is
    /// still up at `until`, the action did not happen.
    Settling { action: PowerAction, until: Time },
    /// A power command failed; the reason is shown until `until`.
    Failed {
        action: PowerAction,
        reason: String,
        until: Time,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Hold {
    since: Time,
    stage: HoldStage,
    /// This press switched the screen on (or dismissed a failure): its
    /// release does not change the page.
    woke_screen: bool,
}

/// The firmware's state.
#[derive(Debug, Clone)]
pub struct Panel {
    timings: Timings,
    start: Time,
    now: Time,
    raw_pressed: bool,
    raw_since: Time,
    pressed: bool,
    ignore_until_released: bool,
    hold: Option<Hold>,
    mode: Mode,
    screen_on: bool,
    page_index: usize,
    last_activity: Time,
    next_refresh: Option<Time>,
    display_ok: bool,
    action_failed: bool,
    ip_known: bool,
    led_pattern: LedPattern,
    led_since: Time,
    led_level: bool,
    stopped: bool,
}

impl Panel {
    /// A panel started at `now` with the button at `pressed`. Returns the
    /// panel and the effects of starting (screen on, first page, LED on).
    pub fn start(timings: Timings, now: Time, pressed: bool) -> (Panel, Vec<Effect>) {
        let mut panel = Panel {
            timings,
            start: now,
            now,
            raw_pressed: pressed,
            raw_since: now,
            pressed,
            ignore_until_released: pressed,
            hold: None,
            mode: Mode::Normal,
            screen_on: false,
            page_index: 0,
            last_activity: now,
            next_refresh: None,
            display_ok: true,
            action_failed: false,
            ip_known: false,
            led_pattern: LedPattern::Off,
            led_since: now,
            led_level: false,
            stopped: false,
        };
        let mut effects = Vec::new();
        panel.screen_on(now, &mut effects);
        effects.push(Effect::Event(Event::Page(panel.page())));
        panel.update_led(now, &mut effects);
        (panel, effects)
    }

    /// Feeds one input at time `now` and returns what to do, in order.
    pub fn step(&mut self, input: Input, now: Time) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.stopped {
            return effects;
        }
        let now = now.max(self.now);
        self.advance(now, &mut effects);
        self.now = now;
        match input {
            Input::Tick => {}
            Input::Button { pressed } => {
                if pressed != self.raw_pressed {
                    self.raw_pressed = pressed;
                    self.raw_since = now;
                }
            }
            Input::ActionDone(result) => self.action_done(result, now, &mut effects),
            Input::EdgesLost { pressed } => self.edges_lost(pressed, now, &mut effects),
            Input::DisplayHealth(ok) => {
                if ok != self.display_ok {
                    self.display_ok = ok;
                    // (the runtime redraws a display that answers again)
                    effects.push(Effect::Event(if ok {
                        Event::DisplayRestored
                    } else {
                        Event::DisplayLost
                    }));
                }
            }
            Input::IpKnown(known) => {
                if known && !self.ip_known && self.timings.show_until_ip {
                    // the address was waited for: show it for a whole timeout
                    self.last_activity = now;
                }
                self.ip_known = known;
            }
            Input::Stop => {
                self.stopped = true;
                if !self.action_under_way() {
                    if self.screen_on {
                        self.screen_on = false;
                        effects.push(Effect::DisplayPower(false));
                    }
                    if self.led_pattern != LedPattern::Off {
                        self.led_pattern = LedPattern::Off;
                        effects.push(Effect::Event(Event::Led(LedPattern::Off)));
                    }
                    if self.led_level {
                        effects.push(Effect::Led(false));
                    }
                    self.led_level = false;
                }
                effects.push(Effect::Event(Event::Stopped));
                return effects;
            }
        }
        self.update_led(now, &mut effects);
        effects
    }

    /// Replaces the timings (configuration reload); the current press, page
    /// and screen carry on.
    pub fn set_timings(&mut self, timings: Timings) {
        if timings.pages.is_empty() {
            return;
        }
        self.page_index %= timings.pages.len();
        self.timings = timings;
    }

    /// When `step(Input::Tick, …)` must be called next, if nothing else happens.
    pub fn next_deadline(&self) -> Option<Time> {
        if self.stopped {
            return None;
        }
        [
            self.debounce_deadline(),
            self.stage_deadline(),
            self.timeout_deadline(),
            self.next_refresh,
            self.failed_deadline(),
            self.settle_deadline(),
            self.led_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
        // A stage frozen while a release was being debounced is overdue
        // once that release turns out to be a glitch: it is due now.
        .map(|deadline| deadline.max(self.now))
    }

    /// What the screen shows now.
    pub fn view(&self) -> View {
        if !self.screen_on {
            return View::Off;
        }
        match &self.mode {
            Mode::Acting(action) | Mode::Settling { action, .. } => return View::Action(*action),
            Mode::Failed { action, reason, .. } => {
                return View::Failed {
                    action: *action,
                    reason: reason.clone(),
                }
            }
            Mode::Normal => {}
        }
        if let Some(hold) = &self.hold {
            if hold.stage != HoldStage::Short {
                let held = self.hold_clock() - hold.since;
                let seconds_left = self
                    .stage_end(hold.stage)
                    .map(|next| next.saturating_sub(held).as_millis().div_ceil(1000) as u64)
                    .unwrap_or(0);
                return View::Stage {
                    stage: hold.stage,
                    seconds_left,
                };
            }
        }
        View::Page {
            page: self.page(),
            shift: self.shift(),
        }
    }

    /// The LED pattern now.
    pub fn led_pattern(&self) -> LedPattern {
        self.led_pattern
    }

    /// Whether the display is meant to be on.
    pub fn screen_is_on(&self) -> bool {
        self.screen_on
    }

    /// The page a short press last chose.
    pub fn page(&self) -> PageKind {
        self.timings.pages[self.page_index]
    }

    fn shift(&self) -> (i32, i32) {
        if self.timings.screen_timeout.is_some() {
            return (0, 0);
        }
        let step = (self.now - self.start).as_secs() / SHIFT_EVERY.as_secs();
        [(0, 0), (1, 0), (1, 1), (0, 1)][(step % 4) as usize]
    }

    /// The time the hold is measured at: frozen at the raw release while
    /// that release is still being debounced, so a release 1 ms before a
    /// threshold never shows the next stage.
    fn hold_clock(&self) -> Time {
        if self.pressed && !self.raw_pressed {
            self.raw_since
        } else {
            self.now
        }
    }

    fn debounce_deadline(&self) -> Option<Time> {
        (self.raw_pressed != self.pressed).then(|| self.raw_since + self.timings.debounce)
    }

    /// The hold time at which `stage` ends and the next one begins.
    fn stage_end(&self, stage: HoldStage) -> Option<Duration> {
        match stage {
            HoldStage::Short => Some(self.timings.reboot_after),
            HoldStage::Reboot => Some(self.timings.shutdown_after),
            HoldStage::Shutdown => Some(self.timings.cancel_after),
            HoldStage::Cancelled => None,
        }
    }

    fn stage_deadline(&self) -> Option<Time> {
        let hold = self.hold.as_ref()?;
        if !self.raw_pressed || self.mode != Mode::Normal {
            return None;
        }
        Some(hold.since + self.stage_end(hold.stage)?)
    }

    fn timeout_deadline(&self) -> Option<Time> {
        let timeout = self.timings.screen_timeout?;
        if !self.screen_on
            || self.hold.is_some()
            || self.mode != Mode::Normal
            || (self.timings.show_until_ip && !self.ip_known)
        {
            return None;
        }
        Some(self.last_activity + timeout)
    }

    fn failed_deadline(&self) -> Option<Time> {
        match &self.mode {
            Mode::Failed { until, .. } => Some(*until),
            _ => None,
        }
    }

    fn settle_deadline(&self) -> Option<Time> {
        match &self.mode {
            Mode::Settling { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// A power command is running, or succeeded and the machine is going down.
    fn action_under_way(&self) -> bool {
        matches!(self.mode, Mode::Acting(_) | Mode::Settling { .. })
    }

    fn led_deadline(&self) -> Option<Time> {
        let since = self.led_pattern.next_change(self.now - self.led_since)?;
        Some(self.led_since + since)
    }

    fn stage_for(&self, held: Duration) -> HoldStage {
        if held >= self.timings.cancel_after {
            HoldStage::Cancelled
        } else if held >= self.timings.shutdown_after {
            HoldStage::Shutdown
        } else if held >= self.timings.reboot_after {
            HoldStage::Reboot
        } else {
            HoldStage::Short
        }
    }

    /// Runs every deadline up to `now`, each at its own time, in order.
    fn advance(&mut self, now: Time, effects: &mut Vec<Effect>) {
        while let Some(due) = self.next_deadline().filter(|&due| due <= now) {
            self.now = due.max(self.now);
            let at = self.now;
            if self.debounce_deadline().is_some_and(|d| d <= at) {
                self.commit_level(at, effects);
            }
            if self.stage_deadline().is_some_and(|d| d <= at) {
                self.enter_next_stage(at, effects);
            }
            if self.settle_deadline().is_some_and(|d| d <= at) {
                self.still_up(at, effects);
            }
            if self.failed_deadline().is_some_and(|d| d <= at) {
                self.mode = Mode::Normal;
                self.last_activity = at;
                effects.push(Effect::Draw);
            }
            if self.timeout_deadline().is_some_and(|d| d <= at) {
                self.screen_on = false;
                self.next_refresh = None;
                effects.push(Effect::DisplayPower(false));
                effects.push(Effect::Event(Event::ScreenOff));
            }
            if self.next_refresh.is_some_and(|d| d <= at) {
                self.next_refresh = Some(at + REFRESH);
                effects.push(Effect::Draw);
            }
            self.update_led(at, effects);
        }
    }

    /// The raw level has been stable for the debounce period: it counts,
    /// dated from the edge that began it.
    fn commit_level(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let edge = self.raw_since;
        self.pressed = self.raw_pressed;
        if self.ignore_until_released {
            if !self.pressed {
                self.ignore_until_released = false;
            }
            return;
        }
        if self.pressed {
            self.on_press(edge, at, effects);
        } else {
            self.on_release(edge, at, effects);
        }
    }

    fn on_press(&mut self, edge: Time, at: Time, effects: &mut Vec<Effect>) {
        effects.push(Effect::Event(Event::Press));
        let mut woke_screen = false;
        match self.mode {
            Mode::Acting(_) | Mode::Settling { .. } => return,
            Mode::Failed { .. } => {
                // A press dismisses the failure and acknowledges it.
                self.mode = Mode::Normal;
                self.action_failed = false;
                self.last_activity = at;
                effects.push(Effect::Draw);
                woke_screen = true;
            }
            // any press acknowledges a failed action
            Mode::Normal => self.action_failed = false,
        }
        if !self.screen_on {
            self.screen_on(at, effects);
            woke_screen = true;
        }
        self.hold = Some(Hold {
            since: edge,
            stage: HoldStage::Short,
            woke_screen,
        });
    }

    fn on_release(&mut self, edge: Time, at: Time, effects: &mut Vec<Effect>) {
        effects.push(Effect::Event(Event::Release));
        let Some(hold) = self.hold.take() else {
            return;
        };
        if self.mode != Mode::Normal {
            return;
        }
        self.last_activity = at;
        match self.stage_for(edge - hold.since) {
            HoldStage::Short => {
                if !hold.woke_screen {
                    self.page_index = (self.page_index + 1) % self.timings.pages.len();
                    effects.push(Effect::Event(Event::Page(self.page())));
                    effects.push(Effect::Draw);
                }
            }
            HoldStage::Cancelled => effects.push(Effect::Draw),
            HoldStage::Reboot => self.begin_action(PowerAction::Reboot, effects),
            HoldStage::Shutdown => self.begin_action(PowerAction::Shutdown, effects),
        }
    }

    fn begin_action(&mut self, action: PowerAction, effects: &mut Vec<Effect>) {
        self.mode = Mode::Acting(action);
        effects.push(Effect::Event(match action {
            PowerAction::Reboot => Event::Reboot,
            PowerAction::Shutdown => Event::Shutdown,
        }));
        effects.push(Effect::Draw);
        effects.push(Effect::RunPower(action));
    }

    fn action_done(&mut self, result: Result<(), String>, now: Time, effects: &mut Vec<Effect>) {
        let Mode::Acting(action) = self.mode else {
            return;
        };
        match result {
            Ok(()) if self.timings.settle.is_zero() => {
                // nothing was meant to go down (a dry run): back to normal
                self.action_failed = false;
                self.mode = Mode::Normal;
                self.last_activity = now;
                self.show(now, effects);
            }
            Ok(()) => {
                self.action_failed = false;
                self.mode = Mode::Settling {
                    action,
                    until: now.saturating_add(self.timings.settle),
                };
            }
            Err(reason) => self.fail(action, reason, now, effects),
        }
    }

    /// The command succeeded `settle` ago and the machine is still up.
    fn still_up(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let Mode::Settling { action, .. } = self.mode else {
            return;
        };
        let reason = format!("machine still up after {} s", self.timings.settle.as_secs());
        self.fail(action, reason, at, effects);
    }

    fn fail(&mut self, action: PowerAction, reason: String, now: Time, effects: &mut Vec<Effect>) {
        self.action_failed = true;
        self.mode = Mode::Failed {
            action,
            reason: reason.clone(),
            until: now.saturating_add(FAILED_SCREEN),
        };
        effects.push(Effect::Event(Event::ActionFailed { action, reason }));
        self.show(now, effects);
    }

    /// The screen shows the current view: switched on, or redrawn.
    fn show(&mut self, now: Time, effects: &mut Vec<Effect>) {
        if self.screen_on {
            effects.push(Effect::Draw);
        } else {
            self.screen_on(now, effects);
        }
    }

    /// Edges were lost: the level is known again, the hold is not.
    fn edges_lost(&mut self, pressed: bool, now: Time, effects: &mut Vec<Effect>) {
        self.raw_pressed = pressed;
        self.raw_since = now;
        self.pressed = pressed;
        self.ignore_until_released = pressed;
        if let Some(hold) = self.hold.take() {
            if hold.stage != HoldStage::Short && self.mode == Mode::Normal {
                effects.push(Effect::Event(Event::Cancelled));
            }
            effects.push(Effect::Event(Event::Release));
            if self.mode == Mode::Normal {
                self.last_activity = now;
                if self.screen_on {
                    effects.push(Effect::Draw);
                }
            }
        }
    }

    fn enter_next_stage(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let Some(hold) = self.hold.as_mut() else {
            return;
        };
        let (stage, event) = match hold.stage {
            HoldStage::Short => (HoldStage::Reboot, Event::RebootArmed),
            HoldStage::Reboot => (HoldStage::Shutdown, Event::ShutdownArmed),
            HoldStage::Shutdown => (HoldStage::Cancelled, Event::Cancelled),
            HoldStage::Cancelled => return,
        };
        hold.stage = stage;
        effects.push(Effect::Event(event));
        if !self.screen_on {
            self.screen_on(at, effects);
        } else {
            effects.push(Effect::Draw);
            // keep the countdown ticking on whole seconds of the hold
            self.next_refresh = Some(at + REFRESH);
        }
    }

    fn screen_on(&mut self, at: Time, effects: &mut Vec<Effect>) {
        self.screen_on = true;
        self.last_activity = at;
        self.next_refresh = Some(at + REFRESH);
        effects.push(Effect::DisplayPower(true));
        effects.push(Effect::Event(Event::ScreenOn));
        effects.push(Effect::Draw);
    }

    fn wanted_led(&self) -> LedPattern {
        if self.action_under_way() {
            return LedPattern::On;
        }
        if let Some(hold) = &self.hold {
            return match hold.stage {
                HoldStage::Short => LedPattern::Off,
                HoldStage::Reboot => LedPattern::Blink1Hz,
                HoldStage::Shutdown => LedPattern::Blink4Hz,
                HoldStage::Cancelled => LedPattern::On,
            };
        }
        if !self.display_ok || self.action_failed {
            LedPattern::DoubleBlink
        } else {
            LedPattern::On
        }
    }

    fn update_led(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let wanted = self.wanted_led();
        if wanted != self.led_pattern {
            self.led_pattern = wanted;
            self.led_since = at;
            effects.push(Effect::Event(Event::Led(wanted)));
        }
        let level = self.led_pattern.level_at(at - self.led_since);
        if level != self.led_level {
            self.led_level = level;
            effects.push(Effect::Led(level));
        }
    }
}
