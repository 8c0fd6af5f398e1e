//! The optional rppal backend (`--features rppal`, then `run --gpio rppal`):
//! the same button and LED ports on rppal, for owners who prefer it. rppal
//! was retired by its author in July 2025, so gpiocdev stays the default.
//! Lines are BCM numbers: `GPIO20`, or the offset of chip + offset.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::Duration;

use rppal::gpio::{Gpio, InputPin, Level, OutputPin, Trigger};

use crate::app::ports::{EdgeBatch, EdgeSource, GpioError, LedPort};
use crate::config::{Bias, LineSelector};
use crate::linux::missing_between;

fn bcm_number(selector: &LineSelector) -> Result<u8, GpioError> {
    let number = match selector {
        LineSelector::Named(name) => name.strip_prefix("GPIO").and_then(|n| n.parse().ok()),
        LineSelector::Offset { offset, .. } => u8::try_from(*offset).ok(),
    };
    number.ok_or_else(|| GpioError::NotFound {
        name: selector.to_string(),
        chips: "the rppal backend (it takes GPIOn names or offsets, as BCM numbers)".into(),
    })
}

fn rppal_error(selector: &LineSelector, err: rppal::gpio::Error) -> GpioError {
    GpioError::Other {
        line: selector.to_string(),
        reason: format!("rppal: {err}"),
    }
}

/// The button, its edges delivered by rppal's interrupt thread.
pub(crate) struct RppalButton {
    pin: InputPin,
    active_low: bool,
    /// (pressed, timestamp, sequence number) from the interrupt thread.
    edges: Receiver<(bool, Duration, u32)>,
    readable: UnixStream,
    last_seqno: u32,
}

impl RppalButton {
    /// Sets the pin up as an input with both-edge interrupts.
    pub fn request(
        selector: &LineSelector,
        active_low: bool,
        bias: Bias,
        debounce: Duration,
    ) -> Result<Self, GpioError> {
        let gpio = Gpio::new().map_err(|e| rppal_error(selector, e))?;
        let pin = gpio
            .get(bcm_number(selector)?)
            .map_err(|e| rppal_error(selector, e))?;
        let mut pin = match bias {
            Bias::Disabled => pin.into_input(),
            Bias::PullUp => pin.into_input_pullup(),
            Bias::PullDown => pin.into_input_pulldown(),
        };
        let (readable, mut writable) = UnixStream::pair().map_err(|e| GpioError::Other {
            line: selector.to_string(),
            reason: e.to_string(),
        })?;
        readable.set_nonblocking(true).ok();
        let (sender, edges) = channel();
        pin.set_async_interrupt(Trigger::Both, Some(debounce), move |event| {
            let high = matches!(event.trigger, Trigger::RisingEdge);
            let _ = sender.send((high != active_low, event.timestamp, event.seqno));
            let _ = writable.write_all(&[1]);
        })
        .map_err(|e| rppal_error(selector, e))?;
        Ok(RppalButton {
            pin,
            active_low,
            edges,
            readable,
            last_seqno: 0,
        })
    }
}

impl EdgeSource for RppalButton {
    fn pressed(&self) -> Result<bool, GpioError> {
        Ok((self.pin.read() == Level::High) != self.active_low)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.readable.as_fd()
    }

    fn read_edges(&mut self) -> Result<Option<EdgeBatch>, GpioError> {
        let mut wake_bytes = [0u8; 64];
        while matches!(std::io::Read::read(&mut self.readable, &mut wake_bytes), Ok(n) if n > 0) {}
        let mut batch = EdgeBatch::default();
        loop {
            match self.edges.try_recv() {
                Ok((pressed, at, seqno)) => {
                    batch.lost += missing_between(self.last_seqno, seqno);
                    self.last_seqno = seqno;
                    batch.edges.push((pressed, at));
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    return Err(GpioError::Other {
                        line: format!("GPIO{}", self.pin.pin()),
                        reason: "the rppal interrupt thread stopped".into(),
                    })
                }
            }
        }
        if batch.edges.is_empty() {
            return Ok(None);
        }
        batch.level = self.pressed()?;
        Ok(Some(batch))
    }
}

/// The LED on an rppal output pin.
pub(crate) struct RppalLed {
    pin: OutputPin,
    active_low: bool,
}

impl RppalLed {
    /// Sets the pin up as an output, dark.
    pub fn request(selector: &LineSelector, active_low: bool) -> Result<Self, GpioError> {
        let gpio = Gpio::new().map_err(|e| rppal_error(selector, e))?;
        let pin = gpio
            .get(bcm_number(selector)?)
            .map_err(|e| rppal_error(selector, e))?;
        let pin = if active_low {
            pin.into_output_high()
        } else {
            pin.into_output_low()
        };
        Ok(RppalLed { pin, active_low })
    }
}

impl LedPort for RppalLed {
    fn set(&mut self, lit: bool) -> Result<(), GpioError> {
        if lit != self.active_low {
            self.pin.set_high()
        } else {
            self.pin.set_low()
        }
        Ok(())
    }
}
