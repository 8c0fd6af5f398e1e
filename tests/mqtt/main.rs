//! Tests of what the panel says and reads over MQTT: one test binary, one
//! module per subject.

#[path = "../common/mod.rs"]
mod common;

mod home_assistant;
mod hostile;
mod payloads;
mod readme_acl;
mod readme_bridge;
