//! What the pages show, as plain data, and where it comes from: the running
//! system (sysinfo, /proc, /sys, netlink) or fixed sample data.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use crate::config::PageKind;

/// Everything the pages can show. Collected elsewhere, drawn by `layout`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    /// The machine's hostname.
    pub hostname: String,
    /// The address shown on the info page; `None` = no network.
    pub ip: Option<IpAddr>,
    /// Busy share of all cores over the last refresh interval, 0–100;
    /// `None` until two readings exist.
    pub cpu_percent: Option<f32>,
    /// (total − available) / total, 0–100.
    pub mem_percent: f32,
    /// Total memory in bytes.
    pub mem_total: u64,
    /// SoC temperature in °C, if the machine has a thermal zone.
    pub temperature_c: Option<f32>,
    /// Root filesystem usage, 0–100.
    pub disk_percent: Option<f32>,
    /// Time since boot.
    pub uptime: Duration,
    /// Each interface's IPv4 address (loopback, docker, veth and bridges left out).
    pub interfaces: Vec<(String, IpAddr)>,
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
            disk_percent: Some(37.0),
            uptime: Duration::from_secs(3 * 86_400 + 4 * 3_600),
            interfaces: vec![("eth0".into(), IpAddr::from([192, 168, 1, 42]))],
        }
    }
}

/// A source of [`Stats`].
pub trait StatsSource {
    /// Fresh figures for `page` (figures other pages need may be stale).
    fn sample(&mut self, page: PageKind) -> Stats;
}

/// Always the same sample data.
#[derive(Debug, Default)]
pub struct FakeStats;

impl StatsSource for FakeStats {
    fn sample(&mut self, _page: PageKind) -> Stats {
        Stats::sample()
    }
}

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

/// The running system's figures.
pub struct SystemStats {
    /// `None` where sysinfo cannot read this system: CPU and memory then read 0.
    system: Option<sysinfo::System>,
    interface: String,
    cpu_baseline: std::time::Instant,
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
            cpu_baseline: std::time::Instant::now(),
            stats: Stats::default(),
        }
    }

    fn refresh_info(&mut self) {
        let s = &mut self.stats;
        if let Some(system) = self.system.as_mut() {
            // A reading closer than this to the baseline is noise: keep the last one.
            if self.cpu_baseline.elapsed() >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL {
                system.refresh_cpu_usage();
                s.cpu_percent = Some(system.global_cpu_usage().clamp(0.0, 100.0));
            }
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
            PageKind::Info => {}
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

    #[test]
    fn the_running_system_gives_sane_figures() {
        let mut stats = SystemStats::new("");
        std::thread::sleep(sysinfo::MINIMUM_CPU_UPDATE_INTERVAL);
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
