//! The display port and its one adapter: the `ssd1306` driver over any
//! embedded-hal I2C bus (the kernel's i2c-dev on a Pi, the simulated bus in
//! the simulator). Frames are compared with what was last sent, and only the
//! changed regions are flushed.

use std::time::Duration;

use embedded_hal::i2c::I2c;
use ssd1306::mode::BufferedGraphicsMode;
use ssd1306::prelude::*;
use ssd1306::size::{DisplaySize128x32, DisplaySize128x64};
use ssd1306::{I2CDisplayInterface, Ssd1306};

use crate::config::{Config, PanelSize};
use crate::frame::Frame;

/// Why the display could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayFault {
    /// The I2C bus device could not be opened.
    #[error("cannot open I2C bus {bus}: {reason} (enable I2C with dtparam=i2c_arm=on in config.txt; the user needs the i2c group)")]
    Bus {
        /// The device path.
        bus: String,
        /// What the OS said.
        reason: String,
    },
    /// The panel did not acknowledge a write.
    #[error("the display at {address:#04x} does not answer ({detail}): check its wiring (see wiring.md)")]
    NoAnswer {
        /// Its address.
        address: u8,
        /// The driver's description.
        detail: String,
    },
}

/// What the firmware needs from a display.
pub trait DisplayPort {
    /// (Re)initialises the panel; afterwards the next `show` sends a full frame.
    fn init(&mut self) -> Result<(), DisplayFault>;
    /// Shows `frame`, sending only what differs from the last frame sent.
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayFault>;
    /// Switches the panel on or off (SSD1306 0xAF / 0xAE).
    fn set_on(&mut self, on: bool) -> Result<(), DisplayFault>;
    /// Panel width and height.
    fn dimensions(&self) -> (u32, u32);
}

/// Opens the I2C bus the panel is on.
pub trait BusOpener {
    /// The bus type.
    type Bus: I2c;
    /// Opens the bus (called again after a failure).
    fn open(&mut self) -> Result<Self::Bus, DisplayFault>;
}

/// Opens a Linux i2c-dev bus.
pub struct LinuxBus {
    path: std::path::PathBuf,
}

impl LinuxBus {
    /// The bus at `path`, opened when needed.
    pub fn new(path: &std::path::Path) -> Self {
        LinuxBus {
            path: path.to_path_buf(),
        }
    }
}

impl BusOpener for LinuxBus {
    type Bus = linux_embedded_hal::I2cdev;

    fn open(&mut self) -> Result<Self::Bus, DisplayFault> {
        linux_embedded_hal::I2cdev::new(&self.path).map_err(|err| DisplayFault::Bus {
            bus: self.path.display().to_string(),
            reason: err.to_string(),
        })
    }
}

type Driver<I, S> = Ssd1306<I2CInterface<I>, S, BufferedGraphicsMode<S>>;

// One panel per process: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
enum AnyDriver<I: I2c> {
    Small(Driver<I, DisplaySize128x32>),
    Tall(Driver<I, DisplaySize128x64>),
}

macro_rules! with_driver {
    ($sized:expr, $d:ident => $body:expr) => {
        match $sized {
            AnyDriver::Small($d) => $body,
            AnyDriver::Tall($d) => $body,
        }
    };
}

/// How the panel is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelSettings {
    /// 7-bit address.
    pub address: u8,
    /// Size.
    pub size: PanelSize,
    /// Mounted upside down (rotation 180).
    pub upside_down: bool,
    /// Contrast 0–255.
    pub contrast: u8,
}

impl PanelSettings {
    /// The settings in `config` (which has been validated).
    pub fn from_config(config: &Config) -> Self {
        PanelSettings {
            address: config.display.address as u8,
            size: config.display.size,
            upside_down: config.upside_down(),
            contrast: config.display.contrast as u8,
        }
    }
}

/// Counters for benchmarks and the closing numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushStats {
    /// Frames shown.
    pub frames: u64,
    /// Rectangles flushed.
    pub regions: u64,
}

/// The SSD1306 adapter.
pub struct Ssd1306Port<B: BusOpener> {
    opener: B,
    settings: PanelSettings,
    driver: Option<AnyDriver<B::Bus>>,
    sent: Option<Frame>,
    /// Counts frames and regions sent.
    pub counters: FlushStats,
}

impl<B: BusOpener> Ssd1306Port<B> {
    /// A panel reached through `opener`; nothing is sent until `init`.
    pub fn new(opener: B, settings: PanelSettings) -> Self {
        Ssd1306Port {
            opener,
            settings,
            driver: None,
            sent: None,
            counters: FlushStats::default(),
        }
    }

    /// Opens the bus without sending anything, so that `set_on` reaches a
    /// panel another process set up (`rackpi-panel off`); `init` would light
    /// it first.
    pub fn attach(&mut self) -> Result<(), DisplayFault> {
        if self.driver.is_none() {
            self.driver = Some(self.build()?);
        }
        Ok(())
    }

    fn fault(&self, err: display_interface::DisplayError) -> DisplayFault {
        DisplayFault::NoAnswer {
            address: self.settings.address,
            detail: format!("{err:?}"),
        }
    }

    fn build(&mut self) -> Result<AnyDriver<B::Bus>, DisplayFault> {
        let bus = self.opener.open()?;
        let interface = I2CDisplayInterface::new_custom_address(bus, self.settings.address);
        let rotation = if self.settings.upside_down {
            DisplayRotation::Rotate180
        } else {
            DisplayRotation::Rotate0
        };
        Ok(match self.settings.size {
            PanelSize::W128H32 => AnyDriver::Small(
                Ssd1306::new(interface, DisplaySize128x32, rotation).into_buffered_graphics_mode(),
            ),
            PanelSize::W128H64 => AnyDriver::Tall(
                Ssd1306::new(interface, DisplaySize128x64, rotation).into_buffered_graphics_mode(),
            ),
        })
    }

    fn try_init(&mut self) -> Result<(), DisplayFault> {
        let mut driver = match self.driver.take() {
            Some(driver) => driver,
            None => self.build()?,
        };
        let brightness = ssd1306::prelude::Brightness::custom(2, self.settings.contrast);
        let result = with_driver!(&mut driver, d => {
            d.init()
                .and_then(|_| d.set_brightness(brightness))
        });
        self.driver = Some(driver);
        result.map_err(|e| self.fault(e))
    }

    /// Sends the pixels of `frame` in `rows` × `columns`; the driver flushes
    /// the smallest window of whole 8-row pages that covers them.
    fn flush_window(
        &mut self,
        frame: &Frame,
        rows: std::ops::Range<u32>,
        columns: std::ops::Range<u32>,
    ) -> Result<(), DisplayFault> {
        let Some(driver) = self.driver.as_mut() else {
            return Ok(());
        };
        let result = with_driver!(driver, d => {
            for y in rows.clone() {
                for x in columns.clone() {
                    d.set_pixel(x, y, frame.get(x, y));
                }
            }
            d.flush()
        });
        self.counters.regions += 1;
        result.map_err(|e| self.fault(e))
    }
}

/// Column ranges of one 8-row band that differ between `old` and `new`;
/// ranges closer than `merge_gap` columns are sent as one (each region costs
/// about eight bytes of addressing).
pub fn changed_columns(
    old: Option<&Frame>,
    new: &Frame,
    page: u32,
    merge_gap: u32,
) -> Vec<std::ops::Range<u32>> {
    let differs = |x: u32| {
        (page * 8..page * 8 + 8).any(|y| old.is_none_or(|old| old.get(x, y) != new.get(x, y)))
    };
    let mut ranges: Vec<std::ops::Range<u32>> = Vec::new();
    for x in 0..new.width() {
        if !differs(x) {
            continue;
        }
        match ranges.last_mut() {
            Some(last) if x - last.end <= merge_gap => last.end = x + 1,
            _ => ranges.push(x..x + 1),
        }
    }
    ranges
}

impl<B: BusOpener> DisplayPort for Ssd1306Port<B> {
    fn init(&mut self) -> Result<(), DisplayFault> {
        self.sent = None;
        let result = self.try_init();
        if result.is_err() {
            // reopen the bus next time: the device may have gone away
            self.driver = None;
        }
        result
    }

    fn show(&mut self, frame: &Frame) -> Result<(), DisplayFault> {
        self.counters.frames += 1;
        let old = self.sent.take();
        if old.is_none() {
            // after (re)initialisation: the whole frame in one window
            self.flush_window(frame, 0..frame.height(), 0..frame.width())?;
        } else {
            for page in 0..frame.height() / 8 {
                for columns in changed_columns(old.as_ref(), frame, page, 8) {
                    self.flush_window(frame, page * 8..page * 8 + 8, columns)?;
                }
            }
        }
        self.sent = Some(frame.clone());
        Ok(())
    }

    fn set_on(&mut self, on: bool) -> Result<(), DisplayFault> {
        let Some(driver) = self.driver.as_mut() else {
            return Ok(());
        };
        let result = with_driver!(driver, d => d.set_display_on(on));
        result.map_err(|e| self.fault(e))
    }

    fn dimensions(&self) -> (u32, u32) {
        self.settings.size.dimensions()
    }
}

/// When to try a lost display again: 1 s, doubling, at most 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: Self::FIRST }
    }
}

impl Backoff {
    /// The first wait.
    pub const FIRST: Duration = Duration::from_secs(1);
    /// The longest wait.
    pub const MAX: Duration = Duration::from_secs(30);

    /// The wait before the next try; each call doubles the one after.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }

    /// After a success: start again from the first wait.
    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_thirty() {
        let mut backoff = Backoff::default();
        let delays: Vec<u64> = (0..8).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn changed_columns_groups_nearby_changes() {
        let old = Frame::new(128, 32);
        let mut new = old.clone();
        new.set(3, 1, true);
        new.set(6, 2, true);
        new.set(100, 7, true);
        new.set(50, 9, true);
        assert_eq!(
            changed_columns(Some(&old), &new, 0, 8),
            vec![3..7, 100..101]
        );
        assert_eq!(changed_columns(Some(&old), &new, 1, 8), vec![50..51]);
        assert!(changed_columns(Some(&old), &new, 2, 8).is_empty());
        assert_eq!(changed_columns(None, &new, 3, 8), vec![0..128]);
    }
}
