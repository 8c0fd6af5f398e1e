//! Tests of the core: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod conditions;
mod heat;
mod parsers;
mod properties;
mod rack;
mod reports_and_reload;
mod timeline;
