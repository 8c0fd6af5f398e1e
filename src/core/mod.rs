//! The firmware core: the panel as a composition of small machines —
//! [`debounce`], [`hold`] stages, the [`screen`] and its timeout, the
//! [`led`], power [`action`]s, [`display`] health, [`attention`] (failed
//! units, messages, identify) and when custom [`pages`] are refreshed. It
//! performs no I/O, reads no clock and cannot fail: `step` takes an input
//! and the time and returns what to do; `next_deadline` says when to call
//! it again if nothing happens. Nothing here knows the configuration file, the hardware or the
//! simulator.

mod action;
mod attention;
mod debounce;
mod display;
mod hold;
mod led;
mod pages;
mod rules;
mod screen;

use action::Mode;
use attention::Attention;
use debounce::Debounce;
use display::DisplayHealth;
use hold::Hold;
use led::Led;
use pages::PageRefresh;
use screen::Screen;

pub use attention::{
    check_text, AttentionItem, AttentionSource, Level, IDENTIFY_DEFAULT, MAX_IDENTIFY,
    MAX_MESSAGES, MAX_TEXT,
};
pub use hold::HoldStage;
pub use led::LedPattern;
pub use rules::{
    CustomPage, PageKind, PageName, PowerAction, Rules, FAILED_SCREEN, MAX_PAGE_NAME, REFRESH,
    SHIFT_EVERY,
};

use std::time::Duration;

/// A monotonic time, measured from an arbitrary origin.
pub type Time = Duration;

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
    /// The power command finished (`Err` says why it failed).
    ActionDone(Result<(), String>),
    /// The kernel dropped button edges (its queue overflowed while the loop
    /// was stalled); the button is at `pressed` now. The press in progress,
    /// if any, can no longer be timed: it is dropped without acting.
    EdgesLost {
        /// The line's real level, read after the loss.
        pressed: bool,
    },
    /// The display answered an initialisation (true) or a display operation
    /// failed (false).
    DisplayHealth(bool),
    /// Whether the machine has an IP address (for `show_until_ip`).
    IpKnown(bool),
    /// A systemd unit entered the failed state.
    UnitFailed(String),
    /// A systemd unit left the failed state (recovered, reset, unloaded).
    UnitRecovered(String),
    /// Every unit failed now (systemd's listing at start or after the bus
    /// came back): units not in it have recovered.
    FailedUnits(Vec<String>),
    /// A message from `rackpi-panel notify`.
    Notify {
        /// How urgent.
        level: Level,
        /// The text (cut to [`MAX_TEXT`] bytes).
        text: String,
        /// The message expires this long after it arrives (`--for`).
        lasts: Option<Duration>,
    },
    /// `rackpi-panel identify`: LED at 5 Hz and `IDENTIFY` on the screen
    /// for this long; zero ends it.
    Identify {
        /// How long.
        lasts: Duration,
    },
    /// A custom page's refresh (asked for with [`Effect::RefreshPage`])
    /// has ended: its command finished or its file was read.
    PageRefreshed {
        /// The page.
        name: PageName,
        /// Whether what the page shows is different now.
        changed: bool,
    },
    /// SIGTERM / SIGINT / `quit`.
    Stop,
}

/// Something observable that happened, for logs and the simulator's events
/// (serialised as `{"event": name, …details}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
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
    #[serde(serialize_with = "as_field::name")]
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
        /// The command's own account of the failure.
        reason: String,
    },
    /// The display stopped answering.
    DisplayLost,
    /// The display answers again.
    DisplayRestored,
    /// The LED pattern changed.
    #[serde(serialize_with = "as_field::pattern")]
    Led(LedPattern),
    /// Something needs a look: a unit failed, or a message arrived.
    Attention {
        /// Where it came from.
        source: AttentionSource,
        /// Its level (`error` for a failed unit).
        level: Level,
        /// The unit's name or the message.
        text: String,
    },
    /// Nothing is listed for attention any more.
    AttentionCleared,
    /// A press acknowledged a message on the screen.
    Acknowledged {
        /// The message.
        text: String,
    },
    /// Identify started (or was extended).
    Identify {
        /// For how long.
        seconds: u64,
    },
    /// Identify ended.
    IdentifyEnd,
    /// The firmware stopped.
    Stopped,
}

/// The details of the one-value events, as named fields.
mod as_field {
    use serde::ser::{SerializeStruct, Serializer};

    pub(super) fn name<S: Serializer>(page: &super::PageKind, s: S) -> Result<S::Ok, S::Error> {
        let mut fields = s.serialize_struct("Page", 1)?;
        fields.serialize_field("name", page)?;
        fields.end()
    }

    pub(super) fn pattern<S: Serializer>(
        pattern: &super::LedPattern,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut fields = s.serialize_struct("Led", 1)?;
        fields.serialize_field("pattern", pattern)?;
        fields.end()
    }
}

impl Event {
    /// The event's name, as in the simulator's JSON Lines.
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
            Event::Attention { .. } => "attention",
            Event::AttentionCleared => "attention_cleared",
            Event::Acknowledged { .. } => "acknowledged",
            Event::Identify { .. } => "identify",
            Event::IdentifyEnd => "identify_end",
            Event::Stopped => "stopped",
        }
    }
}

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Report this.
    Event(Event),
    /// (Re)initialise the display, and answer with `Input::DisplayHealth`.
    InitDisplay,
    /// Switch the display on (true) or off (false).
    DisplayPower(bool),
    /// Draw `view()` now (only the parts that changed need to be sent).
    Draw,
    /// Drive the LED lit (true) or dark (false).
    Led(bool),
    /// Start this power command, and answer with `Input::ActionDone`.
    RunPower(PowerAction),
    /// Bring this custom page up to date — start its command, or read its
    /// file — without waiting, and answer with `Input::PageRefreshed`.
    RefreshPage(PageName),
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
        /// The command's own account of the failure.
        reason: String,
    },
    /// What needs a look, from line `first` on.
    Attention {
        /// Every line of the page.
        items: Vec<AttentionItem>,
        /// The first line on the screen.
        first: usize,
    },
    /// `IDENTIFY` and the hostname.
    Identify,
}

/// The firmware's state.
#[derive(Debug, Clone)]
pub struct Panel {
    rules: Rules,
    now: Time,
    button: Debounce,
    /// The button was down before anything could be timed (held at start,
    /// or edges were lost): nothing happens until it is released.
    ignore_until_released: bool,
    hold: Option<Hold>,
    mode: Mode,
    /// A failed action not yet acknowledged by a press.
    action_failed: bool,
    screen: Screen,
    display: DisplayHealth,
    led: Led,
    attention: Attention,
    stopped: bool,
    /// Rules reloaded during a hold: they apply once it ends, so a release
    /// always does what the screen said when it was let go.
    pending_rules: Option<Rules>,
    /// When each custom page was last brought up to date.
    pages: PageRefresh,
}

impl Panel {
    /// A panel started at `now` with the button at `pressed`. Returns the
    /// panel and the effects of starting (display initialised and on, first
    /// page, LED on).
    pub fn start(rules: Rules, now: Time, pressed: bool) -> (Panel, Vec<Effect>) {
        let mut panel = Panel {
            rules,
            now,
            button: Debounce::new(pressed, now),
            ignore_until_released: pressed,
            hold: None,
            mode: Mode::Normal,
            action_failed: false,
            screen: Screen::new(now),
            display: DisplayHealth::new(),
            led: Led::new(now),
            attention: Attention::default(),
            stopped: false,
            pending_rules: None,
            pages: PageRefresh::default(),
        };
        let mut effects = vec![Effect::InitDisplay];
        panel.screen.switch_on(now, &mut effects);
        effects.push(Effect::Event(Event::Page(panel.page())));
        panel.refresh_pages(now, &mut effects);
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
            Input::Button { pressed } => self.button.raw(pressed, now),
            Input::ActionDone(result) => self.action_done(result, now, &mut effects),
            Input::EdgesLost { pressed } => self.edges_lost(pressed, now, &mut effects),
            Input::DisplayHealth(true) => self.display.answered(self.screen.is_on(), &mut effects),
            Input::DisplayHealth(false) => self.display.failed(now, &mut effects),
            Input::IpKnown(known) => self.screen.ip_known(known, now, &self.rules),
            Input::UnitFailed(name) => {
                let added =
                    self.attention
                        .unit_failed(&name, &self.rules.ignore_units, &mut effects);
                self.attention_changed(added, now, &mut effects);
            }
            Input::UnitRecovered(name) => {
                if self.attention.unit_recovered(&name) {
                    self.attention_changed(false, now, &mut effects);
                }
            }
            Input::FailedUnits(names) => {
                let added =
                    self.attention
                        .units_failed(&names, &self.rules.ignore_units, &mut effects);
                self.attention_changed(added, now, &mut effects);
            }
            Input::Notify { level, text, lasts } => {
                let added = self
                    .attention
                    .notify(level, &text, lasts, now, &mut effects);
                self.attention_changed(added, now, &mut effects);
            }
            Input::Identify { lasts } => self.identify(lasts, now, &mut effects),
            Input::PageRefreshed { name, changed } => {
                self.pages.done(name);
                if changed && self.shown_custom_page() == Some(name) {
                    effects.push(Effect::Draw);
                }
            }
            Input::Stop => {
                self.stopped = true;
                if !self.mode.under_way() {
                    self.screen.stop(&mut effects);
                    self.led.switch_off(&mut effects);
                }
                effects.push(Effect::Event(Event::Stopped));
                self.display.filter(&mut effects, self.screen.is_on(), now);
                return effects;
            }
        }
        self.refresh_pages(now, &mut effects);
        self.update_led(now, &mut effects);
        self.display.filter(&mut effects, self.screen.is_on(), now);
        effects
    }

    /// Replaces the rules (configuration reload); the current press, page
    /// and screen carry on. Rules without pages are ignored.
    pub fn set_rules(&mut self, rules: Rules) {
        if rules.pages.is_empty() {
            return;
        }
        if self.hold.is_some() {
            self.pending_rules = Some(rules);
            return;
        }
        self.screen.keep_page_within(rules.pages.len());
        // (an `attention_cleared` this causes is reported at the next step)
        self.attention.ignore(&rules.ignore_units);
        self.attention.keep_window(rules.attention_rows);
        self.pages.keep(&rules.custom_pages);
        self.rules = rules;
    }

    /// Rules reloaded during the hold that just ended take effect.
    fn hold_ended(&mut self) {
        if let Some(rules) = self.pending_rules.take() {
            self.set_rules(rules);
        }
    }

    /// When `step(Input::Tick, …)` must be called next, if nothing else happens.
    pub fn next_deadline(&self) -> Option<Time> {
        if self.stopped {
            return None;
        }
        [
            self.button.deadline(self.rules.debounce),
            self.stage_deadline(),
            self.timeout_deadline(),
            self.screen.refresh_deadline(),
            self.mode.failed_deadline(),
            self.mode.settle_deadline(),
            self.display.deadline(self.screen.is_on()),
            self.led.deadline(self.now),
            self.attention.deadline(),
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
        if !self.screen.is_on() {
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
                return View::Stage {
                    stage: hold.stage,
                    seconds_left: hold.seconds_left(self.button.hold_clock(self.now), &self.rules),
                };
            }
        }
        if self.attention.identifying() {
            return View::Identify;
        }
        if let Some(first) = self.attention.shown_from() {
            return View::Attention {
                items: self.attention.items(),
                first,
            };
        }
        View::Page {
            page: self.page(),
            shift: self.screen.shift(&self.rules, self.now),
        }
    }

    /// The LED pattern now.
    pub fn led_pattern(&self) -> LedPattern {
        self.led.pattern()
    }

    /// Whether the display is meant to be on.
    pub fn screen_is_on(&self) -> bool {
        self.screen.is_on()
    }

    /// Whether the display answers (as far as the panel was told).
    pub fn display_answers(&self) -> bool {
        self.display.answers()
    }

    /// The page a short press last chose.
    pub fn page(&self) -> PageKind {
        if self.attention.shown_from().is_some() {
            return PageKind::Attention;
        }
        self.screen.page(&self.rules)
    }

    /// Whether anything is listed for attention (failed units, messages).
    pub fn attention_listed(&self) -> bool {
        !self.attention.is_empty()
    }

    /// The custom page on the lit screen, if one is.
    fn shown_custom_page(&self) -> Option<PageName> {
        match self.view() {
            View::Page { page, .. } => page.custom(),
            _ => None,
        }
    }

    /// Custom pages are brought up to date while the screen is on and
    /// they are shown or a short press away — never while it is dark.
    fn refresh_pages(&mut self, now: Time, effects: &mut Vec<Effect>) {
        if !self.screen.is_on() || self.mode != Mode::Normal || self.rules.custom_pages.is_empty() {
            return;
        }
        let shown = self.shown_custom_page();
        let next = self.screen.next_page(&self.rules).custom();
        self.pages.due(
            [shown, next].into_iter().flatten(),
            &self.rules.custom_pages,
            now,
            effects,
        );
    }

    fn stage_deadline(&self) -> Option<Time> {
        let hold = self.hold.as_ref()?;
        if !self.button.raw_pressed() || self.mode != Mode::Normal {
            return None;
        }
        hold.deadline(&self.rules)
    }

    fn timeout_deadline(&self) -> Option<Time> {
        let idle =
            self.hold.is_none() && self.mode == Mode::Normal && !self.attention.identifying();
        self.screen.timeout_deadline(&self.rules, idle)
    }

    /// Runs every deadline up to `now`, each at its own time, in order.
    fn advance(&mut self, now: Time, effects: &mut Vec<Effect>) {
        while let Some(due) = self.next_deadline().filter(|&due| due <= now) {
            self.now = due.max(self.now);
            let at = self.now;
            let is_due = |deadline: Option<Time>| deadline.is_some_and(|d| d <= at);
            if is_due(self.button.deadline(self.rules.debounce)) {
                self.commit_level(at, effects);
            }
            if is_due(self.stage_deadline()) {
                self.enter_next_stage(at, effects);
            }
            if is_due(self.mode.settle_deadline()) {
                self.still_up(at, effects);
            }
            if is_due(self.mode.failed_deadline()) {
                self.mode = Mode::Normal;
                self.screen.touch(at);
                effects.push(Effect::Draw);
            }
            if is_due(self.attention.deadline()) {
                let identified = self.attention.identifying();
                let changed = self.attention.expire(at, effects);
                if identified && !self.attention.identifying() {
                    self.screen.touch(at);
                    effects.push(Effect::Draw);
                }
                if changed {
                    self.attention_changed(false, at, effects);
                }
            }
            if is_due(self.timeout_deadline()) {
                self.screen.switch_off(effects);
                self.attention.screen_off();
                self.attention.report_cleared(effects);
            }
            if is_due(self.screen.refresh_deadline()) {
                self.screen.refresh(at, effects);
            }
            if is_due(self.display.deadline(self.screen.is_on())) {
                self.display.retry(effects);
            }
            self.update_led(at, effects);
        }
    }

    /// The raw level has been stable for the debounce period: it counts,
    /// dated from the edge that began it.
    fn commit_level(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let Some((pressed, edge)) = self.button.commit() else {
            return;
        };
        if self.ignore_until_released {
            if !pressed {
                self.ignore_until_released = false;
            }
            return;
        }
        if pressed {
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
                self.screen.touch(at);
                effects.push(Effect::Draw);
                woke_screen = true;
            }
            // any press acknowledges a failed action
            Mode::Normal => self.action_failed = false,
        }
        if !self.screen.is_on() {
            if !self.attention.is_empty() {
                // what needs a look is what a waking press shows first
                self.show_attention(effects);
            }
            self.screen.switch_on(at, effects);
            woke_screen = true;
        }
        self.hold = Some(Hold::new(edge, woke_screen));
    }

    fn on_release(&mut self, edge: Time, at: Time, effects: &mut Vec<Effect>) {
        effects.push(Effect::Event(Event::Release));
        let Some(hold) = self.hold.take() else {
            return;
        };
        let stage = HoldStage::after(edge.saturating_sub(hold.since), &self.rules);
        self.hold_ended();
        if self.mode != Mode::Normal {
            return;
        }
        self.screen.touch(at);
        match stage {
            HoldStage::Short => {
                if self.attention.identifying() {
                    // found: a press ends identify
                    self.attention.end_identify(effects);
                    effects.push(Effect::Draw);
                } else if !hold.woke_screen {
                    self.next_page(effects);
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
            Ok(()) if self.rules.settle.is_zero() => {
                // nothing was meant to go down (a dry run): back to normal
                self.action_failed = false;
                self.mode = Mode::Normal;
                self.screen.touch(now);
                self.show(now, effects);
            }
            Ok(()) => {
                self.action_failed = false;
                self.mode = Mode::Settling {
                    action,
                    until: now.saturating_add(self.rules.settle),
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
        let reason = format!("machine still up after {} s", self.rules.settle.as_secs());
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
        if self.screen.is_on() {
            effects.push(Effect::Draw);
        } else {
            self.screen.switch_on(now, effects);
        }
    }

    /// Edges were lost: the level is known again, the hold is not.
    fn edges_lost(&mut self, pressed: bool, now: Time, effects: &mut Vec<Effect>) {
        self.button.reset(pressed, now);
        self.ignore_until_released = pressed;
        if let Some(hold) = self.hold.take() {
            self.hold_ended();
            if hold.stage != HoldStage::Short && self.mode == Mode::Normal {
                effects.push(Effect::Event(Event::Cancelled));
            }
            effects.push(Effect::Event(Event::Release));
            if self.mode == Mode::Normal {
                self.screen.touch(now);
                if self.screen.is_on() {
                    effects.push(Effect::Draw);
                }
            }
        }
    }

    fn enter_next_stage(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let Some(hold) = self.hold.as_mut() else {
            return;
        };
        let Some(stage) = hold.stage.next() else {
            return;
        };
        hold.stage = stage;
        effects.push(Effect::Event(match stage {
            HoldStage::Reboot => Event::RebootArmed,
            HoldStage::Shutdown => Event::ShutdownArmed,
            _ => Event::Cancelled,
        }));
        if !self.screen.is_on() {
            self.screen.switch_on(at, effects);
        } else {
            self.screen.redraw_from(at, effects);
        }
    }

    /// A short press on a lit screen: the attention page acknowledges or
    /// scrolls, and comes before the first page while it lists anything.
    fn next_page(&mut self, effects: &mut Vec<Effect>) {
        let rows = self.rules.attention_rows;
        if self.attention.shown_from().is_some() {
            if self.attention.press(rows, effects) {
                effects.push(Effect::Draw);
            } else {
                self.leave_attention(effects);
            }
            self.attention.report_cleared(effects);
        } else if self.screen.on_last_page(&self.rules) && !self.attention.is_empty() {
            self.show_attention(effects);
            effects.push(Effect::Draw);
        } else {
            self.screen.turn_page(&self.rules, effects);
        }
    }

    fn show_attention(&mut self, effects: &mut Vec<Effect>) {
        self.attention.show(self.rules.attention_rows);
        effects.push(Effect::Event(Event::Page(PageKind::Attention)));
    }

    /// The attention page is done with: on to the first page.
    fn leave_attention(&mut self, effects: &mut Vec<Effect>) {
        self.attention.hide();
        self.screen.first_page(&self.rules, effects);
    }

    /// The list changed (`added`: something new on it): the LED follows at
    /// the end of the step; a lit screen shows the page, or leaves it once
    /// it is empty. A dark screen stays dark — the LED is what says so.
    fn attention_changed(&mut self, added: bool, now: Time, effects: &mut Vec<Effect>) {
        let idle = self.mode == Mode::Normal && self.hold.is_none();
        if self.attention.shown_from().is_some() {
            if self.attention.is_empty() {
                if self.screen.is_on() {
                    self.leave_attention(effects);
                } else {
                    self.attention.hide();
                }
            } else {
                self.attention.keep_window(self.rules.attention_rows);
                if self.screen.is_on() {
                    effects.push(Effect::Draw);
                }
            }
        } else if added && idle && self.screen.is_on() && !self.attention.identifying() {
            self.show_attention(effects);
            self.screen.touch(now);
            effects.push(Effect::Draw);
        }
        self.attention.report_cleared(effects);
    }

    fn identify(&mut self, lasts: Duration, now: Time, effects: &mut Vec<Effect>) {
        let was = self.attention.identifying();
        if !self.attention.identify(lasts, now, effects) {
            if was {
                self.screen.touch(now);
                if self.screen.is_on() {
                    effects.push(Effect::Draw);
                }
            }
            return;
        }
        if !self.screen.is_on() {
            self.screen.switch_on(now, effects);
        } else if !was {
            effects.push(Effect::Draw);
        }
    }

    fn wanted_led(&self) -> LedPattern {
        if self.mode.under_way() {
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
        if self.attention.identifying() {
            return LedPattern::Blink5Hz;
        }
        if self.attention.needs_attention() {
            return LedPattern::TripleBlink;
        }
        if !self.display.answers() || self.action_failed {
            LedPattern::DoubleBlink
        } else {
            LedPattern::On
        }
    }

    fn update_led(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let wanted = self.wanted_led();
        self.led.show(wanted, at, effects);
    }
}
