//! The configuration file: one plain struct with a documented default on every
//! field, parsed and validated before any hardware is touched. This file loads
//! it and holds the public surface; each job has a file of its own: `schema`
//! (what the file may say), `read` (bounded reading), `rules` (every rule,
//! once, and the conversion to the core's `Rules`), `lines` (where a key is
//! written), `programs` (whether the programs it names can run), `error`,
//! `type_errors` (a value of the wrong type, said in TOML's words).

mod error;
mod lines;
mod mqtt;
mod programs;
mod read;
mod rules;
mod schema;
mod type_errors;
mod ups;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, RuleError};
pub(crate) use mqtt::{given as mqtt_file, BrokerUrl, CREDENTIAL};
pub(crate) use read::file_kind;
pub use schema::{
    AttentionConfig, Bias, ButtonConfig, Config, DisplayConfig, LedConfig, LineSelector,
    MqttConfig, NetworkConfig, PageConfig, PageOrigin, PanelSize, PowerConfig, Rotation,
    SystemConfig,
};
pub use ups::{UpsConfig, UpsSettings};

use lines::KeyLines;
use programs::DEFAULT_SEARCH_PATH;
use read::read_config_file;

/// Where `run` and `check` look for the configuration when none is named.
pub(crate) const DEFAULT_PATH: &str = "/etc/rackpi-panel/config.toml";

/// Exit status for a configuration problem (`EX_CONFIG` from sysexits.h).
pub(crate) const EXIT_CONFIG: i32 = 78;

impl Config {
    /// Reads the file at `path`, or, when `path` is `None`, the default file if
    /// it exists (defaults otherwise). The result is validated, and the power
    /// programs are looked up on the `PATH` of this process.
    pub(crate) fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_PATH), false),
        };
        let mut text = String::new();
        let (config, shown_path) = match read_config_file(&path) {
            Ok(read) => {
                text = read;
                (Self::parse(&text, &path)?, path)
            }
            Err(ConfigError::Read { error, .. })
                if !required && error.kind() == std::io::ErrorKind::NotFound =>
            {
                (Config::default(), PathBuf::from("<built-in>"))
            }
            Err(err) => return Err(err),
        };
        let search_path = std::env::var_os("PATH");
        let search_path = search_path
            .as_deref()
            .unwrap_or(OsStr::new(DEFAULT_SEARCH_PATH));
        config.check_programs_in(&shown_path, search_path, &text)?;
        mqtt::readable_files(&config.mqtt)
            .map_err(|err| err.in_file(&shown_path, &KeyLines::of(&text)))?;
        Ok(config)
    }

    /// For `rackpi-panel off`, which runs after the daemon died and must
    /// not leave the panel lit because the file on disk is broken: the file
    /// as `load` reads it when it is valid (without looking up the power
    /// programs, which `off` never runs); otherwise whatever of `[led]` and
    /// `[display]` can be read, the defaults for the rest, and a warning.
    pub(crate) fn load_lenient(path: Option<&Path>) -> (Config, Option<String>) {
        let (path, required) = match path {
            Some(path) => (path.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_PATH), false),
        };
        let text = match read_config_file(&path) {
            Ok(text) => text,
            Err(ConfigError::Read { error, .. })
                if !required && error.kind() == std::io::ErrorKind::NotFound =>
            {
                return (Config::default(), None)
            }
            Err(err) => {
                let warning = format!("{err}; using the default LED and display");
                return (Config::default(), Some(warning));
            }
        };
        let err = match Self::parse(&text, &path) {
            Ok(config) => return (config, None),
            Err(err) => err,
        };
        let mut config = Config::default();
        let table = text.parse::<toml::Table>().ok();
        let section = |name: &str| table.as_ref().and_then(|t| t.get(name)).cloned();
        let mut used = Vec::new();
        if let Some(led) = section("led").and_then(|v| v.try_into::<LedConfig>().ok()) {
            config.led = led;
            used.push("[led]");
        }
        if let Some(display) = section("display").and_then(|v| v.try_into::<DisplayConfig>().ok()) {
            config.display = display;
            used.push("[display]");
        }
        let used = if used.is_empty() {
            "the default LED and display".to_string()
        } else {
            format!("its {} and defaults for the rest", used.join(" and "))
        };
        (config, Some(format!("{err}; using {used}")))
    }

    /// Checks that each power and page program can be run (see
    /// `programs`), with the text of the file to name the line of the key.
    fn check_programs_in(
        &self,
        path: &Path,
        search_path: &OsStr,
        text: &str,
    ) -> Result<(), ConfigError> {
        programs::check_programs(self, search_path)
            .map_err(|err| err.in_file(path, &KeyLines::of(text)))
    }

    /// Parses and validates the text of a configuration file.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        // the TOML parser would point at the wrong token: name the byte
        if let Some((line, column, byte)) = control_byte(text) {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "line {line}, column {column}: a control character (byte {byte:#04x}) is not allowed in a config file"
                ),
            });
        }
        let config: Config = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_path_buf(),
            message: type_errors::in_toml_words(err.message(), err.span(), text)
                .unwrap_or_else(|| err.to_string().trim_end().to_string()),
        })?;
        let lines = KeyLines::of(text);
        rules::line_given_once(&lines)
            .and_then(|()| crate::core::Rules::try_from(&config))
            .map_err(|err| err.in_file(path, &lines))?;
        Ok(config)
    }
}

/// The first control character other than tab, newline and carriage
/// return: (line, column, byte), both counted from 1.
fn control_byte(text: &str) -> Option<(usize, usize, u8)> {
    text.lines().enumerate().find_map(|(number, line)| {
        line.char_indices()
            .find(|&(_, c)| c.is_ascii_control() && c != '\t' && c != '\r')
            .map(|(index, c)| (number + 1, line[..index].chars().count() + 1, c as u8))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{PageKind, Rules};
    use std::time::Duration;

    pub(super) fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    pub(super) fn problem(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        let t = Rules::try_from(&config).unwrap();
        assert_eq!(t.debounce, Duration::from_millis(30));
        assert_eq!(t.reboot_after, Duration::from_secs(8));
        assert_eq!(t.shutdown_after, Duration::from_secs(12));
        assert_eq!(t.cancel_after, Duration::from_secs(20));
        assert_eq!(t.screen_timeout, Some(Duration::from_secs(15)));
        assert_eq!(
            t.pages,
            vec![PageKind::Info, PageKind::System, PageKind::Network]
        );
        assert_eq!(config.button_line(), LineSelector::Named("GPIO20".into()));
        assert_eq!(config.led_line(), LineSelector::Named("GPIO23".into()));
        assert_eq!(config.display.address, 0x3c);
        assert!(config.upside_down());
    }

    #[test]
    fn the_default_configuration_gives_the_cores_default_rules() {
        assert_eq!(Rules::try_from(&Config::default()), Ok(Rules::default()));
    }

    #[test]
    fn the_spec_example_with_every_default_parses_to_the_defaults() {
        let text = r#"
[button]
line = "GPIO20"
active_low = true
bias = "disabled"
debounce_ms = 30
reboot_after_s = 8.0
shutdown_after_s = 12.0
cancel_after_s = 20.0

[led]
line = "GPIO23"
active_low = false

[display]
bus = "/dev/i2c-1"
address = 0x3c
size = "128x32"
rotation = 180
contrast = 255
timeout_s = 15
show_until_ip = false
pages = ["info", "system", "network"]

[network]
interface = ""

[power]
reboot = ["systemctl", "reboot"]
shutdown = ["systemctl", "poweroff"]
settle_s = 120
"#;
        assert_eq!(parse(text).unwrap(), Config::default());
    }

    #[test]
    fn chip_and_offset_select_a_line_instead_of_its_name() {
        let config = parse("[button]\nchip = \"/dev/gpiochip4\"\noffset = 20\n").unwrap();
        assert_eq!(
            config.button_line(),
            LineSelector::Offset {
                chip: "/dev/gpiochip4".into(),
                offset: 20
            }
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let msg = problem("[button]\ndebounce = 20\n");
        assert!(msg.contains("debounce"), "{msg}");
        assert!(msg.contains("test.toml"), "{msg}");
        let msg = problem("[screen]\ntimeout_s = 3\n");
        assert!(msg.contains("screen"), "{msg}");
    }

    #[test]
    fn wrong_types_are_refused_with_the_line() {
        let msg = problem("[display]\ntimeout_s = \"15\"\n");
        assert!(msg.contains("timeout_s"), "{msg}");
    }

    #[test]
    fn an_unknown_key_in_a_page_is_refused_with_its_name_and_line() {
        let msg = problem(&with_page("command = [\"true\"]\ninterval = 10"));
        assert!(msg.contains("interval"), "{msg}");
        assert!(msg.contains("line 7"), "{msg}");
        let msg = problem(&with_page("command = \"restic snapshots\""));
        assert!(msg.contains("command"), "a string is not an argv: {msg}");
    }

    #[test]
    fn a_read_error_shows_the_os_error_once_in_the_full_chain() {
        let err = Config::load(Some(Path::new("/nonexistent/rackpi.toml"))).unwrap_err();
        let full = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(full.matches("os error 2").count(), 1, "{full}");
    }

    #[test]
    fn a_missing_named_file_is_an_error_naming_it_but_a_missing_default_is_not() {
        let err = Config::load(Some(Path::new("/nonexistent/rackpi.toml"))).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/rackpi.toml"));
        if !Path::new(DEFAULT_PATH).exists() {
            assert_eq!(Config::load(None).unwrap(), Config::default());
        }
    }

    /// A config showing `backup` after the built-in pages, with `page`
    /// as its `[[page]]` body.
    pub(super) fn with_page(page: &str) -> String {
        format!(
            "[display]\npages = [\"info\", \"system\", \"network\", \"backup\"]\n\n[[page]]\nname = \"backup\"\n{page}\n"
        )
    }
}
