//! What the integration tests share: the binary under test, and reading what
//! its runs printed.
#![allow(dead_code)] // each test crate uses its own part

use std::process::Output;

use serde_json::Value;

/// The `rackpi-panel` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// Fails the test with the run's stderr unless it exited with 0.
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The JSON Lines events a run printed on stdout (`--events -`).
pub fn events_of(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

/// The events called `name`.
pub fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}
