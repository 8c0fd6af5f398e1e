//! The SSD1306 adapter: the `ssd1306` driver over any embedded-hal I2C bus
//! (the kernel's i2c-dev on a Pi, the simulated bus in the simulator), for
//! either panel size. Frames are compared with what was last sent, and only
//! the changed regions are flushed. The only file that knows the driver.

use std::cell::Cell;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use display_interface::DisplayError;
use embedded_hal::i2c::{self, ErrorKind, ErrorType, I2c, Operation};
use ssd1306::mode::BufferedGraphicsMode;
use ssd1306::prelude::*;
use ssd1306::size::{DisplaySize128x32, DisplaySize128x64};
use ssd1306::{I2CDisplayInterface, Ssd1306};

use crate::app::ports::{BusOpener, DisplayFault, DisplayPort};
use crate::config::{Config, PanelSize};
use crate::frame::Frame;

/// Opens a Linux i2c-dev bus.
pub(crate) struct LinuxBus {
    path: PathBuf,
}

impl LinuxBus {
    /// The bus at `path`, opened when needed.
    pub fn new(path: &Path) -> Self {
        LinuxBus {
            path: path.to_path_buf(),
        }
    }
}

impl BusOpener for LinuxBus {
    type Bus = linux_embedded_hal::I2cdev;

    fn open(&mut self) -> Result<Self::Bus, DisplayFault> {
        linux_embedded_hal::I2cdev::new(&self.path).map_err(|err| {
            let bus = self.path.display().to_string();
            let err = std::io::Error::from(err);
            match err.kind() {
                std::io::ErrorKind::NotFound => DisplayFault::NoBus { bus },
                std::io::ErrorKind::PermissionDenied => DisplayFault::BusDenied { bus },
                _ => DisplayFault::Bus {
                    bus,
                    reason: err.to_string(),
                },
            }
        })
    }
}

/// How the panel is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PanelSettings {
    /// 7-bit address.
    pub address: u8,
    /// Width × height in pixels.
    pub size: PanelSize,
    /// Mounted upside down (rotation 180).
    pub upside_down: bool,
    /// Contrast 0–255.
    pub contrast: u8,
}

impl PanelSettings {
    /// The settings in `config`.
    pub fn from_config(config: &Config) -> Self {
        PanelSettings {
            address: config.display.address,
            size: config.display.size,
            upside_down: config.upside_down(),
            contrast: config.display.contrast,
        }
    }
}

/// An I2C bus that remembers the kind of its last error: the driver reports
/// every bus error alike, and a panel that does not acknowledge is a
/// different problem from a bus that fails.
struct Watched<B> {
    bus: B,
    last_error: Rc<Cell<Option<ErrorKind>>>,
}

impl<B: I2c> ErrorType for Watched<B> {
    type Error = B::Error;
}

impl<B: I2c> I2c for Watched<B> {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        let result = self.bus.transaction(address, operations);
        if let Err(err) = &result {
            self.last_error.set(Some(i2c::Error::kind(err)));
        }
        result
    }
}

/// The driver's operations, for either panel size.
trait Driver {
    fn init(&mut self, contrast: u8) -> Result<(), DisplayError>;
    fn flush_window(
        &mut self,
        frame: &Frame,
        rows: Range<u32>,
        columns: Range<u32>,
    ) -> Result<(), DisplayError>;
    fn set_on(&mut self, on: bool) -> Result<(), DisplayError>;
}

impl<I: I2c, S: DisplaySize> Driver for Ssd1306<I2CInterface<I>, S, BufferedGraphicsMode<S>> {
    fn init(&mut self, contrast: u8) -> Result<(), DisplayError> {
        ssd1306::mode::DisplayConfig::init(self)?;
        self.set_brightness(Brightness::custom(2, contrast))
    }

    /// Sends the pixels of `frame` in `rows` × `columns`; the driver flushes
    /// the smallest window of whole 8-row pages that covers them.
    fn flush_window(
        &mut self,
        frame: &Frame,
        rows: Range<u32>,
        columns: Range<u32>,
    ) -> Result<(), DisplayError> {
        for y in rows {
            for x in columns.clone() {
                self.set_pixel(x, y, frame.get(x, y));
            }
        }
        self.flush()
    }

    fn set_on(&mut self, on: bool) -> Result<(), DisplayError> {
        self.set_display_on(on)
    }
}

/// The SSD1306 adapter.
pub struct Ssd1306Port<B: BusOpener> {
    opener: B,
    settings: PanelSettings,
    driver: Option<Box<dyn Driver>>,
    last_error: Rc<Cell<Option<ErrorKind>>>,
    sent: Option<Frame>,
}

impl<B: BusOpener> Ssd1306Port<B>
where
    B::Bus: 'static,
{
    /// A panel reached through `opener`; nothing is sent until `init`.
    pub fn new(opener: B, settings: PanelSettings) -> Self {
        Ssd1306Port {
            opener,
            settings,
            driver: None,
            last_error: Rc::default(),
            sent: None,
        }
    }

    /// Opens the bus without sending anything, so that `set_on` reaches a
    /// panel another process set up (`rackpi-panel off`); `init` would light
    /// it first.
    pub(crate) fn attach(&mut self) -> Result<(), DisplayFault> {
        if self.driver.is_none() {
            self.driver = Some(self.build()?);
        }
        Ok(())
    }

    fn fault(&self, err: DisplayError) -> DisplayFault {
        let detail = match self.last_error.take() {
            Some(ErrorKind::NoAcknowledge(_)) => "no acknowledgement on the bus".to_string(),
            None => describe_display_error(&err),
            Some(kind) => format!("the bus failed: {kind}"),
        };
        DisplayFault::NoAnswer {
            address: self.settings.address,
            detail,
        }
    }

    fn build(&mut self) -> Result<Box<dyn Driver>, DisplayFault> {
        let bus = Watched {
            bus: self.opener.open()?,
            last_error: self.last_error.clone(),
        };
        let interface = I2CDisplayInterface::new_custom_address(bus, self.settings.address);
        let rotation = if self.settings.upside_down {
            DisplayRotation::Rotate180
        } else {
            DisplayRotation::Rotate0
        };
        Ok(match self.settings.size {
            PanelSize::W128H32 => Box::new(
                Ssd1306::new(interface, DisplaySize128x32, rotation).into_buffered_graphics_mode(),
            ),
            PanelSize::W128H64 => Box::new(
                Ssd1306::new(interface, DisplaySize128x64, rotation).into_buffered_graphics_mode(),
            ),
        })
    }

    fn with_driver(
        &mut self,
        operation: impl FnOnce(&mut dyn Driver) -> Result<(), DisplayError>,
    ) -> Result<(), DisplayFault> {
        let Some(driver) = self.driver.as_mut() else {
            return Ok(());
        };
        operation(driver.as_mut()).map_err(|err| self.fault(err))
    }
}

impl<B: BusOpener> DisplayPort for Ssd1306Port<B>
where
    B::Bus: 'static,
{
    fn init(&mut self) -> Result<(), DisplayFault> {
        self.sent = None;
        if self.driver.is_none() {
            self.driver = Some(self.build()?);
        }
        let contrast = self.settings.contrast;
        let result = self.with_driver(|driver| driver.init(contrast));
        if result.is_err() {
            // reopen the bus next time: the device may have gone away
            self.driver = None;
        }
        result
    }

    fn show(&mut self, frame: &Frame) -> Result<(), DisplayFault> {
        let old = self.sent.take();
        if old.is_none() {
            // after (re)initialisation: the whole frame in one window
            let (rows, columns) = (0..frame.height(), 0..frame.width());
            self.with_driver(|driver| driver.flush_window(frame, rows, columns))?;
        } else {
            for page in 0..frame.height() / 8 {
                for columns in frame.changed_columns(old.as_ref(), page, 8) {
                    let rows = page * 8..page * 8 + 8;
                    self.with_driver(|driver| driver.flush_window(frame, rows, columns))?;
                }
            }
        }
        self.sent = Some(frame.clone());
        Ok(())
    }

    fn set_on(&mut self, on: bool) -> Result<(), DisplayFault> {
        self.with_driver(|driver| driver.set_on(on))
    }

    fn dimensions(&self) -> (u32, u32) {
        self.settings.size.dimensions()
    }
}

/// The display driver's error in words (its `Debug` name means nothing to
/// an owner reading the log).
fn describe_display_error(err: &DisplayError) -> String {
    match err {
        DisplayError::BusWriteError => "no acknowledgement on the bus".into(),
        DisplayError::InvalidFormatError => "the driver refused the data format".into(),
        DisplayError::DataFormatNotImplemented => "the driver lacks this data format".into(),
        DisplayError::OutOfBoundsError => "a write outside the panel".into(),
        other => format!("the driver failed ({other:?})"),
    }
}
