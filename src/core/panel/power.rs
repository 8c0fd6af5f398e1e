//! A power action from the panel's side: started on release, then done,
//! settling while the machine goes down, or failed with its reason shown.

use super::Panel;
use crate::core::action::Mode;
use crate::core::{Effect, Event, PowerAction, Time, FAILED_SCREEN};

impl Panel {
    pub(super) fn begin_action(&mut self, action: PowerAction, effects: &mut Vec<Effect>) {
        self.mode = Mode::Acting(action);
        effects.push(Effect::Event(match action {
            PowerAction::Reboot => Event::Reboot,
            PowerAction::Shutdown => Event::Shutdown,
        }));
        effects.push(Effect::Draw);
        effects.push(Effect::RunPower(action));
    }

    pub(super) fn action_done(
        &mut self,
        result: Result<(), String>,
        now: Time,
        effects: &mut Vec<Effect>,
    ) {
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
    pub(super) fn still_up(&mut self, at: Time, effects: &mut Vec<Effect>) {
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
}
