//! The real hardware: GPIO character device, power commands, the daemon that
//! wires them to the loop, and the `check` probe.

pub mod check;
pub mod daemon;
pub mod gpio;
pub mod power;
