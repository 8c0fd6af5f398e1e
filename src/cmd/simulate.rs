//! `simulate`: the firmware against simulated hardware, interactive or
//! from a script.

use std::process::ExitCode;

use super::Failure;
use crate::cli;
use crate::config::Config;
use crate::sim::terminal::Cells;
use crate::sim::{self, SimOptions};

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

/// Runs the simulation with `--config` (the defaults without it) and logs
/// what it did.
pub fn simulate(options: &SimOptions) -> Result<ExitCode, Failure> {
    let config = match &options.config_path {
        Some(path) => Config::load(Some(path))?,
        None => Config::default(),
    };
    let summary = sim::simulate(&config, options)?;
    // under the crate's name, as it was before the subcommands had rooms
    log::info!(
        target: "rackpi_panel",
        "simulation ended: {} events, {} distinct frames, {} I2C writes ({} bytes), {} wake-ups",
        summary.events,
        summary.frames,
        summary.bus.transactions,
        summary.bus.bytes,
        summary.wakeups
    );
    Ok(ExitCode::SUCCESS)
}
