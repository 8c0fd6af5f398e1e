// The command line: every subcommand, flag and help text, and nothing else.
// It names no type of the library because build.rs includes it too, to write
// the man pages and shell completions at build time; `cmd` turns what it
// parsed into the library's types. (No `//!` line: `include!` takes no inner
// attributes; the module's doc is on `mod cli` in lib.rs.)

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "rackpi-panel",
    version,
    about = "Front-panel firmware for the RackPi: button, status LED and SSD1306 OLED"
)]
pub struct Cli {
    /// More log output (debug level); RUST_LOG overrides.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the panel daemon (what systemd starts).
    Run {
        /// Configuration file [default: /etc/rackpi-panel/config.toml if it exists].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Log reboot and shutdown instead of running the commands.
        #[arg(long)]
        dry_run: bool,
        /// GPIO library: cdev (the kernel's GPIO character device) or rppal
        /// (only in builds with --features rppal).
        #[arg(long, value_name = "BACKEND", value_enum, default_value_t = GpioBackend::Cdev)]
        gpio: GpioBackend,
    },
    /// Probe the GPIO lines, the I2C bus and the display; report; non-zero on problems.
    Check {
        /// Configuration file [default: /etc/rackpi-panel/config.toml if it exists].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Switch the LED and the display off, and nothing else (the unit's ExecStopPost).
    #[command(after_help = OFF_HELP)]
    Off {
        /// Configuration file [default: /etc/rackpi-panel/config.toml if it exists].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Show a message on the panel (root or the group rackpi-notify).
    #[command(after_help = NOTIFY_HELP)]
    Notify {
        /// info: shown on the next wake; warn, error: the LED blinks until a press acknowledges it.
        #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = ["info", "warn", "error"])]
        level: String,
        /// The message expires by itself after this long (90s, 5m, 2h, 1d).
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        lasts: Option<std::time::Duration>,
        /// The message (at most 200 bytes).
        #[arg(required = true, value_name = "TEXT")]
        text: Vec<String>,
    },
    /// Blink the LED at 5 Hz and show IDENTIFY and the hostname, to find this Pi.
    Identify {
        /// How long (default 60s; at most 1h; 0 ends it).
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        lasts: Option<std::time::Duration>,
    },
    /// Run the firmware against simulated hardware.
    #[command(after_help = SIMULATE_HELP)]
    Simulate {
        /// Configuration file [default: built-in defaults].
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Scenario script, one command per line (- = standard input); without it, interactive.
        #[arg(long, value_name = "FILE")]
        script: Option<PathBuf>,
        /// Advance time only by the script: a long scenario runs in milliseconds, identically every time.
        #[arg(long)]
        virtual_time: bool,
        /// Show fixed sample data (rackpi, 192.168.1.42, CPU 3 %, MEM 12 %, …).
        #[arg(long)]
        fake_stats: bool,
        /// Write events as JSON Lines (- = standard output).
        #[arg(long, value_name = "FILE")]
        events: Option<PathBuf>,
        /// Write one PNG per distinct frame into DIR (new or empty; only DIR itself is created).
        #[arg(long, value_name = "DIR")]
        frames: Option<PathBuf>,
        /// Delete the frames of an earlier run from the --frames directory when the run starts.
        #[arg(long, requires = "frames")]
        replace_frames: bool,
        /// Write every I2C write transaction: T_MS ADDR BYTES.
        #[arg(long, value_name = "FILE")]
        i2c_log: Option<PathBuf>,
        /// How the interactive panel is drawn: auto picks what fits the terminal.
        #[arg(long, value_enum, value_name = "CELLS", default_value_t = Cells::Auto)]
        cells: Cells,
    },
    /// Draw a page with sample data into a PNG (for documentation).
    #[command(group = clap::ArgGroup::new("what").required(true))]
    Render {
        /// Which page.
        #[arg(long, value_enum, group = "what")]
        page: Option<Page>,
        /// Any screen: info, system, network, custom (a sample custom page),
        /// attention, identify, stage-reboot, stage-shutdown, stage-cancelled,
        /// rebooting, shutting-down, reboot-failed, rack (the rack page over
        /// MQTT), countdown (a reboot from MQTT); or the name of a [[page]]
        /// of --config, whose command is run (or file read) once.
        #[arg(long, value_name = "NAME", group = "what")]
        screen: Option<String>,
        /// The panel's size [default: the configuration's, else 128x32].
        #[arg(long, value_enum)]
        size: Option<PanelSize>,
        /// A configuration to draw with: its panel size, its thresholds in the
        /// stage screens' countdowns, and its [[page]] tables (without it, the
        /// defaults).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The PNG to write (- = standard output); a FIFO or device is written through.
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
    },
    /// The unit's ExecReload=: SIGHUP to $MAINPID, then wait for the daemon's
    /// answer; fails when it refused the new configuration.
    #[command(hide = true)]
    Reload,
}

pub const OFF_HELP: &str = "\
The unit runs it as `ExecStopPost=-/usr/bin/rackpi-panel off`, after the daemon
has stopped however it stopped (crash, kill, watchdog abort), so nothing is
left lit. It requests the LED line only to drive it off, sends the display its
display-off command only (nothing is drawn), and never touches the button.

A part that is not there (no GPIO chip or LED line, no I2C bus, nothing
answering at the display's address) is reported on stderr and skipped. While
a running rackpi-panel holds the LED line, the display is left alone too.

Run by systemd after the daemon exited by itself with status 0
(EXIT_CODE=exited, EXIT_STATUS=0), it does nothing: the daemon has switched
the panel off already, or has left the Rebooting/Shutting down screen up on
purpose while the machine goes down.

Exit status: 0 when everything that is there is off; 1 when a part could not
be switched off (the LED line held by a running daemon, permission denied).
A configuration file that `run` would refuse does not stop it: it warns and
uses what it can read of [led] and [display], the defaults for the rest. The
`-` before the path in the unit keeps a failure from failing the stop.";

pub const NOTIFY_HELP: &str = "\
The message goes to the running daemon over the socket
/run/rackpi-panel/notify.sock (RACKPI_PANEL_SOCKET overrides the path).
Only root and the members of the group rackpi-notify may send.

Example, from a backup script (the README has an OnFailure= unit):
  restic backup /srv || rackpi-panel notify --level error \"restic: backup failed\"

Exit status: 0 when the panel took the message; 1 otherwise (daemon not
running, not allowed, no answer within 2 s, refused), with the reason on
stderr.";

/// The pages `render` draws.
#[derive(Clone, Copy, ValueEnum)]
pub enum Page {
    /// Hostname, IP, CPU and memory.
    Info,
    /// Temperature, disk, uptime.
    System,
    /// Every interface's IPv4 address.
    Network,
    /// The UPS over NUT: status, charge, runtime, load.
    Ups,
}

/// `run --gpio`: which GPIO library drives the button and the LED.
#[derive(Clone, Copy, ValueEnum)]
pub enum GpioBackend {
    /// The kernel GPIO character device, uAPI v2, through gpiocdev (the default).
    Cdev,
    /// rppal (retired upstream in 2025; only in builds with `--features rppal`).
    Rppal,
}

/// `simulate --cells`: how the panel's pixels become characters.
#[derive(Clone, Copy, ValueEnum)]
pub enum Cells {
    /// The most detailed of the three that fits the terminal.
    Auto,
    /// 1×2 pixels per character: 130 columns for a 128-pixel panel.
    HalfBlocks,
    /// 2×2 pixels per character (quadrant blocks).
    Quadrants,
    /// 2×4 pixels per character (Braille patterns).
    Braille,
}

/// `render --size`: the panel's size.
#[derive(Clone, Copy, ValueEnum)]
pub enum PanelSize {
    /// 128×32, the RackPi's panel.
    #[value(name = "128x32")]
    W128H32,
    /// 128×64.
    #[value(name = "128x64")]
    W128H64,
}

/// `simulate --help`: the keys and the scenario language.
pub const SIMULATE_HELP: &str = "\
Interactive (no --script, standard input and output a terminal): the panel
is drawn in the terminal, on the alternate screen, in whatever fits (80x24
is enough; half blocks from 130 columns, narrower than 66 the panel's right
edge is cut).
Keys: SPACE press/release the button (held down, it holds the button until
let go), t tap (0.2 s), r / s / c hold until the reboot / shutdown / cancel
stage (1 s past reboot_after_s, shutdown_after_s and cancel_after_s:
9 / 13 / 21 s with the defaults, counted from the press; the key line shows
the configured holds), u unplug/plug the display, f make power commands fail or
succeed, x fail / recover the unit demo.service, n send a warn message, i
identify for 10 s, b put the UPS on battery and back, v under-voltage on / off, q (or Ctrl-C) quit. A held key's auto-repeat is one press. Power actions are recorded, never run; after a
successful one the action screen stays up power.settle_s (120 s by default)
and the panel returns, as on a Pi that did not go down.

Scripts (--script FILE, - = standard input), one command per line, # comments:
  press SECONDS                  press, hold for SECONDS, release
  down | up                      set the button level (pressed / released)
  wait SECONDS                   let time pass
  display unplug | display plug  the panel stops / starts acknowledging I2C
  power fail | power ok          the next power commands fail / succeed
  ups STATUS... [CHARGE]         the UPS says NUT's status tokens and charge %
                                 (e.g. ups OB DISCHRG 64): the ups page and
                                 the attention follow
  undervoltage on | off          the Pi firmware reports under-voltage / its end
  temp CELSIUS                   the SoC's temperature reads CELSIUS °C
  quit                           stop (as on SIGTERM)
The run ends after the last command (quit implied). Example:
  printf 'wait 1\\npress 8.1\\nwait 1\\n' |
    rackpi-panel simulate --virtual-time --fake-stats --script - --events -

Custom pages ([[page]] in --config) really run their commands and read their
files; with --virtual-time a command takes no virtual time (the run waits for
it, up to its timeout), so every run gives the same frames.

Signals: SIGTERM, SIGINT and SIGQUIT end the run as quit does (outputs
complete, a stopped event, exit 0); SIGHUP reloads --config. At the
keyboard, Ctrl-Z (or SIGTSTP) gives the terminal back and stops; fg
(SIGCONT) draws the panel again.
Outputs are checked before the run starts and nothing is emptied until then;
a FIFO or device is written through; --frames must be new or empty (or hold
only frames of an earlier run, with --replace-frames).";

/// `90`, `90s`, `5m`, `2h`, `1d`, `1.5h`: a duration for `--for`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "ms" => 0.001,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => {
            return Err(format!(
                "`{text}`: the unit must be s, m, h or d (e.g. 90s, 5m, 2h)"
            ))
        }
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 90s, 5m, 2h)"))?;
    let seconds = value * scale;
    if !seconds.is_finite() || !(0.0..=400.0 * 86_400.0).contains(&seconds) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_read_like_systemd_ones() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs_f64());
        assert_eq!(secs("90"), Ok(90.0));
        assert_eq!(secs("90s"), Ok(90.0));
        assert_eq!(secs("5m"), Ok(300.0));
        assert_eq!(secs("1.5h"), Ok(5400.0));
        assert_eq!(secs("2d"), Ok(172_800.0));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
