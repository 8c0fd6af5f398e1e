//! What the pages show, as plain data: collected by a `StatsSource` (the
//! running system in `linux`, sample data in `sim`), drawn by `layout`.

use std::net::IpAddr;
use std::time::Duration;

/// Everything the pages can show. Collected elsewhere, drawn by `layout`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// The machine's hostname.
    pub hostname: String,
    /// The address shown on the info page; `None` = no network.
    pub ip: Option<IpAddr>,
    /// Busy share of all cores over the last refresh interval, 0–100;
    /// `None` until the first whole interval has passed.
    pub cpu_percent: Option<f32>,
    /// (total − available) / total, 0–100.
    pub mem_percent: f32,
    /// Total memory in bytes.
    pub mem_total: u64,
    /// SoC temperature in °C, if the machine has a thermal zone.
    pub temperature_c: Option<f32>,
    /// What the Raspberry Pi firmware is doing to the clocks now (shown on
    /// the system page); all false where it cannot tell (not a Pi).
    pub throttling: Throttling,
    /// Root filesystem usage, 0–100.
    pub disk_percent: Option<f32>,
    /// Time since boot.
    pub uptime: Duration,
    /// Each interface's IPv4 address (loopback, docker, veth and bridges left out).
    pub interfaces: Vec<(String, IpAddr)>,
    /// What the custom page being drawn shows (a `[[page]]`).
    pub page_text: PageText,
    /// What the `ups` page shows.
    pub ups: UpsText,
}

/// What the `ups` page shows: upsd's figures, or why there are none.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum UpsText {
    /// Not read yet.
    #[default]
    Pending,
    /// The figures upsd gave.
    Read(UpsFigures),
    /// Why there are none (upsd down, the login refused, the UPS unknown).
    Error(String),
}

/// A UPS's figures, as upsd gave them; a variable the UPS does not report
/// is `None`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UpsFigures {
    /// `ups.status`: tokens such as `OB DISCHRG`.
    pub status: String,
    /// `battery.charge`, 0–100.
    pub charge_percent: Option<f32>,
    /// `battery.runtime`, in seconds.
    pub runtime_s: Option<f32>,
    /// `ups.load`, percent of the rated load.
    pub load_percent: Option<f32>,
}

/// The Raspberry Pi firmware's `get_throttled` bits that say what holds
/// now (bits 0–3; the "has occurred" bits 16–19 are history, not shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttling {
    /// Bit 0: the supply is below 4.63 V now.
    pub under_voltage: bool,
    /// Bit 1: the ARM frequency is capped now.
    pub arm_capped: bool,
    /// Bit 2: the clocks are throttled now.
    pub throttled: bool,
    /// Bit 3: the soft temperature limit is active now.
    pub soft_temp_limit: bool,
}

impl Throttling {
    /// Whether the CPU runs slower than it could (capped, throttled or at
    /// the soft limit).
    pub fn slowed(&self) -> bool {
        self.arm_capped || self.throttled || self.soft_temp_limit
    }
}

/// What a custom page shows: its output, why there is none, or that it is
/// still to come. Never nothing: every case has words on the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageText {
    /// Nothing has come back yet.
    Pending {
        /// The command is running now (`running...`); otherwise `no output yet`.
        running: bool,
    },
    /// The first lines of the output, made drawable (control characters and
    /// escape sequences removed, blank lines left out); may be empty.
    Lines(Vec<String>),
    /// Why there is no output: the command failed or timed out, the file is
    /// missing.
    Error(String),
}

impl Default for PageText {
    fn default() -> Self {
        PageText::Pending { running: false }
    }
}

impl Stats {
    /// The fixed sample data of `--fake-stats` and `render`.
    pub fn sample() -> Stats {
        Stats {
            hostname: "rackpi".into(),
            ip: Some(IpAddr::from([192, 168, 1, 42])),
            cpu_percent: Some(3.0),
            mem_percent: 12.0,
            mem_total: 4 << 30,
            temperature_c: Some(45.0),
            throttling: Throttling::default(),
            disk_percent: Some(37.0),
            uptime: Duration::from_secs(3 * 86_400 + 4 * 3_600),
            interfaces: vec![("eth0".into(), IpAddr::from([192, 168, 1, 42]))],
            page_text: PageText::Lines(vec![
                "last 03:00, 2h ago".into(),
                "snapshot 4f1a2b3c".into(),
                "added 41.2 MiB".into(),
                "repo 12.3 GiB".into(),
            ]),
            ups: UpsText::Read(UpsFigures {
                status: "OL".into(),
                charge_percent: Some(100.0),
                runtime_s: Some(2_820.0),
                load_percent: Some(23.0),
            }),
        }
    }
}
