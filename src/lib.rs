//! rackpi-panel: front-panel firmware for the RackPi — a push button, a status
//! LED and an SSD1306 OLED — as one daemon.
//!
//! The firmware core ([`core`]) is a pure state machine; [`runtime`] runs it
//! against the [`ports`], whose adapters are either real hardware ([`hw`]) or
//! simulated ([`sim`]).
#![deny(unsafe_code)]

/// The command line: subcommands, flags, help texts (also read by build.rs
/// for the man pages and completions).
pub mod cli;
pub mod cmd;
pub mod config;
pub mod core;
mod deadline;
pub mod frame;
pub mod hw;
pub mod layout;
pub mod ports;
pub mod process;
pub mod runtime;
pub mod sim;
pub mod stats;
