//! The subcommands, one room each: each takes what the command line gave it
//! and answers with an exit status; [`dispatch`] picks the one asked for and
//! [`Failure`] turns what went wrong into the message and the status.

mod check;
mod exit;
mod logging;
mod notify;
mod off;
mod reload;
mod render;
mod run;
mod simulate;

use std::process::ExitCode;

use crate::cli::Command;
use crate::sim::SimOptions;

pub use exit::Failure;
pub use logging::init_logging;

/// Runs the subcommand of the command line.
pub fn dispatch(command: Command) -> Result<ExitCode, Failure> {
    match command {
        Command::Run {
            config,
            dry_run,
            gpio,
        } => run::run(config, dry_run, gpio.into()),
        Command::Check { config } => check::check(config.as_deref()),
        Command::Off { config } => off::off(config.as_deref()),
        Command::Notify { level, lasts, text } => notify::notify(&level, lasts, &text),
        Command::Identify { lasts } => notify::identify(lasts),
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
        } => simulate::simulate(&SimOptions {
            script,
            virtual_time,
            fake_stats,
            events,
            frames,
            i2c_log,
            fail_every: 0,
            config_path: config,
            replace_frames,
            cells: cells.into(),
        }),
        Command::Reload => reload::reload(),
        Command::Render {
            page,
            screen,
            size,
            config,
            out,
        } => render::render(
            render::What::from_command_line(page, screen),
            size.map(Into::into),
            config.as_deref(),
            &out,
        ),
    }
}
