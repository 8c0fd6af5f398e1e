//! The daemon's loop following failed units on a system bus that does not
//! answer: a socket that takes connections and never says a word, and a
//! real dbus-daemon killed and started again slowly (stopped by SIGSTOP).
//! The button is pressed meanwhile, and the press is handled at once.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dbus::channel::Channel;
use dbus::{Message, Path as ObjectPath};

#[path = "../../../tests/common/private_bus.rs"]
mod private_bus;
use private_bus::bus_daemon;

use super::{monotonic_now, wake_pipe, HwInputs};
use crate::app::ports::{EdgeBatch, EdgeSource, GpioError, Reporter};
use crate::app::runtime::{self, Ports};
use crate::config::Config;
use crate::core::{AttentionSource, Event, Rules};
use crate::linux::display::{PanelSettings, Ssd1306Port};
use crate::linux::pages::CustomPages;
use crate::linux::units::UnitsFollower;
use crate::sim::{FakeStats, SimBus, SimClock, SimLed, SimPower};

/// How late a press may be handled while the bus hangs (it is handled in
/// milliseconds; a loop waiting on the bus takes 5 to 25 s).
const ON_TIME: Duration = Duration::from_secs(2);

/// The tests here start buses and run the loop: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The log's lines, kept for the tests to read.
struct KeptLog(Mutex<Vec<String>>);

static LOG: KeptLog = KeptLog(Mutex::new(Vec::new()));

impl log::Log for KeptLog {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{}: {}", record.level(), record.args());
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn flush(&self) {}
}

/// The log from line `from` on (and the number of lines so far).
fn log_since(from: usize) -> (String, usize) {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let _ = log::set_logger(&LOG);
        log::set_max_level(log::LevelFilter::Debug);
    });
    let lines = LOG.0.lock().unwrap_or_else(|e| e.into_inner());
    (lines[from.min(lines.len())..].join("\n"), lines.len())
}

fn wait_until(limit: Duration, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The button, worked by the test through a socket as the kernel reports
/// it: each edge is its level and its time on CLOCK_MONOTONIC.
struct SocketButton {
    socket: UnixStream,
    level: bool,
}

/// The test's end of the button.
struct Hand(UnixStream);

impl Hand {
    fn edge(&mut self, pressed: bool) {
        let at = monotonic_now().as_nanos() as u64;
        let mut edge = [u8::from(pressed); 9];
        edge[1..].copy_from_slice(&at.to_le_bytes());
        self.0
            .write_all(&edge)
            .expect("the loop's end of the button");
    }

    /// A tap; when it was pressed.
    fn tap(&mut self) -> Instant {
        let pressed = Instant::now();
        self.edge(true);
        std::thread::sleep(Duration::from_millis(150));
        self.edge(false);
        pressed
    }
}

impl EdgeSource for SocketButton {
    fn pressed(&self) -> Result<bool, GpioError> {
        Ok(self.level)
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    fn read_edges(&mut self) -> Result<Option<EdgeBatch>, GpioError> {
        let mut edges = Vec::new();
        let mut edge = [0u8; 9];
        while self.socket.read_exact(&mut edge).is_ok() {
            let at = u64::from_le_bytes(edge[1..].try_into().expect("8 bytes"));
            self.level = edge[0] == 1;
            edges.push((self.level, Duration::from_nanos(at)));
        }
        Ok((!edges.is_empty()).then_some(EdgeBatch {
            edges,
            lost: 0,
            level: self.level,
        }))
    }
}

/// The events reported, each with when it was.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(Instant, Event)>>>);

impl Reporter for Seen {
    fn event(&mut self, _at: crate::core::Time, event: &Event) {
        let mut events = self.0.lock().unwrap_or_else(|e| e.into_inner());
        events.push((Instant::now(), event.clone()));
    }
}

impl Seen {
    /// How long after `from` the first event that `is` was reported.
    fn first_after(&self, from: Instant, is: impl Fn(&Event) -> bool) -> Option<Duration> {
        let events = self.0.lock().unwrap_or_else(|e| e.into_inner());
        events
            .iter()
            .find(|(at, event)| *at >= from && is(event))
            .map(|(at, _)| *at - from)
    }

    fn unit_failed(&self, name: &str) -> bool {
        self.first_after(Instant::now() - Duration::from_secs(3600), |event| {
            matches!(event, Event::Attention { source: AttentionSource::Unit, text, .. } if text == name)
        })
        .is_some()
    }
}

/// Stops the loop when dropped (also when the scenario fails half-way).
struct StopOnDrop(UnixStream);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.write_all(&[1]);
    }
}

/// The daemon's loop (its real inputs with the units follower on
/// `address`; simulated display, LED and power) until the scenario, run
/// meanwhile on a thread of its own with the button in hand, ends.
fn run_loop<T: Send + 'static>(
    address: &str,
    seen: &Seen,
    scenario: impl FnOnce(Hand) -> T + Send + 'static,
) -> T {
    let (button, hand) = wake_pipe().unwrap();
    let (stop, stop_hand) = wake_pipe().unwrap();
    let (reload, _reload_hand) = wake_pipe().unwrap();
    let (woken, waker) = wake_pipe().unwrap();
    let scenario = std::thread::spawn(move || {
        let _stop = StopOnDrop(stop_hand);
        scenario(Hand(hand))
    });
    let button = Box::new(SocketButton {
        socket: button,
        level: false,
    });
    let mut inputs = HwInputs {
        units: Some(UnitsFollower::start(
            address.to_string(),
            monotonic_now(),
            Some(waker),
        )),
        ..HwInputs::bare(button, stop, reload, woken)
    };
    let config = Config::default();
    let mut display = Ssd1306Port::new(
        SimBus::new(0x3c, SimClock::new(true)),
        PanelSettings::from_config(&config),
    );
    runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: &mut SimLed::default(),
            power: &mut SimPower::default(),
            stats: &mut FakeStats,
            pages: &mut CustomPages::new(&[], None),
            reporter: &mut seen.clone(),
            reload: None,
            broker: None,
        },
        Rules::default(),
    )
    .expect("the loop runs");
    scenario.join().expect("the scenario ran")
}

/// A socket that takes every connection and never says a word: a bus
/// that is stopped, hung, or still starting behind its socket.
struct MuteBus {
    accepted: Arc<AtomicUsize>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MuteBus {
    fn listen(path: &std::path::Path) -> MuteBus {
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let (accepted, done) = (accepted.clone(), done.clone());
            move || {
                let mut held = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            held.push(stream);
                            accepted.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            }
        });
        MuteBus {
            accepted,
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for MuteBus {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[test]
fn a_press_is_handled_while_the_system_bus_takes_connections_and_never_answers() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_, from) = log_since(0);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bus");
    let bus = MuteBus::listen(&path);
    let accepted = bus.accepted.clone();
    let seen = Seen::default();
    let address = format!("unix:path={}", path.display());
    let pressed = run_loop(&address, &seen, move |mut hand| {
        std::thread::sleep(Duration::from_millis(500));
        let pressed = hand.tap();
        // until the daemon has given up on this try, and said so; then the
        // bus goes away (a loop stuck on it would be freed, to fail below)
        wait_until(Duration::from_secs(15), || {
            log_since(from).0.contains("does not answer")
        });
        drop(bus);
        pressed
    });
    let handled = seen.first_after(pressed, |event| *event == Event::Press);
    assert!(
        handled.is_some_and(|after| after < ON_TIME),
        "a press while the bus hangs is handled after {handled:?}"
    );
    let (log, _) = log_since(from);
    assert!(
        log.contains("WARN: the system bus takes connections but does not answer"),
        "the log says the bus does not answer: {log}"
    );
    assert!(
        accepted.load(Ordering::Relaxed) >= 1,
        "the daemon did try that bus"
    );
}

fn signal(daemon: &Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(daemon.id() as i32), signal).unwrap();
}

/// systemd's stand-in on a bus: owns its name, answers `Subscribe` and
/// `ListUnitsFiltered` (`failed` being the failed units) until the bus
/// goes away or it is dropped.
struct FakeSystemd {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSystemd {
    fn serve(address: &str, failed: &'static [&'static str]) -> FakeSystemd {
        let mut bus = Channel::open_private(address).unwrap();
        bus.register().unwrap();
        let request = Message::call_with_args(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "RequestName",
            ("org.freedesktop.systemd1", 0u32),
        );
        bus.send_with_reply_and_block(request, Duration::from_secs(2))
            .unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let done = done.clone();
            move || {
                while !done.load(Ordering::Relaxed) {
                    if bus.read_write(Some(Duration::from_millis(10))).is_err() {
                        return;
                    }
                    while let Some(call) = bus.pop_message() {
                        let answer = match call.member().as_deref() {
                            Some("ListUnitsFiltered") => {
                                let rows: Vec<_> = failed
                                    .iter()
                                    .map(|name| {
                                        let path =
                                            ObjectPath::from("/org/freedesktop/systemd1/unit/x");
                                        let job = ObjectPath::from("/");
                                        (
                                            *name, "", "loaded", "failed", "failed", "", path,
                                            0u32, "", job,
                                        )
                                    })
                                    .collect();
                                call.method_return().append1(rows)
                            }
                            Some(_) if call.get_no_reply() => continue,
                            Some(_) => call.method_return(),
                            None => continue,
                        };
                        let _ = bus.send(answer);
                    }
                }
            }
        });
        FakeSystemd {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for FakeSystemd {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Kills the bus's daemon when dropped.
struct BusDaemon(Child);

impl Drop for BusDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_press_is_handled_while_the_system_bus_restarts_slowly() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (_, from) = log_since(0);
    let dir = tempfile::tempdir().unwrap();
    let Some(daemon) = bus_daemon(dir.path()) else {
        eprintln!("skipped: no dbus-daemon");
        return;
    };
    let address = format!("unix:path={}", dir.path().join("bus").display());
    let bus = BusDaemon(daemon);
    let systemd = FakeSystemd::serve(&address, &["backup.service"]);
    let seen = Seen::default();
    let outcome = run_loop(&address, &seen, {
        let (address, seen, dir) = (address.clone(), seen.clone(), dir.path().to_path_buf());
        move |mut hand| {
            let listed = wait_until(Duration::from_secs(10), || {
                seen.unit_failed("backup.service")
            });
            // the bus dies, and its successor comes up but does not answer
            // yet: started beside, stopped, and only then its socket put
            // where the follower looks (no window in which it answers)
            drop(bus);
            drop(systemd);
            let beside = dir.join("next");
            std::fs::create_dir_all(&beside).unwrap();
            let Some(slow) = bus_daemon(&beside) else {
                return (listed, None, false, false);
            };
            signal(&slow, nix::sys::signal::Signal::SIGSTOP);
            std::fs::rename(beside.join("bus"), dir.join("bus")).unwrap();
            let slow = BusDaemon(slow);
            // (the follower tries again 1 s after the loss)
            std::thread::sleep(Duration::from_millis(1500));
            let pressed = hand.tap();
            let told = wait_until(Duration::from_secs(15), || {
                log_since(from).0.contains("does not answer")
            });
            // the bus answers at last: followed again
            signal(&slow.0, nix::sys::signal::Signal::SIGCONT);
            let _systemd = FakeSystemd::serve(&address, &["y.service"]);
            let again = wait_until(Duration::from_secs(30), || seen.unit_failed("y.service"));
            (listed, Some(pressed), told, again)
        }
    });
    let (listed, pressed, told, again) = outcome;
    assert!(listed, "the failed units were listed from the first bus");
    let pressed = pressed.expect("dbus-daemon starts again");
    let handled = seen.first_after(pressed, |event| *event == Event::Press);
    assert!(
        handled.is_some_and(|after| after < ON_TIME),
        "a press while the new bus does not answer is handled after {handled:?}"
    );
    assert!(
        told,
        "the log says the bus does not answer: {}",
        log_since(from).0
    );
    assert!(
        again,
        "once the bus answers, the failed units are listed again: {}",
        log_since(from).0
    );
}
