//! The screen: on or off, which page, when it times out, when it is redrawn,
//! and the pixel shift that spares a screen that never times out.

use super::{Effect, Event, PageKind, Rules, Time, REFRESH, SHIFT_EVERY};

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Screen {
    on: bool,
    page_index: usize,
    last_activity: Time,
    next_refresh: Option<Time>,
    ip_known: bool,
    start: Time,
}

impl Screen {
    /// A dark screen at the first page.
    pub(crate) fn new(now: Time) -> Self {
        Screen {
            on: false,
            page_index: 0,
            last_activity: now,
            next_refresh: None,
            ip_known: false,
            start: now,
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    pub(crate) fn switch_on(&mut self, at: Time, effects: &mut Vec<Effect>) {
        self.on = true;
        self.last_activity = at;
        self.next_refresh = Some(at.saturating_add(REFRESH));
        effects.push(Effect::DisplayPower(true));
        effects.push(Effect::Event(Event::ScreenOn));
        effects.push(Effect::Draw);
    }

    /// The timeout passed.
    pub(crate) fn switch_off(&mut self, effects: &mut Vec<Effect>) {
        self.on = false;
        self.next_refresh = None;
        effects.push(Effect::DisplayPower(false));
        effects.push(Effect::Event(Event::ScreenOff));
    }

    /// The firmware stops: dark, without a screen-off event.
    pub(crate) fn stop(&mut self, effects: &mut Vec<Effect>) {
        if self.on {
            self.on = false;
            effects.push(Effect::DisplayPower(false));
        }
    }

    /// Someone did something: the timeout starts again.
    pub(crate) fn touch(&mut self, at: Time) {
        self.last_activity = at;
    }

    /// When the screen times out; `idle` is false while a press or an action
    /// holds it on.
    pub(crate) fn timeout_deadline(&self, rules: &Rules, idle: bool) -> Option<Time> {
        let timeout = rules.screen_timeout?;
        if !self.on || !idle || (rules.show_until_ip && !self.ip_known) {
            return None;
        }
        Some(self.last_activity.saturating_add(timeout))
    }

    pub(crate) fn refresh_deadline(&self) -> Option<Time> {
        self.next_refresh
    }

    /// The periodic redraw is due.
    pub(crate) fn refresh(&mut self, at: Time, effects: &mut Vec<Effect>) {
        self.next_refresh = Some(at.saturating_add(REFRESH));
        effects.push(Effect::Draw);
    }

    /// Redraws now and a second from now (a countdown ticks on whole
    /// seconds of the hold).
    pub(crate) fn redraw_from(&mut self, at: Time, effects: &mut Vec<Effect>) {
        effects.push(Effect::Draw);
        self.next_refresh = Some(at.saturating_add(REFRESH));
    }

    /// The page shown; the index is kept within the pages (`turn_page`,
    /// `keep_page_within`), and an empty list, which the config refuses,
    /// shows the info page rather than panicking.
    pub(crate) fn page(&self, rules: &Rules) -> PageKind {
        rules
            .pages
            .get(self.page_index)
            .copied()
            .unwrap_or(PageKind::Info)
    }

    /// The page a short press shows next.
    pub(crate) fn next_page(&self, rules: &Rules) -> PageKind {
        let next = (self.page_index + 1) % rules.pages.len().max(1);
        rules.pages.get(next).copied().unwrap_or(PageKind::Info)
    }

    /// A short press: the next page.
    pub(crate) fn turn_page(&mut self, rules: &Rules, effects: &mut Vec<Effect>) {
        self.page_index = (self.page_index + 1) % rules.pages.len().max(1);
        effects.push(Effect::Event(Event::Page(self.page(rules))));
        effects.push(Effect::Draw);
    }

    /// Whether the next short press would wrap round to the first page.
    pub(crate) fn on_last_page(&self, rules: &Rules) -> bool {
        self.page_index + 1 >= rules.pages.len()
    }

    /// Back to the first page (after the attention page).
    pub(crate) fn first_page(&mut self, rules: &Rules, effects: &mut Vec<Effect>) {
        self.page_index = 0;
        effects.push(Effect::Event(Event::Page(self.page(rules))));
        effects.push(Effect::Draw);
    }

    /// New rules with other pages: stay on a page that exists.
    pub(crate) fn keep_page_within(&mut self, pages: usize) {
        self.page_index %= pages.max(1);
    }

    /// Whether the machine has an address; when `show_until_ip` waited for
    /// it, it is shown for a whole timeout.
    pub(crate) fn ip_known(&mut self, known: bool, now: Time, rules: &Rules) {
        if known && !self.ip_known && rules.show_until_ip {
            self.last_activity = now;
        }
        self.ip_known = known;
    }

    /// Pixel offset (x, y) at `now`: with no timeout, the content moves by a
    /// pixel every [`SHIFT_EVERY`], round a square.
    pub(crate) fn shift(&self, rules: &Rules, now: Time) -> (i32, i32) {
        if rules.screen_timeout.is_some() {
            return (0, 0);
        }
        let step = now.saturating_sub(self.start).as_secs() / SHIFT_EVERY.as_secs();
        [(0, 0), (1, 0), (1, 1), (0, 1)][(step % 4) as usize]
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn the_timeout_counts_from_the_last_activity_and_only_while_idle() {
        let rules = Rules::default();
        let mut screen = Screen::new(s(0));
        assert_eq!(screen.timeout_deadline(&rules, true), None, "off");
        screen.switch_on(s(1), &mut Vec::new());
        assert_eq!(screen.timeout_deadline(&rules, true), Some(s(16)));
        screen.touch(s(5));
        assert_eq!(screen.timeout_deadline(&rules, true), Some(s(20)));
        assert_eq!(screen.timeout_deadline(&rules, false), None);
    }

    #[test]
    fn show_until_ip_holds_the_timeout_until_an_address_and_then_restarts_it() {
        let rules = Rules {
            show_until_ip: true,
            ..Rules::default()
        };
        let mut screen = Screen::new(s(0));
        screen.switch_on(s(0), &mut Vec::new());
        assert_eq!(screen.timeout_deadline(&rules, true), None);
        screen.ip_known(true, s(40), &rules);
        assert_eq!(screen.timeout_deadline(&rules, true), Some(s(55)));
    }

    #[test]
    fn pages_cycle_and_survive_fewer_pages() {
        let rules = Rules::default();
        let mut screen = Screen::new(s(0));
        let mut effects = Vec::new();
        screen.turn_page(&rules, &mut effects);
        screen.turn_page(&rules, &mut effects);
        assert_eq!(screen.page(&rules), PageKind::Network);
        screen.turn_page(&rules, &mut effects);
        assert_eq!(screen.page(&rules), PageKind::Info);
        screen.turn_page(&rules, &mut effects);
        screen.keep_page_within(1);
        let one = Rules {
            pages: vec![PageKind::Network],
            ..Rules::default()
        };
        assert_eq!(screen.page(&one), PageKind::Network);
    }

    #[test]
    fn without_a_timeout_the_content_moves_round_a_square() {
        let rules = Rules {
            screen_timeout: None,
            ..Rules::default()
        };
        let screen = Screen::new(s(100));
        let shifts: Vec<_> = (0..5)
            .map(|i| screen.shift(&rules, s(100 + i * 180)))
            .collect();
        assert_eq!(shifts, vec![(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]);
        assert_eq!(
            screen.shift(&rules, s(0)),
            (0, 0),
            "a clock behind the start"
        );
        assert_eq!(screen.shift(&Rules::default(), s(280)), (0, 0));
    }
}
