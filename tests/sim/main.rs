//! Tests of the sim: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod custom_pages;
mod faults;
mod golden;
mod interactive;
mod mqtt;
mod outputs;
mod simulate;
mod soak;
mod ups;
