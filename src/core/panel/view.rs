//! What the panel shows, as data: the screen's view (drawn elsewhere) and
//! the LED's pattern, each chosen from the state alone.

use super::Panel;
use crate::core::action::Mode;
use crate::core::{
    AttentionItem, Effect, HoldStage, LedPattern, PageKind, PageName, PowerAction, Time,
};

/// What the screen shows.
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    /// The display is off.
    Off,
    /// A page of information; `shift` moves it against burn-in.
    Page {
        page: PageKind,
        /// Pixel offset (x, y), each 0 or 1.
        shift: (i32, i32),
    },
    /// The button is held into a stage.
    Stage {
        stage: HoldStage,
        /// Whole seconds until the next stage (0 when cancelled).
        seconds_left: u64,
    },
    /// An action was started.
    Action(PowerAction),
    /// An action failed.
    Failed {
        action: PowerAction,
        /// The command's own account of the failure.
        reason: String,
    },
    /// What needs a look: every line of the page, shown from line `first` on.
    Attention {
        items: Vec<AttentionItem>,
        first: usize,
    },
    /// `IDENTIFY` and the hostname.
    Identify,
    /// A power command from the broker counts down (`REBOOT from MQTT`).
    Countdown {
        action: PowerAction,
        /// Whole seconds until it runs.
        seconds_left: u64,
    },
    /// The rack page: `RACK 7/8 up`, then the nodes from line `first` on.
    Rack {
        up: usize,
        total: usize,
        lines: Vec<String>,
        first: usize,
    },
}

impl Panel {
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
            Mode::Countdown { action, until } => {
                return View::Countdown {
                    action: *action,
                    seconds_left: until.saturating_sub(self.now).as_secs_f64().ceil() as u64,
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
        let page = self.page();
        if page == PageKind::Rack {
            let (up, total) = self.rack.counts();
            return View::Rack {
                up,
                total,
                lines: self.rack.lines(),
                first: self.rack_from,
            };
        }
        View::Page {
            page,
            shift: self.screen.shift(&self.rules, self.now),
        }
    }

    /// The LED pattern now.
    pub fn led_pattern(&self) -> LedPattern {
        self.led.pattern()
    }

    /// The page a short press last chose.
    pub fn page(&self) -> PageKind {
        if self.attention.shown_from().is_some() {
            return PageKind::Attention;
        }
        self.screen.page(&self.rules)
    }

    /// The custom page on the lit screen, if one is.
    pub(super) fn shown_custom_page(&self) -> Option<PageName> {
        match self.view() {
            View::Page { page, .. } => page.custom(),
            _ => None,
        }
    }

    fn wanted_led(&self) -> LedPattern {
        match self.mode {
            Mode::Countdown {
                action: PowerAction::Reboot,
                ..
            } => return LedPattern::Blink1Hz,
            Mode::Countdown {
                action: PowerAction::Shutdown,
                ..
            } => return LedPattern::Blink4Hz,
            _ if self.mode.under_way() => return LedPattern::On,
            _ => {}
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

    pub(super) fn update_led(&mut self, at: Time, effects: &mut Vec<Effect>) {
        let wanted = self.wanted_led();
        self.led.show(wanted, at, effects);
    }
}
