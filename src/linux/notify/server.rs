//! The daemon's end of the notify socket: a listening `SOCK_SEQPACKET`
//! socket, and the connections accepted from it that have not sent their
//! request yet, all behind one epoll descriptor that the loop polls. Nothing
//! here blocks: accept, read and answer are non-blocking, and a connection
//! that sends nothing is dropped after [`ANSWER_WITHIN`].

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::buffer::spare_capacity;
use rustix::event::epoll;
use rustix::io::Errno;
use rustix::net::{
    accept_with, bind, connect, listen, recv, send, socket_with, AddressFamily, RecvFlags,
    SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};

use super::limits::{allowed, RateLimits, Verdict};
use super::peer::{peer, Peer};
use super::{Request, ANSWER_WITHIN, GROUP, MAX_PER_WAKE, MAX_REQUEST, RATE_PER_SECOND};
use crate::app::ports::NotifyError;
use crate::core::{Input, Time};

/// Connections accepted and waiting for their request; past that the
/// oldest of the user with the most waiting is dropped.
pub(crate) const MAX_WAITING: usize = 16;
/// Connections queued in the kernel before the daemon accepts them.
const BACKLOG: i32 = 64;
/// The epoll key of the listening socket (a connection's key is its fd).
const LISTENER: u64 = u64::MAX;

/// A connection that has not sent its request yet.
struct Waiting {
    connection: OwnedFd,
    peer: Peer,
    since: Time,
}

/// What became of a connection that was looked at.
enum Outcome {
    /// Answered (and the input, if accepted), or closed by its sender.
    Done(Option<Input>),
    /// Nothing to read yet.
    Later,
}

/// Who may send and how often: decides each request.
struct Gate {
    group: Option<u32>,
    own_uid: u32,
    limits: RateLimits,
}

/// The daemon's end: its one pollable descriptor is [`NotifyServer::fd`].
pub struct NotifyServer {
    listener: OwnedFd,
    ready: OwnedFd,
    waiting: Vec<Waiting>,
    gate: Gate,
    path: PathBuf,
    per_wake: usize,
}

impl NotifyServer {
    /// Listens at `path`: an old socket left there is replaced (nothing
    /// else is), the mode is 0660 and the group [`GROUP`] when it exists.
    pub fn bind(path: &Path) -> Result<NotifyServer, NotifyError> {
        // (the group database is read once, at start, never from the loop)
        let group = nix::unistd::Group::from_name(GROUP)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw());
        if group.is_none() {
            log::info!(
                "no group {GROUP}: only root (and this user) can send messages (the package creates the group)"
            );
        }
        Self::bind_for(path, group)
    }

    /// As [`NotifyServer::bind`], with `group` (a gid) as the group whose
    /// members may send.
    pub fn bind_for(path: &Path, group: Option<u32>) -> Result<NotifyServer, NotifyError> {
        let io = |error: std::io::Error| NotifyError::Io {
            path: path.to_path_buf(),
            error,
        };
        let errno = |error: Errno| io(error.into());
        remove_stale(path)?;
        let listener = socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(errno)?;
        bind(&listener, &SocketAddrUnix::new(path).map_err(errno)?).map_err(errno)?;
        listen(&listener, BACKLOG).map_err(errno)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        if let Some(gid) = group {
            give_to_group(path, gid);
        }
        let ready = epoll::create(epoll::CreateFlags::CLOEXEC).map_err(errno)?;
        epoll::add(
            &ready,
            &listener,
            epoll::EventData::new_u64(LISTENER),
            epoll::EventFlags::IN,
        )
        .map_err(errno)?;
        log::info!("messages and identify at {}", path.display());
        Ok(NotifyServer {
            listener,
            ready,
            waiting: Vec::new(),
            gate: Gate {
                group,
                own_uid: nix::unistd::Uid::effective().as_raw(),
                limits: RateLimits::default(),
            },
            path: path.to_path_buf(),
            per_wake: MAX_PER_WAKE,
        })
    }

    /// The descriptor to poll: readable when a connection or a request is
    /// waiting.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.ready.as_fd()
    }

    /// When the oldest waiting connection is to be dropped, if any waits.
    pub fn deadline(&self) -> Option<Time> {
        self.waiting.iter().map(|w| w.since + ANSWER_WITHIN).min()
    }

    /// Drops the connections that have waited [`ANSWER_WITHIN`] without
    /// sending anything.
    pub(crate) fn expire(&mut self, now: Time) {
        let before = self.waiting.len();
        self.waiting
            .retain(|w| now.saturating_sub(w.since) < ANSWER_WITHIN);
        if self.waiting.len() < before {
            log::debug!(
                "{} connection(s) to {} dropped: no request within {} s",
                before - self.waiting.len(),
                self.path.display(),
                ANSWER_WITHIN.as_secs()
            );
        }
    }

    /// Accepts and answers at most [`MAX_PER_WAKE`] connections, and
    /// returns the accepted requests as inputs. Never blocks.
    pub fn receive(&mut self, now: Time) -> Vec<Input> {
        self.expire(now);
        let mut events = Vec::with_capacity(MAX_WAITING + 1);
        if let Err(err) = epoll::wait(&self.ready, spare_capacity(&mut events), Some(&ZERO)) {
            if err != Errno::INTR {
                log::warn!("reading {}: {err}", self.path.display());
            }
            return Vec::new();
        }
        let mut inputs = Vec::new();
        let mut budget = self.per_wake;
        let mut listener_ready = false;
        // the connections waiting first: the oldest requests are answered first
        for event in &events {
            let key = event.data.u64();
            if key == LISTENER {
                listener_ready = true;
                continue;
            }
            if budget == 0 {
                break;
            }
            let found = self
                .waiting
                .iter()
                .position(|w| key_of(&w.connection) == key);
            let Some(at) = found else { continue };
            budget -= 1;
            let waiting = &self.waiting[at];
            if let Outcome::Done(input) =
                self.gate
                    .answer(waiting.connection.as_fd(), &waiting.peer, now)
            {
                inputs.extend(input);
                // (closing it also takes it out of the epoll set)
                self.waiting.swap_remove(at);
            }
        }
        while listener_ready && budget > 0 {
            let connection =
                match accept_with(&self.listener, SocketFlags::CLOEXEC | SocketFlags::NONBLOCK) {
                    Ok(connection) => connection,
                    Err(Errno::INTR | Errno::CONNABORTED) => continue,
                    Err(Errno::AGAIN) => break,
                    Err(err) => {
                        log::warn!("accepting at {}: {err}", self.path.display());
                        break;
                    }
                };
            budget -= 1;
            let peer = match peer(connection.as_fd()) {
                Ok(peer) => peer,
                Err(err) => {
                    log::warn!("who is asking at {}: {err}", self.path.display());
                    continue;
                }
            };
            // most senders have written their request before the accept
            match self.gate.answer(connection.as_fd(), &peer, now) {
                Outcome::Done(input) => inputs.extend(input),
                Outcome::Later => self.wait_for(connection, peer, now),
            }
        }
        inputs
    }

    /// Keeps `connection` until its request comes, making room if needed.
    fn wait_for(&mut self, connection: OwnedFd, peer: Peer, now: Time) {
        if self.waiting.len() == MAX_WAITING {
            self.drop_one();
        }
        let registered = epoll::add(
            &self.ready,
            &connection,
            epoll::EventData::new_u64(key_of(&connection)),
            epoll::EventFlags::IN | epoll::EventFlags::RDHUP,
        );
        if let Err(err) = registered {
            log::warn!("waiting on a connection to {}: {err}", self.path.display());
            return;
        }
        self.waiting.push(Waiting {
            connection,
            peer,
            since: now,
        });
    }

    /// Drops the oldest waiting connection of the user with the most
    /// waiting, so that one user's idle connections cannot push out others.
    fn drop_one(&mut self) {
        let count = |uid: u32| self.waiting.iter().filter(|w| w.peer.uid == uid).count();
        let busiest = self
            .waiting
            .iter()
            .map(|w| w.peer.uid)
            .max_by_key(|&uid| count(uid));
        let oldest = self
            .waiting
            .iter()
            .enumerate()
            .filter(|(_, w)| Some(w.peer.uid) == busiest)
            .min_by_key(|(_, w)| w.since)
            .map(|(at, _)| at);
        if let Some(at) = oldest {
            self.waiting.remove(at);
        }
    }
}

impl Gate {
    /// Reads the request on `connection` if it has come, and answers it on
    /// that connection (the only place an answer ever goes).
    fn answer(&mut self, connection: BorrowedFd<'_>, peer: &Peer, now: Time) -> Outcome {
        let mut request = [0u8; MAX_REQUEST + 1];
        let length = match recv(connection, &mut request, RecvFlags::DONTWAIT) {
            Ok((0, _)) => return Outcome::Done(None),
            Ok((length, _)) => length,
            Err(Errno::AGAIN | Errno::INTR) => return Outcome::Later,
            Err(_) => return Outcome::Done(None),
        };
        let judged = if length > MAX_REQUEST {
            Err(format!("the request is longer than {MAX_REQUEST} bytes"))
        } else {
            self.judge(&request[..length], peer, now)
        };
        let (input, reply) = match judged {
            Ok(request) => (Some(request.into_input()), "ok".to_string()),
            Err(reason) => (None, format!("error: {reason}")),
        };
        // an answer nobody waits for is dropped, never waited on
        let _ = send(
            connection,
            reply.as_bytes(),
            SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
        );
        Outcome::Done(input)
    }

    fn judge(&mut self, bytes: &[u8], peer: &Peer, now: Time) -> Result<Request, String> {
        if !allowed(peer.uid, peer.gid, &peer.groups, self.own_uid, self.group) {
            return Err(format!(
                "user {} may not send messages: add it to the group {GROUP}",
                peer.uid
            ));
        }
        if let Verdict::Refused { log } = self.limits.allow(peer.uid, now) {
            if log {
                log::warn!(
                    "messages from uid {} are coming faster than {RATE_PER_SECOND} a second: the excess is refused",
                    peer.uid
                );
            }
            return Err(format!(
                "too many messages: at most {RATE_PER_SECOND} a second"
            ));
        }
        Request::decode(bytes)
    }
}

impl Drop for NotifyServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

const ZERO: rustix::event::Timespec = rustix::event::Timespec {
    tv_sec: 0,
    tv_nsec: 0,
};

fn key_of(connection: &OwnedFd) -> u64 {
    u64::from(connection.as_raw_fd().unsigned_abs())
}

/// Clears the way at `path`: an old socket nobody listens at is removed;
/// a live one, or anything else, is an error.
fn remove_stale(path: &Path) -> Result<(), NotifyError> {
    let io = |error: std::io::Error| NotifyError::Io {
        path: path.to_path_buf(),
        error,
    };
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "something that is not a socket is in the way; remove it",
        )));
    }
    let probe = socket_with(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
        None,
    )
    .map_err(|e| io(e.into()))?;
    let address = SocketAddrUnix::new(path).map_err(|e| io(e.into()))?;
    match connect(&probe, &address) {
        // (PROTOTYPE: an older daemon, listening for datagrams)
        Ok(()) | Err(Errno::AGAIN | Errno::PROTOTYPE) => Err(NotifyError::InUse {
            path: path.to_path_buf(),
        }),
        Err(_) => std::fs::remove_file(path).map_err(io),
    }
}

/// Gives the socket to the group `gid`. The unit runs with
/// Group=rackpi-notify, so the socket is born in that group: chown(2) is
/// outside its system-call filter, and is only tried when the group differs.
fn give_to_group(path: &Path, gid: u32) {
    let born_in_group = std::fs::metadata(path).is_ok_and(|meta| meta.gid() == gid);
    if born_in_group {
        return;
    }
    if let Err(err) = nix::unistd::chown(path, None, Some(nix::unistd::Gid::from_raw(gid))) {
        log::warn!(
            "cannot give {} to the group {GROUP} ({err}): only root can send messages; run the daemon with Group={GROUP} (as the unit does)",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Level;
    use crate::linux::notify::{send as ask_daemon, BURST};
    use std::os::unix::net::UnixDatagram;
    use std::time::Duration;

    const START: Time = Duration::from_secs(100);

    fn server() -> (tempfile::TempDir, PathBuf, NotifyServer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = NotifyServer::bind(&path).unwrap();
        (dir, path, server)
    }

    /// A connection to `path`, as a sender makes it.
    fn connection(path: &Path) -> OwnedFd {
        let socket = socket_with(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap();
        connect(&socket, &SocketAddrUnix::new(path).unwrap()).unwrap();
        socket
    }

    fn write(connection: &OwnedFd, line: &str) {
        send(connection, line.as_bytes(), SendFlags::empty()).unwrap();
    }

    /// What the daemon answered on `connection`; `None` when nothing is there.
    fn answer(connection: &OwnedFd) -> Option<String> {
        let mut buf = [0u8; 2 * MAX_REQUEST];
        match recv(connection, &mut buf, RecvFlags::DONTWAIT) {
            Ok((n, _)) => Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
            Err(Errno::AGAIN) => None,
            Err(err) => panic!("{err}"),
        }
    }

    #[test]
    fn a_request_reaches_the_daemon_and_is_answered() {
        let (_dir, path, mut server) = server();
        let client = std::thread::spawn({
            let path = path.clone();
            move || {
                ask_daemon(
                    &path,
                    &Request::Identify {
                        lasts: Duration::from_secs(5),
                    },
                )
            }
        });
        let mut inputs = Vec::new();
        for _ in 0..200 {
            inputs = server.receive(START);
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
    fn a_datagram_is_refused_by_the_kernel_and_nothing_answers_it() {
        let (dir, path, mut server) = server();
        let sender = UnixDatagram::bind(dir.path().join("sender.sock")).unwrap();
        sender.set_nonblocking(true).unwrap();
        let refused = sender.send_to(b"notify error - x", &path).unwrap_err();
        assert_eq!(
            refused.raw_os_error(),
            Some(Errno::PROTOTYPE.raw_os_error())
        );
        assert_eq!(server.receive(START), vec![]);
        let mut buf = [0u8; 64];
        assert_eq!(
            sender.recv(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "no answer came back"
        );
    }

    #[test]
    fn an_answer_goes_only_to_the_connection_that_asked() {
        let (_dir, path, mut server) = server();
        let asking = connection(&path);
        let bystander = connection(&path);
        write(&asking, "notify loud - x");
        assert_eq!(server.receive(START), vec![]);
        let said = answer(&asking).expect("an answer to who asked");
        assert!(said.starts_with("error: unknown level `loud`"), "{said}");
        assert_eq!(answer(&bystander), None, "nothing to the other");
        assert_eq!(answer(&asking), Some(String::new()), "then closed");
        write(&bystander, "notify info - hello");
        assert_eq!(
            server.receive(START),
            vec![Input::Notify {
                level: Level::Info,
                text: "hello".into(),
                lasts: None
            }]
        );
        assert_eq!(answer(&bystander).as_deref(), Some("ok"));
    }

    #[test]
    fn a_senders_newlines_come_back_escaped_on_one_line() {
        let (_dir, path, mut server) = server();
        let asking = connection(&path);
        write(&asking, "notify x\nSTATUS=owned\nWATCHDOG=trigger\n - hi");
        server.receive(START);
        let said = answer(&asking).unwrap();
        assert!(!said.contains('\n'), "{said:?}");
        assert!(
            said.contains("x\\nSTATUS=owned\\nWATCHDOG=trigger\\n"),
            "{said:?}"
        );
        let asking = connection(&path);
        write(&asking, &format!("identify {}", "\u{7}".repeat(400)));
        server.receive(START);
        let said = answer(&asking).unwrap();
        assert!(!said.contains('\u{7}') && said.len() < 300, "{said:?}");
    }

    #[test]
    fn a_connection_that_never_sends_is_dropped_and_stalls_no_one() {
        let (_dir, path, mut server) = server();
        let silent: Vec<OwnedFd> = (0..MAX_WAITING + 4).map(|_| connection(&path)).collect();
        assert_eq!(server.receive(START), vec![]);
        assert_eq!(server.receive(START), vec![]);
        assert_eq!(server.waiting.len(), MAX_WAITING, "a bounded number waits");
        assert_eq!(server.deadline(), Some(START + ANSWER_WITHIN));
        let asking = connection(&path);
        write(&asking, "identify 1000");
        let later = START + Duration::from_millis(500);
        assert_eq!(
            server.receive(later),
            vec![Input::Identify {
                lasts: Duration::from_secs(1)
            }]
        );
        assert_eq!(answer(&asking).as_deref(), Some("ok"));
        let closed = |c: &OwnedFd| answer(c) == Some(String::new());
        assert_eq!(
            silent.iter().filter(|c| closed(c)).count(),
            4,
            "the oldest made room"
        );
        server.expire(START + ANSWER_WITHIN - Duration::from_millis(1));
        assert_eq!(silent.iter().filter(|c| closed(c)).count(), 4);
        server.expire(START + ANSWER_WITHIN);
        assert!(silent.iter().all(closed), "all dropped after 2 s");
        assert_eq!(server.deadline(), None);
    }

    #[test]
    fn one_users_idle_connections_push_out_their_own_not_anothers() {
        let (_dir, _path, mut server) = server();
        let someone = |uid| Peer {
            uid,
            gid: uid,
            groups: vec![],
        };
        let (root_end, root_kept) = std::os::unix::net::UnixStream::pair().unwrap();
        server.wait_for(root_end.into(), someone(0), START);
        let mut members = Vec::new();
        for i in 0..2 * MAX_WAITING {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            server.wait_for(
                ours.into(),
                someone(1000),
                START + Duration::from_millis(i as u64),
            );
            members.push(theirs);
        }
        assert_eq!(server.waiting.len(), MAX_WAITING);
        assert!(
            server.waiting.iter().any(|w| w.peer.uid == 0),
            "root's still waits"
        );
        drop(root_kept);
    }

    #[test]
    fn a_flood_is_read_a_bounded_number_at_a_time_and_rate_limited() {
        let (_dir, path, mut server) = server();
        server.per_wake = 4;
        let mut accepted = 0;
        let mut refusals = 0;
        for round in 0..10 {
            let flood: Vec<OwnedFd> = (0..8)
                .map(|i| {
                    let c = connection(&path);
                    write(&c, &format!("notify warn - flood {round} {i}"));
                    c
                })
                .collect();
            for _ in 0..2 {
                let read = server.receive(START);
                assert!(read.len() <= 4, "a bounded read per wake-up");
                accepted += read.len();
            }
            for c in &flood {
                refusals +=
                    usize::from(answer(c).is_some_and(|a| a.starts_with("error: too many")));
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

    #[test]
    fn a_live_daemons_socket_is_not_taken_over_but_a_stale_one_is() {
        let (_dir, path, server) = server();
        let in_use =
            |path: &Path| matches!(NotifyServer::bind(path), Err(NotifyError::InUse { .. }));
        assert!(in_use(&path));
        drop(server);
        // an older daemon, listening for datagrams
        let older = UnixDatagram::bind(&path).unwrap();
        assert!(in_use(&path));
        // …that died, leaving its socket behind
        drop(older);
        assert!(NotifyServer::bind(&path).is_ok());
    }
}
