//! The reboot and power-off commands: run without a shell, in a helper thread
//! with a time limit, the result reported back to the main loop.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use crate::app::ports::{PowerError, PowerPort};
use crate::config::PowerConfig;
use crate::core::PowerAction;
use crate::process::{describe_status, run_bounded, Ending, Leftovers};

/// How long a power command may take before it counts as failed.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `argv` to completion: `Ok` on exit status 0, otherwise why not.
///
/// The command runs in a process group of its own; after `timeout` the whole
/// group is killed, so nothing it started there outlives it. Its stderr is read to
/// the end (a closed pipe would kill a chatty command with SIGPIPE) and only
/// the last [`STDERR_TAIL_BYTES`](crate::process::STDERR_TAIL_BYTES) are kept
/// for the reason.
pub(crate) fn run_command(argv: &[String], timeout: Duration) -> Result<(), PowerError> {
    let finished = run_bounded(argv, timeout, 0, Leftovers::Keep)?;
    let what = match finished.ending {
        Ending::Exited(status) if status.success() => return Ok(()),
        Ending::Exited(status) => describe_status(status),
        Ending::TimedOut => format!(
            "did not finish within {} s and was stopped",
            timeout.as_secs_f64()
        ),
        Ending::WaitFailed(err) => format!("could not be waited for ({err}) and was stopped"),
    };
    Err(PowerError::Failed {
        command: argv.join(" "),
        ending: what,
        last_line: finished.last_line,
    })
}

/// Runs the configured commands (or only logs them, with `--dry-run`).
pub(crate) struct CommandPower {
    config: PowerConfig,
    dry_run: bool,
    timeout: Duration,
    sender: Sender<Result<(), PowerError>>,
    results: Receiver<Result<(), PowerError>>,
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

    /// Uses other commands from now on (configuration reload).
    fn reconfigure(&mut self, settings: &PowerConfig) {
        self.config = settings.clone();
    }

    fn poll(&mut self) -> Option<Result<(), PowerError>> {
        self.results.try_recv().ok()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::time::Instant;

    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn a_command_that_succeeds_is_ok() {
        assert!(matches!(
            run_command(&argv(&["true"]), COMMAND_TIMEOUT),
            Ok(())
        ));
    }

    #[test]
    fn a_failing_command_reports_its_status_and_last_words() {
        let err = run_command(
            &argv(&["sh", "-c", "echo 'Access denied' >&2; exit 3"]),
            COMMAND_TIMEOUT,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("exited with status 3"), "{err}");
        assert!(err.contains("Access denied"), "{err}");
        let err = run_command(&argv(&["false"]), COMMAND_TIMEOUT)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "`false` exited with status 1");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error_naming_it() {
        let err = run_command(
            &argv(&["/nonexistent/systemctl", "reboot"]),
            COMMAND_TIMEOUT,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("cannot start `/nonexistent/systemctl reboot`"),
            "{err}"
        );
        assert!(
            err.contains("`/nonexistent/systemctl` was not found"),
            "{err}"
        );
    }

    #[test]
    fn a_hanging_command_is_stopped_after_the_time_limit() {
        let err = run_command(&argv(&["sleep", "30"]), Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(err.contains("did not finish"), "{err}");
    }

    /// A process the test must not leave behind: killed on drop if alive.
    struct Stray(i32);

    impl Drop for Stray {
        fn drop(&mut self) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.0),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }

    fn read_pid(path: &std::path::Path) -> Stray {
        let text = std::fs::read_to_string(path).expect("the command wrote its pid");
        Stray(text.trim().parse().expect("a pid"))
    }

    /// Gone means no such process, or a zombie waiting for init to reap it.
    fn is_running(pid: i32) -> bool {
        use nix::errno::Errno;
        if nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
            return false;
        }
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(')').next().unwrap_or("").trim_start();
        !(stat.is_empty() || state.starts_with('Z') || state.starts_with('X'))
    }

    /// Waits (bounded) for a killed process to disappear; SIGKILL is
    /// delivered asynchronously, so the first look may be too early.
    fn disappears(pid: i32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !is_running(pid) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Runs `run_command` in a thread and gives up after a generous bound,
    /// so a command that hangs fails the test instead of hanging it.
    fn run_bounded(words: &[&str], timeout: Duration) -> Result<(), String> {
        try_run_bounded(words, timeout).expect("run_command returned")
    }

    fn try_run_bounded(
        words: &[&str],
        timeout: Duration,
    ) -> Result<Result<(), String>, std::sync::mpsc::RecvTimeoutError> {
        let argv = argv(words);
        let (sender, result) = channel();
        std::thread::spawn(move || {
            let _ = sender.send(run_command(&argv, timeout).map_err(|err| err.to_string()));
        });
        result.recv_timeout(Duration::from_secs(30))
    }

    #[test]
    fn a_script_whose_interpreter_is_missing_names_the_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("reboot.sh");
        std::fs::write(&script, "#!/nonexistent/interpreter -e\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let Err(err) = run_bounded(&[script.to_str().unwrap()], COMMAND_TIMEOUT) else {
            panic!("the script ran");
        };
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/interpreter") && text.contains("#!"),
            "{text}"
        );
        assert!(
            !text.contains("was not found; give its full path"),
            "{text}"
        );
    }

    #[test]
    fn the_command_does_not_inherit_the_services_notify_socket() {
        std::env::set_var("NOTIFY_SOCKET", "/run/systemd/notify");
        let result = run_bounded(
            &[
                "sh",
                "-c",
                "if [ -n \"$NOTIFY_SOCKET\" ]; then echo inherited >&2; exit 1; fi",
            ],
            COMMAND_TIMEOUT,
        );
        std::env::remove_var("NOTIFY_SOCKET");
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn a_chatty_command_that_succeeds_is_ok() {
        let result = run_bounded(
            &[
                "sh",
                "-c",
                "yes 'progress: still working' | head -c 1048576 >&2",
            ],
            COMMAND_TIMEOUT,
        );
        assert_eq!(result, Ok(()));
    }

    #[test]
    fn a_chatty_failing_command_reports_its_status_and_last_line_briefly() {
        let err = run_bounded(
            &[
                "sh",
                "-c",
                "yes 'progress: still working' | head -c 1048576 >&2; \
                 echo 'Failed to reboot: Access denied' >&2; echo >&2; exit 3",
            ],
            COMMAND_TIMEOUT,
        )
        .unwrap_err();
        assert!(err.contains("exited with status 3"), "{err}");
        assert!(err.ends_with("Failed to reboot: Access denied"), "{err}");
        assert!(err.len() <= 600, "{} bytes: {err}", err.len());
    }

    #[test]
    fn one_endless_stderr_line_is_cut_to_a_short_reason() {
        let err = run_bounded(
            &[
                "sh",
                "-c",
                "head -c 1048576 /dev/zero | tr '\\0' 'x' >&2; exit 4",
            ],
            COMMAND_TIMEOUT,
        )
        .unwrap_err();
        assert!(err.contains("exited with status 4"), "{err}");
        assert!(err.contains("xxxxxxxx"), "{err}");
        assert!(err.len() <= 600, "{} bytes", err.len());
    }

    #[test]
    fn a_signal_is_reported_by_name() {
        let err = run_bounded(&["sh", "-c", "kill -TERM $$"], COMMAND_TIMEOUT).unwrap_err();
        assert!(err.contains("killed by signal SIGTERM"), "{err}");
    }

    #[test]
    fn invalid_utf8_on_stderr_is_shown_lossily() {
        let err = run_bounded(
            &[
                "sh",
                "-c",
                "printf 'disk \\377\\376 on fire\\n' >&2; exit 2",
            ],
            COMMAND_TIMEOUT,
        )
        .unwrap_err();
        assert!(err.contains("exited with status 2"), "{err}");
        assert!(err.contains("disk \u{FFFD}\u{FFFD} on fire"), "{err}");
    }

    #[test]
    fn on_timeout_the_whole_process_group_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild.pid");
        let script = format!(
            "sleep 1000 & echo $! > '{}'; echo 'waiting for the lock' >&2; sleep 1000",
            pid_file.display()
        );
        let err = run_bounded(&["sh", "-c", &script], Duration::from_secs(1)).unwrap_err();
        let grandchild = read_pid(&pid_file);
        assert!(err.contains("did not finish within 1 s"), "{err}");
        assert!(err.contains("waiting for the lock"), "{err}");
        assert!(
            disappears(grandchild.0),
            "the grandchild {} survived the timeout",
            grandchild.0
        );
    }

    #[test]
    fn a_straggler_holding_stderr_does_not_hang_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("straggler.pid");
        // `setsid` puts the straggler out of reach of the group kill; it
        // keeps the stderr pipe open long after the command itself ended.
        let script = format!(
            "setsid sleep 1000 & echo $! > '{}'; echo 'no such unit' >&2; exit 5",
            pid_file.display()
        );
        let result = try_run_bounded(&["sh", "-c", &script], COMMAND_TIMEOUT);
        let _straggler = read_pid(&pid_file);
        let err = result.expect("run_command returned").unwrap_err();
        assert!(err.contains("exited with status 5"), "{err}");
        assert!(err.contains("no such unit"), "{err}");
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
        assert!(matches!(power.poll(), Some(Ok(()))));
        assert!(power.poll().is_none());
    }

    #[test]
    fn after_a_reload_the_new_commands_run() {
        let (waker, mut woken) = UnixStream::pair().unwrap();
        let failing = PowerConfig {
            reboot: argv(&["false"]),
            ..PowerConfig::default()
        };
        let mut power = CommandPower::new(failing, false, waker);
        power.reconfigure(&PowerConfig {
            reboot: argv(&["true"]),
            ..PowerConfig::default()
        });
        power.start(PowerAction::Reboot);
        let mut byte = [0];
        woken.read_exact(&mut byte).unwrap();
        assert!(matches!(power.poll(), Some(Ok(()))));
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
        assert!(matches!(power.poll(), Some(Ok(()))));
    }
}
