//! Why the link is down, said once in words a person can act on, and how
//! long to wait before the next try (1 s doubling to 60 s, with jitter).

use std::io::ErrorKind;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};

use super::MAX_INCOMING_PACKET;

/// The longest wait between two tries.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why a connection failed or ended, naming `broker` (`host:port`). The
/// text is the same for the same cause, so that it is logged once.
pub(crate) fn describe(err: &ConnectionError, broker: &str) -> String {
    match err {
        ConnectionError::ConnectionRefused(
            ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized,
        ) => format!(
            "{broker} refused the login: bad username or password (check [mqtt] username and the password in password_file or the mqtt-password credential)"
        ),
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadClientId) => {
            format!("{broker} refused this client id (check [mqtt] node)")
        }
        ConnectionError::ConnectionRefused(code) => {
            format!("{broker} refused the connection ({code:?})")
        }
        ConnectionError::NetworkTimeout => {
            format!("no answer from {broker}: the connection, TLS or login did not complete in time")
        }
        ConnectionError::FlushTimeout => format!("{broker} stopped reading what the panel sends"),
        ConnectionError::Io(err) => io_reason(err, broker),
        #[cfg(not(target_env = "musl"))]
        ConnectionError::Tls(err) => tls_reason(err, broker),
        ConnectionError::MqttState(err) => state_reason(err, broker),
        other => format!("{broker}: {other}"),
    }
}

fn io_reason(err: &std::io::Error, broker: &str) -> String {
    match err.kind() {
        ErrorKind::ConnectionRefused => {
            format!("{broker} refused the connection: no broker listens there (check [mqtt] url and that the broker runs)")
        }
        ErrorKind::ConnectionReset | ErrorKind::UnexpectedEof | ErrorKind::BrokenPipe => {
            format!("{broker} closed the connection")
        }
        _ => format!("cannot reach {broker}: {err}"),
    }
}

#[cfg(not(target_env = "musl"))]
fn tls_reason(err: &rumqttc::TlsError, broker: &str) -> String {
    let detail = err.to_string();
    let hint = if detail.contains("certificate") || detail.contains("verify") {
        "the broker's certificate is not trusted or does not match its name: check [mqtt] ca_file and the host in url"
    } else {
        "check that the port speaks TLS (mqtts://, usually 8883) and [mqtt] ca_file"
    };
    format!("TLS with {broker} failed ({detail}): {hint}")
}

fn state_reason(err: &StateError, broker: &str) -> String {
    match err {
        StateError::AwaitPingResp => {
            format!("{broker} stopped answering (no reply to the keepalive ping)")
        }
        StateError::ConnectionAborted => format!("{broker} closed the connection"),
        // (a broker that dies mid-read: `Connection reset by peer`)
        StateError::Io(err) | StateError::Deserialization(rumqttc::Error::Io(err)) => {
            io_reason(err, broker)
        }
        StateError::Deserialization(rumqttc::Error::PayloadSizeLimitExceeded(size)) => format!(
            "{broker} sent a packet of {size} bytes, over the panel's limit of {MAX_INCOMING_PACKET}: \
             something publishes huge messages to a topic the panel follows (if retained, clear it)"
        ),
        other => format!("{broker}: {other}"),
    }
}

/// The waits between tries.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    tries: u32,
}

impl Backoff {
    /// The wait before the next try: 1, 2, 4 … 60 s, each moved by up to
    /// ±20 % so that a rack of panels does not reconnect in step after the
    /// broker restarts.
    pub fn next(&mut self) -> Duration {
        let base = Duration::from_secs(1 << self.tries.min(6)).min(MAX_BACKOFF);
        self.tries = self.tries.saturating_add(1);
        jittered(base, clock_noise())
    }

    /// After a connection that lasted: start again from 1 s.
    pub fn reset(&mut self) {
        self.tries = 0;
    }
}

/// `base` moved by -20 % to +20 % as `noise` (any number) says.
fn jittered(base: Duration, noise: u32) -> Duration {
    let permille = 800 + u64::from(noise % 401);
    base * u32::try_from(permille).unwrap_or(1000) / 1000
}

/// The clock's nanoseconds: enough noise to spread a rack (no rand crate).
fn clock_noise() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|t| t.subsec_nanos() ^ (std::process::id() << 10))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_1_s_to_60_s_with_jitter() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..9).map(|_| backoff.next()).collect();
        for (wait, base) in waits.iter().zip([1, 2, 4, 8, 16, 32, 60, 60, 60]) {
            let base = Duration::from_secs(base);
            assert!(
                *wait >= base * 8 / 10 && *wait <= base * 12 / 10,
                "{wait:?} for {base:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next() <= Duration::from_millis(1200));
        assert_eq!(jittered(Duration::from_secs(10), 0), Duration::from_secs(8));
        assert_eq!(
            jittered(Duration::from_secs(10), 400),
            Duration::from_secs(12)
        );
    }

    #[test]
    fn causes_are_said_in_words_with_the_broker() {
        let login = describe(
            &ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
            "b:1883",
        );
        assert!(
            login.contains("bad username or password") && login.contains("b:1883"),
            "{login}"
        );
        let refused = describe(
            &ConnectionError::Io(ErrorKind::ConnectionRefused.into()),
            "b:1883",
        );
        assert!(refused.contains("no broker listens"), "{refused}");
        let reset = describe(
            &ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(
                ErrorKind::ConnectionReset.into(),
            ))),
            "b:1883",
        );
        assert_eq!(reset, "b:1883 closed the connection");
        let silent = describe(&ConnectionError::NetworkTimeout, "b:1883");
        assert!(silent.contains("no answer"), "{silent}");
    }
}
