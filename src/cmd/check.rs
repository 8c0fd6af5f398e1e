//! `check`: probe the GPIO lines, the I2C bus and the display, print the
//! report, fail when something is wrong.

use std::path::Path;
use std::process::ExitCode;

use super::Failure;
use crate::config::Config;

/// Prints the report on stdout; exit 1 when it found a problem.
pub fn check(config_path: Option<&Path>) -> Result<ExitCode, Failure> {
    let config = Config::load(config_path)?;
    let report = crate::linux::check::check(&config);
    print!("{report}");
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
