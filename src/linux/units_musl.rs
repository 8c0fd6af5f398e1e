//! Failed systemd units in the static (musl) build: not followed. libdbus is
//! not built for musl, so this stands in for `units.rs` with the same
//! surface, says so once at start, and never brings an input; the daemon
//! wires it like the real follower.

use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;

use crate::core::{Input, Time};

/// The system bus's address (unused here: nothing connects).
pub(crate) fn system_bus_address() -> String {
    String::new()
}

/// Follows nothing: no socket to poll, no retry, no inputs.
pub struct UnitsFollower;

impl UnitsFollower {
    /// Says that this build does not follow units (the configuration asked
    /// for them).
    pub fn start(_address: String, _now: Time, _waker: Option<UnixStream>) -> UnitsFollower {
        log::warn!("this static (musl) build does not follow failed systemd units: use the glibc build (the Debian package) for them, or set [attention] units = false");
        UnitsFollower
    }

    /// Never a socket to poll.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        None
    }

    /// Never a retry.
    pub fn retry_at(&self) -> Option<Time> {
        None
    }

    /// Never an input.
    pub fn receive(&mut self, _now: Time) -> Vec<Input> {
        Vec::new()
    }

    /// Nothing to retry.
    pub fn retry(&mut self, _now: Time) {}
}
