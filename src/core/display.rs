//! Display health: whether the display answers, when to try a lost one
//! again (1 s, doubling, at most 30 s, and only while the screen is wanted),
//! and the full redraw once it answers again. The runtime reports what the
//! display did; this decides what to ask of it next.

use std::time::Duration;

use super::{Effect, Event, Time};

/// When to try a lost display again: 1 s, doubling, at most 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Self::FIRST }
    }
}

impl Backoff {
    const FIRST: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(30);

    /// The wait before the next try; each call doubles the one after.
    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(Self::MAX);
        delay
    }

    /// After a success: start again from the first wait.
    pub(crate) fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DisplayHealth {
    answers: bool,
    retry_at: Option<Time>,
    backoff: Backoff,
}

impl DisplayHealth {
    /// A display not yet initialised: the first effect asks for it.
    pub(crate) fn new() -> Self {
        DisplayHealth {
            answers: true,
            retry_at: None,
            backoff: Backoff::default(),
        }
    }

    pub(crate) fn answers(&self) -> bool {
        self.answers
    }

    /// When to initialise the display again: only while the screen is wanted.
    pub(crate) fn deadline(&self, screen_on: bool) -> Option<Time> {
        self.retry_at.filter(|_| screen_on)
    }

    /// The retry is due: ask for an initialisation, whose result comes back
    /// through [`DisplayHealth::answered`] or [`DisplayHealth::failed`].
    pub(crate) fn retry(&mut self, effects: &mut Vec<Effect>) {
        self.retry_at = None;
        effects.push(Effect::InitDisplay);
    }

    /// A display operation failed at `now`: the loss is reported once, and
    /// the next try waits longer than the last.
    pub(crate) fn failed(&mut self, now: Time, effects: &mut Vec<Effect>) {
        if self.answers {
            self.answers = false;
            effects.push(Effect::Event(Event::DisplayLost));
        }
        self.retry_at = Some(now.saturating_add(self.backoff.next_delay()));
    }

    /// The display answers again (it was just initialised, so it remembers
    /// nothing): the screen is redrawn whole and switched as it should be.
    pub(crate) fn answered(&mut self, screen_on: bool, effects: &mut Vec<Effect>) {
        self.retry_at = None;
        if self.answers {
            return;
        }
        self.answers = true;
        self.backoff.reset();
        if screen_on {
            effects.push(Effect::Draw);
        }
        effects.push(Effect::DisplayPower(screen_on));
        effects.push(Effect::Event(Event::DisplayRestored));
    }

    /// Keeps the display effects of one step from a display that does not
    /// answer, and draws only while the screen is on. When the screen is
    /// wanted again, a lost display is tried at once.
    pub(crate) fn filter(&mut self, effects: &mut Vec<Effect>, screen_on: bool, now: Time) {
        if !self.answers {
            if effects.contains(&Effect::DisplayPower(true)) && self.retry_at.is_none() {
                self.retry_at = Some(now);
            }
            effects.retain(|e| !matches!(e, Effect::Draw | Effect::DisplayPower(_)));
        } else if !screen_on {
            effects.retain(|e| *e != Effect::Draw);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn a_loss_is_reported_once_and_each_failed_try_waits_longer() {
        let mut health = DisplayHealth::new();
        let mut effects = Vec::new();
        health.failed(s(10), &mut effects);
        assert_eq!(effects, vec![Effect::Event(Event::DisplayLost)]);
        assert_eq!(health.deadline(true), Some(s(11)));
        effects.clear();
        health.retry(&mut effects);
        assert_eq!(effects, vec![Effect::InitDisplay]);
        assert_eq!(health.deadline(true), None, "one try at a time");
        effects.clear();
        health.failed(s(11), &mut effects);
        assert_eq!(effects, vec![], "reported once, not per retry");
        assert_eq!(health.deadline(true), Some(s(13)));
    }

    #[test]
    fn retries_wait_while_the_screen_is_off() {
        let mut health = DisplayHealth::new();
        health.failed(s(0), &mut Vec::new());
        assert_eq!(health.deadline(false), None);
        assert_eq!(health.deadline(true), Some(s(1)));
    }

    #[test]
    fn a_lost_display_gets_no_drawing_and_is_tried_when_the_screen_is_wanted() {
        let mut health = DisplayHealth::new();
        health.failed(s(0), &mut Vec::new());
        health.retry(&mut Vec::new());
        let mut effects = vec![
            Effect::DisplayPower(true),
            Effect::Event(Event::ScreenOn),
            Effect::Draw,
        ];
        health.filter(&mut effects, true, s(5));
        assert_eq!(effects, vec![Effect::Event(Event::ScreenOn)]);
        assert_eq!(health.deadline(true), Some(s(5)));
    }

    #[test]
    fn a_display_that_answers_again_is_redrawn_whole_and_backs_off_from_one_second() {
        let mut health = DisplayHealth::new();
        for t in 0..4 {
            health.failed(s(t), &mut Vec::new());
        }
        let mut effects = Vec::new();
        health.answered(true, &mut effects);
        assert_eq!(
            effects,
            vec![
                Effect::Draw,
                Effect::DisplayPower(true),
                Effect::Event(Event::DisplayRestored)
            ]
        );
        assert!(health.answers());
        effects.clear();
        health.failed(s(100), &mut effects);
        assert_eq!(health.deadline(true), Some(s(101)));
        effects.clear();
        health.answered(false, &mut effects);
        assert_eq!(
            effects,
            vec![
                Effect::DisplayPower(false),
                Effect::Event(Event::DisplayRestored)
            ],
            "restored while the screen is off: kept dark"
        );
    }

    #[test]
    fn draws_while_the_screen_is_off_are_dropped() {
        let mut health = DisplayHealth::new();
        let mut effects = vec![Effect::Draw, Effect::DisplayPower(false)];
        health.filter(&mut effects, false, s(0));
        assert_eq!(effects, vec![Effect::DisplayPower(false)]);
    }
}
