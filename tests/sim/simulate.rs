//! The real binary's `simulate` command, run with scenario scripts: events,
//! frames and I2C traffic checked as a user of the simulator would see them.

use std::path::Path;
use std::process::Command;

use rackpi_panel::frame::Frame;
use rackpi_panel::sim::Ssd1306Model;
use serde_json::Value;

use crate::common;
use common::{assert_succeeded, events_of, named, simulate, BIN};

fn events(script: &str) -> Vec<Value> {
    let out = simulate(script, &[]);
    assert_succeeded(&out);
    events_of(&out)
}

fn t_ms(event: &Value) -> u64 {
    event["t_ms"].as_u64().unwrap()
}

#[test]
fn a_press_of_8_1_s_arms_and_reboots_once() {
    let ev = events("wait 1\npress 8.1\nwait 1\n");
    let armed = named(&ev, "reboot_armed");
    assert_eq!(armed.len(), 1);
    assert!((9000..=9100).contains(&t_ms(armed[0])), "{:?}", armed[0]);
    assert_eq!(named(&ev, "reboot").len(), 1);
    assert_eq!(named(&ev, "shutdown").len(), 0);
    assert_eq!(ev.first().unwrap()["event"], "started");
    assert_eq!(ev.last().unwrap()["event"], "stopped");
}

#[test]
fn a_press_of_12_1_s_shuts_down_once() {
    let ev = events("wait 1\npress 12.1\nwait 1\n");
    assert_eq!(named(&ev, "shutdown").len(), 1);
    assert_eq!(named(&ev, "reboot").len(), 0);
    assert_eq!(named(&ev, "shutdown_armed").len(), 1);
}

#[test]
fn a_press_of_7_9_s_does_neither() {
    let ev = events("wait 1\npress 7.9\nwait 1\n");
    assert!(named(&ev, "reboot").is_empty() && named(&ev, "shutdown").is_empty());
    assert!(named(&ev, "reboot_armed").is_empty());
    assert_eq!(named(&ev, "page").len(), 2, "a short press turns the page");
}

#[test]
fn a_press_of_25_s_cancels() {
    let ev = events("wait 1\npress 25\nwait 1\n");
    assert_eq!(named(&ev, "cancelled").len(), 1);
    assert!(named(&ev, "reboot").is_empty() && named(&ev, "shutdown").is_empty());
}

#[test]
fn a_button_held_at_start_does_nothing() {
    let ev = events("press 25\nwait 1\n");
    assert!(named(&ev, "reboot").is_empty() && named(&ev, "shutdown").is_empty());
    assert!(named(&ev, "press").is_empty());
    let ev = events("down\nwait 10\n");
    assert!(named(&ev, "reboot_armed").is_empty());
}

#[test]
fn the_script_ends_with_a_release_still_counted() {
    // no wait after the last release: the implied quit lets it be debounced
    let ev = events("wait 1\npress 9\n");
    assert_eq!(named(&ev, "reboot").len(), 1);
}

#[test]
fn events_carry_their_details() {
    let ev = events("wait 1\npress 0.2\nwait 1\npower fail\npress 9\nwait 1\n");
    let pages: Vec<&str> = named(&ev, "page")
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(pages, vec!["info", "system"]);
    let patterns: Vec<&str> = named(&ev, "led")
        .iter()
        .map(|e| e["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(patterns[0], "on");
    assert!(patterns.contains(&"blink-1hz"));
    assert_eq!(
        patterns[patterns.len() - 2..],
        ["double-blink", "off"],
        "a failed action is signalled by the LED until the program stops"
    );
    let failed = named(&ev, "action_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["action"], "reboot");
    assert!(failed[0]["reason"]
        .as_str()
        .unwrap()
        .contains("`reboot` exited with status 1 (simulated)"));
}

#[test]
fn virtual_time_runs_are_identical() {
    let script = "wait 2\npress 0.1\nwait 20\npress 9\nwait 3\n";
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let log = dir.path().join(name);
        let out = simulate(script, &["--i2c-log", log.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.stdout, std::fs::read(&log).unwrap())
    };
    let (first, second) = (run("first.log"), run("second.log"));
    assert!(!first.1.is_empty());
    assert_eq!(first, second);
}

fn parse_i2c_log(text: &str) -> Vec<(u64, u8, Vec<u8>)> {
    text.lines()
        .map(|line| {
            let mut fields = line.split(' ');
            let t = fields.next().unwrap().parse().expect("T_MS is decimal");
            let addr_text = fields.next().unwrap();
            assert_eq!(addr_text.len(), 2, "the address is two hex digits: {line}");
            let addr = u8::from_str_radix(addr_text, 16).unwrap();
            let bytes = fields.map(|b| u8::from_str_radix(b, 16).unwrap()).collect();
            (t, addr, bytes)
        })
        .collect()
}

fn run_with_outputs(script: &str) -> (tempfile::TempDir, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("i2c.log");
    let frames = dir.path().join("frames");
    let out = simulate(
        script,
        &[
            "--i2c-log",
            log.to_str().unwrap(),
            "--frames",
            frames.to_str().unwrap(),
        ],
    );
    assert_succeeded(&out);
    let ev = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (dir, ev)
}

#[test]
fn after_the_timeout_the_bus_carries_a_display_off_and_then_nothing_until_a_press() {
    let (dir, ev) = run_with_outputs("wait 60\npress 0.1\nwait 2\n");
    let log = parse_i2c_log(&std::fs::read_to_string(dir.path().join("i2c.log")).unwrap());
    let off = named(&ev, "screen_off");
    assert_eq!(t_ms(off[0]), 15_000);
    let press = t_ms(named(&ev, "press")[0]);
    assert_eq!(press, 60_030);
    let after_off: Vec<_> = log.iter().filter(|(t, _, _)| *t >= 15_000).collect();
    assert_eq!(
        after_off[0].2,
        vec![0x00, 0xAE],
        "SSD1306 display-off, not a black frame"
    );
    assert!(
        after_off[1..].iter().all(|(t, _, _)| *t >= press),
        "silence on the bus while the screen is off: {:?}",
        &after_off[1..2]
    );
    // and on the press, the display is switched on again
    assert!(log
        .iter()
        .any(|(t, _, b)| *t == press && b == &vec![0x00, 0xAF]));
    // while on: refreshed once a second, and only what changed is sent
    let refresh_bytes: usize = log
        .iter()
        .filter(|(t, _, _)| (1000..15_000).contains(t))
        .map(|(_, _, b)| b.len())
        .sum();
    assert_eq!(
        refresh_bytes, 0,
        "fixed sample data never changes, so nothing is re-sent"
    );
}

#[test]
fn the_frames_are_what_an_ssd1306_fed_the_logged_bytes_shows() {
    let (dir, ev) =
        run_with_outputs("wait 1\npress 0.2\nwait 1\npress 0.2\nwait 1\npress 9\nwait 1\n");
    let log = parse_i2c_log(&std::fs::read_to_string(dir.path().join("i2c.log")).unwrap());
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("frames"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert!(
        names.len() >= 4,
        "info, system, network, stage, action: {names:?}"
    );
    for name in &names {
        // frame-000001230ms-00002.png: the time is in the name
        let t: u64 = name[6..15].parse().unwrap();
        let mut model = Ssd1306Model::new();
        for (_, addr, bytes) in log.iter().filter(|(lt, _, _)| *lt <= t) {
            assert_eq!(*addr, 0x3c);
            model.write(bytes);
        }
        let png = std::fs::read(dir.path().join("frames").join(name)).unwrap();
        let shown = Frame::from_png(&png, rackpi_panel::sim::PNG_SCALE).unwrap();
        assert_eq!(shown, model.visible(32, true), "{name}");
    }
    let last = std::fs::read(dir.path().join("frames").join(names.last().unwrap())).unwrap();
    let last = Frame::from_png(&last, rackpi_panel::sim::PNG_SCALE).unwrap();
    assert!(last.lit_count() > 0);
    assert_eq!(named(&ev, "reboot").len(), 1);
}

#[test]
fn an_unplugged_display_does_not_stop_the_button_and_comes_back() {
    let ev = events(
        "wait 2\ndisplay unplug\npress 0.1\nwait 1\npress 9\nwait 5\ndisplay plug\nwait 35\n",
    );
    assert_eq!(
        named(&ev, "display_lost").len(),
        1,
        "logged once, not once per retry"
    );
    assert_eq!(named(&ev, "reboot").len(), 1, "a long press still reboots");
    let restored = named(&ev, "display_restored");
    assert_eq!(restored.len(), 1);
    let plugged_at = 2000 + 100 + 1000 + 9000 + 5000;
    assert!(
        t_ms(restored[0]) <= plugged_at + 31_000,
        "{:?}",
        restored[0]
    );
    let patterns: Vec<&str> = named(&ev, "led")
        .iter()
        .map(|e| e["pattern"].as_str().unwrap())
        .collect();
    assert!(patterns.contains(&"double-blink"));
}

#[test]
fn a_display_missing_from_the_start_is_retried() {
    let ev = events("display unplug\nwait 5\ndisplay plug\nwait 3\n");
    assert!(t_ms(named(&ev, "display_lost")[0]) <= 1);
    let restored = t_ms(named(&ev, "display_restored")[0]);
    // tries at 0, 1 s, 3 s, then 7 s: the first after the plug at 5 s
    assert_eq!(restored, 7000);
}

#[test]
fn quit_stops_at_once() {
    let ev = events("wait 1\ndown\nwait 2\nquit\nwait 30\n");
    let stopped = named(&ev, "stopped");
    assert_eq!(t_ms(stopped[0]), 3000);
    assert!(named(&ev, "reboot_armed").is_empty());
}

#[test]
fn quit_while_held_switches_the_display_and_led_off_and_acts_on_nothing() {
    let (dir, ev) = run_with_outputs("wait 1\ndown\nwait 10\nquit\n");
    assert!(named(&ev, "reboot").is_empty());
    let last_led = named(&ev, "led").last().unwrap()["pattern"].clone();
    assert_eq!(last_led, "off");
    let log = parse_i2c_log(&std::fs::read_to_string(dir.path().join("i2c.log")).unwrap());
    assert_eq!(log.last().unwrap(), &(11_000, 0x3c, vec![0x00, 0xAE]));
}

#[test]
fn quit_after_a_reboot_keeps_the_action_screen() {
    let (dir, ev) = run_with_outputs("wait 1\npress 9\nwait 2\nquit\n");
    assert_eq!(named(&ev, "reboot").len(), 1);
    let log = parse_i2c_log(&std::fs::read_to_string(dir.path().join("i2c.log")).unwrap());
    let reboot_at = t_ms(named(&ev, "reboot")[0]);
    assert!(
        !log.iter()
            .any(|(t, _, b)| *t > reboot_at && b == &vec![0x00, 0xAE]),
        "no display-off after the action started"
    );
    let mut model = Ssd1306Model::new();
    for (_, _, bytes) in &log {
        model.write(bytes);
    }
    let golden = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rebooting-128x32.png"),
    )
    .unwrap();
    assert_eq!(
        model.visible(32, true),
        Frame::from_png(&golden, 1).unwrap()
    );
}

#[test]
fn a_bad_script_line_is_named() {
    let out = simulate("wait 1\npress eight\n", &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("eight"), "{err}");
    assert!(out.stdout.is_empty(), "nothing runs when the script is bad");
}

#[test]
fn an_unknown_flag_is_refused() {
    let out = Command::new(BIN)
        .args(["simulate", "--turbo"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--turbo"));
}

#[test]
fn a_bad_config_exits_78_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[button]\nreboot_after_s = 15.0\n").unwrap();
    let out = simulate("wait 1\n", &["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("button.shutdown_after_s"), "{err}");
    let out = simulate("wait 1\n", &["--config", "/nonexistent/config.toml"]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/config.toml"));
}

#[test]
fn outputs_that_cannot_be_written_fail_before_anything_runs() {
    let out = simulate("wait 1\n", &["--i2c-log", "/nonexistent/dir/i2c.log"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir/i2c.log"));
    assert!(out.stdout.is_empty());
    let file = tempfile::NamedTempFile::new().unwrap();
    let out = simulate("wait 1\n", &["--frames", file.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("frames directory"));
}

#[test]
fn a_config_changes_the_thresholds() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[button]\nreboot_after_s = 3.0\nshutdown_after_s = 5.0\ncancel_after_s = 7.0\n[display]\nsize = \"128x64\"\n",
    )
    .unwrap();
    let out = simulate(
        "wait 1\npress 4\nwait 1\n",
        &["--config", config.to_str().unwrap()],
    );
    assert_succeeded(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"reboot\""), "{text}");
}

#[test]
fn render_writes_a_page_png() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("info.png");
    let out = Command::new(BIN)
        .args(["render", "--page", "info", "--size", "128x64", "--out"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let frame = Frame::from_png(
        &std::fs::read(&out_path).unwrap(),
        rackpi_panel::sim::PNG_SCALE,
    )
    .unwrap();
    assert_eq!((frame.width(), frame.height()), (128, 64));
    assert!(frame.lit_count() > 100);
    let bad = Command::new(BIN)
        .args(["render", "--page", "weather", "--out", "x.png"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("weather"));
    assert!(!Path::new("x.png").exists());
}

/// A real-time run of `script` in the background, with `-v` logs on a pipe
/// and the events and I2C log in files; returns once it has started.
struct Background {
    child: std::process::Child,
    logs: std::sync::mpsc::Receiver<String>,
    dir: tempfile::TempDir,
}

impl Background {
    fn start(script: &str, config: Option<&str>) -> Background {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.txt");
        std::fs::write(&path, script).unwrap();
        let mut command = Command::new(BIN);
        command
            .args(["-v", "simulate", "--fake-stats", "--script"])
            .arg(&path)
            .arg("--events")
            .arg(dir.path().join("events.jsonl"))
            .arg("--i2c-log")
            .arg(dir.path().join("i2c.log"))
            .stderr(std::process::Stdio::piped());
        if let Some(config) = config {
            let config_path = dir.path().join("config.toml");
            std::fs::write(&config_path, config).unwrap();
            command.arg("--config").arg(config_path);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, logs) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let background = Background { child, logs, dir };
        background.wait_for_log("started");
        background
    }

    fn wait_for_log(&self, needle: &str) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            match self.logs.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?}"),
            }
        }
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).unwrap();
    }

    fn exit(&mut self) -> std::process::ExitStatus {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(std::time::Instant::now() < end, "the simulator did not end");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    fn events(&self) -> Vec<Value> {
        std::fs::read_to_string(self.dir.path().join("events.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

impl Drop for Background {
    /// A failed test leaves no simulator running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sigterm_and_sigint_end_a_run_as_quit_does_with_every_output_complete() {
    use nix::sys::signal::Signal;
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        let mut run = Background::start("wait 60\n", None);
        run.signal(signal);
        let status = run.exit();
        assert_eq!(status.code(), Some(0), "{signal}: exit status 0");
        let events = run.events();
        assert_eq!(events[0]["event"], "started", "{signal}: {events:?}");
        assert_eq!(
            events.last().unwrap()["event"],
            "stopped",
            "{signal}: {events:?}"
        );
        assert!(
            t_ms(events.last().unwrap()) < 60_000,
            "{signal}: stopped at once"
        );
        let log = std::fs::read_to_string(run.dir.path().join("i2c.log")).unwrap();
        let writes = parse_i2c_log(&log);
        assert!(!writes.is_empty(), "{signal}: the I2C log is written");
        assert_eq!(
            writes.last().unwrap().2,
            vec![0x00, 0xae],
            "{signal}: the last write switches the display off"
        );
    }
}

#[test]
fn sighup_reloads_the_config_and_the_new_thresholds_apply() {
    let mut run = Background::start(
        "wait 2\npress 3.5\nwait 0.5\n",
        Some("[power]\nsettle_s = 10\n"),
    );
    std::fs::write(
        run.dir.path().join("config.toml"),
        "[button]\nreboot_after_s = 3.0\nshutdown_after_s = 5.0\ncancel_after_s = 7.0\n[power]\nsettle_s = 10\n",
    )
    .unwrap();
    run.signal(nix::sys::signal::Signal::SIGHUP);
    run.wait_for_log("configuration reloaded");
    let status = run.exit();
    assert_eq!(status.code(), Some(0));
    let events = run.events();
    assert_eq!(
        named(&events, "reboot").len(),
        1,
        "a 3.5 s press reboots with reboot_after_s = 3: {events:?}"
    );
    assert_eq!(events.last().unwrap()["event"], "stopped");
}

#[test]
fn after_sighup_a_custom_page_runs_the_command_of_the_new_config() {
    use std::os::unix::fs::PermissionsExt;
    let scripts = tempfile::tempdir().unwrap();
    // each command leaves a mark when it runs
    let command = |name: &str| {
        let path = scripts.path().join(name);
        let mark = scripts.path().join(format!("{name}.ran"));
        std::fs::write(
            &path,
            format!("#!/bin/sh\ntouch '{}'\necho {name}\n", mark.display()),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        (path, mark)
    };
    let (old, _) = command("old");
    let (new, new_ran) = command("new");
    let config = |command: &std::path::Path| {
        format!(
            "[display]\npages = [\"info\", \"status\"]\n\n[[page]]\nname = \"status\"\ncommand = [\"{}\"]\nevery_s = 2\ntimeout_s = 1\n",
            command.display()
        )
    };
    // the press that shows the page comes well after the reload
    let mut run = Background::start("wait 4\npress 0.2\nwait 2\n", Some(&config(&old)));
    std::fs::write(run.dir.path().join("config.toml"), config(&new)).unwrap();
    run.signal(nix::sys::signal::Signal::SIGHUP);
    run.wait_for_log("configuration reloaded");
    assert_eq!(run.exit().code(), Some(0));
    let pages: Vec<String> = named(&run.events(), "page")
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(pages, vec!["info", "status"]);
    // (the old command may have run ahead of the press, before the reload)
    assert!(new_ran.exists(), "the reloaded page's command ran");
}

#[test]
fn a_failed_unit_a_message_and_identify_give_their_events() {
    let ev = events(
        "wait 20\nunit fail backup.service\nwait 1\nnotify error restic: backup failed\n\
         wait 1\npress 0.1\nwait 1\npress 0.1\nwait 1\nunit ok backup.service\n\
         wait 1\nidentify 5\nwait 6\n",
    );
    let attention = named(&ev, "attention");
    assert_eq!(attention.len(), 2, "{attention:?}");
    assert_eq!(attention[0]["source"], "unit");
    assert_eq!(attention[0]["text"], "backup.service");
    assert_eq!(t_ms(attention[0]), 20_000);
    assert_eq!(attention[1]["source"], "notify");
    assert_eq!(attention[1]["text"], "restic: backup failed");
    assert_eq!(attention[1]["level"], "error");
    // the dark screen stays dark: the LED says it
    let leds: Vec<_> = named(&ev, "led")
        .into_iter()
        .map(|e| (t_ms(e), e["pattern"].as_str().unwrap().to_string()))
        .collect();
    assert!(leds.contains(&(20_000, "triple-blink".into())), "{leds:?}");
    assert!(named(&ev, "screen_on")
        .iter()
        .all(|e| t_ms(e) < 20_000 || t_ms(e) >= 22_000));
    // the waking press shows the page, the next one acknowledges the message
    let pages: Vec<_> = named(&ev, "page")
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert!(pages.contains(&"attention".into()), "{pages:?}");
    let acknowledged = named(&ev, "acknowledged");
    assert_eq!(acknowledged.len(), 1);
    assert_eq!(acknowledged[0]["text"], "restic: backup failed");
    let cleared = named(&ev, "attention_cleared");
    assert_eq!(cleared.len(), 1);
    assert_eq!(t_ms(cleared[0]), 24_200);
    let identify = named(&ev, "identify");
    assert_eq!(identify.len(), 1);
    assert_eq!(identify[0]["seconds"], 5);
    assert_eq!(t_ms(identify[0]), 25_200);
    let end = named(&ev, "identify_end");
    assert_eq!(end.len(), 1);
    assert_eq!(t_ms(end[0]), 30_200);
    assert!(leds.contains(&(25_200, "blink-5hz".into())), "{leds:?}");
    assert_eq!(leds.last().unwrap().1, "off", "stopped");
}

#[test]
fn the_attention_page_is_what_the_panel_shows() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let out = simulate(
        "wait 20\nunit fail restic-backup.service\nnotify warn disk 91% full\n\
         notify error restic: backup failed\nwait 1\npress 0.1\nwait 1\n",
        &["--frames", frames.to_str().unwrap()],
    );
    assert_succeeded(&out);
    let golden = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/attention-128x32.png"),
    )
    .unwrap();
    let golden = Frame::from_png(&golden, 1).unwrap();
    let mut shown = Vec::new();
    for entry in std::fs::read_dir(&frames).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        shown.push(Frame::from_png(&bytes, rackpi_panel::sim::PNG_SCALE).unwrap());
    }
    assert!(
        shown.contains(&golden),
        "the attention page was on the glass"
    );
}

#[test]
fn the_configured_contrast_reaches_the_panel() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("panel.toml");
    std::fs::write(&config, "[display]\ncontrast = 40\n").unwrap();
    let log = dir.path().join("i2c.log");
    let out = simulate(
        "press 0.2\nwait 1\n",
        &[
            "--config",
            config.to_str().unwrap(),
            "--i2c-log",
            log.to_str().unwrap(),
        ],
    );
    assert_succeeded(&out);
    let mut model = Ssd1306Model::new();
    for (_, _, bytes) in parse_i2c_log(&std::fs::read_to_string(&log).unwrap()) {
        model.write(&bytes);
    }
    assert_eq!(model.contrast(), 40);
    assert!(!model.display_on(), "switched off when the run ends");
}

#[test]
fn a_huge_script_line_is_not_echoed_whole() {
    let digits = "9".repeat(400);
    let junk = "x".repeat(100_000);
    for (script, expect) in [
        (format!("press {digits}\n"), "seconds is out of range"),
        (format!("press {junk}\n"), "is not a number of seconds"),
        (format!("pres{junk}\n"), "unknown command"),
        ("wait 1\0\n".to_string(), "`1\\0` is not a number"),
    ] {
        let out = simulate(&script, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(stderr.len() < 300, "echoed whole: {} bytes", stderr.len());
        assert!(!stderr.contains('\0'), "a NUL byte written to the terminal");
    }
}

#[test]
fn an_endless_script_is_refused_not_read_until_memory_runs_out() {
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--virtual-time",
            "--fake-stats",
            "--script",
            "/dev/zero",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("larger than 1 MiB"), "{stderr}");
}

#[test]
fn a_script_from_standard_input_is_named_so() {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "--virtual-time",
            "--fake-stats",
            "--script",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"wait 1\r\nbogus\r\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in script standard input: script line 2: unknown command `bogus`"),
        "{stderr}"
    );
}

/// Threads a real-time run with the screen on and this machine's figures
/// starts, however briefly they live, counted by strace(1) as the clone
/// calls that succeeded.
fn threads_started(script: &str) -> std::thread::JoinHandle<u64> {
    let script = script.to_string();
    std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        // the screen stays on for the whole run
        std::fs::write(&config, "[display]\ntimeout_s = 0\n").unwrap();
        let scenario = dir.path().join("scenario.txt");
        std::fs::write(&scenario, script).unwrap();
        let (summary, events) = (dir.path().join("strace"), dir.path().join("events"));
        let out = Command::new("strace")
            .args(["-f", "-c", "-e", "trace=clone,clone3", "-o"])
            .args([summary.as_path(), Path::new(BIN), Path::new("simulate")])
            .arg("--config")
            .args([config.as_path(), Path::new("--script"), scenario.as_path()])
            .arg("--events")
            .arg(&events)
            .output()
            .expect("strace runs the simulator (apt-get install strace)");
        assert_succeeded(&out);
        let events = std::fs::read_to_string(events).unwrap();
        for page in ["info", "system", "network"] {
            assert!(
                events.contains(&format!(r#""name":"{page}""#)),
                "{page} page shown"
            );
        }
        // a row of the summary: % time, seconds, usecs/call, calls, [errors,] syscall
        let summary = std::fs::read_to_string(summary).unwrap();
        summary
            .lines()
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .filter(|row| matches!(row.last(), Some(&"clone" | &"clone3")))
            .map(|row| {
                let calls: u64 = row[3].parse().unwrap();
                let errors: u64 = if row.len() == 6 {
                    row[4].parse().unwrap()
                } else {
                    0
                };
                calls - errors
            })
            .sum()
    })
}

#[test]
fn the_screen_on_starts_no_thread_per_refresh() {
    // the screen is on at start; each page shown for 1 s, then for 5 s:
    // four more refreshes of each
    let short = threads_started("wait 1\npress 0.1\nwait 1\npress 0.1\nwait 1\n");
    let long = threads_started("wait 5\npress 0.1\nwait 5\npress 0.1\nwait 5\n");
    let (short, long) = (short.join().unwrap(), long.join().unwrap());
    assert_eq!(
        long, short,
        "threads started in 15 s with the screen on ({long}) and in 3 s ({short})"
    );
}

#[test]
fn under_voltage_and_heat_in_a_script_call_for_attention_until_they_end() {
    let ev = events(
        "wait 1\nundervoltage on\nwait 30\nundervoltage off\nwait 30\n\
         temp 79.9\nwait 30\ntemp 83\nwait 30\ntemp 76\nwait 30\ntemp 74\nwait 1\n",
    );
    let called: Vec<(u64, String, String)> = named(&ev, "attention")
        .into_iter()
        .map(|e| {
            (
                t_ms(e),
                e["source"].as_str().unwrap().to_string(),
                e["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        called,
        vec![
            (1_000, "power".into(), "under-voltage".into()),
            (91_000, "temp".into(), "too hot: 83 °C".into()),
        ]
    );
    let cleared: Vec<u64> = named(&ev, "attention_cleared")
        .into_iter()
        .map(t_ms)
        .collect();
    assert_eq!(
        cleared,
        vec![31_000, 151_000],
        "76 °C keeps it, 74 °C clears it"
    );
}
