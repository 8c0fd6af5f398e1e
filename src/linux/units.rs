//! Failed systemd units, followed over D-Bus (libdbus, through the `dbus`
//! crate, built in statically): systemd's own signals, never a poll. At
//! start the failed units are listed once (`ListUnitsFiltered`); afterwards
//! each unit's `ActiveState` changes (`PropertiesChanged`) and unloaded units
//! (`UnitRemoved`, as after `systemctl reset-failed` of a transient unit)
//! arrive as signals; after a `daemon-reload` (`Reloading`) the list is asked
//! for again. Nothing here blocks after the connection is up: the bus's
//! socket joins the daemon's poll set, and replies are matched by serial.
//!
//! Connecting is the one step that waits (connect(2), then libdbus's
//! authentication and the bus's answer to `Hello`, which a stopped or
//! still-starting bus never gives): [`UnitsFollower`] runs it on a thread
//! of its own, at most one at a time, bounded by [`CONNECT_TIMEOUT`], and
//! takes the ready connection (or the error) back when the thread wakes
//! the loop.
//!
//! [`UnitsFollower`] keeps following across losses of the bus (`systemctl
//! restart dbus`, a dropped connection): it says so once in the log, keeps
//! the last known failed units (a failure stays on the panel until systemd
//! says otherwise), tries again after 1 s, 2 s, 4 s … at most every 60 s,
//! and lists the failed units again once it is back, which replaces what
//! it kept. When systemd takes its name on the bus (again), it is asked
//! again.

use std::io::Write;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg};
use dbus::channel::Channel;
use dbus::message::{MatchRule, MessageType};
use dbus::{Message, Path};

use crate::app::ports::UnitsError;
use crate::core::{Input, Time};

const SYSTEMD: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
const UNIT: &str = "org.freedesktop.systemd1.Unit";
const BUS: &str = "org.freedesktop.DBus";

/// One row of `ListUnitsFiltered`.
type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Path<'static>,
    u32,
    String,
    Path<'static>,
);

/// A unit's name from its object path (`…/unit/backup_2eservice`): systemd
/// escapes every byte outside `[A-Za-z0-9]` as `_xx`.
pub(crate) fn unit_name(path: &str) -> Option<String> {
    let escaped = path.strip_prefix("/org/freedesktop/systemd1/unit/")?;
    let bytes = escaped.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What a unit's new `ActiveState` means for the panel.
pub(crate) fn state_input(name: String, active_state: &str) -> Input {
    if active_state == "failed" {
        Input::UnitFailed(name)
    } else {
        Input::UnitRecovered(name)
    }
}

/// Where the system bus listens unless `DBUS_SYSTEM_BUS_ADDRESS` says
/// otherwise.
const SYSTEM_BUS: &str = "unix:path=/run/dbus/system_bus_socket";

/// The system bus, subscribed to systemd's unit signals.
pub struct SystemdUnits {
    channel: Channel,
    /// The serial of the `ListUnitsFiltered` call whose answer is awaited.
    listing: Option<u32>,
}

/// How long a connection attempt waits for the bus's greeting: a bus that
/// says nothing for this long is stopped, hung, or still starting, and is
/// tried again later.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl SystemdUnits {
    /// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` overrides the
    /// address), subscribes, and asks for the failed units; their list
    /// arrives through [`SystemdUnits::receive`]. Blocks for up to
    /// [`CONNECT_TIMEOUT`] (and in connect(2) while the bus's listen queue
    /// is full): never call it from the loop, [`UnitsFollower`] does not.
    pub fn connect() -> Result<SystemdUnits, UnitsError> {
        SystemdUnits::connect_to(&system_bus_address())
    }

    /// As [`SystemdUnits::connect`], to the bus at a D-Bus `address`
    /// (`unix:path=…`).
    pub fn connect_to(address: &str) -> Result<SystemdUnits, UnitsError> {
        let no_bus =
            |err: dbus::Error| UnitsError::NoBus(err.message().unwrap_or("no reason given").into());
        let mut channel = Channel::open_private(address).map_err(no_bus)?;
        greet(&channel, CONNECT_TIMEOUT)?;
        channel.set_watch_enabled(true);
        let mut units = SystemdUnits {
            channel,
            listing: None,
        };
        let rules = [
            MatchRule::new_signal("org.freedesktop.DBus.Properties", "PropertiesChanged")
                .with_sender(SYSTEMD)
                .with_namespaced_path(MANAGER_PATH),
            MatchRule::new_signal(MANAGER, "UnitRemoved").with_sender(SYSTEMD),
            MatchRule::new_signal(MANAGER, "Reloading").with_sender(SYSTEMD),
            MatchRule::new_signal(BUS, "NameOwnerChanged").with_sender(BUS),
        ];
        for rule in rules {
            // (only the unit interface's changes, and only systemd's name:
            // the bus filters the rest out)
            let mut text = rule.match_str();
            if text.contains("PropertiesChanged") {
                text.push_str(&format!(",arg0='{UNIT}'"));
            }
            if text.contains("NameOwnerChanged") {
                text.push_str(&format!(",arg0='{SYSTEMD}'"));
            }
            let add = Message::call_with_args(
                "org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus",
                "AddMatch",
                (text,),
            );
            units.send(add)?;
        }
        units.subscribe_and_list()?;
        Ok(units)
    }

    /// Asks systemd for its unit signals and for the failed units.
    fn subscribe_and_list(&mut self) -> Result<(), UnitsError> {
        self.send(
            Message::new_method_call(SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe")
                .map_err(UnitsError::Bus)?,
        )?;
        self.list()
    }

    fn send(&self, message: Message) -> Result<u32, UnitsError> {
        self.channel
            .send(message)
            .map_err(|()| UnitsError::Bus("the bus refused a message (out of memory?)".into()))
    }

    fn list(&mut self) -> Result<(), UnitsError> {
        let call = Message::call_with_args(
            SYSTEMD,
            MANAGER_PATH,
            MANAGER,
            "ListUnitsFiltered",
            (vec!["failed"],),
        );
        self.listing = Some(self.send(call)?);
        Ok(())
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.channel.is_connected()
    }

    /// The bus's socket, to poll for reading.
    #[allow(unsafe_code)]
    pub fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor belongs to the channel, which outlives the borrow.
        unsafe { BorrowedFd::borrow_raw(self.channel.watch().fd) }
    }

    /// Reads what is waiting (never blocks) and turns systemd's signals and
    /// answers into inputs. `Err` when the bus went away: the connection is
    /// of no more use (its socket is closed; drop it, poll it no more).
    pub fn receive(&mut self) -> Result<Vec<Input>, UnitsError> {
        let closed = || UnitsError::Bus("the connection was closed".into());
        self.channel
            .read_write(Some(Duration::ZERO))
            .map_err(|()| closed())?;
        let mut inputs = Vec::new();
        while let Some(message) = self.channel.pop_message() {
            self.handle(&message, &mut inputs);
        }
        // (what arrived before the end still counts: it is systemd's word;
        // the next call, or is_connected, tells of the end)
        if inputs.is_empty() && !self.channel.is_connected() {
            return Err(closed());
        }
        // a re-listing asked for while handling goes out now, as far as the
        // socket takes it (never flush: it waits until a stopped bus reads)
        if self.channel.has_messages_to_send() {
            let _ = self.channel.read_write(Some(Duration::ZERO));
        }
        Ok(inputs)
    }

    fn handle(&mut self, message: &Message, inputs: &mut Vec<Input>) {
        match message.msg_type() {
            MessageType::MethodReturn if message.get_reply_serial() == self.listing => {
                self.listing = None;
                match message.read1::<Vec<UnitRow>>() {
                    Ok(rows) => {
                        let names = rows.into_iter().map(|row| row.0).collect();
                        inputs.push(Input::FailedUnitsListed(names));
                    }
                    Err(err) => log::warn!("systemd's list of failed units is unreadable: {err}"),
                }
            }
            MessageType::Error if message.get_reply_serial() == self.listing => {
                self.listing = None;
                log::warn!(
                    "systemd does not list the failed units: {:?}",
                    message.get_items()
                );
            }
            MessageType::Signal => self.signal(message, inputs),
            _ => {}
        }
    }

    fn signal(&mut self, message: &Message, inputs: &mut Vec<Input>) {
        let member = message.member();
        match member.as_deref() {
            Some("PropertiesChanged") => {
                let Ok((interface, changed)) = message.read2::<&str, PropMap>() else {
                    return;
                };
                if interface != UNIT {
                    return;
                }
                let state = changed.get("ActiveState").and_then(|v| v.0.as_str());
                let name = message.path().and_then(|p| unit_name(&p));
                if let (Some(state), Some(name)) = (state, name) {
                    inputs.push(state_input(name, state));
                }
            }
            Some("UnitRemoved") => {
                if let Ok((name, _)) = message.read2::<&str, Path>() {
                    inputs.push(Input::UnitRecovered(name.to_string()));
                }
            }
            Some("NameOwnerChanged") => {
                // systemd took its name on the bus (a bus restarted after
                // this connection was made, a daemon-reexec): it knows
                // nothing of this subscriber, and the list may have changed
                if let Ok((SYSTEMD, _, new)) = message.read3::<&str, &str, &str>() {
                    if !new.is_empty() {
                        log::info!("systemd is on the bus (again): listing the failed units anew");
                        if let Err(err) = self.subscribe_and_list() {
                            log::warn!("cannot list the failed units again: {err}");
                        }
                    }
                }
            }
            Some("Reloading") => {
                // after a daemon-reload, the list is the truth again
                if let Ok(false) = message.read1::<bool>() {
                    if let Err(err) = self.list() {
                        log::warn!("cannot list the failed units again: {err}");
                    }
                }
            }
            _ => {}
        }
    }
}

/// Says `Hello` to the bus and waits at most `timeout` for its answer.
/// Not dbus_bus_register: it waits 25 s, and for ever while the bus has not
/// taken the connection's authentication (libdbus's reply timeout does not
/// run before that); the unique name it keeps is not needed here.
fn greet(channel: &Channel, timeout: Duration) -> Result<(), UnitsError> {
    let hello = Message::new_method_call(BUS, "/org/freedesktop/DBus", BUS, "Hello")
        .map_err(UnitsError::Bus)?;
    let serial = channel
        .send(hello)
        .map_err(|()| UnitsError::Bus("the bus refused a message (out of memory?)".into()))?;
    let started = Instant::now();
    loop {
        while let Some(mut message) = channel.pop_message() {
            if message.get_reply_serial() == Some(serial) {
                return match message.as_result() {
                    Ok(_) => Ok(()),
                    Err(err) => Err(UnitsError::NoBus(format!(
                        "the bus refused the greeting: {}",
                        err.message().unwrap_or("no reason given")
                    ))),
                };
            }
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(UnitsError::NoAnswer(timeout));
        }
        if channel.read_write(Some(left)).is_err() || !channel.is_connected() {
            return Err(UnitsError::NoBus(
                "the bus closed the connection before greeting".into(),
            ));
        }
    }
}

/// The system bus's address: `DBUS_SYSTEM_BUS_ADDRESS`, else the standard
/// socket. Read here, not by libdbus, which keeps the first address it saw
/// for the life of the process.
pub(crate) fn system_bus_address() -> String {
    std::env::var("DBUS_SYSTEM_BUS_ADDRESS").unwrap_or_else(|_| SYSTEM_BUS.to_string())
}

/// The first wait before connecting again after the bus went away.
pub(crate) const RETRY_FIRST: Duration = Duration::from_secs(1);
/// The longest wait between two tries (the wait doubles after each failure).
pub(crate) const RETRY_MAX: Duration = Duration::from_secs(60);

/// The wait after `delay` when a try failed: doubled, at most [`RETRY_MAX`].
pub(crate) fn next_delay(delay: Duration) -> Duration {
    (delay * 2).min(RETRY_MAX)
}

enum Link {
    /// Connected since `since`; `delay` is the wait if it drops soon (a bus
    /// that accepts and drops at once is not tried every second).
    Up {
        units: SystemdUnits,
        since: Time,
        delay: Duration,
    },
    /// A thread is connecting; its outcome arrives on `outcome`. `delay` is
    /// the wait before the next try if it fails (kept as `Up`'s if not);
    /// `again` when an earlier try connected or failed.
    Connecting {
        outcome: Receiver<Result<SystemdUnits, UnitsError>>,
        delay: Duration,
        again: bool,
    },
    /// Not connected: the next try at `at`, after `delay`.
    Down { at: Time, delay: Duration },
}

/// Writes a byte to the loop's wake-up socket when dropped: after the
/// connecting thread sent its outcome, or if it ended without one.
struct WakeOnDrop(Option<UnixStream>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        if let Some(waker) = self.0.as_mut() {
            let _ = waker.write_all(&[1]);
        }
    }
}

/// The failed units, followed across losses of the system bus. Connecting
/// runs on a thread (one at a time), which writes to `waker` when it is
/// done: then [`UnitsFollower::receive`] takes the connection. While
/// connected, its socket is to be polled ([`UnitsFollower::fd`]); while
/// not, [`UnitsFollower::retry_at`] is when to call
/// [`UnitsFollower::retry`]. Never a busy loop: a lost connection leaves
/// the poll set at once.
pub struct UnitsFollower {
    address: String,
    waker: Option<UnixStream>,
    link: Link,
    /// Whether this loss of the bus (or the start without one) was told
    /// in the log; the failed tries after that go to the debug level.
    outage_told: bool,
    /// Whether a bus that does not answer was told since the last
    /// connection (a hung bus is worth a warning of its own, once).
    silence_told: bool,
}

impl UnitsFollower {
    /// Starts connecting to the bus at `address` on a thread, which writes
    /// to `waker` (the loop's wake-up socket) when it is done; on failure
    /// says why (once) and tries again later.
    pub fn start(address: String, now: Time, waker: Option<UnixStream>) -> UnitsFollower {
        let mut follower = UnitsFollower {
            address,
            waker,
            link: Link::Down {
                at: now,
                delay: RETRY_FIRST,
            },
            outage_told: false,
            silence_told: false,
        };
        follower.connect(RETRY_FIRST, false, now);
        follower
    }

    /// Whether the bus is connected now.
    pub fn is_connected(&self) -> bool {
        matches!(self.link, Link::Up { .. })
    }

    /// Whether a connecting thread is out (its end wakes the loop).
    pub fn is_connecting(&self) -> bool {
        matches!(self.link, Link::Connecting { .. })
    }

    /// The bus's socket while connected, to poll for reading.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.link {
            Link::Up { units, .. } => Some(units.fd()),
            Link::Connecting { .. } | Link::Down { .. } => None,
        }
    }

    /// When to try connecting again (while not connected, nor connecting).
    pub fn retry_at(&self) -> Option<Time> {
        match self.link {
            Link::Down { at, .. } => Some(at),
            Link::Up { .. } | Link::Connecting { .. } => None,
        }
    }

    /// What the bus brought (its socket was readable, or the loop was
    /// woken): the outcome of a connection attempt, systemd's signals and
    /// answers. Never blocks. A lost connection is logged once and dropped;
    /// the inputs so far stay as they are.
    pub fn receive(&mut self, now: Time) -> Vec<Input> {
        match &mut self.link {
            Link::Down { .. } => Vec::new(),
            Link::Connecting { outcome, .. } => match outcome.try_recv() {
                Err(TryRecvError::Empty) => Vec::new(),
                Ok(result) => self.connected(result, now),
                Err(TryRecvError::Disconnected) => self.connected(
                    Err(UnitsError::Bus(
                        "the connecting thread ended without an answer".into(),
                    )),
                    now,
                ),
            },
            Link::Up {
                units,
                since,
                delay,
            } => {
                let (inputs, lost) = match units.receive() {
                    Ok(inputs) if units.is_connected() => (inputs, None),
                    Ok(inputs) => (
                        inputs,
                        Some(UnitsError::Bus("the connection was closed".into())),
                    ),
                    Err(err) => (Vec::new(), Some(err)),
                };
                let Some(err) = lost else {
                    return inputs;
                };
                // a connection that lasted resets the wait; one that dropped
                // soon after it was made goes on from where the waits were
                let delay = if now.saturating_sub(*since) >= RETRY_MAX {
                    RETRY_FIRST
                } else {
                    *delay
                };
                log::warn!(
                    "{err}: the failed units shown are the last known ones until it is back; \
                     reconnecting in {} s, then less and less often (at most every {} s)",
                    delay.as_secs(),
                    RETRY_MAX.as_secs()
                );
                self.outage_told = true;
                self.link = Link::Down {
                    at: now + delay,
                    delay,
                };
                inputs
            }
        }
    }

    /// Starts a connection attempt if it is time ([`UnitsFollower::retry_at`]
    /// has passed and none is out); its outcome, and then the failed units,
    /// arrive through [`UnitsFollower::receive`].
    pub fn retry(&mut self, now: Time) {
        let Link::Down { at, delay } = self.link else {
            return;
        };
        if now >= at {
            self.connect(next_delay(delay), true, now);
        }
    }

    /// Sends a thread to connect; `delay` is the wait after it if it fails.
    fn connect(&mut self, delay: Duration, again: bool, now: Time) {
        let (sender, outcome) = mpsc::channel();
        let address = self.address.clone();
        let wake = WakeOnDrop(self.waker.as_ref().and_then(|w| w.try_clone().ok()));
        let spawned = std::thread::Builder::new()
            .name("system-bus".into())
            .spawn(move || {
                let _wake = wake;
                let _ = sender.send(SystemdUnits::connect_to(&address));
            });
        self.link = Link::Connecting {
            outcome,
            delay,
            again,
        };
        if let Err(err) = spawned {
            self.connected(
                Err(UnitsError::Bus(format!(
                    "cannot start a thread to connect: {err}"
                ))),
                now,
            );
        }
    }

    /// Takes the outcome of the attempt out: the connection, or the wait.
    fn connected(&mut self, result: Result<SystemdUnits, UnitsError>, now: Time) -> Vec<Input> {
        let Link::Connecting { delay, again, .. } = self.link else {
            return Vec::new();
        };
        match result {
            Ok(units) => {
                if again {
                    log::info!("connected to the system bus again: listing the failed units anew");
                }
                self.outage_told = false;
                self.silence_told = false;
                self.link = Link::Up {
                    units,
                    since: now,
                    delay,
                };
                // what came with the connection, if anything
                self.receive(now)
            }
            Err(err) => {
                let then = format!(
                    "trying again in {} s, then less and less often (at most every {} s)",
                    delay.as_secs(),
                    RETRY_MAX.as_secs()
                );
                match err {
                    UnitsError::NoAnswer(_) if !self.silence_told => {
                        log::warn!("{err}; {then}");
                        self.silence_told = true;
                        self.outage_told = true;
                    }
                    _ if !self.outage_told => {
                        log::warn!("{err} ({then})");
                        self.outage_told = true;
                    }
                    _ => log::debug!("{err}; next try in {} s", delay.as_secs()),
                }
                self.link = Link::Down {
                    at: now + delay,
                    delay,
                };
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names_are_unescaped_from_their_paths() {
        assert_eq!(
            unit_name("/org/freedesktop/systemd1/unit/backup_2eservice").as_deref(),
            Some("backup.service")
        );
        assert_eq!(
            unit_name("/org/freedesktop/systemd1/unit/restic_2dbackup_40srv_2eservice").as_deref(),
            Some("restic-backup@srv.service")
        );
        assert_eq!(unit_name("/org/freedesktop/systemd1/unit/bad_2"), None);
        assert_eq!(unit_name("/org/freedesktop/systemd1"), None);
    }

    #[test]
    fn the_wait_doubles_up_to_a_minute() {
        let mut delay = RETRY_FIRST;
        let mut waits = Vec::new();
        for _ in 0..9 {
            waits.push(delay.as_secs());
            delay = next_delay(delay);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn only_the_failed_state_calls_for_attention() {
        assert_eq!(
            state_input("x.service".into(), "failed"),
            Input::UnitFailed("x.service".into())
        );
        for state in ["inactive", "active", "activating", "deactivating"] {
            assert_eq!(
                state_input("x.service".into(), state),
                Input::UnitRecovered("x.service".into())
            );
        }
    }
}
