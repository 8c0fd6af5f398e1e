//! `rackpi-panel run`: the real ports wired to the shared loop. The loop
//! sleeps in poll(2) on the button's edge events, the signal pipes and the
//! power helper's wake-up, with the core's next deadline as the timeout
//! (`poll`); what happens is logged (`reporter`); SIGHUP reloads the
//! configuration and answers `rackpi-panel reload` (`reload`).

mod gpio_choice;
mod journal;
mod poll;
mod reload;
mod reporter;

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use anyhow::Context;
use nix::time::{clock_gettime, ClockId};
use sd_notify::NotifyState;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::app::ports::BrokerPort;
use crate::app::runtime::{self, Ports};
use crate::config::Config;
use crate::core::{Input, Rules};
use crate::linux::display::{LinuxBus, PanelSettings, Ssd1306Port};
use crate::linux::mqtt::MqttPort;
use crate::linux::notify::{self, NotifyServer};
use crate::linux::pages::CustomPages;
use crate::linux::power::CommandPower;
use crate::linux::sensors::{Watch, WATCH_QUEUE};
use crate::linux::stats::{warn_if_no_such_interface, SystemStats};
use crate::linux::units::{self, UnitsFollower};
use crate::linux::ups::{self, UpsConditions, UpsPage};
use crate::linux::GpioBackend;
use gpio_choice::open_gpio;
use poll::HwInputs;
use reload::{reloader, ConfigReader};
use reporter::DaemonReporter;

pub use journal::{journal_priority, stderr_is_journal};
pub use reload::request_reload;

/// Now on CLOCK_MONOTONIC, the clock of the kernel's edge timestamps.
pub(crate) fn monotonic_now() -> Duration {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default()
}

/// A pair of connected sockets: the write end for a signal handler or a
/// helper thread, the read end to poll.
fn wake_pipe() -> std::io::Result<(UnixStream, UnixStream)> {
    let (read, write) = UnixStream::pair()?;
    read.set_nonblocking(true)?;
    Ok((read, write))
}

/// The systemd watchdog interval (half of WATCHDOG_USEC), if one is set.
fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec / 2))
}

/// The read ends of the stop (SIGTERM, SIGINT) and reload (SIGHUP) pipes.
fn signal_pipes() -> anyhow::Result<(UnixStream, UnixStream)> {
    let (stop, stop_signal) = wake_pipe()?;
    let (reload, reload_signal) = wake_pipe()?;
    for signal in [SIGTERM, SIGINT] {
        signal_hook::low_level::pipe::register(signal, stop_signal.try_clone()?)
            .context("cannot install the signal handler")?;
    }
    signal_hook::low_level::pipe::register(SIGHUP, reload_signal)
        .context("cannot install the SIGHUP handler")?;
    Ok((stop, reload))
}

/// The notify socket for `rackpi-panel notify`; without it the panel runs on.
fn notify_server() -> Option<NotifyServer> {
    match NotifyServer::bind(&notify::socket_path(true)) {
        Ok(server) => Some(server),
        Err(err) => {
            log::error!("messages and identify are unavailable: {err}");
            None
        }
    }
}

/// The UPS reader of `[ups]`, if it is on (its page side, its conditions).
fn start_ups(config: &Config, waker: &UnixStream) -> (Option<UpsPage>, Option<UpsConditions>) {
    let Some(settings) = config.ups.settings() else {
        return (None, None);
    };
    match waker
        .try_clone()
        .and_then(|waker| ups::start(settings, Some(waker)))
    {
        Ok((page, conditions)) => (Some(page), Some(conditions)),
        Err(err) => {
            log::error!(
                "cannot start the UPS reader ({err}): the ups page says so, and no UPS attention"
            );
            (None, None)
        }
    }
}

/// The panel on the MQTT broker of `[mqtt]`, if it is on; without it (a
/// password file that cannot be read) the panel runs on alone.
fn start_mqtt(config: &Config, waker: &UnixStream) -> Option<MqttPort> {
    if !config.mqtt.enabled() {
        return None;
    }
    let started = waker
        .try_clone()
        .map_err(|err| err.to_string())
        .and_then(|waker| MqttPort::start(&config.mqtt, waker));
    match started {
        Ok(port) => Some(port),
        Err(err) => {
            log::error!("the rack over MQTT is off: {err}");
            None
        }
    }
}

/// The watch of SPEC §10 (temperature, under-voltage) every
/// `[attention] poll_s`, and where its inputs arrive.
fn watch(config: &Config, waker: UnixStream) -> (Watch, Receiver<Input>) {
    let (inputs, watched) = mpsc::sync_channel(WATCH_QUEUE);
    let every = Duration::from_secs(config.attention.poll_s.unsigned_abs());
    (
        Watch {
            every,
            inputs,
            waker,
        },
        watched,
    )
}

/// The figures of the pages, with the UPS's, and the watch of §10 started
/// on the sensor thread (its inputs arrive on the returned channel).
fn system_stats(
    config: &Config,
    ups_page: Option<UpsPage>,
    waker: &UnixStream,
) -> std::io::Result<(SystemStats, Receiver<Input>)> {
    let mut stats =
        SystemStats::new(&config.network.interface, &config.system.sysfs).with_ups(ups_page);
    let (watch, watched) = watch(config, waker.try_clone()?);
    stats.watch(watch);
    Ok((stats, watched))
}

/// A dry run takes nothing down: the panel returns to normal at once.
fn for_dry_run(mut rules: Rules, dry_run: bool) -> Rules {
    if dry_run {
        rules.settle = Duration::ZERO;
    }
    rules
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(
    config: Config,
    config_path: Option<PathBuf>,
    dry_run: bool,
    backend: GpioBackend,
) -> anyhow::Result<()> {
    let rules = for_dry_run(Rules::try_from(&config)?, dry_run);
    warn_if_no_such_interface(
        &config.network.interface,
        std::path::Path::new("/sys/class/net"),
    );
    // what a page command leaves running outside its group becomes ours to kill
    crate::process::adopt_orphans();
    let (button, mut led) = open_gpio(&config, config_path.as_deref(), rules.debounce, backend)?;
    let (stop, reload) = signal_pipes()?;
    let (woken, waker) = wake_pipe()?;
    let units_waker = waker.try_clone()?;
    let config_reader = ConfigReader::new(config_path.as_deref(), waker.try_clone()?);
    let mut pages = CustomPages::new(&config.custom_pages, Some(waker.try_clone()?));
    let (ups_page, ups_conditions) = start_ups(&config, &waker);
    let mut mqtt = start_mqtt(&config, &waker);
    let mut power = CommandPower::new(config.power.clone(), dry_run, waker.try_clone()?);
    let mut display = Ssd1306Port::new(
        LinuxBus::new(&config.display.bus),
        PanelSettings::from_config(&config),
    );
    let (mut stats, watched) = system_stats(&config, ups_page, &waker)?;
    let watchdog = watchdog_interval().map(|interval| (interval, monotonic_now() + interval));
    let notify = notify_server();
    let units = config.attention.units.then(|| {
        UnitsFollower::start(
            units::system_bus_address(),
            monotonic_now(),
            Some(units_waker),
        )
    });
    let mut inputs = HwInputs {
        button,
        notify,
        units,
        ups: ups_conditions,
        received: Vec::new(),
        stop,
        reload,
        config_reader: Some(config_reader.clone()),
        woken,
        watchdog,
        watched: Some(watched),
    };
    let mut reload_config = reloader(&config, config_reader, dry_run);
    let _ = sd_notify::notify(false, &[NotifyState::Ready, NotifyState::Status("running")]);
    let outcome = runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: led.as_mut(),
            power: &mut power,
            stats: &mut stats,
            pages: &mut pages,
            reporter: &mut DaemonReporter::new(),
            reload: Some(&mut reload_config),
            broker: mqtt.as_mut().map(|port| port as &mut dyn BrokerPort),
        },
        rules,
    )?;
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
    if let Some(port) = mqtt.as_mut() {
        // `offline` on the broker before the process goes
        port.stop();
    }
    crate::process::end_runs();
    log::debug!("{} wake-ups", outcome.wakeups);
    Ok(())
}

#[cfg(all(test, not(target_env = "musl")))]
mod bus_tests;
#[cfg(test)]
mod watch_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ports::{EdgeBatch, EdgeSource, GpioError, Inputs, Wake};
    use crate::linux::notify;
    use rustix::net::SocketType;
    use std::os::fd::AsFd;
    use std::os::fd::BorrowedFd;
    use std::path::Path;
    use std::time::Duration;

    /// A button that never moves.
    pub(super) struct Still(pub(super) UnixStream);

    impl EdgeSource for Still {
        fn pressed(&self) -> Result<bool, GpioError> {
            Ok(false)
        }
        fn fd(&self) -> BorrowedFd<'_> {
            self.0.as_fd()
        }
        fn read_edges(&mut self) -> Result<Option<EdgeBatch>, GpioError> {
            Ok(None)
        }
    }

    /// The daemon's inputs with `server`, a button that never moves, and the
    /// other ends of its pipes (to keep).
    fn inputs_with(server: NotifyServer) -> (HwInputs, [UnixStream; 4]) {
        let (button, button_peer) = UnixStream::pair().unwrap();
        let (stop, stop_peer) = wake_pipe().unwrap();
        let (reload, reload_peer) = wake_pipe().unwrap();
        let (woken, woken_peer) = wake_pipe().unwrap();
        let inputs = HwInputs {
            notify: Some(server),
            ..HwInputs::bare(Box::new(Still(button)), stop, reload, woken)
        };
        (inputs, [button_peer, stop_peer, reload_peer, woken_peer])
    }

    /// A connection to `path` that has sent `line`.
    fn ask(path: &Path, line: &str) -> std::os::fd::OwnedFd {
        use rustix::net::{connect, send, socket, AddressFamily, SendFlags, SocketAddrUnix};
        let socket = socket(AddressFamily::UNIX, SocketType::SEQPACKET, None).unwrap();
        connect(&socket, &SocketAddrUnix::new(path).unwrap()).unwrap();
        send(&socket, line.as_bytes(), SendFlags::empty()).unwrap();
        socket
    }

    #[test]
    fn a_sighup_is_applied_once_the_file_has_been_read_off_the_loop() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.toml");
        std::fs::write(&file, "[display]\ntimeout_s = 42\n").unwrap();
        let running = Config::default();
        let (mut inputs, [_button, _stop, mut hup, woken_peer]) =
            inputs_with(NotifyServer::bind(&dir.path().join("notify.sock")).unwrap());
        let reader = ConfigReader::new(Some(&file), woken_peer);
        inputs.config_reader = Some(reader.clone());
        let mut reload = reloader(&running, reader, false);
        // the signal starts the read; the loop is woken when it is done
        hup.write_all(&[1]).unwrap();
        let deadline = Some(monotonic_now() + Duration::from_secs(5));
        let mut wakes = Vec::new();
        loop {
            let wake = inputs.wait(deadline).unwrap();
            let done = matches!(wake, Wake::Reload | Wake::Deadline);
            wakes.push(format!("{wake:?}"));
            if done {
                break;
            }
        }
        assert_eq!(
            wakes.last().map(String::as_str),
            Some("Reload"),
            "{wakes:?}"
        );
        let (rules, _) = reload().expect("the file read is applied");
        assert_eq!(rules.screen_timeout, Some(Duration::from_secs(42)));
        // a reload with nothing read (no SIGHUP) is refused, not a stale file
        assert!(reload().is_err());
    }

    #[test]
    fn a_message_after_a_long_sleep_is_not_refused_for_a_burst_long_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let (mut inputs, _peers) = inputs_with(NotifyServer::bind(&path).unwrap());
        // a burst empties the rate limit…
        for i in 0..notify::BURST {
            let asked = ask(&path, &format!("notify warn - burst {i}"));
            inputs.wait(None).unwrap();
            drop(asked);
        }
        assert_eq!(inputs.received.len(), notify::BURST as usize);
        // …and a message comes 1.5 s later, while the loop sleeps in poll
        let late = std::thread::spawn({
            let path = path.clone();
            move || {
                std::thread::sleep(Duration::from_millis(1500));
                notify::send(
                    &path,
                    &notify::Request::Identify {
                        lasts: Duration::from_secs(5),
                    },
                )
            }
        });
        inputs.received.clear();
        // (a wake for the connection, another for its request if it came after)
        for _ in 0..2 {
            assert!(matches!(inputs.wait(None).unwrap(), Wake::Woken));
            if !inputs.received.is_empty() {
                break;
            }
        }
        let answer = late.join().unwrap();
        assert!(answer.is_ok(), "{answer:?}");
        assert_eq!(
            inputs.received,
            vec![Input::Identify {
                lasts: Duration::from_secs(5)
            }]
        );
    }

    #[test]
    fn a_connection_that_never_sends_is_closed_by_the_sleeping_loop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let (mut inputs, _peers) = inputs_with(NotifyServer::bind(&path).unwrap());
        let socket = rustix::net::socket(
            rustix::net::AddressFamily::UNIX,
            SocketType::SEQPACKET,
            None,
        )
        .unwrap();
        rustix::net::connect(&socket, &rustix::net::SocketAddrUnix::new(&path).unwrap()).unwrap();
        assert!(matches!(inputs.wait(None).unwrap(), Wake::Woken));
        // the loop sleeps until its own deadline, 3 s away: the silent
        // connection is dropped on the way, not at the next request
        let started = monotonic_now();
        let wake = inputs.wait(Some(started + Duration::from_secs(3))).unwrap();
        assert!(matches!(wake, Wake::Deadline));
        let mut buf = [0u8; 16];
        let read = rustix::net::recv(&socket, &mut buf, rustix::net::RecvFlags::DONTWAIT);
        assert_eq!(read.map(|(n, _)| n), Ok(0), "closed by the daemon");
        assert!(inputs.received.is_empty());
    }

    #[test]
    fn a_ups_condition_wakes_the_poll_and_arrives_as_an_input() {
        use crate::config::UpsSettings;
        use crate::core::{AttentionSource, Condition, Level};
        use std::io::{BufRead, BufReader, Write as _};
        let dir = tempfile::tempdir().unwrap();
        let (mut inputs, [_button, _stop, _hup, woken_peer]) =
            inputs_with(NotifyServer::bind(&dir.path().join("notify.sock")).unwrap());
        // a upsd stand-in: the UPS is on battery with the battery low
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                let _ = stream.write_all(
                    b"BEGIN LIST VAR ups\nVAR ups ups.status \"LB OB\"\nEND LIST VAR ups\n",
                );
            }
        });
        let settings = UpsSettings {
            server,
            name: "ups".into(),
            login: None,
            poll: Duration::from_secs(3600),
        };
        let (_page, conditions) = ups::start(settings, Some(woken_peer)).unwrap();
        inputs.ups = Some(conditions);
        let wake = inputs
            .wait(Some(monotonic_now() + Duration::from_secs(5)))
            .unwrap();
        assert!(matches!(wake, Wake::Woken), "{wake:?}");
        assert_eq!(
            inputs.pending_inputs(),
            [Input::Condition {
                source: AttentionSource::Ups,
                condition: Some(Condition {
                    level: Level::Error,
                    text: "low battery".into()
                }),
            }]
        );
    }
}
