//! Custom pages (`[[page]]`) end to end: the real binary's simulator with a
//! configuration whose pages run real commands (small scripts in a temporary
//! directory) or read real files; the frames decoded from the I2C bytes are
//! compared with the layout of the text the page must show.

use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rackpi_panel::core::PageName;
use rackpi_panel::frame::Frame;
use rackpi_panel::layout;
use rackpi_panel::stats::PageText;

use crate::common;
use common::{assert_succeeded, events_of as events, named, BIN};

/// A scratch directory with scripts, a config and a scenario.
struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        Bench {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An executable `/bin/sh` script (the page's command; the daemon
    /// itself runs it without a shell).
    fn script(&self, name: &str, body: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.to_string_lossy().into_owned()
    }

    fn config(&self, text: &str) -> String {
        let path = self.path("config.toml");
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// The simulator's command line for `config` and `script`, events on
    /// stdout and frames in `frames/`.
    fn simulator(&self, config: &str, script: &str, virtual_time: bool) -> Command {
        let scenario = self.path("scenario.txt");
        std::fs::write(&scenario, script).unwrap();
        let frames = self.path("frames");
        let _ = std::fs::remove_dir_all(&frames);
        let mut command = Command::new(BIN);
        command.args([
            "simulate",
            "--fake-stats",
            "--config",
            config,
            "--events",
            "-",
        ]);
        command
            .arg("--frames")
            .arg(&frames)
            .arg("--script")
            .arg(&scenario);
        if virtual_time {
            command.arg("--virtual-time");
        }
        command
    }

    /// Runs the simulator with `config` and `script`, events on stdout and
    /// frames in `frames/`.
    fn simulate(&self, config: &str, script: &str, virtual_time: bool) -> Output {
        let out = self
            .simulator(config, script, virtual_time)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Every frame the panel showed, in order.
    fn frames(&self) -> Vec<Frame> {
        common::frames_in(&self.path("frames"))
    }
}

/// What the panel must show for page `name` with `text` (128×32).
fn expected(name: &str, text: PageText) -> Frame {
    layout::render_custom_page(PageName::new(name).unwrap(), text, (128, 32))
}

fn lines(lines: &[&str]) -> PageText {
    PageText::Lines(lines.iter().map(|l| l.to_string()).collect())
}

fn assert_shown(frames: &[Frame], want: &Frame) {
    assert!(
        frames.contains(want),
        "no frame shows\n{}\nframes:\n{}",
        want.to_ascii(),
        frames
            .iter()
            .map(Frame::to_ascii)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_command_page_shows_the_first_lines_the_command_prints() {
    let bench = Bench::new();
    let status = bench.script(
        "backup-status",
        "echo 'last backup 03:00'; printf '\\033[32mok\\033[0m, 41 MiB\\n'; echo third; echo fourth",
    );
    let config = bench.config(&format!(
        "[display]\npages = [\"info\", \"backup\"]\n\n[[page]]\nname = \"backup\"\ncommand = [\"{status}\"]\n"
    ));
    let out = bench.simulate(&config, "wait 1\npress 0.2\nwait 2\n", true);
    let ev = events(&out);
    let pages: Vec<&str> = named(&ev, "page")
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(pages, vec!["info", "backup"]);
    assert_shown(
        &bench.frames(),
        &expected("backup", lines(&["last backup 03:00", "ok, 41 MiB"])),
    );
}

#[test]
fn a_failing_command_shows_why_on_the_page() {
    let bench = Bench::new();
    let status = bench.script(
        "restic-status",
        "echo 'half a line'; echo 'Fatal: repository is locked' >&2; exit 3",
    );
    let config = bench.config(&format!(
        "[display]\npages = [\"backup\"]\n\n[[page]]\nname = \"backup\"\ncommand = [\"{status}\"]\n"
    ));
    bench.simulate(&config, "wait 2\n", true);
    assert_shown(
        &bench.frames(),
        &expected(
            "backup",
            PageText::Error(
                "`restic-status` exited with status 3: Fatal: repository is locked".into(),
            ),
        ),
    );
}

#[test]
fn a_file_page_shows_the_file_and_says_when_it_is_missing() {
    let bench = Bench::new();
    let file = bench.path("pihole-status");
    std::fs::write(&file, "Pi-hole blocking: on\n\nqueries 12345\n").unwrap();
    let missing = bench.path("nothing-here");
    let config = bench.config(&format!(
        "[display]\npages = [\"pihole\", \"gone\"]\n\n\
         [[page]]\nname = \"pihole\"\nfile = \"{}\"\n\n\
         [[page]]\nname = \"gone\"\nfile = \"{}\"\n",
        file.display(),
        missing.display()
    ));
    bench.simulate(&config, "wait 1\npress 0.2\nwait 1\n", true);
    let frames = bench.frames();
    assert_shown(
        &frames,
        &expected("pihole", lines(&["Pi-hole blocking: on", "queries 12345"])),
    );
    assert_shown(
        &frames,
        &expected(
            "gone",
            PageText::Error(format!("no such file: {}", missing.display())),
        ),
    );
}

/// How many times the counting command ran, in a run of `script`.
fn runs_of_counter(script: &str) -> usize {
    let bench = Bench::new();
    let count = bench.path("count");
    let counter = bench.script(
        "counter",
        &format!("echo run >> '{}'; echo counted", count.display()),
    );
    // the counter page is next after info: it runs while info is shown
    let config = bench.config(&format!(
        "[display]\npages = [\"info\", \"counter\"]\n\n\
         [[page]]\nname = \"counter\"\ncommand = [\"{counter}\"]\nevery_s = 2\ntimeout_s = 1\n"
    ));
    let out = bench.simulate(&config, script, true);
    assert_eq!(named(&events(&out), "screen_off").len(), 1, "{script}");
    std::fs::read_to_string(&count)
        .unwrap_or_default()
        .lines()
        .count()
}

#[test]
fn a_command_never_runs_while_the_screen_is_off() {
    // the screen goes off 15 s after the start
    let until_off = runs_of_counter("wait 20\n");
    // the dark panel still gets inputs (a message, a failed unit whose
    // LED blinks): none of them may run the command
    let much_later = runs_of_counter(
        "wait 20\nnotify info backup done\nwait 100\nunit fail a.service\nwait 100\n\
         unit ok a.service\nwait 380\n",
    );
    assert!(
        (5..=9).contains(&until_off),
        "every 2 s while the screen was on: {until_off} runs"
    );
    assert_eq!(
        until_off, much_later,
        "9 minutes of a dark screen ran the command"
    );
}

#[test]
fn a_hanging_command_is_killed_at_its_timeout_and_the_button_works_meanwhile() {
    let bench = Bench::new();
    let pid_file = bench.path("pid");
    let hang = bench.script(
        "hang",
        &format!("echo $$ > '{}'; sleep 30; echo never", pid_file.display()),
    );
    let config = bench.config(&format!(
        "[display]\npages = [\"slow\", \"info\"]\n\n\
         [[page]]\nname = \"slow\"\ncommand = [\"{hang}\"]\nevery_s = 10\ntimeout_s = 2\n"
    ));
    // real time: the command hangs while the button is pressed twice
    let out = bench.simulate(
        &config,
        "wait 0.5\npress 0.2\nwait 0.5\npress 0.2\nwait 2.6\n",
        false,
    );
    let ev = events(&out);
    let pages: Vec<(&str, u64)> = named(&ev, "page")
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["t_ms"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        pages.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        vec!["slow", "info", "slow"]
    );
    // each release turns the page at once, not when the command ends
    let releases: Vec<u64> = named(&ev, "release")
        .iter()
        .map(|e| e["t_ms"].as_u64().unwrap())
        .collect();
    assert_eq!(releases.len(), 2);
    for ((_, turned), released) in pages[1..].iter().zip(&releases) {
        assert!(
            turned.abs_diff(*released) < 300,
            "page at {turned} ms, release at {released} ms"
        );
    }
    assert!(
        releases[1] < 2_000,
        "second press done at {} ms",
        releases[1]
    );
    let frames = bench.frames();
    assert_shown(
        &frames,
        &expected("slow", PageText::Pending { running: true }),
    );
    assert_shown(
        &frames,
        &expected("slow", PageText::Error("`hang` timed out after 2 s".into())),
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        "the hanging command {pid} outlived its timeout"
    );
}

/// How many threads process `pid` has.
fn threads(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| tasks.count())
        .unwrap_or(0)
}

/// How many descriptors process `pid` has open.
fn descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| fds.count())
        .unwrap_or(0)
}

/// The children of process `pid`, zombies included.
fn children(pid: u32) -> usize {
    let parent = |stat: String| -> Option<u32> {
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| parent(stat.clone()) == Some(pid))
        .count()
}

/// Whether process `pid` runs (exists and is no zombie).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(')')?.1.trim_start().chars().next()? != 'Z'))
        .unwrap_or(false)
}

/// The pids a test's commands wrote to `file`, killed when dropped if the
/// panel left them running.
struct Recorded(PathBuf);

impl Recorded {
    fn pids(&self) -> Vec<i32> {
        std::fs::read_to_string(&self.0)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect()
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        for pid in self.pids() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn stopping_the_panel_while_a_command_runs_leaves_none_of_its_processes() {
    let bench = Bench::new();
    let strays = Recorded(bench.path("pids"));
    // the command is still running when the run ends, with a process of
    // its own outside its group
    let slow = bench.script(
        "slow",
        &format!(
            "setsid sleep 600 & echo $! >> '{}'; echo $$ >> '{}'; sleep 30",
            strays.0.display(),
            strays.0.display()
        ),
    );
    let config = bench.config(&format!(
        "[display]\ntimeout_s = 0\npages = [\"slow\"]\n\n\
         [[page]]\nname = \"slow\"\ncommand = [\"{slow}\"]\nevery_s = 60\ntimeout_s = 50\n"
    ));
    let out = bench
        .simulator(&config, "wait 2\n", false)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let pids = strays.pids();
    assert_eq!(pids.len(), 2, "the command and its stray: {log}");
    // SIGKILL is delivered at once, but the exit may take a moment
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|&p| alive(p)) && std::time::Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<i32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(
        left.is_empty(),
        "left running after the stop: {left:?}\n{log}"
    );
}

#[test]
fn a_command_that_leaves_a_process_outside_its_group_leaves_nothing_behind() {
    let bench = Bench::new();
    let strays = Recorded(bench.path("pids"));
    // each run leaves a process in a session of its own, holding the pipes
    // (`setsid` execs `sleep` in the background job: `$!` is the stray)
    let leaves = bench.script(
        "leaves",
        &format!(
            "setsid sleep 600 & echo $! >> '{}'; echo hi",
            strays.0.display()
        ),
    );
    let config = bench.config(&format!(
        "[display]\ntimeout_s = 0\npages = [\"leaves\"]\n\n\
         [[page]]\nname = \"leaves\"\ncommand = [\"{leaves}\"]\nevery_s = 2\ntimeout_s = 1\n"
    ));
    // real time: a run every 2 s
    let simulator = bench
        .simulator(&config, "wait 9\n", false)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = simulator.id();
    std::thread::sleep(Duration::from_millis(1500));
    let (threads_first, fds_first) = (threads(pid), descriptors(pid));
    std::thread::sleep(Duration::from_secs(6));
    let (threads_later, fds_later) = (threads(pid), descriptors(pid));
    let children_later = children(pid);
    let running_later = strays.pids().into_iter().filter(|&p| alive(p)).count();
    let out = simulator.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let runs = strays.pids();
    assert!(runs.len() >= 3, "{} runs in 9 s: {log}", runs.len());
    assert!(
        threads_later <= threads_first,
        "threads grew from {threads_first} to {threads_later} in 6 s"
    );
    assert!(
        fds_later <= fds_first,
        "open descriptors grew from {fds_first} to {fds_later} in 6 s"
    );
    assert!(children_later <= 1, "{children_later} children after 7.5 s");
    assert!(
        running_later <= 1,
        "{running_later} processes left behind after 7.5 s"
    );
    let left: Vec<i32> = runs.into_iter().filter(|&p| alive(p)).collect();
    assert!(left.is_empty(), "left running: {left:?}");
    assert!(
        log.contains("page leaves: killed 1 process left behind"),
        "{log}"
    );
}

/// Why there is no slow filesystem to test with.
enum NoSlowFs {
    /// The test's own tools are missing: CI installs them.
    NotInstalled(String),
    /// This machine cannot have one (no /dev/fuse, no right to mount).
    Unavailable(String),
}

/// A FUSE filesystem (tests/slow_fs.py) whose one file, `slow`, answers
/// each read only after a delay: a hung NFS mount. Unmounted when dropped,
/// which also ends the reads waiting on it.
struct SlowFs {
    server: std::process::Child,
    mount: PathBuf,
}

impl SlowFs {
    fn mount(at: &Path, delay_s: u32) -> Result<SlowFs, NoSlowFs> {
        let python = "/usr/bin/python3";
        let has_fusepy = Command::new(python)
            .args(["-c", "import fusepy"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if !has_fusepy {
            return Err(NoSlowFs::NotInstalled(format!(
                "{python} cannot import fusepy (apt install fuse3 python3-fusepy)"
            )));
        }
        if !Path::new("/dev/fuse").exists() {
            return Err(NoSlowFs::Unavailable("no /dev/fuse".into()));
        }
        std::fs::create_dir(at).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/slow_fs.py");
        let server = Command::new(python)
            .arg(script)
            .arg(at)
            .arg(delay_s.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut fs = SlowFs {
            server,
            mount: at.to_path_buf(),
        };
        let device = |path: &Path| std::fs::metadata(path).map(|m| m.dev()).ok();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if device(at) != device(at.parent().unwrap()) {
                return Ok(fs);
            }
            if fs.server.try_wait().unwrap().is_some() {
                let mut why = String::new();
                let _ = fs.server.stderr.take().unwrap().read_to_string(&mut why);
                return Err(NoSlowFs::Unavailable(format!("cannot mount: {why}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(NoSlowFs::Unavailable("not mounted after 10 s".into()))
    }

    /// The mount, or why not: a missing tool fails under CI (which installs
    /// it), anything else is skipped, loudly.
    fn mount_or_skip(at: &Path, delay_s: u32, test: &str) -> Option<SlowFs> {
        match SlowFs::mount(at, delay_s) {
            Ok(fs) => Some(fs),
            Err(NoSlowFs::NotInstalled(why)) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("{test}: {why}")
            }
            Err(NoSlowFs::NotInstalled(why) | NoSlowFs::Unavailable(why)) => {
                eprintln!("SKIPPED {test}: no slow filesystem to test with: {why}");
                None
            }
        }
    }

    fn file(&self) -> PathBuf {
        self.mount.join("slow")
    }
}

impl Drop for SlowFs {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

#[test]
fn a_file_that_hangs_says_so_and_the_button_works_meanwhile() {
    let bench = Bench::new();
    let Some(fs) = SlowFs::mount_or_skip(
        &bench.path("mnt"),
        30,
        "a_file_that_hangs_says_so_and_the_button_works_meanwhile",
    ) else {
        return;
    };
    let file = fs.file();
    let config = bench.config(&format!(
        "[display]\npages = [\"slow\", \"info\", \"system\"]\n\n\
         [[page]]\nname = \"slow\"\nfile = \"{}\"\n",
        file.display()
    ));
    // real time: each read of the file takes 30 s; releases at 3.7 s and 4.9 s
    let mut simulator = bench
        .simulator(
            &config,
            "wait 3.5\npress 0.2\nwait 1\npress 0.2\nwait 1.5\n",
            false,
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = simulator.id();
    std::thread::sleep(Duration::from_millis(2500));
    let threads_first = threads(pid);
    std::thread::sleep(Duration::from_millis(3500));
    let threads_later = threads(pid);
    // the read still hangs: unmounting ends it, and the simulator can exit
    let _ = simulator.try_wait();
    drop(fs);
    let out = simulator.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    let ev = events(&out);
    let pages: Vec<(&str, u64)> = named(&ev, "page")
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["t_ms"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        pages.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        vec!["slow", "info", "system"],
        "{log}"
    );
    for ((_, turned), released) in pages[1..].iter().zip([3_700, 4_900]) {
        assert!(
            turned.abs_diff(released) < 300,
            "page turned at {turned} ms, released at {released} ms"
        );
    }
    assert_shown(
        &bench.frames(),
        &expected(
            "slow",
            PageText::Error(format!("no answer from {} in 2 s", file.display())),
        ),
    );
    assert!(
        threads_later <= threads_first && threads_later <= 3,
        "threads: {threads_first} at 2.5 s, {threads_later} at 6 s"
    );
}

#[test]
fn reloads_that_replace_a_hung_file_page_leave_a_bounded_number_of_threads() {
    let bench = Bench::new();
    let Some(fs) = SlowFs::mount_or_skip(
        &bench.path("mnt"),
        60,
        "reloads_that_replace_a_hung_file_page_leave_a_bounded_number_of_threads",
    ) else {
        return;
    };
    // two names of the same hung file: each reload changes the page's source
    let link = bench.path("link");
    std::os::unix::fs::symlink(fs.file(), &link).unwrap();
    let with = |file: &Path| {
        format!(
            "[display]\ntimeout_s = 0\npages = [\"slow\", \"info\"]\n\n\
             [[page]]\nname = \"slow\"\nfile = \"{}\"\n",
            file.display()
        )
    };
    let config = bench.config(&with(&fs.file()));
    let simulator = bench
        .simulator(&config, "wait 16\n", false)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = simulator.id();
    std::thread::sleep(Duration::from_millis(1500));
    let threads_first = threads(pid);
    for i in 0..10 {
        let file = if i % 2 == 0 { link.clone() } else { fs.file() };
        std::fs::write(&config, with(&file)).unwrap();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGHUP,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(1200));
    }
    let threads_later = threads(pid);
    drop(fs);
    let out = simulator.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    // the worker of the page now, and at most 4 replaced ones still stuck
    assert!(
        threads_later <= threads_first + 4,
        "threads: {threads_first} before 10 reloads, {threads_later} after\n{log}"
    );
}

#[test]
fn render_draws_a_page_of_the_config_by_its_name() {
    let bench = Bench::new();
    let status = bench.script("k3s-status", "echo 'node1 Ready'; echo 'node2 NotReady'");
    let config = bench.config(&format!(
        "[display]\nsize = \"128x64\"\npages = [\"info\", \"k3s\"]\n\n\
         [[page]]\nname = \"k3s\"\ncommand = [\"{status}\"]\n"
    ));
    let png = bench.path("k3s.png");
    let out = Command::new(BIN)
        .args([
            "render",
            "--screen",
            "k3s",
            "--config",
            &config,
            "--out",
            png.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_succeeded(&out);
    let drawn =
        Frame::from_png(&std::fs::read(&png).unwrap(), rackpi_panel::sim::PNG_SCALE).unwrap();
    let want = layout::render_custom_page(
        PageName::new("k3s").unwrap(),
        lines(&["node1 Ready", "node2 NotReady"]),
        (128, 64),
    );
    assert_eq!(drawn, want, "{}", drawn.to_ascii());
    // a name that is neither a screen nor a page names both lists
    let out = Command::new(BIN)
        .args([
            "render", "--screen", "weather", "--config", &config, "--out",
        ])
        .arg(bench.path("x.png"))
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        message.contains("k3s") && message.contains("custom"),
        "{message}"
    );
}

#[test]
fn a_config_with_a_bad_page_is_refused_with_the_key_and_line() {
    let bench = Bench::new();
    let config = bench.config(
        "[display]\npages = [\"info\", \"backup\"]\n\n[[page]]\nname = \"backup\"\ncommand = [\"no-such-program-here\"]\n",
    );
    let out = Command::new(BIN)
        .args(["simulate", "--config", &config, "--script", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let message = String::from_utf8_lossy(&out.stderr);
    assert!(message.contains("line 6"), "{message}");
    assert!(message.contains("`page.command`"), "{message}");
    assert!(message.contains("no-such-program-here"), "{message}");
}
