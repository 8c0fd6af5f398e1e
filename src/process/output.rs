//! A running command's two pipes, read without blocking and without helper
//! threads: the first bytes of stdout kept, the rest read and dropped, and
//! the last words of stderr.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read};
use std::os::fd::AsFd;
use std::process::{ChildStderr, ChildStdout};
use std::time::{Duration, Instant};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::STDERR_TAIL_BYTES;

/// The two pipes of a running command and what was kept of them.
pub(super) struct Output {
    pub(super) stdout: Option<ChildStdout>,
    pub(super) stderr: Option<ChildStderr>,
    pub(super) head: Vec<u8>,
    pub(super) stdout_limit: usize,
    pub(super) stderr_tail: Tail,
}

impl Output {
    pub(super) fn new(
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
        stdout_limit: usize,
    ) -> Self {
        let nonblocking = |fd: std::os::fd::BorrowedFd<'_>| {
            fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).is_ok()
        };
        // (a pipe that cannot be made non-blocking is closed: the command
        // then gets SIGPIPE rather than the panel a thread stuck on it)
        Output {
            stdout: stdout.filter(|s| nonblocking(s.as_fd())),
            stderr: stderr.filter(|s| nonblocking(s.as_fd())),
            head: Vec::with_capacity(stdout_limit),
            stdout_limit,
            stderr_tail: Tail::new(STDERR_TAIL_BYTES),
        }
    }

    /// Waits up to `wait` for output, and reads all there is; a pipe at its
    /// end is closed. Sleeps `wait` when both are closed.
    pub(super) fn read(&mut self, wait: Duration) {
        let timeout =
            PollTimeout::try_from(wait.as_millis().min(60_000) as i32).unwrap_or(PollTimeout::ZERO);
        let (out_ready, err_ready) = {
            let mut fds = Vec::with_capacity(2);
            if let Some(stdout) = &self.stdout {
                fds.push(PollFd::new(stdout.as_fd(), PollFlags::POLLIN));
            }
            if let Some(stderr) = &self.stderr {
                fds.push(PollFd::new(stderr.as_fd(), PollFlags::POLLIN));
            }
            if fds.is_empty() {
                std::thread::sleep(wait);
                return;
            }
            if poll(&mut fds, timeout).is_err() {
                return;
            }
            let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
            let out_ready = self.stdout.is_some() && ready(&fds[0]);
            let err_ready = self.stderr.is_some() && ready(fds.last().expect("one fd at least"));
            (out_ready, err_ready)
        };
        if out_ready {
            let (head, limit) = (&mut self.head, self.stdout_limit);
            let open = read_available(self.stdout.as_mut(), |chunk| {
                let room = limit.saturating_sub(head.len());
                head.extend_from_slice(&chunk[..room.min(chunk.len())]);
            });
            if !open {
                self.stdout = None;
            }
        }
        if err_ready {
            let tail = &mut self.stderr_tail;
            if !read_available(self.stderr.as_mut(), |chunk| tail.push(chunk)) {
                self.stderr = None;
            }
        }
    }

    /// Reads until the pipes end (stderr only if `stderr_wanted`) or
    /// `until`; then both are closed, whoever still holds them.
    pub(super) fn drain(&mut self, until: Instant, stderr_wanted: bool) {
        if !stderr_wanted {
            self.stderr = None;
        }
        while self.stdout.is_some() || self.stderr.is_some() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.read(left);
        }
        self.stdout = None;
        self.stderr = None;
    }
}

/// Reads what `stream` has now, handing each chunk to `keep`; false when
/// the stream has ended (or failed).
fn read_available(stream: Option<&mut impl Read>, mut keep: impl FnMut(&[u8])) -> bool {
    let Some(stream) = stream else {
        return false;
    };
    let mut chunk = [0; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return false,
            Ok(n) => keep(&chunk[..n]),
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(err) if err.kind() == ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
}

/// The last `limit` bytes of a stream; everything before is dropped as it
/// comes, so a command may write any amount.
pub(super) struct Tail {
    bytes: VecDeque<u8>,
    limit: usize,
    /// The last byte dropped, if any: tells whether the kept bytes begin
    /// inside a line.
    before: Option<u8>,
}

impl Tail {
    pub(super) fn new(limit: usize) -> Self {
        Tail {
            bytes: VecDeque::new(),
            limit,
            before: None,
        }
    }

    pub(super) fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        let excess = self.bytes.len().saturating_sub(self.limit);
        if excess > 0 {
            self.before = self.bytes.drain(..excess).next_back();
        }
    }

    /// The last line that says something, trimmed, on one line. A line that
    /// began before the kept bytes is marked with `...`.
    pub(super) fn last_line(&mut self) -> String {
        let bytes = self.bytes.make_contiguous();
        let mut start = 0;
        if self.before.is_some() {
            // The cut may have split a character: start at the next one.
            while start < 3 && bytes.get(start).is_some_and(|b| b & 0xC0 == 0x80) {
                start += 1;
            }
        }
        let text = String::from_utf8_lossy(&bytes[start..]);
        // `\r` too: progress bars redraw a line with it.
        let lines: Vec<&str> = text.split(['\n', '\r']).collect();
        let Some(index) = lines.iter().rposition(|l| !l.trim().is_empty()) else {
            return String::new();
        };
        let line: String = lines[index]
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let began_before = index == 0 && self.before.is_some_and(|b| b != b'\n' && b != b'\r');
        if began_before {
            format!("...{line}")
        } else {
            line
        }
    }
}
