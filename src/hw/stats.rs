//! The running system's figures for the pages: sysinfo, /proc, /sys and
//! netlink. The only file that knows sysinfo.

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::core::PageKind;
use crate::ports::StatsSource;
use crate::stats::Stats;

/// Interfaces the network page leaves out: loopback, containers, bridges.
pub fn is_virtual_interface(name: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "lo", "docker", "veth", "br-", "virbr", "cni", "flannel", "vxlan",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
        || Path::new("/sys/class/net")
            .join(name)
            .join("bridge")
            .exists()
}

/// Warns once at start when `network.interface` names no interface of this
/// machine (a typo such as `wlan9` would otherwise only show `no network`).
/// `interfaces` is the directory listing them (`/sys/class/net`).
pub fn warn_if_no_such_interface(name: &str, interfaces: &Path) {
    if name.is_empty() || interfaces.join(name).exists() {
        return;
    }
    let mut known: Vec<String> = std::fs::read_dir(interfaces)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    known.sort();
    log::warn!(
        "network.interface = \"{name}\" is not an interface of this machine (it has: {}): the panel shows `no network` until it appears",
        known.join(", ")
    );
}

/// How much less than a second may separate the samples of two refreshes.
/// Refreshes are due on a 1 s grid, but each sample is taken when the loop
/// gets to it, late by a varying amount: a strict 1 s floor would skip every
/// refresh that woke less late than the one before, and show a 2 s figure.
pub const WAKE_JITTER: Duration = Duration::from_millis(100);

/// The CPU figure is re-measured at most once per this interval: one screen
/// refresh ([`crate::core::REFRESH`], 1 s) less [`WAKE_JITTER`]. Well above
/// sysinfo's own minimum, so a reading is never a few milliseconds of noise.
pub const CPU_INTERVAL: Duration = crate::core::REFRESH.saturating_sub(WAKE_JITTER);

const _: () = assert!(CPU_INTERVAL.as_millis() >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.as_millis());

/// The CPU busy share over the last interval of at least [`CPU_INTERVAL`].
#[derive(Debug, Clone, PartialEq)]
pub struct CpuGauge {
    since: Instant,
    percent: Option<f32>,
}

impl CpuGauge {
    /// Starts measuring at `now`, when the baseline reading has just been taken.
    pub fn start(now: Instant) -> Self {
        CpuGauge {
            since: now,
            percent: None,
        }
    }

    /// The busy share at `now`. `measure` gives the busy share since its
    /// previous call; it is called only once a whole interval has passed,
    /// otherwise the last figure is kept. `None` until the first interval.
    pub fn read(&mut self, now: Instant, measure: impl FnOnce() -> f32) -> Option<f32> {
        if now.saturating_duration_since(self.since) >= CPU_INTERVAL {
            self.percent = Some(measure().clamp(0.0, 100.0));
            self.since = now;
        }
        self.percent
    }
}

/// The running system's figures.
pub struct SystemStats {
    /// `None` where sysinfo cannot read this system: CPU and memory then read 0.
    system: Option<sysinfo::System>,
    interface: String,
    cpu: CpuGauge,
    stats: Stats,
}

impl SystemStats {
    /// Starts measuring; `interface` names the interface whose address the info
    /// page shows (empty: the default route's).
    pub fn new(interface: &str) -> SystemStats {
        let system = match sysinfo::System::new() {
            Ok(mut system) => {
                // The first CPU reading only sets the baseline.
                system.refresh_cpu_usage();
                Some(system)
            }
            Err(err) => {
                log::warn!("system statistics unavailable ({err}): CPU and memory read as 0");
                None
            }
        };
        SystemStats {
            system,
            interface: interface.to_string(),
            cpu: CpuGauge::start(Instant::now()),
            stats: Stats::default(),
        }
    }

    fn refresh_info(&mut self) {
        let s = &mut self.stats;
        if let Some(system) = self.system.as_mut() {
            s.cpu_percent = self.cpu.read(Instant::now(), || {
                system.refresh_cpu_usage();
                system.global_cpu_usage()
            });
            system.refresh_memory();
            let total = system.total_memory();
            let available = system.available_memory();
            s.mem_total = total;
            s.mem_percent = if total == 0 {
                0.0
            } else {
                (total.saturating_sub(available) as f64 * 100.0 / total as f64) as f32
            };
        }
        s.hostname = sysinfo::System::host_name().unwrap_or_else(|_| "?".into());
        self.stats.ip = self.address();
    }

    fn address(&self) -> Option<IpAddr> {
        if self.interface.is_empty() {
            local_ip_address::local_ip().ok()
        } else {
            local_ip_address::list_afinet_netifas()
                .ok()?
                .into_iter()
                .find(|(name, ip)| name == &self.interface && ip.is_ipv4())
                .map(|(_, ip)| ip)
        }
    }
}

impl StatsSource for SystemStats {
    fn sample(&mut self, page: PageKind) -> Stats {
        self.refresh_info();
        match page {
            PageKind::Info | PageKind::Attention | PageKind::Custom(_) => {}
            PageKind::System => {
                self.stats.temperature_c = read_temperature();
                self.stats.disk_percent = root_usage();
                self.stats.uptime = Duration::from_secs(sysinfo::System::uptime().unwrap_or(0));
            }
            PageKind::Network => {
                self.stats.interfaces = local_ip_address::list_afinet_netifas()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(name, ip)| ip.is_ipv4() && !is_virtual_interface(name))
                    .collect();
                self.stats.interfaces.sort();
            }
        }
        self.stats.clone()
    }
}

/// The first thermal zone's temperature (the SoC's on a Pi).
fn read_temperature() -> Option<f32> {
    let text = std::fs::read_to_string("/sys/class/thermal/thermal_zone0/temp").ok()?;
    let millidegrees: f32 = text.trim().parse().ok()?;
    Some(millidegrees / 1000.0)
}

/// Used share of the root filesystem, as `df` counts it.
fn root_usage() -> Option<f32> {
    let stat = nix::sys::statvfs::statvfs("/").ok()?;
    let total = stat.blocks() as f64;
    let free = stat.blocks_free() as f64;
    let available = stat.blocks_available() as f64;
    let used = total - free;
    let denominator = used + available;
    (denominator > 0.0).then(|| (used * 100.0 / denominator) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_and_bridges_are_left_out() {
        for name in ["lo", "docker0", "veth12ab", "br-1234", "virbr0"] {
            assert!(is_virtual_interface(name), "{name}");
        }
        for name in ["eth0", "wlan0", "end0"] {
            assert!(!is_virtual_interface(name), "{name}");
        }
    }

    /// A CPU meter that reads 10 %, 20 %, 30 %, … on successive measurements.
    fn counting_meter() -> impl FnMut() -> f32 {
        let mut calls = 0.0;
        move || {
            calls += 10.0;
            calls
        }
    }

    #[test]
    fn the_first_cpu_figure_comes_from_a_whole_interval() {
        let start = Instant::now();
        let mut meter = counting_meter();
        let mut gauge = CpuGauge::start(start);
        // the screen's first draw, right after start: no figure yet, not 0 %
        assert_eq!(gauge.read(start, &mut meter), None);
        assert_eq!(
            gauge.read(start + Duration::from_millis(5), &mut meter),
            None
        );
        assert_eq!(
            gauge.read(start + Duration::from_secs(1), &mut meter),
            Some(10.0)
        );
    }

    #[test]
    fn a_redraw_soon_after_a_refresh_keeps_the_last_interval() {
        let start = Instant::now();
        let mut meter = counting_meter();
        let mut gauge = CpuGauge::start(start);
        let refresh = start + Duration::from_secs(1);
        assert_eq!(gauge.read(refresh, &mut meter), Some(10.0));
        // a press redraws 5 ms, then 500 ms later: the same figure, not a re-measure
        let ms = Duration::from_millis;
        assert_eq!(gauge.read(refresh + ms(5), &mut meter), Some(10.0));
        assert_eq!(gauge.read(refresh + ms(500), &mut meter), Some(10.0));
        // the next refresh, a second after the last one, re-measures
        let next = refresh + Duration::from_secs(1);
        assert_eq!(gauge.read(next, &mut meter), Some(20.0));
        assert_eq!(gauge.read(next + ms(5), &mut meter), Some(20.0));
    }

    #[test]
    fn each_refresh_re_measures_despite_wake_up_jitter() {
        // the loop wakes for a refresh a little after its deadline, by a
        // varying amount: a tick that lands a few ms short of a second after
        // the previous one still starts a new interval
        let start = Instant::now();
        let mut meter = counting_meter();
        let mut gauge = CpuGauge::start(start);
        let ms = Duration::from_millis;
        let ticks = [1_004, 2_001, 3_003, 4_000, 5_002];
        let figures: Vec<_> = ticks
            .iter()
            .map(|&t| gauge.read(start + ms(t), &mut meter))
            .collect();
        assert_eq!(
            figures,
            [10.0, 20.0, 30.0, 40.0, 50.0].map(Some).to_vec(),
            "one measurement per refresh"
        );
    }

    #[test]
    fn the_running_system_gives_sane_figures() {
        let mut stats = SystemStats::new("");
        std::thread::sleep(CPU_INTERVAL);
        let s = stats.sample(PageKind::System);
        let cpu = s.cpu_percent.unwrap();
        assert!((0.0..=100.0).contains(&cpu), "{cpu}");
        assert!(s.mem_percent > 0.0 && s.mem_percent <= 100.0);
        assert!(s.mem_total > 0);
        assert!(!s.hostname.is_empty());
        assert!(s.uptime > Duration::ZERO);
        let disk = s.disk_percent.unwrap();
        assert!((0.0..=100.0).contains(&disk), "{disk}");
    }
}
