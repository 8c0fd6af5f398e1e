//! The reload protocol between `systemctl reload` and the daemon: SIGHUP
//! one way, an answer file in the unit's RuntimeDirectory= the other.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use super::{for_dry_run, monotonic_now};
use crate::config::Config;
use crate::core::Rules;
use crate::ports::PortSettings;
use crate::runtime;

/// The file in the unit's RuntimeDirectory= where the daemon answers each
/// SIGHUP, for `rackpi-panel reload` (ExecReload=) to wait on: systemd 252
/// has no way for a Type=notify daemon to fail a reload by itself.
const RELOAD_ANSWER: &str = "reload";

/// Writes "<pid>.<n> ok" or "<pid>.<n> refused: <why>" atomically (rename),
/// so a reader never sees half an answer. Without RUNTIME_DIRECTORY (not
/// started by the unit) nobody waits for it.
fn answer_reload<T>(n: u64, outcome: &Result<T, String>) {
    let Some(dir) = std::env::var_os("RUNTIME_DIRECTORY") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let text = match outcome {
        Ok(_) => format!("{}.{n} ok\n", std::process::id()),
        Err(why) => format!("{}.{n} refused: {why}\n", std::process::id()),
    };
    let tmp = dir.join(format!("{RELOAD_ANSWER}.tmp"));
    if let Err(err) =
        std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, dir.join(RELOAD_ANSWER)))
    {
        log::warn!(
            "cannot answer the reload in {}: {err}; systemctl reload will time out",
            dir.display()
        );
    }
}

/// The daemon's SIGHUP: the configuration at `path` read again (what only
/// a restart applies is warned about), and each reload answered for
/// `rackpi-panel reload`.
pub(super) fn reloader<'a>(
    running: &'a Config,
    path: Option<&'a Path>,
    dry_run: bool,
) -> impl FnMut() -> Result<(Rules, PortSettings), String> + 'a {
    let mut reloads = 0u64;
    move || {
        let outcome = runtime::reread_config(path, |new| {
            if new.button != running.button
                || new.led != running.led
                || new.display != running.display
            {
                log::warn!("changes to [button], [led] and [display] take effect after a restart");
            }
        })
        .map(|(rules, settings)| (for_dry_run(rules, dry_run), settings));
        reloads += 1;
        answer_reload(reloads, &outcome);
        outcome
    }
}

/// `rackpi-panel reload`, the unit's ExecReload=: sends SIGHUP to the daemon
/// ($MAINPID) and waits for its answer, so that `systemctl reload` fails when
/// the daemon refuses the new configuration (and keeps the old one).
pub fn request_reload(timeout: Duration) -> anyhow::Result<()> {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let pid: i32 = std::env::var("MAINPID")
        .ok()
        .and_then(|pid| pid.parse().ok())
        .filter(|&pid| pid > 0)
        .context("MAINPID is not set: this is the unit's ExecReload=; use `systemctl reload rackpi-panel`")?;
    let dir = std::env::var_os("RUNTIME_DIRECTORY")
        .map(std::path::PathBuf::from)
        .context("RUNTIME_DIRECTORY is not set: the unit needs RuntimeDirectory=rackpi-panel")?;
    let answer = dir.join(RELOAD_ANSWER);
    let read = || std::fs::read_to_string(&answer).unwrap_or_default();
    let before = read();
    kill(Pid::from_raw(pid), Signal::SIGHUP)
        .with_context(|| format!("cannot send SIGHUP to rackpi-panel (PID {pid})"))?;
    let start = monotonic_now();
    loop {
        let now = read();
        if now != before && !now.is_empty() {
            let verdict = now.trim_end().split_once(' ').map_or("", |(_, rest)| rest);
            return match verdict {
                "ok" => Ok(()),
                _ => Err(anyhow::anyhow!(
                    "the new configuration was not loaded, the daemon keeps the old one: {}",
                    verdict.strip_prefix("refused: ").unwrap_or(verdict)
                )),
            };
        }
        if monotonic_now() - start > timeout {
            anyhow::bail!(
                "rackpi-panel (PID {pid}) did not answer the reload within {} s; see journalctl -u rackpi-panel",
                timeout.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
