//! From the `[mqtt]` section to the link's settings: the broker's address,
//! the password (from `password_file` or the systemd credential), this
//! Pi's node name and client id. The topics are the caller's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Broker, LinkSettings, Outgoing, Secret};
use crate::config::{BrokerUrl, MqttConfig, CREDENTIAL};

/// The password: the first line of `password_file`, else of the systemd
/// credential `mqtt-password` under `credentials_dir`
/// (`$CREDENTIALS_DIRECTORY`), else none. Errors name the file.
pub(crate) fn read_password(
    config: &MqttConfig,
    credentials_dir: Option<&Path>,
) -> Result<Option<Secret>, String> {
    let file = match crate::config::mqtt_file(&config.password_file) {
        Some(path) => path.to_path_buf(),
        None => match credentials_dir.map(|dir| dir.join(CREDENTIAL)) {
            Some(path) if path.exists() => path,
            _ => return Ok(None),
        },
    };
    let text = crate::linux::small_file::read(&file, MAX_PASSWORD_FILE).map_err(|why| {
        format!(
            "cannot read the MQTT password from {}: {why}",
            file.display()
        )
    })?;
    // the first line, without its line end, as `echo pw > file` writes it
    let password = text.lines().next().unwrap_or_default().to_string();
    Ok(Some(Secret(password)))
}

/// The longest password file read (a password is a line).
const MAX_PASSWORD_FILE: u64 = 4096;

/// The link's settings for `config`, with the caller's topics. Reads the
/// password (see [`read_password`], from `$CREDENTIALS_DIRECTORY`).
pub(crate) fn link_settings(
    config: &MqttConfig,
    will: Outgoing,
    birth: Outgoing,
    subscriptions: Vec<String>,
) -> Result<LinkSettings, String> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    Ok(LinkSettings {
        broker: broker(config, credentials.as_deref())?,
        client_id: format!("rackpi-panel-{}", config.node_name()),
        keepalive: Duration::from_secs(config.keepalive_s.unsigned_abs()),
        will,
        birth,
        subscriptions,
    })
}

/// The broker of `config` (the URL was checked when the file was read).
pub(crate) fn broker(config: &MqttConfig, credentials: Option<&Path>) -> Result<Broker, String> {
    let url = BrokerUrl::parse(&config.url).map_err(|why| format!("`mqtt.url` {why}"))?;
    Ok(Broker {
        host: url.host,
        port: url.port,
        tls: url.tls,
        ca_file: crate::config::mqtt_file(&config.ca_file).map(Path::to_path_buf),
        username: (!config.username.is_empty()).then(|| config.username.clone()),
        password: read_password(config, credentials)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MqttConfig {
        MqttConfig {
            url: "mqtts://broker.lan".into(),
            username: "pi".into(),
            ..MqttConfig::default()
        }
    }

    #[test]
    fn the_password_comes_from_the_file_else_the_credential_and_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = config();
        assert_eq!(read_password(&m, Some(dir.path())), Ok(None));
        std::fs::write(dir.path().join("mqtt-password"), "from-systemd\n").unwrap();
        let from_credential = read_password(&m, Some(dir.path())).unwrap().unwrap();
        assert_eq!(from_credential.0, "from-systemd");
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret\nignored").unwrap();
        m.password_file = file;
        let broker = broker(&m, Some(dir.path())).unwrap();
        assert_eq!(broker.password, Some(Secret("s3cret".into())));
        assert_eq!((broker.port, broker.tls), (8883, true));
        let shown = format!("{broker:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("<hidden>"),
            "{shown}"
        );
        m.password_file = "/nonexistent/pw".into();
        let err = read_password(&m, None).unwrap_err();
        assert!(err.contains("/nonexistent/pw"), "{err}");
    }

    /// `read_password` on another thread, given 5 s: a FIFO nobody writes
    /// to would otherwise hold the test (and the daemon's start) forever.
    fn read_within_5_s(path: &Path) -> Result<Option<Secret>, String> {
        let m = MqttConfig {
            password_file: path.to_path_buf(),
            ..config()
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(read_password(&m, None));
        });
        rx.recv_timeout(Duration::from_secs(5))
            .expect("read_password still reading after 5 s")
    }

    #[test]
    fn a_password_file_that_is_a_fifo_or_endless_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pw");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = read_within_5_s(&fifo).unwrap_err();
        assert!(
            err.contains("not a regular file") && err.contains(&*fifo.to_string_lossy()),
            "{err}"
        );
        // /dev/zero: endless; read whole it would take all the memory
        let err = read_within_5_s(Path::new("/dev/zero")).unwrap_err();
        assert!(err.contains("/dev/zero: it is not a regular file"), "{err}");
        let big = dir.path().join("big");
        std::fs::write(&big, "x".repeat(10_000_000)).unwrap();
        let err = read_within_5_s(&big).unwrap_err();
        assert!(err.contains("longer than 4096 bytes"), "{err}");
        let dir_err = read_within_5_s(dir.path()).unwrap_err();
        assert!(dir_err.contains("not a regular file"), "{dir_err}");
    }

    #[test]
    fn a_ca_file_that_is_a_fifo_or_endless_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ca.pem");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        for (ca, expected) in [
            (fifo.clone(), "not a regular file"),
            ("/dev/zero".into(), "not a regular file"),
        ] {
            let broker = Broker {
                host: "127.0.0.1".into(),
                port: 8883,
                tls: true,
                ca_file: Some(ca.clone()),
                username: None,
                password: None,
            };
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let made = super::super::link_thread::base_options(
                    &broker,
                    "rackpi-panel-test",
                    Duration::from_secs(30),
                );
                let _ = tx.send(made.map(|_| ()).map_err(|err| err.to_string()));
            });
            let err = rx
                .recv_timeout(Duration::from_secs(5))
                .expect("the CA file still being read after 5 s")
                .unwrap_err();
            assert!(
                err.contains(expected) && err.contains(&*ca.to_string_lossy()),
                "{err}"
            );
        }
    }

    #[test]
    fn the_node_is_the_hostname_lowercased_unless_given() {
        let mut m = config();
        let node = m.node_name();
        assert!(!node.is_empty() && node == node.to_lowercase(), "{node}");
        m.node = "pi-07".into();
        assert_eq!(m.node_name(), "pi-07");
        let settings = link_settings(
            &m,
            Outgoing {
                topic: "rackpi/pi-07/availability".into(),
                payload: b"offline".to_vec(),
                retain: true,
            },
            Outgoing {
                topic: "rackpi/pi-07/availability".into(),
                payload: b"online".to_vec(),
                retain: true,
            },
            vec!["rackpi/+/state".into()],
        )
        .unwrap();
        assert_eq!(settings.client_id, "rackpi-panel-pi-07");
        assert_eq!(settings.keepalive, Duration::from_secs(30));
    }
}
