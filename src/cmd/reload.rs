//! `reload` (hidden): the unit's ExecReload — SIGHUP to the daemon, then its
//! answer.

use std::process::ExitCode;
use std::time::Duration;

use super::Failure;

/// How long the daemon has to answer before the reload counts as failed.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

/// Fails when the daemon refused the new configuration or did not answer.
pub fn reload() -> Result<ExitCode, Failure> {
    crate::linux::daemon::request_reload(ANSWER_WITHIN)?;
    Ok(ExitCode::SUCCESS)
}
