//! The README's Mosquitto ACL, as written there, on a real Mosquitto: a
//! panel logged in as its node name publishes everything it publishes,
//! follows the rack and takes Home Assistant's commands; the same login
//! cannot speak for another Pi.

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common;
use crate::common::mosquitto::{Mosquitto, Options};

/// The fenced block after the line naming `/etc/mosquitto/acl` in the
/// README's "A rack on MQTT".
fn readme_acl() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## A rack on MQTT").expect("the section")..];
    let after = &section[section.find("`/etc/mosquitto/acl`:").expect("the ACL")..];
    let block = &after[after.find("```\n").unwrap() + 4..];
    block[..block.find("```").unwrap()].to_string()
}

fn login(user: &str) -> (String, String) {
    (user.to_string(), format!("secret-{user}"))
}

/// `mosquitto_pub` as `user`: whether the broker accepted it (MQTT 5
/// says when a publish is not authorised).
fn publish_as(broker: &Mosquitto, user: &str, topic: &str, payload: &str, retain: bool) -> bool {
    let (user, password) = login(user);
    let port = broker.port.to_string();
    let mut args = vec!["-V", "5", "-h", "127.0.0.1", "-p", &port, "-q", "1"];
    args.extend(["-u", &user, "-P", &password, "-t", topic, "-m", payload]);
    if retain {
        args.push("-r");
    }
    let out = Command::new("mosquitto_pub").args(&args).output().unwrap();
    out.status.success() && !String::from_utf8_lossy(&out.stderr).contains("Not authorized")
}

#[test]
fn the_readme_acl_lets_a_panel_write_its_own_topics_and_no_one_elses() {
    let test = "the README's ACL";
    let Some(broker) = Mosquitto::start(
        test,
        Options {
            user: Some(login("homeassistant")),
            more_users: vec![login("pi-1"), login("pi-2")],
            acl: Some(readme_acl()),
            ..Options::default()
        },
    ) else {
        return;
    };
    assert!(publish_as(
        &broker,
        "pi-2",
        "rackpi/pi-2/availability",
        "online",
        true
    ));

    // Home Assistant (the harness's own login) watches everything
    let mut watcher = broker.subscriber("#", 100, Duration::from_secs(8));
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("password");
    std::fs::write(&password, login("pi-1").1).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[display]\npages = [\"info\", \"rack\"]\n[mqtt]\nurl = \"mqtt://127.0.0.1:{}\"\n\
             node = \"pi-1\"\nusername = \"pi-1\"\npassword_file = \"{}\"\n",
            broker.port,
            password.display()
        ),
    )
    .unwrap();
    let mut panel = common::simulate_waiting(&config, 3);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(publish_as(
        &broker,
        "homeassistant",
        "rackpi/pi-1/cmd/identify",
        "5",
        false
    ));
    let mut events = String::new();
    panel
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut events)
        .unwrap();
    assert!(panel.wait().unwrap().success());
    assert!(
        events.contains(r#""event":"command","source":"mqtt","name":"identify""#),
        "Home Assistant's command reached the panel:\n{events}"
    );
    assert!(
        events.contains(r#""event":"rack","up":2,"total":2"#),
        "the panel follows the rack:\n{events}"
    );

    // its own topics all went through, Home Assistant's configs included
    let _ = watcher.kill();
    let mut seen = String::new();
    watcher
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut seen)
        .unwrap();
    let _ = watcher.wait();
    for wanted in [
        r#""host":"rackpi""#,
        r#""name":"CPU","unique_id":"rackpi_pi-1_cpu""#,
    ] {
        assert!(seen.contains(wanted), "{wanted} not seen:\n{seen}");
    }
    let log = broker.log();
    assert!(
        !log.contains("Denied PUBLISH from rackpi-panel-pi-1"),
        "the ACL refused the panel's own messages:\n{log}"
    );

    // the same login cannot speak for another Pi, nor command one
    for topic in [
        "rackpi/pi-2/availability",
        "rackpi/pi-2/state",
        "rackpi/pi-2/cmd/power",
        "rackpi/pi-1/cmd/power",
        "homeassistant/button/rackpi_pi-2/restart/config",
        "homeassistant/status",
    ] {
        assert!(
            !publish_as(&broker, "pi-1", topic, "offline", true),
            "pi-1 wrote {topic}"
        );
    }
    assert_eq!(
        broker.retained("rackpi/pi-2/availability").as_deref(),
        Some("online")
    );
    // and what it may write, it may write by hand too
    assert!(publish_as(
        &broker,
        "pi-1",
        "rackpi/pi-1/event",
        "{}",
        false
    ));
}
