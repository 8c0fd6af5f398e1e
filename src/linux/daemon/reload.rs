//! The reload protocol between `systemctl reload` and the daemon: SIGHUP
//! one way, an answer file in the unit's RuntimeDirectory= the other.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;

use super::{for_dry_run, monotonic_now};
use crate::app::ports::PortSettings;
use crate::app::runtime;
use crate::config::Config;
use crate::core::Rules;

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

/// The configuration file read again off the loop: a SIGHUP starts a read
/// on a thread of its own (at most one at a time; a SIGHUP meanwhile reads
/// again after it), whose result wakes the loop through `woken`. The file,
/// and the programs it names on PATH, may be on a mount that hangs.
#[derive(Clone)]
pub(super) struct ConfigReader {
    path: Option<PathBuf>,
    shared: Arc<Mutex<ReadState>>,
    waker: Arc<UnixStream>,
}

#[derive(Default)]
struct ReadState {
    reading: bool,
    again: bool,
    read: Option<Result<Config, String>>,
}

impl ConfigReader {
    pub(super) fn new(path: Option<&Path>, waker: UnixStream) -> Self {
        ConfigReader {
            path: path.map(Path::to_path_buf),
            shared: Arc::default(),
            waker: Arc::new(waker),
        }
    }

    fn state(&self) -> MutexGuard<'_, ReadState> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A SIGHUP: reads the file on a thread (or again after the read under way).
    pub(super) fn start(&self) {
        let mut state = self.state();
        if state.reading {
            state.again = true;
            return;
        }
        state.reading = true;
        drop(state);
        let reader = self.clone();
        let spawned = std::thread::Builder::new()
            .name("config".into())
            .spawn(move || {
                let read = Config::load(reader.path.as_deref()).map_err(|e| e.to_string());
                let mut state = reader.state();
                state.read = Some(read);
                state.reading = false;
                drop(state);
                let _ = (&*reader.waker).write(&[1]);
            });
        if let Err(err) = spawned {
            let mut state = self.state();
            state.reading = false;
            state.read = Some(Err(format!("cannot start reading it: {err}")));
        }
    }

    /// Whether a read has come back, for the loop to apply.
    pub(super) fn has_read(&self) -> bool {
        self.state().read.is_some()
    }

    /// The read that came back, if any; a SIGHUP that came during it starts
    /// the next read.
    fn take(&self) -> Option<Result<Config, String>> {
        let mut state = self.state();
        let read = state.read.take();
        let again = std::mem::take(&mut state.again);
        drop(state);
        if again {
            self.start();
        }
        read
    }
}

/// The daemon's SIGHUP, once [`ConfigReader`] has read the file: what only
/// a restart applies is warned about, the rules checked, and each reload
/// answered for `rackpi-panel reload`.
pub(super) fn reloader<'a>(
    running: &'a Config,
    reader: ConfigReader,
    dry_run: bool,
) -> impl FnMut() -> Result<(Rules, PortSettings), String> + 'a {
    let mut reloads = 0u64;
    move || {
        let read = reader
            .take()
            .unwrap_or_else(|| Err("the configuration has not been read yet".into()));
        let outcome = read
            .and_then(|new| {
                if new.button != running.button
                    || new.led != running.led
                    || new.display != running.display
                {
                    log::warn!(
                        "changes to [button], [led] and [display] take effect after a restart"
                    );
                }
                if new.ups != running.ups {
                    log::warn!("changes to [ups] take effect after a restart");
                }
                if new.mqtt != running.mqtt {
                    log::warn!("changes to [mqtt] take effect after a restart");
                }
                runtime::rules_and_settings(&new)
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
