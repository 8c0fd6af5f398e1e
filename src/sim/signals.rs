//! Signals in the simulator, as in the daemon: SIGTERM and SIGINT (and
//! SIGQUIT, which would otherwise leave the terminal raw and the outputs
//! cut short) end the run as `quit` does (outputs complete, `stopped`
//! event, exit 0), SIGHUP reloads `--config`; in the interactive mode
//! SIGWINCH redraws the terminal and SIGTSTP gives the terminal back
//! before the process stops. Each handler only
//! writes a byte to a socket the inputs poll alongside their own work.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP, SIGWINCH};
use signal_hook::SigId;

/// What a wait was ended by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Woke {
    /// SIGTERM, SIGINT or SIGQUIT.
    Stop,
    /// SIGHUP.
    Reload,
    /// SIGWINCH: the terminal changed size.
    Resize,
    /// SIGTSTP: stop (suspend) the process, as Ctrl-Z would.
    Suspend,
    /// The caller's own descriptor is readable.
    Ready,
    /// The timeout passed.
    Timeout,
}

/// The signal handlers of one simulation; removed again when dropped.
pub(crate) struct Signals {
    stop: UnixStream,
    reload: UnixStream,
    /// Only when SIGWINCH is followed (a read end without a writer would
    /// report a hang-up for ever).
    resize: Option<UnixStream>,
    /// SIGTSTP, followed with SIGWINCH (the terminal is given back first).
    suspend: Option<UnixStream>,
    ids: Vec<SigId>,
}

fn pipe() -> std::io::Result<(UnixStream, UnixStream)> {
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    Ok((read, write))
}

fn drain(stream: &mut UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

impl Signals {
    /// Installs the handlers (SIGWINCH and SIGTSTP only when `terminal`
    /// is asked for).
    pub(crate) fn install(terminal: bool) -> std::io::Result<Self> {
        let (stop, stop_w) = pipe()?;
        let (reload, reload_w) = pipe()?;
        let mut ids = vec![
            signal_hook::low_level::pipe::register(SIGTERM, stop_w.try_clone()?)?,
            signal_hook::low_level::pipe::register(SIGINT, stop_w.try_clone()?)?,
            signal_hook::low_level::pipe::register(SIGQUIT, stop_w)?,
            signal_hook::low_level::pipe::register(SIGHUP, reload_w)?,
        ];
        let (mut resize, mut suspend) = (None, None);
        if terminal {
            let (read, write) = pipe()?;
            ids.push(signal_hook::low_level::pipe::register(SIGWINCH, write)?);
            resize = Some(read);
            let (read, write) = pipe()?;
            ids.push(signal_hook::low_level::pipe::register(SIGTSTP, write)?);
            suspend = Some(read);
        }
        Ok(Signals {
            stop,
            reload,
            resize,
            suspend,
            ids,
        })
    }

    /// Waits for a signal, for `extra` to become readable, or for `timeout`.
    /// A stop is reported before anything else that is ready.
    pub(crate) fn wait(
        &mut self,
        timeout: PollTimeout,
        extra: Option<BorrowedFd<'_>>,
    ) -> std::io::Result<Woke> {
        let ready = {
            let mut fds = vec![
                PollFd::new(self.stop.as_fd(), PollFlags::POLLIN),
                PollFd::new(self.reload.as_fd(), PollFlags::POLLIN),
            ];
            if let Some(fd) = extra {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
            if let Some(resize) = &self.resize {
                fds.push(PollFd::new(resize.as_fd(), PollFlags::POLLIN));
            }
            if let Some(suspend) = &self.suspend {
                fds.push(PollFd::new(suspend.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => return Ok(Woke::Timeout),
                Err(err) => return Err(err.into()),
            }
            fds.iter()
                .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
                .collect::<Vec<_>>()
        };
        let extra_ready = extra.is_some() && ready[2];
        let first_own = 2 + usize::from(extra.is_some());
        let resize_ready = self.resize.is_some() && ready[first_own];
        let suspend_ready = self.suspend.is_some() && ready[first_own + 1];
        Ok(if ready[0] {
            drain(&mut self.stop);
            Woke::Stop
        } else if ready[1] {
            drain(&mut self.reload);
            Woke::Reload
        } else if suspend_ready {
            if let Some(suspend) = self.suspend.as_mut() {
                drain(suspend);
            }
            Woke::Suspend
        } else if resize_ready {
            if let Some(resize) = self.resize.as_mut() {
                drain(resize);
            }
            Woke::Resize
        } else if extra_ready {
            Woke::Ready
        } else {
            Woke::Timeout
        })
    }

    /// A signal that has arrived, without waiting.
    pub(crate) fn pending(&mut self) -> std::io::Result<Option<Woke>> {
        Ok(match self.wait(PollTimeout::ZERO, None)? {
            Woke::Timeout | Woke::Ready => None,
            woke => Some(woke),
        })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}
