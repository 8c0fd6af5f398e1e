//! `rackpi-panel notify` and `rackpi-panel identify`: requests sent as
//! datagrams to a unix socket in the service's runtime directory, and the
//! daemon's end of it. Datagrams keep one request per read, so a sender can
//! neither hold a connection open nor make the daemon wait for the rest of a
//! line; the kernel attaches each sender's credentials (SO_PASSCRED). Every
//! limit a sender controls is enforced here: the datagram's size, the text's
//! length, the rate, and how many are read per wake-up of the loop.

use std::io::IoSliceMut;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{
    recvmsg, sendto, setsockopt, sockopt, ControlMessageOwned, MsgFlags, UnixAddr, UnixCredentials,
};
use nix::unistd::{Gid, Group, Uid, User};

#[cfg(test)]
use crate::core::MAX_TEXT;
use crate::core::{check_text, Input, Level, Time};
use crate::ports::NotifyError;

/// Where the daemon listens when systemd gives it no runtime directory.
pub const DEFAULT_SOCKET: &str = "/run/rackpi-panel/notify.sock";
/// Overrides the socket's path, for the daemon and the commands alike.
pub const SOCKET_ENV: &str = "RACKPI_PANEL_SOCKET";
/// The group whose members may send (besides root).
pub const GROUP: &str = "rackpi-notify";
/// The largest request accepted, in bytes.
pub const MAX_DATAGRAM: usize = 512;
/// Requests read per wake-up of the loop: more wait for the next turn,
/// after the button's edges.
pub const MAX_PER_WAKE: usize = 16;
/// Requests accepted per second, on average…
pub const RATE_PER_SECOND: u32 = 10;
/// …with bursts of up to this many.
pub const BURST: u32 = 20;
/// The longest `--for` of a message.
pub const MAX_MESSAGE_FOR: Duration = Duration::from_secs(30 * 86_400);
/// The longest `identify`.
pub const MAX_IDENTIFY: Duration = Duration::from_secs(3600);

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
    pub fn encode(&self) -> String {
        match self {
            Request::Notify { level, text, lasts } => {
                let lasts = lasts.map_or("-".to_string(), |d| d.as_millis().to_string());
                format!("notify {} {lasts} {text}", level.name())
            }
            Request::Identify { lasts } => format!("identify {}", lasts.as_millis()),
        }
    }

    /// Reads a request, checking every limit.
    pub fn decode(bytes: &[u8]) -> Result<Request, String> {
        if bytes.len() > MAX_DATAGRAM {
            return Err(format!("the request is longer than {MAX_DATAGRAM} bytes"));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| "the request is not UTF-8")?;
        let millis = |value: &str, max: Duration| -> Result<Duration, String> {
            let ms: u64 = value
                .parse()
                .map_err(|_| format!("`{value}` is not a number of milliseconds"))?;
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
                let level = Level::from_name(level)
                    .ok_or_else(|| format!("unknown level `{level}` (info, warn or error)"))?;
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
    pub fn into_input(self) -> Input {
        match self {
            Request::Notify { level, text, lasts } => Input::Notify { level, text, lasts },
            Request::Identify { lasts } => Input::Identify { lasts },
        }
    }
}

/// The socket's path: [`SOCKET_ENV`], else systemd's runtime directory
/// (for the daemon), else [`DEFAULT_SOCKET`].
pub fn socket_path(daemon: bool) -> PathBuf {
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

/// Sends `request` to the daemon and waits (at most 2 s) for its answer.
pub fn send(path: &Path, request: &Request) -> Result<(), NotifyError> {
    let io = |error: std::io::Error| NotifyError::Io {
        path: path.to_path_buf(),
        error,
    };
    let socket = UnixDatagram::unbound().map_err(io)?;
    // with credentials passed, the kernel binds an address the answer can come back to
    setsockopt(&socket, sockopt::PassCred, &true).map_err(|e| io(e.into()))?;
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(io)?;
    if let Err(error) = socket.send_to(request.encode().as_bytes(), path) {
        return Err(match error.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                NotifyError::NotRunning {
                    path: path.to_path_buf(),
                }
            }
            std::io::ErrorKind::PermissionDenied => NotifyError::NotAllowed {
                path: path.to_path_buf(),
            },
            _ => io(error),
        });
    }
    let mut answer = [0u8; 256];
    let n = socket.recv(&mut answer).map_err(|error| {
        if matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            NotifyError::NoAnswer {
                path: path.to_path_buf(),
            }
        } else {
            io(error)
        }
    })?;
    let answer = String::from_utf8_lossy(&answer[..n]);
    match answer.strip_prefix("error: ") {
        None if answer == "ok" => Ok(()),
        Some(reason) => Err(NotifyError::Refused {
            reason: reason.to_string(),
        }),
        None => Err(NotifyError::Refused {
            reason: format!("unexpected answer `{answer}`"),
        }),
    }
}

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
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.at = now.max(self.at);
        self.tokens = (self.tokens + elapsed * f64::from(RATE_PER_SECOND)).min(f64::from(BURST));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Who may send: root, the daemon's own user, and the members of [`GROUP`].
pub fn allowed(
    uid: u32,
    gid: u32,
    own_uid: u32,
    group: Option<u32>,
    groups: &dyn Fn() -> Vec<u32>,
) -> bool {
    if uid == 0 || uid == own_uid {
        return true;
    }
    let Some(group) = group else {
        return false;
    };
    gid == group || groups().contains(&group)
}

/// The daemon's end: a non-blocking datagram socket, readable in poll(2).
pub struct NotifyServer {
    socket: UnixDatagram,
    path: PathBuf,
    group: Option<Gid>,
    limit: RateLimit,
    refused_logged: Option<Time>,
    per_wake: usize,
}

impl NotifyServer {
    /// Listens at `path`: an old socket left there is replaced (nothing
    /// else is), the mode is 0660 and the group [`GROUP`] when it exists.
    pub fn bind(path: &Path, now: Time) -> Result<NotifyServer, NotifyError> {
        let io = |error: std::io::Error| NotifyError::Io {
            path: path.to_path_buf(),
            error,
        };
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.file_type().is_socket() {
                return Err(io(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "something that is not a socket is in the way; remove it",
                )));
            }
            if UnixDatagram::unbound()
                .and_then(|probe| probe.connect(path))
                .is_ok()
            {
                return Err(NotifyError::InUse {
                    path: path.to_path_buf(),
                });
            }
            std::fs::remove_file(path).map_err(io)?;
        }
        let socket = UnixDatagram::bind(path).map_err(io)?;
        socket.set_nonblocking(true).map_err(io)?;
        setsockopt(&socket, sockopt::PassCred, &true).map_err(|e| io(e.into()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        let group = Group::from_name(GROUP).ok().flatten().map(|g| g.gid);
        match group {
            Some(gid) => {
                // The unit runs with Group=rackpi-notify, so the socket is
                // born in that group: chown(2) is outside its system-call
                // filter, and is only tried when the group differs.
                let born_in_group = std::fs::metadata(path)
                    .is_ok_and(|meta| std::os::unix::fs::MetadataExt::gid(&meta) == gid.as_raw());
                if !born_in_group {
                    if let Err(err) = nix::unistd::chown(path, None, Some(gid)) {
                        log::warn!(
                            "cannot give {} to the group {GROUP} ({err}): only root can send messages; run the daemon with Group={GROUP} (as the unit does)",
                            path.display()
                        );
                    }
                }
            }
            None => log::info!(
                "no group {GROUP}: only root (and this user) can send messages (the package creates the group)"
            ),
        }
        log::info!("messages and identify at {}", path.display());
        Ok(NotifyServer {
            socket,
            path: path.to_path_buf(),
            group,
            limit: RateLimit::new(now),
            refused_logged: None,
            per_wake: MAX_PER_WAKE,
        })
    }

    /// The descriptor to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// Reads at most [`MAX_PER_WAKE`] requests, answers each, and returns
    /// the accepted ones as inputs. Never blocks.
    pub fn receive(&mut self, now: Time) -> Vec<Input> {
        let mut inputs = Vec::new();
        for _ in 0..self.per_wake {
            let mut buf = [0u8; MAX_DATAGRAM + 1];
            let mut cmsg = nix::cmsg_space!(UnixCredentials);
            let (bytes, truncated, sender, creds) = {
                let mut iov = [IoSliceMut::new(&mut buf)];
                let received = recvmsg::<UnixAddr>(
                    self.socket.as_raw_fd(),
                    &mut iov,
                    Some(&mut cmsg),
                    MsgFlags::MSG_DONTWAIT,
                );
                let msg = match received {
                    Ok(msg) => msg,
                    Err(nix::errno::Errno::EAGAIN) => break,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(err) => {
                        log::warn!("reading {}: {err}", self.path.display());
                        break;
                    }
                };
                let creds = msg.cmsgs().ok().and_then(|mut all| {
                    all.find_map(|c| match c {
                        ControlMessageOwned::ScmCredentials(creds) => Some(creds),
                        _ => None,
                    })
                });
                (
                    msg.bytes,
                    msg.flags.contains(MsgFlags::MSG_TRUNC),
                    msg.address,
                    creds,
                )
            };
            let answer = self.judge(&buf[..bytes.min(MAX_DATAGRAM)], truncated, creds, now);
            let reply = match answer {
                Ok(request) => {
                    inputs.push(request.into_input());
                    "ok".to_string()
                }
                Err(reason) => format!("error: {reason}"),
            };
            if let Some(sender) = sender {
                // an answer nobody waits for is dropped, never waited on
                let _ = sendto(
                    self.socket.as_raw_fd(),
                    reply.as_bytes(),
                    &sender,
                    MsgFlags::MSG_DONTWAIT,
                );
            }
        }
        inputs
    }

    fn judge(
        &mut self,
        bytes: &[u8],
        truncated: bool,
        creds: Option<UnixCredentials>,
        now: Time,
    ) -> Result<Request, String> {
        let Some(creds) = creds else {
            return Err("no credentials came with the request".into());
        };
        let own = Uid::effective().as_raw();
        let group = self.group.map(Gid::as_raw);
        let groups = || member_groups(creds.uid(), creds.gid());
        if !allowed(creds.uid(), creds.gid(), own, group, &groups) {
            return Err(format!(
                "user {} may not send messages: add it to the group {GROUP}",
                creds.uid()
            ));
        }
        if !self.limit.allow(now) {
            if self
                .refused_logged
                .is_none_or(|at| now.saturating_sub(at) >= Duration::from_secs(60))
            {
                self.refused_logged = Some(now);
                log::warn!(
                    "messages are coming faster than {RATE_PER_SECOND} a second (from uid {}): the excess is refused",
                    creds.uid()
                );
            }
            return Err(format!(
                "too many messages: at most {RATE_PER_SECOND} a second"
            ));
        }
        if truncated {
            return Err(format!("the request is longer than {MAX_DATAGRAM} bytes"));
        }
        Request::decode(bytes)
    }
}

impl Drop for NotifyServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The supplementary groups of the user `uid` (from the group database).
fn member_groups(uid: u32, gid: u32) -> Vec<u32> {
    let Ok(Some(user)) = User::from_uid(Uid::from_raw(uid)) else {
        return Vec::new();
    };
    let Ok(name) = std::ffi::CString::new(user.name) else {
        return Vec::new();
    };
    nix::unistd::getgrouplist(&name, Gid::from_raw(gid))
        .map(|groups| groups.into_iter().map(Gid::as_raw).collect())
        .unwrap_or_default()
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
        let huge = vec![b'x'; MAX_DATAGRAM + 1];
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
    fn only_root_the_daemon_and_the_group_may_send() {
        let none = || Vec::new();
        let member = || vec![100, 990];
        assert!(allowed(0, 0, 500, Some(990), &none));
        assert!(allowed(500, 500, 500, Some(990), &none));
        assert!(allowed(1000, 990, 500, Some(990), &none));
        assert!(allowed(1000, 1000, 500, Some(990), &member));
        assert!(!allowed(1000, 1000, 500, Some(990), &none));
        assert!(!allowed(1000, 1000, 500, None, &member));
    }

    #[test]
    fn a_request_reaches_the_daemon_and_is_answered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let mut server = NotifyServer::bind(&path, Duration::ZERO).unwrap();
        let client = std::thread::spawn({
            let path = path.clone();
            move || {
                send(
                    &path,
                    &Request::Identify {
                        lasts: Duration::from_secs(5),
                    },
                )
            }
        });
        let mut inputs = Vec::new();
        for _ in 0..200 {
            inputs = server.receive(Duration::ZERO);
            if !inputs.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            inputs,
            vec![Input::Identify {
                lasts: Duration::from_secs(5)
            }]
        );
        assert!(client.join().unwrap().is_ok());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o660);
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
    fn a_flood_is_read_a_bounded_number_at_a_time_and_rate_limited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let mut server = NotifyServer::bind(&path, Duration::ZERO).unwrap();
        // (the kernel queues as few as 10 datagrams: a smaller bound to see it bite)
        server.per_wake = 4;
        let sender = UnixDatagram::unbound().unwrap();
        setsockopt(&sender, sockopt::PassCred, &true).unwrap();
        sender.set_nonblocking(true).unwrap();
        let mut accepted = 0;
        let mut refusals = 0;
        for round in 0..10 {
            for i in 0..8 {
                let line = format!("notify warn - flood {round} {i}");
                sender.send_to(line.as_bytes(), &path).unwrap();
            }
            for _ in 0..2 {
                let read = server.receive(Duration::ZERO);
                assert!(read.len() <= 4, "a bounded read per wake-up");
                accepted += read.len();
                let mut answer = [0u8; 64];
                while let Ok(n) = sender.recv(&mut answer) {
                    refusals += usize::from(answer[..n].starts_with(b"error: too many"));
                }
            }
        }
        assert_eq!(
            accepted, BURST as usize,
            "past the burst, requests are refused"
        );
        assert_eq!(
            refusals,
            80 - BURST as usize,
            "each refused sender is told why"
        );
    }
}
