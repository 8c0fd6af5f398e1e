//! `rackpi-panel run`: the real ports wired to the shared loop. The loop
//! sleeps in poll(2) on the button's edge events, the signal pipes and the
//! power helper's wake-up, with the core's next deadline as the timeout.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::Context;
use nix::poll::{poll, PollFd, PollFlags};
use nix::time::{clock_gettime, ClockId};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use std::path::Path;

use crate::config::{Config, ConfigError, LineSelector};
use crate::core::{AttentionSource, Event, Input, PageName, PowerAction, Rules, Time};
use crate::deadline::poll_timeout;
use crate::hw::display::{LinuxBus, PanelSettings, Ssd1306Port};
use crate::hw::gpio::{Button, Led};
use crate::hw::notify::{self, NotifyServer};
use crate::hw::pages::CustomPages;
use crate::hw::power::CommandPower;
use crate::hw::stats::{warn_if_no_such_interface, SystemStats};
#[cfg(not(target_env = "musl"))]
use crate::hw::units::{self, UnitsFollower};
use crate::hw::GpioBackend;
use crate::ports::{EdgeBatch, EdgeSource, Inputs, LedPort, PowerError, PowerPort};
use crate::ports::{PageSource, Reporter, Wake};
use crate::runtime::{self, Ports};
use crate::stats::PageText;

/// Now on CLOCK_MONOTONIC, the clock of the kernel's edge timestamps.
pub fn monotonic_now() -> Duration {
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

fn drain(stream: &mut UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// The systemd watchdog interval (half of WATCHDOG_USEC), if one is set.
fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec / 2))
}

impl HwInputs {
    #[cfg(target_env = "musl")]
    fn units_ready(&mut self) {}

    #[cfg(not(target_env = "musl"))]
    fn units_ready(&mut self) {
        if let Some(units) = self.units.as_mut() {
            self.received.extend(units.receive(monotonic_now()));
        }
    }

    /// When the units follower wants to try the bus again.
    #[cfg(target_env = "musl")]
    fn units_retry_at(&self) -> Option<Time> {
        None
    }

    #[cfg(not(target_env = "musl"))]
    fn units_retry_at(&self) -> Option<Time> {
        self.units.as_ref().and_then(UnitsFollower::retry_at)
    }

    #[cfg(target_env = "musl")]
    fn units_retry(&mut self, _now: Time) {}

    #[cfg(not(target_env = "musl"))]
    fn units_retry(&mut self, now: Time) {
        if let Some(units) = self.units.as_mut() {
            // (a thread connects, and wakes the loop through `woken` when
            // it is done; the listing comes through the bus's socket)
            units.retry(now);
        }
    }
}

struct HwInputs {
    button: Box<dyn EdgeSource>,
    notify: Option<NotifyServer>,
    #[cfg(not(target_env = "musl"))]
    units: Option<UnitsFollower>,
    received: Vec<Input>,
    stop: UnixStream,
    reload: UnixStream,
    woken: UnixStream,
    watchdog: Option<(Duration, Time)>,
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
            if let Some((interval, due)) = self.watchdog {
                if due <= now {
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                    self.watchdog = Some((interval, now + interval));
                    continue;
                }
            }
            if self.units_retry_at().is_some_and(|at| at <= now) {
                self.units_retry(now);
                continue;
            }
            if let Some(notify) = self.notify.as_mut() {
                // (a connection that never sent its request)
                if notify.deadline().is_some_and(|at| at <= now) {
                    notify.expire(now);
                    continue;
                }
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
            let timeout = poll_timeout(now, until);
            let (button_ready, stop_ready, reload_ready, woken_ready, notify_ready, units_ready) = {
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
                #[cfg(not(target_env = "musl"))]
                if let Some(fd) = self.units.as_ref().and_then(UnitsFollower::fd) {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                }
                match poll(&mut fds, timeout) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(err) => return Err(err.into()),
                }
                let ready = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
                (
                    ready(&fds[0]),
                    ready(&fds[1]),
                    ready(&fds[2]),
                    ready(&fds[3]),
                    self.notify.is_some() && fds.get(notify_at).is_some_and(ready),
                    fds.get(units_at).is_some_and(ready),
                )
            };
            if stop_ready {
                drain(&mut self.stop);
                return Ok(Wake::Stop);
            }
            if button_ready {
                // the runtime reads every queued edge next
                return Ok(Wake::Woken);
            }
            if reload_ready {
                drain(&mut self.reload);
                return Ok(Wake::Reload);
            }
            if woken_ready {
                drain(&mut self.woken);
                // (the units follower's connecting thread may be the one)
                self.units_ready();
                return Ok(Wake::Woken);
            }
            if units_ready {
                self.units_ready();
                return Ok(Wake::Woken);
            }
            if notify_ready {
                if let Some(notify) = self.notify.as_mut() {
                    // a bounded number per wake-up: the button's edges come
                    // first; timed now, not before the poll (which may have
                    // slept for hours: the rate limit would not refill)
                    self.received.extend(notify.receive(monotonic_now()));
                }
                return Ok(Wake::Woken);
            }
        }
    }
}

/// Logs one line per state change and keeps systemd's status line current.
struct DaemonReporter {
    display: &'static str,
    last_action: String,
}

impl DaemonReporter {
    fn status(&self) {
        let line = format!("display {}; {}", self.display, self.last_action);
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Status(&line)]);
    }
}

impl Reporter for DaemonReporter {
    fn event(&mut self, _at: Time, event: &Event) {
        match event {
            Event::Led(pattern) => log::debug!("LED {}", pattern.name()),
            Event::Page(page) => log::debug!("page {}", page.name()),
            Event::Press | Event::Release | Event::ScreenOn | Event::ScreenOff => {
                log::debug!("{}", event.name())
            }
            Event::RebootArmed => log::info!("button held: release now to reboot"),
            Event::ShutdownArmed => log::info!("button held: release now to shut down"),
            Event::Cancelled => log::info!("button held too long: cancelled"),
            Event::Reboot | Event::Shutdown => {
                log::warn!("{} requested from the front panel", event.name());
                self.last_action = format!("{} started", event.name());
                self.status();
            }
            Event::ActionFailed { action, reason } => {
                log::error!("{} failed: {reason}", action.name());
                self.last_action = format!("{} failed: {reason}", action.name());
                self.status();
            }
            Event::DisplayLost => {
                self.display = "lost (retrying)";
                self.status();
            }
            Event::DisplayRestored => {
                self.display = "ok";
                self.status();
            }
            Event::Attention {
                source,
                level,
                text,
            } => match source {
                AttentionSource::Unit => log::warn!("unit failed: {text}"),
                // (the core has made the text one line: control characters are spaces)
                AttentionSource::Notify => log::info!("message ({}): {text}", level.name()),
            },
            Event::AttentionCleared => log::info!("nothing needs attention any more"),
            Event::Acknowledged { text } => log::info!("acknowledged on the panel: {text}"),
            Event::Identify { seconds } => log::info!("identify for {seconds} s"),
            Event::IdentifyEnd => log::info!("identify ended"),
            Event::Started => log::info!("started"),
            Event::Stopped => log::info!("stopped"),
        }
    }
}

type GpioPorts = (Box<dyn EdgeSource>, Box<dyn LedPort>);

/// Requests the button and the LED from the chosen backend.
fn open_gpio(
    config: &Config,
    config_path: Option<&Path>,
    debounce: Duration,
    backend: GpioBackend,
) -> anyhow::Result<GpioPorts> {
    match backend {
        GpioBackend::Cdev => {
            let button = Button::request(
                &config.button_line(),
                config.button.active_low,
                config.button.bias,
                debounce,
            )
            .context("cannot use the button")?;
            if let Ok(led_line) = crate::hw::gpio::resolve(&config.led_line()) {
                if led_line.chip == button.line.chip && led_line.offset == button.line.offset {
                    let key = match config.led_line() {
                        LineSelector::Named(_) => "led.line",
                        LineSelector::Offset { .. } => "led.offset",
                    };
                    return Err(ConfigError::Invalid {
                        path: config_path.unwrap_or(Path::new(crate::config::DEFAULT_PATH)).to_path_buf(),
                        line: None,
                        key,
                        problem: format!(
                            "is the button's line ({} offset {}): the LED needs a line of its own",
                            led_line.chip.display(),
                            led_line.offset
                        ),
                    }
                    .into());
                }
            }
            let led = Led::request(&config.led_line(), config.led.active_low)
                .context("cannot use the LED")?;
            log::info!(
                "button {} at {}:{}{}, LED {} at {}:{}",
                config.button_line(),
                button.line.chip.display(),
                button.line.offset,
                if button.kernel_debounce { " (kernel debounce)" } else { "" },
                config.led_line(),
                led.line.chip.display(),
                led.line.offset
            );
            Ok((Box::new(button), Box::new(led)))
        }
        #[cfg(feature = "rppal")]
        GpioBackend::Rppal => {
            use crate::hw::rppal_backend::{RppalButton, RppalLed};
            let button = RppalButton::request(
                &config.button_line(),
                config.button.active_low,
                config.button.bias,
                debounce,
            )
            .context("cannot use the button")?;
            let led = RppalLed::request(&config.led_line(), config.led.active_low)
                .context("cannot use the LED")?;
            log::info!("button {} and LED {} through rppal", config.button_line(), config.led_line());
            Ok((Box::new(button), Box::new(led)))
        }
        #[cfg(not(feature = "rppal"))]
        GpioBackend::Rppal => anyhow::bail!(
            "this build has no rppal backend: rebuild with `cargo build --release --features rppal`, or use the default"
        ),
    }
}

/// Runs the daemon until SIGTERM/SIGINT.
pub fn run(
    config: Config,
    config_path: Option<std::path::PathBuf>,
    dry_run: bool,
    backend: GpioBackend,
) -> anyhow::Result<()> {
    // a dry run takes nothing down: the panel returns to normal at once
    let dry_run_rules = move |mut rules: Rules| {
        if dry_run {
            rules.settle = Duration::ZERO;
        }
        rules
    };
    let rules = dry_run_rules(Rules::try_from(&config)?);
    warn_if_no_such_interface(
        &config.network.interface,
        std::path::Path::new("/sys/class/net"),
    );
    // what a page command leaves running outside its group becomes ours to kill
    crate::process::adopt_orphans();
    let (button, mut led) = open_gpio(&config, config_path.as_deref(), rules.debounce, backend)?;

    let (stop, stop_signal) = wake_pipe()?;
    let (reload, reload_signal) = wake_pipe()?;
    let (woken, waker) = wake_pipe()?;
    #[cfg(not(target_env = "musl"))]
    let units_waker = waker.try_clone()?;
    for signal in [SIGTERM, SIGINT] {
        signal_hook::low_level::pipe::register(signal, stop_signal.try_clone()?)
            .context("cannot install the signal handler")?;
    }
    signal_hook::low_level::pipe::register(SIGHUP, reload_signal)
        .context("cannot install the SIGHUP handler")?;

    let pages = std::rc::Rc::new(std::cell::RefCell::new(CustomPages::new(
        &config.custom_pages,
        Some(waker.try_clone()?),
    )));
    let mut pages_port = SharedPages(pages.clone());
    let power = std::rc::Rc::new(std::cell::RefCell::new(CommandPower::new(
        config.power.clone(),
        dry_run,
        waker,
    )));
    let mut power_port = SharedPower(power.clone());
    let mut display = Ssd1306Port::new(
        LinuxBus::new(&config.display.bus),
        PanelSettings::from_config(&config),
    );
    let mut stats = SystemStats::new(&config.network.interface);
    let watchdog = watchdog_interval().map(|interval| (interval, monotonic_now() + interval));
    let notify = match NotifyServer::bind(&notify::socket_path(true)) {
        Ok(server) => Some(server),
        Err(err) => {
            log::error!("messages and identify are unavailable: {err}");
            None
        }
    };
    #[cfg(not(target_env = "musl"))]
    let units = config.attention.units.then(|| {
        UnitsFollower::start(
            units::system_bus_address(),
            monotonic_now(),
            Some(units_waker),
        )
    });
    #[cfg(target_env = "musl")]
    if config.attention.units {
        log::warn!("this static (musl) build does not follow failed systemd units: use the glibc build (the Debian package) for them, or set [attention] units = false");
    }
    let mut inputs = HwInputs {
        button,
        notify,
        #[cfg(not(target_env = "musl"))]
        units,
        received: Vec::new(),
        stop,
        reload,
        woken,
        watchdog,
    };
    let mut reporter = DaemonReporter {
        display: "ok",
        last_action: "no action yet".into(),
    };
    let mut reloads = 0u64;
    let mut reload_config = || -> Result<Rules, String> {
        let outcome = (|| {
            let new = Config::load(config_path.as_deref()).map_err(|e| e.to_string())?;
            if new.button != config.button || new.led != config.led || new.display != config.display
            {
                log::warn!("changes to [button], [led] and [display] take effect after a restart");
            }
            let rules = Rules::try_from(&new)
                .map(dry_run_rules)
                .map_err(|e| e.to_string())?;
            power.borrow_mut().set_config(new.power.clone());
            pages.borrow_mut().set_pages(&new.custom_pages);
            Ok(rules)
        })();
        reloads += 1;
        answer_reload(reloads, &outcome);
        outcome
    };
    let _ = sd_notify::notify(
        false,
        &[
            sd_notify::NotifyState::Ready,
            sd_notify::NotifyState::Status("running"),
        ],
    );
    let outcome = runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: led.as_mut(),
            power: &mut power_port,
            stats: &mut stats,
            pages: &mut pages_port,
            reporter: &mut reporter,
            reload: Some(&mut reload_config),
        },
        rules,
    )?;
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    crate::process::end_runs();
    log::debug!("{} wake-ups", outcome.wakeups);
    Ok(())
}

/// The power port shared with the reload closure.
struct SharedPower(std::rc::Rc<std::cell::RefCell<CommandPower>>);

impl PowerPort for SharedPower {
    fn start(&mut self, action: PowerAction) {
        self.0.borrow_mut().start(action)
    }

    fn poll(&mut self) -> Option<Result<(), PowerError>> {
        self.0.borrow_mut().poll()
    }
}

/// The custom pages shared with the reload closure.
struct SharedPages(std::rc::Rc<std::cell::RefCell<CustomPages>>);

impl PageSource for SharedPages {
    fn refresh(&mut self, name: PageName) {
        self.0.borrow_mut().refresh(name)
    }

    fn poll(&mut self) -> Vec<(PageName, bool)> {
        self.0.borrow_mut().poll()
    }

    fn text(&self, name: PageName) -> PageText {
        self.0.borrow().text(name)
    }
}

/// The file in the unit's RuntimeDirectory= where the daemon answers each
/// SIGHUP, for `rackpi-panel reload` (ExecReload=) to wait on: systemd 252
/// has no way for a Type=notify daemon to fail a reload by itself.
const RELOAD_ANSWER: &str = "reload";

/// Writes "<pid>.<n> ok" or "<pid>.<n> refused: <why>" atomically (rename),
/// so a reader never sees half an answer. Without RUNTIME_DIRECTORY (not
/// started by the unit) nobody waits for it.
fn answer_reload<T>(n: u64, outcome: &Result<T, String>) {
    let Some(dir) = std::env::var_os("RUNTIME_DIRECTORY") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let text = match outcome {
        Ok(_) => format!("{}.{n} ok\n", std::process::id()),
        Err(why) => format!("{}.{n} refused: {why}\n", std::process::id()),
    };
    let tmp = dir.join(format!("{RELOAD_ANSWER}.tmp"));
    if let Err(err) =
        std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, dir.join(RELOAD_ANSWER)))
    {
        log::warn!(
            "cannot answer the reload in {}: {err}; systemctl reload will time out",
            dir.display()
        );
    }
}

/// `rackpi-panel reload`, the unit's ExecReload=: sends SIGHUP to the daemon
/// ($MAINPID) and waits for its answer, so that `systemctl reload` fails when
/// the daemon refuses the new configuration (and keeps the old one).
pub fn request_reload(timeout: Duration) -> anyhow::Result<()> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let pid: i32 = std::env::var("MAINPID")
        .ok()
        .and_then(|pid| pid.parse().ok())
        .filter(|&pid| pid > 0)
        .context("MAINPID is not set: this is the unit's ExecReload=; use `systemctl reload rackpi-panel`")?;
    let dir = std::env::var_os("RUNTIME_DIRECTORY")
        .map(std::path::PathBuf::from)
        .context("RUNTIME_DIRECTORY is not set: the unit needs RuntimeDirectory=rackpi-panel")?;
    let answer = dir.join(RELOAD_ANSWER);
    let read = || std::fs::read_to_string(&answer).unwrap_or_default();
    let before = read();
    kill(Pid::from_raw(pid), Signal::SIGHUP)
        .with_context(|| format!("cannot send SIGHUP to rackpi-panel (PID {pid})"))?;
    let start = monotonic_now();
    loop {
        let now = read();
        if now != before && !now.is_empty() {
            let verdict = now.trim_end().split_once(' ').map_or("", |(_, rest)| rest);
            return match verdict {
                "ok" => Ok(()),
                _ => Err(anyhow::anyhow!(
                    "the new configuration was not loaded, the daemon keeps the old one: {}",
                    verdict.strip_prefix("refused: ").unwrap_or(verdict)
                )),
            };
        }
        if monotonic_now() - start > timeout {
            anyhow::bail!(
                "rackpi-panel (PID {pid}) did not answer the reload within {} s; see journalctl -u rackpi-panel",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether stderr is the systemd journal's stream for this service: the
/// device and inode in `JOURNAL_STREAM` are stderr's own (a child that
/// inherited the variable but writes elsewhere gets plain lines).
pub fn stderr_is_journal() -> bool {
    let Some((dev, ino)) = std::env::var("JOURNAL_STREAM").ok().and_then(|value| {
        let (dev, ino) = value.split_once(':')?;
        Some((dev.parse::<u64>().ok()?, ino.parse::<u64>().ok()?))
    }) else {
        return false;
    };
    use std::os::unix::fs::MetadataExt;
    // through a duplicate, for MetadataExt's u64 fields on every target
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|fd| std::fs::File::from(fd).metadata())
        .is_ok_and(|meta| meta.dev() == dev && meta.ino() == ino)
}

/// The syslog priority the journal reads from a `<N>` line prefix.
pub fn journal_priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

#[cfg(all(test, not(target_env = "musl")))]
mod bus_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::GpioError;
    use rustix::net::SocketType;
    use std::os::fd::BorrowedFd;

    /// A button that never moves.
    struct Still(UnixStream);

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
            button: Box::new(Still(button)),
            notify: Some(server),
            #[cfg(not(target_env = "musl"))]
            units: None,
            received: Vec::new(),
            stop,
            reload,
            woken,
            watchdog: None,
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
}
