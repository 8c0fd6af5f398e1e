//! The reboot and power-off commands: run without a shell, in a helper thread
//! with a time limit, the result reported back to the main loop.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use crate::config::PowerConfig;
use crate::core::PowerAction;
use crate::runtime::PowerPort;

/// How long a power command may take before it counts as failed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `argv` to completion: `Ok` on exit status 0, otherwise why not.
pub fn run_command(argv: &[String], timeout: Duration) -> Result<(), String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "no command configured".to_string())?;
    let shown = argv.join(" ");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start `{shown}`: {err}"))?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.take(64 * 1024).read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{shown}` did not finish within {} s and was stopped",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(format!("waiting for `{shown}`: {err}")),
        }
    };
    let output = reader.join().unwrap_or_default();
    if status.success() {
        return Ok(());
    }
    let last_line = output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let code = match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "was killed by a signal".to_string(),
    };
    if last_line.is_empty() {
        Err(format!("`{shown}` {code}"))
    } else {
        Err(format!("`{shown}` {code}: {last_line}"))
    }
}

/// Runs the configured commands (or only logs them, with `--dry-run`).
pub struct CommandPower {
    config: PowerConfig,
    dry_run: bool,
    timeout: Duration,
    sender: Sender<Result<(), String>>,
    results: Receiver<Result<(), String>>,
    waker: UnixStream,
}

impl CommandPower {
    /// `waker` gets a byte when a command finishes, to wake the main loop.
    pub fn new(config: PowerConfig, dry_run: bool, waker: UnixStream) -> Self {
        let (sender, results) = channel();
        CommandPower {
            config,
            dry_run,
            timeout: COMMAND_TIMEOUT,
            sender,
            results,
            waker,
        }
    }

    /// Uses other commands from now on (configuration reload).
    pub fn set_config(&mut self, config: PowerConfig) {
        self.config = config;
    }
}

impl PowerPort for CommandPower {
    fn start(&mut self, action: PowerAction) {
        let argv = match action {
            PowerAction::Reboot => self.config.reboot.clone(),
            PowerAction::Shutdown => self.config.shutdown.clone(),
        };
        if self.dry_run {
            log::warn!("dry run: would {} with `{}`", action.name(), argv.join(" "));
            let _ = self.sender.send(Ok(()));
            return;
        }
        log::warn!("{}: running `{}`", action.name(), argv.join(" "));
        let sender = self.sender.clone();
        let waker = self.waker.try_clone();
        let timeout = self.timeout;
        std::thread::spawn(move || {
            let _ = sender.send(run_command(&argv, timeout));
            if let Ok(mut waker) = waker {
                let _ = waker.write_all(&[1]);
            }
        });
    }

    fn poll(&mut self) -> Option<Result<(), String>> {
        self.results.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_command_that_succeeds_is_ok() {
        assert_eq!(run_command(&argv(&["true"]), COMMAND_TIMEOUT), Ok(()));
    }

    #[test]
    fn a_failing_command_reports_its_status_and_last_words() {
        let err = run_command(
            &argv(&["sh", "-c", "echo 'Access denied' >&2; exit 3"]),
            COMMAND_TIMEOUT,
        )
        .unwrap_err();
        assert!(err.contains("exited with status 3"), "{err}");
        assert!(err.contains("Access denied"), "{err}");
        let err = run_command(&argv(&["false"]), COMMAND_TIMEOUT).unwrap_err();
        assert_eq!(err, "`false` exited with status 1");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error_naming_it() {
        let err = run_command(
            &argv(&["/nonexistent/systemctl", "reboot"]),
            COMMAND_TIMEOUT,
        )
        .unwrap_err();
        assert!(
            err.contains("cannot start `/nonexistent/systemctl reboot`"),
            "{err}"
        );
    }

    #[test]
    fn a_hanging_command_is_stopped_after_the_time_limit() {
        let err = run_command(&argv(&["sleep", "30"]), Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
    }

    #[test]
    fn the_port_reports_the_result_and_wakes_the_loop() {
        let (waker, mut woken) = UnixStream::pair().unwrap();
        let config = PowerConfig {
            reboot: argv(&["false"]),
            shutdown: argv(&["true"]),
            ..PowerConfig::default()
        };
        let mut power = CommandPower::new(config, false, waker);
        power.start(PowerAction::Reboot);
        let mut byte = [0];
        woken.read_exact(&mut byte).unwrap();
        assert!(power.poll().unwrap().is_err());
        power.start(PowerAction::Shutdown);
        woken.read_exact(&mut byte).unwrap();
        assert_eq!(power.poll(), Some(Ok(())));
        assert_eq!(power.poll(), None);
    }

    #[test]
    fn dry_run_runs_nothing() {
        let (waker, _woken) = UnixStream::pair().unwrap();
        let config = PowerConfig {
            reboot: argv(&["/nonexistent/reboot"]),
            shutdown: argv(&["/nonexistent/poweroff"]),
            ..PowerConfig::default()
        };
        let mut power = CommandPower::new(config, true, waker);
        power.start(PowerAction::Reboot);
        assert_eq!(power.poll(), Some(Ok(())));
    }
}
