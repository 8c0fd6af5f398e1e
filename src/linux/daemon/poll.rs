//! The daemon's inputs: one poll(2) over the button's edge events, the
//! signal pipes, the workers' wake-up socket, the notify socket and the
//! systemd bus, with the core's next deadline (or the watchdog's, or the
//! bus's next try) as the timeout.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags};

use super::monotonic_now;
use super::reload::ConfigReader;
use crate::app::deadline::poll_timeout;
use crate::app::ports::{EdgeBatch, EdgeSource, Inputs, Wake};
use crate::core::{Input, Time};
use crate::linux::notify::NotifyServer;
use crate::linux::units::UnitsFollower;
use crate::linux::ups::UpsConditions;

/// The real button, the signals and the daemon's sockets, as the loop's inputs.
pub(super) struct HwInputs {
    pub(super) button: Box<dyn EdgeSource>,
    pub(super) notify: Option<NotifyServer>,
    pub(super) units: Option<UnitsFollower>,
    /// The UPS reader's condition changes (`None` without `[ups]`).
    pub(super) ups: Option<UpsConditions>,
    pub(super) received: Vec<Input>,
    pub(super) stop: UnixStream,
    pub(super) reload: UnixStream,
    /// Reads the configuration off the loop at a SIGHUP (`None` in tests
    /// that drive no reload).
    pub(super) config_reader: Option<ConfigReader>,
    pub(super) woken: UnixStream,
    pub(super) watchdog: Option<(Duration, Time)>,
    /// The sensor thread's watch (SPEC §10): what changed, after a byte on `woken`.
    pub(super) watched: Option<Receiver<Input>>,
}

/// Which of the polled descriptors are readable.
#[derive(Default)]
struct Ready {
    button: bool,
    stop: bool,
    reload: bool,
    woken: bool,
    notify: bool,
    units: bool,
}

fn drain(stream: &mut UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

impl HwInputs {
    /// The button and the signal and wake-up pipes, with no other source
    /// (tests add the ones they follow).
    #[cfg(test)]
    pub(super) fn bare(
        button: Box<dyn EdgeSource>,
        stop: UnixStream,
        reload: UnixStream,
        woken: UnixStream,
    ) -> HwInputs {
        HwInputs {
            button,
            notify: None,
            units: None,
            ups: None,
            received: Vec::new(),
            stop,
            reload,
            config_reader: None,
            woken,
            watchdog: None,
            watched: None,
        }
    }

    fn units_ready(&mut self) {
        if let Some(units) = self.units.as_mut() {
            self.received.extend(units.receive(monotonic_now()));
        }
    }

    /// When the units follower wants to try the bus again.
    fn units_retry_at(&self) -> Option<Time> {
        self.units.as_ref().and_then(UnitsFollower::retry_at)
    }

    /// Pets the watchdog, tries the bus again or closes a silent notify
    /// connection if one is due at `now`; whether it did (the clock has
    /// moved on since).
    fn chores_due(&mut self, now: Time) -> bool {
        if let Some((interval, due)) = self.watchdog {
            if due <= now {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                self.watchdog = Some((interval, now + interval));
                return true;
            }
        }
        if self.units_retry_at().is_some_and(|at| at <= now) {
            if let Some(units) = self.units.as_mut() {
                // (a thread connects, and wakes the loop through `woken` when
                // it is done; the listing comes through the bus's socket)
                units.retry(now);
            }
            return true;
        }
        if let Some(notify) = self.notify.as_mut() {
            // (a connection that never sent its request)
            if notify.deadline().is_some_and(|at| at <= now) {
                notify.expire(now);
                return true;
            }
        }
        false
    }

    /// Sleeps in poll(2) until a descriptor is readable or `timeout` ends
    /// (an interrupted poll reads as nothing ready).
    fn poll_ready(&self, timeout: nix::poll::PollTimeout) -> std::io::Result<Ready> {
        let mut fds = vec![
            PollFd::new(self.button.fd(), PollFlags::POLLIN),
            PollFd::new(self.stop.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.reload.as_fd(), PollFlags::POLLIN),
            PollFd::new(self.woken.as_fd(), PollFlags::POLLIN),
        ];
        let notify_at = fds.len();
        if let Some(notify) = &self.notify {
            fds.push(PollFd::new(notify.fd(), PollFlags::POLLIN));
        }
        let units_at = fds.len();
        if let Some(fd) = self.units.as_ref().and_then(UnitsFollower::fd) {
            fds.push(PollFd::new(fd, PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => return Ok(Ready::default()),
            Err(err) => return Err(err.into()),
        }
        let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
        Ok(Ready {
            button: ready(&fds[0]),
            stop: ready(&fds[1]),
            reload: ready(&fds[2]),
            woken: ready(&fds[3]),
            notify: self.notify.is_some() && fds.get(notify_at).is_some_and(ready),
            units: fds.get(units_at).is_some_and(ready),
        })
    }

    /// Takes what woke the poll, most urgent first; `None` when nothing did.
    fn take(&mut self, ready: Ready) -> Option<Wake> {
        if ready.stop {
            drain(&mut self.stop);
            return Some(Wake::Stop);
        }
        if ready.button {
            // the runtime reads every queued edge next
            return Some(Wake::Woken);
        }
        if ready.reload {
            drain(&mut self.reload);
            match &self.config_reader {
                Some(reader) => reader.start(),
                None => return Some(Wake::Reload),
            }
        }
        if ready.woken {
            drain(&mut self.woken);
            if self
                .config_reader
                .as_ref()
                .is_some_and(ConfigReader::has_read)
            {
                return Some(Wake::Reload);
            }
            // (the units follower's connecting thread may be the one, or
            // the UPS reader)
            self.units_ready();
            if let Some(ups) = &self.ups {
                self.received.extend(ups.drain());
            }
            if let Some(watched) = &self.watched {
                self.received.extend(watched.try_iter());
            }
            return Some(Wake::Woken);
        }
        if ready.units {
            self.units_ready();
            return Some(Wake::Woken);
        }
        if ready.notify {
            if let Some(notify) = self.notify.as_mut() {
                // a bounded number per wake-up: the button's edges come
                // first; timed now, not before the poll (which may have
                // slept for hours: the rate limit would not refill)
                self.received.extend(notify.receive(monotonic_now()));
            }
            return Some(Wake::Woken);
        }
        None
    }
}

impl Inputs for HwInputs {
    fn now(&mut self) -> Time {
        monotonic_now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        self.button.pressed().map_err(std::io::Error::other)
    }

    fn pending_edges(&mut self) -> std::io::Result<Option<EdgeBatch>> {
        self.button.read_edges().map_err(std::io::Error::other)
    }

    fn pending_inputs(&mut self) -> Vec<Input> {
        std::mem::take(&mut self.received)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        loop {
            let now = monotonic_now();
            if self.chores_due(now) {
                continue;
            }
            if deadline.is_some_and(|d| d <= now) {
                return Ok(Wake::Deadline);
            }
            let until = [
                deadline,
                self.watchdog.map(|(_, due)| due),
                self.units_retry_at(),
                self.notify.as_ref().and_then(NotifyServer::deadline),
            ]
            .into_iter()
            .flatten()
            .min();
            let ready = self.poll_ready(poll_timeout(now, until))?;
            if let Some(wake) = self.take(ready) {
                return Ok(wake);
            }
        }
    }
}
