//! The simulated LED, power commands, statistics and custom pages.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::app::ports::{GpioError, LedPort, PageSource, PowerError, PowerPort, StatsSource};
use crate::config::PageConfig;
use crate::core::{PageKind, PageName, PowerAction};
use crate::linux::pages::CustomPages;
use crate::stats::{PageText, Stats};

use super::ups::SimUps;
use super::{SimBus, SimClock};

/// Handles on the simulated hardware for what plays the world around the
/// firmware: the keys or a script work the bus and the power commands, the
/// terminal's screen shows them and the LED. Each is a clone of the port
/// the firmware drives.
#[derive(Clone)]
pub(crate) struct Devices {
    pub(crate) clock: SimClock,
    pub(crate) bus: SimBus,
    pub(crate) led: SimLed,
    pub(crate) power: SimPower,
    pub(crate) ups: SimUps,
}

impl Devices {
    /// A panel answering at `address`, the LED dark, power commands that
    /// succeed, the UPS as the figures say.
    pub(crate) fn new(clock: SimClock, address: u8) -> Self {
        Devices {
            bus: SimBus::new(address, clock.clone()),
            clock,
            led: SimLed::default(),
            power: SimPower::default(),
            ups: SimUps::default(),
        }
    }
}

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

/// The custom pages in the simulator. Their commands really run and their
/// files are really read, so a scenario shows what they print. With virtual
/// time a command takes no time at all: the run waits for it (up to its
/// timeout), and every run of a scenario gives the same frames.
pub(crate) struct SimPages {
    /// The real adapter.
    pub(crate) pages: CustomPages,
    /// Wait for each command (virtual time).
    pub(crate) virtual_time: bool,
}

impl PageSource for SimPages {
    fn refresh(&mut self, name: PageName) {
        self.pages.refresh(name);
        if self.virtual_time {
            let limit = self.pages.longest_refresh();
            self.pages.wait_idle(limit);
        }
    }

    fn poll(&mut self) -> Vec<(PageName, bool)> {
        self.pages.poll()
    }

    fn text(&self, name: PageName) -> PageText {
        self.pages.text(name)
    }

    fn reconfigure(&mut self, pages: &[PageConfig]) {
        self.pages.reconfigure(pages);
    }
}
