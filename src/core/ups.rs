//! What a UPS's `ups.status` means (SPEC §10): NUT sends a list of tokens
//! (`OB DISCHRG LB`, in any order and combination); each is matched on its
//! own, never the whole string, and tokens the panel does not know are
//! ignored. Decides the words of the `ups` page and the standing condition
//! of the attention list.

use super::{Condition, Level};

/// The tokens of `ups.status` the panel reads, as flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsStatus {
    /// `OL`: on line (mains power).
    pub on_line: bool,
    /// `OB`: on battery.
    pub on_battery: bool,
    /// `LB`: low battery.
    pub low_battery: bool,
    /// `HB`: high battery.
    pub high_battery: bool,
    /// `RB`: the battery needs replacing.
    pub replace_battery: bool,
    /// `CHRG`: charging.
    pub charging: bool,
    /// `DISCHRG`: discharging.
    pub discharging: bool,
    /// `BYPASS`: on bypass (the load is fed without protection).
    pub bypass: bool,
    /// `CAL`: calibrating.
    pub calibrating: bool,
    /// `OFF`: the output is off.
    pub off: bool,
    /// `OVER`: overloaded.
    pub overloaded: bool,
    /// `TRIM`: trimming a high input voltage.
    pub trimming: bool,
    /// `BOOST`: boosting a low input voltage.
    pub boosting: bool,
    /// `FSD`: upsmon has called a forced shutdown.
    pub forced_shutdown: bool,
}

impl UpsStatus {
    /// Reads the tokens of `ups.status` (separated by blanks).
    pub fn parse(status: &str) -> UpsStatus {
        let mut flags = UpsStatus::default();
        for token in status.split_ascii_whitespace() {
            let flag = match token {
                "OL" => &mut flags.on_line,
                "OB" => &mut flags.on_battery,
                "LB" => &mut flags.low_battery,
                "HB" => &mut flags.high_battery,
                "RB" => &mut flags.replace_battery,
                "CHRG" => &mut flags.charging,
                "DISCHRG" => &mut flags.discharging,
                "BYPASS" => &mut flags.bypass,
                "CAL" => &mut flags.calibrating,
                "OFF" => &mut flags.off,
                "OVER" => &mut flags.overloaded,
                "TRIM" => &mut flags.trimming,
                "BOOST" => &mut flags.boosting,
                "FSD" => &mut flags.forced_shutdown,
                _ => continue,
            };
            *flag = true;
        }
        flags
    }

    /// The status in words, most important first: where the power comes
    /// from (or the emergency), then what else the UPS says.
    pub fn words(&self) -> Vec<&'static str> {
        let main = if self.forced_shutdown {
            "forced shutdown"
        } else if self.on_battery && self.low_battery {
            "low battery"
        } else if self.on_battery {
            "on battery"
        } else if self.bypass {
            "on bypass"
        } else if self.on_line {
            "on line"
        } else if self.off {
            "output off"
        } else {
            "status unknown"
        };
        let mut words = vec![main];
        let extras = [
            (self.low_battery && !self.on_battery, "low battery"),
            (self.charging, "charging"),
            (self.discharging && !self.on_battery, "discharging"),
            (self.overloaded, "overloaded"),
            (self.replace_battery, "replace battery"),
            (
                self.bypass && (self.on_battery || self.forced_shutdown),
                "on bypass",
            ),
            (self.off && main != "output off", "output off"),
            (self.calibrating, "calibrating"),
            (self.trimming, "trimming"),
            (self.boosting, "boosting"),
            (self.high_battery, "high battery"),
        ];
        words.extend(
            extras
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, word)| word),
        );
        words
    }

    /// The standing condition for the attention list: what upsmon treats
    /// as critical (a forced shutdown, or on battery with the battery low)
    /// is an error, on battery a warning; on line, nothing (a low battery
    /// that is charging again is said on the page only).
    pub fn condition(&self) -> Option<Condition> {
        let (level, text) = if self.forced_shutdown {
            (Level::Error, "forced shutdown")
        } else if self.on_battery && self.low_battery {
            (Level::Error, "low battery")
        } else if self.on_battery {
            (Level::Warn, "on battery")
        } else {
            return None;
        };
        Some(Condition {
            level,
            text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(status: &str) -> Option<(Level, String)> {
        UpsStatus::parse(status)
            .condition()
            .map(|c| (c.level, c.text))
    }

    fn warn(text: &str) -> Option<(Level, String)> {
        Some((Level::Warn, text.into()))
    }

    fn error(text: &str) -> Option<(Level, String)> {
        Some((Level::Error, text.into()))
    }

    #[test]
    fn on_line_in_any_company_calls_for_nothing() {
        for status in [
            "OL",
            "OL CHRG",
            "CHRG OL",
            "OL TRIM",
            "OL BOOST HB",
            "OL CAL",
            "OL RB",
        ] {
            assert_eq!(condition(status), None, "{status}");
        }
    }

    #[test]
    fn on_battery_is_a_warning_whatever_the_order_of_the_tokens() {
        for status in [
            "OB",
            "OB DISCHRG",
            "DISCHRG OB",
            "OB  DISCHRG\t",
            "OB BYPASS",
            "OB RB",
        ] {
            assert_eq!(condition(status), warn("on battery"), "{status:?}");
        }
    }

    #[test]
    fn on_battery_with_the_battery_low_is_an_error() {
        for status in ["OB LB", "LB OB", "OB DISCHRG LB", "LB DISCHRG OB"] {
            assert_eq!(condition(status), error("low battery"), "{status}");
        }
    }

    #[test]
    fn a_forced_shutdown_is_an_error_above_everything() {
        for status in ["FSD", "OB LB FSD", "FSD OL", "OL CHRG FSD"] {
            assert_eq!(condition(status), error("forced shutdown"), "{status}");
        }
    }

    #[test]
    fn back_on_line_with_a_low_battery_charging_clears_the_condition() {
        assert_eq!(condition("OL CHRG LB"), None);
        assert_eq!(
            UpsStatus::parse("OL CHRG LB").words(),
            ["on line", "low battery", "charging"]
        );
    }

    #[test]
    fn tokens_are_matched_whole_and_unknown_ones_are_ignored() {
        // a token that merely contains another is not it
        assert_eq!(condition("OBX"), None);
        assert_eq!(condition("XOB LBX"), None);
        assert_eq!(condition("ALARM OB ECO"), warn("on battery"));
        assert_eq!(condition("ob"), None, "NUT's tokens are upper case");
        assert_eq!(condition(""), None);
        assert_eq!(UpsStatus::parse("WHATEVER").words(), ["status unknown"]);
    }

    #[test]
    fn discharging_on_line_is_said_a_calibration_drains_the_battery() {
        // (on battery it goes without saying)
        assert_eq!(
            UpsStatus::parse("OL DISCHRG CAL").words(),
            ["on line", "discharging", "calibrating"]
        );
        assert_eq!(UpsStatus::parse("OB DISCHRG").words(), ["on battery"]);
    }

    #[test]
    fn the_words_say_the_source_first_then_the_rest() {
        let words = |status: &str| UpsStatus::parse(status).words();
        assert_eq!(words("OL"), ["on line"]);
        assert_eq!(words("CHRG OL"), ["on line", "charging"]);
        assert_eq!(words("OB DISCHRG"), ["on battery"]);
        assert_eq!(words("OB DISCHRG LB"), ["low battery"]);
        assert_eq!(words("OL BYPASS"), ["on bypass"]);
        assert_eq!(words("OB BYPASS"), ["on battery", "on bypass"]);
        assert_eq!(words("OFF"), ["output off"]);
        assert_eq!(
            words("OL OVER RB"),
            ["on line", "overloaded", "replace battery"]
        );
        assert_eq!(words("OL TRIM"), ["on line", "trimming"]);
        assert_eq!(words("BOOST OL"), ["on line", "boosting"]);
        assert_eq!(
            words("OL CAL HB"),
            ["on line", "calibrating", "high battery"]
        );
        assert_eq!(words("FSD OB LB"), ["forced shutdown"]);
        assert_eq!(words("OL OFF"), ["on line", "output off"]);
    }
}
