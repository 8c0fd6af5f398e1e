//! The rules of the `[mqtt]` section (SPEC §9): the broker's URL, names
//! that go into topics, the ranges of the times, and — apart, because it
//! asks the file system — whether the files it names can be read.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{MqttConfig, RuleError};

/// The systemd credential that holds the password when `password_file`
/// is not given (`LoadCredential=mqtt-password:…` in the unit).
pub(crate) const CREDENTIAL: &str = "mqtt-password";

/// Where the broker is, as `url` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BrokerUrl {
    /// `mqtts://`: TLS.
    pub tls: bool,
    /// Host name or address (an IPv6 address without its brackets).
    pub host: String,
    /// Port (1883 or 8883 unless given).
    pub port: u16,
}

impl BrokerUrl {
    /// Reads `mqtt://host[:port]` or `mqtts://host[:port]`; the message
    /// says what is wrong.
    pub(crate) fn parse(url: &str) -> Result<BrokerUrl, String> {
        let example = "e.g. \"mqtt://broker.lan\" or \"mqtts://broker.lan:8883\"";
        let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("mqtt://") {
            (false, rest)
        } else {
            return Err(format!(
                "is {url:?}: it must start with mqtt:// or mqtts:// ({example})"
            ));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(format!(
                "is {url:?}: give only the host and port, without a path, user or spaces (the user is `mqtt.username`; {example})"
            ));
        }
        let (host, port) = split_host_port(rest).map_err(|why| format!("is {url:?}: {why}"))?;
        if host.is_empty() {
            return Err(format!("is {url:?}: it names no host ({example})"));
        }
        Ok(BrokerUrl {
            tls,
            host: host.to_string(),
            port: port.unwrap_or(if tls { 8883 } else { 1883 }),
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or("an IPv6 address needs its closing `]`")?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err("only `:port` may follow `]`".into()),
            },
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => None,
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port > 0 => Some(port),
            _ => {
                return Err(format!(
                    "the port {port:?} must be a number from 1 to 65535"
                ))
            }
        },
    };
    Ok((host, port))
}

impl MqttConfig {
    /// This Pi's name in topics: `node`, or the hostname lowercased (a
    /// character a topic level cannot hold left out; `rackpi` if nothing
    /// is left).
    pub fn node_name(&self) -> String {
        if !self.node.is_empty() {
            return self.node.clone();
        }
        let host = sysinfo::System::host_name()
            .unwrap_or_default()
            .to_lowercase();
        let clean: String = host
            .chars()
            .filter(|c| !matches!(c, '/' | '+' | '#' | '\0'))
            .take(64)
            .collect();
        if clean.is_empty() {
            "rackpi".into()
        } else {
            clean
        }
    }
}

/// The path of an optional file key, unless it is empty (unset).
pub(crate) fn given(path: &Path) -> Option<&Path> {
    Some(path).filter(|path| !path.as_os_str().is_empty())
}

/// Every rule of `[mqtt]`, in the order of the keys. Nothing is checked
/// while `url` is empty, since nothing of it is used.
pub(crate) fn check(m: &MqttConfig) -> Result<(), RuleError> {
    if !m.enabled() {
        return Ok(());
    }
    let url = BrokerUrl::parse(&m.url).map_err(|why| RuleError::new("mqtt.url", why))?;
    if url.tls && cfg!(target_env = "musl") {
        return Err(RuleError::new(
            "mqtt.url",
            format!("is {:?}: this static (musl) build has no TLS; use the Debian package's build for mqtts://, or mqtt:// on a trusted network", m.url),
        ));
    }
    if !m.node.is_empty() {
        topic_level("mqtt.node", &m.node)?;
    }
    topic_levels("mqtt.prefix", &m.prefix)?;
    topic_levels("mqtt.discovery_prefix", &m.discovery_prefix)?;
    if m.username.contains('\0') {
        return Err(RuleError::new("mqtt.username", "contains a NUL byte"));
    }
    for (key, path) in [
        ("mqtt.password_file", given(&m.password_file)),
        ("mqtt.ca_file", given(&m.ca_file)),
    ] {
        if let Some(path) = path {
            absolute_path(key, path)?;
        }
    }
    for (key, value, low, high, why) in [
        (
            "mqtt.keepalive_s",
            m.keepalive_s,
            5,
            3600,
            "a dead broker is noticed within 1.5 times this",
        ),
        (
            "mqtt.publish_s",
            m.publish_s,
            5,
            86_400,
            "a change is sent at once anyway",
        ),
        (
            "mqtt.power_countdown_s",
            m.power_countdown_s,
            3,
            600,
            "time to reach the button and cancel",
        ),
    ] {
        if !(low..=high).contains(&value) {
            return Err(RuleError::new(
                key,
                format!("is {value}: it must be a number of seconds from {low} to {high} ({why})"),
            ));
        }
    }
    Ok(())
}

/// One level of a topic: not empty, no `/`, no wildcard, no NUL.
fn topic_level(key: &'static str, value: &str) -> Result<(), RuleError> {
    if value.is_empty() || value.contains(['/', '+', '#', '\0']) {
        return Err(RuleError::new(
            key,
            format!("is {value:?}: it must be a non-empty name without `/`, `+`, `#` (it becomes one level of a topic), e.g. \"pi-07\""),
        ));
    }
    Ok(())
}

/// One or more topic levels (`rackpi` or `site/rackpi`).
fn topic_levels(key: &'static str, value: &str) -> Result<(), RuleError> {
    if value.is_empty()
        || value
            .split('/')
            .any(|level| topic_level(key, level).is_err())
    {
        return Err(RuleError::new(
            key,
            format!("is {value:?}: it must be one or more topic levels separated by `/`, none empty and without `+` or `#`, e.g. \"rackpi\""),
        ));
    }
    Ok(())
}

fn absolute_path(key: &'static str, path: &Path) -> Result<(), RuleError> {
    let shown = path.to_string_lossy();
    if path.as_os_str().as_bytes().contains(&0) {
        return Err(RuleError::new(
            key,
            format!("contains a NUL byte ({shown:?})"),
        ));
    }
    if !path.is_absolute() {
        return Err(RuleError::new(
            key,
            format!("is {shown:?}: give an absolute path (the service runs in /), e.g. \"/etc/rackpi-panel/mqtt-password\""),
        ));
    }
    Ok(())
}

/// Whether the files `[mqtt]` names can be read by this process (at start,
/// not at the first connection). Asks the file system, so it is not one of
/// the pure rules.
pub(crate) fn readable_files(m: &MqttConfig) -> Result<(), RuleError> {
    if !m.enabled() {
        return Ok(());
    }
    for (key, path) in [
        ("mqtt.password_file", given(&m.password_file)),
        ("mqtt.ca_file", given(&m.ca_file)),
    ] {
        let Some(path) = path else { continue };
        if let Err(err) = std::fs::File::open(path) {
            let fix = match err.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    "make it readable by the service's user (e.g. chgrp rackpi-panel and chmod 640), or pass it as a systemd credential"
                }
                _ => "check the path",
            };
            return Err(RuleError::new(
                key,
                format!(
                    "names {}, which cannot be read ({err}): {fix}",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, problem};
    use super::*;

    fn url(text: &str) -> Result<BrokerUrl, String> {
        BrokerUrl::parse(text)
    }

    #[test]
    fn urls_take_the_default_port_of_their_scheme() {
        let plain = url("mqtt://broker.lan").unwrap();
        assert_eq!(
            (plain.tls, plain.host.as_str(), plain.port),
            (false, "broker.lan", 1883)
        );
        let tls = url("mqtts://broker.lan/").unwrap();
        assert_eq!((tls.tls, tls.port), (true, 8883));
        assert_eq!(url("mqtt://10.0.0.2:1884").unwrap().port, 1884);
        let v6 = url("mqtts://[fd00::1]:9883").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("fd00::1", 9883));
        assert_eq!(url("mqtt://[::1]").unwrap().port, 1883);
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (text, says) in [
            ("http://broker", "mqtt:// or mqtts://"),
            ("broker.lan", "mqtt:// or mqtts://"),
            ("mqtt://", "no host"),
            ("mqtt://broker:0", "from 1 to 65535"),
            ("mqtt://broker:70000", "from 1 to 65535"),
            ("mqtt://user:pw@broker", "mqtt.username"),
            ("mqtt://broker/topic", "without a path"),
            ("mqtt://[::1", "closing"),
        ] {
            let why = url(text).unwrap_err();
            assert!(why.contains(says), "{text}: {why}");
        }
    }

    #[test]
    fn the_section_is_off_and_unchecked_without_a_url() {
        let config = parse("[mqtt]\nkeepalive_s = 1\n").unwrap();
        assert!(!config.mqtt.enabled());
        let config = parse("[mqtt]\nurl = \"mqtt://broker\"\n").unwrap();
        assert!(config.mqtt.enabled());
        assert_eq!(config.mqtt.prefix, "rackpi");
        assert_eq!(config.mqtt.keepalive_s, 30);
    }

    #[test]
    fn the_spec_example_parses() {
        let text = r#"
[mqtt]
url = "mqtt://broker.lan:1883"
node = ""
prefix = "rackpi"
username = ""
password_file = ""
ca_file = ""
keepalive_s = 30
publish_s = 60
discovery = true
discovery_prefix = "homeassistant"
rack = true
rack_attention = false
allow_power = false
power_countdown_s = 10
"#;
        let config = parse(text).unwrap();
        assert_eq!(given(&config.mqtt.password_file), None);
        assert_eq!(given(&config.mqtt.ca_file), None);
    }

    #[test]
    fn each_key_names_itself_and_its_line_when_wrong() {
        let with = |line: &str| format!("[mqtt]\nurl = \"mqtt://broker\"\n{line}\n");
        for (line, key) in [
            ("node = \"pi/7\"", "`mqtt.node`"),
            ("node = \"#\"", "`mqtt.node`"),
            ("prefix = \"\"", "`mqtt.prefix`"),
            ("prefix = \"rack/\"", "`mqtt.prefix`"),
            ("discovery_prefix = \"ha/+\"", "`mqtt.discovery_prefix`"),
            ("password_file = \"secret\"", "`mqtt.password_file`"),
            ("ca_file = \"ca.pem\"", "`mqtt.ca_file`"),
            ("keepalive_s = 4", "`mqtt.keepalive_s`"),
            ("keepalive_s = 3601", "`mqtt.keepalive_s`"),
            ("publish_s = 0", "`mqtt.publish_s`"),
            ("power_countdown_s = 2", "`mqtt.power_countdown_s`"),
        ] {
            let msg = problem(&with(line));
            assert!(msg.contains(key), "{line}: {msg}");
            assert!(msg.contains("line 3"), "{line}: {msg}");
        }
        assert!(parse(&with("prefix = \"site/rackpi\"")).is_ok());
        let msg = problem("[mqtt]\nurl = \"tcp://broker\"\n");
        assert!(
            msg.contains("`mqtt.url`") && msg.contains("line 2"),
            "{msg}"
        );
    }

    #[test]
    fn files_that_cannot_be_read_are_named() {
        let mut m = MqttConfig {
            url: "mqtt://broker".into(),
            ..MqttConfig::default()
        };
        m.ca_file = "/nonexistent/ca.pem".into();
        let err = readable_files(&m).unwrap_err();
        assert_eq!(err.key, "mqtt.ca_file");
        assert!(
            err.problem.contains("/nonexistent/ca.pem"),
            "{}",
            err.problem
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        m.ca_file = file.path().into();
        m.password_file = file.path().into();
        assert_eq!(readable_files(&m), Ok(()));
    }
}
