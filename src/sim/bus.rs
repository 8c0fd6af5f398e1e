//! The simulated I2C bus: an SSD1306 model at the panel's address that can
//! be unplugged, a log of every write, and fault injection.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use embedded_hal::i2c::{ErrorKind, ErrorType, NoAcknowledgeSource, Operation};

use crate::app::ports::{BusOpener, DisplayFault};

use super::ssd1306_model::Ssd1306Model;
use super::SimClock;

/// Figures of the traffic on the bus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusCounters {
    /// Acknowledged write transactions.
    pub transactions: u64,
    /// Bytes in them (control bytes included, address excluded).
    pub bytes: u64,
    /// Transactions refused with a NACK.
    pub nacks: u64,
}

/// The bus and the panel on it.
pub struct BusState {
    /// The SSD1306 model at `address`.
    pub model: Ssd1306Model,
    /// The panel's 7-bit address.
    pub address: u8,
    /// False: the panel does not acknowledge (unplugged).
    pub plugged: bool,
    /// Traffic so far.
    pub counters: BusCounters,
    /// Every acknowledged write: `T_MS ADDR BYTES`.
    pub log: Option<Box<dyn Write>>,
    /// Whether writing the log failed (reported once at the end).
    pub log_error: Option<std::io::Error>,
    /// Make every n-th transaction fail (fault injection); 0 = never.
    pub fail_every: u64,
    clock: SimClock,
}

/// A shared handle on the bus: the display adapter's I2C, the script's plug.
#[derive(Clone)]
pub struct SimBus(Rc<RefCell<BusState>>);

impl SimBus {
    /// A bus with a freshly powered SSD1306 at `address`.
    pub fn new(address: u8, clock: SimClock) -> Self {
        SimBus(Rc::new(RefCell::new(BusState {
            model: Ssd1306Model::new(),
            address,
            plugged: true,
            counters: BusCounters::default(),
            log: None,
            log_error: None,
            fail_every: 0,
            clock,
        })))
    }

    /// Looks at or changes the bus.
    pub fn state(&self) -> std::cell::RefMut<'_, BusState> {
        self.0.borrow_mut()
    }
}

/// The I2C error a real bus gives for an address nobody answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack;

impl embedded_hal::i2c::Error for Nack {
    fn kind(&self) -> ErrorKind {
        ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address)
    }
}

impl ErrorType for SimBus {
    type Error = Nack;
}

impl embedded_hal::i2c::I2c for SimBus {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        let mut bus = self.0.borrow_mut();
        let injected = bus.fail_every > 0
            && (bus.counters.transactions + bus.counters.nacks + 1) % bus.fail_every == 0;
        if address != bus.address || !bus.plugged || injected {
            bus.counters.nacks += 1;
            return Err(Nack);
        }
        let ms = bus.clock.now().as_millis();
        for op in operations.iter_mut() {
            match op {
                Operation::Write(bytes) => {
                    bus.counters.transactions += 1;
                    bus.counters.bytes += bytes.len() as u64;
                    bus.model.write(bytes);
                    if let Some(log) = bus.log.as_mut() {
                        let mut line = format!("{ms} {address:02x}");
                        for b in bytes.iter() {
                            line.push_str(&format!(" {b:02x}"));
                        }
                        line.push('\n');
                        if let Err(err) = log.write_all(line.as_bytes()) {
                            bus.log = None;
                            bus.log_error = Some(err);
                        }
                    }
                }
                // the SSD1306 on I2C is write-only: a read returns zeros
                Operation::Read(buf) => buf.fill(0),
            }
        }
        Ok(())
    }
}

impl BusOpener for SimBus {
    type Bus = SimBus;

    fn open(&mut self) -> Result<Self::Bus, DisplayFault> {
        Ok(self.clone())
    }
}
