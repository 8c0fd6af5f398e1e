//! The panel: the small machines of the core composed into one, fed an
//! input and the time at each `step`. Each deadline a machine keeps is run
//! at its own time, in order, before the input that comes after it; what
//! a press does, a power action, the attention page and what is shown are
//! in the files beside this one.

mod attention_page;
mod button;
mod power;
mod remote;
mod view;

pub use view::View;

use super::action::Mode;
use super::attention::Attention;
use super::debounce::Debounce;
use super::display::DisplayHealth;
use super::heat::Heat;
use super::hold::Hold;
use super::led::LedState;
use super::pages::PageRefresh;
use super::rack::Rack;
use super::screen::Screen;
use super::{AttentionSource, Effect, Event, Input, Rules, Time};

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
    led: LedState,
    attention: Attention,
    stopped: bool,
    /// Rules reloaded during a hold: they apply once it ends, so a release
    /// always does what the screen said when it was let go.
    pending_rules: Option<Rules>,
    /// When each custom page was last brought up to date.
    pages: PageRefresh,
    /// Whether it is too hot, with hysteresis.
    heat: Heat,
    /// The other panels, as the broker tells of them.
    rack: Rack,
    /// The first line of the rack page shown.
    rack_from: usize,
    /// When the state is due on the broker.
    publish: remote::Publish,
}

impl Panel {
    /// A panel started at `now` with the button at `pressed`. Returns the
    /// panel and the effects of starting (display initialised and on, first
    /// page, LED on).
    pub fn start(rules: Rules, now: Time, pressed: bool) -> (Panel, Vec<Effect>) {
        let mut panel = Panel {
            rules: rules.clone(),
            now,
            button: Debounce::new(pressed, now),
            ignore_until_released: pressed,
            hold: None,
            mode: Mode::Normal,
            action_failed: false,
            screen: Screen::new(now),
            display: DisplayHealth::new(),
            led: LedState::new(now),
            attention: Attention::default(),
            stopped: false,
            pending_rules: None,
            pages: PageRefresh::default(),
            heat: Heat::default(),
            rack: Rack::new(rules.mqtt.as_ref().map_or("", |m| m.node.as_str())),
            rack_from: 0,
            publish: remote::Publish::default(),
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
            Input::FailedUnitsListed(names) => {
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
            Input::Condition { source, condition } => {
                let set = condition.is_some();
                if self
                    .attention
                    .set_condition(source, condition, &mut effects)
                {
                    self.attention_changed(set, now, &mut effects);
                }
            }
            Input::Temperature(celsius) => self.heat.reading(celsius),
            Input::Identify { lasts } => self.identify(lasts, now, &mut effects),
            Input::PageRefreshed { name, changed } => {
                self.pages.done(name);
                if changed && self.shown_custom_page() == Some(name) {
                    effects.push(Effect::Draw);
                }
            }
            Input::MqttConnected => self.mqtt_connected(&mut effects),
            Input::MqttDisconnected { reason } => self.mqtt_disconnected(reason, &mut effects),
            Input::Command(command) => self.command(command, now, &mut effects),
            Input::Peer { node, update } => self.peer(&node, update, now, &mut effects),
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
        // (a reading, or a reload's new threshold)
        self.judge_heat(now, &mut effects);
        self.refresh_pages(now, &mut effects);
        self.update_led(now, &mut effects);
        self.note_published_changes(&effects);
        self.display.filter(&mut effects, self.screen.is_on(), now);
        effects
    }

    /// Sets or clears the `temp` condition as [`Heat`] decides.
    fn judge_heat(&mut self, now: Time, effects: &mut Vec<Effect>) {
        let Some(condition) = self.heat.judge(self.rules.temp_warn_c) else {
            return;
        };
        let set = condition.is_some();
        if self
            .attention
            .set_condition(AttentionSource::Temp, condition, effects)
        {
            self.attention_changed(set, now, effects);
        }
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
        let node = |r: &Rules| r.mqtt.as_ref().map(|m| m.node.clone());
        if node(&rules) != node(&self.rules) {
            self.rack = Rack::new(&node(&rules).unwrap_or_default());
            self.rack_from = 0;
        }
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
            self.mode.countdown_deadline(),
            self.publish_deadline(),
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

    /// Whether the display is meant to be on.
    pub fn screen_is_on(&self) -> bool {
        self.screen.is_on()
    }

    /// Whether the display answers (as far as the panel was told).
    pub fn display_answers(&self) -> bool {
        self.display.answers()
    }

    /// Everything listed for attention, as the attention page lists it.
    pub fn attention_items(&self) -> Vec<crate::core::AttentionItem> {
        self.attention.items()
    }

    /// Whether the LED must show *attention* (an `info` message alone does
    /// not).
    pub fn needs_attention(&self) -> bool {
        self.attention.needs_attention()
    }

    /// Whether anything is listed for attention (failed units, messages).
    pub fn attention_listed(&self) -> bool {
        !self.attention.is_empty()
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
            if is_due(self.mode.countdown_deadline()) {
                self.countdown_over(effects);
            }
            if is_due(self.publish_deadline()) {
                self.publish_now(at, effects);
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
}
