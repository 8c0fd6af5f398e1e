//! The real hardware: GPIO (the kernel's character device through gpiocdev,
//! or optionally rppal), power commands, the daemon that wires them to the
//! loop, and the `check` probe.

use std::os::fd::BorrowedFd;
use std::time::Duration;

pub mod check;
pub mod daemon;
pub mod gpio;
pub mod off;
pub mod power;
#[cfg(feature = "rppal")]
pub mod rppal_backend;

/// A button that reports its edges through a file descriptor to wait on.
pub trait EdgeSource {
    /// Whether the button is held down now.
    fn pressed(&self) -> std::io::Result<bool>;
    /// A descriptor that becomes readable when an edge is waiting.
    fn fd(&self) -> BorrowedFd<'_>;
    /// Whether an edge is waiting already (read into a buffer, say).
    fn has_edge(&self) -> bool;
    /// The next edge: (pressed, time on CLOCK_MONOTONIC).
    fn read_edge(&mut self) -> std::io::Result<(bool, Duration)>;
}

/// Which GPIO library drives the button and the LED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GpioBackend {
    /// The kernel GPIO character device, uAPI v2, through gpiocdev (the default).
    #[default]
    Cdev,
    /// rppal (retired upstream in 2025; only in builds with `--features rppal`).
    Rppal,
}
