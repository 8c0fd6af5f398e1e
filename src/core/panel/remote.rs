//! The broker's part of a step (SPEC §9): the connection coming and going,
//! commands (identify, notify, a power countdown that a press cancels),
//! the rack's nodes, and when this panel's state is due on the broker.

use std::time::Duration;

use super::Panel;
use crate::core::action::Mode;
use crate::core::{
    AttentionSource, Command, Effect, Event, PageKind, PeerUpdate, PowerAction, Time,
};

/// A change goes out at most this often.
const MIN_PUBLISH_GAP: Duration = Duration::from_secs(1);

/// When this panel's state is next due on the broker.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Publish {
    connected: bool,
    last: Option<Time>,
    /// Attention, the LED or the connection changed since `last`.
    changed: bool,
}

impl Publish {
    /// Due at once after a connect, a second after the last on a change,
    /// else `every` after the last; never while disconnected.
    pub(super) fn deadline(&self, every: Duration) -> Option<Time> {
        if !self.connected {
            return None;
        }
        let Some(last) = self.last else {
            return Some(Time::ZERO);
        };
        let gap = if self.changed { MIN_PUBLISH_GAP } else { every };
        Some(last.saturating_add(gap))
    }
}

impl Panel {
    pub(super) fn publish_deadline(&self) -> Option<Time> {
        let every = self.rules.mqtt.as_ref()?.publish_every;
        self.publish.deadline(every)
    }

    pub(super) fn publish_now(&mut self, at: Time, effects: &mut Vec<Effect>) {
        self.publish.last = Some(at);
        self.publish.changed = false;
        effects.push(Effect::PublishState);
    }

    /// What the step reported changes the published state: it goes out
    /// soon (the LED, the attention list).
    pub(super) fn note_published_changes(&mut self, effects: &[Effect]) {
        let changed = effects.iter().any(|e| {
            matches!(
                e,
                Effect::Event(Event::Led(_) | Event::Attention { .. } | Event::AttentionCleared)
            )
        });
        self.publish.changed |= changed;
    }

    /// Connected: the state goes out at once.
    pub(super) fn mqtt_connected(&mut self, effects: &mut Vec<Effect>) {
        self.publish = Publish {
            connected: true,
            last: None,
            changed: false,
        };
        effects.push(Effect::Event(Event::MqttConnected));
    }

    pub(super) fn mqtt_disconnected(&mut self, reason: String, effects: &mut Vec<Effect>) {
        self.publish.connected = false;
        effects.push(Effect::Event(Event::MqttDisconnected { reason }));
    }

    pub(super) fn command(&mut self, command: Command, now: Time, effects: &mut Vec<Effect>) {
        let countdown = self.rules.mqtt.as_ref().and_then(|m| m.power_countdown);
        if matches!(command, Command::Power(_) | Command::CancelPower) && countdown.is_none() {
            // the adapter refuses these without `allow_power`; a reload may
            // have turned it off meanwhile
            return;
        }
        effects.push(Effect::Event(Event::Command {
            name: command.name(),
        }));
        match command {
            Command::Identify { lasts } => self.identify(lasts, now, effects),
            Command::Notify { level, text, lasts } => {
                let added = self.attention.notify(level, &text, lasts, now, effects);
                self.attention_changed(added, now, effects);
            }
            Command::Power(action) => self.arm_countdown(action, countdown, now, effects),
            Command::CancelPower => {
                self.cancel_countdown(now, effects);
            }
        }
    }

    /// The countdown starts, unless the panel is busy with the button or
    /// an action: then the command is dropped (the person at the rack
    /// comes first).
    fn arm_countdown(
        &mut self,
        action: PowerAction,
        countdown: Option<Duration>,
        now: Time,
        effects: &mut Vec<Effect>,
    ) {
        let Some(countdown) = countdown else {
            return;
        };
        if self.hold.is_some() || !matches!(self.mode, Mode::Normal | Mode::Countdown { .. }) {
            return;
        }
        self.mode = Mode::Countdown {
            action,
            until: now.saturating_add(countdown),
        };
        effects.push(Effect::Event(Event::RemoteArmed { action }));
        self.screen.touch(now);
        if self.screen.is_on() {
            effects.push(Effect::Draw);
        } else {
            self.screen.switch_on(now, effects);
        }
    }

    /// A press or `cancel`: the countdown stops, nothing runs.
    pub(super) fn cancel_countdown(&mut self, now: Time, effects: &mut Vec<Effect>) -> bool {
        if !matches!(self.mode, Mode::Countdown { .. }) {
            return false;
        }
        self.mode = Mode::Normal;
        effects.push(Effect::Event(Event::Cancelled));
        self.screen.touch(now);
        if self.screen.is_on() {
            effects.push(Effect::Draw);
        }
        true
    }

    /// The countdown ran out: the action runs as from the button.
    pub(super) fn countdown_over(&mut self, effects: &mut Vec<Effect>) {
        if let Mode::Countdown { action, .. } = self.mode {
            self.mode = Mode::Normal;
            self.begin_action(action, effects);
        }
    }

    pub(super) fn peer(
        &mut self,
        node: &str,
        update: PeerUpdate,
        now: Time,
        effects: &mut Vec<Effect>,
    ) {
        let counts = self.rack.counts();
        if !self.rack.update(node, update) {
            return;
        }
        let (up, total) = self.rack.counts();
        if (up, total) != counts {
            effects.push(Effect::Event(Event::Rack { up, total }));
        }
        if self.rules.mqtt.as_ref().is_some_and(|m| m.rack_attention) {
            let condition = self.rack.condition();
            let set = condition.is_some();
            if self
                .attention
                .set_condition(AttentionSource::Rack, condition, effects)
            {
                self.attention_changed(set, now, effects);
            }
        }
        self.rack_from = self.rack_from.min(self.rack_last_window());
        if self.screen.is_on() && self.page() == PageKind::Rack {
            effects.push(Effect::Draw);
        }
    }

    /// Lines of the rack page under its heading.
    fn rack_rows(&self) -> usize {
        self.rules.attention_rows.saturating_sub(1).max(1)
    }

    fn rack_last_window(&self) -> usize {
        let rows = self.rack_rows();
        self.rack.lines().len().saturating_sub(1) / rows * rows
    }

    /// A short press on the rack page scrolls it; true when it did, false
    /// past the last line (then the next page comes).
    pub(super) fn scroll_rack(&mut self, effects: &mut Vec<Effect>) -> bool {
        let next = self.rack_from + self.rack_rows();
        if next >= self.rack.lines().len() {
            self.rack_from = 0;
            return false;
        }
        self.rack_from = next;
        effects.push(Effect::Draw);
        true
    }
}
