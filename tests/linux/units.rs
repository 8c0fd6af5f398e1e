//! Failed units over a real D-Bus: a private `dbus-daemon` with a stand-in
//! for systemd that answers `ListUnitsFiltered` and sends the signals
//! systemd sends when a unit fails, recovers and is unloaded.
#![cfg(not(target_env = "musl"))]

use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::process::Child;
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::channel::Channel;
use dbus::{Message, Path};
use rackpi_panel::core::Input;
use rackpi_panel::linux::units::{SystemdUnits, UnitsFollower};

use crate::common::private_bus::bus_daemon;

struct Bus {
    daemon: Child,
    address: String,
    dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // what the bus said, where a failing test shows it
        if std::thread::panicking() {
            eprintln!("dbus-daemon's output:\n{}", self.output());
        }
    }
}

fn private_bus() -> Option<Bus> {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("bus").display());
    let daemon = bus_daemon(dir.path())?;
    Some(Bus {
        daemon,
        address,
        dir,
    })
}

impl Bus {
    /// What dbus-daemon wrote on its standard error (kept off the tests'
    /// output, shown when a test fails).
    fn output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("bus.log")).unwrap_or_default()
    }

    /// The bus goes away, as dbus-daemon does when it is killed.
    fn kill(&mut self) {
        self.daemon.kill().unwrap();
        self.daemon.wait().unwrap();
    }

    /// A new bus at the same address (the killed one left its socket
    /// file behind; systemd's dbus.socket would have kept it listening).
    fn start_again(&mut self) {
        let _ = std::fs::remove_file(self.dir.path().join("bus"));
        self.daemon = bus_daemon(self.dir.path()).expect("dbus-daemon starts again");
    }
}

/// systemd's stand-in on `address`, owning its well-known name.
fn fake_systemd(address: &str) -> Channel {
    let mut fake = Channel::open_private(address).unwrap();
    fake.register().unwrap();
    let request = Message::call_with_args(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "RequestName",
        ("org.freedesktop.systemd1", 0u32),
    );
    fake.send_with_reply_and_block(request, Duration::from_secs(2))
        .unwrap();
    fake
}

/// Answers `Subscribe` and `ListUnitsFiltered` as systemd would, `failed`
/// being the failed units; true once the list was asked for (within 5 s).
fn answer_listing(fake: &Channel, failed: &[&str]) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        fake.read_write(Some(Duration::from_millis(10))).unwrap();
        while let Some(call) = fake.pop_message() {
            match call.member().as_deref() {
                Some("ListUnitsFiltered") => {
                    let rows: Vec<_> = failed
                        .iter()
                        .map(|name| {
                            let escaped: String = name
                                .bytes()
                                .map(|b| {
                                    if b.is_ascii_alphanumeric() {
                                        char::from(b).to_string()
                                    } else {
                                        format!("_{b:02x}")
                                    }
                                })
                                .collect();
                            (
                                name.to_string(),
                                "",
                                "loaded",
                                "failed",
                                "failed",
                                "",
                                Path::from(format!("/org/freedesktop/systemd1/unit/{escaped}")),
                                0u32,
                                "",
                                Path::from("/"),
                            )
                        })
                        .collect();
                    fake.send(call.method_return().append1(rows)).unwrap();
                    fake.flush();
                    return true;
                }
                Some(_) => {
                    let _ = fake.send(call.method_return());
                }
                None => {}
            }
        }
        fake.flush();
    }
    false
}

/// Collects inputs until `done` says so (or 5 s pass).
fn collect(units: &mut SystemdUnits, done: impl Fn(&[Input]) -> bool) -> Vec<Input> {
    let started = Instant::now();
    let mut inputs = Vec::new();
    while !done(&inputs) && started.elapsed() < Duration::from_secs(5) {
        inputs.extend(units.receive().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    inputs
}

fn changed(fake: &Channel, unit_path: &str, state: &str) {
    let mut props = PropMap::new();
    props.insert(
        "ActiveState".into(),
        Variant(Box::new(state.to_string()) as Box<dyn RefArg>),
    );
    let signal = Message::signal(
        &unit_path.into(),
        &"org.freedesktop.DBus.Properties".into(),
        &"PropertiesChanged".into(),
    )
    .append3("org.freedesktop.systemd1.Unit", props, Vec::<String>::new());
    fake.send(signal).unwrap();
    fake.flush();
}

#[test]
fn failed_units_are_listed_then_followed_by_their_signals() {
    let Some(bus) = private_bus() else {
        eprintln!("skipped: no dbus-daemon");
        return;
    };
    let fake = fake_systemd(&bus.address);
    let mut units = SystemdUnits::connect_to(&bus.address).unwrap();
    assert!(
        answer_listing(&fake, &["backup.service"]),
        "the failed units were asked for"
    );
    let inputs = collect(&mut units, |i| !i.is_empty());
    assert_eq!(
        inputs,
        vec![Input::FailedUnitsListed(vec!["backup.service".into()])]
    );

    changed(
        &fake,
        "/org/freedesktop/systemd1/unit/x_2eservice",
        "failed",
    );
    let inputs = collect(&mut units, |i| !i.is_empty());
    assert_eq!(inputs, vec![Input::UnitFailed("x.service".into())]);

    // systemctl reset-failed: inactive, then unloaded
    changed(
        &fake,
        "/org/freedesktop/systemd1/unit/x_2eservice",
        "inactive",
    );
    let removed = Message::signal(
        &"/org/freedesktop/systemd1".into(),
        &"org.freedesktop.systemd1.Manager".into(),
        &"UnitRemoved".into(),
    )
    .append2(
        "backup.service",
        Path::from("/org/freedesktop/systemd1/unit/backup_2eservice"),
    );
    fake.send(removed).unwrap();
    fake.flush();
    let inputs = collect(&mut units, |i| i.len() >= 2);
    assert_eq!(
        inputs,
        vec![
            Input::UnitRecovered("x.service".into()),
            Input::UnitRecovered("backup.service".into())
        ]
    );
}

#[test]
fn no_bus_is_an_error_that_says_what_to_do() {
    let Err(err) = SystemdUnits::connect_to("unix:path=/nonexistent/bus") else {
        panic!("connected to nothing")
    };
    assert!(err.to_string().contains("units = false"), "{err}");
}

/// Inputs from the follower until `done` says so (or 5 s pass).
fn follow(
    follower: &mut UnitsFollower,
    now: Duration,
    done: impl Fn(&[Input]) -> bool,
) -> Vec<Input> {
    let started = Instant::now();
    let mut inputs = Vec::new();
    while !done(&inputs) && started.elapsed() < Duration::from_secs(5) {
        inputs.extend(follower.receive(now));
        std::thread::sleep(Duration::from_millis(5));
    }
    inputs
}

/// Whether `fd` becomes readable (or hung up) within 10 s.
fn readable(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::from(10_000u16)), Ok(1))
}

/// A follower starting at `now` on the bus at `address`, and the socket
/// its connecting thread wakes.
fn start(address: &str, now: Duration) -> (UnitsFollower, UnixStream) {
    let (woken, waker) = UnixStream::pair().unwrap();
    (
        UnitsFollower::start(address.to_string(), now, Some(waker)),
        woken,
    )
}

/// Waits for the connecting thread to wake `woken`, and takes its outcome
/// (and what came with the connection).
fn settle(follower: &mut UnitsFollower, woken: &mut UnixStream, now: Duration) -> Vec<Input> {
    use std::io::Read;
    assert!(follower.is_connecting(), "a try is out");
    assert!(
        readable(woken.as_fd()),
        "the connecting thread wakes the loop"
    );
    woken.read_exact(&mut [0]).unwrap();
    let inputs = follower.receive(now);
    assert!(!follower.is_connecting(), "the try is over");
    inputs
}

#[test]
fn a_lost_bus_is_reported_kept_and_reconnected_with_growing_waits() {
    let Some(mut bus) = private_bus() else {
        eprintln!("skipped: no dbus-daemon");
        return;
    };
    // (a clock of its own: the waits are checked without waiting them)
    let t0 = Duration::from_secs(1000);
    let fake = fake_systemd(&bus.address);
    let (mut follower, mut woken) = start(&bus.address, t0);
    assert!(!follower.is_connected(), "connecting is left to a thread");
    assert_eq!(settle(&mut follower, &mut woken, t0), vec![]);
    assert!(follower.is_connected());
    assert!(answer_listing(&fake, &["backup.service"]));
    let inputs = follow(&mut follower, t0, |i| !i.is_empty());
    assert_eq!(
        inputs,
        vec![Input::FailedUnitsListed(vec!["backup.service".into()])]
    );

    // the bus goes away: its socket wakes the poll once, and that is all
    drop(fake);
    bus.kill();
    assert!(
        readable(follower.fd().expect("polled while connected")),
        "a lost bus wakes the poll"
    );
    let inputs = follower.receive(t0);
    assert_eq!(inputs, vec![], "nothing changes: the last known units stay");
    assert!(!follower.is_connected(), "the loss is noticed");
    assert!(
        follower.fd().is_none(),
        "a lost connection leaves the poll set (no busy loop on a hung-up socket)"
    );
    assert_eq!(follower.retry_at(), Some(t0 + Duration::from_secs(1)));
    follower.retry(t0 + Duration::from_millis(500));
    assert!(!follower.is_connecting(), "not before its time");
    assert_eq!(follower.retry_at(), Some(t0 + Duration::from_secs(1)));

    // nobody there: each failed try waits twice as long, at most a minute
    let mut now = t0 + Duration::from_secs(1);
    let mut waits = Vec::new();
    for _ in 0..8 {
        follower.retry(now);
        assert_eq!(settle(&mut follower, &mut woken, now), vec![]);
        assert!(!follower.is_connected(), "no bus to connect to");
        let at = follower.retry_at().expect("another try is planned");
        waits.push((at - now).as_secs());
        now = at;
    }
    assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);

    // a new bus at the same address: connected at the next try, and the
    // failed units are listed anew (backup recovered meanwhile, y failed)
    bus.start_again();
    let fake = fake_systemd(&bus.address);
    follower.retry(now);
    settle(&mut follower, &mut woken, now);
    assert!(follower.is_connected(), "connected to the new bus");
    assert!(follower.fd().is_some(), "its socket is polled again");
    assert_eq!(follower.retry_at(), None);
    assert!(
        answer_listing(&fake, &["y.service"]),
        "the failed units are asked for again"
    );
    let inputs = follow(&mut follower, now, |i| !i.is_empty());
    assert_eq!(
        inputs,
        vec![Input::FailedUnitsListed(vec!["y.service".into()])]
    );

    // and followed: a signal on the new bus arrives
    changed(
        &fake,
        "/org/freedesktop/systemd1/unit/y_2eservice",
        "active",
    );
    let inputs = follow(&mut follower, now, |i| !i.is_empty());
    assert_eq!(inputs, vec![Input::UnitRecovered("y.service".into())]);
}

#[test]
fn no_bus_at_start_is_tried_again_later() {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("bus").display());
    let t0 = Duration::from_secs(5);
    let (mut follower, mut woken) = start(&address, t0);
    settle(&mut follower, &mut woken, t0);
    assert!(!follower.is_connected());
    assert!(follower.fd().is_none());
    assert_eq!(follower.retry_at(), Some(t0 + Duration::from_secs(1)));
    let daemon = bus_daemon(dir.path()).expect("dbus-daemon");
    let bus = Bus {
        daemon,
        address,
        dir,
    };
    let fake = fake_systemd(&bus.address);
    follower.retry(t0 + Duration::from_secs(1));
    settle(&mut follower, &mut woken, t0);
    assert!(follower.is_connected());
    assert!(answer_listing(&fake, &[]));
    let inputs = follow(&mut follower, t0, |i| !i.is_empty());
    assert_eq!(inputs, vec![Input::FailedUnitsListed(vec![])]);
}

#[test]
fn systemd_taking_its_name_later_is_subscribed_to_and_listed() {
    let Some(bus) = private_bus() else {
        eprintln!("skipped: no dbus-daemon");
        return;
    };
    // connected before systemd is on the bus (as after a bus restart): the
    // listing is refused by the bus, nothing is known
    let mut units = SystemdUnits::connect_to(&bus.address).unwrap();
    let mut inputs = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(300) {
        inputs.extend(units.receive().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(inputs, vec![]);
    // systemd takes its name: subscribed to and asked again
    let fake = fake_systemd(&bus.address);
    let mut subscribed = false;
    let started = Instant::now();
    let mut listed = false;
    while !listed && started.elapsed() < Duration::from_secs(5) {
        units.receive().unwrap();
        fake.read_write(Some(Duration::from_millis(10))).unwrap();
        while let Some(call) = fake.pop_message() {
            match call.member().as_deref() {
                Some("Subscribe") => {
                    subscribed = true;
                    fake.send(call.method_return()).unwrap();
                }
                Some("ListUnitsFiltered") => {
                    fake.send(call.method_return().append1(Vec::<(
                        &str,
                        &str,
                        &str,
                        &str,
                        &str,
                        &str,
                        Path,
                        u32,
                        &str,
                        Path,
                    )>::new()))
                        .unwrap();
                    listed = true;
                }
                _ => {}
            }
        }
        fake.flush();
    }
    assert!(subscribed, "Subscribe was sent to the new systemd");
    assert!(listed, "the failed units were asked for again");
    // asking for systemd before it was there started none of the host's
    // services (what the bus says goes to its log, not the tests' output)
    let output = bus.output();
    assert!(!output.contains("Activat"), "{output}");
    let inputs = collect(&mut units, |i| !i.is_empty());
    assert_eq!(inputs, vec![Input::FailedUnitsListed(vec![])]);
}

#[test]
fn a_bus_that_never_answers_is_tried_once_at_a_time_and_given_up_on() {
    // a socket that takes connections (the kernel does, for its listener)
    // and never says a word: a bus stopped, hung, or starting behind it
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = format!("unix:path={}", path.display());
    let t0 = Duration::from_secs(100);
    let (mut follower, mut woken) = start(&address, t0);
    // however often it is asked meanwhile, one try is out
    for minutes in 1..4 {
        follower.retry(t0 + Duration::from_secs(minutes * 60));
    }
    assert_eq!(settle(&mut follower, &mut woken, t0), vec![]);
    assert!(!follower.is_connected());
    assert_eq!(follower.retry_at(), Some(t0 + Duration::from_secs(1)));
    let connections = std::iter::from_fn(|| listener.accept().ok()).count();
    assert_eq!(connections, 1, "one try at a time");
    let Err(err) = SystemdUnits::connect_to(&address) else {
        panic!("connected to a bus that never answers")
    };
    assert!(err.to_string().contains("does not answer"), "{err}");
}
