//! Tests of the linux: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod stalls;
mod units;
