//! How what needs a look reaches the screen: the attention page before the
//! first page, shown when something new arrives on a lit, idle screen and
//! left once it is empty; and identify, which takes the screen meanwhile.

use std::time::Duration;

use super::Panel;
use crate::core::action::Mode;
use crate::core::{Effect, Event, PageKind, Time};

impl Panel {
    /// A short press on a lit screen: the attention page acknowledges or
    /// scrolls, and comes before the first page while it lists anything.
    pub(super) fn next_page(&mut self, effects: &mut Vec<Effect>) {
        let rows = self.rules.attention_rows;
        if self.attention.shown_from().is_some() {
            if self.attention.press(rows, effects) {
                effects.push(Effect::Draw);
            } else {
                self.leave_attention(effects);
            }
            self.attention.report_cleared(effects);
        } else if self.screen.page(&self.rules) == PageKind::Rack && self.scroll_rack(effects) {
        } else if self.screen.on_last_page(&self.rules) && !self.attention.is_empty() {
            self.show_attention(effects);
            effects.push(Effect::Draw);
        } else {
            self.screen.turn_page(&self.rules, effects);
        }
    }

    pub(super) fn show_attention(&mut self, effects: &mut Vec<Effect>) {
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
    pub(super) fn attention_changed(&mut self, added: bool, now: Time, effects: &mut Vec<Effect>) {
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

    pub(super) fn identify(&mut self, lasts: Duration, now: Time, effects: &mut Vec<Effect>) {
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
}
