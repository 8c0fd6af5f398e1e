//! rackpi-panel: front-panel firmware for the RackPi — a push button, a status
//! LED and an SSD1306 OLED — as one daemon.
//!
//! The firmware core ([`core`]) is a pure state machine; [`app::runtime`]
//! runs it against the [`app::ports`], whose adapters are either the Linux
//! kernel's interfaces ([`linux`]) or simulated ([`sim`]); [`cmd`] has one
//! room per subcommand. The layers: docs/architecture.md.
#![deny(unsafe_code)]

pub mod app;
/// The command line: subcommands, flags, help texts (also read by build.rs
/// for the man pages and completions).
pub mod cli;
pub mod cmd;
pub mod config;
pub mod core;
pub mod frame;
pub mod layout;
pub mod linux;
pub mod mqtt;
pub mod process;
pub mod sim;
pub mod stats;
