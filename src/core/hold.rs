//! Hold stages: how long the button has been held decides what its release
//! does (a page, reboot, shutdown, nothing).

use std::time::Duration;

use super::{Rules, Time};

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

impl HoldStage {
    /// The stage a hold of `held` has reached.
    pub(crate) fn after(held: Duration, rules: &Rules) -> HoldStage {
        if held >= rules.cancel_after {
            HoldStage::Cancelled
        } else if held >= rules.shutdown_after {
            HoldStage::Shutdown
        } else if held >= rules.reboot_after {
            HoldStage::Reboot
        } else {
            HoldStage::Short
        }
    }

    /// The hold time at which this stage ends and the next one begins.
    pub(crate) fn end(self, rules: &Rules) -> Option<Duration> {
        match self {
            HoldStage::Short => Some(rules.reboot_after),
            HoldStage::Reboot => Some(rules.shutdown_after),
            HoldStage::Shutdown => Some(rules.cancel_after),
            HoldStage::Cancelled => None,
        }
    }

    /// The stage after this one.
    pub(crate) fn next(self) -> Option<HoldStage> {
        match self {
            HoldStage::Short => Some(HoldStage::Reboot),
            HoldStage::Reboot => Some(HoldStage::Shutdown),
            HoldStage::Shutdown => Some(HoldStage::Cancelled),
            HoldStage::Cancelled => None,
        }
    }
}

/// A press being held.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hold {
    /// The press edge.
    pub(crate) since: Time,
    /// The stage shown (entered on time, unlike [`HoldStage::after`] which
    /// judges the release).
    pub(crate) stage: HoldStage,
    /// This press switched the screen on (or dismissed a failure): its
    /// release does not change the page.
    pub(crate) woke_screen: bool,
}

impl Hold {
    pub(crate) fn new(since: Time, woke_screen: bool) -> Self {
        Hold {
            since,
            stage: HoldStage::Short,
            woke_screen,
        }
    }

    /// When the shown stage ends.
    pub(crate) fn deadline(&self, rules: &Rules) -> Option<Time> {
        Some(self.since.saturating_add(self.stage.end(rules)?))
    }

    /// Whole seconds until the next stage at hold clock `clock` (0 when cancelled).
    pub(crate) fn seconds_left(&self, clock: Time, rules: &Rules) -> u64 {
        let held = clock.saturating_sub(self.since);
        self.stage
            .end(rules)
            .map(|next| next.saturating_sub(held).as_millis().div_ceil(1000) as u64)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn each_threshold_starts_its_stage_exactly() {
        let rules = Rules::default();
        let ms = Duration::from_millis;
        assert_eq!(HoldStage::after(ms(7999), &rules), HoldStage::Short);
        assert_eq!(HoldStage::after(s(8), &rules), HoldStage::Reboot);
        assert_eq!(HoldStage::after(s(12), &rules), HoldStage::Shutdown);
        assert_eq!(HoldStage::after(s(20), &rules), HoldStage::Cancelled);
    }

    #[test]
    fn stages_follow_each_other_and_end_at_the_next_threshold() {
        let rules = Rules::default();
        let mut hold = Hold::new(s(1), false);
        let mut ends = Vec::new();
        while let Some(deadline) = hold.deadline(&rules) {
            ends.push(deadline.as_secs());
            hold.stage = hold.stage.next().unwrap();
        }
        assert_eq!(ends, vec![9, 13, 21]);
        assert_eq!(hold.stage, HoldStage::Cancelled);
    }

    #[test]
    fn the_countdown_rounds_up_to_whole_seconds() {
        let rules = Rules::default();
        let mut hold = Hold::new(s(0), false);
        hold.stage = HoldStage::Reboot;
        assert_eq!(hold.seconds_left(s(8), &rules), 4);
        assert_eq!(hold.seconds_left(Duration::from_millis(8001), &rules), 4);
        assert_eq!(hold.seconds_left(Duration::from_millis(11_001), &rules), 1);
        // a clock behind the press never panics
        hold.since = s(5);
        assert_eq!(hold.seconds_left(s(1), &rules), 12);
    }
}
