//! `render`: one page or screen, with sample data, into a PNG.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Failure;
use crate::cli::{self, Cli};
use crate::config::{Config, PageConfig, PageOrigin, PanelSize};
use crate::core::{PageKind, PageName, Rules};
use crate::frame::Frame;
use crate::linux::pages::{command_text, file_text};
use crate::{layout, sim};

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
            cli::Page::Ups => PageKind::Ups,
        }
    }
}

/// What to draw: `--page` or `--screen` (clap requires one of them).
pub enum What {
    /// One of the pages the panel cycles through.
    Page(PageKind),
    /// Any screen by name, or a `[[page]]` of the configuration.
    Screen(String),
}

impl What {
    /// `--page` if given, else `--screen`.
    pub(crate) fn from_command_line(page: Option<cli::Page>, screen: Option<String>) -> What {
        match page {
            Some(page) => What::Page(page.into()),
            None => What::Screen(screen.unwrap_or_default()),
        }
    }
}

/// Draws `what` at `size` (the configuration's without it) into `out`
/// (`-` = standard output).
pub fn render(
    what: What,
    size: Option<PanelSize>,
    config_path: Option<&Path>,
    out: &Path,
) -> Result<ExitCode, Failure> {
    if out == Path::new("-") && std::io::stdout().is_terminal() {
        return Err(Failure::Failed(anyhow::anyhow!("--out - writes a PNG to standard output, which is a terminal: redirect it (> page.png) or give a file name")));
    }
    let config = match config_path {
        Some(path) => Config::load(Some(path))?,
        None => Config::default(),
    };
    let rules = Rules::try_from(&config).map_err(anyhow::Error::from)?;
    let size = size.unwrap_or(config.display.size).dimensions();
    let frame = match what {
        What::Page(page) => layout::render_page(page, size),
        What::Screen(name) => match config.custom_pages.iter().find(|page| page.name == name) {
            Some(page) => render_custom_page(page, size)?,
            None => layout::render_screen_for(&name, size, &rules)
                .ok_or_else(|| no_such_screen(&name, &config))?,
        },
    };
    sim::write_output_file(out, &frame.to_png(sim::PNG_SCALE))?;
    Ok(ExitCode::SUCCESS)
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
            layout::SCREENS.join(", ")
        ),
    )
}

/// A `[[page]]` as the panel shows it now: its command run once (or its
/// file read), the result drawn.
fn render_custom_page(page: &PageConfig, size: (u32, u32)) -> anyhow::Result<Frame> {
    let name = PageName::new(&page.name)
        .ok_or_else(|| anyhow::anyhow!("`{}` is not a page name", page.name))?;
    let text = match page.origin() {
        PageOrigin::Command { argv, timeout } => command_text(&argv, timeout),
        PageOrigin::File(path) => file_text(&path),
    };
    Ok(layout::render_custom_page(name, text, size))
}
