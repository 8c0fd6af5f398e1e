//! Tests of the core: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod timeline;
mod reports_and_reload;
mod properties;
mod parsers;
