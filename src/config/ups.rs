//! The `[ups]` section (SPEC §10): which upsd to ask about which UPS, and
//! its rules. Unset `server` means off: no thread, no connection.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{Config, RuleError};
use crate::core::PageKind;

/// upsd's port when `server` names none.
pub(crate) const NUT_PORT: u16 = 3493;
/// How often the UPS is read for attention, by default.
pub(crate) const DEFAULT_POLL_S: i64 = 30;

/// The `[ups]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpsConfig {
    /// upsd's `HOST:PORT` (or `HOST`, port 3493); unset = no UPS.
    pub server: Option<String>,
    /// The UPS's name in upsd's `ups.conf` (default `ups`).
    pub name: String,
    /// A user of upsd's `upsd.users`; unset = no login (reading the
    /// variables needs none).
    pub username: Option<String>,
    /// A file holding that user's password (first line), readable by the
    /// panel's user only.
    pub password_file: Option<PathBuf>,
    /// Seconds between two reads for attention (default 30).
    pub poll_s: i64,
}

impl Default for UpsConfig {
    fn default() -> Self {
        UpsConfig {
            server: None,
            name: "ups".into(),
            username: None,
            password_file: None,
            poll_s: DEFAULT_POLL_S,
        }
    }
}

/// What the UPS reader needs, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsSettings {
    /// `HOST:PORT`.
    pub server: String,
    /// The UPS's name in upsd.
    pub name: String,
    /// Login: the user and the file with its password.
    pub login: Option<(String, PathBuf)>,
    /// How often it is read while the screen is dark.
    pub poll: Duration,
}

impl UpsConfig {
    /// The reader's settings; `None` when no server is set.
    pub fn settings(&self) -> Option<UpsSettings> {
        let server = self.server.as_deref()?;
        let server = if server.ends_with(']') || !server.contains(':') {
            format!("{server}:{NUT_PORT}")
        } else {
            server.to_string()
        };
        Some(UpsSettings {
            server,
            name: self.name.clone(),
            login: self.username.clone().zip(self.password_file.clone()),
            poll: Duration::from_secs(self.poll_s.unsigned_abs()),
        })
    }
}

/// A word sent on a line of NUT's protocol: printable, no blank, no quote.
fn protocol_word(key: &'static str, value: &str, what: &str) -> Result<(), RuleError> {
    let bad = value
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | '\\'));
    if value.is_empty() || value.len() > 64 || bad.is_some() {
        let why = match bad {
            Some(c) => format!("holds {c:?}"),
            None if value.is_empty() => "is empty".into(),
            None => "is longer than 64 characters".into(),
        };
        return Err(RuleError::new(
            key,
            format!(
                "is {value:?}: it {why}; give {what} (letters, digits, `-`, `_`, `.`, no blank)"
            ),
        ));
    }
    Ok(())
}

/// The `[ups]` rules, each checked once.
pub(crate) fn check(config: &Config) -> Result<(), RuleError> {
    let ups = &config.ups;
    let Some(server) = ups.server.as_deref() else {
        if config.display.pages.contains(&PageKind::Ups) {
            return Err(RuleError::new(
                "display.pages",
                "names \"ups\" but [ups] has no server: set `server = \"localhost:3493\"` in [ups], or take \"ups\" out of the pages",
            ));
        }
        return Ok(());
    };
    server_address(server)?;
    protocol_word("ups.name", &ups.name, "the UPS's name in upsd's ups.conf")?;
    if let Some(user) = &ups.username {
        protocol_word("ups.username", user, "a user of upsd.users")?;
    }
    match (&ups.username, &ups.password_file) {
        (Some(_), None) => {
            return Err(RuleError::new(
                "ups.username",
                "is set without `password_file`: give the file holding its password, or leave both out (reading the UPS needs no login)",
            ))
        }
        (None, Some(_)) => {
            return Err(RuleError::new(
                "ups.password_file",
                "is set without `username`: give the upsd user it belongs to",
            ))
        }
        (Some(_), Some(file)) if !file.is_absolute() => {
            return Err(RuleError::new(
                "ups.password_file",
                format!("is {file:?}: give an absolute path (the service does not run in your directory)"),
            ))
        }
        _ => {}
    }
    if !(2..=3600).contains(&ups.poll_s) {
        return Err(RuleError::new(
            "ups.poll_s",
            format!("is {}: it must be from 2 to 3600 seconds", ups.poll_s),
        ));
    }
    Ok(())
}

/// `HOST:PORT` or `HOST`, with a port from 1 to 65535 where one is given.
fn server_address(server: &str) -> Result<(), RuleError> {
    let problem = |why: &str| {
        Err(RuleError::new(
            "ups.server",
            format!("is {server:?}: {why} (for example \"localhost:3493\")"),
        ))
    };
    if server.is_empty() || server.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return problem("give upsd's host and port, without blanks");
    }
    let port = match server.rsplit_once(':') {
        Some((host, _)) if host.starts_with('[') && !host.ends_with(']') => None,
        Some((host, port)) if !host.is_empty() => Some(port),
        Some(_) => return problem("the host is missing"),
        None => None,
    };
    if let Some(port) = port {
        if !port.parse::<u16>().is_ok_and(|p| p > 0) {
            return problem("the port must be a number from 1 to 65535");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, problem};
    use super::*;

    #[test]
    fn unset_server_is_off_and_the_defaults_are_documented() {
        let config = parse("").unwrap();
        assert_eq!(config.ups, UpsConfig::default());
        assert_eq!(config.ups.settings(), None);
        let config = parse("[ups]\nserver = \"nas\"\n").unwrap();
        assert_eq!(
            config.ups.settings(),
            Some(UpsSettings {
                server: "nas:3493".into(),
                name: "ups".into(),
                login: None,
                poll: Duration::from_secs(30),
            })
        );
        let config = parse(
            "[ups]\nserver = \"[::1]:3494\"\nname = \"eaton\"\nusername = \"panel\"\n\
             password_file = \"/etc/rackpi-panel/ups.pass\"\npoll_s = 10\n",
        )
        .unwrap();
        let settings = config.ups.settings().unwrap();
        assert_eq!(settings.server, "[::1]:3494");
        assert_eq!(
            settings.login,
            Some(("panel".into(), "/etc/rackpi-panel/ups.pass".into()))
        );
        assert_eq!(settings.poll, Duration::from_secs(10));
    }

    #[test]
    fn bad_values_are_refused_with_their_line_and_the_fix() {
        assert_eq!(
            problem("[ups]\nserver = \"nas:99999\"\n"),
            "config file test.toml line 2: `ups.server` is \"nas:99999\": the port must be a number from 1 to 65535 (for example \"localhost:3493\")"
        );
        assert_eq!(
            problem("[ups]\nserver = \"nas\"\nname = \"my ups\"\n"),
            "config file test.toml line 3: `ups.name` is \"my ups\": it holds ' '; give the UPS's name in upsd's ups.conf (letters, digits, `-`, `_`, `.`, no blank)"
        );
        assert!(problem("[ups]\nserver = \"nas\"\npoll_s = 1\n")
            .contains("line 3: `ups.poll_s` is 1: it must be from 2 to 3600 seconds"));
        assert!(problem("[ups]\nserver = \"nas\"\nusername = \"panel\"\n")
            .contains("line 3: `ups.username` is set without `password_file`"));
        assert!(
            problem("[ups]\nserver = \"nas\"\nusername = \"u\"\npassword_file = \"p\"\n")
                .contains("line 4: `ups.password_file` is \"p\": give an absolute path")
        );
        assert!(problem("[ups]\nserver = \":3493\"\n").contains("the host is missing"));
    }

    #[test]
    fn the_ups_page_needs_a_server() {
        assert!(problem("[display]\npages = [\"info\", \"ups\"]\n")
            .contains("`display.pages` names \"ups\" but [ups] has no server"));
        let config = parse("[display]\npages = [\"ups\"]\n[ups]\nserver = \"nas\"\n").unwrap();
        assert_eq!(config.display.pages, [PageKind::Ups]);
    }
}
