//! The configuration file: one plain struct with a documented default on every
//! field, parsed and validated before any hardware is touched.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::AccessFlags;
use serde::Deserialize;

use crate::core::{CustomPage, PageKind, PageName, Rules, MAX_PAGE_NAME, REFRESH};

/// Where `run` and `check` look for the configuration when none is named.
pub const DEFAULT_PATH: &str = "/etc/rackpi-panel/config.toml";

/// Exit status for a configuration problem (`EX_CONFIG` from sysexits.h).
pub const EXIT_CONFIG: i32 = 78;

/// The largest configuration file read: the real one is about 1 KiB, and a
/// limit keeps a wrong path (a log, a disk image) from filling the memory.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Where a bare program name is searched when `PATH` is not set.
pub const DEFAULT_SEARCH_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file named with `--config` does not exist or cannot be read.
    // The OS error is part of the message (a reload logs only the message),
    // so it is deliberately not a `source`: printed with `{:#}` it would
    // appear twice.
    #[error("cannot read config file {path}: {error} (check the path given with --config)")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The path names something other than a regular file: a directory, a
    /// device such as `/dev/zero`, a FIFO or a socket.
    #[error(
        "cannot read config file {path}: it is {kind}, not a regular file \
         (give the path of a TOML file with --config)"
    )]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead, with its article (`a FIFO`).
        kind: &'static str,
    },
    /// The file is larger than any configuration.
    #[error(
        "cannot read config file {path}: it is {size} bytes; a config file is at most 1 MiB \
         (check the path given with --config)"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes, as far as it was measured or read.
        size: u64,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the line and the key.
        message: String,
    },
    /// A key has a value the panel cannot use.
    #[error("config file {path}{}: `{key}` {problem}", at_line(.line))]
    Invalid {
        /// The file (or `<built-in>` for defaults given on the command line).
        path: PathBuf,
        /// The line the key is on, where the file has it.
        line: Option<usize>,
        /// The key, as written in the file (`button.reboot_after_s`).
        key: &'static str,
        /// What is wrong and what is allowed.
        problem: String,
    },
}

/// The whole configuration file. Every section and key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The push button.
    pub button: ButtonConfig,
    /// The status LED.
    pub led: LedConfig,
    /// The OLED.
    pub display: DisplayConfig,
    /// Which address the info page shows.
    pub network: NetworkConfig,
    /// The commands that reboot and power off the machine.
    pub power: PowerConfig,
    /// Failed systemd units.
    pub attention: AttentionConfig,
    /// Custom pages, each a `[[page]]` table: a command's output or a file.
    #[serde(rename = "page")]
    pub custom_pages: Vec<PageConfig>,
}

/// How often a command page runs its command while shown, by default.
pub const DEFAULT_EVERY_S: i64 = 30;
/// How long a page's command may run, by default.
pub const DEFAULT_TIMEOUT_S: i64 = 5;

/// One `[[page]]` table: a page of the first lines of a command's output
/// or of a file, named in `display.pages` by its `name`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageConfig {
    /// The page's name: its title on the panel, and what `display.pages`
    /// calls it (1 to 16 letters, digits, `-`, `_`).
    pub name: String,
    /// Program and arguments whose standard output is the page; run
    /// without a shell, as the service's user.
    pub command: Option<Vec<String>>,
    /// A regular file whose first lines are the page (an absolute path).
    pub file: Option<PathBuf>,
    /// A command page's output is renewed when older than this many
    /// seconds while the page is shown or next (default 30).
    pub every_s: Option<i64>,
    /// A command page's command is killed after this many seconds (default 5).
    pub timeout_s: Option<i64>,
}

/// Where a custom page's content comes from, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageSource {
    /// A command's standard output.
    Command {
        /// Program and arguments (no shell).
        argv: Vec<String>,
        /// Killed, with everything it started, after this long.
        timeout: Duration,
    },
    /// A regular file.
    File(PathBuf),
}

impl PageConfig {
    /// Where the content comes from (`file` when there is no `command`).
    pub fn source(&self) -> PageSource {
        match &self.command {
            Some(argv) => PageSource::Command {
                argv: argv.clone(),
                timeout: Duration::from_secs(
                    self.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S).unsigned_abs(),
                ),
            },
            None => PageSource::File(self.file.clone().unwrap_or_default()),
        }
    }

    /// How old the content may grow while the page is shown: `every_s`
    /// for a command, one screen refresh for a file.
    pub fn every(&self) -> Duration {
        match self.command {
            Some(_) => Duration::from_secs(self.every_s.unwrap_or(DEFAULT_EVERY_S).unsigned_abs()),
            None => REFRESH,
        }
    }
}

/// The `[attention]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttentionConfig {
    /// Follow failed systemd units over D-Bus (default true).
    pub units: bool,
    /// Units whose failure never calls for attention (e.g. `apt-daily.service`).
    pub ignore_units: Vec<String>,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            units: true,
            ignore_units: Vec::new(),
        }
    }
}

/// Line bias, as the GPIO character device offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bias {
    /// The RackPi has an external 10 kΩ pull-up: no internal bias.
    Disabled,
    /// Internal pull-up.
    PullUp,
    /// Internal pull-down.
    PullDown,
}

/// The `[button]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ButtonConfig {
    /// Line name, searched on every GPIO chip (default `GPIO20`).
    pub line: String,
    /// Chip path; with `offset`, used instead of `line`.
    pub chip: Option<PathBuf>,
    /// Line offset on `chip`.
    pub offset: Option<u32>,
    /// Pressed reads 0 (default true: button to GND, pull-up to 3V3).
    pub active_low: bool,
    /// Default `disabled` (external pull-up).
    pub bias: Bias,
    /// A level counts once stable this long (default 30).
    pub debounce_ms: i64,
    /// Hold this long for the reboot stage (default 8).
    pub reboot_after_s: f64,
    /// Hold this long for the shutdown stage (default 12).
    pub shutdown_after_s: f64,
    /// Hold this long to cancel (default 20).
    pub cancel_after_s: f64,
}

impl Default for ButtonConfig {
    fn default() -> Self {
        Self {
            line: "GPIO20".into(),
            chip: None,
            offset: None,
            active_low: true,
            bias: Bias::Disabled,
            debounce_ms: 30,
            reboot_after_s: 8.0,
            shutdown_after_s: 12.0,
            cancel_after_s: 20.0,
        }
    }
}

/// The `[led]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedConfig {
    /// Line name (default `GPIO23`).
    pub line: String,
    /// Chip path; with `offset`, used instead of `line`.
    pub chip: Option<PathBuf>,
    /// Line offset on `chip`.
    pub offset: Option<u32>,
    /// The LED is lit by a 0 (default false).
    pub active_low: bool,
}

impl Default for LedConfig {
    fn default() -> Self {
        Self {
            line: "GPIO23".into(),
            chip: None,
            offset: None,
            active_low: false,
        }
    }
}

/// Panel size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum PanelSize {
    /// 128×32, the RackPi's panel.
    #[serde(rename = "128x32")]
    W128H32,
    /// 128×64.
    #[serde(rename = "128x64")]
    W128H64,
}

impl PanelSize {
    /// Width and height in pixels.
    pub fn dimensions(self) -> (u32, u32) {
        match self {
            PanelSize::W128H32 => (128, 32),
            PanelSize::W128H64 => (128, 64),
        }
    }
}

/// How the panel is mounted, written as degrees in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// `0`: the panel's first row at the top.
    Normal,
    /// `180`: mounted upside down, as on the RackPi.
    UpsideDown,
}

impl<'de> Deserialize<'de> for Rotation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Rotation, D::Error> {
        match i64::deserialize(deserializer)? {
            0 => Ok(Rotation::Normal),
            180 => Ok(Rotation::UpsideDown),
            other => Err(serde::de::Error::custom(format!(
                "`display.rotation` is {other}: it must be 0 or 180"
            ))),
        }
    }
}

/// The `[display]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DisplayConfig {
    /// I2C bus device (default `/dev/i2c-1`).
    pub bus: PathBuf,
    /// 7-bit address (default 0x3c).
    #[serde(deserialize_with = "address")]
    pub address: u8,
    /// Default 128x32.
    pub size: PanelSize,
    /// 0 or 180 (default 180: the RackPi mounts the panel upside down).
    pub rotation: Rotation,
    /// 0 to 255 (default 255).
    #[serde(deserialize_with = "contrast")]
    pub contrast: u8,
    /// Seconds without a press before the display is switched off; 0 = never (default 15).
    pub timeout_s: i64,
    /// Keep the screen on at start until the machine has an IP address.
    pub show_until_ip: bool,
    /// Pages, in the order a short press steps through them.
    #[serde(deserialize_with = "pages")]
    pub pages: Vec<PageKind>,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        Self {
            bus: "/dev/i2c-1".into(),
            address: 0x3c,
            size: PanelSize::W128H32,
            rotation: Rotation::UpsideDown,
            contrast: 255,
            timeout_s: 15,
            show_until_ip: false,
            pages: PageKind::ALL.to_vec(),
        }
    }
}

/// The `[network]` section.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkConfig {
    /// Interface whose address the info page shows; empty = the default route's.
    pub interface: String,
}

/// The `[power]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PowerConfig {
    /// Program and arguments run to reboot (no shell).
    pub reboot: Vec<String>,
    /// Program and arguments run to power off (no shell).
    pub shutdown: Vec<String>,
    /// Seconds the machine may stay up after a command that succeeded before
    /// the panel says the action did not happen (default 120).
    pub settle_s: i64,
}

impl Default for PowerConfig {
    fn default() -> Self {
        Self {
            reboot: vec!["systemctl".into(), "reboot".into()],
            shutdown: vec!["systemctl".into(), "poweroff".into()],
            settle_s: 120,
        }
    }
}

/// How a GPIO line is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineSelector {
    /// By name, on whichever chip has it.
    Named(String),
    /// By chip path and offset.
    Offset {
        /// Chip device.
        chip: PathBuf,
        /// Offset on the chip.
        offset: u32,
    },
}

impl std::fmt::Display for LineSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineSelector::Named(name) => write!(f, "{name}"),
            LineSelector::Offset { chip, offset } => write!(f, "{}:{offset}", chip.display()),
        }
    }
}

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
        config
            .check_programs_in(&shown_path, search_path, &text)
            .map_err(|err| err.located_in(&text))?;
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
    /// a `[[page]]` command.
    fn check_programs_in(
        &self,
        path: &Path,
        search_path: &OsStr,
        text: &str,
    ) -> Result<(), ConfigError> {
        let power = [
            ("power.reboot", &self.power.reboot, None),
            ("power.shutdown", &self.power.shutdown, None),
        ];
        let pages = self
            .custom_pages
            .iter()
            .enumerate()
            .filter_map(|(index, page)| {
                Some(("page.command", page.command.as_ref()?, Some(index)))
            });
        for (key, argv, page) in power.into_iter().chain(pages) {
            let Some(program) = argv.first() else {
                continue;
            };
            if find_program(program, search_path).is_some() {
                continue;
            }
            let of_page = page
                .map(|index| format!("of page \"{}\" ", self.custom_pages[index].name))
                .unwrap_or_default();
            let problem = if program.contains('/') {
                if Path::new(program).exists() {
                    format!("{of_page}names {program}, which is not an executable file: make it executable (chmod +x) or name another program")
                } else {
                    format!("{of_page}names {program}, which does not exist: give the full path of an installed program")
                }
            } else {
                format!(
                    "{of_page}names `{program}`, which is not found on PATH ({}): install it or give its full path",
                    search_path.to_string_lossy()
                )
            };
            return Err(ConfigError::Invalid {
                line: page.and_then(|index| page_line(text, index, key)),
                path: path.to_path_buf(),
                key,
                problem,
            });
        }
        Ok(())
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
        let located = |err: ConfigError| err.located_in(text);
        // `line` has a default, so only the text shows that it was given
        if let Ok(table) = toml::from_str::<toml::Table>(text) {
            for section in ["button", "led"] {
                let keys = table.get(section).and_then(toml::Value::as_table);
                if keys.is_some_and(|k| {
                    k.contains_key("line") && (k.contains_key("chip") || k.contains_key("offset"))
                }) {
                    return Err(located(ConfigError::Invalid {
                        path: path.to_path_buf(),
                        line: None,
                        key: line_key(section, "line"),
                        problem: "is given together with chip and offset: give either the line's name or chip and offset, not both".into(),
                    }));
                }
            }
        }
        config.validate_in(path, text).map_err(located)?;
        Ok(config)
    }

    /// Checks every value; the first problem found is returned.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate_in(path, "")
    }

    /// As `validate`, with the text of the file to say which line of which
    /// `[[page]]` a problem is on.
    fn validate_in(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, problem: String| ConfigError::Invalid {
            line: None,
            path: path.to_path_buf(),
            key,
            problem,
        };
        let b = &self.button;
        for (key, path) in [
            ("button.chip", b.chip.as_deref()),
            ("led.chip", self.led.chip.as_deref()),
            ("display.bus", Some(self.display.bus.as_path())),
        ]
        .into_iter()
        .filter_map(|(key, path)| Some((key, path?)))
        {
            if path.as_os_str().as_bytes().contains(&0) {
                return Err(invalid(key, nul_problem(&path.to_string_lossy())));
            }
        }
        for (key, text) in [
            ("button.line", &b.line),
            ("led.line", &self.led.line),
            ("network.interface", &self.network.interface),
        ]
        .into_iter()
        .chain(self.power.reboot.iter().map(|arg| ("power.reboot", arg)))
        .chain(
            self.power
                .shutdown
                .iter()
                .map(|arg| ("power.shutdown", arg)),
        ) {
            if text.contains('\0') {
                return Err(invalid(key, nul_problem(text)));
            }
        }
        line_choice(&b.line, &b.chip, b.offset)
            .map_err(|(key, problem)| invalid(line_key("button", key), problem))?;
        line_choice(&self.led.line, &self.led.chip, self.led.offset)
            .map_err(|(key, problem)| invalid(line_key("led", key), problem))?;
        let button_line = self.button_line();
        if self.led_line() == button_line {
            let key = match button_line {
                LineSelector::Named(_) => "led.line",
                LineSelector::Offset { .. } => "led.offset",
            };
            return Err(invalid(
                key,
                format!("is the button's line ({button_line}): the LED needs a line of its own"),
            ));
        }
        let d = &self.display;
        if d.bus.as_os_str().is_empty() {
            return Err(invalid(
                "display.bus",
                "is empty: name the I2C device, e.g. \"/dev/i2c-1\"".into(),
            ));
        }
        if !(0x03..=0x77).contains(&d.address) {
            return Err(invalid(
                "display.address",
                format!(
                    "is {:#x}: a 7-bit I2C address is from 0x03 to 0x77 (the SSD1306 uses 0x3c or 0x3d)",
                    d.address
                ),
            ));
        }
        for (key, argv) in [
            ("power.reboot", &self.power.reboot),
            ("power.shutdown", &self.power.shutdown),
        ] {
            match argv.first() {
                None => {
                    return Err(invalid(
                        key,
                        "is empty: give the program and its arguments, e.g. [\"systemctl\", \"reboot\"]"
                            .into(),
                    ))
                }
                Some(program) if program.trim().is_empty() => {
                    return Err(invalid(
                        key,
                        format!(
                            "has a blank program name ({program:?}): give the program and its arguments, e.g. [\"systemctl\", \"reboot\"]"
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
        self.validate_custom_pages(path, text)?;
        Rules::try_from(self).map_err(|RuleError { key, problem }| invalid(key, problem))?;
        Ok(())
    }

    /// Checks each `[[page]]`: a free, well-formed name that `display.pages`
    /// shows; exactly one of `command` and `file`; times in range.
    fn validate_custom_pages(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        for (index, page) in self.custom_pages.iter().enumerate() {
            let invalid = |key: &'static str, problem: String| ConfigError::Invalid {
                path: path.to_path_buf(),
                line: page_line(text, index, key),
                key,
                problem,
            };
            let name = &page.name;
            if PageKind::RESERVED.contains(&name.as_str()) {
                return Err(invalid(
                    "page.name",
                    format!("is \"{name}\", a built-in page: give the [[page]] a name of its own"),
                ));
            }
            if PageName::new(name).is_none() {
                return Err(invalid(
                    "page.name",
                    format!(
                        "is {name:?}: a page name is 1 to {MAX_PAGE_NAME} letters, digits, - or _, beginning with a letter (e.g. \"backup\")"
                    ),
                ));
            }
            if self.custom_pages[..index]
                .iter()
                .any(|other| other.name == *name)
            {
                return Err(invalid(
                    "page.name",
                    format!("is \"{name}\" again: each [[page]] needs a name of its own"),
                ));
            }
            if !self
                .display
                .pages
                .iter()
                .any(|shown| shown.custom().is_some_and(|shown| shown.as_str() == name))
            {
                return Err(invalid(
                    "page.name",
                    format!(
                        "is \"{name}\", which display.pages does not name: add \"{name}\" to display.pages (e.g. pages = [\"info\", \"system\", \"network\", \"{name}\"]) or remove this [[page]]"
                    ),
                ));
            }
            match (&page.command, &page.file) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "page.file",
                        format!("of page \"{name}\" is given together with command: give either command or file"),
                    ))
                }
                (None, None) => {
                    return Err(invalid(
                        "page.command",
                        format!("is missing from page \"{name}\": give command = [\"program\", \"argument\"] or file = \"/path/to/status\""),
                    ))
                }
                (Some(argv), None) => {
                    match argv.first() {
                        None => {
                            return Err(invalid(
                                "page.command",
                                format!("of page \"{name}\" is empty: give the program and its arguments, e.g. [\"pihole\", \"status\"]"),
                            ))
                        }
                        Some(program) if program.trim().is_empty() => {
                            return Err(invalid(
                                "page.command",
                                format!("of page \"{name}\" has a blank program name ({program:?}): give the program and its arguments, e.g. [\"pihole\", \"status\"]"),
                            ))
                        }
                        Some(_) => {}
                    }
                    if let Some(arg) = argv.iter().find(|arg| arg.contains('\0')) {
                        let problem = format!("of page \"{name}\" {}", nul_problem(arg));
                        return Err(invalid("page.command", problem));
                    }
                }
                (None, Some(file)) => {
                    let shown = file.to_string_lossy();
                    if file.as_os_str().as_bytes().contains(&0) {
                        let problem = format!("of page \"{name}\" {}", nul_problem(&shown));
                        return Err(invalid("page.file", problem));
                    }
                    if !file.is_absolute() {
                        return Err(invalid(
                            "page.file",
                            format!("of page \"{name}\" is {shown:?}: give an absolute path (the service runs in /), e.g. \"/run/backup/status\""),
                        ));
                    }
                    for (key, given) in [("page.every_s", page.every_s), ("page.timeout_s", page.timeout_s)] {
                        if given.is_some() {
                            return Err(invalid(
                                key,
                                format!("of page \"{name}\" applies to command pages only: a file is read again at every redraw while the page is shown"),
                            ));
                        }
                    }
                }
            }
            let every = page.every_s.unwrap_or(DEFAULT_EVERY_S);
            let timeout = page.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S);
            if !(2..=86_400).contains(&every) {
                return Err(invalid(
                    "page.every_s",
                    format!("of page \"{name}\" is {every}: it must be from 2 to 86400 seconds"),
                ));
            }
            if !(1..=600).contains(&timeout) {
                return Err(invalid(
                    "page.timeout_s",
                    format!("of page \"{name}\" is {timeout}: it must be from 1 to 600 seconds"),
                ));
            }
            if timeout >= every {
                return Err(invalid(
                    "page.timeout_s",
                    format!("of page \"{name}\" is {timeout}: it must be less than every_s ({every}), so that one run ends before the next is due"),
                ));
            }
        }
        Ok(())
    }

    /// How the button line is found.
    pub fn button_line(&self) -> LineSelector {
        selector(&self.button.line, &self.button.chip, self.button.offset)
    }

    /// How the LED line is found.
    pub fn led_line(&self) -> LineSelector {
        selector(&self.led.line, &self.led.chip, self.led.offset)
    }

    /// Whether the panel is mounted upside down (rotation 180).
    pub fn upside_down(&self) -> bool {
        self.display.rotation == Rotation::UpsideDown
    }
}

/// A configuration value the core's rules cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{key}` {problem}")]
pub struct RuleError {
    /// The key, as written in the file.
    pub key: &'static str,
    /// What is wrong and what is allowed.
    pub problem: String,
}

/// The shortest a hold stage may last, in milliseconds: long enough to see
/// it on the panel and let go within it.
const MIN_STAGE_MS: i64 = 500;

impl TryFrom<&Config> for Rules {
    type Error = RuleError;

    /// The thresholds, timeout, pages and settle time, checked.
    fn try_from(config: &Config) -> Result<Rules, RuleError> {
        let invalid = |key: &'static str, problem: String| RuleError { key, problem };
        let b = &config.button;
        let d = &config.display;
        if b.debounce_ms <= 0 || b.debounce_ms > 1000 {
            return Err(invalid(
                "button.debounce_ms",
                format!("is {}: it must be from 1 to 1000", b.debounce_ms),
            ));
        }
        for (key, value) in [
            ("button.reboot_after_s", b.reboot_after_s),
            ("button.shutdown_after_s", b.shutdown_after_s),
            ("button.cancel_after_s", b.cancel_after_s),
        ] {
            if !value.is_finite() || value <= 0.0 || value > 3600.0 {
                return Err(invalid(
                    key,
                    format!(
                        "is {}: it must be a number of seconds above 0 and at most 3600",
                        shown(value)
                    ),
                ));
            }
        }
        // Compared in whole milliseconds, with room for a person to see each
        // stage and let go in it: 8.0 and 8.0000000001 are one threshold.
        let millis = |seconds: f64| (seconds * 1000.0).round() as i64;
        for (key, value, before_key, before) in [
            (
                "button.reboot_after_s",
                b.reboot_after_s,
                "button.debounce_ms",
                b.debounce_ms,
            ),
            (
                "button.shutdown_after_s",
                b.shutdown_after_s,
                "button.reboot_after_s",
                millis(b.reboot_after_s),
            ),
            (
                "button.cancel_after_s",
                b.cancel_after_s,
                "button.shutdown_after_s",
                millis(b.shutdown_after_s),
            ),
        ] {
            if millis(value) < before + MIN_STAGE_MS {
                return Err(invalid(
                    key,
                    format!(
                        "is {} s: it must be longer than {before_key} ({} s) by at least {} s",
                        shown(value),
                        before as f64 / 1000.0,
                        MIN_STAGE_MS as f64 / 1000.0
                    ),
                ));
            }
        }
        if !(0..=86_400).contains(&d.timeout_s) {
            return Err(invalid(
                "display.timeout_s",
                format!(
                    "is {}: it must be from 0 (never) to 86400 seconds",
                    d.timeout_s
                ),
            ));
        }
        if d.pages.is_empty() {
            return Err(invalid(
                "display.pages",
                "is empty: name at least one of \"info\", \"system\", \"network\"".into(),
            ));
        }
        for (i, page) in d.pages.iter().enumerate() {
            if d.pages[..i].contains(page) {
                let name = page.name();
                return Err(invalid("display.pages", format!("names \"{name}\" twice")));
            }
            if let Some(name) = page.custom() {
                if !config.custom_pages.iter().any(|p| p.name == name.as_str()) {
                    let defined: Vec<String> = config
                        .custom_pages
                        .iter()
                        .map(|p| format!("\"{}\"", p.name))
                        .collect();
                    let defined = if defined.is_empty() {
                        "no [[page]] is defined".to_string()
                    } else {
                        format!("the [[page]] names are {}", defined.join(", "))
                    };
                    return Err(invalid(
                        "display.pages",
                        format!(
                            "has unknown page \"{name}\": the built-in pages are \"info\", \"system\", \"network\", and {defined}"
                        ),
                    ));
                }
            }
        }
        let mut custom_pages = Vec::new();
        for page in &config.custom_pages {
            let Some(name) = PageName::new(&page.name) else {
                return Err(invalid(
                    "page.name",
                    format!("is {:?}: a page name is 1 to {MAX_PAGE_NAME} letters, digits, - or _, beginning with a letter", page.name),
                ));
            };
            custom_pages.push(CustomPage {
                name,
                every: page.every(),
            });
        }
        for unit in &config.attention.ignore_units {
            let pattern = unit.contains(['*', '?']);
            let typed = unit
                .rsplit_once('.')
                .is_some_and(|(name, kind)| !name.is_empty() && UNIT_TYPES.contains(&kind));
            if !pattern && !typed {
                return Err(invalid(
                    "attention.ignore_units",
                    format!(
                        "has {unit:?}, which names no unit: give its full name with its type, e.g. \"{}.service\", or a pattern, e.g. \"{}*\"",
                        unit.trim_end_matches('.'),
                        unit.trim_end_matches('.')
                    ),
                ));
            }
        }
        // under 10 s a real reboot that takes a moment would be called a failure
        if !(10..=3600).contains(&config.power.settle_s) {
            return Err(invalid(
                "power.settle_s",
                format!(
                    "is {}: it must be a number of seconds from 10 to 3600 (the machine needs time to go down)",
                    config.power.settle_s
                ),
            ));
        }
        Ok(Rules {
            debounce: Duration::from_millis(b.debounce_ms.unsigned_abs()),
            reboot_after: Duration::from_secs_f64(b.reboot_after_s),
            shutdown_after: Duration::from_secs_f64(b.shutdown_after_s),
            cancel_after: Duration::from_secs_f64(b.cancel_after_s),
            screen_timeout: match d.timeout_s.unsigned_abs() {
                0 => None,
                s => Some(Duration::from_secs(s)),
            },
            show_until_ip: d.show_until_ip,
            pages: d.pages.clone(),
            settle: Duration::from_secs(config.power.settle_s.unsigned_abs()),
            ignore_units: config.attention.ignore_units.clone(),
            attention_rows: match d.size {
                PanelSize::W128H64 => 5,
                PanelSize::W128H32 => 3,
            },
            custom_pages,
        })
    }
}

/// The types of systemd units, as the suffixes of their names.
const UNIT_TYPES: [&str; 11] = [
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// Reads an integer from 0 to 255 for `key`, saying so when it is not one.
fn byte<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    key: &str,
    range: &str,
) -> Result<u8, D::Error> {
    let value = i64::deserialize(deserializer)?;
    u8::try_from(value)
        .map_err(|_| serde::de::Error::custom(format!("`{key}` is {value}: it must be {range}")))
}

fn address<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    byte(
        deserializer,
        "display.address",
        "a 7-bit I2C address from 0x03 to 0x77 (the SSD1306 uses 0x3c or 0x3d)",
    )
}

fn contrast<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u8, D::Error> {
    byte(deserializer, "display.contrast", "from 0 to 255")
}

/// Reads the page names: a built-in page, or the name of a `[[page]]`
/// (checked against the `[[page]]` tables once the whole file is read).
fn pages<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PageKind>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .into_iter()
        .map(|name| {
            if let Some(page) = PageKind::ALL.into_iter().find(|page| page.name() == name) {
                return Ok(page);
            }
            PageName::new(&name)
                .filter(|_| !PageKind::RESERVED.contains(&name.as_str()))
                .map(PageKind::Custom)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`display.pages` has unknown page {name:?}: the pages are \"info\", \"system\", \"network\" and the names of [[page]] tables (the attention page comes by itself)"
                    ))
                })
        })
        .collect()
}

/// Reads a configuration file without ever blocking or reading more than
/// [`MAX_FILE_BYTES`]: a FIFO, a device or a growing file is refused.
/// The first control character other than tab, newline and carriage
/// return: (line, column, byte), both counted from 1.
fn control_byte(text: &str) -> Option<(usize, usize, u8)> {
    text.lines().enumerate().find_map(|(number, line)| {
        line.char_indices()
            .find(|&(_, c)| c.is_ascii_control() && c != '\t' && c != '\r')
            .map(|(index, c)| (number + 1, line[..index].chars().count() + 1, c as u8))
    })
}

fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    };
    let not_a_file = |file_type: std::fs::FileType| ConfigError::NotAFile {
        path: path.to_path_buf(),
        kind: file_kind(file_type),
    };
    let too_large = |size| ConfigError::TooLarge {
        path: path.to_path_buf(),
        size,
    };
    // Checked before opening: opening a FIFO without a writer, or a device,
    // has effects of its own.
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if !metadata.is_file() {
        return Err(not_a_file(metadata.file_type()));
    }
    // O_NONBLOCK: if the path was swapped for a FIFO since the check, the
    // open returns at once instead of waiting for a writer.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits())
        .open(path)
        .map_err(read_error)?;
    // The check that counts: the file actually opened.
    let metadata = file.metadata().map_err(read_error)?;
    if !metadata.is_file() {
        return Err(not_a_file(metadata.file_type()));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // One byte past the limit tells a file that grew since the check.
    let mut limited = file.take(MAX_FILE_BYTES + 1);
    limited.read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        let now = limited.get_ref().metadata().map_or(0, |m| m.len());
        return Err(too_large(now.max(bytes.len() as u64)));
    }
    String::from_utf8(bytes).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "the file is not UTF-8 text (invalid byte at offset {}): a config file is TOML, which is UTF-8",
            err.utf8_error().valid_up_to()
        ),
    })
}

/// What a file that is not a regular file is, for a message.
pub(crate) fn file_kind(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_socket() {
        "a socket"
    } else {
        "something else"
    }
}

/// Where `program` would be run from: itself when it contains a `/`,
/// otherwise the first executable regular file of that name in a directory
/// of `search_path` (a `PATH` value; empty entries are skipped). `None` when
/// there is no such file.
pub fn find_program(program: &str, search_path: &OsStr) -> Option<PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable_file(&path).then_some(path);
    }
    std::env::split_paths(search_path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable_file(candidate))
}

/// A regular file (after symlinks) this process may execute.
fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
        && nix::unistd::access(path, AccessFlags::X_OK).is_ok()
}

/// The message for a string with a NUL byte, which no path, command or
/// interface name can hold.
fn nul_problem(text: &str) -> String {
    format!(
        "contains a NUL byte ({text:?}): a path, command or name cannot hold one (remove the \\u0000)"
    )
}

fn selector(line: &str, chip: &Option<PathBuf>, offset: Option<u32>) -> LineSelector {
    match (chip, offset) {
        (Some(chip), Some(offset)) => LineSelector::Offset {
            chip: chip.clone(),
            offset,
        },
        _ => LineSelector::Named(line.to_string()),
    }
}

/// Checks that a line is chosen either by name or by chip and offset.
fn line_choice(
    line: &str,
    chip: &Option<PathBuf>,
    offset: Option<u32>,
) -> Result<(), (&'static str, String)> {
    match (chip, offset) {
        (Some(_), None) => Err(("offset", "is missing: `chip` needs an `offset`".into())),
        (None, Some(_)) => Err(("chip", "is missing: `offset` needs a `chip`".into())),
        (None, None) if line.trim().is_empty() => Err((
            "line",
            "is empty: name the GPIO line (e.g. \"GPIO20\") or give chip and offset".into(),
        )),
        _ => Ok(()),
    }
}

/// The full name of a line key, `button.offset` say.
fn line_key(section: &str, key: &str) -> &'static str {
    match (section, key) {
        ("button", "offset") => "button.offset",
        ("button", "chip") => "button.chip",
        ("button", _) => "button.line",
        (_, "offset") => "led.offset",
        (_, "chip") => "led.chip",
        _ => "led.line",
    }
}

/// A number as short as it can be read: `8.5`, `1e298` (not 299 digits).
fn shown(value: f64) -> String {
    let plain = value.to_string();
    if plain.len() <= 12 {
        plain
    } else {
        format!("{value:e}")
    }
}

fn at_line(line: &Option<usize>) -> String {
    line.map(|n| format!(" line {n}")).unwrap_or_default()
}

/// The 1-based line of `key` (`section.name`) in the TOML `text`, where it
/// is written as `name = …` inside `[section]`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let (section, name) = key.split_once('.')?;
    let mut current = "";
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[') {
            current = header.split(']').next().unwrap_or("").trim();
            continue;
        }
        let Some((left, _)) = line.split_once('=') else {
            continue;
        };
        if current == section && left.trim().trim_matches('"') == name {
            return Some(index + 1);
        }
    }
    None
}

/// The 1-based line of `key` (`page.command`) in the `index`-th
/// `[[page]]` table of the TOML `text`, or of the table's header when the
/// key is not written there.
fn page_line(text: &str, index: usize, key: &str) -> Option<usize> {
    let name = key.strip_prefix("page.")?;
    let mut tables = 0;
    let mut header = None;
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            if header.is_some() {
                break;
            }
            let is_page = line
                .strip_prefix("[[")
                .and_then(|rest| rest.split("]]").next())
                .is_some_and(|table| table.trim() == "page");
            if is_page {
                if tables == index {
                    header = Some(number + 1);
                }
                tables += 1;
            }
            continue;
        }
        if header.is_none() {
            continue;
        }
        if let Some((left, _)) = line.split_once('=') {
            if left.trim().trim_matches('"') == name {
                return Some(number + 1);
            }
        }
    }
    header
}

impl ConfigError {
    /// Adds the line of the key an `Invalid` error names, found in `text`.
    fn located_in(self, text: &str) -> ConfigError {
        match self {
            ConfigError::Invalid {
                path,
                line: None,
                key,
                problem,
            } => ConfigError::Invalid {
                line: line_of(text, key),
                path,
                key,
                problem,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            page.source(),
            PageSource::Command {
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
            config.custom_pages[0].source(),
            PageSource::File("/run/backup/status".into())
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
