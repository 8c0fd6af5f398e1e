//! `rackpi-panel simulate`: the same firmware — core, layout, runtime loop and
//! the real `ssd1306` driver — against simulated hardware, driven by a script
//! or from the keyboard, with events, frames and the I2C traffic recorded.

mod bus;
mod clock;
mod devices;
mod outputs;
pub mod script;
mod ssd1306_model;
pub mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::config::Config;
use crate::core::Rules;
use crate::hw::display::{PanelSettings, Ssd1306Port};
use crate::hw::stats::SystemStats;
use crate::ports::{Inputs, StatsSource};
use crate::runtime::{self, Ports};
use outputs::{create_output, prepare_frames_dir, SimReporter};
use script::ScriptInputs;

pub use bus::{BusCounters, Nack, SimBus};
pub use clock::SimClock;
pub use devices::{FakeStats, SimLed, SimPower};
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

fn read_script(path: &Path) -> anyhow::Result<Vec<script::Command>> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
            .context("cannot read the script from standard input")?
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the script {}", path.display()))?
    };
    let name = path.display();
    script::parse(&text).with_context(|| format!("in script {name}"))
}

/// Runs the simulator.
pub fn simulate(config: &Config, options: &SimOptions) -> anyhow::Result<SimSummary> {
    let rules = Rules::try_from(config)?;
    let interactive = options.script.is_none();
    if interactive && options.virtual_time {
        bail!("--virtual-time needs --script: at the keyboard, time is real");
    }
    if interactive && !terminal::stdout_is_terminal() {
        bail!("no --script given and standard output is not a terminal: give --script FILE (or - for standard input) to run a scenario");
    }
    let commands = match &options.script {
        Some(path) => read_script(path)?,
        None => Vec::new(),
    };
    // Outputs are opened before anything runs, so a bad path fails at once;
    // if one cannot be opened, the files already created are removed again.
    let mut created = Vec::new();
    let opened = (|| -> anyhow::Result<_> {
        let mut open = |path: &PathBuf, what: &str| -> anyhow::Result<Box<dyn Write>> {
            let existed = path.exists();
            let out = create_output(path, what)?;
            if !existed {
                created.push(path.clone());
            }
            Ok(out)
        };
        let events_out = options
            .events
            .as_ref()
            .map(|p| open(p, "events"))
            .transpose()?;
        let i2c_log = options
            .i2c_log
            .as_ref()
            .map(|p| open(p, "I2C log"))
            .transpose()?;
        if let Some(dir) = &options.frames {
            prepare_frames_dir(dir)?;
        }
        Ok((events_out, i2c_log))
    })();
    let (events_out, i2c_log) = match opened {
        Ok(outputs) => outputs,
        Err(err) => {
            for path in &created {
                let _ = std::fs::remove_file(path);
            }
            return Err(err);
        }
    };

    let clock = SimClock::new(options.virtual_time);
    let settings = PanelSettings::from_config(config);
    let bus = SimBus::new(settings.address, clock.clone());
    bus.state().log = i2c_log;
    bus.state().fail_every = options.fail_every;
    let mut display = Ssd1306Port::new(bus.clone(), settings);
    let mut led = SimLed::default();
    let mut power = SimPower::default();
    let mut fake = FakeStats;
    let mut system;
    let stats: &mut dyn StatsSource = if options.fake_stats {
        &mut fake
    } else {
        system = SystemStats::new(&config.network.interface);
        &mut system
    };
    let rows = settings.size.dimensions().1 as usize;
    let mut reporter = SimReporter {
        events_out,
        events_error: None,
        frames_dir: options.frames.clone(),
        frames_error: None,
        bus: bus.clone(),
        rows,
        upside_down: settings.upside_down,
        last_frame: None,
        seen_transactions: None,
        frames: 0,
        events: 0,
        echo: None,
    };

    let mut inputs: Box<dyn Inputs> = if interactive {
        let keyboard = terminal::KeyboardInputs::new(clock.clone(), bus.clone(), power.clone())?;
        reporter.echo = Some(terminal::Screen::new(
            rows,
            led.0.clone(),
            bus.clone(),
            power.failing.clone(),
        ));
        Box::new(keyboard)
    } else {
        let (steps, end) = script::timeline(&commands);
        // the implied quit lets a release at the very end be debounced
        let quit_at = end.saturating_add(rules.debounce);
        Box::new(ScriptInputs::new(
            steps,
            quit_at,
            clock.clone(),
            bus.clone(),
            power.clone(),
        ))
    };
    let outcome = runtime::run(
        Ports {
            inputs: inputs.as_mut(),
            display: &mut display,
            led: &mut led,
            power: &mut power,
            stats,
            reporter: &mut reporter,
            reload: None,
        },
        rules,
    )?;
    // (the keyboard's inputs give the terminal back when dropped)
    drop(inputs);

    if let Some(out) = reporter.events_out.as_mut() {
        if let Err(err) = out.flush() {
            reporter.events_error = Some(err);
        }
    }
    if let Some(err) = reporter.events_error.take() {
        return Err(anyhow::Error::new(err).context("writing the events failed"));
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
        wakeups: outcome.wakeups,
    })
}
