//! Every port the runtime drives, and their typed errors: the button and
//! clock, the LED, the display, the statistics, the power commands and the
//! reporter, the broker. Real adapters live in `linux`, simulated ones in `sim`.

use std::os::fd::BorrowedFd;
use std::path::PathBuf;

use embedded_hal::i2c::I2c;

use crate::config::{Config, PageConfig, PowerConfig};
use crate::core::{Event, Input, LedPattern, PageKind, PageName, PowerAction, Rules, Time};
use crate::frame::Frame;
use crate::stats::{PageText, Stats};

/// What woke the loop.
#[derive(Debug, Clone, PartialEq)]
pub enum Wake {
    /// The button's level changed at `at` (a kernel timestamp where there is one).
    Button {
        /// True while held down.
        pressed: bool,
        /// When it changed (the kernel timestamp, else when it was read).
        at: Time,
    },
    /// The deadline passed.
    Deadline,
    /// Something else may be ready (button edges, a power command finished).
    Woken,
    /// SIGHUP: reload the configuration.
    Reload,
    /// SIGTERM, SIGINT, `quit`, or the end of a script.
    Stop,
}

/// The button edges queued while the loop was busy, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EdgeBatch {
    /// Each edge: (pressed, when, on the inputs' clock).
    pub edges: Vec<(bool, Time)>,
    /// How many edges the source dropped (a gap in the kernel's sequence numbers).
    pub lost: u64,
    /// The button's level, read after the edges.
    pub level: bool,
}

/// Where inputs and time come from.
pub trait Inputs {
    /// The current time on the inputs' clock.
    fn now(&mut self) -> Time;
    /// Whether the button is held down now (read once at start).
    fn button_pressed(&mut self) -> std::io::Result<bool>;
    /// Blocks until something happens or `deadline` (on the same clock) passes.
    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake>;
    /// Every edge queued by now, without blocking (sources that report
    /// edges through `Wake::Button` have none).
    fn pending_edges(&mut self) -> std::io::Result<Option<EdgeBatch>> {
        Ok(None)
    }
    /// Whatever else arrived since the last wake-up (messages, identify,
    /// failed units), without blocking; fed to the core after the edges.
    fn pending_inputs(&mut self) -> Vec<Input> {
        Vec::new()
    }
}

/// A button that reports its edges through a file descriptor to wait on.
pub(crate) trait EdgeSource {
    /// Whether the button is held down now.
    fn pressed(&self) -> Result<bool, GpioError>;
    /// A descriptor that becomes readable when an edge is waiting.
    fn fd(&self) -> BorrowedFd<'_>;
    /// Every edge queued now, oldest first, each timed on CLOCK_MONOTONIC by
    /// the kernel, with the count of edges the kernel dropped and the level
    /// read after them; `None` when nothing is queued. Never blocks.
    fn read_edges(&mut self) -> Result<Option<EdgeBatch>, GpioError>;
}

/// The status LED.
pub trait LedPort {
    /// Lights (true) or darkens the LED.
    fn set(&mut self, lit: bool) -> Result<(), GpioError>;
}

/// What the firmware needs from a display.
pub trait DisplayPort {
    /// (Re)initialises the panel; afterwards the next `show` sends a full frame.
    fn init(&mut self) -> Result<(), DisplayFault>;
    /// Shows `frame`, sending only what differs from the last frame sent.
    fn show(&mut self, frame: &Frame) -> Result<(), DisplayFault>;
    /// Switches the panel on or off (SSD1306 0xAF / 0xAE).
    fn set_on(&mut self, on: bool) -> Result<(), DisplayFault>;
    /// Panel width and height.
    fn dimensions(&self) -> (u32, u32);
}

/// Opens the I2C bus the panel is on.
pub trait BusOpener {
    /// The bus type.
    type Bus: I2c;
    /// Opens the bus (called again after a failure).
    fn open(&mut self) -> Result<Self::Bus, DisplayFault>;
}

/// A source of [`Stats`].
pub trait StatsSource {
    /// Fresh figures for `page` (figures other pages need may be stale).
    fn sample(&mut self, page: PageKind) -> Stats;
}

/// The content of the custom pages (`[[page]]`): commands run in the
/// background, files read.
pub trait PageSource {
    /// Starts bringing page `name` up to date without blocking the loop (its
    /// command runs, or its file is read, in the background); `poll` reports
    /// when it is done, or overdue. A page already being refreshed is left
    /// to finish.
    fn refresh(&mut self, name: PageName);
    /// Each page whose refresh has ended since the last call, with whether
    /// what it shows changed.
    fn poll(&mut self) -> Vec<(PageName, bool)>;
    /// What page `name` shows now: the last output, the last error, or
    /// that none has come yet.
    fn text(&self, name: PageName) -> PageText;
    /// Shows `pages` from now on (configuration reload); sources without
    /// pages of their own keep what they have.
    fn reconfigure(&mut self, _pages: &[PageConfig]) {}
}

/// Runs the reboot and power-off commands.
pub trait PowerPort {
    /// Starts `action` (never blocks for long).
    fn start(&mut self, action: PowerAction);
    /// The result of the command started last, once it has finished.
    fn poll(&mut self) -> Option<Result<(), PowerError>>;
    /// Runs the commands in `settings` from now on (configuration reload);
    /// ports that run no commands ignore it.
    fn reconfigure(&mut self, _settings: &PowerConfig) {}
}

/// Receives what happened, for logs, systemd and the simulator's outputs.
pub trait Reporter {
    /// An event at `at`.
    fn event(&mut self, at: Time, event: &Event);
    /// The loop finished handling everything up to `at`.
    fn settled(&mut self, _at: Time) {}
}

/// The rack over MQTT (SPEC §9): what the panel says on the broker. The
/// adapter never blocks: it queues (the latest state only, a bounded
/// queue of events) for the thread that talks to the broker.
pub trait Broker {
    /// An event at `at`; the broker's `event` topic takes some of them.
    fn event(&mut self, at: Time, event: &Event);
    /// This panel's state, to be published now.
    fn publish_state(&mut self, state: &PanelState, stats: &Stats);
}

/// The panel's part of the state published on the broker.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelState {
    /// Something calls for attention (the LED says so).
    pub attention: bool,
    /// The attention page's lines, as the panel shows them.
    pub attention_text: Vec<String>,
    pub led: LedPattern,
}

/// What a configuration reload hands each port that follows it: its own
/// part of the new configuration (the button, the LED and the display
/// follow only after a restart).
#[derive(Debug, Clone, PartialEq)]
pub struct PortSettings {
    /// For [`PowerPort::reconfigure`].
    pub power: PowerConfig,
    /// For [`PageSource::reconfigure`].
    pub pages: Vec<PageConfig>,
}

impl PortSettings {
    /// Each port's part of `config`.
    pub fn from_config(config: &Config) -> Self {
        PortSettings {
            power: config.power.clone(),
            pages: config.custom_pages.clone(),
        }
    }
}

/// Supplies new rules and the ports' settings on SIGHUP; `Err` keeps the
/// old ones (the message is logged).
pub(crate) type Reloader<'a> = dyn FnMut() -> Result<(Rules, PortSettings), String> + 'a;

/// Why a GPIO line could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    /// No GPIO chip device exists.
    #[error("no GPIO chip found (/dev/gpiochip*): this is not a Raspberry Pi, or the kernel lacks the GPIO character device (to try the panel without one: rackpi-panel simulate)")]
    NoChips,
    /// The chip named in the configuration does not exist.
    #[error("GPIO chip {chip} does not exist: check `chip` in the config (ls /dev/gpiochip*), or name the line instead (line = \"GPIO20\")")]
    NoSuchChip {
        /// The chip device named.
        chip: PathBuf,
    },
    /// Chips exist but cannot be opened.
    #[error("cannot open {chip}: {reason} (add the service user to the gpio group, or run the packaged unit, which has it)")]
    Permission {
        /// The chip device.
        chip: PathBuf,
        /// What the OS said.
        reason: String,
    },
    /// No chip has a line of that name.
    #[error("no GPIO line named {name} on {chips}: check the line name in the config, or give chip and offset instead")]
    NotFound {
        /// The name looked for.
        name: String,
        /// The chips searched.
        chips: String,
    },
    /// The line is held by another program.
    #[error("GPIO line {line} ({chip} offset {offset}) is busy: held by \"{consumer}\" — stop the other program first (an old infoscreen.py from rc.local? a second rackpi-panel?)")]
    Busy {
        /// The line.
        line: String,
        /// Its chip.
        chip: PathBuf,
        /// Its offset.
        offset: u32,
        /// The holder's consumer label.
        consumer: String,
    },
    /// Any other failure from the GPIO library or the kernel.
    #[error("GPIO line {line}: {reason}")]
    Other {
        /// The line.
        line: String,
        /// What went wrong.
        reason: String,
    },
}

/// Why the display could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisplayFault {
    /// The I2C bus device does not exist.
    #[error("cannot open I2C bus {bus}: it does not exist (enable I2C with dtparam=i2c_arm=on in config.txt)")]
    NoBus {
        /// The device path.
        bus: String,
    },
    /// The I2C bus device may not be opened by this user.
    #[error("cannot open I2C bus {bus}: permission denied (the user needs the i2c group)")]
    BusDenied {
        /// The device path.
        bus: String,
    },
    /// The I2C bus device could not be opened for another reason.
    #[error("cannot open I2C bus {bus}: {reason} (enable I2C with dtparam=i2c_arm=on in config.txt; the user needs the i2c group)")]
    Bus {
        /// The device path.
        bus: String,
        /// What the OS said.
        reason: String,
    },
    /// The panel did not acknowledge a write.
    #[error("the display at {address:#04x} does not answer ({detail}): check its wiring (see wiring.md)")]
    NoAnswer {
        /// Its address.
        address: u8,
        /// The driver's description.
        detail: String,
    },
}

/// How a power command ended badly.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The configuration names no program.
    #[error("no command configured")]
    NoCommand,
    /// The program does not exist.
    #[error(
        "cannot start `{command}`: `{program}` was not found; give its full path or install it"
    )]
    NotFound {
        /// The whole command line.
        command: String,
        /// The program.
        program: String,
    },
    /// The program is a script whose interpreter does not exist.
    #[error("cannot start `{command}`: its interpreter `{interpreter}` (the #! line of {program}) was not found")]
    NoInterpreter {
        /// The whole command line.
        command: String,
        /// The script.
        program: String,
        /// What its `#!` line names.
        interpreter: String,
    },
    /// The program may not be run by this user.
    #[error("cannot start `{command}`: `{program}` may not be run by this user ({error})")]
    Denied {
        /// The whole command line.
        command: String,
        /// The program.
        program: String,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The program could not be started for another reason.
    #[error("cannot start `{command}`: {error}")]
    Spawn {
        /// The whole command line.
        command: String,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The command ran and failed: its exit status, or its time ran out.
    #[error("`{command}` {ending}{}", last_words(.last_line))]
    Failed {
        /// The whole command line.
        command: String,
        /// How it ended.
        ending: String,
        /// The last line it wrote to stderr (may be empty).
        last_line: String,
    },
    /// The simulator was told to fail power commands.
    #[error("`{action}` exited with status 1 (simulated)")]
    Simulated {
        /// The action's name.
        action: &'static str,
    },
}

fn last_words(line: &str) -> String {
    if line.is_empty() {
        String::new()
    } else {
        format!(": {line}")
    }
}

/// Why `rackpi-panel notify` or `identify` did not reach the panel.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// Nobody listens at the socket.
    #[error(
        "the panel daemon is not running (nothing listens at {}): start it with `systemctl start rackpi-panel`; \
         without a panel, the simulator takes the same requests: the keys `n` (a message) and `i` (identify) \
         of `rackpi-panel simulate`, or the script lines `notify LEVEL TEXT` and `identify SECONDS`",
        path.display()
    )]
    NotRunning {
        /// The socket.
        path: PathBuf,
    },
    /// The socket's permissions refuse this user.
    #[error("not allowed to send to the panel ({}): run as root, or add the user to the group rackpi-notify (`usermod -aG rackpi-notify USER`, then log in again)", path.display())]
    NotAllowed {
        /// The socket.
        path: PathBuf,
    },
    /// Something listens there, but not for this version's requests.
    #[error("the panel daemon at {} is another version (the package was upgraded while it ran): restart it with `systemctl restart rackpi-panel`", path.display())]
    OtherVersion {
        /// The socket.
        path: PathBuf,
    },
    /// The daemon did not answer in time.
    #[error("the panel daemon did not answer at {} within 2 s: see `journalctl -u rackpi-panel`", path.display())]
    NoAnswer {
        /// The socket.
        path: PathBuf,
    },
    /// The daemon refused the request, and said why.
    #[error("the panel refused: {reason}")]
    Refused {
        /// The daemon's reason.
        reason: String,
    },
    /// Another daemon already listens there.
    #[error("another rackpi-panel already listens at {}: stop it first", path.display())]
    InUse {
        /// The socket.
        path: PathBuf,
    },
    /// Any other failure of the socket.
    #[error("{}: {error}", path.display())]
    Io {
        /// The socket.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
}

/// Why failed systemd units cannot be followed (the panel carries on without).
#[derive(Debug, thiserror::Error)]
pub enum UnitsError {
    /// The system bus is not there, or refuses this user.
    #[error("cannot connect to the system bus ({0}): failed units are not shown; set [attention] units = false to stop trying")]
    NoBus(String),
    /// The bus took the connection but did not greet back in time: a
    /// dbus-daemon stopped, overloaded, or still starting behind its socket.
    #[error("the system bus takes connections but does not answer (nothing within {} s): failed units are not followed until it does (see `systemctl status dbus`)", .0.as_secs())]
    NoAnswer(std::time::Duration),
    /// The bus failed later.
    #[error("the system bus: {0}")]
    Bus(String),
}
