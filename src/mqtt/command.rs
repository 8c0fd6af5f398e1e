//! The commands of `P/N/cmd/NAME`: `identify`, `notify`, `power`, read
//! into the core's [`Command`] with the same limits as the notify socket
//! (`rackpi-panel notify`), or refused with a message naming what was wrong.

use std::time::Duration;

use serde::Deserialize;

use crate::core::{check_text, Command, Level, PowerAction, IDENTIFY_DEFAULT, MAX_IDENTIFY};

/// The largest command payload, in bytes.
pub const MAX_COMMAND: usize = 1024;
pub use crate::core::MAX_MESSAGE_FOR;
/// The most characters of a payload quoted back in an error.
const MAX_QUOTED: usize = 32;

/// Why a command was refused (logged; nothing else happens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Delivered from the broker's retained store, not sent now.
    #[error("the retained command `{0}` is ignored: commands are taken only as they are sent (clear it with `mosquitto_pub -r -n -t TOPIC`)")]
    Retained(String),
    /// No such command.
    #[error("unknown command `{0}` (identify, notify or power)")]
    Unknown(String),
    /// Over [`MAX_COMMAND`].
    #[error("the `{name}` command is {bytes} bytes long: at most {MAX_COMMAND} are taken")]
    TooLong { name: String, bytes: usize },
    /// Not UTF-8.
    #[error("the `{0}` command is not UTF-8 text")]
    NotUtf8(String),
    /// `identify`: not a number of seconds, or too many.
    #[error("identify: {0}")]
    BadSeconds(String),
    /// `notify`: the JSON is not `{"level", "text", "for_s"}`.
    #[error("notify: {0} (send {{\"level\": \"warn\", \"text\": \"…\", \"for_s\": 3600}} or plain text)")]
    BadJson(String),
    /// `notify`: no such level.
    #[error("notify: unknown level `{0}` (info, warn or error)")]
    BadLevel(String),
    /// `notify`: the text or `for_s` is not right.
    #[error("notify: {0}")]
    BadMessage(String),
    /// `power`: not `reboot`, `poweroff` or `cancel`.
    #[error("power: `{0}` is not `reboot`, `poweroff` or `cancel`")]
    BadPower(String),
    /// `power` without `[mqtt] allow_power`.
    #[error(
        "power: `{0}` refused: power from MQTT is off (set [mqtt] allow_power = true to allow it)"
    )]
    PowerNotAllowed(String),
}

/// What is taken from MQTT, by the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandPolicy {
    /// `[mqtt] allow_power`: `cmd/power` is obeyed.
    pub allow_power: bool,
}

impl CommandPolicy {
    /// The command on `cmd/NAME` with `payload`, as delivered (`retained`:
    /// the broker's retain flag on delivery), or why it is refused.
    pub fn accept(
        &self,
        name: &str,
        payload: &[u8],
        retained: bool,
    ) -> Result<Command, CommandError> {
        if retained {
            return Err(CommandError::Retained(quoted(name)));
        }
        let command = parse(name, payload)?;
        match command {
            Command::Power(_) | Command::CancelPower if !self.allow_power => {
                Err(CommandError::PowerNotAllowed(command.name().into()))
            }
            command => Ok(command),
        }
    }
}

/// The command on `cmd/NAME` with `payload`, whatever the policy.
pub fn parse(name: &str, payload: &[u8]) -> Result<Command, CommandError> {
    if !matches!(name, "identify" | "notify" | "power") {
        return Err(CommandError::Unknown(quoted(name)));
    }
    if payload.len() > MAX_COMMAND {
        return Err(CommandError::TooLong {
            name: name.into(),
            bytes: payload.len(),
        });
    }
    let text = std::str::from_utf8(payload).map_err(|_| CommandError::NotUtf8(name.into()))?;
    match name {
        "identify" => identify(text.trim()),
        "notify" => notify(text.trim()),
        _ => power(text.trim()),
    }
}

fn identify(seconds: &str) -> Result<Command, CommandError> {
    if seconds.is_empty() {
        return Ok(Command::Identify {
            lasts: IDENTIFY_DEFAULT,
        });
    }
    let lasts: u64 = seconds.parse().map_err(|_| {
        CommandError::BadSeconds(format!(
            "`{}` is not a whole number of seconds",
            quoted(seconds)
        ))
    })?;
    if lasts > MAX_IDENTIFY.as_secs() {
        return Err(CommandError::BadSeconds(format!(
            "{lasts} s is longer than the {} s allowed",
            MAX_IDENTIFY.as_secs()
        )));
    }
    Ok(Command::Identify {
        lasts: Duration::from_secs(lasts),
    })
}

/// `{"level", "text", "for_s"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyJson {
    level: Option<String>,
    text: String,
    for_s: Option<f64>,
}

fn notify(payload: &str) -> Result<Command, CommandError> {
    if !payload.starts_with('{') {
        check_text(payload).map_err(CommandError::BadMessage)?;
        return Ok(Command::Notify {
            level: Level::Info,
            text: payload.into(),
            lasts: None,
        });
    }
    let json: NotifyJson =
        serde_json::from_str(payload).map_err(|err| CommandError::BadJson(err.to_string()))?;
    let level = match json.level.as_deref() {
        None => Level::Info,
        Some(name) => Level::from_name(name).ok_or_else(|| CommandError::BadLevel(quoted(name)))?,
    };
    check_text(&json.text).map_err(CommandError::BadMessage)?;
    let lasts = match json.for_s {
        None => None,
        Some(seconds) if seconds > 0.0 && seconds <= MAX_MESSAGE_FOR.as_secs_f64() => {
            Some(Duration::from_secs_f64(seconds))
        }
        Some(seconds) => {
            return Err(CommandError::BadMessage(format!(
                "for_s {seconds} is not a time from 0 to {} s (a message that lasts 0 s would never be seen: leave for_s out)",
                MAX_MESSAGE_FOR.as_secs()
            )))
        }
    };
    Ok(Command::Notify {
        level,
        text: json.text,
        lasts,
    })
}

fn power(payload: &str) -> Result<Command, CommandError> {
    match payload {
        "reboot" => Ok(Command::Power(PowerAction::Reboot)),
        "poweroff" => Ok(Command::Power(PowerAction::Shutdown)),
        "cancel" => Ok(Command::CancelPower),
        other => Err(CommandError::BadPower(quoted(other))),
    }
}

/// `text` fit to quote in a log line (no sender adds a line to the log).
fn quoted(text: &str) -> String {
    crate::core::printable(text, MAX_QUOTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: CommandPolicy = CommandPolicy { allow_power: true };
    const NO_POWER: CommandPolicy = CommandPolicy { allow_power: false };

    fn refused(name: &str, payload: &str) -> String {
        parse(name, payload.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn identify_takes_seconds_empty_is_a_minute_and_zero_ends_it() {
        let identify = |secs| {
            Ok(Command::Identify {
                lasts: Duration::from_secs(secs),
            })
        };
        assert_eq!(parse("identify", b""), identify(60));
        assert_eq!(parse("identify", b" 90\n"), identify(90));
        assert_eq!(parse("identify", b"0"), identify(0));
        assert_eq!(parse("identify", b"3600"), identify(3600));
        assert_eq!(
            refused("identify", "3601"),
            "identify: 3601 s is longer than the 3600 s allowed"
        );
        assert_eq!(
            refused("identify", "1m"),
            "identify: `1m` is not a whole number of seconds"
        );
        assert!(parse("identify", b"-5").is_err());
    }

    #[test]
    fn notify_takes_json_or_plain_text_as_info() {
        assert_eq!(
            parse("notify", b"backup done\n"),
            Ok(Command::Notify {
                level: Level::Info,
                text: "backup done".into(),
                lasts: None
            })
        );
        assert_eq!(
            parse(
                "notify",
                br#"{"level": "error", "text": "restic: backup failed", "for_s": 3600}"#
            ),
            Ok(Command::Notify {
                level: Level::Error,
                text: "restic: backup failed".into(),
                lasts: Some(Duration::from_secs(3600))
            })
        );
        assert_eq!(
            parse("notify", br#"{"text": "hi"}"#),
            Ok(Command::Notify {
                level: Level::Info,
                text: "hi".into(),
                lasts: None
            })
        );
    }

    #[test]
    fn a_wrong_notify_says_what_is_wrong() {
        assert_eq!(
            refused("notify", r#"{"level": "fatal", "text": "x"}"#),
            "notify: unknown level `fatal` (info, warn or error)"
        );
        assert!(refused("notify", r#"{"level": "warn", "msg": "x"}"#)
            .starts_with("notify: unknown field `msg`"));
        assert!(refused("notify", r#"{"text": "x""#).contains("EOF while parsing"));
        assert_eq!(refused("notify", "  "), "notify: the message is empty");
        assert!(refused("notify", &"x".repeat(201)).contains("201 bytes long"));
        assert!(refused("notify", r#"{"text": "x", "for_s": 0}"#).contains("would never be seen"));
        assert!(refused("notify", r#"{"text": "x", "for_s": 2592001}"#).contains("2592000 s"));
    }

    #[test]
    fn power_is_reboot_poweroff_or_cancel_and_only_when_allowed() {
        let power = |p| Ok(Command::Power(p));
        assert_eq!(
            ALLOWED.accept("power", b"reboot", false),
            power(PowerAction::Reboot)
        );
        assert_eq!(
            ALLOWED.accept("power", b"poweroff\n", false),
            power(PowerAction::Shutdown)
        );
        assert_eq!(
            ALLOWED.accept("power", b"cancel", false),
            Ok(Command::CancelPower)
        );
        assert_eq!(
            refused("power", "shutdown"),
            "power: `shutdown` is not `reboot`, `poweroff` or `cancel`"
        );
        assert_eq!(
            NO_POWER.accept("power", b"reboot", false).unwrap_err().to_string(),
            "power: `reboot` refused: power from MQTT is off (set [mqtt] allow_power = true to allow it)"
        );
        assert_eq!(
            NO_POWER.accept("power", b"cancel", false),
            Err(CommandError::PowerNotAllowed("cancel".into()))
        );
        assert!(NO_POWER.accept("identify", b"", false).is_ok());
    }

    #[test]
    fn a_retained_command_is_refused_whatever_it_says() {
        for (name, payload) in [("power", "reboot"), ("identify", ""), ("bogus", "x")] {
            assert_eq!(
                ALLOWED.accept(name, payload.as_bytes(), true),
                Err(CommandError::Retained(name.into()))
            );
        }
    }

    #[test]
    fn unknown_long_or_binary_commands_are_refused() {
        assert_eq!(
            refused("reboot\n", ""),
            "unknown command `reboot\\n` (identify, notify or power)"
        );
        assert_eq!(
            refused("notify", &"x".repeat(1025)),
            "the `notify` command is 1025 bytes long: at most 1024 are taken"
        );
        assert_eq!(
            parse("notify", b"\xff\xfe").unwrap_err().to_string(),
            "the `notify` command is not UTF-8 text"
        );
    }
}
