//! `rackpi-panel notify` and `rackpi-panel identify`: one request per
//! connection to a unix `SOCK_SEQPACKET` socket in the service's runtime
//! directory, answered on that same connection. The daemon never sends to a
//! path, so no sender can steer an answer elsewhere (into systemd's notify
//! socket, or back into the daemon's own). This file holds the protocol and
//! the client; the daemon's end is in [`server`], who is asking in `peer`,
//! the per-sender limits in [`limits`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::{
    connect, recv, send as send_packet, socket_with, sockopt, AddressFamily, RecvFlags, SendFlags,
    SocketAddrUnix, SocketFlags, SocketType,
};

use crate::app::ports::NotifyError;
#[cfg(test)]
use crate::core::MAX_TEXT;
use crate::core::{check_text, Input, Level};

pub mod limits;
mod peer;
pub mod server;

pub use limits::{allowed, RateLimit, RateLimits};
pub use server::NotifyServer;

/// Where the daemon listens when systemd gives it no runtime directory.
pub(crate) const DEFAULT_SOCKET: &str = "/run/rackpi-panel/notify.sock";
/// Overrides the socket's path, for the daemon and the commands alike.
pub const SOCKET_ENV: &str = "RACKPI_PANEL_SOCKET";
/// The group whose members may send (besides root).
pub(crate) const GROUP: &str = "rackpi-notify";
/// The largest request accepted, in bytes.
pub(crate) const MAX_REQUEST: usize = 512;
/// The most characters of a sender's words quoted back in an answer.
pub(crate) const MAX_QUOTED: usize = 32;
/// How long the client waits for the daemon, and the daemon for a request
/// on a connection it accepted.
pub(crate) const ANSWER_WITHIN: Duration = Duration::from_secs(2);
/// Requests read per wake-up of the loop: more wait for the next turn,
/// after the button's edges.
pub(crate) const MAX_PER_WAKE: usize = 16;
/// Requests accepted per second from one user, on average…
pub(crate) const RATE_PER_SECOND: u32 = 10;
/// …with bursts of up to this many.
pub const BURST: u32 = 20;
pub use crate::core::MAX_IDENTIFY;
pub(crate) use crate::core::{printable, MAX_MESSAGE_FOR};

/// What a sender asks for. It mirrors two of the core's inputs on purpose:
/// the socket's protocol names only what a sender may ask (never a button
/// edge or a power result), and changes to the core cannot widen it.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A message on the panel.
    Notify {
        /// How urgent.
        level: Level,
        /// The text.
        text: String,
        /// Expires this long after it arrives.
        lasts: Option<Duration>,
    },
    /// Blink and show `IDENTIFY` this long (zero ends it).
    Identify {
        /// How long.
        lasts: Duration,
    },
}

impl Request {
    /// One line: `notify LEVEL MS|- TEXT` or `identify MS`.
    pub(crate) fn encode(&self) -> String {
        match self {
            Request::Notify { level, text, lasts } => {
                let lasts = lasts.map_or("-".to_string(), |d| d.as_millis().to_string());
                format!("notify {} {lasts} {text}", level.name())
            }
            Request::Identify { lasts } => format!("identify {}", lasts.as_millis()),
        }
    }

    /// Reads a request, checking every limit.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Request, String> {
        if bytes.len() > MAX_REQUEST {
            return Err(format!("the request is longer than {MAX_REQUEST} bytes"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "the request is not UTF-8")?;
        let millis = |value: &str, max: Duration| -> Result<Duration, String> {
            let ms: u64 = value.parse().map_err(|_| {
                format!(
                    "`{}` is not a number of milliseconds",
                    printable(value, MAX_QUOTED)
                )
            })?;
            let lasts = Duration::from_millis(ms);
            if lasts > max {
                return Err(format!(
                    "{} s is longer than the {} s allowed",
                    ms / 1000,
                    max.as_secs()
                ));
            }
            Ok(lasts)
        };
        let mut words = text.splitn(4, ' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("notify"), Some(level), Some(lasts), Some(message)) => {
                let level = Level::from_name(level).ok_or_else(|| {
                    format!(
                        "unknown level `{}` (info, warn or error)",
                        printable(level, MAX_QUOTED)
                    )
                })?;
                let lasts = match lasts {
                    "-" => None,
                    value => Some(millis(value, MAX_MESSAGE_FOR)?),
                };
                if lasts.is_some_and(|lasts| lasts.is_zero()) {
                    return Err(
                        "a message that lasts 0 s would never be seen: give --for a time, or leave it out".into(),
                    );
                }
                check_text(message)?;
                Ok(Request::Notify {
                    level,
                    text: message.to_string(),
                    lasts,
                })
            }
            (Some("identify"), Some(lasts), None, None) => Ok(Request::Identify {
                lasts: millis(lasts, MAX_IDENTIFY)?,
            }),
            _ => Err("not a request this daemon understands (is it the same version?)".into()),
        }
    }

    /// The core's input.
    pub(crate) fn into_input(self) -> Input {
        match self {
            Request::Notify { level, text, lasts } => Input::Notify { level, text, lasts },
            Request::Identify { lasts } => Input::Identify { lasts },
        }
    }
}

/// The socket's path: [`SOCKET_ENV`], else systemd's runtime directory
/// (for the daemon), else [`DEFAULT_SOCKET`].
pub(crate) fn socket_path(daemon: bool) -> PathBuf {
    if let Some(path) = std::env::var_os(SOCKET_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    if daemon {
        if let Some(dir) = std::env::var_os("RUNTIME_DIRECTORY").filter(|p| !p.is_empty()) {
            // (several directories are separated by colons: the first is ours)
            let dir = PathBuf::from(dir);
            let first = dir.to_string_lossy().split(':').next().map(PathBuf::from);
            return first.unwrap_or(dir).join("notify.sock");
        }
    }
    PathBuf::from(DEFAULT_SOCKET)
}

/// Sends `request` to the daemon and waits (at most [`ANSWER_WITHIN`]) for
/// its answer, which comes back on the same connection.
pub fn send(path: &Path, request: &Request) -> Result<(), NotifyError> {
    let io = |error: std::io::Error| NotifyError::Io {
        path: path.to_path_buf(),
        error,
    };
    let errno = |error: Errno| io(error.into());
    let no_answer = || NotifyError::NoAnswer {
        path: path.to_path_buf(),
    };
    let socket = socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(errno)?;
    // (the send timeout also bounds connect(2) while the daemon's queue is full)
    for timeout in [sockopt::Timeout::Send, sockopt::Timeout::Recv] {
        sockopt::set_socket_timeout(&socket, timeout, Some(ANSWER_WITHIN)).map_err(errno)?;
    }
    let address = SocketAddrUnix::new(path).map_err(errno)?;
    if let Err(error) = connect(&socket, &address) {
        return Err(match error {
            Errno::NOENT | Errno::CONNREFUSED => NotifyError::NotRunning {
                path: path.to_path_buf(),
            },
            Errno::ACCESS | Errno::PERM => NotifyError::NotAllowed {
                path: path.to_path_buf(),
            },
            Errno::PROTOTYPE => NotifyError::OtherVersion {
                path: path.to_path_buf(),
            },
            Errno::AGAIN | Errno::TIMEDOUT => no_answer(),
            _ => errno(error),
        });
    }
    match send_packet(&socket, request.encode().as_bytes(), SendFlags::NOSIGNAL) {
        Ok(_) => {}
        // the daemon closed the connection unread (it was dropping the
        // oldest of too many waiting): what it said, if anything, is below
        Err(Errno::PIPE | Errno::CONNRESET) => {}
        Err(Errno::AGAIN) => return Err(no_answer()),
        Err(error) => return Err(errno(error)),
    }
    let mut answer = [0u8; 2 * MAX_REQUEST];
    let received = match recv(&socket, &mut answer, RecvFlags::empty()) {
        Ok((0, _)) | Err(Errno::AGAIN | Errno::CONNRESET) => return Err(no_answer()),
        Ok((received, _)) => received,
        Err(error) => return Err(errno(error)),
    };
    let answer = String::from_utf8_lossy(&answer[..received]);
    match answer.strip_prefix("error: ") {
        None if answer == "ok" => Ok(()),
        Some(reason) => Err(NotifyError::Refused {
            reason: printable(reason, 2 * MAX_REQUEST),
        }),
        None => Err(NotifyError::Refused {
            reason: format!("unexpected answer `{}`", printable(&answer, MAX_QUOTED)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_go_through_the_wire_unchanged() {
        for request in [
            Request::Notify {
                level: Level::Error,
                text: "restic: backup failed".into(),
                lasts: Some(Duration::from_secs(3600)),
            },
            Request::Notify {
                level: Level::Info,
                text: "a b  c".into(),
                lasts: None,
            },
            Request::Identify {
                lasts: Duration::from_secs(60),
            },
        ] {
            assert_eq!(Request::decode(request.encode().as_bytes()), Ok(request));
        }
    }

    #[test]
    fn every_limit_a_sender_controls_is_checked() {
        let long = format!("notify error - {}", "x".repeat(MAX_TEXT + 1));
        assert!(Request::decode(long.as_bytes())
            .unwrap_err()
            .contains("at most 200"));
        let huge = vec![b'x'; MAX_REQUEST + 1];
        assert!(Request::decode(&huge).unwrap_err().contains("longer than"));
        assert!(Request::decode(b"identify 3600001")
            .unwrap_err()
            .contains("longer than"));
        assert!(Request::decode(b"notify loud - x")
            .unwrap_err()
            .contains("unknown level"));
        assert!(Request::decode(b"notify info -  ")
            .unwrap_err()
            .contains("empty"));
        assert!(Request::decode(b"notify warn 0 x")
            .unwrap_err()
            .contains("never be seen"));
        assert!(Request::decode(b"notify warn - \x01\x1b")
            .unwrap_err()
            .contains("empty"));
        assert!(Request::decode(b"reboot now").is_err());
        assert!(Request::decode(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn no_daemon_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = send(
            &dir.path().join("notify.sock"),
            &Request::Identify {
                lasts: Duration::from_secs(1),
            },
        )
        .unwrap_err();
        assert!(matches!(err, NotifyError::NotRunning { .. }), "{err}");
        assert!(err.to_string().contains("not running"), "{err}");
    }

    #[test]
    fn a_senders_words_are_quoted_escaped_and_bounded() {
        assert_eq!(printable("ok", 8), "ok");
        assert_eq!(
            printable("x\nSTATUS=owned\nWATCHDOG=trigger\n", 64),
            "x\\nSTATUS=owned\\nWATCHDOG=trigger\\n"
        );
        assert_eq!(printable("\u{1b}[2J", 8), "\\u{1b}[2J");
        assert_eq!(printable("épée", 8), "épée", "printable letters are kept");
        assert_eq!(printable(&"x".repeat(100), 4), "xxxx…");
        let echoed = Request::decode(b"notify x\nWATCHDOG=trigger\n - hi").unwrap_err();
        assert!(!echoed.contains('\n'), "{echoed}");
        assert!(echoed.contains("x\\nWATCHDOG=trigger\\n"), "{echoed}");
        let long = format!("identify {}", "9x".repeat(200));
        assert!(Request::decode(long.as_bytes()).unwrap_err().len() < 120);
    }
}
