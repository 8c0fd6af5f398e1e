//! What the panel knows about the world: its pages, its power actions, and
//! the rules (thresholds, timeout, pages) it is configured with.

use std::time::Duration;

/// How long a failed action's reason stays on the screen.
pub const FAILED_SCREEN: Duration = Duration::from_secs(10);
/// The screen is redrawn this often while it is on.
pub const REFRESH: Duration = Duration::from_secs(1);
/// With no screen timeout, the content moves by a pixel this often (burn-in).
pub const SHIFT_EVERY: Duration = Duration::from_secs(180);

/// The longest name a custom page may have: it is the page's title, and
/// leaves room on a 21-column line.
pub const MAX_PAGE_NAME: usize = 16;

/// The name of a custom page (`[[page]] name = "backup"`): 1 to
/// [`MAX_PAGE_NAME`] ASCII letters, digits, `-` or `_`, beginning with a
/// letter. Kept inline (not on the heap) so that [`PageKind`] stays `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageName {
    bytes: [u8; MAX_PAGE_NAME],
    len: u8,
}

impl PageName {
    /// The name, if `name` is a valid page name.
    pub fn new(name: &str) -> Option<PageName> {
        let valid = (1..=MAX_PAGE_NAME).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return None;
        }
        let mut bytes = [0; MAX_PAGE_NAME];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(PageName {
            bytes,
            len: name.len() as u8,
        })
    }

    /// The name as written in the configuration.
    pub fn as_str(&self) -> &str {
        // only ASCII is ever stored (`new`)
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for PageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl std::fmt::Display for PageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A page of the info screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// Hostname, IP, CPU and memory.
    Info,
    /// Temperature, disk, uptime.
    System,
    /// Every interface's IPv4 address.
    Network,
    /// The UPS over NUT: status, charge, runtime, load (SPEC §10).
    Ups,
    /// The rack over MQTT: `RACK 7/8 up`, then the nodes that need a look.
    Rack,
    /// What needs a look: failed units and messages. Not named in
    /// `display.pages`: it comes first by itself while there is something
    /// to show.
    Attention,
    /// A `[[page]]` of the configuration: the first lines of a command's
    /// output or of a file.
    Custom(PageName),
}

impl PageKind {
    /// Every built-in page, in the default order.
    pub const ALL: [PageKind; 3] = [PageKind::Info, PageKind::System, PageKind::Network];

    /// The built-in pages shown only when `display.pages` names them.
    pub const OPTIONAL: [PageKind; 2] = [PageKind::Ups, PageKind::Rack];

    /// The names `display.pages` and `[[page]]` cannot give a custom page.
    pub(crate) const RESERVED: [&'static str; 6] =
        ["info", "system", "network", "attention", "ups", "rack"];

    /// The name used in the config file and in events.
    pub fn name(&self) -> &str {
        match self {
            PageKind::Info => "info",
            PageKind::System => "system",
            PageKind::Network => "network",
            PageKind::Ups => "ups",
            PageKind::Attention => "attention",
            PageKind::Rack => "rack",
            PageKind::Custom(name) => name.as_str(),
        }
    }

    /// The custom page's name, if this is one.
    pub fn custom(&self) -> Option<PageName> {
        match self {
            PageKind::Custom(name) => Some(*name),
            _ => None,
        }
    }
}

impl serde::Serialize for PageKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// How often a custom page is brought up to date while it is on the
/// screen or next in line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomPage {
    pub name: PageName,
    /// Its content is refreshed when it is older than this: a command's
    /// `every_s`; for a file, [`REFRESH`] (it is read at every redraw).
    pub every: Duration,
}

/// Which power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    /// Restart the machine.
    Reboot,
    /// Power the machine off.
    Shutdown,
}

impl PowerAction {
    /// The name used in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            PowerAction::Reboot => "reboot",
            PowerAction::Shutdown => "shutdown",
        }
    }
}

impl serde::Serialize for PowerAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The thresholds and choices the panel runs by, in checked units (the
/// configuration file is turned into these).
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    /// A level change counts once stable this long.
    pub debounce: Duration,
    /// Hold time for the reboot stage.
    pub reboot_after: Duration,
    /// Hold time for the shutdown stage.
    pub shutdown_after: Duration,
    /// Hold time after which the press is cancelled.
    pub cancel_after: Duration,
    /// Switch the display off after this long without a press; `None` = never.
    pub screen_timeout: Option<Duration>,
    /// Keep the screen on at start until an IP address is known.
    pub show_until_ip: bool,
    /// The pages a short press steps through (never empty).
    pub pages: Vec<PageKind>,
    /// How long the machine may stay up after a power command that
    /// succeeded before the panel says the action did not happen and
    /// returns to normal; zero returns at once (a dry run).
    pub settle: Duration,
    /// Failed units that never call for attention.
    pub ignore_units: Vec<String>,
    /// Lines of the attention page on the screen (3 on 32 rows, 5 on 64).
    pub attention_rows: usize,
    /// The `[[page]]` entries, each refreshed only while it is shown or
    /// next in line.
    pub custom_pages: Vec<CustomPage>,
    /// At or above this SoC temperature (°C) the panel calls for
    /// attention; cleared [`TEMP_HYSTERESIS_C`](super::TEMP_HYSTERESIS_C) below.
    pub temp_warn_c: f32,
    /// The rack over MQTT; `None` when `[mqtt] url` is unset.
    pub mqtt: Option<MqttRules>,
}

/// What the core needs of `[mqtt]` (SPEC §9).
#[derive(Debug, Clone, PartialEq)]
pub struct MqttRules {
    /// This panel's node name (its own node is no peer for
    /// `rack_attention`).
    pub node: String,
    /// The state is published this often while nothing changes.
    pub publish_every: Duration,
    /// A peer offline or calling for attention lights this panel's LED.
    pub rack_attention: bool,
    /// `allow_power`: the countdown before a power command from the broker
    /// runs; `None`: such commands are refused.
    pub power_countdown: Option<Duration>,
}

impl Default for Rules {
    /// The documented defaults, the same as an empty configuration file.
    fn default() -> Self {
        Rules {
            debounce: Duration::from_millis(30),
            reboot_after: Duration::from_secs(8),
            shutdown_after: Duration::from_secs(12),
            cancel_after: Duration::from_secs(20),
            screen_timeout: Some(Duration::from_secs(15)),
            show_until_ip: false,
            pages: PageKind::ALL.to_vec(),
            settle: Duration::from_secs(120),
            ignore_units: Vec::new(),
            attention_rows: 3,
            custom_pages: Vec::new(),
            temp_warn_c: 80.0,
            mqtt: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_name_shows_as_written() {
        let name = PageName::new("backup").unwrap();
        assert_eq!(name.to_string(), "backup");
        assert_eq!(format!("{name:?}"), "\"backup\"");
    }
}
