//! The simulated LED, power commands and statistics.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::core::{PageKind, PowerAction};
use crate::ports::{GpioError, LedPort, PowerError, PowerPort, StatsSource};
use crate::stats::Stats;

/// The simulated LED: remembers its level.
#[derive(Debug, Clone, Default)]
pub struct SimLed(pub Rc<Cell<bool>>);

impl LedPort for SimLed {
    fn set(&mut self, lit: bool) -> Result<(), GpioError> {
        self.0.set(lit);
        Ok(())
    }
}

/// Simulated power commands: recorded, never run.
#[derive(Debug, Clone, Default)]
pub struct SimPower {
    /// True after `power fail`: the next commands fail.
    pub failing: Rc<Cell<bool>>,
    /// Every action started, in order.
    pub started: Rc<RefCell<Vec<PowerAction>>>,
    result: Rc<RefCell<Option<Result<(), PowerError>>>>,
}

impl PowerPort for SimPower {
    fn start(&mut self, action: PowerAction) {
        self.started.borrow_mut().push(action);
        let result = if self.failing.get() {
            Err(PowerError::Simulated {
                action: action.name(),
            })
        } else {
            log::info!("simulation: {} recorded, not run", action.name());
            Ok(())
        };
        *self.result.borrow_mut() = Some(result);
    }

    fn poll(&mut self) -> Option<Result<(), PowerError>> {
        self.result.borrow_mut().take()
    }
}

/// Always the same sample data.
#[derive(Debug, Default)]
pub struct FakeStats;

impl StatsSource for FakeStats {
    fn sample(&mut self, _page: PageKind) -> Stats {
        Stats::sample()
    }
}
