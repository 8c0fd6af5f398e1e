//! Outputs never destroy what they did not create: a run that cannot start
//! leaves existing files as they were, two outputs on one file are refused,
//! a frames directory of another run is not mixed into, no parent directory
//! is created, and `render` writes through a FIFO or device (or to standard
//! output with `-`) instead of replacing it.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

fn simulate(dir: &Path, extra: &[&str]) -> Output {
    let script = dir.join("scenario.txt");
    std::fs::write(&script, "wait 1\npress 0.2\nwait 1\n").unwrap();
    Command::new(BIN)
        .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
        .arg(&script)
        .args(extra)
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_run_that_cannot_start_leaves_existing_files_and_parents_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let log = dir.path().join("i2c.log");
    std::fs::write(&events, "precious events\n").unwrap();
    std::fs::write(&log, "precious log\n").unwrap();
    let frames = dir.path().join("missing/deep/frames");
    let out = simulate(
        dir.path(),
        &[
            "--events",
            events.to_str().unwrap(),
            "--i2c-log",
            log.to_str().unwrap(),
            "--frames",
            frames.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("parent directory does not exist"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&events).unwrap(),
        "precious events\n"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "precious log\n");
    assert!(
        !dir.path().join("missing").exists(),
        "no parent directory is created"
    );
}

#[test]
fn two_outputs_on_one_file_are_refused_by_any_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    std::fs::write(&file, "keep\n").unwrap();
    let alias = dir.path().join("alias.txt");
    std::os::unix::fs::symlink(&file, &alias).unwrap();
    for other in [&file, &alias] {
        let out = simulate(
            dir.path(),
            &[
                "--events",
                file.to_str().unwrap(),
                "--i2c-log",
                other.to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("would both be written to"),
            "{}",
            stderr(&out)
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep\n");
    }
    // nor may an output overwrite the script it runs
    let script = dir.path().join("scenario.txt");
    let out = simulate(dir.path(), &["--events", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is the script"), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&script).unwrap().contains("press"));
}

#[test]
fn the_frames_directory_probe_follows_no_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "not yours\n").unwrap();
    let frames = dir.path().join("frames");
    std::fs::create_dir(&frames).unwrap();
    std::os::unix::fs::symlink(&victim, frames.join(".rackpi-panel-write-test")).unwrap();
    let out = simulate(dir.path(), &["--frames", frames.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "not yours\n",
        "the symlink's target was truncated"
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a directory with foreign files is refused"
    );
    assert!(stderr(&out).contains("did not write"), "{}", stderr(&out));
}

fn frame_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_reused_frames_directory_is_refused_unless_its_old_frames_may_go() {
    let dir = tempfile::tempdir().unwrap();
    let frames = dir.path().join("frames");
    let first = simulate(dir.path(), &["--frames", frames.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = frame_names(&frames);
    assert!(!before.is_empty());

    let again = simulate(dir.path(), &["--frames", frames.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("--replace-frames"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        frame_names(&frames),
        before,
        "the first run's frames are kept"
    );

    let replaced = simulate(
        dir.path(),
        &["--frames", frames.to_str().unwrap(), "--replace-frames"],
    );
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(
        frame_names(&frames),
        before,
        "the same scenario again: exactly one run's frames"
    );
}

#[test]
fn render_writes_through_a_fifo_and_a_device_and_to_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("page.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            std::fs::File::open(fifo)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            bytes
        })
    };
    // the reader opens the FIFO while the writer tries; retry until it has
    let mut out = None;
    for _ in 0..100 {
        let run = Command::new(BIN)
            .args(["render", "--page", "info", "--out"])
            .arg(&fifo)
            .output()
            .unwrap();
        if run.status.success() {
            out = Some(run);
            break;
        }
        assert!(stderr(&run).contains("no reader"), "{}", stderr(&run));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(out.is_some(), "render never wrote into the FIFO");
    let bytes = reader.join().unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG"),
        "the PNG went through the FIFO"
    );
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO is still a FIFO");

    let null = Command::new(BIN)
        .args(["render", "--page", "info", "--out", "/dev/null"])
        .output()
        .unwrap();
    assert!(null.status.success(), "{}", stderr(&null));
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is still a device");

    let stdout = Command::new(BIN)
        .current_dir(dir.path())
        .args(["render", "--page", "info", "--out", "-"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(stdout.status.success(), "{}", stderr(&stdout));
    assert!(
        stdout.stdout.starts_with(b"\x89PNG"),
        "- is standard output"
    );
    assert!(!dir.path().join("-").exists(), "no file named -");
}

#[test]
fn a_dangling_symlink_output_of_a_run_that_cannot_start_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("events.jsonl");
    let target = dir.path().join("nowhere.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = simulate(
        dir.path(),
        &[
            "--events",
            link.to_str().unwrap(),
            "--i2c-log",
            dir.path().join("missing/i2c.log").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        !target.exists(),
        "the file the link points to was left behind"
    );
    assert!(link.symlink_metadata().is_ok(), "the link itself stays");
    // and a run that starts writes through the link
    let out = simulate(dir.path(), &["--events", link.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("stopped"));
}

#[test]
fn standard_output_by_another_name_is_standard_output_and_dev_null_takes_any_number() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    for other in ["/dev/stdout", "/proc/self/fd/1", file.to_str().unwrap()] {
        let script = dir.path().join("scenario.txt");
        std::fs::write(&script, "wait 1\n").unwrap();
        let out = Command::new(BIN)
            .args(["simulate", "--virtual-time", "--fake-stats", "--script"])
            .arg(&script)
            .args(["--events", "-", "--i2c-log", other])
            .stdout(std::fs::File::create(&file).unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{other}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("would both be written to standard output"),
            "{other}: {}",
            stderr(&out)
        );
    }
    let out = simulate(
        dir.path(),
        &["--events", "/dev/null", "--i2c-log", "/dev/null"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_reader_that_closes_the_events_early_ends_the_run_quietly() {
    // `simulate … --events - | head -1`: the reader had what it wanted
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("presses.txt");
    std::fs::write(&script, "press 0.1\nwait 1\n".repeat(3000)).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "simulate",
            "--virtual-time",
            "--fake-stats",
            "--events",
            "-",
        ])
        .arg("--script")
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // (the pipe's read end is dropped here: the next writes fail with EPIPE)
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("failed"), "{}", stderr(&out));
}
