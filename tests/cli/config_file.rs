//! The configuration file as the binary reads it: the packaged file gives the
//! defaults, and hostile files (not a regular file, too large, NUL bytes,
//! blank or missing programs, the LED on the button's line) are refused with
//! exit 78 and a message naming the path or the key — without hanging.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rackpi_panel::config::Config;

const BIN: &str = env!("CARGO_BIN_EXE_rackpi-panel");

/// Far longer than reading a config takes; a run that outlives it is stuck.
const DEADLINE: Duration = Duration::from_secs(20);

struct Run {
    status: ExitStatus,
    stderr: String,
}

/// The PATH the binary is run with.
enum PathEnv<'a> {
    Inherited,
    Set(&'a std::ffi::OsStr),
    Unset,
}

/// Runs `simulate --virtual-time --script FILE --config CONFIG` (it reads the
/// config, touches no hardware and ends at once when the config is good).
/// A run still going after `DEADLINE` is killed and the test fails.
fn simulate_with(config: &Path, path_env: PathEnv) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.txt");
    std::fs::write(&script, "wait 1\n").unwrap();
    let stderr_path = dir.path().join("stderr.txt");
    let mut command = Command::new(BIN);
    command
        .args(["simulate", "--virtual-time", "--script"])
        .arg(&script)
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&stderr_path).unwrap());
    match path_env {
        PathEnv::Inherited => {}
        PathEnv::Set(value) => {
            command.env("PATH", value);
        }
        PathEnv::Unset => {
            command.env_remove("PATH");
        }
    }
    let mut child = command.spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > DEADLINE {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "rackpi-panel still running {DEADLINE:?} after being given {} as its config",
                config.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
    }
}

fn simulate(config: &Path) -> Run {
    simulate_with(config, PathEnv::Inherited)
}

/// The run ended with exit 78 and every needle in its message.
fn refused(run: &Run, needles: &[&str]) {
    assert_eq!(run.status.code(), Some(78), "{}", run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "`{needle}` not in: {}",
            run.stderr
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

fn accepted(run: &Run) {
    assert!(run.status.success(), "{}", run.stderr);
}

/// A config file holding `text` in a fresh directory.
fn config_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

fn refuses_text(text: &str, key: &str, what: &str) {
    let (_dir, path) = config_file(text);
    refused(&simulate(&path), &[&format!("`{key}`"), what]);
}

#[test]
fn the_packaged_config_parses_to_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(Config::parse(&text, &path).unwrap(), Config::default());
    // and uncommenting every line still gives the defaults
    let uncommented: String = text
        .lines()
        .map(|l| {
            l.strip_prefix('#')
                .filter(|r| !r.starts_with(' '))
                .unwrap_or(l)
        })
        .collect::<Vec<_>>()
        .join("\n");
    for key in ["settle_s = 120", "units = true", "ignore_units = []"] {
        assert!(uncommented.contains(key), "{key}: {uncommented}");
    }
    assert_eq!(
        Config::parse(&uncommented, &path).unwrap(),
        Config::default()
    );
}

#[test]
fn dev_zero_is_refused_at_once_as_a_device() {
    refused(
        &simulate(Path::new("/dev/zero")),
        &["/dev/zero", "character device", "regular file"],
    );
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.toml");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    refused(
        &simulate(&fifo),
        &[fifo.to_str().unwrap(), "FIFO", "regular file"],
    );
}

#[test]
fn a_directory_and_a_socket_are_refused_naming_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    refused(
        &simulate(dir.path()),
        &[dir.path().to_str().unwrap(), "a directory"],
    );
    let socket = dir.path().join("config.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    refused(&simulate(&socket), &[socket.to_str().unwrap(), "a socket"]);
}

#[test]
fn a_file_over_one_mebibyte_is_refused_with_its_size() {
    let limit = 1024 * 1024;
    let (_dir, path) = config_file(&format!("#{}\n", "x".repeat(limit - 1)));
    refused(
        &simulate(&path),
        &["1048577 bytes", "a config file is at most 1 MiB"],
    );
}

#[test]
fn a_read_error_names_the_os_error_once() {
    let run = simulate(Path::new("/nonexistent/config.toml"));
    refused(&run, &["/nonexistent/config.toml"]);
    assert_eq!(
        run.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn nul_bytes_in_paths_and_commands_are_refused_naming_the_key() {
    for (text, key) in [
        ("[display]\nbus = \"/dev/i2c-1\\u0000\"\n", "display.bus"),
        (
            "[button]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 20\n",
            "button.chip",
        ),
        (
            "[led]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 23\n",
            "led.chip",
        ),
        ("[button]\nline = \"GPIO\\u000020\"\n", "button.line"),
        (
            "[power]\nreboot = [\"systemctl\", \"re\\u0000boot\"]\n",
            "power.reboot",
        ),
        (
            "[power]\nshutdown = [\"system\\u0000ctl\", \"poweroff\"]\n",
            "power.shutdown",
        ),
        (
            "[network]\ninterface = \"eth0\\u0000\"\n",
            "network.interface",
        ),
    ] {
        refuses_text(text, key, "NUL");
    }
}

#[test]
fn empty_and_blank_power_programs_are_refused_naming_the_key() {
    for (text, key) in [
        ("[power]\nreboot = []\n", "power.reboot"),
        ("[power]\nreboot = [\"\"]\n", "power.reboot"),
        ("[power]\nreboot = [\" \"]\n", "power.reboot"),
        (
            "[power]\nshutdown = [\"\\t\", \"poweroff\"]\n",
            "power.shutdown",
        ),
    ] {
        refuses_text(text, key, "program");
    }
}

#[test]
fn the_led_on_the_buttons_line_is_refused() {
    refuses_text("[led]\nline = \"GPIO20\"\n", "led.line", "button");
    refuses_text(
        "[button]\nchip = \"/dev/gpiochip0\"\noffset = 20\n\
         [led]\nchip = \"/dev/gpiochip0\"\noffset = 20\n",
        "led.offset",
        "button",
    );
    // the same offset on another chip is another line
    let (_dir, path) = config_file(
        "[button]\nchip = \"/dev/gpiochip0\"\noffset = 20\n\
         [led]\nchip = \"/dev/gpiochip1\"\noffset = 20\n",
    );
    accepted(&simulate(&path));
}

#[test]
fn a_power_program_that_cannot_run_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("reboot-script");
    std::fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&not_executable, std::fs::Permissions::from_mode(0o644)).unwrap();
    refuses_text(
        "[power]\nreboot = [\"/nonexistent/bin/reboot\"]\n",
        "power.reboot",
        "/nonexistent/bin/reboot",
    );
    refuses_text(
        &format!(
            "[power]\nreboot = [\"{}\"]\n",
            not_executable.to_str().unwrap()
        ),
        "power.reboot",
        "not an executable",
    );
    refuses_text(
        "[power]\nshutdown = [\"rackpi-panel-no-such-program\", \"now\"]\n",
        "power.shutdown",
        "rackpi-panel-no-such-program",
    );
}

#[test]
fn a_bare_program_name_is_looked_up_on_path() {
    let bin = tempfile::tempdir().unwrap();
    let program = bin.path().join("panel-reboot");
    std::fs::write(&program, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (_dir, config) = config_file(
        "[power]\nreboot = [\"panel-reboot\"]\nshutdown = [\"panel-reboot\", \"off\"]\n",
    );
    let with_it = std::env::join_paths(["/nonexistent", bin.path().to_str().unwrap()]).unwrap();
    accepted(&simulate_with(&config, PathEnv::Set(&with_it)));
    let without_it = tempfile::tempdir().unwrap();
    refused(
        &simulate_with(&config, PathEnv::Set(without_it.path().as_os_str())),
        &["`power.reboot`", "panel-reboot", "PATH"],
    );
    // without PATH, the usual system directories are searched
    refused(
        &simulate_with(&config, PathEnv::Unset),
        &[
            "`power.reboot`",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ],
    );
}

#[test]
fn settle_s_is_read_and_checked() {
    let (_dir, path) = config_file("[power]\nsettle_s = 30\n");
    accepted(&simulate(&path));
    let (_dir, path) = config_file("[power]\nsettle_s = 10\n");
    accepted(&simulate(&path));
    // 0 would take a real reboot for a dry run, 9 a slow reboot for a failure
    refuses_text("[power]\nsettle_s = 0\n", "power.settle_s", "10 to 3600");
    refuses_text("[power]\nsettle_s = 9\n", "power.settle_s", "10 to 3600");
    refuses_text("[power]\nsettle_s = -1\n", "power.settle_s", "3600");
    refuses_text("[power]\nsettle_s = 3601\n", "power.settle_s", "3600");
}

#[test]
fn a_raw_control_byte_in_the_file_is_named_with_its_line_and_column() {
    let (_dir, path) = config_file("[button]\ndebounce_ms = 30\u{0}\n");
    refused(
        &simulate(&path),
        &["line 2, column 17", "control character (byte 0x00)"],
    );
    let (_dir, path) = config_file("# fine\n\u{1b}[31m\n");
    refused(&simulate(&path), &["line 2, column 1", "byte 0x1b"]);
}

/// The config's whole message, from the line it names to the fix.
fn message_for(text: &str) -> String {
    let (_dir, path) = config_file(text);
    let run = simulate(&path);
    assert_eq!(run.status.code(), Some(78), "{}", run.stderr);
    run.stderr
}

#[test]
fn a_value_of_the_wrong_type_is_named_in_tomls_words_with_the_form_to_write() {
    let page = "[display]\npages = [\"info\", \"disk\"]\n\n[[page]]\nname = \"disk\"\n";
    let quoted = message_for(&format!("{page}command = [\"df\"]\ntimeout_s = \"15\"\n"));
    for needle in [
        "line 7: `page.timeout_s` is the string \"15\", where a whole number is expected",
        "write `timeout_s = 15`",
    ] {
        assert!(quoted.contains(needle), "`{needle}` not in: {quoted}");
    }
    assert!(!quoted.contains("i64"), "{quoted}");

    let one_string = message_for(&format!("{page}command = \"df -h /\"\n"));
    for needle in [
        "line 6: `page.command` is the string \"df -h /\", where a list is expected",
        "write `command = [\"df\", \"-h\", \"/\"]`",
    ] {
        assert!(
            one_string.contains(needle),
            "`{needle}` not in: {one_string}"
        );
    }
    assert!(!one_string.contains("sequence"), "{one_string}");

    let single = message_for(
        "[display]\npages = [\"info\", \"disk\"]\n\n[page]\nname = \"disk\"\ncommand = [\"df\"]\n",
    );
    for needle in ["line 4: `[page]` is a single table", "`[[page]]`"] {
        assert!(single.contains(needle), "`{needle}` not in: {single}");
    }
    assert!(!single.contains("map"), "{single}");

    let flag = message_for("[display]\nshow_until_ip = \"yes\"\n");
    assert!(
        flag.contains("line 2: `display.show_until_ip` is the string \"yes\", where true or false is expected"),
        "{flag}"
    );
}

#[test]
fn a_program_word_holding_spaces_is_shown_split_into_words() {
    let text = "[display]\npages = [\"info\", \"disk\"]\n\n[[page]]\nname = \"disk\"\ncommand = [\"df -h /\"]\n";
    let said = message_for(text);
    for needle in [
        "line 6: `page.command`",
        "one word holding spaces",
        "`command = [\"df\", \"-h\", \"/\"]`",
    ] {
        assert!(said.contains(needle), "`{needle}` not in: {said}");
    }
    assert!(
        !said.contains("full path of an installed program"),
        "{said}"
    );
    refuses_text(
        "[power]\nreboot = [\"systemctl reboot\", \"--no-wall\"]\n",
        "power.reboot",
        "`reboot = [\"systemctl\", \"reboot\", \"--no-wall\"]`",
    );
}
