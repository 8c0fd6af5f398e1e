//! The real hardware: GPIO (the kernel's character device through gpiocdev,
//! or optionally rppal), power commands, the daemon that wires them to the
//! loop, and the `check` probe.

use std::os::fd::BorrowedFd;

use crate::runtime::EdgeBatch;

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
    /// Every edge queued now, oldest first, each timed on CLOCK_MONOTONIC by
    /// the kernel, with the count of edges the kernel dropped and the level
    /// read after them; `None` when nothing is queued. Never blocks.
    fn read_edges(&mut self) -> std::io::Result<Option<EdgeBatch>>;
}

/// Counts the edges missing between two sequence numbers (the kernel
/// numbers a line's edges from 1 and drops the oldest when its queue is full).
pub fn missing_between(last: u32, next: u32) -> u64 {
    u64::from(next.wrapping_sub(last).saturating_sub(1))
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
