//! The threads behind the custom pages: one long-lived worker per page that
//! runs its command or reads its file when asked, and one alarm that wakes
//! the main loop when a worker is late. A worker stuck on a hung file
//! cannot be stopped, so the loop never waits for one: it asks, and shows
//! an error when no answer has come in time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Instant;

use crate::config::PageOrigin as Source;
use crate::core::PageName;
use crate::stats::PageText;

/// What a worker found for one refresh.
pub(crate) struct Answer {
    pub page: PageName,
    /// The refresh's number (unique to a [`CustomPages`](super::pages::CustomPages)).
    pub refresh: u64,
    pub text: PageText,
}

/// A page's worker thread, and the refresh it has not answered yet.
pub(crate) struct Worker {
    /// What it runs or reads.
    pub source: Source,
    requests: Sender<u64>,
    /// The refresh asked for and not answered: at most one, so a hung file
    /// holds one thread, never more.
    pub asked: Option<Asked>,
    /// Whether its thread is inside a refresh (a read or a run) right now.
    in_refresh: Arc<AtomicBool>,
}

/// A refresh asked of a worker.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub refresh: u64,
    pub at: Instant,
    /// Its time ran out: the page says so, and the answer, if it ever
    /// comes, is dropped.
    pub given_up: bool,
}

impl Worker {
    /// Starts the worker of `page`; each answer goes to `answers`, and a
    /// byte to `waker`. `refresh_text` runs or reads `source`. The thread
    /// ends when the worker is dropped and its current refresh is over.
    pub fn start(
        page: PageName,
        source: Source,
        answers: Sender<Answer>,
        waker: Option<UnixStream>,
        refresh_text: fn(PageName, &Source) -> PageText,
    ) -> std::io::Result<Worker> {
        let (requests, asked) = channel::<u64>();
        let runs = source.clone();
        let in_refresh = Arc::new(AtomicBool::new(false));
        let inside = Arc::clone(&in_refresh);
        std::thread::Builder::new()
            .name("page-worker".into())
            .spawn(move || {
                for refresh in asked {
                    inside.store(true, Ordering::Release);
                    let text = refresh_text(page, &runs);
                    inside.store(false, Ordering::Release);
                    if answers
                        .send(Answer {
                            page,
                            refresh,
                            text,
                        })
                        .is_err()
                    {
                        return;
                    }
                    if let Some(mut waker) = waker.as_ref() {
                        let _ = waker.write_all(&[1]);
                    }
                }
            })?;
        Ok(Worker {
            source,
            requests,
            asked: None,
            in_refresh,
        })
    }

    /// Asks for refresh number `refresh`, at `now`; false if the worker is
    /// gone (it cannot be: it only ends when dropped).
    pub(crate) fn ask(&mut self, refresh: u64, now: Instant) -> bool {
        if self.requests.send(refresh).is_err() {
            return false;
        }
        self.asked = Some(Asked {
            refresh,
            at: now,
            given_up: false,
        });
        true
    }

    /// What tells, once the worker is dropped, whether its thread is still
    /// stuck in a refresh.
    pub(crate) fn in_refresh(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.in_refresh)
    }

    /// A refresh is under way and not given up.
    pub fn busy(&self) -> bool {
        self.asked.is_some_and(|asked| !asked.given_up)
    }
}

/// Writes a byte to the loop's waker at each instant it is given: the loop
/// then sees that a worker is late, though nothing came back.
pub(crate) struct Alarm {
    set: Sender<Instant>,
}

impl Alarm {
    pub fn start(waker: UnixStream) -> std::io::Result<Alarm> {
        let (set, instants) = channel::<Instant>();
        std::thread::Builder::new()
            .name("page-alarm".into())
            .spawn(move || {
                let mut due = BinaryHeap::new();
                loop {
                    let next = due.peek().map(|Reverse(at): &Reverse<Instant>| *at);
                    let got = match next {
                        Some(at) => {
                            instants.recv_timeout(at.saturating_duration_since(Instant::now()))
                        }
                        None => instants.recv().map_err(|_| RecvTimeoutError::Disconnected),
                    };
                    match got {
                        Ok(at) => due.push(Reverse(at)),
                        Err(RecvTimeoutError::Timeout) => {
                            let now = Instant::now();
                            while due.peek().is_some_and(|Reverse(at)| *at <= now) {
                                due.pop();
                            }
                            let _ = (&waker).write_all(&[1]);
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok(Alarm { set })
    }

    /// Wakes the loop at `at`.
    pub fn at(&self, at: Instant) {
        let _ = self.set.send(at);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_alarm_wakes_the_loop_at_each_instant_in_order() {
        let (waker, mut woken) = UnixStream::pair().unwrap();
        let alarm = Alarm::start(waker).unwrap();
        let start = Instant::now();
        alarm.at(start + Duration::from_millis(600));
        alarm.at(start + Duration::from_millis(300));
        let mut byte = [0];
        woken.read_exact(&mut byte).unwrap();
        let first = start.elapsed();
        woken.read_exact(&mut byte).unwrap();
        let second = start.elapsed();
        assert!(first >= Duration::from_millis(300), "{first:?}");
        assert!(second >= Duration::from_millis(600), "{second:?}");
        assert!(second < Duration::from_secs(10), "{second:?}");
        woken.set_nonblocking(true).unwrap();
        assert!(woken.read(&mut byte).is_err(), "woken once per instant");
    }
}
