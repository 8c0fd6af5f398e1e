//! The simulator's clock: virtual (advanced only by the script, so a long
//! scenario runs in milliseconds) or real.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The simulator's clock: advanced by the script, or the real one.
#[derive(Debug, Clone)]
pub enum SimClock {
    /// Time moves only when the scenario says so.
    Virtual(Rc<Cell<Duration>>),
    /// Time since the simulator started.
    Real(Instant),
}

impl SimClock {
    /// A clock at zero.
    pub fn new(virtual_time: bool) -> Self {
        if virtual_time {
            SimClock::Virtual(Rc::new(Cell::new(Duration::ZERO)))
        } else {
            SimClock::Real(Instant::now())
        }
    }

    /// Now, since the start.
    pub fn now(&self) -> Duration {
        match self {
            SimClock::Virtual(t) => t.get(),
            SimClock::Real(start) => start.elapsed(),
        }
    }
}
