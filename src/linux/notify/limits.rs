//! Who may send, and how often: each user has a rate of their own, so a
//! member of the group who floods the socket is refused alone, and root and
//! the daemon's own user are never locked out by anyone else's flood.

use std::time::Duration;

use super::{BURST, RATE_PER_SECOND};
use crate::core::Time;

/// The users followed at once; past that the one with the fullest bucket is
/// forgotten (a full bucket is what a newcomer gets anyway).
pub(crate) const MAX_SENDERS: usize = 64;
/// How often a user's refusals are logged, at most.
const REFUSALS_LOGGED_EVERY: Duration = Duration::from_secs(60);

/// A token bucket: [`RATE_PER_SECOND`] on average, bursts of [`BURST`].
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimit {
    tokens: f64,
    at: Time,
}

impl RateLimit {
    /// A full bucket at `now`.
    pub fn new(now: Time) -> Self {
        RateLimit {
            tokens: f64::from(BURST),
            at: now,
        }
    }

    /// Whether one more request may pass at `now`.
    pub fn allow(&mut self, now: Time) -> bool {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn refill(&mut self, now: Time) {
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.at = now.max(self.at);
        self.tokens = (self.tokens + elapsed * f64::from(RATE_PER_SECOND)).min(f64::from(BURST));
    }
}

/// One [`RateLimit`] per user id, at most [`MAX_SENDERS`] of them.
#[derive(Debug, Default)]
pub struct RateLimits {
    senders: Vec<Sender>,
}

#[derive(Debug)]
struct Sender {
    uid: u32,
    limit: RateLimit,
    refusal_logged: Option<Time>,
}

/// What [`RateLimits::allow`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The request passes.
    Allowed,
    /// Refused; `log` is true for the first refusal of this user in a while.
    Refused {
        /// Whether to log this refusal (once a minute per user).
        log: bool,
    },
}

impl RateLimits {
    /// Whether `uid` may send one more request at `now`.
    pub fn allow(&mut self, uid: u32, now: Time) -> Verdict {
        let at = match self.senders.iter().position(|s| s.uid == uid) {
            Some(at) => at,
            None => {
                if self.senders.len() == MAX_SENDERS {
                    self.forget_one(now);
                }
                self.senders.push(Sender {
                    uid,
                    limit: RateLimit::new(now),
                    refusal_logged: None,
                });
                self.senders.len() - 1
            }
        };
        let sender = &mut self.senders[at];
        if sender.limit.allow(now) {
            return Verdict::Allowed;
        }
        let log = sender
            .refusal_logged
            .is_none_or(|logged| now.saturating_sub(logged) >= REFUSALS_LOGGED_EVERY);
        if log {
            sender.refusal_logged = Some(now);
        }
        Verdict::Refused { log }
    }

    /// Forgets the user with the most tokens left (the oldest of those).
    fn forget_one(&mut self, now: Time) {
        for sender in &mut self.senders {
            sender.limit.refill(now);
        }
        let fullest = self
            .senders
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| {
                a.limit
                    .tokens
                    .total_cmp(&b.limit.tokens)
                    .then(b.limit.at.cmp(&a.limit.at))
            })
            .map(|(at, _)| at);
        if let Some(at) = fullest {
            self.senders.swap_remove(at);
        }
    }
}

/// Who may send: root, the daemon's own user, and the members of the
/// group `group` (by their primary group or a supplementary one, as the
/// kernel reported them for the connection).
pub fn allowed(uid: u32, gid: u32, groups: &[u32], own_uid: u32, group: Option<u32>) -> bool {
    if uid == 0 || uid == own_uid {
        return true;
    }
    group.is_some_and(|group| gid == group || groups.contains(&group))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMBER: u32 = 1000;
    const OTHER_MEMBER: u32 = 1001;

    #[test]
    fn the_rate_limit_allows_a_burst_then_ten_a_second() {
        let mut limit = RateLimit::new(Duration::ZERO);
        let burst = (0..100).filter(|_| limit.allow(Duration::ZERO)).count();
        assert_eq!(burst, BURST as usize);
        let later = (0..100)
            .filter(|_| limit.allow(Duration::from_secs(1)))
            .count();
        assert_eq!(later, RATE_PER_SECOND as usize);
    }

    #[test]
    fn a_flood_from_one_user_refuses_only_that_user() {
        let mut limits = RateLimits::default();
        let now = Duration::from_secs(5);
        let passed = (0..1000)
            .filter(|_| limits.allow(MEMBER, now) == Verdict::Allowed)
            .count();
        assert_eq!(passed, BURST as usize);
        assert_eq!(limits.allow(0, now), Verdict::Allowed, "root");
        assert_eq!(limits.allow(OTHER_MEMBER, now), Verdict::Allowed);
        assert_ne!(limits.allow(MEMBER, now), Verdict::Allowed);
    }

    #[test]
    fn a_flooders_refusals_are_logged_once_a_minute() {
        let mut limits = RateLimits::default();
        let logged = |limits: &mut RateLimits, at: u64| {
            (0..100)
                .filter(|_| {
                    limits.allow(MEMBER, Duration::from_secs(at)) == Verdict::Refused { log: true }
                })
                .count()
        };
        assert_eq!(logged(&mut limits, 0), 1);
        assert_eq!(logged(&mut limits, 30), 0);
        assert_eq!(logged(&mut limits, 60), 1);
    }

    #[test]
    fn many_users_are_followed_in_bounded_memory_without_freeing_a_flooder() {
        let mut limits = RateLimits::default();
        let now = Duration::ZERO;
        while limits.allow(MEMBER, now) == Verdict::Allowed {}
        // as many other users as can be followed, each sending once
        for uid in 2000..2000 + 2 * MAX_SENDERS as u32 {
            assert_eq!(limits.allow(uid, now), Verdict::Allowed);
            assert!(limits.senders.len() <= MAX_SENDERS);
        }
        assert_ne!(
            limits.allow(MEMBER, now),
            Verdict::Allowed,
            "the emptied bucket is the last one forgotten"
        );
    }

    #[test]
    fn only_root_the_daemon_and_the_group_may_send() {
        const GROUP: u32 = 990;
        const DAEMON: u32 = 500;
        assert!(allowed(0, 0, &[], DAEMON, Some(GROUP)));
        assert!(allowed(DAEMON, DAEMON, &[], DAEMON, Some(GROUP)));
        assert!(allowed(MEMBER, GROUP, &[], DAEMON, Some(GROUP)));
        assert!(allowed(MEMBER, MEMBER, &[100, GROUP], DAEMON, Some(GROUP)));
        assert!(!allowed(MEMBER, MEMBER, &[100], DAEMON, Some(GROUP)));
        assert!(!allowed(MEMBER, MEMBER, &[GROUP], DAEMON, None));
    }
}
