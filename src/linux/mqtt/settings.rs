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
    let text = std::fs::read_to_string(&file).map_err(|err| {
        format!(
            "cannot read the MQTT password from {}: {err}",
            file.display()
        )
    })?;
    // the first line, without its line end, as `echo pw > file` writes it
    let password = text.lines().next().unwrap_or_default().to_string();
    Ok(Some(Secret(password)))
}

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
