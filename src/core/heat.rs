//! Heat as a standing condition (SPEC §10): too hot at or above
//! `temp_warn_c`, cleared only once the temperature is
//! [`TEMP_HYSTERESIS_C`] below it, so a SoC hovering at the threshold calls
//! for attention once, not at every reading.

use super::{Condition, Level};

/// How far below `temp_warn_c` the temperature must fall to clear the
/// condition.
pub const TEMP_HYSTERESIS_C: f32 = 5.0;

/// What the core knows of the temperature.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Heat {
    /// The hottest whole degree reported while too hot; `None` while not.
    hot_peak: Option<i32>,
    /// The last temperature read, to judge it again by a new threshold.
    last: Option<f32>,
    /// The threshold the last reading was judged by (`None`: not judged yet).
    judged_by: Option<f32>,
}

/// A change to the `temp` condition: set (`Some`) or cleared (`None`).
pub(crate) type Change = Option<Condition>;

impl Heat {
    /// A reading (`None`: the sensor could not be read, which changes
    /// nothing: a zone that fails for a moment at 90 °C is still hot),
    /// judged at the next [`Heat::judge`].
    pub fn reading(&mut self, celsius: Option<f32>) {
        if let Some(celsius) = celsius.filter(|c| c.is_finite()) {
            self.last = Some(celsius);
            self.judged_by = None;
        }
    }

    /// The change to the condition, if any, since the last reading or
    /// threshold judged: set when the temperature reaches `warn_c` (again
    /// when it climbs a whole degree higher), cleared at `warn_c` −
    /// [`TEMP_HYSTERESIS_C`] or below. A new threshold (a reload) judges
    /// the last reading again.
    pub fn judge(&mut self, warn_c: f32) -> Option<Change> {
        if self.judged_by == Some(warn_c) {
            return None;
        }
        let celsius = self.last?;
        self.judged_by = Some(warn_c);
        if celsius >= warn_c {
            // (never shown below the threshold it reached: 79.6 ≥ 79.5)
            let shown = (celsius.round() as i32).max(warn_c.ceil() as i32);
            if self.hot_peak.is_some_and(|peak| peak >= shown) {
                return None;
            }
            self.hot_peak = Some(shown);
            return Some(Some(Condition {
                level: Level::Warn,
                text: format!("too hot: {shown} \u{b0}C"),
            }));
        }
        if self.hot_peak.is_some() && celsius <= warn_c - TEMP_HYSTERESIS_C {
            self.hot_peak = None;
            return Some(None);
        }
        None
    }
}
