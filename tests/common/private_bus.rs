//! A private `dbus-daemon` for the tests that follow failed units over a
//! real bus (the unit tests of the daemon's loop and `tests/linux`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `dbus-daemon` listening at `dir`/bus, its output in `dir`/bus.log. Its
/// configuration names no service directories: a name nobody owns is then
/// simply unknown, where the standard session configuration would try to
/// start the host's services for it (systemd's, which fail) and print that
/// on the tests' output. `None` without `dbus-daemon`.
pub fn bus_daemon(dir: &Path) -> Option<Child> {
    let socket = dir.join("bus");
    let _ = std::fs::remove_file(&socket);
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .ok()?;
    let output = std::fs::File::create(dir.join("bus.log")).ok()?;
    let daemon = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .args(["--nofork", "--nopidfile"])
        .stdout(Stdio::null())
        .stderr(output)
        .spawn()
        .ok()?;
    let started = Instant::now();
    while !socket.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(daemon)
}
