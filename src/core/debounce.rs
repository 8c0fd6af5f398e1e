//! Debounce: a raw level counts once it has been stable for the debounce
//! period, dated from the edge that began it.

use std::time::Duration;

use super::Time;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Debounce {
    raw: bool,
    raw_since: Time,
    level: bool,
}

impl Debounce {
    /// A button at `pressed` since `now`, already settled.
    pub(crate) fn new(pressed: bool, now: Time) -> Self {
        Debounce {
            raw: pressed,
            raw_since: now,
            level: pressed,
        }
    }

    /// The raw level read at `now`; a repeat of the same level changes nothing.
    pub(crate) fn raw(&mut self, pressed: bool, now: Time) {
        if pressed != self.raw {
            self.raw = pressed;
            self.raw_since = now;
        }
    }

    /// Forgets any bounce in progress: the level is `pressed` from `now` on.
    pub(crate) fn reset(&mut self, pressed: bool, now: Time) {
        *self = Debounce::new(pressed, now);
    }

    /// The debounced level.
    #[cfg(test)]
    pub(crate) fn pressed(&self) -> bool {
        self.level
    }

    /// The raw level.
    pub(crate) fn raw_pressed(&self) -> bool {
        self.raw
    }

    /// When the raw level will have been stable long enough to count.
    pub(crate) fn deadline(&self, period: Duration) -> Option<Time> {
        (self.raw != self.level).then(|| self.raw_since.saturating_add(period))
    }

    /// Commits the raw level; returns it with the time of the edge that began
    /// it, when it differs from the debounced one.
    pub(crate) fn commit(&mut self) -> Option<(bool, Time)> {
        (self.raw != self.level).then(|| {
            self.level = self.raw;
            (self.level, self.raw_since)
        })
    }

    /// The time a hold is measured at: frozen at the raw release while that
    /// release is still being debounced, so a release 1 ms before a threshold
    /// never shows the next stage.
    pub(crate) fn hold_clock(&self, now: Time) -> Time {
        if self.level && !self.raw {
            self.raw_since
        } else {
            now
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn a_level_counts_once_stable_and_is_dated_from_its_edge() {
        let mut d = Debounce::new(false, ms(0));
        assert_eq!(d.deadline(ms(30)), None);
        d.raw(true, ms(100));
        assert_eq!(d.deadline(ms(30)), Some(ms(130)));
        d.raw(true, ms(110)); // read again: still dated from 100
        assert_eq!(d.deadline(ms(30)), Some(ms(130)));
        assert_eq!(d.commit(), Some((true, ms(100))));
        assert!(d.pressed());
        assert_eq!(d.commit(), None);
    }

    #[test]
    fn a_bounce_back_within_the_period_commits_nothing() {
        let mut d = Debounce::new(false, ms(0));
        d.raw(true, ms(100));
        d.raw(false, ms(110));
        assert_eq!(d.deadline(ms(30)), None);
        assert_eq!(d.commit(), None);
        assert!(!d.pressed());
    }

    #[test]
    fn the_hold_clock_stops_at_a_release_being_debounced() {
        let mut d = Debounce::new(true, ms(0));
        assert_eq!(d.hold_clock(ms(500)), ms(500));
        d.raw(false, ms(400));
        assert_eq!(d.hold_clock(ms(420)), ms(400));
    }

    #[test]
    fn a_deadline_never_overflows() {
        let mut d = Debounce::new(false, ms(0));
        d.raw(true, Duration::MAX);
        assert_eq!(d.deadline(ms(30)), Some(Duration::MAX));
    }
}
