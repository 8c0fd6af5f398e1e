//! `rackpi-panel run`: the real ports wired to the shared loop. The loop
//! sleeps in poll(2) on the button's edge events, the signal pipes and the
//! power helper's wake-up, with the core's next deadline as the timeout.

use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::Context;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::time::{clock_gettime, ClockId};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::config::Config;
use crate::core::{AttentionSource, Event, Input, PowerAction, Rules, Time};
use crate::hw::display::{LinuxBus, PanelSettings, Ssd1306Port};
use crate::hw::gpio::{Button, Led};
use crate::hw::notify::{self, NotifyServer};
use crate::hw::power::CommandPower;
use crate::hw::stats::SystemStats;
#[cfg(not(target_env = "musl"))]
use crate::hw::units::SystemdUnits;
use crate::hw::GpioBackend;
use crate::ports::{EdgeBatch, EdgeSource, Inputs, LedPort, PowerError, PowerPort};
use crate::ports::{Reporter, Wake};
use crate::runtime::{self, Ports};

/// Now on CLOCK_MONOTONIC, the clock of the kernel's edge timestamps.
pub fn monotonic_now() -> Duration {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default()
}

/// How long poll(2) may sleep at `now` to wake at `until` (for ever
/// without one), rounded up: waking a millisecond early would only loop again.
pub(crate) fn poll_timeout(now: Time, until: Option<Time>) -> PollTimeout {
    match until {
        Some(t) => {
            let ms = t
                .saturating_sub(now)
                .as_micros()
                .div_ceil(1000)
                .min(3_600_000);
            PollTimeout::try_from(ms as i32).unwrap_or(PollTimeout::MAX)
        }
        None => PollTimeout::NONE,
    }
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
        let Some(units) = self.units.as_mut() else {
            return;
        };
        match units.receive() {
            Ok(inputs) => self.received.extend(inputs),
            Err(err) => {
                log::error!("{err}: failed units are no longer followed");
                self.units = None;
            }
        }
    }
}

struct HwInputs {
    button: Box<dyn EdgeSource>,
    notify: Option<NotifyServer>,
    #[cfg(not(target_env = "musl"))]
    units: Option<SystemdUnits>,
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
            if deadline.is_some_and(|d| d <= now) {
                return Ok(Wake::Deadline);
            }
            let until = [deadline, self.watchdog.map(|(_, due)| due)]
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
                if let Some(units) = &self.units {
                    fds.push(PollFd::new(units.fd(), PollFlags::POLLIN));
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
                return Ok(Wake::Woken);
            }
            if units_ready {
                self.units_ready();
                return Ok(Wake::Woken);
            }
            if notify_ready {
                if let Some(notify) = self.notify.as_mut() {
                    // a bounded number per wake-up: the button's edges come first
                    self.received.extend(notify.receive(now));
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
    let (button, mut led) = open_gpio(&config, rules.debounce, backend)?;

    let (stop, stop_signal) = wake_pipe()?;
    let (reload, reload_signal) = wake_pipe()?;
    let (woken, waker) = wake_pipe()?;
    for signal in [SIGTERM, SIGINT] {
        signal_hook::low_level::pipe::register(signal, stop_signal.try_clone()?)
            .context("cannot install the signal handler")?;
    }
    signal_hook::low_level::pipe::register(SIGHUP, reload_signal)
        .context("cannot install the SIGHUP handler")?;

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
    let notify = match NotifyServer::bind(&notify::socket_path(true), monotonic_now()) {
        Ok(server) => Some(server),
        Err(err) => {
            log::error!("messages and identify are unavailable: {err}");
            None
        }
    };
    #[cfg(not(target_env = "musl"))]
    let units = if config.attention.units {
        match SystemdUnits::connect() {
            Ok(units) => Some(units),
            Err(err) => {
                log::warn!("{err}");
                None
            }
        }
    } else {
        None
    };
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
    // what came with the connection (the listing may already be here)
    inputs.units_ready();
    let mut reporter = DaemonReporter {
        display: "ok",
        last_action: "no action yet".into(),
    };
    let mut reload_config = || -> Result<Rules, String> {
        let new = Config::load(config_path.as_deref()).map_err(|e| e.to_string())?;
        if new.button != config.button || new.led != config.led || new.display != config.display {
            log::warn!("changes to [button], [led] and [display] take effect after a restart");
        }
        power.borrow_mut().set_config(new.power.clone());
        Rules::try_from(&new)
            .map(dry_run_rules)
            .map_err(|e| e.to_string())
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
            reporter: &mut reporter,
            reload: Some(&mut reload_config),
        },
        rules,
    )?;
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
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
