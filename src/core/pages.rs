//! Custom pages: when their command is run or their file read. Only while
//! the screen is on and the page is shown or next in line, no more often
//! than the page's `every`, and never twice at once: a dark panel costs
//! nothing, and a slow command is never started again before it ends.

use super::{CustomPage, Effect, PageName, Time};

/// The last refresh of each custom page that has had one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct PageRefresh {
    runs: Vec<Run>,
}

#[derive(Debug, Clone, PartialEq)]
struct Run {
    name: PageName,
    /// When the last refresh was started.
    started: Time,
    /// It has not answered yet.
    running: bool,
}

impl PageRefresh {
    /// Starts a refresh of each page of `wanted` whose content is older
    /// than its `every` and that is not being refreshed already.
    pub(crate) fn due(
        &mut self,
        wanted: impl IntoIterator<Item = PageName>,
        pages: &[CustomPage],
        now: Time,
        effects: &mut Vec<Effect>,
    ) {
        for name in wanted {
            let Some(page) = pages.iter().find(|page| page.name == name) else {
                continue;
            };
            match self.runs.iter_mut().find(|run| run.name == name) {
                Some(run) if run.running || now < run.started.saturating_add(page.every) => {
                    continue
                }
                Some(run) => {
                    run.started = now;
                    run.running = true;
                }
                None => self.runs.push(Run {
                    name,
                    started: now,
                    running: true,
                }),
            }
            effects.push(Effect::RefreshPage(name));
        }
    }

    /// The refresh of `name` has answered.
    pub(crate) fn done(&mut self, name: PageName) {
        if let Some(run) = self.runs.iter_mut().find(|run| run.name == name) {
            run.running = false;
        }
    }

    /// New rules: pages that are gone are forgotten.
    pub(crate) fn keep(&mut self, pages: &[CustomPage]) {
        self.runs
            .retain(|run| pages.iter().any(|page| page.name == run.name));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn page(name: &str, every: u64) -> CustomPage {
        CustomPage {
            name: PageName::new(name).unwrap(),
            every: Duration::from_secs(every),
        }
    }

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn a_page_is_refreshed_once_per_every_and_never_while_running() {
        let pages = [page("backup", 30)];
        let name = pages[0].name;
        let mut refresh = PageRefresh::default();
        let mut effects = Vec::new();
        refresh.due([name], &pages, s(0), &mut effects);
        assert_eq!(effects, vec![Effect::RefreshPage(name)]);
        effects.clear();
        refresh.due([name], &pages, s(40), &mut effects);
        assert!(effects.is_empty(), "still running: not started twice");
        refresh.done(name);
        refresh.due([name], &pages, s(29), &mut effects);
        assert!(effects.is_empty(), "29 s old: fresh enough");
        refresh.due([name], &pages, s(30), &mut effects);
        assert_eq!(effects, vec![Effect::RefreshPage(name)]);
    }

    #[test]
    fn unknown_pages_are_not_refreshed_and_removed_pages_forgotten() {
        let pages = [page("backup", 30)];
        let other = PageName::new("pihole").unwrap();
        let mut refresh = PageRefresh::default();
        let mut effects = Vec::new();
        refresh.due([other], &pages, s(0), &mut effects);
        assert!(effects.is_empty());
        refresh.due([pages[0].name], &pages, s(0), &mut effects);
        refresh.keep(&[]);
        assert_eq!(refresh, PageRefresh::default());
    }

    #[test]
    fn a_reload_that_keeps_a_page_keeps_when_it_last_ran() {
        let pages = [page("backup", 30)];
        let name = pages[0].name;
        let mut refresh = PageRefresh::default();
        let mut effects = Vec::new();
        refresh.due([name], &pages, s(0), &mut effects);
        refresh.done(name);
        refresh.keep(&pages);
        effects.clear();
        refresh.due([name], &pages, s(10), &mut effects);
        assert!(
            effects.is_empty(),
            "10 s old after the reload: fresh enough"
        );
    }
}
