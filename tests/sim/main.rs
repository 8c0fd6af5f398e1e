//! Tests of the sim: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod simulate;
mod custom_pages;
mod outputs;
mod faults;
mod soak;
mod golden;
mod interactive;
