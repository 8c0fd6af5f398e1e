//! rackpi-panel: front-panel firmware for the RackPi — a push button, a status
//! LED and an SSD1306 OLED — as one daemon.
//!
//! The firmware core ([`core`]) is a pure state machine; [`runtime`] runs it
//! against ports that are either real hardware ([`hw`]) or simulated ([`sim`]).
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod config;
pub mod core;
pub mod display;
pub mod frame;
pub mod hw;
pub mod layout;
pub mod led;
pub mod runtime;
pub mod sim;
pub mod ssd1306_model;
pub mod stats;
