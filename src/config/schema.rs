//! What the file may say: the sections and keys with their defaults, as
//! serde reads them. A value of the wrong type or out of a type's range is
//! refused here; every other rule is in `rules`. Numbers stay as written
//! (`i64`, `f64`) until `rules` checks them, so that a message can quote
//! the value given (`is 1e298`, `is -1`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::core::{PageKind, PageName, REFRESH};

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
    /// Failed systemd units, heat, and how often the power and heat are read.
    pub attention: AttentionConfig,
    /// Where the kernel's files are (tests point it at a directory of their own).
    pub system: SystemConfig,
    /// Custom pages, each a `[[page]]` table: a command's output or a file.
    #[serde(rename = "page")]
    pub custom_pages: Vec<PageConfig>,
    /// The UPS over NUT (SPEC §10); off without `server`.
    pub ups: super::UpsConfig,
    /// The rack over MQTT (off while `url` is empty).
    pub mqtt: MqttConfig,
}

/// The `[mqtt]` section (SPEC §9): the broker, this Pi's topics, Home
/// Assistant discovery, the rack page and power from MQTT.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883); empty = off.
    pub url: String,
    /// This Pi's name in topics; empty = the hostname, lowercased.
    pub node: String,
    /// The first level of every topic (default `rackpi`).
    pub prefix: String,
    /// The login's user name; empty = no login.
    pub username: String,
    /// A file holding the password (else the systemd credential
    /// `mqtt-password`); empty = none.
    pub password_file: PathBuf,
    /// PEM file of the CA that signed the broker's certificate; empty = the
    /// system's trusted roots.
    pub ca_file: PathBuf,
    /// Seconds between keepalive pings (default 30).
    pub keepalive_s: i64,
    /// Seconds between state messages while nothing changes (default 60).
    pub publish_s: i64,
    /// Home Assistant MQTT discovery (default true).
    pub discovery: bool,
    /// Where Home Assistant looks for discovery configs (default `homeassistant`).
    pub discovery_prefix: String,
    /// Follow the other panels under `prefix`: the rack page (default true).
    pub rack: bool,
    /// A peer offline or calling for attention lights this LED (default false).
    pub rack_attention: bool,
    /// Reboot and power off from MQTT (default false).
    pub allow_power: bool,
    /// Seconds of countdown before a power command from MQTT runs (default 10).
    pub power_countdown_s: i64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            node: String::new(),
            prefix: "rackpi".into(),
            username: String::new(),
            password_file: PathBuf::new(),
            ca_file: PathBuf::new(),
            keepalive_s: 30,
            publish_s: 60,
            discovery: true,
            discovery_prefix: "homeassistant".into(),
            rack: true,
            rack_attention: false,
            allow_power: false,
            power_countdown_s: 10,
        }
    }
}

impl MqttConfig {
    /// Whether the panel talks to a broker at all.
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }
}

/// How often a command page runs its command while shown, by default.
pub(crate) const DEFAULT_EVERY_S: i64 = 30;
/// How long a page's command may run, by default.
pub(crate) const DEFAULT_TIMEOUT_S: i64 = 5;

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

/// Where a `[[page]]`'s text comes from (what runs or reads it is a
/// `ports::PageSource`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageOrigin {
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
    pub(crate) fn origin(&self) -> PageOrigin {
        match &self.command {
            Some(argv) => PageOrigin::Command {
                argv: argv.clone(),
                timeout: Duration::from_secs(
                    self.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S).unsigned_abs(),
                ),
            },
            None => PageOrigin::File(self.file.clone().unwrap_or_default()),
        }
    }

    /// How old the content may grow while the page is shown: `every_s`
    /// for a command, one screen refresh for a file.
    pub(crate) fn every(&self) -> Duration {
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
    /// At or above this SoC temperature in °C the panel calls for
    /// attention; cleared 5 °C below (default 80).
    pub temp_warn_c: i64,
    /// The temperature and the Pi firmware's under-voltage and throttling
    /// are read this often, in seconds (default 30).
    pub poll_s: i64,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        Self {
            units: true,
            ignore_units: Vec::new(),
            temp_warn_c: 80,
            poll_s: 30,
        }
    }
}

/// The `[system]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SystemConfig {
    /// Where sysfs is mounted: the thermal zone and the Pi firmware's
    /// `get_throttled` and `rpi_volt` files are read under it (default
    /// `/sys`; tests lay out a directory of their own).
    pub sysfs: PathBuf,
}

impl Default for SystemConfig {
    fn default() -> Self {
        Self {
            sysfs: PathBuf::from("/sys"),
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
    /// How the button line is found.
    pub(crate) fn button_line(&self) -> LineSelector {
        selector(&self.button.line, &self.button.chip, self.button.offset)
    }

    /// How the LED line is found.
    pub(crate) fn led_line(&self) -> LineSelector {
        selector(&self.led.line, &self.led.chip, self.led.offset)
    }

    /// Whether the panel is mounted upside down (rotation 180).
    pub(crate) fn upside_down(&self) -> bool {
        self.display.rotation == Rotation::UpsideDown
    }
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
            if let Some(page) = PageKind::ALL.into_iter().chain(PageKind::OPTIONAL).find(|page| page.name() == name) {
                return Ok(page);
            }
            PageName::new(&name)
                .filter(|_| !PageKind::RESERVED.contains(&name.as_str()))
                .map(PageKind::Custom)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`display.pages` has unknown page {name:?}: the pages are \"info\", \"system\", \"network\", \"ups\", \"rack\" and the names of [[page]] tables (the attention page comes by itself)"
                    ))
                })
        })
        .collect()
}
