//! The reboot and power-off commands: run without a shell, in a helper thread
//! with a time limit, the result reported back to the main loop.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::config::PowerConfig;
use crate::core::PowerAction;
use crate::ports::{PowerError, PowerPort};

/// How long a power command may take before it counts as failed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of a command's stderr is kept: its last words explain a failure,
/// and this much fits the screen and one log line.
pub const STDERR_TAIL_BYTES: usize = 512;

/// How long to wait for the end of stderr once the command is over. A process
/// that left the command's group (`setsid`) can hold the pipe open for ever;
/// its reader thread is then left to finish whenever that process does.
const STDERR_GRACE: Duration = Duration::from_secs(1);

/// Runs `argv` to completion: `Ok` on exit status 0, otherwise why not.
///
/// The command runs in a process group of its own; after `timeout` the whole
/// group is killed, so nothing it started there outlives it. Its stderr is read to
/// the end (a closed pipe would kill a chatty command with SIGPIPE) and only
/// the last [`STDERR_TAIL_BYTES`] are kept for the reason.
pub fn run_command(argv: &[String], timeout: Duration) -> Result<(), PowerError> {
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

/// What a command that was started left behind.
#[derive(Debug)]
pub struct Finished {
    /// How it ended.
    pub ending: Ending,
    /// The first bytes of its standard output, as many as were asked for.
    pub stdout: Vec<u8>,
    /// The last line of its stderr that says something (empty after a
    /// success: it is only read to explain a failure).
    pub last_line: String,
}

/// Runs `argv` as [`run_command`] does — no shell, stdin from /dev/null,
/// its own process group killed whole after `timeout`, stderr bounded, the
/// service's systemd variables removed — keeping the first `stdout_limit`
/// bytes of its standard output (0: none, stdout is /dev/null). The rest of
/// the output is read and dropped, so a command that writes more is not
/// killed by SIGPIPE. With [`Leftovers::Kill`], what the command left
/// running in its group when it exited is killed too. `Err` only when the
/// command could not be started.
pub fn run_bounded(
    argv: &[String],
    timeout: Duration,
    stdout_limit: usize,
    leftovers: Leftovers,
) -> Result<Finished, PowerError> {
    let (program, args) = argv.split_first().ok_or(PowerError::NoCommand)?;
    let shown = argv.join(" ");
    let stdout = if stdout_limit > 0 {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .process_group(0)
        // the service's own systemd channels are not the command's to use
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_PID")
        .env_remove("WATCHDOG_USEC")
        .spawn()
        .map_err(|err| spawn_error(&shown, program, err))?;
    let tail = Arc::new(Mutex::new(Tail::new(STDERR_TAIL_BYTES)));
    let head = Arc::new(Mutex::new(Vec::<u8>::with_capacity(stdout_limit)));
    // Each reader drops its sender when its stream ends, which is what the
    // receiver waits for.
    let stderr_ended = child.stderr.take().map(|stream| {
        let tail = Arc::clone(&tail);
        read_in_background(stream, "command-stderr", &shown, move |chunk| {
            lock(&tail).push(chunk)
        })
    });
    let stdout_ended = child.stdout.take().map(|stream| {
        let head = Arc::clone(&head);
        read_in_background(stream, "command-stdout", &shown, move |chunk| {
            let mut head = lock(&head);
            let room = stdout_limit.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        })
    });
    let ending = wait_or_kill(&mut child, timeout, leftovers);
    let success = matches!(&ending, Ending::Exited(status) if status.success());
    let grace_until = Instant::now() + STDERR_GRACE;
    let wait_for = |ended: Option<Receiver<()>>| {
        if let Some(ended) = ended {
            let _ = ended.recv_timeout(grace_until.saturating_duration_since(Instant::now()));
        }
    };
    wait_for(stdout_ended);
    let last_line = if success {
        String::new()
    } else {
        wait_for(stderr_ended);
        lock(&tail).last_line()
    };
    let stdout = std::mem::take(&mut *lock(&head));
    Ok(Finished {
        ending,
        stdout,
        last_line,
    })
}

/// Reads `stream` to its end in a thread of its own, handing each chunk to
/// `keep`; the receiver returned sees its sender dropped when the stream
/// has ended (or the thread could not be started).
fn read_in_background(
    mut stream: impl Read + Send + 'static,
    name: &str,
    shown: &str,
    mut keep: impl FnMut(&[u8]) + Send + 'static,
) -> Receiver<()> {
    let (reading, ended) = channel::<()>();
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _reading = reading;
            let mut chunk = [0; 8192];
            loop {
                match stream.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => keep(&chunk[..n]),
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        });
    if let Err(err) = spawned {
        log::warn!("cannot read the output of `{shown}`: {err}");
    }
    ended
}

/// How a command run ended.
#[derive(Debug)]
pub enum Ending {
    /// It exited, or was killed by a signal it did not get from us.
    Exited(ExitStatus),
    /// Its time ran out: it was killed with its whole process group.
    TimedOut,
    /// Waiting for it failed: it was killed with its whole process group.
    WaitFailed(std::io::Error),
}

/// What becomes of the processes a command started in its group and left
/// running when it exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    /// They are left alone (a power command may hand over to them).
    Keep,
    /// They are killed with the group: a status command that leaves
    /// `sleep 300 &` behind would otherwise leave one more process, and a
    /// reader blocked on its pipe, at every run.
    Kill,
}

fn wait_or_kill(child: &mut Child, timeout: Duration, leftovers: Leftovers) -> Ending {
    let started = Instant::now();
    loop {
        match exited(child, leftovers) {
            Ok(Some(status)) => return Ending::Exited(status),
            Ok(None) if started.elapsed() >= timeout => {
                kill_group(child);
                return Ending::TimedOut;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(err) => {
                kill_group(child);
                return Ending::WaitFailed(err);
            }
        }
    }
}

/// Whether the command has exited (reaped then); with [`Leftovers::Kill`]
/// its group is killed first, while the unreaped command still holds the
/// group's id.
fn exited(child: &mut Child, leftovers: Leftovers) -> std::io::Result<Option<ExitStatus>> {
    if leftovers == Leftovers::Kill {
        let pid = i32::try_from(child.id()).map_err(std::io::Error::other)?;
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(Pid::from_raw(pid)), flags) {
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) => {
                // (ESRCH: nothing was left in the group)
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
            }
            Err(err) => return Err(err.into()),
        }
    }
    child.try_wait()
}

/// Kills the command and everything in its process group, then reaps it.
fn kill_group(child: &mut Child) {
    // The group's id is the child's pid, and cannot be reused before the
    // child is reaped below.
    if let Ok(pid) = i32::try_from(child.id()) {
        if let Err(err) = killpg(Pid::from_raw(pid), Signal::SIGKILL) {
            log::warn!("cannot kill process group {pid}: {err}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `exited with status 3`, `was killed by signal SIGTERM`.
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(number) => {
            let name = Signal::try_from(number)
                .map(|signal| signal.as_str().to_string())
                .unwrap_or_else(|_| number.to_string());
            let core = if status.core_dumped() {
                " (core dumped)"
            } else {
                ""
            };
            format!("was killed by signal {name}{core}")
        }
        None => format!("ended with {status}"),
    }
}

fn spawn_error(shown: &str, program: &str, error: std::io::Error) -> PowerError {
    let (command, program) = (shown.to_string(), program.to_string());
    match error.kind() {
        ErrorKind::NotFound => match interpreter_of(&program) {
            Some(interpreter) => PowerError::NoInterpreter {
                command,
                program,
                interpreter,
            },
            None => PowerError::NotFound { command, program },
        },
        ErrorKind::PermissionDenied => PowerError::Denied {
            command,
            program,
            error,
        },
        _ => PowerError::Spawn { command, error },
    }
}

/// What the `#!` line of an existing script names: exec(2) says "not found"
/// for a script whose interpreter is missing, though the script is there.
fn interpreter_of(program: &str) -> Option<String> {
    if !program.contains('/') {
        return None;
    }
    let mut head = [0u8; 256];
    let n = std::fs::File::open(program)
        .and_then(|mut file| std::io::Read::read(&mut file, &mut head))
        .ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = line.split(|&b| b == b'\n').next()?;
    let interpreter = String::from_utf8_lossy(line);
    interpreter.split_whitespace().next().map(str::to_string)
}

fn lock<T>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The last `limit` bytes of a stream; everything before is dropped as it
/// comes, so a command may write any amount.
struct Tail {
    bytes: VecDeque<u8>,
    limit: usize,
    /// The last byte dropped, if any: tells whether the kept bytes begin
    /// inside a line.
    before: Option<u8>,
}

impl Tail {
    fn new(limit: usize) -> Self {
        Tail {
            bytes: VecDeque::new(),
            limit,
            before: None,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        self.bytes.extend(chunk);
        let excess = self.bytes.len().saturating_sub(self.limit);
        if excess > 0 {
            self.before = self.bytes.drain(..excess).next_back();
        }
    }

    /// The last line that says something, trimmed, on one line. A line that
    /// began before the kept bytes is marked with `...`.
    fn last_line(&mut self) -> String {
        let bytes = self.bytes.make_contiguous();
        let mut start = 0;
        if self.before.is_some() {
            // The cut may have split a character: start at the next one.
            while start < 3 && bytes.get(start).is_some_and(|b| b & 0xC0 == 0x80) {
                start += 1;
            }
        }
        let text = String::from_utf8_lossy(&bytes[start..]);
        // `\r` too: progress bars redraw a line with it.
        let lines: Vec<&str> = text.split(['\n', '\r']).collect();
        let Some(index) = lines.iter().rposition(|l| !l.trim().is_empty()) else {
            return String::new();
        };
        let line: String = lines[index]
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let began_before = index == 0 && self.before.is_some_and(|b| b != b'\n' && b != b'\r');
        if began_before {
            format!("...{line}")
        } else {
            line
        }
    }
}

/// Runs the configured commands (or only logs them, with `--dry-run`).
pub struct CommandPower {
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

    fn poll(&mut self) -> Option<Result<(), PowerError>> {
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
    fn the_kept_tail_starts_on_a_whole_character() {
        let mut tail = Tail::new(5);
        // 8 bytes; the last 5 begin inside the first euro sign.
        tail.push("xx\u{20AC}".as_bytes());
        tail.push("\u{20AC}".as_bytes());
        assert_eq!(tail.last_line(), "...\u{20AC}");
        let mut tail = Tail::new(8);
        tail.push("old line\nabc\u{20AC}\n\n".as_bytes());
        assert_eq!(
            tail.last_line(),
            "abc\u{20AC}",
            "a whole line is not marked"
        );
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
