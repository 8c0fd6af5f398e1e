//! The UPS over NUT end to end: the real binary's simulator reading a real
//! upsd (Debian's `nut-server`) whose `dummy-ups` driver plays a power cut
//! from a file the test rewrites, and upsd stand-ins that misbehave. The
//! frames decoded from the I2C bytes are compared with the layout of what
//! the page must show; the attention is read from the events.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rackpi_panel::core::{AttentionItem, Level, PageKind, View};
use rackpi_panel::frame::Frame;
use rackpi_panel::layout;
use rackpi_panel::stats::{Stats, UpsFigures, UpsText};

use crate::common;
use common::{events_of as events, frames_in, named, BIN};

/// Where Debian puts upsd's binary (`/usr/sbin/upsd` is a wrapper that
/// reads /etc/nut/nut.conf) and the driver.
const UPSD: [&str; 2] = ["/lib/nut/upsd", "/usr/lib/nut/upsd"];
const DUMMY_UPS: [&str; 2] = ["/lib/nut/dummy-ups", "/usr/lib/nut/dummy-ups"];

/// A real upsd on a free loopback port serving one UPS, `ups`, from the
/// dummy-ups driver, which reads `ups.dev` again each second. Both are
/// stopped when dropped.
struct Upsd {
    dir: tempfile::TempDir,
    port: u16,
    driver: Child,
    server: Child,
}

fn first_existing(paths: [&str; 2]) -> Option<&str> {
    paths.into_iter().find(|path| Path::new(path).exists())
}

impl Upsd {
    /// upsd with the UPS saying `vars` (`name: value` lines), or why not.
    fn start(vars: &str) -> Result<Upsd, String> {
        let (Some(upsd), Some(dummy)) = (first_existing(UPSD), first_existing(DUMMY_UPS)) else {
            return Err("no upsd or dummy-ups (apt install nut-server)".into());
        };
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let file = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        file(
            "ups.conf",
            "[ups]\n  driver = dummy-ups\n  port = ups.dev\n  mode = dummy-loop\n  pollinterval = 1\n"
                .into(),
        );
        file("upsd.conf", format!("LISTEN 127.0.0.1 {port}\n"));
        file("upsd.users", "[panel]\n  password = s3cret\n".into());
        file("ups.dev", vars.into());
        std::fs::create_dir(dir.path().join("state")).unwrap();
        // as root, they would switch to the `nut` user, who cannot read here
        let as_root = nix::unistd::geteuid().is_root();
        let spawn = |program: &str, args: &[&str]| {
            let mut command = Command::new(program);
            command
                .args(args)
                .args(if as_root { &["-u", "root"][..] } else { &[] })
                .env("NUT_CONFPATH", dir.path())
                .env("NUT_STATEPATH", dir.path().join("state"))
                .env("NUT_ALTPIDPATH", dir.path().join("state"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|err| format!("cannot run {program}: {err}"))
        };
        let driver = spawn(dummy, &["-a", "ups", "-F"])?;
        let socket = dir.path().join("state/dummy-ups-ups");
        let until = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        let server = spawn(upsd, &["-F"])?;
        let upsd = Upsd {
            dir,
            port,
            driver,
            server,
        };
        while Instant::now() < until {
            if upsd.status().is_some() {
                return Ok(upsd);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("upsd did not serve the dummy UPS within 10 s".into())
    }

    /// upsd with the UPS on line, or `None` after saying loudly why the
    /// test is skipped (a failure under CI, which installs nut-server).
    fn start_or_skip(test: &str) -> Option<Upsd> {
        match Upsd::start(&dev("OL", 100, 2_820, 23)) {
            Ok(upsd) => Some(upsd),
            Err(why) if std::env::var("CI").as_deref() == Ok("true") => panic!("{test}: {why}"),
            Err(why) => {
                eprintln!("SKIPPED {test}: no upsd to test with: {why}");
                None
            }
        }
    }

    fn server(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The UPS's status as upsd gives it now.
    fn status(&self) -> Option<String> {
        let mut stream = TcpStream::connect(self.server()).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        stream.write_all(b"GET VAR ups ups.status\n").ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).ok()?;
        let status = line.strip_prefix("VAR ups ups.status \"")?;
        Some(status.trim_end().trim_end_matches('"').to_string())
    }

    /// The driver's file says `vars` now (written whole, then renamed).
    fn set(&self, vars: &str) {
        let next = self.dir.path().join("ups.dev.next");
        std::fs::write(&next, vars).unwrap();
        std::fs::rename(next, self.dir.path().join("ups.dev")).unwrap();
    }
}

impl Drop for Upsd {
    fn drop(&mut self) {
        for child in [&mut self.server, &mut self.driver] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The driver's file for these figures.
fn dev(status: &str, charge: u32, runtime_s: u32, load: u32) -> String {
    format!(
        "ups.status: {status}\nbattery.charge: {charge}\nbattery.runtime: {runtime_s}\nups.load: {load}\n"
    )
}

/// The `ups` page with these figures, as the panel shows it (128×32).
fn ups_page(status: &str, charge: f32, runtime_s: f32, load: f32) -> Frame {
    ups_text(UpsText::Read(UpsFigures {
        status: status.into(),
        charge_percent: Some(charge),
        runtime_s: Some(runtime_s),
        load_percent: Some(load),
    }))
}

fn ups_text(ups: UpsText) -> Frame {
    let mut frame = Frame::new(128, 32);
    let stats = Stats {
        ups,
        ..Stats::default()
    };
    let view = View::Page {
        page: PageKind::Ups,
        shift: (0, 0),
    };
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    frame
}

/// The attention page listing one condition.
fn attention(level: Level, text: &str) -> Frame {
    let mut frame = Frame::new(128, 32);
    let view = View::Attention {
        items: vec![AttentionItem::Condition {
            level,
            text: text.into(),
        }],
        first: 0,
    };
    let Ok(()) = layout::draw(&mut frame, &Stats::default(), &view);
    frame
}

/// A scratch directory with a config, a scenario and the frames.
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

    /// The simulator in real time with this machine's figures (the UPS is
    /// the real one of `[ups]`), playing `script`; events on stdout.
    fn simulator(&self, config: &str, script: &str) -> Command {
        std::fs::write(self.path("config.toml"), config).unwrap();
        std::fs::write(self.path("scenario.txt"), script).unwrap();
        let mut command = Command::new(BIN);
        command
            .arg("simulate")
            .arg("--config")
            .arg(self.path("config.toml"))
            .arg("--script")
            .arg(self.path("scenario.txt"))
            .arg("--frames")
            .arg(self.path("frames"))
            .args(["--replace-frames", "--events", "-"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn frames(&self) -> Vec<Frame> {
        frames_in(&self.path("frames"))
    }
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

fn succeeded(out: &Output) -> String {
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{log}");
    log
}

/// (t_ms, level, text) of each attention from the UPS, and when the
/// attention was cleared.
fn ups_attention(out: &Output) -> (Vec<(u64, String, String)>, Vec<u64>) {
    let ev = events(out);
    let raised = named(&ev, "attention")
        .iter()
        .filter(|e| e["source"] == "ups")
        .map(|e| {
            (
                e["t_ms"].as_u64().unwrap(),
                e["level"].as_str().unwrap().to_string(),
                e["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let cleared = named(&ev, "attention_cleared")
        .iter()
        .map(|e| e["t_ms"].as_u64().unwrap())
        .collect();
    (raised, cleared)
}

#[test]
fn a_power_cut_on_a_real_upsd_is_followed_by_the_page_and_the_attention() {
    let test = "a_power_cut_on_a_real_upsd_is_followed_by_the_page_and_the_attention";
    let Some(upsd) = Upsd::start_or_skip(test) else {
        return;
    };
    let bench = Bench::new();
    let config = format!(
        "[display]\npages = [\"ups\"]\ntimeout_s = 0\n\n[ups]\nserver = \"{}\"\npoll_s = 2\n",
        upsd.server()
    );
    // a press after each change brings the ups page back over the attention page
    let simulator = bench
        .simulator(
            &config,
            "wait 6.5\npress 0.2\nwait 5.3\npress 0.2\nwait 5.8\n",
        )
        .spawn()
        .unwrap();
    let started = Instant::now();
    let at = |seconds: f64| {
        let when = Duration::from_secs_f64(seconds);
        std::thread::sleep(when.saturating_sub(started.elapsed()));
    };
    at(2.0);
    upsd.set(&dev("OB DISCHRG", 64, 1_395, 31));
    at(7.5);
    upsd.set(&dev("DISCHRG LB OB", 12, 240, 31));
    at(13.0);
    upsd.set(&dev("OL CHRG", 15, 300, 20));
    let out = simulator.wait_with_output().unwrap();
    let log = succeeded(&out);
    let (raised, cleared) = ups_attention(&out);
    let texts: Vec<(&str, &str)> = raised
        .iter()
        .map(|(_, level, text)| (level.as_str(), text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [("warn", "on battery"), ("error", "low battery")],
        "{log}"
    );
    assert!((2_000..6_500).contains(&raised[0].0), "{raised:?}");
    assert!((7_500..12_000).contains(&raised[1].0), "{raised:?}");
    assert_eq!(cleared.len(), 1, "{cleared:?}");
    assert!((13_000..18_000).contains(&cleared[0]), "{cleared:?}");
    let frames = bench.frames();
    for want in [
        ups_page("OL", 100.0, 2_820.0, 23.0),
        attention(Level::Warn, "on battery"),
        ups_page("OB DISCHRG", 64.0, 1_395.0, 31.0),
        attention(Level::Error, "low battery"),
        ups_page("OB DISCHRG LB", 12.0, 240.0, 31.0),
        ups_page("OL CHRG", 15.0, 300.0, 20.0),
    ] {
        assert_shown(&frames, &want);
    }
}

#[test]
fn a_ups_unknown_to_upsd_and_a_stopped_upsd_are_said_on_the_page() {
    let test = "a_ups_unknown_to_upsd_and_a_stopped_upsd_are_said_on_the_page";
    let Some(upsd) = Upsd::start_or_skip(test) else {
        return;
    };
    let bench = Bench::new();
    let unknown = format!(
        "[display]\npages = [\"ups\"]\n\n[ups]\nserver = \"{}\"\nname = \"eaton\"\n",
        upsd.server()
    );
    let out = bench.simulator(&unknown, "wait 1.5\n").output().unwrap();
    succeeded(&out);
    assert_shown(
        &bench.frames(),
        &ups_text(UpsText::Error("UPS eaton unknown to upsd".into())),
    );
    let server = upsd.server();
    drop(upsd);
    let stopped = format!("[display]\npages = [\"ups\"]\n\n[ups]\nserver = \"{server}\"\n");
    let out = bench.simulator(&stopped, "wait 1.5\n").output().unwrap();
    let (raised, _) = ups_attention(&out);
    succeeded(&out);
    assert_shown(
        &bench.frames(),
        &ups_text(UpsText::Error(format!("upsd not running at {server}"))),
    );
    assert!(raised.is_empty(), "no reading, no attention: {raised:?}");
}

/// A stand-in for upsd on a free loopback port: each connection is handed
/// to `serve` on a thread of its own.
fn hostile(serve: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    address
}

/// The resident memory of process `pid`, in kB.
fn resident_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_upsd_that_never_answers_says_so_and_the_button_works_meanwhile() {
    // accepts, reads, never answers
    let server = hostile(|mut stream| {
        let mut sink = [0u8; 256];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    let bench = Bench::new();
    let config = format!(
        "[display]\npages = [\"ups\", \"info\"]\n\n[ups]\nserver = \"{server}\"\npoll_s = 2\n"
    );
    // real time: releases at 1.7 s and 2.9 s, while the first read hangs
    let out = bench
        .simulator(&config, "wait 1.5\npress 0.2\nwait 1\npress 0.2\nwait 5\n")
        .output()
        .unwrap();
    let log = succeeded(&out);
    let ev = events(&out);
    let pages: Vec<(&str, u64)> = named(&ev, "page")
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["t_ms"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        pages.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        ["ups", "info", "ups"],
        "{log}"
    );
    for ((_, turned), released) in pages[1..].iter().zip([1_700, 2_900]) {
        assert!(
            turned.abs_diff(released) < 300,
            "page turned at {turned} ms, released at {released} ms"
        );
    }
    assert_shown(&bench.frames(), &ups_text(UpsText::Pending));
    assert_shown(
        &bench.frames(),
        &ups_text(UpsText::Error(format!(
            "no answer from upsd at {server} in 5 s"
        ))),
    );
}

#[test]
fn an_endless_line_from_upsd_is_cut_and_memory_stays_flat() {
    let server = hostile(|mut stream| {
        let chunk = [b'A'; 65_536];
        while stream.write_all(&chunk).is_ok() {}
    });
    let bench = Bench::new();
    let config =
        format!("[display]\npages = [\"ups\"]\n\n[ups]\nserver = \"{server}\"\npoll_s = 2\n");
    let simulator = bench.simulator(&config, "wait 9\n").spawn().unwrap();
    let pid = simulator.id();
    std::thread::sleep(Duration::from_secs(2));
    let first = resident_kb(pid);
    std::thread::sleep(Duration::from_secs(6));
    let later = resident_kb(pid);
    let out = simulator.wait_with_output().unwrap();
    succeeded(&out);
    assert_shown(
        &bench.frames(),
        &ups_text(UpsText::Error(
            "garbled answer from upsd: a line longer than 512 bytes".into(),
        )),
    );
    // some reads, each cut at 512 bytes: nothing piles up
    assert!(
        later <= first + 512,
        "resident memory {first} kB at 2 s, {later} kB at 8 s"
    );
}

#[test]
fn the_script_plays_a_power_cut_on_the_page_and_the_attention() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[display]\npages = [\"ups\"]\ntimeout_s = 0\n\n[ups]\nserver = \"localhost\"\n",
    )
    .unwrap();
    let frames = dir.path().join("frames");
    let script = "wait 1\nups OB DISCHRG 64\nwait 1\npress 0.2\nwait 1\n\
        ups DISCHRG LB OB 9\nwait 1\npress 0.2\nwait 1\nups OL CHRG\nwait 1\n";
    let out = common::simulate(
        script,
        &[
            "--config",
            config.to_str().unwrap(),
            "--frames",
            frames.to_str().unwrap(),
        ],
    );
    let log = succeeded(&out);
    let (raised, cleared) = ups_attention(&out);
    assert_eq!(
        raised,
        [
            (1_000, "warn".into(), "on battery".into()),
            (3_200, "error".into(), "low battery".into())
        ],
        "{log}"
    );
    assert_eq!(cleared, [5_400]);
    let frames = frames_in(&frames);
    // the sample UPS, then the script's; the runtime follows the charge
    for want in [
        ups_page("OL", 100.0, 2_820.0, 23.0),
        attention(Level::Warn, "on battery"),
        ups_page("OB DISCHRG", 64.0, 1_804.8, 23.0),
        attention(Level::Error, "low battery"),
        ups_page("DISCHRG LB OB", 9.0, 253.8, 23.0),
        ups_page("OL CHRG", 9.0, 253.8, 23.0),
    ] {
        assert_shown(&frames, &want);
    }
}
