//! `rackpi-panel simulate`: the same firmware — core, layout, runtime loop and
//! the real `ssd1306` driver — against simulated hardware, driven by a script
//! or from the keyboard, with events, frames and the I2C traffic recorded.

pub mod bus;
pub mod script;
pub mod terminal;

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::json;

use crate::config::{Config, PageKind};
use crate::core::{Event, Time};
use crate::display::{PanelSettings, Ssd1306Port};
use crate::frame::Frame;
use crate::runtime::{self, Inputs, Ports, Reporter, Wake};
use crate::stats::{FakeStats, StatsSource, SystemStats};
use bus::{BusCounters, SimBus, SimClock, SimLed, SimPower};
use script::Step;

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
    /// The last frame the panel showed.
    pub last_frame: Frame,
}

/// Opens `path` for writing, `-` meaning standard output.
fn create_output(path: &Path, what: &str) -> anyhow::Result<Box<dyn Write>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdout()));
    }
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot create the {what} file {}", path.display()))?;
    Ok(Box::new(std::io::BufWriter::new(file)))
}

fn prepare_frames_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the frames directory {}", dir.display()))?;
    let probe = dir.join(".rackpi-panel-write-test");
    std::fs::write(&probe, b"")
        .with_context(|| format!("cannot write into the frames directory {}", dir.display()))?;
    std::fs::remove_file(&probe).ok();
    Ok(())
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

/// Writes events as JSON Lines, frames as PNGs, and keeps a summary.
struct SimReporter {
    events_out: Option<Box<dyn Write>>,
    events_error: Option<std::io::Error>,
    frames_dir: Option<PathBuf>,
    frames_error: Option<anyhow::Error>,
    bus: SimBus,
    rows: usize,
    upside_down: bool,
    last_frame: Option<Frame>,
    seen_transactions: Option<u64>,
    frames: u64,
    events: u64,
    echo: Option<terminal::Screen>,
}

impl SimReporter {
    fn event_json(at: Time, event: &Event) -> serde_json::Value {
        let mut value = json!({ "t_ms": at.as_millis() as u64, "event": event.name() });
        match event {
            Event::Page(page) => value["name"] = json!(page.name()),
            Event::Led(pattern) => value["pattern"] = json!(pattern.name()),
            Event::ActionFailed { action, reason } => {
                value["action"] = json!(action.name());
                value["reason"] = json!(reason);
            }
            _ => {}
        }
        value
    }
}

impl Reporter for SimReporter {
    fn event(&mut self, at: Time, event: &Event) {
        log::debug!("{:>8} ms  {}", at.as_millis(), event.name());
        self.events += 1;
        if let Some(screen) = self.echo.as_mut() {
            screen.event(at, event);
        }
        if let Some(out) = self.events_out.as_mut() {
            let line = Self::event_json(at, event).to_string() + "\n";
            if let Err(err) = out.write_all(line.as_bytes()) {
                self.events_out = None;
                self.events_error = Some(err);
            }
        }
    }

    fn settled(&mut self, at: Time) {
        // nothing was written since the last look: the picture is the same
        let transactions = self.bus.state().counters.transactions;
        if self.echo.is_none() && self.seen_transactions == Some(transactions) {
            return;
        }
        self.seen_transactions = Some(transactions);
        let frame = self.bus.state().model.visible(self.rows, self.upside_down);
        if let Some(screen) = self.echo.as_mut() {
            // repainted every wake-up, so the LED's blinking shows too
            screen.frame(&frame);
        }
        if self.last_frame.as_ref() == Some(&frame) {
            return;
        }
        self.frames += 1;
        if let (Some(dir), None) = (&self.frames_dir, &self.frames_error) {
            let name = format!("frame-{:09}ms-{:05}.png", at.as_millis(), self.frames);
            if let Err(err) = frame.write_png(&dir.join(&name), PNG_SCALE) {
                self.frames_error =
                    Some(anyhow::Error::new(err).context(format!("cannot write frame {name}")));
            }
        }
        self.last_frame = Some(frame);
    }
}

/// Feeds a script's timeline as inputs.
struct ScriptInputs {
    steps: VecDeque<(Duration, Step)>,
    quit_at: Duration,
    clock: SimClock,
    bus: SimBus,
    power: SimPower,
    level: bool,
}

impl ScriptInputs {
    fn advance_to(&self, t: Duration) {
        match &self.clock {
            SimClock::Virtual(cell) => cell.set(cell.get().max(t)),
            SimClock::Real(_) => {
                let now = self.clock.now();
                if t > now {
                    std::thread::sleep(t - now);
                }
            }
        }
    }
}

impl Inputs for ScriptInputs {
    fn now(&mut self) -> Time {
        self.clock.now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        // What the script sets at time 0 is how the hardware is at start:
        // `down` is a button held when the program starts, `display unplug`
        // a panel missing from the start.
        while let Some((Duration::ZERO, step)) = self.steps.front().cloned() {
            match step {
                Step::Button(level) => self.level = level,
                Step::Display(plugged) => self.bus.state().plugged = plugged,
                Step::Power(ok) => self.power.failing.set(!ok),
                Step::Quit => break,
            }
            self.steps.pop_front();
        }
        Ok(self.level)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        loop {
            let next = self.steps.front().map_or(self.quit_at, |(t, _)| *t);
            if let Some(deadline) = deadline.filter(|&d| d <= next) {
                self.advance_to(deadline);
                return Ok(Wake::Deadline);
            }
            self.advance_to(next);
            let Some((_, step)) = self.steps.pop_front() else {
                return Ok(Wake::Stop);
            };
            match step {
                Step::Button(level) if level != self.level => {
                    self.level = level;
                    return Ok(Wake::Button {
                        pressed: level,
                        at: self.clock.now(),
                    });
                }
                Step::Button(_) => {}
                Step::Display(plugged) => self.bus.state().plugged = plugged,
                Step::Power(ok) => self.power.failing.set(!ok),
                Step::Quit => return Ok(Wake::Stop),
            }
        }
    }
}

/// Runs the simulator.
pub fn simulate(config: &Config, options: &SimOptions) -> anyhow::Result<SimSummary> {
    let timings = config.timings()?;
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
        Box::new(ScriptInputs {
            steps: steps.into(),
            // the implied quit lets a release at the very end be debounced
            quit_at: end + timings.debounce,
            clock: clock.clone(),
            bus: bus.clone(),
            power: power.clone(),
            level: false,
        })
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
        timings,
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
        last_frame: reporter
            .last_frame
            .unwrap_or_else(|| Frame::new(128, rows as u32)),
    })
}

/// Draws one page with the sample data into a frame (for `render` and the docs).
pub fn render_page(page: PageKind, size: crate::config::PanelSize) -> Frame {
    let (w, h) = size.dimensions();
    let mut frame = Frame::new(w, h);
    let view = crate::core::View::Page {
        page,
        shift: (0, 0),
    };
    let Ok(()) = crate::layout::draw(&mut frame, &crate::stats::Stats::sample(), &view);
    frame
}
