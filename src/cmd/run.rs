//! `run`: the panel daemon, with the configuration it was given.

use std::path::PathBuf;
use std::process::ExitCode;

use super::Failure;
use crate::cli;
use crate::config::Config;
use crate::linux::GpioBackend;

impl From<cli::GpioBackend> for GpioBackend {
    fn from(backend: cli::GpioBackend) -> Self {
        match backend {
            cli::GpioBackend::Cdev => GpioBackend::Cdev,
            cli::GpioBackend::Rppal => GpioBackend::Rppal,
        }
    }
}

/// Loads the configuration, then runs the daemon until SIGTERM or SIGINT.
pub fn run(
    config_path: Option<PathBuf>,
    dry_run: bool,
    backend: GpioBackend,
) -> Result<ExitCode, Failure> {
    let config = Config::load(config_path.as_deref())?;
    crate::linux::daemon::run(config, config_path, dry_run, backend)?;
    Ok(ExitCode::SUCCESS)
}
