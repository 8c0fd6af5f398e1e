//! `rackpi-panel simulate`: the same firmware — core, layout, runtime loop and
//! the real `ssd1306` driver — against simulated hardware, driven by a script
//! or from the keyboard, with events, frames and the I2C traffic recorded.

mod bus;
mod clock;
mod devices;
mod outputs;
pub mod script;
mod signals;
mod ssd1306_model;
pub mod terminal;
mod ups;

use std::cell::RefCell;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Context};

use crate::app::ports::{BrokerPort, Inputs, PortSettings, StatsSource};
use crate::app::runtime::{self, Ports};
use crate::config::Config;
use crate::core::Rules;
use crate::linux::display::{PanelSettings, Ssd1306Port};
use crate::linux::mqtt::MqttPort;
use crate::linux::pages::CustomPages;
use crate::linux::stats::{warn_if_no_such_interface, SystemStats};
use crate::linux::ups::{UpsConditions, UpsPage};
use devices::{Devices, SimPages};
use outputs::{check_distinct, FramesDir, Output, SimReporter};
use script::ScriptInputs;
use signals::Signals;
use terminal::{Cells, KeyTimes, KeyboardInputs, Screen, ScreenSettings, Session};
use ups::{SimStats, WithUpsConditions};

pub use bus::{BusCounters, Nack, SimBus};
pub use clock::SimClock;
pub use devices::{FakeStats, SimLed, SimPower};
pub use outputs::write_output_file;
pub use ssd1306_model::Ssd1306Model;

/// Scale of the PNG frames (panel pixels to image pixels).
pub const PNG_SCALE: u32 = 4;

/// What `simulate` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct SimOptions {
    /// The scenario (`-` = standard input); `None` = interactive.
    pub script: Option<PathBuf>,
    /// Time advances only by the script.
    pub virtual_time: bool,
    /// Fixed sample data instead of this machine's figures.
    pub fake_stats: bool,
    /// JSON Lines events (`-` = standard output).
    pub events: Option<PathBuf>,
    /// One PNG per distinct frame.
    pub frames: Option<PathBuf>,
    /// Every I2C write.
    pub i2c_log: Option<PathBuf>,
    /// Fault injection: every n-th I2C transaction is refused.
    pub fail_every: u64,
    /// The configuration file, reloaded on SIGHUP.
    pub config_path: Option<PathBuf>,
    /// Remove an earlier run's frames from `frames` when the run starts.
    pub replace_frames: bool,
    /// How the interactive panel is drawn.
    pub cells: Cells,
}

/// What a simulation did.
#[derive(Debug, Clone)]
pub struct SimSummary {
    /// Events reported.
    pub events: u64,
    /// Traffic on the bus.
    pub bus: BusCounters,
    /// Distinct frames seen.
    pub frames: u64,
    /// Loop wake-ups.
    pub wakeups: u64,
}

/// The most a script may hold (`/dev/zero` given as a script would
/// otherwise be read until memory runs out).
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

fn read_script(path: &Path) -> anyhow::Result<Vec<script::Command>> {
    use std::io::Read;
    let stdin = path == Path::new("-");
    let name = if stdin {
        "standard input".to_string()
    } else {
        path.display().to_string()
    };
    let reader: Box<dyn Read> = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(path).with_context(|| format!("cannot read the script {name}"))?,
        )
    };
    let mut bytes = Vec::new();
    reader
        .take(MAX_SCRIPT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read the script {name}"))?;
    if bytes.len() as u64 > MAX_SCRIPT_BYTES {
        bail!("cannot read the script {name}: it is larger than 1 MiB, the most a script may be");
    }
    let text = String::from_utf8(bytes).map_err(|err| {
        anyhow::anyhow!(
            "cannot read the script {name}: byte {} is not UTF-8 text",
            err.utf8_error().valid_up_to()
        )
    })?;
    script::parse(&text).with_context(|| format!("in script {name}"))
}

/// The outputs, opened and checked, none emptied yet.
#[derive(Default)]
struct Outputs {
    events: Option<Output>,
    i2c_log: Option<Output>,
    frames: Option<FramesDir>,
}

impl Outputs {
    fn open(options: &SimOptions) -> anyhow::Result<Outputs> {
        let mut outputs = Outputs::default();
        let opened = (|| -> anyhow::Result<()> {
            if let Some(path) = &options.events {
                outputs.events = Some(Output::open(path, "events")?);
            }
            if let Some(path) = &options.i2c_log {
                outputs.i2c_log = Some(Output::open(path, "I2C log")?);
            }
            let files: Vec<&Output> = [&outputs.events, &outputs.i2c_log]
                .into_iter()
                .flatten()
                .collect();
            let mut inputs = Vec::new();
            if let Some(config) = &options.config_path {
                inputs.push(("configuration", config.as_path()));
            }
            if let Some(script) = options.script.as_deref().filter(|p| *p != Path::new("-")) {
                inputs.push(("script", script));
            }
            check_distinct(&files, &inputs)?;
            if let Some(dir) = &options.frames {
                outputs.frames = Some(FramesDir::prepare(dir, options.replace_frames)?);
            }
            Ok(())
        })();
        match opened {
            Ok(()) => Ok(outputs),
            Err(err) => {
                outputs.abandon();
                Err(err)
            }
        }
    }

    fn abandon(&mut self) {
        for output in [&mut self.events, &mut self.i2c_log].into_iter().flatten() {
            output.abandon();
        }
        if let Some(frames) = self.frames.as_mut() {
            frames.abandon();
        }
    }
}

type Writer = Option<Box<dyn Write>>;

/// What the run starts with once every check passed.
struct Started {
    signals: Signals,
    /// The terminal, in the interactive mode.
    session: Option<Session>,
    events: Writer,
    i2c_log: Writer,
    frames: Option<PathBuf>,
}

/// Opens and checks the outputs, installs the signal handlers and takes
/// the terminal; only then are the outputs emptied (and given up again if
/// anything before failed).
fn start(options: &SimOptions, interactive: bool) -> anyhow::Result<Started> {
    let mut outputs = Outputs::open(options)?;
    let signals = match Signals::install(interactive) {
        Ok(signals) => signals,
        Err(err) => {
            outputs.abandon();
            return Err(anyhow::Error::new(err).context("cannot install the signal handlers"));
        }
    };
    let session = match interactive.then(Session::start).transpose() {
        Ok(session) => session,
        Err(err) => {
            outputs.abandon();
            return Err(anyhow::Error::new(err).context("cannot set up the terminal"));
        }
    };
    Ok(Started {
        signals,
        session,
        events: outputs.events.map(Output::start).transpose()?,
        i2c_log: outputs.i2c_log.map(Output::start).transpose()?,
        frames: outputs.frames.map(FramesDir::start).transpose()?,
    })
}

/// Refuses what the keyboard mode cannot do, each with what to give
/// instead.
fn check_interactive(options: &SimOptions) -> anyhow::Result<()> {
    if options.virtual_time {
        bail!("--virtual-time needs --script: at the keyboard, time is real");
    }
    if !terminal::stdout_is_terminal() {
        bail!("no --script given and standard output is not a terminal: give --script FILE (or - for standard input) to run a scenario");
    }
    if !terminal::stdin_is_terminal() {
        bail!("no --script given and standard input is not a terminal, so no key could be read: run it from a terminal, or give --script FILE (or - for standard input)");
    }
    if options.events.as_deref() == Some(Path::new("-")) {
        bail!("--events - would be painted over by the interactive panel, which lists the events itself: give --events FILE to keep them");
    }
    if options.i2c_log.as_deref() == Some(Path::new("-")) {
        bail!("--i2c-log - would be painted over by the interactive panel: give --i2c-log FILE");
    }
    Ok(())
}

/// The firmware's ports on simulated hardware; the display driver, the
/// custom pages and (without `--fake-stats`) the statistics are the real ones.
struct SimPorts {
    display: Ssd1306Port<SimBus>,
    led: SimLed,
    power: SimPower,
    pages: SimPages,
    stats: Box<dyn StatsSource>,
    /// The real upsd's condition changes, with `[ups]` and real figures.
    ups_conditions: Option<UpsConditions>,
}

impl SimPorts {
    fn new(config: &Config, options: &SimOptions, devices: &Devices, waker: &UnixStream) -> Self {
        let display = Ssd1306Port::new(devices.bus.clone(), PanelSettings::from_config(config));
        // page commands really run: what they leave running is ours to kill
        crate::process::adopt_orphans();
        let pages = SimPages {
            pages: CustomPages::new(&config.custom_pages, None),
            virtual_time: options.virtual_time,
        };
        let mut ups_conditions = None;
        let inner: Box<dyn StatsSource> = if options.fake_stats {
            Box::new(FakeStats)
        } else {
            warn_if_no_such_interface(&config.network.interface, Path::new("/sys/class/net"));
            let (ups_page, conditions) = start_ups(config, waker);
            ups_conditions = conditions;
            Box::new(
                SystemStats::new(&config.network.interface, &config.system.sysfs)
                    .with_ups(ups_page),
            )
        };
        let stats = Box::new(SimStats {
            inner,
            ups: devices.ups.clone(),
        });
        SimPorts {
            display,
            led: devices.led.clone(),
            power: devices.power.clone(),
            pages,
            stats,
            ups_conditions,
        }
    }
}

/// A real upsd's reader for `[ups]` (its conditions wake a script's run
/// through `waker`; the keyboard's loop takes them within a second).
fn start_ups(config: &Config, waker: &UnixStream) -> (Option<UpsPage>, Option<UpsConditions>) {
    let Some(settings) = config.ups.settings() else {
        return (None, None);
    };
    match crate::linux::ups::start(settings, waker.try_clone().ok()) {
        Ok((page, conditions)) => (Some(page), Some(conditions)),
        Err(err) => {
            log::error!("cannot start the UPS reader: {err}");
            (None, None)
        }
    }
}

/// What plays the world around the firmware: the keyboard (drawing on
/// `screen`), or the script's timeline.
fn world_inputs(
    commands: &[script::Command],
    rules: &Rules,
    devices: &Devices,
    screen: Option<&Rc<RefCell<Screen>>>,
    signals: Signals,
    woken: Option<UnixStream>,
) -> Box<dyn Inputs> {
    match screen {
        Some(screen) => Box::new(KeyboardInputs::new(
            devices.clone(),
            screen.clone(),
            signals,
        )),
        None => {
            let (steps, end) = script::timeline(commands);
            // the implied quit lets a release at the very end be debounced
            let quit_at = end.saturating_add(rules.debounce);
            Box::new(ScriptInputs::new(
                steps,
                quit_at,
                devices.clone(),
                Some(signals),
                woken,
            ))
        }
    }
}

/// SIGHUP: the configuration read again; the keys and the custom pages
/// follow it at once, `[display]` only after a restart.
fn reload_config(
    path: &Path,
    running: &Config,
    screen: Option<&RefCell<Screen>>,
) -> Result<(Rules, PortSettings), String> {
    let (rules, settings) = runtime::reread_config(Some(path), |new| {
        if new.display != running.display {
            log::warn!("changes to [display] take effect after a restart of the simulator");
        }
    })?;
    if let Some(screen) = screen {
        screen.borrow_mut().set_times(KeyTimes::from_rules(&rules));
    }
    Ok((rules, settings))
}

/// The panel on a real broker with `[mqtt]` (real time only); a link that
/// cannot start is logged and the simulator runs on without it.
fn start_mqtt(config: &Config, waker: &UnixStream) -> anyhow::Result<Option<MqttPort>> {
    if !config.mqtt.enabled() {
        return Ok(None);
    }
    let waker = waker.try_clone().context("cannot set up the MQTT link")?;
    match MqttPort::start(&config.mqtt, waker) {
        Ok(port) => Ok(Some(port)),
        Err(err) => {
            log::error!("the rack over MQTT is off: {err}");
            Ok(None)
        }
    }
}

/// The interactive view of a panel of `settings`, the keys holding for
/// `rules`, the status line following the broker when `mqtt` is on.
fn terminal_screen(
    settings: &PanelSettings,
    cells: Cells,
    rules: &Rules,
    devices: &Devices,
    mqtt: bool,
) -> Rc<RefCell<Screen>> {
    let settings = ScreenSettings {
        panel: settings.size.dimensions(),
        cells,
        times: KeyTimes::from_rules(rules),
        mqtt,
    };
    Rc::new(RefCell::new(Screen::new(settings, devices.clone())))
}

/// Runs the simulator.
pub fn simulate(config: &Config, options: &SimOptions) -> anyhow::Result<SimSummary> {
    let rules = Rules::try_from(config)?;
    if config.mqtt.enabled() && options.virtual_time {
        bail!("[mqtt] talks to a real broker in real time, which --virtual-time cannot run ahead of: drop --virtual-time, or leave [mqtt] url unset");
    }
    let interactive = options.script.is_none();
    if interactive {
        check_interactive(options)?;
    }
    let commands = match &options.script {
        Some(path) => read_script(path)?,
        None => Vec::new(),
    };
    let started = start(options, interactive)?;
    let settings = PanelSettings::from_config(config);
    let devices = Devices::new(SimClock::new(options.virtual_time), settings.address);
    devices.bus.state().log = started.i2c_log;
    devices.bus.state().fail_every = options.fail_every;
    let (woken, waker) = UnixStream::pair().context("cannot set up the wake-up socket")?;
    woken.set_nonblocking(true)?;
    let mut ports = SimPorts::new(config, options, &devices, &waker);
    let mut mqtt = start_mqtt(config, &waker)?;
    let mut reporter = SimReporter::new(
        devices.bus.clone(),
        &settings,
        started.events,
        started.frames,
    );
    let screen = interactive.then(|| {
        let cells = options.cells;
        terminal_screen(&settings, cells, &rules, &devices, mqtt.is_some())
    });
    reporter.echo = screen.clone();
    let mut inputs = world_inputs(
        &commands,
        &rules,
        &devices,
        screen.as_ref(),
        started.signals,
        Some(woken),
    );
    if let Some(ups) = ports.ups_conditions.take() {
        inputs = Box::new(WithUpsConditions { inputs, ups });
    }
    let mut reload_from_path;
    let reload: Option<&mut crate::app::ports::Reloader<'_>> = match &options.config_path {
        Some(path) => {
            reload_from_path = || reload_config(path, config, screen.as_deref());
            Some(&mut reload_from_path)
        }
        None => None,
    };
    let outcome = runtime::run(
        Ports {
            inputs: inputs.as_mut(),
            display: &mut ports.display,
            led: &mut ports.led,
            power: &mut ports.power,
            stats: ports.stats.as_mut(),
            pages: &mut ports.pages,
            reporter: &mut reporter,
            reload,
            broker: mqtt.as_mut().map(|port| port as &mut dyn BrokerPort),
        },
        rules,
    );
    if let Some(port) = mqtt.as_mut() {
        port.stop();
    }
    // the terminal is given back before anything is reported
    drop(inputs);
    reporter.echo = None;
    drop(started.session);
    crate::process::end_runs();
    finish(reporter, &devices.bus, outcome?.wakeups)
}

/// The run is over: the outputs flushed, the first error in writing them
/// reported, or else what the run did.
fn finish(mut reporter: SimReporter, bus: &SimBus, wakeups: u64) -> anyhow::Result<SimSummary> {
    if let Some(out) = reporter.events_out.as_mut() {
        if let Err(err) = out.flush() {
            reporter.events_error = Some(err);
        }
    }
    match reporter.events_error.take() {
        // the reader had what it wanted (`| head`): a quiet end, as `yes | head`
        Some(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
        Some(err) => return Err(anyhow::Error::new(err).context("writing the events failed")),
        None => {}
    }
    if let Some(err) = reporter.frames_error.take() {
        return Err(err);
    }
    let mut state = bus.state();
    if let Some(log) = state.log.as_mut() {
        if let Err(err) = log.flush() {
            state.log_error = Some(err);
        }
    }
    if let Some(err) = state.log_error.take() {
        return Err(anyhow::Error::new(err).context("writing the I2C log failed"));
    }
    Ok(SimSummary {
        events: reporter.events,
        bus: state.counters,
        frames: reporter.frames,
        wakeups,
    })
}
