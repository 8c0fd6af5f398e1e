//! The running system's figures for the pages: sysinfo and /proc on the
//! loop (answered by the kernel at once), the addresses when the kernel says
//! they changed, the temperature and the disk from a worker. The only file
//! that knows sysinfo.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::app::ports::StatsSource;
use crate::core::PageKind;
use crate::linux::addresses::{self, Addresses};
use crate::linux::netlink::AddressChanges;
use crate::linux::sensors::{SensorPaths, Sensors, Watch};
use crate::linux::ups::UpsPage;
use crate::stats::{Stats, UpsText};

/// Warns once at start when `network.interface` names no interface of this
/// machine (a typo such as `wlan9` would otherwise only show `no network`).
/// `interfaces` is the directory listing them (`/sys/class/net`).
pub(crate) fn warn_if_no_such_interface(name: &str, interfaces: &Path) {
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
pub(crate) const WAKE_JITTER: Duration = Duration::from_millis(100);

/// The CPU figure is re-measured at most once per this interval: one screen
/// refresh ([`crate::core::REFRESH`], 1 s) less [`WAKE_JITTER`]. Well above
/// sysinfo's own minimum, so a reading is never a few milliseconds of noise.
pub(crate) const CPU_INTERVAL: Duration = crate::core::REFRESH.saturating_sub(WAKE_JITTER);

const _: () = assert!(CPU_INTERVAL.as_millis() >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL.as_millis());

/// The CPU busy share over the last interval of at least [`CPU_INTERVAL`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CpuGauge {
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
    /// `None` where netlink is refused: the addresses are then read at each sample.
    address_changes: Option<AddressChanges>,
    /// `None` until read, and again after a change.
    addresses: Option<Addresses>,
    sensors: Sensors,
    /// The UPS reader's page side; `None` without `[ups]`.
    ups: Option<UpsPage>,
    cpu: CpuGauge,
    stats: Stats,
}

impl SystemStats {
    /// Starts measuring; `interface` names the interface whose address the info
    /// page shows (empty: the default route's); the temperature and the Pi
    /// firmware's files are read under `sysfs` (`[system] sysfs`).
    pub fn new(interface: &str, sysfs: &Path) -> SystemStats {
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
        // subscribed before the first read, so that no change falls between
        let address_changes = AddressChanges::subscribe()
            .inspect_err(|err| {
                log::warn!("cannot follow address changes ({err}): the addresses are read at every refresh");
            })
            .ok();
        SystemStats {
            system,
            interface: interface.to_string(),
            address_changes,
            addresses: None,
            sensors: Sensors::new(SensorPaths::under(sysfs)),
            ups: None,
            cpu: CpuGauge::start(Instant::now()),
            stats: Stats::default(),
        }
    }

    /// The `ups` page shows what this reader gives.
    pub fn with_ups(mut self, ups: Option<UpsPage>) -> SystemStats {
        self.ups = ups;
        self
    }

    /// Starts the watch of SPEC §10 (the temperature and under-voltage,
    /// read every `watch.every` off the loop, sent when they change).
    pub fn watch(&mut self, watch: Watch) {
        self.sensors.watch(watch);
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
        self.stats.ip = self.addresses().shown;
    }

    /// The addresses, read again only after the kernel announced a change.
    fn addresses(&mut self) -> &Addresses {
        let changed = self
            .address_changes
            .as_mut()
            .is_none_or(AddressChanges::drain);
        if changed {
            self.addresses = None;
        }
        self.addresses
            .get_or_insert_with(|| addresses::read(&self.interface))
    }
}

impl StatsSource for SystemStats {
    fn sample(&mut self, page: PageKind) -> Stats {
        self.refresh_info();
        match page {
            PageKind::Info | PageKind::Attention | PageKind::Rack | PageKind::Custom(_) => {}
            PageKind::System => {
                let readings = self.sensors.read();
                self.stats.temperature_c = readings.temperature_c;
                self.stats.disk_percent = readings.disk_percent;
                self.stats.throttling = readings.throttling;
                self.stats.uptime = Duration::from_secs(sysinfo::System::uptime().unwrap_or(0));
            }
            PageKind::Network => {
                self.stats.interfaces = self.addresses().interfaces.clone();
            }
            PageKind::Ups => {
                self.stats.ups = match self.ups.as_mut() {
                    Some(ups) => ups.sample(),
                    None => UpsText::Error("no [ups] server set".into()),
                };
            }
        }
        self.stats.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

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
        let mut stats = SystemStats::new("", Path::new("/sys"));
        std::thread::sleep(CPU_INTERVAL);
        let s = stats.sample(PageKind::System);
        let cpu = s.cpu_percent.unwrap();
        assert!((0.0..=100.0).contains(&cpu), "{cpu}");
        assert!(s.mem_percent > 0.0 && s.mem_percent <= 100.0);
        assert!(s.mem_total > 0);
        assert!(!s.hostname.is_empty());
        assert!(s.uptime > Duration::ZERO);
        // the disk comes from the sensor reader: on a busy machine it may
        // answer a refresh or two later
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut disk = s.disk_percent;
        while disk.is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            disk = stats.sample(PageKind::System).disk_percent;
        }
        let disk = disk.expect("the root filesystem's usage within 10 s");
        assert!((0.0..=100.0).contains(&disk), "{disk}");
    }

    #[test]
    fn the_system_page_follows_the_firmware_under_the_sysfs_root() {
        let dir = tempfile::tempdir().unwrap();
        let firmware = dir.path().join("devices/platform/soc/soc:firmware");
        std::fs::create_dir_all(&firmware).unwrap();
        std::fs::write(firmware.join("get_throttled"), "50005\n").unwrap();
        let mut stats = SystemStats::new("", dir.path());
        let until = |stats: &mut SystemStats, wanted: &dyn Fn(&Stats) -> bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let s = stats.sample(PageKind::System);
                if wanted(&s) || Instant::now() > deadline {
                    return s;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        let s = until(&mut stats, &|s| s.throttling.throttled);
        assert!(s.throttling.throttled && s.throttling.under_voltage);
        assert_eq!(s.temperature_c, None, "no thermal zone under this root");
        std::fs::write(firmware.join("get_throttled"), "50000\n").unwrap();
        let s = until(&mut stats, &|s| !s.throttling.throttled);
        assert!(!s.throttling.slowed(), "the history bits are not shown");
    }

    /// Set in the copy of this test binary that runs inside a namespace.
    const IN_NAMESPACE: &str = "RACKPI_TEST_IN_NETWORK_NAMESPACE";

    /// Runs the test `name` of this binary again, alone, inside a network
    /// namespace of its own (`unshare -rn`: a user namespace, no root),
    /// where it may add and remove addresses.
    fn run_in_network_namespace(name: &str) {
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("unshare")
            .arg("-rn")
            .arg(exe)
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(IN_NAMESPACE, "1")
            .output()
            .expect("unshare (util-linux) runs the test in a network namespace");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("test result: ok. 1 passed"),
            "{name} in a network namespace (needs unprivileged user namespaces: \
             sysctl kernel.unprivileged_userns_clone=1):\n{stdout}\n{stderr}"
        );
    }

    fn ip(args: &[&str]) {
        let status = std::process::Command::new("ip").args(args).status();
        assert!(status.is_ok_and(|s| s.success()), "ip {}", args.join(" "));
    }

    #[test]
    fn the_kernel_announces_an_address_change() {
        if std::env::var_os(IN_NAMESPACE).is_none() {
            return run_in_network_namespace(
                "linux::stats::tests::the_kernel_announces_an_address_change",
            );
        }
        let mut changes = AddressChanges::subscribe().unwrap();
        assert!(!changes.drain(), "nothing changed yet");
        ip(&["addr", "add", "10.9.8.7/24", "dev", "lo"]);
        assert!(changes.drain(), "the address added is announced");
        assert!(!changes.drain(), "once");
        ip(&["link", "set", "lo", "up"]);
        assert!(
            changes.drain(),
            "the link up (with its loopback address and routes)"
        );
        ip(&["addr", "del", "10.9.8.7/24", "dev", "lo"]);
        assert!(changes.drain(), "the address removed is announced");
        assert!(!changes.drain());
    }

    #[test]
    fn the_shown_address_follows_a_change() {
        if std::env::var_os(IN_NAMESPACE).is_none() {
            return run_in_network_namespace(
                "linux::stats::tests::the_shown_address_follows_a_change",
            );
        }
        // a new namespace: only lo, down, without an address
        let mut stats = SystemStats::new("lo", Path::new("/sys"));
        assert_eq!(stats.sample(PageKind::Info).ip, None);
        assert_eq!(stats.sample(PageKind::Info).ip, None);
        ip(&["addr", "add", "10.9.8.7/24", "dev", "lo"]);
        let added = IpAddr::from([10, 9, 8, 7]);
        assert_eq!(
            stats.sample(PageKind::Info).ip,
            Some(added),
            "the next refresh shows it"
        );
        assert_eq!(stats.sample(PageKind::System).ip, Some(added));
        ip(&["addr", "del", "10.9.8.7/24", "dev", "lo"]);
        assert_eq!(stats.sample(PageKind::Info).ip, None, "and its removal");
    }
}
