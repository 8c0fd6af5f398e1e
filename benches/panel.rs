//! Benchmarks of rackpi-panel, printed as figures (not timed assertions).
//!
//!     cargo bench --bench panel                    # 60 s real-time runs
//!     RACKPI_BENCH_SECONDS=10 cargo bench --bench panel
//!
//! The daemon's costs are measured on the simulator, which runs the same
//! loop, core, layout and ssd1306 driver as `run`, as a child process
//! (CPU seconds and peak RSS from the kernel's rusage), plus in-process
//! timings of a refresh and of a wake-up.

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use embedded_hal::i2c::{ErrorType, I2c, Operation};
use rackpi_panel::app::ports::{
    BusOpener, DisplayFault, DisplayPort, Inputs, Reporter, StatsSource, Wake,
};
use rackpi_panel::app::runtime::{self, Ports};
use rackpi_panel::config::Config;
use rackpi_panel::core::{Event, PageKind, Rules, Time, View};
use rackpi_panel::frame::Frame;
use rackpi_panel::layout;
use rackpi_panel::linux::display::{PanelSettings, Ssd1306Port};
use rackpi_panel::linux::pages::CustomPages;
use rackpi_panel::linux::stats::SystemStats;
use rackpi_panel::sim::{Nack, SimBus, SimClock, SimLed, SimPower};
use rackpi_panel::stats::Stats;

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// The old infoscreen.py, as published: a full 513-byte frame about 18 times
/// a second even while the screen is "off", on a 100 kHz bus. These are
/// cited, not measured by this benchmark (the script needs a Pi and its
/// Python libraries), and printed as such.
const OLD_BYTES_PER_S: f64 = 513.0 * 18.0;
const OLD_CPU_SHARE: (f64, f64) = (0.02, 0.03);

/// Where cargo puts builds: `CARGO_TARGET_DIR` if set, else `target/`.
fn target_dir() -> std::path::PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => Path::new(env!("CARGO_MANIFEST_DIR")).join(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
    }
}

fn seconds() -> u64 {
    std::env::var("RACKPI_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

struct ChildRun {
    wall: Duration,
    cpu: Duration,
    memory: Memory,
    stderr: String,
    i2c_log: String,
}

fn children_usage() -> (Duration, i64) {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    let tv =
        |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    (tv(u.user_time()) + tv(u.system_time()), u.max_rss())
}

/// Runs `simulate` in a child process and measures it.
fn simulate(config: &str, script: &str, extra: &[&str]) -> ChildRun {
    simulate_with(Path::new(BIN), config, script, extra)
}

/// The same with another build of the binary.
fn simulate_with(bin: &Path, config: &str, script: &str, extra: &[&str]) -> ChildRun {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let script_path = dir.path().join("script.txt");
    std::fs::write(&script_path, script).unwrap();
    let log = dir.path().join("i2c.log");
    let (cpu_before, _) = children_usage();
    let start = Instant::now();
    let mut child = Command::new(bin)
        .args(["simulate", "--config"])
        .arg(&config_path)
        .arg("--script")
        .arg(&script_path)
        .arg("--i2c-log")
        .arg(&log)
        .args(extra)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // the child's own memory, read from /proc while it runs
    let status_path = format!("/proc/{}/status", child.id());
    let mut memory = Memory::default();
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            memory = Memory::parse(&text).unwrap_or(memory);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (cpu_after, _) = children_usage();
    ChildRun {
        wall,
        cpu: cpu_after - cpu_before,
        memory,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        i2c_log: std::fs::read_to_string(&log).unwrap(),
    }
}

/// Peak resident memory and its private (anonymous) and file-backed parts, KiB.
#[derive(Debug, Default, Clone, Copy)]
struct Memory {
    peak_rss: u64,
    anon: u64,
    file: u64,
}

impl Memory {
    fn parse(status: &str) -> Option<Memory> {
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        };
        Some(Memory {
            peak_rss: field("VmHWM:")?,
            anon: field("RssAnon:")?,
            file: field("RssFile:")?,
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} KiB peak RSS, of which {} KiB private (heap, stacks) and {} KiB file pages shared with other processes (libc, the binary)",
            self.peak_rss, self.anon, self.file
        )
    }
}

fn wakeups(stderr: &str) -> u64 {
    stderr
        .split(", ")
        .find_map(|part| {
            part.strip_suffix(" wake-ups")
                .or_else(|| part.strip_suffix(" wake-ups\n"))
        })
        .and_then(|n| n.trim().parse().ok())
        .or_else(|| {
            stderr
                .lines()
                .find(|l| l.contains("wake-ups"))
                .and_then(|l| l.rsplit(", ").next())
                .and_then(|p| p.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// (transactions, bytes) in the I2C log with T_MS in `from..to`.
fn traffic(log: &str, from: u64, to: u64) -> (u64, u64) {
    let mut transactions = 0;
    let mut bytes = 0;
    for line in log.lines() {
        let mut fields = line.split(' ');
        let t: u64 = fields.next().unwrap().parse().unwrap();
        if (from..to).contains(&t) {
            transactions += 1;
            bytes += fields.count() as u64 - 1;
        }
    }
    (transactions, bytes)
}

fn idle_screen_off(secs: u64) {
    let musl = target_dir().join("x86_64-unknown-linux-musl/release/rackpi-panel");
    let mut builds = vec![("glibc, dynamic", Path::new(BIN).to_path_buf())];
    if musl.exists() {
        builds.push(("musl, static", musl));
    }
    for (build, bin) in builds {
        // this machine's real figures, as the daemon collects them
        let run = simulate_with(
            &bin,
            "[display]\ntimeout_s = 1\n",
            &format!("wait {}\n", secs + 1),
            &[],
        );
        let (tx, bytes) = traffic(&run.i2c_log, 1_001, u64::MAX);
        let wakes = wakeups(&run.stderr);
        println!("## Idle, screen off, {secs} s (real time; {build} build)");
        println!(
            "- CPU time: {:.3} s ({:.4} % of one core), whole process including start-up",
            run.cpu.as_secs_f64(),
            run.cpu.as_secs_f64() * 100.0 / run.wall.as_secs_f64()
        );
        println!(
            "- wake-ups: {wakes} in {} s, including the first second with the screen on",
            secs + 1
        );
        println!("- I2C after the display-off: {tx} transactions, {bytes} bytes (goal 0)");
        println!(
            "- memory: {} (goal <= 3072 KiB peak RSS)",
            run.memory.describe()
        );
        println!(
            "- old script while \"off\" (cited, not measured): {:.0} bytes/s; here 0 bytes/s",
            OLD_BYTES_PER_S
        );
        println!();
    }
}

/// SPEC §8: following units, messages and a custom page cost nothing while
/// nothing happens: no wake-ups of their own and no I2C once the screen is
/// off (virtual time, so the figures are exact and repeatable).
fn idle_with_attention() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let command = dir.path().join("status");
    std::fs::write(
        &command,
        format!("#!/bin/sh\necho run >> {}\necho all good\n", runs.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        &command,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let config = format!(
        "[display]\ntimeout_s = 15\npages = [\"info\", \"status\"]\n\
         [[page]]\nname = \"status\"\ncommand = [\"{}\"]\n",
        command.display()
    );
    let command_runs = |script: &str| {
        let _ = std::fs::remove_file(&runs);
        let run = simulate(&config, script, &["--virtual-time", "--fake-stats"]);
        let count = std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count();
        (run, count)
    };
    // what the first 15 s (screen on, nothing else happening) run
    let (_, until_off) = command_runs("wait 15\n");
    println!("## Idle with attention and a custom page on, 120 s (virtual time)");
    println!(
        "Screen timeout 15 s; a [[page]] command page second in display.pages \
         (run {until_off} time(s) in the first 15 s, screen on)."
    );
    println!(
        "| scenario | wake-ups in 120 s | I2C writes after 15 s | page command runs after 15 s |"
    );
    println!("|---|---|---|---|");
    for (scenario, script) in [
        ("nothing happens", "wait 120\n"),
        (
            "a unit fails at 20 s and recovers at 21 s",
            "wait 20\nunit fail backup.service\nwait 1\nunit ok backup.service\nwait 99\n",
        ),
        (
            "an info and an error message at 20 s, never acknowledged",
            "wait 20\nnotify info hello\nnotify error restic: backup failed\nwait 100\n",
        ),
    ] {
        let (run, count) = command_runs(script);
        let (tx, _) = traffic(&run.i2c_log, 15_001, u64::MAX);
        println!(
            "| {scenario} | {} | {tx} | {} |",
            wakeups(&run.stderr),
            count - until_off
        );
    }
    println!();
}

fn screen_on(secs: u64) {
    let run = simulate("[display]\ntimeout_s = 0\n", &format!("wait {secs}\n"), &[]);
    let (first_tx, first_bytes) = traffic(&run.i2c_log, 0, 1);
    let (tx, bytes) = traffic(&run.i2c_log, 1, u64::MAX);
    let refreshes = secs.saturating_sub(1).max(1);
    let cpu_share = run.cpu.as_secs_f64() / run.wall.as_secs_f64();
    println!("## Screen on, {secs} s at 1 Hz refresh, this machine's real figures (real time)");
    println!(
        "- CPU time: {:.3} s ({:.3} % of one core)",
        run.cpu.as_secs_f64(),
        cpu_share * 100.0
    );
    println!("- wake-ups: {}", wakeups(&run.stderr));
    println!("- start-up (init + first full frame): {first_tx} transactions, {first_bytes} bytes");
    println!(
        "- refreshes: {tx} transactions, {bytes} bytes over {refreshes} refreshes = {:.1} bytes per refresh",
        bytes as f64 / refreshes as f64
    );
    println!("- memory: {}", run.memory.describe());
    println!(
        "- old script (cited, not measured): {:.1}-{:.1} % of an x86 core, {:.0} bytes/s; here {:.3} % and {:.1} bytes/s",
        OLD_CPU_SHARE.0 * 100.0,
        OLD_CPU_SHARE.1 * 100.0,
        OLD_BYTES_PER_S,
        cpu_share * 100.0,
        bytes as f64 / refreshes as f64
    );
    println!();
}

fn frame_bytes() {
    let config = Config::default();
    let bus = SimBus::new(0x3c, SimClock::new(true));
    let mut port = Ssd1306Port::new(bus.clone(), PanelSettings::from_config(&config));
    let before = bus.state().counters.bytes;
    port.init().unwrap();
    let init = bus.state().counters.bytes - before;
    let view = View::Page {
        page: PageKind::Info,
        shift: (0, 0),
    };
    let mut stats = Stats::sample();
    let mut frame = Frame::new(128, 32);
    let sent = |port: &mut Ssd1306Port<SimBus>, frame: &Frame| {
        let before = bus.state().counters.bytes;
        port.show(frame).unwrap();
        bus.state().counters.bytes - before
    };
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let full = sent(&mut port, &frame);
    stats.cpu_percent = Some(4.0);
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let one_digit = sent(&mut port, &frame);
    stats.cpu_percent = Some(47.0);
    stats.mem_percent = 13.0;
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let two_numbers = sent(&mut port, &frame);
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let unchanged = sent(&mut port, &frame);
    println!("## I2C bytes per update (128x32 info page; bytes after the address, control bytes included)");
    println!("- init sequence: {init} bytes");
    println!("- full frame: {full} bytes");
    println!(
        "- CPU 3% -> 4% (one digit): {one_digit} bytes ({:.1} % of a full frame)",
        one_digit as f64 * 100.0 / full as f64
    );
    println!(
        "- CPU 4% -> 47% and MEM 12% -> 13%: {two_numbers} bytes ({:.1} %)",
        two_numbers as f64 * 100.0 / full as f64
    );
    println!("- unchanged frame: {unchanged} bytes");
    println!(
        "- on a 100 kHz bus (9 bit times per byte): full frame {:.1} ms, one digit {:.1} ms",
        full as f64 * 0.09,
        one_digit as f64 * 0.09
    );
    println!();
}

fn refresh_cost() {
    let config = Config::default();
    let bus = SimBus::new(0x3c, SimClock::new(true));
    let mut port = Ssd1306Port::new(bus, PanelSettings::from_config(&config));
    port.init().unwrap();
    let mut system = SystemStats::new("", std::path::Path::new("/sys"));
    let view = View::Page {
        page: PageKind::Info,
        shift: (0, 0),
    };
    let mut frame = Frame::new(128, 32);
    let n = 300;
    let (mut t_stats, mut t_layout, mut t_send) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for _ in 0..n {
        let a = Instant::now();
        let stats = system.sample(PageKind::Info);
        let b = Instant::now();
        let Ok(()) = layout::draw(&mut frame, &stats, &view);
        let c = Instant::now();
        port.show(&frame).unwrap();
        let d = Instant::now();
        t_stats += b - a;
        t_layout += c - b;
        t_send += d - c;
    }
    let us = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("## Time per refresh (mean of {n}, this machine)");
    println!(
        "- stats (sysinfo CPU + memory, hostname, IP lookup): {:.1} us",
        us(t_stats)
    );
    println!(
        "- layout (draw the page into a frame): {:.1} us",
        us(t_layout)
    );
    println!(
        "- diff + driver (to the simulated bus, no wire time): {:.1} us",
        us(t_send)
    );
    println!();
}

/// An I2C bus that notes when the display-on command passes.
#[derive(Clone)]
struct TimingBus {
    inner: SimBus,
    display_on_at: Rc<RefCell<Vec<Instant>>>,
}

impl ErrorType for TimingBus {
    type Error = Nack;
}

impl I2c for TimingBus {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        let is_on = operations
            .iter()
            .any(|op| matches!(op, Operation::Write(b) if *b == [0x00, 0xAF]));
        let result = self.inner.transaction(address, operations);
        if is_on {
            self.display_on_at.borrow_mut().push(Instant::now());
        }
        result
    }
}

impl BusOpener for TimingBus {
    type Bus = TimingBus;
    fn open(&mut self) -> Result<Self::Bus, DisplayFault> {
        Ok(self.clone())
    }
}

/// Presses every 20 s (the screen has timed out by then), in virtual time,
/// noting when each debounce deadline is handed to the loop.
struct PressInputs {
    now: Duration,
    remaining: u32,
    queue: std::collections::VecDeque<(Duration, bool)>,
    commit_at: Option<Duration>,
    woken_at: Rc<RefCell<Vec<Instant>>>,
    debounce: Duration,
}

impl Inputs for PressInputs {
    fn now(&mut self) -> Time {
        self.now
    }
    fn button_pressed(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }
    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        if self.queue.is_empty() {
            if self.remaining == 0 {
                return Ok(Wake::Stop);
            }
            self.remaining -= 1;
            let t = self.now + Duration::from_secs(20);
            self.queue.push_back((t, true));
            self.queue
                .push_back((t + Duration::from_millis(100), false));
        }
        let (t, level) = *self.queue.front().unwrap();
        if let Some(d) = deadline.filter(|&d| d < t) {
            self.now = d;
            if self.commit_at == Some(d) {
                self.commit_at = None;
                self.woken_at.borrow_mut().push(Instant::now());
            }
            return Ok(Wake::Deadline);
        }
        self.queue.pop_front();
        self.now = t;
        if level {
            self.commit_at = Some(t + self.debounce);
        }
        Ok(Wake::Button {
            pressed: level,
            at: t,
        })
    }
}

struct NoReport;
impl Reporter for NoReport {
    fn event(&mut self, _: Time, _: &Event) {}
}

fn press_latency() {
    let config = Config::default();
    let timings = Rules::default();
    let on_at = Rc::new(RefCell::new(Vec::new()));
    let woken_at = Rc::new(RefCell::new(Vec::new()));
    let bus = TimingBus {
        inner: SimBus::new(0x3c, SimClock::new(true)),
        display_on_at: on_at.clone(),
    };
    let mut display = Ssd1306Port::new(bus, PanelSettings::from_config(&config));
    let mut stats = SystemStats::new("", std::path::Path::new("/sys"));
    let n = 200;
    let mut inputs = PressInputs {
        now: Duration::ZERO,
        remaining: n,
        queue: Default::default(),
        commit_at: None,
        woken_at: woken_at.clone(),
        debounce: timings.debounce,
    };
    runtime::run(
        Ports {
            inputs: &mut inputs,
            display: &mut display,
            led: &mut SimLed::default(),
            power: &mut SimPower::default(),
            stats: &mut stats,
            pages: &mut CustomPages::new(&[], None),
            reporter: &mut NoReport,
            reload: None,
            broker: None,
        },
        timings,
    )
    .unwrap();
    let on = on_at.borrow();
    let woken = woken_at.borrow();
    // the first display-on is the start-up; then one per press
    let mut latencies: Vec<Duration> = woken
        .iter()
        .filter_map(|w| on.iter().find(|o| *o >= w).map(|o| *o - *w))
        .collect();
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() - 1) * p / 100].as_secs_f64() * 1e3;
    println!(
        "## Press -> display-on command (after the {} ms debounce; {} presses)",
        timings_debounce_ms(),
        latencies.len()
    );
    println!("- from the debounced edge to 0xAF on the bus: median {:.3} ms, p99 {:.3} ms, max {:.3} ms (goal <= 30 ms)", pct(50), pct(99), pct(100));
    println!("- this includes the stats, the layout and the changed regions sent first; on a 100 kHz bus add the wire time of those bytes");
    println!();
}

fn timings_debounce_ms() -> u128 {
    Rules::default().debounce.as_millis()
}

/// Wall time of a plain run (no sampling loop around it).
fn timed_run(args: &[&str], script: &str) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let script_path = dir.path().join("script.txt");
    std::fs::write(&script_path, script).unwrap();
    let start = Instant::now();
    let out = Command::new(BIN)
        .args(["simulate", "--script"])
        .arg(&script_path)
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let wall = start.elapsed();
    assert!(out.status.success());
    wall
}

fn start_up() {
    let mut walls: Vec<f64> = (0..20)
        .map(|_| timed_run(&["--virtual-time"], "quit\n").as_secs_f64() * 1e3)
        .collect();
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!("## Start-up");
    println!("- process start -> first frame on the bus -> exit (simulate, quit at once, real stats): median {:.1} ms, max {:.1} ms over 20 runs (goal <= 200 ms)", walls[10], walls[19]);
    println!();
}

fn virtual_scenario() {
    let script = "wait 1\npress 0.2\nwait 5\npress 0.2\nwait 20\npress 9\nwait 24.6\n";
    let wall = timed_run(
        &["--virtual-time", "--fake-stats", "--events", "/dev/null"],
        script,
    );
    println!("## A 60 s scenario in virtual time");
    println!(
        "- wall time: {:.1} ms (the whole process)",
        wall.as_secs_f64() * 1e3
    );
    println!();
}

fn binary_sizes() {
    println!(
        "## Binary size (stripped release builds found in {})",
        target_dir().display()
    );
    for target in [
        "aarch64-unknown-linux-gnu",
        "armv7-unknown-linux-gnueabihf",
        "aarch64-unknown-linux-musl",
        "x86_64-unknown-linux-gnu",
    ] {
        let path = target_dir().join(format!("{target}/release/rackpi-panel"));
        match std::fs::metadata(&path) {
            Ok(m) => println!(
                "- {target}: {} bytes ({:.2} MB)",
                m.len(),
                m.len() as f64 / 1e6
            ),
            Err(_) => println!("- {target}: not built (cargo build --release --target {target})"),
        }
    }
    println!();
}

fn main() {
    // `cargo bench` passes --bench; nothing else is expected
    let secs = seconds();
    println!("# rackpi-panel benchmarks\n");
    idle_screen_off(secs);
    screen_on(secs);
    idle_with_attention();
    frame_bytes();
    refresh_cost();
    press_latency();
    start_up();
    virtual_scenario();
    binary_sizes();
}
