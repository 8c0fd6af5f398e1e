//! `off`: the unit's ExecStopPost — the LED and the display off, nothing
//! else, even with a configuration `run` would refuse.

use std::path::Path;
use std::process::ExitCode;

use super::Failure;
use crate::config::Config;
use crate::linux::off::ServiceExit;

/// Switches the panel off (unless the daemon exited cleanly and did it
/// already), reports on stderr; exit 1 when a part could not be switched off.
pub fn off(config_path: Option<&Path>) -> Result<ExitCode, Failure> {
    let service = ServiceExit::from_env();
    let config = if service.clean() {
        Config::default()
    } else {
        let (config, warning) = Config::load_lenient(config_path);
        if let Some(warning) = warning {
            eprintln!("rackpi-panel off: {warning}");
        }
        config
    };
    let report = crate::linux::off::off(&config, &service);
    eprint!("{report}");
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
