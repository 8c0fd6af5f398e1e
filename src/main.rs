//! The `rackpi-panel` command: parse arguments, load the configuration, hand
//! over to the library. Nothing else happens here.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use rackpi_panel::config::{Config, ConfigError, PanelSize, EXIT_CONFIG};
use rackpi_panel::core::{Level, PageKind, PageName, IDENTIFY_DEFAULT};
use rackpi_panel::hw::notify;
use rackpi_panel::hw::off::ServiceExit;
use rackpi_panel::hw::GpioBackend;
use rackpi_panel::sim::terminal::{Cells, PaneLog};
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
    #[command(after_help = sim::HELP)]
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
    Render {
        /// Which page.
        #[arg(
            long,
            value_enum,
            required_unless_present = "screen",
            conflicts_with = "screen"
        )]
        page: Option<Page>,
        /// Any screen: info, system, network, custom (a sample custom page),
        /// attention, identify, stage-reboot, stage-shutdown, stage-cancelled,
        /// rebooting, shutting-down, reboot-failed; or the name of a [[page]]
        /// of --config, whose command is run (or file read) once.
        #[arg(long, value_name = "NAME")]
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
    /// Write the man page and the shell completions into DIR (packaging).
    #[command(hide = true)]
    GenerateDocs {
        #[arg(value_name = "DIR")]
        dir: PathBuf,
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
be switched off (the LED line held by a running daemon, permission denied).
A configuration file that `run` would refuse does not stop it: it warns and
uses what it can read of [led] and [display], the defaults for the rest. The
`-` before the path in the unit keeps a failure from failing the stop.";

const NOTIFY_HELP: &str = "\
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

/// Log lines on stderr: under systemd with the journal's priority prefixes
/// (`journalctl -p err` works, the journal adds the time); in the
/// interactive simulator into its event pane.
fn init_logging(verbose: bool, command: &Command) {
    let default_level = if verbose { "debug" } else { "info" };
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level));
    if rackpi_panel::hw::daemon::stderr_is_journal() {
        builder.format(|buf, record| {
            use std::io::Write;
            let priority = rackpi_panel::hw::daemon::journal_priority(record.level());
            writeln!(buf, "<{priority}>{}", record.args())
        });
    } else {
        builder.format_timestamp(None);
    }
    if matches!(command, Command::Simulate { script: None, .. })
        && sim::terminal::stdout_is_terminal()
    {
        builder.target(env_logger::Target::Pipe(Box::new(PaneLog)));
    }
    builder.init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, &cli.command);
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
            let service = ServiceExit::from_env();
            let config = if service.clean() {
                Config::default()
            } else {
                let (config, warning) = Config::load_lenient(config.as_deref());
                if let Some(warning) = warning {
                    eprintln!("rackpi-panel off: {warning}");
                }
                config
            };
            let report = rackpi_panel::hw::off::off(&config, &service);
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
            replace_frames,
            i2c_log,
            cells,
        } => {
            let config_path = config;
            let config = match &config_path {
                Some(path) => Config::load(Some(path))?,
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
                config_path,
                replace_frames,
                cells,
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
        Command::Reload => {
            rackpi_panel::hw::daemon::request_reload(std::time::Duration::from_secs(30))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::GenerateDocs { dir } => {
            generate_docs(&dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            page,
            screen,
            size,
            config,
            out,
        } => {
            if out == std::path::Path::new("-") && std::io::stdout().is_terminal() {
                anyhow::bail!("--out - writes a PNG to standard output, which is a terminal: redirect it (> page.png) or give a file name");
            }
            let config = match &config {
                Some(path) => Config::load(Some(path))?,
                None => Config::default(),
            };
            let rules = rackpi_panel::core::Rules::try_from(&config)?;
            let size = size.unwrap_or(config.display.size).dimensions();
            let frame = match (page, screen) {
                (Some(page), _) => rackpi_panel::layout::render_page(page.into(), size),
                (None, screen) => {
                    let name = screen.unwrap_or_default();
                    match config.custom_pages.iter().find(|page| page.name == name) {
                        Some(page) => render_custom_page(page, size)?,
                        None => rackpi_panel::layout::render_screen_for(&name, size, &rules)
                            .ok_or_else(|| {
                                let custom: Vec<&str> = config
                                    .custom_pages
                                    .iter()
                                    .map(|p| p.name.as_str())
                                    .collect();
                                let custom = if custom.is_empty() {
                                    String::new()
                                } else {
                                    format!(
                                        ", and the [[page]] tables of --config: {}",
                                        custom.join(", ")
                                    )
                                };
                                anyhow::anyhow!(
                                    "no screen named `{name}`: the screens are {}{custom}",
                                    rackpi_panel::layout::SCREENS.join(", ")
                                )
                            })?,
                    }
                }
            };
            sim::write_output_file(&out, &frame.to_png(sim::PNG_SCALE))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A `[[page]]` as the panel shows it now: its command run once (or its
/// file read), the result drawn.
fn render_custom_page(
    page: &rackpi_panel::config::PageConfig,
    size: (u32, u32),
) -> anyhow::Result<rackpi_panel::frame::Frame> {
    use rackpi_panel::config::PageOrigin;
    use rackpi_panel::hw::pages::{command_text, file_text};
    let name = PageName::new(&page.name)
        .ok_or_else(|| anyhow::anyhow!("`{}` is not a page name", page.name))?;
    let text = match page.origin() {
        PageOrigin::Command { argv, timeout } => command_text(&argv, timeout),
        PageOrigin::File(path) => file_text(&path),
    };
    Ok(rackpi_panel::layout::render_custom_page(name, text, size))
}

/// rackpi-panel.1 and the bash, zsh and fish completions, from the same CLI
/// definition as the parser (hidden subcommands left out).
fn generate_docs(dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    use clap::CommandFactory;
    use clap_complete::Shell;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // rackpi-panel.1 lists the subcommands as rackpi-panel-NAME(1): one page each
    let cli = Cli::command();
    let subcommands = cli.get_subcommands().filter(|sub| !sub.is_hide_set());
    let pages = std::iter::once(cli.clone()).chain(subcommands.map(|sub| {
        // clap names are &'static str; this runs once, at packaging time
        let name: &'static str = format!("rackpi-panel-{}", sub.get_name()).leak();
        sub.clone()
            .name(name)
            .bin_name(format!("rackpi-panel {}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"))
    }));
    for command in pages {
        let name = format!("{}.1", command.get_name());
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .section("1")
            .render(&mut page)
            .with_context(|| format!("cannot render {name}"))?;
        write(&name, &page)?;
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "rackpi-panel", &mut script);
        let name = match shell {
            Shell::Bash => "rackpi-panel",
            Shell::Zsh => "_rackpi-panel",
            _ => "rackpi-panel.fish",
        };
        write(name, &script)?;
    }
    Ok(())
}
