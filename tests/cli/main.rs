//! Tests of the cli: one test binary, one module per subject.

#[path = "../common/mod.rs"]
mod common;

mod check_broker;
mod command_line;
mod config_file;
mod docs;
mod messages;
mod notify;
