//! Failed units over a real D-Bus: a private `dbus-daemon` with a stand-in
//! for systemd that answers `ListUnitsFiltered` and sends the signals
//! systemd sends when a unit fails, recovers and is unloaded.
#![cfg(not(target_env = "musl"))]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::channel::Channel;
use dbus::{Message, Path};
use rackpi_panel::core::Input;
use rackpi_panel::hw::units::SystemdUnits;

struct Bus {
    daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn private_bus() -> Option<Bus> {
    let dir = tempfile::tempdir().unwrap();
    let address = format!("unix:path={}", dir.path().join("bus").display());
    let daemon = Command::new("dbus-daemon")
        .args([
            "--session",
            "--nofork",
            "--nopidfile",
            "--address",
            &address,
        ])
        .stdout(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    while !dir.path().join("bus").exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(Bus {
        daemon,
        address,
        _dir: dir,
    })
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
    // systemd's stand-in, owning its well-known name
    let mut fake = Channel::open_private(&bus.address).unwrap();
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
    let mut units = SystemdUnits::connect_to(&bus.address).unwrap();
    // answer Subscribe and ListUnitsFiltered as systemd would
    let started = Instant::now();
    let mut listed = false;
    while !listed && started.elapsed() < Duration::from_secs(5) {
        fake.read_write(Some(Duration::from_millis(10))).unwrap();
        while let Some(call) = fake.pop_message() {
            match call.member().as_deref() {
                Some("ListUnitsFiltered") => {
                    let path = Path::from("/org/freedesktop/systemd1/unit/backup_2eservice");
                    let row = (
                        "backup.service",
                        "Backup",
                        "loaded",
                        "failed",
                        "failed",
                        "",
                        path.clone(),
                        0u32,
                        "",
                        Path::from("/"),
                    );
                    fake.send(call.method_return().append1(vec![row])).unwrap();
                    listed = true;
                }
                Some(_) => {
                    let _ = fake.send(call.method_return());
                }
                None => {}
            }
        }
        fake.flush();
    }
    assert!(listed, "the failed units were asked for");
    let inputs = collect(&mut units, |i| !i.is_empty());
    assert_eq!(
        inputs,
        vec![Input::FailedUnits(vec!["backup.service".into()])]
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
