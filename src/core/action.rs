//! What became of a power action: running, succeeded and waiting for the
//! machine to go down, or failed (the reason shown for a while, the LED
//! double-blinking until a press acknowledges it).

use super::{PowerAction, Time};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    /// Pages and presses.
    Normal,
    /// A power command from the broker waits for its countdown; a press
    /// cancels it (SPEC §9: the person at the rack always wins).
    Countdown { action: PowerAction, until: Time },
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

impl Mode {
    /// A power command is running, or succeeded and the machine is going down.
    pub(crate) fn under_way(&self) -> bool {
        matches!(self, Mode::Acting(_) | Mode::Settling { .. })
    }

    /// When the machine should have gone down by.
    pub(crate) fn settle_deadline(&self) -> Option<Time> {
        match self {
            Mode::Settling { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// When a countdown from the broker runs its command.
    pub(crate) fn countdown_deadline(&self) -> Option<Time> {
        match self {
            Mode::Countdown { until, .. } => Some(*until),
            _ => None,
        }
    }

    /// When the failure screen ends.
    pub(crate) fn failed_deadline(&self) -> Option<Time> {
        match self {
            Mode::Failed { until, .. } => Some(*until),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn each_mode_has_its_own_deadline() {
        let t = Duration::from_secs(5);
        let settling = Mode::Settling {
            action: PowerAction::Reboot,
            until: t,
        };
        let failed = Mode::Failed {
            action: PowerAction::Shutdown,
            reason: "no".into(),
            until: t,
        };
        assert!(settling.under_way() && Mode::Acting(PowerAction::Reboot).under_way());
        assert!(!failed.under_way() && !Mode::Normal.under_way());
        assert_eq!(settling.settle_deadline(), Some(t));
        assert_eq!(settling.failed_deadline(), None);
        assert_eq!(failed.failed_deadline(), Some(t));
        assert_eq!(Mode::Normal.settle_deadline(), None);
    }
}
