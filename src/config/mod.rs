//! The configuration file: one plain struct with a documented default on every
//! field, parsed and validated before any hardware is touched. Here: loading
//! and the public surface; the jobs are in one file each.

mod error;
mod lines;
mod programs;
mod read;
mod rules;
mod schema;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, RuleError};
pub(crate) use read::file_kind;
pub use schema::{
    AttentionConfig, Bias, ButtonConfig, Config, DisplayConfig, LedConfig, LineSelector,
    NetworkConfig, PageConfig, PageOrigin, PanelSize, PowerConfig, Rotation,
};

use lines::KeyLines;
use programs::DEFAULT_SEARCH_PATH;
use read::read_config_file;

/// Where `run` and `check` look for the configuration when none is named.
pub(crate) const DEFAULT_PATH: &str = "/etc/rackpi-panel/config.toml";

/// Exit status for a configuration problem (`EX_CONFIG` from sysexits.h).
pub const EXIT_CONFIG: i32 = 78;

impl Config {
    /// Reads the file at `path`, or, when `path` is `None`, the default file if
    /// it exists (defaults otherwise). The result is validated, and the power
    /// programs are looked up on the `PATH` of this process.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
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
        Ok(config)
    }

    /// For `rackpi-panel off`, which runs after the daemon died and must
    /// not leave the panel lit because the file on disk is broken: the file
    /// as `load` reads it when it is valid (without looking up the power
    /// programs, which `off` never runs); otherwise whatever of `[led]` and
    /// `[display]` can be read, the defaults for the rest, and a warning.
    pub fn load_lenient(path: Option<&Path>) -> (Config, Option<String>) {
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

    /// Checks that each power program can be run: a path must be an
    /// executable file, a bare name must be one in a directory of
    /// `search_path` (a `PATH` value). Found now rather than when someone has
    /// held the button for 8 s.
    pub fn check_programs(&self, path: &Path, search_path: &OsStr) -> Result<(), ConfigError> {
        self.check_programs_in(path, search_path, "")
    }

    /// As `check_programs`, with the text of the file to name the line of
    /// the key.
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
            message: err.to_string().trim_end().to_string(),
        })?;
        let lines = KeyLines::of(text);
        rules::line_given_once(&lines)
            .and_then(|()| crate::core::Rules::try_from(&config))
            .map_err(|err| err.in_file(path, &lines))?;
        Ok(config)
    }

    /// Checks every value; the first problem found is returned.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        crate::core::Rules::try_from(self)
            .map(drop)
            .map_err(|err| err.in_file(path, &KeyLines::of("")))
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
    use super::programs::find_program;
    use super::read::MAX_FILE_BYTES;
    use super::*;
    use crate::core::{CustomPage, PageKind, PageName, Rules, REFRESH};
    use std::time::Duration;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    fn problem(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn ignore_units_takes_full_unit_names_and_patterns_only() {
        let msg = problem("[attention]\nignore_units = [\"apt-daily\"]\n");
        assert!(msg.contains("attention.ignore_units"), "{msg}");
        assert!(msg.contains("\"apt-daily.service\""), "{msg}");
        let config = parse(
            "[attention]\nignore_units = [\"apt-daily.timer\", \"apt-*\", \"user@?.service\"]\n",
        )
        .unwrap();
        assert!(Rules::try_from(&config).is_ok());
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
    fn inconsistent_thresholds_name_the_key() {
        let msg = problem("[button]\nshutdown_after_s = 7.0\n");
        assert!(msg.contains("`button.shutdown_after_s`"), "{msg}");
        assert!(msg.contains("reboot_after_s"), "{msg}");
        let msg = problem("[button]\ncancel_after_s = 12.0\n");
        assert!(msg.contains("`button.cancel_after_s`"), "{msg}");
        let msg = problem("[button]\ndebounce_ms = 0\n");
        assert!(msg.contains("`button.debounce_ms`"), "{msg}");
        let msg = problem("[button]\nreboot_after_s = -1.0\n");
        assert!(msg.contains("`button.reboot_after_s`"), "{msg}");
        let msg = problem("[button]\nreboot_after_s = nan\n");
        assert!(msg.contains("`button.reboot_after_s`"), "{msg}");
    }

    #[test]
    fn display_values_out_of_range_name_the_key() {
        for (text, key) in [
            ("address = 0x80", "display.address"),
            ("address = 0", "display.address"),
            ("rotation = 90", "display.rotation"),
            ("contrast = 256", "display.contrast"),
            ("timeout_s = -1", "display.timeout_s"),
            ("pages = []", "display.pages"),
            ("pages = [\"info\", \"weather\"]", "display.pages"),
            ("pages = [\"info\", \"info\"]", "display.pages"),
            ("bus = \"\"", "display.bus"),
        ] {
            let msg = problem(&format!("[display]\n{text}\n"));
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
        }
        let msg = problem("[display]\nsize = \"96x16\"\n");
        assert!(msg.contains("96x16"), "{msg}");
    }

    #[test]
    fn power_commands_and_lines_must_name_something() {
        let msg = problem("[power]\nreboot = []\n");
        assert!(msg.contains("`power.reboot`"), "{msg}");
        let msg = problem("[power]\nshutdown = [\"\"]\n");
        assert!(msg.contains("`power.shutdown`"), "{msg}");
        let msg = problem("[button]\nchip = \"/dev/gpiochip0\"\n");
        assert!(msg.contains("`button.offset`"), "{msg}");
        let msg = problem("[led]\nline = \"\"\n");
        assert!(msg.contains("`led.line`"), "{msg}");
    }

    #[test]
    fn settle_s_defaults_to_120_s_and_reaches_the_rules() {
        assert_eq!(Rules::default().settle, Duration::from_secs(120));
        let t = Rules::try_from(&parse("[power]\nsettle_s = 30\n").unwrap()).unwrap();
        assert_eq!(t.settle, Duration::from_secs(30));
        assert!(parse("[power]\nsettle_s = 3600\n").is_ok());
        for text in [
            "settle_s = -1",
            "settle_s = 0",
            "settle_s = 9",
            "settle_s = 3601",
        ] {
            let msg = problem(&format!("[power]\n{text}\n"));
            assert!(msg.contains("`power.settle_s`"), "{text}: {msg}");
        }
    }

    #[test]
    fn nul_bytes_are_refused_in_every_path_name_and_command() {
        for (text, key) in [
            ("[display]\nbus = \"/dev/i2c\\u0000-1\"", "display.bus"),
            (
                "[button]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 1",
                "button.chip",
            ),
            (
                "[led]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 1",
                "led.chip",
            ),
            ("[led]\nline = \"GPIO23\\u0000\"", "led.line"),
            ("[network]\ninterface = \"\\u0000\"", "network.interface"),
            (
                "[power]\nreboot = [\"/sbin/reboot\\u0000\"]",
                "power.reboot",
            ),
            (
                "[power]\nshutdown = [\"systemctl\", \"\\u0000\"]",
                "power.shutdown",
            ),
        ] {
            let msg = problem(text);
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
            assert!(msg.contains("NUL"), "{text}: {msg}");
        }
    }

    #[test]
    fn a_blank_program_is_refused() {
        for text in ["reboot = [\" \"]", "reboot = [\"\\t\", \"now\"]"] {
            let msg = problem(&format!("[power]\n{text}\n"));
            assert!(msg.contains("`power.reboot`"), "{text}: {msg}");
        }
    }

    #[test]
    fn the_led_cannot_share_the_buttons_line() {
        let msg = problem("[button]\nline = \"GPIO23\"\n");
        assert!(msg.contains("`led.line`"), "{msg}");
        let msg = problem(
            "[button]\nchip = \"/dev/gpiochip4\"\noffset = 7\n[led]\nchip = \"/dev/gpiochip4\"\noffset = 7\n",
        );
        assert!(msg.contains("`led.offset`"), "{msg}");
        // by name and by offset cannot be compared without the hardware
        assert!(parse("[led]\nchip = \"/dev/gpiochip0\"\noffset = 20\n").is_ok());
        assert!(parse("[led]\nline = \"GPIO21\"\n").is_ok());
    }

    /// A config showing `backup` after the built-in pages, with `page`
    /// as its `[[page]]` body.
    fn with_page(page: &str) -> String {
        format!(
            "[display]\npages = [\"info\", \"system\", \"network\", \"backup\"]\n\n[[page]]\nname = \"backup\"\n{page}\n"
        )
    }

    #[test]
    fn a_command_page_parses_into_the_rules_with_its_defaults() {
        let config = parse(&with_page("command = [\"restic\", \"snapshots\"]")).unwrap();
        let page = &config.custom_pages[0];
        assert_eq!(
            page.origin(),
            PageOrigin::Command {
                argv: vec!["restic".into(), "snapshots".into()],
                timeout: Duration::from_secs(5),
            }
        );
        let rules = Rules::try_from(&config).unwrap();
        let name = PageName::new("backup").unwrap();
        assert_eq!(rules.pages[3], PageKind::Custom(name));
        assert_eq!(
            rules.custom_pages,
            vec![CustomPage {
                name,
                every: Duration::from_secs(30)
            }]
        );
        let config = parse(&with_page("file = \"/run/backup/status\"")).unwrap();
        assert_eq!(
            config.custom_pages[0].origin(),
            PageOrigin::File("/run/backup/status".into())
        );
        assert_eq!(config.custom_pages[0].every(), REFRESH);
        let config = parse(&with_page(
            "command = [\"restic\"]\nevery_s = 600\ntimeout_s = 60",
        ))
        .unwrap();
        assert_eq!(config.custom_pages[0].every(), Duration::from_secs(600));
    }

    #[test]
    fn a_page_needs_exactly_one_of_command_and_file() {
        let msg = problem(&with_page("command = [\"true\"]\nfile = \"/run/x\""));
        assert!(
            msg.contains("`page.file`") && msg.contains("line 7"),
            "{msg}"
        );
        assert!(msg.contains("either command or file"), "{msg}");
        let msg = problem(&with_page(""));
        assert!(msg.contains("`page.command` is missing"), "{msg}");
        assert!(msg.contains("line 4"), "the [[page]] header: {msg}");
    }

    #[test]
    fn a_page_name_is_a_free_identifier_that_display_pages_shows() {
        for (name, why) in [
            ("info", "built-in page"),
            ("attention", "built-in page"),
            ("my backup", "letters, digits"),
            ("1st", "beginning with a letter"),
            ("", "letters, digits"),
            ("a-name-that-is-too-long", "1 to 16"),
        ] {
            let text = format!("[[page]]\nname = \"{name}\"\ncommand = [\"true\"]\n");
            let msg = problem(&text);
            assert!(msg.contains("`page.name`"), "{name}: {msg}");
            assert!(msg.contains("line 2"), "{name}: {msg}");
            assert!(msg.contains(why), "{name}: {msg}");
        }
        let msg = problem(&format!(
            "{}\n[[page]]\nname = \"backup\"\nfile = \"/run/x\"\n",
            with_page("command = [\"true\"]")
        ));
        assert!(msg.contains("again") && msg.contains("line 9"), "{msg}");
        let msg = problem("[[page]]\nname = \"backup\"\ncommand = [\"true\"]\n");
        assert!(msg.contains("`page.name`"), "{msg}");
        assert!(msg.contains("display.pages does not name"), "{msg}");
    }

    #[test]
    fn display_pages_may_only_name_pages_that_are_defined() {
        let msg = problem("[display]\npages = [\"info\", \"backup\"]\n");
        assert!(
            msg.contains("`display.pages`") && msg.contains("line 2"),
            "{msg}"
        );
        assert!(
            msg.contains("\"backup\"") && msg.contains("no [[page]]"),
            "{msg}"
        );
        let msg = problem(&format!(
            "{}[display]\npages = [\"backup\", \"pihole\"]\n",
            "[[page]]\nname = \"backup\"\nfile = \"/run/x\"\n"
        ));
        assert!(msg.contains("\"pihole\""), "{msg}");
        assert!(msg.contains("the [[page]] names are \"backup\""), "{msg}");
        let msg = problem("[display]\npages = [\"info\", \"attention\"]\n");
        assert!(msg.contains("attention"), "{msg}");
    }

    #[test]
    fn page_commands_and_files_must_name_something_usable() {
        for (body, key, why) in [
            ("command = []", "page.command", "is empty"),
            ("command = [\" \"]", "page.command", "blank program"),
            ("command = [\"true\", \"a\\u0000b\"]", "page.command", "NUL"),
            ("file = \"status.txt\"", "page.file", "absolute path"),
            ("file = \"/run/a\\u0000b\"", "page.file", "NUL"),
            (
                "file = \"/run/x\"\nevery_s = 10",
                "page.every_s",
                "command pages only",
            ),
            (
                "file = \"/run/x\"\ntimeout_s = 1",
                "page.timeout_s",
                "command pages only",
            ),
        ] {
            let msg = problem(&with_page(body));
            assert!(msg.contains(&format!("`{key}`")), "{body}: {msg}");
            assert!(msg.contains(why), "{body}: {msg}");
            assert!(msg.contains("page \"backup\""), "{body}: {msg}");
        }
    }

    #[test]
    fn page_times_are_checked_against_each_other() {
        for (body, key, why) in [
            ("every_s = 1", "page.every_s", "from 2 to 86400"),
            ("every_s = 86401", "page.every_s", "from 2 to 86400"),
            ("timeout_s = 0", "page.timeout_s", "from 1 to 600"),
            (
                "timeout_s = 601\nevery_s = 3600",
                "page.timeout_s",
                "from 1 to 600",
            ),
            ("every_s = 5", "page.timeout_s", "less than every_s (5)"),
            (
                "every_s = 10\ntimeout_s = 10",
                "page.timeout_s",
                "less than every_s",
            ),
        ] {
            let msg = problem(&with_page(&format!("command = [\"true\"]\n{body}")));
            assert!(msg.contains(&format!("`{key}`")), "{body}: {msg}");
            assert!(msg.contains(why), "{body}: {msg}");
        }
        assert!(parse(&with_page(
            "command = [\"true\"]\nevery_s = 2\ntimeout_s = 1"
        ))
        .is_ok());
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
    fn page_programs_are_looked_up_like_power_programs() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let text = format!(
            "{}\n[[page]]\nname = \"other\"\ncommand = [\"read-me\"]\n",
            with_page("command = [\"run-me\"]").replace("\"backup\"]", "\"backup\", \"other\"]")
        );
        let mut config = parse(&text).unwrap();
        config.power.reboot = vec!["run-me".into()];
        config.power.shutdown = vec!["run-me".into()];
        let msg = config
            .check_programs_in(Path::new("c.toml"), bin, &text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`page.command` of page \"other\""), "{msg}");
        assert!(msg.contains("line 10") && msg.contains("read-me"), "{msg}");
        config.custom_pages[1].command = Some(vec!["run-me".into()]);
        assert!(config.check_programs(Path::new("c.toml"), bin).is_ok());
    }

    /// A directory holding an executable `run-me`, a non-executable
    /// `read-me` and a directory `dir-me`.
    fn programs() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for (name, mode) in [("run-me", 0o755), ("read-me", 0o644)] {
            let path = dir.path().join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::fs::create_dir(dir.path().join("dir-me")).unwrap();
        dir
    }

    #[test]
    fn find_program_searches_each_path_directory_for_an_executable_file() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let search = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert_eq!(
            find_program("run-me", &search),
            Some(dir.path().join("run-me"))
        );
        assert_eq!(find_program("read-me", bin), None);
        assert_eq!(find_program("dir-me", bin), None);
        assert_eq!(find_program("missing", bin), None);
        assert_eq!(find_program("run-me", OsStr::new("")), None);
        assert_eq!(find_program("run-me", OsStr::new("/nonexistent")), None);
        assert_eq!(find_program("", bin), None);
        // a name with a slash is a path, not searched
        let full = dir.path().join("run-me");
        assert_eq!(
            find_program(full.to_str().unwrap(), OsStr::new("")),
            Some(full)
        );
        let full = dir.path().join("read-me");
        assert_eq!(find_program(full.to_str().unwrap(), bin), None);
        assert_eq!(find_program("dir-me/run-me", bin), None);
    }

    #[test]
    fn check_programs_names_the_key_and_where_it_looked() {
        let dir = programs();
        let bin = dir.path().as_os_str();
        let mut config = Config::default();
        config.power.reboot = vec!["run-me".into()];
        config.power.shutdown = vec![dir.path().join("run-me").to_string_lossy().into()];
        assert!(config.check_programs(Path::new("c.toml"), bin).is_ok());
        config.power.shutdown = vec!["read-me".into(), "now".into()];
        let msg = config
            .check_programs(Path::new("c.toml"), bin)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`power.shutdown`"), "{msg}");
        assert!(msg.contains("read-me"), "{msg}");
        assert!(msg.contains(&*bin.to_string_lossy()), "{msg}");
        config.power.shutdown = vec![dir.path().join("read-me").to_string_lossy().into()];
        let msg = config
            .check_programs(Path::new("c.toml"), bin)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("not an executable file"), "{msg}");
        config.power.reboot = vec!["/nonexistent/reboot".into()];
        let msg = config
            .check_programs(Path::new("c.toml"), bin)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("`power.reboot`"), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");
    }

    #[test]
    fn a_file_of_exactly_one_mebibyte_is_read_and_one_byte_more_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let limit = MAX_FILE_BYTES as usize;
        std::fs::write(&path, format!("#{}\n", "x".repeat(limit - 2))).unwrap();
        assert_eq!(Config::load(Some(&path)).unwrap(), Config::default());
        std::fs::write(&path, format!("#{}\n", "x".repeat(limit - 1))).unwrap();
        let msg = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(msg.contains("1048577 bytes"), "{msg}");
    }

    #[test]
    fn a_fifo_is_refused_without_blocking_a_reload() {
        // Config::load is what SIGHUP runs inside the main loop: it must
        // return, not wait for a writer.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.toml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let (done, result) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = done.send(Config::load(Some(&path)).map_err(|e| e.to_string()));
        });
        let msg = result
            .recv_timeout(Duration::from_secs(20))
            .expect("Config::load on a FIFO returns instead of blocking")
            .unwrap_err();
        assert!(msg.contains("FIFO"), "{msg}");
        assert!(msg.contains(fifo.to_str().unwrap()), "{msg}");
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
}
