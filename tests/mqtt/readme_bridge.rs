//! The README's Mosquitto bridge, as written there (the address, the CA
//! and the password put in), between two real Mosquittos: a panel on each
//! broker sees both racks, Home Assistant on site A gets site B's configs
//! and commands site B's Pi, and site B's dead Pi is offline on site A.

use std::io::Read;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::common;
use crate::common::mosquitto::{Mosquitto, Options};

/// The fenced block after the line naming `bridge.conf` in the README.
fn readme_bridge() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## A rack on MQTT").expect("the section")..];
    let after = &section[section
        .find("/etc/mosquitto/conf.d/bridge.conf")
        .expect("the bridge")..];
    let block = &after[after.find("```\n").unwrap() + 4..];
    block[..block.find("```").unwrap()].to_string()
}

fn login(user: &str) -> (String, String) {
    (user.to_string(), format!("secret-{user}"))
}

/// `simulate` as node `node` on `port` for `seconds`, its events on stdout.
fn panel(dir: &Path, node: &str, port: u16, password: Option<&str>, seconds: u32) -> Child {
    let mut mqtt = format!("url = \"mqtt://127.0.0.1:{port}\"\nnode = \"{node}\"\n");
    if let Some(password) = password {
        let file = dir.join(format!("{node}.pw"));
        std::fs::write(&file, password).unwrap();
        mqtt += &format!(
            "username = \"watcher\"\npassword_file = \"{}\"\n",
            file.display()
        );
    }
    let config = dir.join(format!("{node}.toml"));
    std::fs::write(
        &config,
        format!("[display]\npages = [\"info\", \"rack\"]\n[mqtt]\n{mqtt}"),
    )
    .unwrap();
    common::simulate_waiting(&config, seconds)
}

#[test]
fn the_readme_bridge_makes_two_sites_one_rack() {
    let test = "the README's bridge";
    let Some(site_a) = Mosquitto::start(
        test,
        Options {
            user: Some(login("watcher")),
            more_users: vec![login("bridge-b")],
            tls: true,
            acl: Some(
                "user watcher\ntopic readwrite #\n\
                 user bridge-b\ntopic readwrite rackpi/#\ntopic readwrite homeassistant/#\n"
                    .into(),
            ),
            ..Options::default()
        },
    ) else {
        return;
    };
    let bridge = readme_bridge()
        .replace(
            "broker-a.lan:8883",
            &format!("127.0.0.1:{}", site_a.tls_port.unwrap()),
        )
        .replace(
            "/etc/mosquitto/certs/rack-ca.crt",
            &site_a.ca_file().display().to_string(),
        )
        .replace("remote_password …", "remote_password secret-bridge-b");
    let Some(site_b) = Mosquitto::start(
        test,
        Options {
            more_conf: bridge,
            ..Options::default()
        },
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut pi_b = panel(dir.path(), "pi-b", site_b.port, None, 20);
    let pi_a = panel(dir.path(), "pi-a", site_a.port, Some("secret-watcher"), 4);
    let out = pi_a.wait_with_output().unwrap();
    let events = String::from_utf8_lossy(&out.stdout);
    assert!(
        events.contains(r#""event":"rack","up":2,"total":2"#),
        "the panel on site A sees site B's Pi:\n{events}\nsite B's log:\n{}",
        site_b.log()
    );
    // what site B's Pi left retained is on site A too: a late look finds it
    assert_eq!(
        site_a.retained("rackpi/pi-b/availability").as_deref(),
        Some("online")
    );
    let config = site_a.retained("homeassistant/sensor/rackpi_pi-b/cpu/config");
    assert!(
        config.is_some_and(|c| c.contains(r#""unique_id":"rackpi_pi-b_cpu""#)),
        "Home Assistant on site A gets site B's configs"
    );
    // a command from site A reaches site B's Pi
    let mut said = site_b.subscriber("rackpi/pi-b/event", 1, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300));
    site_a.publish("rackpi/pi-b/cmd/identify", b"5", false);
    let mut event = String::new();
    said.stdout
        .take()
        .unwrap()
        .read_to_string(&mut event)
        .unwrap();
    let _ = said.wait();
    assert!(event.contains(r#""event":"identify""#), "{event:?}");

    // site B's Pi dies: its Last Will crosses the bridge
    pi_b.kill().unwrap();
    pi_b.wait().unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = site_a.retained("rackpi/pi-b/availability");
        if seen.as_deref() == Some("offline") {
            break;
        }
        assert!(Instant::now() < end, "still {seen:?} on site A");
        std::thread::sleep(Duration::from_millis(200));
    }
}
