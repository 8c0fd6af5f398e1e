//! What the panel knows about the world: its pages, its power actions, and
//! the rules (thresholds, timeout, pages) it is configured with.

use std::time::Duration;

/// How long a failed action's reason stays on the screen.
pub const FAILED_SCREEN: Duration = Duration::from_secs(10);
/// The screen is redrawn this often while it is on.
pub const REFRESH: Duration = Duration::from_secs(1);
/// With no screen timeout, the content moves by a pixel this often (burn-in).
pub const SHIFT_EVERY: Duration = Duration::from_secs(180);

/// A page of the info screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// Hostname, IP, CPU and memory.
    Info,
    /// Temperature, disk, uptime.
    System,
    /// Every interface's IPv4 address.
    Network,
    /// What needs a look: failed units and messages. Not named in
    /// `display.pages`: it comes first by itself while there is something
    /// to show.
    Attention,
}

impl PageKind {
    /// Every page, in the default order.
    pub const ALL: [PageKind; 3] = [PageKind::Info, PageKind::System, PageKind::Network];

    /// The name used in the config file and in events.
    pub fn name(self) -> &'static str {
        match self {
            PageKind::Info => "info",
            PageKind::System => "system",
            PageKind::Network => "network",
            PageKind::Attention => "attention",
        }
    }
}

/// Which power action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
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
        }
    }
}
