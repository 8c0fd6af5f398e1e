//! The `rackpi-panel` command: parse arguments, load the configuration, hand
//! over to the library. Nothing else happens here.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use rackpi_panel::config::{Config, ConfigError, PanelSize, EXIT_CONFIG};
use rackpi_panel::core::{Level, PageKind, PageName, IDENTIFY_DEFAULT};
use rackpi_panel::hw::notify;
use rackpi_panel::hw::off::ServiceExit;
use rackpi_panel::hw::GpioBackend;
use rackpi_panel::sim::terminal::{Cells, PaneLog};
use rackpi_panel::sim::{self, SimOptions};

/// The command line: subcommands, flags, help texts (also read by build.rs
/// for the man pages and completions).
mod cli;

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
    }
    if matches!(command, Command::Simulate { script: None, .. })
        && sim::terminal::stdout_is_terminal()
    {
        builder.target(env_logger::Target::Pipe(Box::new(PaneLog)));
    }
    builder.init();
}

impl From<cli::GpioBackend> for GpioBackend {
    fn from(backend: cli::GpioBackend) -> Self {
        match backend {
            cli::GpioBackend::Cdev => GpioBackend::Cdev,
            cli::GpioBackend::Rppal => GpioBackend::Rppal,
        }
    }
}

impl From<cli::Cells> for Cells {
    fn from(cells: cli::Cells) -> Self {
        match cells {
            cli::Cells::Auto => Cells::Auto,
            cli::Cells::HalfBlocks => Cells::HalfBlocks,
            cli::Cells::Quadrants => Cells::Quadrants,
            cli::Cells::Braille => Cells::Braille,
        }
    }
}

impl From<cli::PanelSize> for PanelSize {
    fn from(size: cli::PanelSize) -> Self {
        match size {
            cli::PanelSize::W128H32 => PanelSize::W128H32,
            cli::PanelSize::W128H64 => PanelSize::W128H64,
        }
    }
}

impl From<cli::Page> for PageKind {
    fn from(page: cli::Page) -> Self {
        match page {
            cli::Page::Info => PageKind::Info,
            cli::Page::System => PageKind::System,
            cli::Page::Network => PageKind::Network,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, &cli.command);
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            if let Some(bad_command_line) = err.downcast_ref::<clap::Error>() {
                bad_command_line.exit();
            }
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
            rackpi_panel::hw::daemon::run(config, path, dry_run, gpio.into())?;
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
                cells: cells.into(),
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
        Command::Render {
            page,
            screen,
            size,
            config,
            out,
        } => {
            render(page, screen, size, config.as_deref(), &out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `render`: one page or screen into a PNG (`out`, `-` = standard output).
fn render(
    page: Option<cli::Page>,
    screen: Option<String>,
    size: Option<cli::PanelSize>,
    config: Option<&Path>,
    out: &Path,
) -> anyhow::Result<()> {
    if out == Path::new("-") && std::io::stdout().is_terminal() {
        anyhow::bail!("--out - writes a PNG to standard output, which is a terminal: redirect it (> page.png) or give a file name");
    }
    let config = match config {
        Some(path) => Config::load(Some(path))?,
        None => Config::default(),
    };
    let rules = rackpi_panel::core::Rules::try_from(&config)?;
    let size = size
        .map_or(config.display.size, PanelSize::from)
        .dimensions();
    let frame = match (page, screen) {
        (Some(page), _) => rackpi_panel::layout::render_page(page.into(), size),
        (None, screen) => {
            let name = screen.unwrap_or_default();
            match config.custom_pages.iter().find(|page| page.name == name) {
                Some(page) => render_custom_page(page, size)?,
                None => rackpi_panel::layout::render_screen_for(&name, size, &rules)
                    .ok_or_else(|| no_such_screen(&name, &config))?,
            }
        }
    };
    sim::write_output_file(out, &frame.to_png(sim::PNG_SCALE))
}

/// `render --screen NAME` for a screen that does not exist: a bad command
/// line (exit status 2, as clap's own), listing the screens there are.
fn no_such_screen(name: &str, config: &Config) -> clap::Error {
    let custom: Vec<&str> = config
        .custom_pages
        .iter()
        .map(|page| page.name.as_str())
        .collect();
    let custom = if custom.is_empty() {
        String::new()
    } else {
        format!(
            ", and the [[page]] tables of --config: {}",
            custom.join(", ")
        )
    };
    let mut command = Cli::command();
    command.build();
    let render = command
        .find_subcommand_mut("render")
        .expect("cli.rs defines render");
    render.error(
        clap::error::ErrorKind::InvalidValue,
        format!(
            "no screen named `{name}` for --screen: the screens are {}{custom}",
            rackpi_panel::layout::SCREENS.join(", ")
        ),
    )
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
