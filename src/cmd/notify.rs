//! `notify` and `identify`: one request to the running daemon over its
//! socket.

use std::process::ExitCode;
use std::time::Duration;

use super::Failure;
use crate::core::{check_text, Level, IDENTIFY_DEFAULT};
use crate::linux::notify::{self, Request};

/// Sends a message (the words of `text` joined by spaces).
pub fn notify(level: &str, lasts: Option<Duration>, text: &[String]) -> Result<ExitCode, Failure> {
    let text = text.join(" ");
    check_text(&text).map_err(|problem| Failure::Failed(anyhow::Error::msg(problem)))?;
    let level = Level::from_name(level).unwrap_or(Level::Info);
    send(&Request::Notify { level, text, lasts })
}

/// Asks the panel to identify itself for `lasts` (a minute by default).
pub fn identify(lasts: Option<Duration>) -> Result<ExitCode, Failure> {
    let lasts = lasts.unwrap_or(IDENTIFY_DEFAULT);
    if lasts > notify::MAX_IDENTIFY {
        return Err(Failure::Failed(anyhow::anyhow!("--for is at most 1h")));
    }
    send(&Request::Identify { lasts })
}

/// The request to the daemon's socket; its refusal or silence is the failure.
fn send(request: &Request) -> Result<ExitCode, Failure> {
    notify::send(&notify::socket_path(false), request).map_err(anyhow::Error::from)?;
    Ok(ExitCode::SUCCESS)
}
