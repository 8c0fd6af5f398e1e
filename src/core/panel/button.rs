//! The button's part of a step: a debounced level becomes a press or a
//! release, a hold moves through its stages, and lost edges drop the press
//! they were part of.

use super::Panel;
use crate::core::action::Mode;
use crate::core::hold::Hold;
use crate::core::{Effect, Event, HoldStage, PowerAction, Time};

impl Panel {
    /// When the hold reaches its next stage: only while the button is down
    /// (a release being debounced freezes it) and no action is under way.
    pub(super) fn stage_deadline(&self) -> Option<Time> {
        let hold = self.hold.as_ref()?;
        if !self.button.raw_pressed() || self.mode != Mode::Normal {
            return None;
        }
        hold.deadline(&self.rules)
    }

    /// The raw level has been stable for the debounce period: it counts,
    /// dated from the edge that began it.
    pub(super) fn commit_level(&mut self, at: Time, effects: &mut Vec<Effect>) {
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
            Mode::Countdown { .. } => {
                // the person at the rack wins: the press cancels, and its
                // release does not turn the page
                self.cancel_countdown(at, effects);
                woke_screen = true;
            }
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

    /// Edges were lost: the level is known again, the hold is not.
    pub(super) fn edges_lost(&mut self, pressed: bool, now: Time, effects: &mut Vec<Effect>) {
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

    pub(super) fn enter_next_stage(&mut self, at: Time, effects: &mut Vec<Effect>) {
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
}
