//! The `rackpi-panel` command: parse arguments, load the configuration, hand
//! over to the library. Nothing else happens here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use rackpi_panel::config::{Config, ConfigError, PanelSize, EXIT_CONFIG};
use rackpi_panel::core::{Level, PageKind, IDENTIFY_DEFAULT};
use rackpi_panel::hw::notify;
use rackpi_panel::hw::off::ServiceExit;
use rackpi_panel::hw::GpioBackend;
use rackpi_panel::sim::{self, SimOptions};

#[derive(Parser)]
#[command(
    name = "rackpi-panel",
    version,
    about = "Front-panel firmware for the RackPi: button, status LED and SSD1306 OLED"
)]
struct Cli {
    /// More log output (debug level); RUST_LOG overrides.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
        #[arg(long = "for", value_name = "DURATION", value_parser = notify::parse_duration)]
        lasts: Option<std::time::Duration>,
        /// The message (at most 200 bytes).
        #[arg(required = true, value_name = "TEXT")]
        text: Vec<String>,
    },
    /// Blink the LED at 5 Hz and show IDENTIFY and the hostname, to find this Pi.
    Identify {
        /// How long (default 60s; at most 1h; 0 ends it).
        #[arg(long = "for", value_name = "DURATION", value_parser = notify::parse_duration)]
        lasts: Option<std::time::Duration>,
    },
    /// Run the firmware against simulated hardware.
    #[command(after_help = sim::terminal::KEYS)]
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
        /// Write one PNG per distinct frame into DIR.
        #[arg(long, value_name = "DIR")]
        frames: Option<PathBuf>,
        /// Write every I2C write transaction: T_MS ADDR BYTES.
        #[arg(long, value_name = "FILE")]
        i2c_log: Option<PathBuf>,
    },
    /// Draw a page with sample data into a PNG (for documentation).
    Render {
        /// Which page.
        #[arg(
            long,
            value_enum,
            required_unless_present = "screen",
            conflicts_with = "screen"
        )]
        page: Option<Page>,
        /// Any screen: info, system, network, attention, identify, stage-reboot,
        /// stage-shutdown, stage-cancelled, rebooting, shutting-down, reboot-failed.
        #[arg(long, value_name = "NAME")]
        screen: Option<String>,
        /// The panel's size.
        #[arg(long, value_enum, default_value_t = PanelSize::W128H32)]
        size: PanelSize,
        /// The PNG to write.
        #[arg(long, value_name = "FILE.png")]
        out: PathBuf,
    },
}

const OFF_HELP: &str = "\
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
be switched off (the LED line held by a running daemon, permission denied);
78 for a bad configuration. The `-` before the path in the unit keeps a
failure from failing the stop.";

const NOTIFY_HELP: &str = "\
The message goes to the running daemon over the socket
/run/rackpi-panel/notify.sock (RACKPI_PANEL_SOCKET overrides the path).
Only root and the members of the group rackpi-notify may send.

Example, from a backup script (the README has an OnFailure= unit):
  restic backup /srv || rackpi-panel notify --level error \"restic: backup failed\"

Exit status: 0 when the panel took the message; 1 otherwise (daemon not
running, not allowed, refused), with the reason on stderr.";

/// The pages `render` draws.
#[derive(Clone, Copy, ValueEnum)]
enum Page {
    /// Hostname, IP, CPU and memory.
    Info,
    /// Temperature, disk, uptime.
    System,
    /// Every interface's IPv4 address.
    Network,
}

impl From<Page> for PageKind {
    fn from(page: Page) -> Self {
        match page {
            Page::Info => PageKind::Info,
            Page::System => PageKind::System,
            Page::Network => PageKind::Network,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if cli.verbose { "debug" } else { "info" };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .format_timestamp(None)
        .init();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("rackpi-panel: {err:#}");
            if err.downcast_ref::<ConfigError>().is_some() {
                ExitCode::from(EXIT_CONFIG as u8)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            config,
            dry_run,
            gpio,
        } => {
            let path = config;
            let config = Config::load(path.as_deref())?;
            rackpi_panel::hw::daemon::run(config, path, dry_run, gpio)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { config } => {
            let config = Config::load(config.as_deref())?;
            let report = rackpi_panel::hw::check::check(&config);
            print!("{report}");
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Off { config } => {
            let config = Config::load(config.as_deref())?;
            let report = rackpi_panel::hw::off::off(&config, &ServiceExit::from_env());
            eprint!("{report}");
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Notify { level, lasts, text } => {
            let text = text.join(" ");
            rackpi_panel::core::check_text(&text).map_err(anyhow::Error::msg)?;
            let level = Level::from_name(&level).unwrap_or(Level::Info);
            let request = notify::Request::Notify { level, text, lasts };
            notify::send(&notify::socket_path(false), &request)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Identify { lasts } => {
            let lasts = lasts.unwrap_or(IDENTIFY_DEFAULT);
            if lasts > notify::MAX_IDENTIFY {
                anyhow::bail!("--for is at most 1h");
            }
            notify::send(
                &notify::socket_path(false),
                &notify::Request::Identify { lasts },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            config,
            script,
            virtual_time,
            fake_stats,
            events,
            frames,
            i2c_log,
        } => {
            let config = match config {
                Some(path) => Config::load(Some(&path))?,
                None => Config::default(),
            };
            let options = SimOptions {
                script,
                virtual_time,
                fake_stats,
                events,
                frames,
                i2c_log,
                fail_every: 0,
            };
            let summary = sim::simulate(&config, &options)?;
            log::info!(
                "simulation ended: {} events, {} distinct frames, {} I2C writes ({} bytes), {} wake-ups",
                summary.events,
                summary.frames,
                summary.bus.transactions,
                summary.bus.bytes,
                summary.wakeups
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            page,
            screen,
            size,
            out,
        } => {
            let frame = match (page, screen) {
                (Some(page), _) => {
                    rackpi_panel::layout::render_page(page.into(), size.dimensions())
                }
                (None, screen) => {
                    let name = screen.unwrap_or_default();
                    rackpi_panel::layout::render_screen(&name, size.dimensions()).ok_or_else(
                        || {
                            anyhow::anyhow!(
                                "no screen named `{name}`: the screens are {}",
                                rackpi_panel::layout::SCREENS.join(", ")
                            )
                        },
                    )?
                }
            };
            frame
                .write_png(&out, sim::PNG_SCALE)
                .map_err(|err| anyhow::anyhow!("cannot write {}: {err}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
