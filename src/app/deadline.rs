//! A deadline of the loop as the timeout of poll(2): the daemon's and the
//! simulator's inputs both sleep in poll(2) until the core's next deadline.

use nix::poll::PollTimeout;

use crate::core::Time;

/// How long poll(2) may sleep at `now` to wake at `until` (for ever
/// without one), rounded up: waking a millisecond early would only loop again.
pub(crate) fn poll_timeout(now: Time, until: Option<Time>) -> PollTimeout {
    match until {
        Some(t) => {
            let ms = t
                .saturating_sub(now)
                .as_micros()
                .div_ceil(1000)
                .min(3_600_000);
            PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX)
        }
        None => PollTimeout::NONE,
    }
}
