//! The custom pages' content: a `[[page]]` command run (no shell, its own
//! process group killed whole at its timeout, what it leaves behind killed,
//! output bounded), or a regular file read without ever blocking on a FIFO
//! or a device. Each page's refresh runs in its worker thread, never on the
//! loop; a refresh that does not answer in time (a hung mount) is shown as
//! an error. The result is made drawable here, so the layout only cuts
//! lines to the panel's width.

use std::collections::HashMap;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;

use crate::app::ports::{PageSource, PowerError};
use crate::config::{file_kind, PageConfig, PageOrigin as Source};
use crate::core::PageName;
use crate::linux::page_worker::{Alarm, Answer, Worker};
use crate::process::{describe_status, run_bounded, Ending, Leftovers};
use crate::stats::PageText;

/// How much of a command's output or a file is read: a page shows a few
/// lines of 21 characters, and a limit keeps a runaway command or a wrong
/// path (a log, a disk image) from costing memory.
pub(crate) const MAX_OUTPUT_BYTES: usize = 4096;

/// How many lines of the output are kept (a 128×64 panel shows 4).
pub(crate) const MAX_LINES: usize = 8;

/// How long a file may take to be read before the page says it has no
/// answer (a 1-wire sensor takes under a second; a hung NFS mount, ever).
pub(crate) const FILE_TIMEOUT: Duration = Duration::from_secs(2);

/// How much longer than its `timeout_s` a command's worker may take to
/// answer: the output's end and the leftovers' reaping are bounded too, but
/// starting the program (exec) can hang on a hung mount.
pub(crate) const COMMAND_ANSWER_GRACE: Duration = Duration::from_secs(5);

/// How many threads of workers a reload replaced may stay stuck in a
/// refresh (a hung mount) before no new worker starts.
const MAX_STUCK_REPLACED: usize = 4;

/// How long a refresh of a page that shows nothing yet is waited for, so
/// that a file page shows its content at once rather than `running...`.
const FIRST_ANSWER_WAIT: Duration = Duration::from_millis(50);

/// The content of every custom page, and the workers refreshing them.
pub struct CustomPages {
    sources: Vec<(PageName, Source)>,
    texts: HashMap<PageName, PageText>,
    /// Each page's worker, started at its first refresh.
    workers: HashMap<PageName, Worker>,
    /// Workers a reload replaced while they were inside a refresh: their
    /// threads end when it returns, which on a hung mount may be never.
    retiring: Vec<Arc<AtomicBool>>,
    /// Refreshes that ended, not yet reported by `poll`: the page, and
    /// whether its text changed.
    ended: Vec<(PageName, bool)>,
    sender: Sender<Answer>,
    answers: Receiver<Answer>,
    /// Gets a byte when a worker answers or is late, to wake the main loop.
    waker: Option<UnixStream>,
    /// Started with the first worker, when there is a waker.
    alarm: Option<Alarm>,
    refreshes: u64,
}

impl CustomPages {
    /// The pages of `pages` (already validated); `waker`, if any, gets a
    /// byte each time a refresh ends or is overdue.
    pub fn new(pages: &[PageConfig], waker: Option<UnixStream>) -> Self {
        let (sender, answers) = channel();
        let mut custom = CustomPages {
            sources: Vec::new(),
            texts: HashMap::new(),
            workers: HashMap::new(),
            retiring: Vec::new(),
            ended: Vec::new(),
            sender,
            answers,
            waker,
            alarm: None,
            refreshes: 0,
        };
        custom.set_pages(pages);
        custom
    }

    /// The pages from a reloaded configuration. What a page showed is kept
    /// while its command or file stays the same. A refresh under way for a
    /// page that changed is reported over (its answer will be dropped).
    pub(crate) fn set_pages(&mut self, pages: &[PageConfig]) {
        let sources: Vec<(PageName, Source)> = pages
            .iter()
            .filter_map(|page| Some((PageName::new(&page.name)?, page.origin())))
            .collect();
        self.texts
            .retain(|name, _| sources.iter().any(|(kept, _)| kept == name));
        for (name, source) in &sources {
            let before = self.sources.iter().find(|(old, _)| old == name);
            if before.is_some_and(|(_, old)| old != source) {
                self.texts.remove(name);
            }
        }
        let ended = &mut self.ended;
        let retiring = &mut self.retiring;
        self.workers.retain(|name, worker| {
            let kept = sources
                .iter()
                .any(|(page, source)| page == name && *source == worker.source);
            let still_a_page = sources.iter().any(|(page, _)| page == name);
            if !kept && still_a_page && worker.asked.is_some() {
                ended.push((*name, true));
            }
            if !kept {
                retiring.push(worker.in_refresh());
            }
            kept
        });
        self.sources = sources;
    }

    /// Waits, up to `limit`, until no refresh is under way (each answered
    /// or given up); what they return is reported by the next `poll`. For
    /// the simulator's virtual time, where a command takes no time at all.
    pub(crate) fn wait_idle(&mut self, limit: Duration) {
        self.wait_until(Instant::now() + limit, |pages| {
            !pages.workers.values().any(Worker::busy)
        });
    }

    /// Takes answers and gives up on late refreshes until `done` or `until`.
    fn wait_until(&mut self, until: Instant, done: impl Fn(&Self) -> bool) {
        loop {
            while let Ok(answer) = self.answers.try_recv() {
                self.take(answer);
            }
            let now = Instant::now();
            self.give_up_late(now);
            if done(self) || now >= until {
                return;
            }
            let next = self
                .workers
                .iter()
                .filter(|(_, worker)| worker.busy())
                .filter_map(|(name, worker)| Some(worker.asked?.at + self.answer_limit(*name)))
                .min()
                .map_or(until, |due| due.min(until));
            match self
                .answers
                .recv_timeout(next.saturating_duration_since(now))
            {
                Ok(answer) => self.take(answer),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    /// How long page `name`'s worker may take to answer.
    fn answer_limit(&self, name: PageName) -> Duration {
        match self.sources.iter().find(|(page, _)| *page == name) {
            Some((_, Source::Command { timeout, .. })) => *timeout + COMMAND_ANSWER_GRACE,
            _ => FILE_TIMEOUT,
        }
    }

    /// A worker's answer: shown if it is the one its page waits for; a late
    /// one (the page said it had no answer) is dropped, and the page may be
    /// refreshed again.
    fn take(&mut self, answer: Answer) {
        let Some(worker) = self.workers.get_mut(&answer.page) else {
            return;
        };
        let Some(asked) = worker.asked.filter(|asked| asked.refresh == answer.refresh) else {
            // from a worker a reload replaced: reported then
            return;
        };
        worker.asked = None;
        if asked.given_up {
            log::debug!("page {}: a late answer dropped", answer.page);
            self.ended.push((answer.page, false));
            return;
        }
        self.store(answer.page, answer.text);
    }

    /// Shows an error on each page whose refresh is overdue at `now`. Its
    /// worker stays busy with it: no other refresh is asked of it until it
    /// answers.
    fn give_up_late(&mut self, now: Instant) {
        let late: Vec<PageName> = self
            .workers
            .iter()
            .filter(|(name, worker)| {
                worker.busy()
                    && worker
                        .asked
                        .is_some_and(|asked| now >= asked.at + self.answer_limit(**name))
            })
            .map(|(name, _)| *name)
            .collect();
        for name in late {
            let limit = self.answer_limit(name);
            let Some(worker) = self.workers.get_mut(&name) else {
                continue;
            };
            if let Some(asked) = worker.asked.as_mut() {
                asked.given_up = true;
            }
            let what = match &worker.source {
                Source::File(path) => path.display().to_string(),
                Source::Command { argv, .. } => format!("`{}`", program_name(argv)),
            };
            let seconds = limit.as_secs_f64();
            self.store(
                name,
                PageText::Error(format!("no answer from {what} in {seconds} s")),
            );
        }
    }

    /// A refresh of `name` ended with `text`.
    fn store(&mut self, name: PageName, text: PageText) {
        // a page removed by a reload while it was refreshed
        if !self.sources.iter().any(|(page, _)| *page == name) {
            return;
        }
        let changed = self.texts.get(&name) != Some(&text);
        if changed {
            if let PageText::Error(reason) = &text {
                log::warn!("page {name}: {reason}");
            }
        }
        self.texts.insert(name, text);
        self.ended.push((name, changed));
    }

    /// The longest a refresh of any page can take before it is answered
    /// or given up.
    pub(crate) fn longest_refresh(&self) -> Duration {
        self.sources
            .iter()
            .map(|(name, _)| self.answer_limit(*name))
            .max()
            .unwrap_or_default()
    }

    /// The worker of `name` for `source`, started (or replaced, when the
    /// source changed) if need be.
    fn worker(&mut self, name: PageName, source: &Source) -> Result<&mut Worker, String> {
        if self
            .workers
            .get(&name)
            .is_none_or(|worker| worker.source != *source)
        {
            // the threads of replaced workers still stuck in a refresh (a
            // reload while a mount hangs) are bounded: past the limit no
            // new worker starts until one of them comes back
            self.retiring
                .retain(|inside| inside.load(Ordering::Acquire));
            if self.retiring.len() >= MAX_STUCK_REPLACED {
                return Err(format!(
                    "{} earlier reads or runs of replaced pages still hang: waiting for one to end",
                    self.retiring.len()
                ));
            }
            let waker = self.waker.as_ref().and_then(|w| w.try_clone().ok());
            let worker = Worker::start(
                name,
                source.clone(),
                self.sender.clone(),
                waker,
                refresh_text,
            )
            .map_err(|err| format!("cannot start a thread for the page: {err}"))?;
            self.workers.insert(name, worker);
        }
        if self.alarm.is_none() {
            if let Some(waker) = self.waker.as_ref().and_then(|w| w.try_clone().ok()) {
                match Alarm::start(waker) {
                    Ok(alarm) => self.alarm = Some(alarm),
                    Err(err) => log::warn!("cannot start the pages' alarm thread ({err}): a hung page is shown as such only at the next redraw"),
                }
            }
        }
        self.workers
            .get_mut(&name)
            .ok_or_else(|| "the page's worker is gone".to_string())
    }
}

/// What a worker does for one refresh of a page.
fn refresh_text(page: PageName, source: &Source) -> PageText {
    match source {
        Source::File(path) => file_text(path),
        Source::Command { argv, timeout } => {
            log::debug!("page {page}: running `{}`", argv.join(" "));
            let (text, killed) = command_run(argv, *timeout);
            if killed > 0 {
                let plural = if killed == 1 { "" } else { "es" };
                log::warn!("page {page}: killed {killed} process{plural} left behind");
            }
            text
        }
    }
}

impl PageSource for CustomPages {
    fn refresh(&mut self, name: PageName) {
        let Some((_, source)) = self.sources.iter().find(|(page, _)| *page == name) else {
            return;
        };
        let source = source.clone();
        self.refreshes += 1;
        let refresh = self.refreshes;
        let limit = self.answer_limit(name);
        let now = Instant::now();
        let worker = match self.worker(name, &source) {
            Ok(worker) => worker,
            Err(reason) => return self.store(name, PageText::Error(reason)),
        };
        // one refresh at a time: a late one is answered when it ends
        if worker.asked.is_some() {
            return;
        }
        if !worker.ask(refresh, now) {
            return self.store(name, PageText::Error("the page's worker is gone".into()));
        }
        if let Some(alarm) = &self.alarm {
            alarm.at(now + limit);
        }
        if matches!(source, Source::File(_)) && !self.texts.contains_key(&name) {
            self.wait_until(now + FIRST_ANSWER_WAIT, |pages| {
                pages
                    .workers
                    .get(&name)
                    .is_none_or(|worker| worker.asked.is_none())
            });
        }
    }

    fn poll(&mut self) -> Vec<(PageName, bool)> {
        while let Ok(answer) = self.answers.try_recv() {
            self.take(answer);
        }
        self.give_up_late(Instant::now());
        std::mem::take(&mut self.ended)
    }

    fn text(&self, name: PageName) -> PageText {
        self.texts.get(&name).cloned().unwrap_or(PageText::Pending {
            running: self.workers.get(&name).is_some_and(Worker::busy),
        })
    }

    fn reconfigure(&mut self, pages: &[PageConfig]) {
        self.set_pages(pages);
    }
}

/// The name a command is shown by: its program's file name.
fn program_name(argv: &[String]) -> String {
    argv.first()
        .map(|program| {
            Path::new(program)
                .file_name()
                .map_or(program.clone(), |name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

/// Runs `argv` and makes its output, or why there is none, a page.
pub(crate) fn command_text(argv: &[String], timeout: Duration) -> PageText {
    command_run(argv, timeout).0
}

/// [`command_text`], and how many processes the command left behind
/// (killed).
fn command_run(argv: &[String], timeout: Duration) -> (PageText, usize) {
    let program = program_name(argv);
    let finished = match run_bounded(argv, timeout, MAX_OUTPUT_BYTES, Leftovers::Kill) {
        Ok(finished) => finished,
        Err(err) => return (PageText::Error(spawn_reason(&program, &err)), 0),
    };
    let with_last_words = |what: String| match finished.last_line.as_str() {
        "" => what,
        line => format!("{what}: {line}"),
    };
    let text = match finished.ending {
        Ending::Exited(status) if status.success() => {
            PageText::Lines(drawable_lines(&finished.stdout))
        }
        Ending::Exited(status) => PageText::Error(with_last_words(format!(
            "`{program}` {}",
            describe_status(status)
        ))),
        Ending::TimedOut => PageText::Error(with_last_words(format!(
            "`{program}` timed out after {} s",
            timeout.as_secs_f64()
        ))),
        Ending::WaitFailed(err) => {
            PageText::Error(format!("`{program}` could not be waited for: {err}"))
        }
    };
    (text, finished.killed)
}

/// Why a command could not be started, in few words (the page is small;
/// the title says which page).
fn spawn_reason(program: &str, err: &PowerError) -> String {
    match err {
        PowerError::NotFound { .. } => format!("`{program}` not found"),
        PowerError::NoInterpreter { interpreter, .. } => {
            format!("`{program}`: its interpreter {interpreter} is not found")
        }
        PowerError::Denied { .. } => format!("`{program}` may not be run by this user"),
        other => other.to_string(),
    }
}

/// Reads the first [`MAX_OUTPUT_BYTES`] of a regular file as a page; a
/// FIFO, a device or a directory is refused without being opened for long.
pub(crate) fn file_text(path: &Path) -> PageText {
    let shown = path.display();
    let reason = |err: std::io::Error| match err.kind() {
        ErrorKind::NotFound => format!("no such file: {shown}"),
        ErrorKind::PermissionDenied => format!("{shown}: permission denied"),
        _ => format!("{shown}: {err}"),
    };
    let not_a_file = |file_type| format!("{shown} is {}, not a regular file", file_kind(file_type));
    // Checked before opening: opening a device has effects of its own.
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return PageText::Error(not_a_file(meta.file_type())),
        Ok(_) => {}
        Err(err) => return PageText::Error(reason(err)),
    }
    // O_NONBLOCK: a FIFO swapped in since the check cannot make us wait.
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
    {
        Ok(file) => file,
        Err(err) => return PageText::Error(reason(err)),
    };
    match file.metadata() {
        Ok(meta) if !meta.is_file() => return PageText::Error(not_a_file(meta.file_type())),
        Ok(_) => {}
        Err(err) => return PageText::Error(reason(err)),
    }
    let mut bytes = Vec::with_capacity(MAX_OUTPUT_BYTES);
    match file.take(MAX_OUTPUT_BYTES as u64).read_to_end(&mut bytes) {
        Ok(_) => PageText::Lines(drawable_lines(&bytes)),
        Err(err) => PageText::Error(reason(err)),
    }
}

/// The first [`MAX_LINES`] lines of `bytes` that say something, as the
/// panel's font can draw them: escape sequences (colours, cursor moves)
/// and control characters removed, a line redrawn with `\r` shown as it
/// ended, tabs as spaces, characters outside Latin-1 as `?`, trailing
/// blanks trimmed, blank lines left out.
pub(crate) fn drawable_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let text = without_escapes(&text);
    text.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let line = line.rsplit('\r').next().unwrap_or(line);
            line.chars()
                .filter_map(|c| match c {
                    '\t' => Some(' '),
                    c if c.is_control() => None,
                    ' '..='~' | '\u{a0}'..='\u{ff}' => Some(c),
                    _ => Some('?'),
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .filter(|line| !line.trim().is_empty())
        .take(MAX_LINES)
        .collect()
}

/// `text` without ANSI escape sequences: CSI (`ESC [ … final`), OSC
/// (`ESC ] … BEL` or `ESC \`), and two-character escapes.
fn without_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // a two-character escape, or a lone ESC at the end
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn script(dir: &Path, name: &str, body: &str) -> String {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    #[test]
    fn output_is_made_drawable() {
        let bytes = b"\x1b[1;32mOK\x1b[0m  healthy\r\n\n\tNode\tReady\n\
            progress 10%\rprogress 100%\n\x1b]0;title\x07caf\xc3\xa9 \xe2\x9c\x93 \x07bell\n   \n";
        assert_eq!(
            drawable_lines(bytes),
            vec![
                "OK  healthy",
                " Node Ready",
                "progress 100%",
                "caf\u{e9} ? bell"
            ]
        );
        let many: String = (1..=20).map(|n| format!("line {n}\n")).collect();
        assert_eq!(drawable_lines(many.as_bytes()).len(), MAX_LINES);
        assert!(drawable_lines(b"\xff\xfe\n").iter().all(|l| l == "??"));
    }

    #[test]
    fn a_command_page_shows_the_first_lines_of_stdout() {
        let text = command_text(
            &argv(&[
                "sh",
                "-c",
                "echo 'last backup 03:00'; echo ok; echo noise >&2",
            ]),
            Duration::from_secs(5),
        );
        assert_eq!(
            text,
            PageText::Lines(vec!["last backup 03:00".into(), "ok".into()])
        );
    }

    #[test]
    fn a_failing_command_shows_its_status_and_last_words() {
        let text = command_text(
            &argv(&[
                "sh",
                "-c",
                "echo partial; echo 'Fatal: repository locked' >&2; exit 1",
            ]),
            Duration::from_secs(5),
        );
        assert_eq!(
            text,
            PageText::Error("`sh` exited with status 1: Fatal: repository locked".into())
        );
    }

    // (under qemu-user a program that cannot be started exits 127 instead:
    // CI skips the tests named a_missing_program… there)
    #[test]
    fn a_missing_program_shows_not_found() {
        let text = command_text(&argv(&["/nonexistent/restic"]), Duration::from_secs(5));
        assert_eq!(text, PageText::Error("`restic` not found".into()));
    }

    #[test]
    fn a_hanging_command_is_killed_at_its_timeout() {
        let started = Instant::now();
        let text = command_text(&argv(&["sleep", "30"]), Duration::from_secs(1));
        assert_eq!(text, PageText::Error("`sleep` timed out after 1 s".into()));
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn what_a_command_leaves_running_in_its_group_is_killed_when_it_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left.pid");
        let leaves = script(
            dir.path(),
            "leaves",
            &format!(
                "sleep 300 & echo $! > {}; echo status ok",
                pid_file.display()
            ),
        );
        let started = Instant::now();
        let text = command_text(&argv(&[&leaves]), Duration::from_secs(5));
        let took = started.elapsed();
        assert_eq!(text, PageText::Lines(vec!["status ok".into()]));
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let gone = (0..100).any(|_| {
            // a killed child of the reaped shell is reaped by init: gone, or a zombie
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie_or_gone = state.is_empty() || state.contains(") Z");
            if !zombie_or_gone {
                std::thread::sleep(Duration::from_millis(20));
            }
            zombie_or_gone
        });
        if !gone {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        assert!(gone, "`sleep 300 &` outlived the page's command");
        assert!(
            took < Duration::from_millis(900),
            "waited for the pipe the leftover held: {took:?}"
        );
    }

    #[test]
    fn a_flood_of_output_is_bounded_and_does_not_fail_the_command() {
        let text = command_text(
            &argv(&["sh", "-c", "yes 'status line' | head -c 10000000; exit 0"]),
            Duration::from_secs(20),
        );
        assert_eq!(text, PageText::Lines(vec!["status line".into(); MAX_LINES]));
    }

    #[test]
    fn a_file_page_reads_a_regular_file_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status");
        std::fs::write(&file, "pi-hole: enabled\nblocked 12%\n").unwrap();
        assert_eq!(
            file_text(&file),
            PageText::Lines(vec!["pi-hole: enabled".into(), "blocked 12%".into()])
        );
        let missing = dir.path().join("missing");
        assert_eq!(
            file_text(&missing),
            PageText::Error(format!("no such file: {}", missing.display()))
        );
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let PageText::Error(reason) = file_text(&fifo) else {
            panic!("a FIFO was read");
        };
        assert!(reason.contains("FIFO"), "{reason}");
        let PageText::Error(reason) = file_text(Path::new("/dev/zero")) else {
            panic!("a device was read");
        };
        assert!(reason.contains("character device"), "{reason}");
    }

    #[test]
    fn a_reload_that_changes_a_command_while_it_runs_drops_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let page = |command: String| PageConfig {
            name: "status".into(),
            command: Some(vec![command]),
            file: None,
            every_s: None,
            timeout_s: None,
        };
        let old = script(dir.path(), "old", "sleep 0.5; echo old output");
        let new = script(dir.path(), "new", "echo new output");
        let mut custom = CustomPages::new(&[page(old)], None);
        let name = PageName::new("status").unwrap();
        custom.refresh(name);
        custom.set_pages(&[page(new)]);
        custom.wait_idle(Duration::from_secs(10));
        assert_eq!(custom.poll(), vec![(name, true)]);
        assert_eq!(
            custom.text(name),
            PageText::Pending { running: false },
            "the old command's output shown as the new one's"
        );
        custom.refresh(name);
        custom.wait_idle(Duration::from_secs(10));
        custom.poll();
        assert_eq!(
            custom.text(name),
            PageText::Lines(vec!["new output".into()])
        );
    }

    #[test]
    fn commands_run_in_the_background_and_wake_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        let slow = script(dir.path(), "slow", "sleep 1; echo done");
        let pages = [PageConfig {
            name: "slow".into(),
            command: Some(vec![slow]),
            file: None,
            every_s: None,
            timeout_s: None,
        }];
        let (waker, mut woken) = UnixStream::pair().unwrap();
        let mut custom = CustomPages::new(&pages, Some(waker));
        let name = PageName::new("slow").unwrap();
        assert_eq!(custom.text(name), PageText::Pending { running: false });
        let started = Instant::now();
        custom.refresh(name);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "refresh waited for the command"
        );
        assert_eq!(custom.text(name), PageText::Pending { running: true });
        custom.refresh(name);
        let mut byte = [0];
        woken.read_exact(&mut byte).unwrap();
        assert_eq!(custom.poll(), vec![(name, true)]);
        assert_eq!(custom.text(name), PageText::Lines(vec!["done".into()]));
        assert!(custom.poll().is_empty(), "started once, reported once");
        custom.refresh(name);
        custom.wait_idle(Duration::from_secs(10));
        assert_eq!(custom.poll(), vec![(name, false)], "the same output again");
    }
}
