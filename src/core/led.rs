//! The status LED: patterns as data (what it shows in each state, and when
//! it next changes) and the machine that follows the wanted pattern.

use std::time::Duration;

use super::{Effect, Event, Time};

/// What the status LED is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedPattern {
    /// Dark (button down before the reboot stage; program stopped).
    Off,
    /// Lit (idle and alive; cancelled; an action in progress).
    On,
    /// 1 Hz blink: releasing now reboots.
    Blink1Hz,
    /// 4 Hz blink: releasing now shuts down.
    Blink4Hz,
    /// 5 Hz blink: `rackpi-panel identify` (find this Pi in the rack).
    Blink5Hz,
    /// Three short flashes every 2 s: a failed unit or an unacknowledged message.
    TripleBlink,
    /// Two short flashes every 2 s: the display is missing or the last action failed.
    DoubleBlink,
}

impl LedPattern {
    /// The name used in events (and so in their JSON).
    pub fn name(self) -> &'static str {
        match self {
            LedPattern::Off => "off",
            LedPattern::On => "on",
            LedPattern::Blink1Hz => "blink-1hz",
            LedPattern::Blink4Hz => "blink-4hz",
            LedPattern::Blink5Hz => "blink-5hz",
            LedPattern::TripleBlink => "triple-blink",
            LedPattern::DoubleBlink => "double-blink",
        }
    }

    /// (period, the times within it at which the level toggles), starting lit.
    fn cycle(self) -> Option<(Duration, &'static [u64])> {
        match self {
            LedPattern::Off | LedPattern::On => None,
            LedPattern::Blink1Hz => Some((Duration::from_millis(1000), &[500])),
            LedPattern::Blink4Hz => Some((Duration::from_millis(250), &[125])),
            LedPattern::Blink5Hz => Some((Duration::from_millis(200), &[100])),
            LedPattern::TripleBlink => {
                Some((Duration::from_millis(2000), &[120, 300, 420, 600, 720]))
            }
            LedPattern::DoubleBlink => Some((Duration::from_millis(2000), &[120, 300, 420])),
        }
    }

    /// Whether the LED is lit `elapsed` after the pattern began.
    pub(crate) fn level_at(self, elapsed: Duration) -> bool {
        match self.cycle() {
            None => self == LedPattern::On,
            Some((period, toggles)) => {
                let phase = (elapsed.as_millis() % period.as_millis()) as u64;
                let passed = toggles.iter().filter(|&&t| t <= phase).count();
                passed % 2 == 0
            }
        }
    }

    /// The first moment after `elapsed` (relative to the pattern's start) at
    /// which the level changes; `None` for a steady pattern.
    pub(crate) fn next_change(self, elapsed: Duration) -> Option<Duration> {
        let (period, toggles) = self.cycle()?;
        let period_ms = period.as_millis() as u64;
        let now_ms = elapsed.as_millis() as u64;
        let phase = now_ms % period_ms;
        let cycle_start = now_ms - phase;
        let next = toggles
            .iter()
            .copied()
            .find(|&t| t > phase)
            .map(|t| cycle_start + t)
            .unwrap_or(cycle_start.saturating_add(period_ms));
        Some(Duration::from_millis(next))
    }
}

impl serde::Serialize for LedPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The LED's pattern, when it began and the level it drives now, following
/// the pattern the panel wants.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LedState {
    pattern: LedPattern,
    since: Time,
    level: bool,
}

impl LedState {
    /// A dark LED.
    pub(crate) fn new(now: Time) -> Self {
        LedState {
            pattern: LedPattern::Off,
            since: now,
            level: false,
        }
    }

    pub(crate) fn pattern(&self) -> LedPattern {
        self.pattern
    }

    /// When the level next changes.
    pub(crate) fn deadline(&self, now: Time) -> Option<Time> {
        let after = self.pattern.next_change(now.saturating_sub(self.since))?;
        Some(self.since.saturating_add(after))
    }

    /// Shows `wanted` at `at`: an event when the pattern changes, a level
    /// when the LED must change.
    pub(crate) fn show(&mut self, wanted: LedPattern, at: Time, effects: &mut Vec<Effect>) {
        if wanted != self.pattern {
            self.pattern = wanted;
            self.since = at;
            effects.push(Effect::Event(Event::Led(wanted)));
        }
        let level = self.pattern.level_at(at.saturating_sub(self.since));
        if level != self.level {
            self.level = level;
            effects.push(Effect::Led(level));
        }
    }

    /// Darkens the LED for good (stop).
    pub(crate) fn switch_off(&mut self, effects: &mut Vec<Effect>) {
        if self.pattern != LedPattern::Off {
            self.pattern = LedPattern::Off;
            effects.push(Effect::Event(Event::Led(LedPattern::Off)));
        }
        if self.level {
            effects.push(Effect::Led(false));
        }
        self.level = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn steady_patterns_never_change() {
        assert!(LedPattern::On.level_at(ms(12345)));
        assert!(!LedPattern::Off.level_at(ms(12345)));
        assert_eq!(LedPattern::On.next_change(ms(5)), None);
    }

    #[test]
    fn one_hertz_is_half_a_second_on_half_off() {
        let p = LedPattern::Blink1Hz;
        assert!(p.level_at(ms(0)));
        assert!(p.level_at(ms(499)));
        assert!(!p.level_at(ms(500)));
        assert!(p.level_at(ms(1000)));
        assert_eq!(p.next_change(ms(0)), Some(ms(500)));
        assert_eq!(p.next_change(ms(500)), Some(ms(1000)));
        assert_eq!(p.next_change(ms(2300)), Some(ms(2500)));
    }

    #[test]
    fn four_hertz_toggles_every_125_ms() {
        let p = LedPattern::Blink4Hz;
        let toggles = (0..8)
            .scan(ms(0), |t, _| {
                *t = p.next_change(*t).unwrap();
                Some(t.as_millis())
            })
            .collect::<Vec<_>>();
        assert_eq!(toggles, vec![125, 250, 375, 500, 625, 750, 875, 1000]);
    }

    #[test]
    fn double_blink_flashes_twice_in_two_seconds() {
        let p = LedPattern::DoubleBlink;
        let lit_ms = (0..2000).filter(|&t| p.level_at(ms(t))).count();
        assert_eq!(lit_ms, 240);
        let mut t = ms(0);
        let mut rises = 0;
        while t < ms(2000) {
            let next = p.next_change(t).unwrap();
            if p.level_at(next) {
                rises += 1;
            }
            t = next;
        }
        assert_eq!(
            rises, 2,
            "two flashes per cycle (the second rise is the cycle restart)"
        );
    }

    #[test]
    fn five_hertz_toggles_every_100_ms() {
        let p = LedPattern::Blink5Hz;
        assert!(p.level_at(ms(0)));
        assert!(!p.level_at(ms(100)));
        assert!(p.level_at(ms(200)));
        assert_eq!(p.next_change(ms(150)), Some(ms(200)));
        let lit_ms = (0..1000).filter(|&t| p.level_at(ms(t))).count();
        assert_eq!(lit_ms, 500);
    }

    #[test]
    fn triple_blink_flashes_three_times_in_two_seconds() {
        let p = LedPattern::TripleBlink;
        let rises = (1..2000)
            .filter(|&t| p.level_at(ms(t)) && !p.level_at(ms(t - 1)))
            .count();
        assert_eq!(rises + 1, 3, "three flashes, the first at the cycle start");
        let lit_ms = (0..2000).filter(|&t| p.level_at(ms(t))).count();
        assert_eq!(lit_ms, 360);
        assert!(!p.level_at(ms(1999)), "dark until the next cycle");
        assert_ne!(
            (0..2000).map(|t| p.level_at(ms(t))).collect::<Vec<_>>(),
            (0..2000)
                .map(|t| LedPattern::DoubleBlink.level_at(ms(t)))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_machine_reports_a_new_pattern_once_and_each_level_change() {
        let mut led = LedState::new(ms(0));
        let mut effects = Vec::new();
        led.show(LedPattern::On, ms(0), &mut effects);
        led.show(LedPattern::On, ms(10), &mut effects);
        assert_eq!(
            effects,
            vec![Effect::Event(Event::Led(LedPattern::On)), Effect::Led(true)]
        );
        assert_eq!(led.deadline(ms(10)), None);
        effects.clear();
        led.show(LedPattern::Blink1Hz, ms(1000), &mut effects);
        assert_eq!(
            effects,
            vec![Effect::Event(Event::Led(LedPattern::Blink1Hz))]
        );
        assert_eq!(led.deadline(ms(1000)), Some(ms(1500)));
        effects.clear();
        led.show(LedPattern::Blink1Hz, ms(1500), &mut effects);
        assert_eq!(effects, vec![Effect::Led(false)]);
        effects.clear();
        led.switch_off(&mut effects);
        assert_eq!(effects, vec![Effect::Event(Event::Led(LedPattern::Off))]);
    }
}
