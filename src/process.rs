//! Runs a command as the panel runs every command — no shell, stdin from
//! /dev/null, its own process group killed whole at its time limit — with
//! its output read in the calling thread, so that no thread or descriptor
//! outlives a run, and with what it left behind, in its group or escaped
//! from it (`setsid … &`), killed and reaped.
//!
//! Escaped processes are found because the panel is their subreaper
//! ([`adopt_orphans`]): when their parent ends they become its children.
//! Each run marks its command's environment with a token of its own
//! ([`RUN_VARIABLE`]), which every descendant inherits, so one run kills
//! what it left and never another run's processes, nor what a power command
//! hands over to. A child is only ever reaped by its pid: the commands
//! being waited for are registered, and no other child's exit status is
//! taken.

use std::collections::HashSet;
use std::io::ErrorKind;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, Pid};

use crate::app::ports::PowerError;

mod output;
use output::Output;
#[cfg(test)]
use output::Tail;

/// How much of a command's stderr is kept: its last words explain a failure,
/// and this much fits the screen and one log line.
pub(crate) const STDERR_TAIL_BYTES: usize = 512;

/// How long to wait for the end of the output once the command is over. A
/// process left running (a power command's, which are kept) can hold the
/// pipes open for ever; they are then closed unread.
const OUTPUT_GRACE: Duration = Duration::from_secs(1);

/// How long the processes a run left behind may take to die once killed
/// (one stuck in the kernel, on a hung mount, may take longer: it is then
/// reaped by a later run).
const LEFTOVER_GRACE: Duration = Duration::from_secs(2);

/// How often a running command is checked for its exit while its output
/// is quiet.
const EXIT_CHECK: Duration = Duration::from_millis(50);

/// The environment variable that marks a run's processes (its value is the
/// run's own token); a command that clears its environment is not found.
pub(crate) const RUN_VARIABLE: &str = "RACKPI_PANEL_RUN";

/// Makes this process the reaper of the orphans of its descendants, so that
/// what a command started and left out of its group (`setsid sleep 600 &`)
/// becomes a child of the panel, to be found and killed. Without it (an old
/// kernel, a seccomp filter) such processes go to init and are out of reach.
pub(crate) fn adopt_orphans() {
    if let Err(err) = nix::sys::prctl::set_child_subreaper(true) {
        log::warn!("cannot become the subreaper of page commands ({err}): what a command leaves running outside its process group (setsid) is not killed");
    }
}

/// What a command that was started left behind.
#[derive(Debug)]
pub(crate) struct Finished {
    /// How it ended.
    pub ending: Ending,
    /// The first bytes of its standard output, as many as were asked for.
    pub stdout: Vec<u8>,
    /// The last line of its stderr that says something (empty after a
    /// success: it is only read to explain a failure).
    pub last_line: String,
    /// How many other processes of the run were killed once the command
    /// ended (with [`Leftovers::Kill`]) or at its timeout.
    pub killed: usize,
}

/// How a command run ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// It exited, or was killed by a signal it did not get from us.
    Exited(ExitStatus),
    /// Its time ran out: it was killed with its whole process group.
    TimedOut,
    /// Waiting for it failed: it was killed with its whole process group.
    WaitFailed(std::io::Error),
}

/// What becomes of the processes a command started and left running when it
/// exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leftovers {
    /// They are left alone (a power command may hand over to them).
    Keep,
    /// They are killed, in its group or escaped from it: a status command
    /// that leaves `sleep 300 &` behind would otherwise leave one more
    /// process at every run.
    Kill,
}

/// Runs `argv` — no shell, stdin from /dev/null, its own process group
/// killed whole after `timeout`, stderr bounded, the service's systemd
/// variables removed — keeping the first `stdout_limit` bytes of its
/// standard output (0: none, stdout is /dev/null). The rest of the output is
/// read and dropped, so a command that writes more is not killed by
/// SIGPIPE. Both pipes are read here, without helper threads, and closed
/// before returning. With [`Leftovers::Kill`], what the command left running
/// is killed and reaped. `Err` only when the command could not be started.
pub(crate) fn run_bounded(
    argv: &[String],
    timeout: Duration,
    stdout_limit: usize,
    leftovers: Leftovers,
) -> Result<Finished, PowerError> {
    let (program, args) = argv.split_first().ok_or(PowerError::NoCommand)?;
    let shown = argv.join(" ");
    let token = new_token(leftovers);
    let stdout = if stdout_limit > 0 {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .process_group(0)
        .env(RUN_VARIABLE, &token)
        // the service's own systemd channels are not the command's to use
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_PID")
        .env_remove("WATCHDOG_USEC");
    let mut child =
        spawn_registered(&mut command).map_err(|err| spawn_error(&shown, program, err))?;
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
    let mut output = Output::new(child.stdout.take(), child.stderr.take(), stdout_limit);
    let mut killed = HashSet::new();
    let deadline = Instant::now() + timeout;
    let ending = loop {
        match exited(&mut child, leftovers, &mut killed) {
            Ok(Some(status)) => break Ending::Exited(status),
            Ok(None) => {}
            Err(err) => {
                kill_group(&mut child, &mut killed);
                break Ending::WaitFailed(err);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            kill_group(&mut child, &mut killed);
            break Ending::TimedOut;
        }
        output.read(left.min(EXIT_CHECK));
    };
    forget(group);
    let killed_here = match leftovers {
        Leftovers::Kill => sweep(Some((&token, group)), killed),
        Leftovers::Keep => sweep(None, killed),
    };
    let success = matches!(&ending, Ending::Exited(status) if status.success());
    output.drain(Instant::now() + OUTPUT_GRACE, !success);
    let last_line = if success {
        String::new()
    } else {
        output.stderr_tail.last_line()
    };
    Ok(Finished {
        ending,
        stdout: output.head,
        last_line,
        killed: killed_here,
    })
}

/// A token no other run of this process has; the runs whose leftovers are
/// killed carry [`KILLED_RUNS`] after the pid, so that [`end_runs`] finds
/// them and leaves a power command's hand-over alone.
fn new_token(leftovers: Leftovers) -> String {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let kind = match leftovers {
        Leftovers::Kill => KILLED_RUNS,
        Leftovers::Keep => "",
    };
    format!(
        "{}.{kind}{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    )
}

/// What marks, in a token, a run whose leftovers are killed.
const KILLED_RUNS: &str = "k";

/// Kills what the runs of this process with [`Leftovers::Kill`] still have
/// running — a command cut off by the stop, what it left behind — so that
/// stopping the panel leaves none of them behind (they would go to init).
/// Returns how many were killed.
pub(crate) fn end_runs() -> usize {
    let prefix = format!("{RUN_VARIABLE}={}.{KILLED_RUNS}", std::process::id()).into_bytes();
    let mut killed = 0;
    for p in processes().iter().filter(|p| !p.zombie) {
        let marked = std::fs::read(format!("/proc/{}/environ", p.pid))
            .is_ok_and(|environ| environ.split(|&b| b == 0).any(|e| e.starts_with(&prefix)));
        if marked && kill(Pid::from_raw(p.pid), Signal::SIGKILL).is_ok() {
            killed += 1;
        }
    }
    if killed > 0 {
        log::info!("stopping: killed {killed} process(es) of page commands still running");
    }
    killed
}

/// The commands this process has started and not reaped yet, and how many
/// are being started: their exit status is their runner's, never taken by
/// [`sweep`].
struct Children {
    pids: Vec<i32>,
    spawning: usize,
}

static CHILDREN: Mutex<Children> = Mutex::new(Children {
    pids: Vec::new(),
    spawning: 0,
});

fn children() -> MutexGuard<'static, Children> {
    CHILDREN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts `command`, registered as a child only its runner reaps.
fn spawn_registered(command: &mut Command) -> std::io::Result<Child> {
    children().spawning += 1;
    let spawned = command.spawn();
    let mut children = children();
    children.spawning -= 1;
    if let Ok(child) = &spawned {
        children.pids.push(child.id() as i32);
    }
    spawned
}

/// The command `pid` has been reaped.
fn forget(pid: Pid) {
    children().pids.retain(|&p| p != pid.as_raw());
}

/// Whether the command has exited (reaped then); with [`Leftovers::Kill`]
/// its group is killed first, while the unreaped command still holds the
/// group's id, and what was in it is added to `killed`.
fn exited(
    child: &mut Child,
    leftovers: Leftovers,
    killed: &mut HashSet<i32>,
) -> std::io::Result<Option<ExitStatus>> {
    if leftovers == Leftovers::Kill {
        let pid = Pid::from_raw(i32::try_from(child.id()).map_err(std::io::Error::other)?);
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        match waitid(Id::Pid(pid), flags) {
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) => {
                killed.extend(group_members(pid));
                // (ESRCH: nothing was left in the group)
                let _ = killpg(pid, Signal::SIGKILL);
            }
            Err(err) => return Err(err.into()),
        }
    }
    child.try_wait()
}

/// Kills the command and everything in its process group (added to
/// `killed`), then reaps it.
fn kill_group(child: &mut Child, killed: &mut HashSet<i32>) {
    // The group's id is the child's pid, and cannot be reused before the
    // child is reaped below.
    if let Ok(pid) = i32::try_from(child.id()) {
        let pid = Pid::from_raw(pid);
        killed.extend(group_members(pid));
        if let Err(err) = killpg(pid, Signal::SIGKILL) {
            log::warn!("cannot kill process group {pid}: {err}");
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The live processes of group `group` other than its leader.
fn group_members(group: Pid) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.group == group.as_raw() && p.pid != group.as_raw() && !p.zombie)
        .map(|p| p.pid)
        .collect()
}

/// Kills and reaps what a run left behind, given its token and group
/// (`None`: kills nothing), with `killed` the processes already killed;
/// returns how many were killed in all. Children of ours that ended
/// unreaped and are no command being waited for (orphans adopted and dead)
/// are reaped too, each by its pid.
fn sweep(run: Option<(&str, Pid)>, mut killed: HashSet<i32>) -> usize {
    let me = getpid().as_raw();
    let marker = run.map(|(token, _)| format!("{RUN_VARIABLE}={token}").into_bytes());
    let group = run.map(|(_, group)| group.as_raw());
    let until = Instant::now() + LEFTOVER_GRACE;
    loop {
        let mut busy = false;
        let all = processes();
        let marked = |pid: i32| marker.as_deref().is_some_and(|m| has_marker(pid, m));
        // what is still in the group: forked after the first kill, or not
        // dead yet (the mark tells it from a group that reused the id)
        for p in all.iter().filter(|p| Some(p.group) == group && !p.zombie) {
            if killed.contains(&p.pid) || marked(p.pid) {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
                killed.insert(p.pid);
                busy = true;
            }
        }
        let registry = children();
        for p in all
            .iter()
            .filter(|p| p.parent == me && !registry.pids.contains(&p.pid))
        {
            if p.zombie {
                let ours = Some(p.group) == group || killed.contains(&p.pid);
                // an unknown child may be a command being started: left
                // to a later sweep then
                if ours || registry.spawning == 0 {
                    let _ = waitpid(Pid::from_raw(p.pid), Some(WaitPidFlag::WNOHANG));
                    busy = true;
                }
            } else if killed.contains(&p.pid) || marked(p.pid) {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
                killed.insert(p.pid);
                busy = true;
            }
        }
        drop(registry);
        if !busy || Instant::now() >= until {
            return killed.len();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether process `pid` was started with `marker` (`NAME=value`) in its
/// environment.
fn has_marker(pid: i32, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|environ| environ.split(|&b| b == 0).any(|entry| entry == marker))
}

/// A process as /proc/PID/stat shows it.
struct Process {
    pid: i32,
    parent: i32,
    group: i32,
    zombie: bool,
}

/// Every process this one can see.
fn processes() -> Vec<Process> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // after the name, which may hold spaces and parentheses:
            // state ppid pgrp …
            let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
            let state = fields.next()?;
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some(Process {
                pid,
                parent,
                group,
                zombie: state == "Z" || state == "X",
            })
        })
        .collect()
}

/// `exited with status 3`, `was killed by signal SIGTERM`.
pub(crate) fn describe_status(status: ExitStatus) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn running(pid: i32) -> bool {
        processes().iter().any(|p| p.pid == pid && !p.zombie)
    }

    #[test]
    fn a_run_kills_what_escaped_it_and_nothing_else() {
        adopt_orphans();
        let dir = tempfile::tempdir().unwrap();
        // a power command's hand-over (kept), and a command being waited for
        let handed_over = dir.path().join("handed-over");
        let script = format!(
            "setsid sh -c 'echo $$ > {}; exec sleep 60' &",
            handed_over.display()
        );
        run_bounded(
            &argv(&["sh", "-c", &script]),
            Duration::from_secs(5),
            0,
            Leftovers::Keep,
        )
        .unwrap();
        let waited = std::thread::spawn(|| {
            run_bounded(
                &argv(&["sh", "-c", "sleep 1; exit 7"]),
                Duration::from_secs(20),
                0,
                Leftovers::Keep,
            )
        });
        let mut killed = Vec::new();
        for _ in 0..5 {
            let run = run_bounded(
                &argv(&["sh", "-c", "setsid sleep 60 & echo hi"]),
                Duration::from_secs(5),
                16,
                Leftovers::Kill,
            )
            .unwrap();
            assert_eq!(run.stdout, b"hi\n");
            killed.push(run.killed);
        }
        let waited = waited.join().unwrap().unwrap();
        let kept: i32 = std::fs::read_to_string(&handed_over)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let kept_ran = running(kept);
        let _ = kill(Pid::from_raw(kept), Signal::SIGKILL);
        assert_eq!(killed, vec![1; 5], "each run killed its `setsid sleep 60`");
        assert!(
            matches!(waited.ending, Ending::Exited(status) if status.code() == Some(7)),
            "another run's exit status was taken: {:?}",
            waited.ending
        );
        assert!(kept_ran, "a power command's hand-over was killed");
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
}
