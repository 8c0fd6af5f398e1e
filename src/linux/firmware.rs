//! The Raspberry Pi firmware's word on the supply and the clocks (SPEC §10):
//! `get_throttled` (the bits of `vcgencmd get_throttled`, exposed by the
//! firmware driver in sysfs), or on kernels without it the `rpi_volt` hwmon
//! device's under-voltage alarm. Where neither exists (not a Pi) there is
//! nothing to read and the feature is off, silently. Files are found once,
//! under the configured sysfs root; decoding is pure.

use std::path::{Path, PathBuf};

use crate::stats::Throttling;

/// Where Raspberry Pi OS kernels up to the Pi 4 put `get_throttled`.
const GET_THROTTLED: &str = "devices/platform/soc/soc:firmware/get_throttled";

/// The firmware's files found on this machine.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SupplyFiles {
    /// `get_throttled`: hex bits.
    throttled: Option<PathBuf>,
    /// The `rpi_volt` hwmon device's `in0_lcrit_alarm`: `1` while under-voltage.
    volt_alarm: Option<PathBuf>,
}

impl SupplyFiles {
    /// Looks under `sysfs` (a few directory listings, done once).
    pub fn find(sysfs: &Path) -> SupplyFiles {
        SupplyFiles {
            throttled: find_get_throttled(sysfs),
            volt_alarm: find_volt_alarm(sysfs),
        }
    }

    /// Whether there is anything to read (false: not a Pi).
    pub fn present(&self) -> bool {
        self.throttled.is_some() || self.volt_alarm.is_some()
    }

    /// What holds now; `None` where nothing could be read.
    pub fn read(&self) -> Option<Throttling> {
        if let Some(path) = &self.throttled {
            let text = std::fs::read_to_string(path).ok()?;
            return parse_throttled(&text).map(decode_throttled);
        }
        let text = std::fs::read_to_string(self.volt_alarm.as_ref()?).ok()?;
        Some(Throttling {
            under_voltage: text.trim() == "1",
            ..Throttling::default()
        })
    }
}

/// `get_throttled` at its usual place, else in any `*firmware` device
/// directory under `devices/platform` (the Pi 5 names its SoC by address).
fn find_get_throttled(sysfs: &Path) -> Option<PathBuf> {
    let usual = sysfs.join(GET_THROTTLED);
    if usual.is_file() {
        return Some(usual);
    }
    let platform = sysfs.join("devices/platform");
    let subdirs = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    };
    let mut candidates: Vec<PathBuf> = subdirs(&platform)
        .into_iter()
        .flat_map(|dir| {
            let mut inner = subdirs(&dir);
            inner.push(dir);
            inner
        })
        .filter(|dir| {
            dir.file_name()
                .is_some_and(|name| name.to_string_lossy().ends_with("firmware"))
        })
        .map(|dir| dir.join("get_throttled"))
        .filter(|file| file.is_file())
        .collect();
    candidates.sort();
    candidates.into_iter().next()
}

/// The `in0_lcrit_alarm` of the hwmon device named `rpi_volt`.
fn find_volt_alarm(sysfs: &Path) -> Option<PathBuf> {
    let mut devices: Vec<PathBuf> = std::fs::read_dir(sysfs.join("class/hwmon"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    devices.sort();
    devices.into_iter().find_map(|dir| {
        let name = std::fs::read_to_string(dir.join("name")).ok()?;
        let alarm = dir.join("in0_lcrit_alarm");
        (name.trim() == "rpi_volt" && alarm.is_file()).then_some(alarm)
    })
}

/// The bits of `get_throttled`'s text: hex, with or without `0x` (sysfs
/// writes `50005`, `vcgencmd` `throttled=0x50005`).
pub(crate) fn parse_throttled(text: &str) -> Option<u32> {
    let text = text.trim();
    let text = text.strip_prefix("throttled=").unwrap_or(text);
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u32::from_str_radix(hex, 16).ok()
}

/// What holds now, from the bits (0 under-voltage, 1 ARM frequency capped,
/// 2 throttled, 3 soft temperature limit; 16–19 say the same "has
/// occurred" since boot, and are history the panel does not show).
pub(crate) fn decode_throttled(bits: u32) -> Throttling {
    let now = |bit: u32| bits & (1 << bit) != 0;
    Throttling {
        under_voltage: now(0),
        arm_capped: now(1),
        throttled: now(2),
        soft_temp_limit: now(3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bits_that_hold_now_are_decoded_and_history_is_not() {
        assert_eq!(decode_throttled(0), Throttling::default());
        assert_eq!(
            decode_throttled(0x50005),
            Throttling {
                under_voltage: true,
                throttled: true,
                ..Throttling::default()
            }
        );
        // it happened since boot, and holds no more
        assert_eq!(decode_throttled(0xf0000), Throttling::default());
        let soft = decode_throttled(0x80008);
        assert!(soft.soft_temp_limit && soft.slowed() && !soft.under_voltage);
        let capped = decode_throttled(0x2);
        assert!(capped.arm_capped && capped.slowed());
        assert!(
            !decode_throttled(0x1).slowed(),
            "under-voltage alone is not slowed"
        );
    }

    #[test]
    fn get_throttled_reads_as_sysfs_and_vcgencmd_write_it() {
        assert_eq!(parse_throttled("50005\n"), Some(0x50005));
        assert_eq!(parse_throttled("0x50005\n"), Some(0x50005));
        assert_eq!(parse_throttled("throttled=0x0\n"), Some(0));
        assert_eq!(parse_throttled("0\n"), Some(0));
        for bad in ["", "0x", "zz", "-1", "1 2", "123456789"] {
            assert_eq!(parse_throttled(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_files_are_found_where_each_kernel_puts_them() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path();
        assert!(!SupplyFiles::find(sys).present(), "not a Pi: nothing");
        assert_eq!(SupplyFiles::find(sys).read(), None);
        // a newer kernel: only the hwmon alarm
        let hwmon = sys.join("class/hwmon");
        for (dev, name) in [("hwmon0", "cpu_thermal"), ("hwmon1", "rpi_volt")] {
            std::fs::create_dir_all(hwmon.join(dev)).unwrap();
            std::fs::write(hwmon.join(dev).join("name"), format!("{name}\n")).unwrap();
        }
        std::fs::write(hwmon.join("hwmon1/in0_lcrit_alarm"), "1\n").unwrap();
        let files = SupplyFiles::find(sys);
        assert!(files.present());
        assert!(files.read().unwrap().under_voltage);
        std::fs::write(hwmon.join("hwmon1/in0_lcrit_alarm"), "0\n").unwrap();
        assert_eq!(files.read(), Some(Throttling::default()));
        // a Pi 5: the SoC named by its address; get_throttled wins
        let fw = sys.join("devices/platform/soc@107c000000/soc@107c000000:firmware");
        std::fs::create_dir_all(&fw).unwrap();
        std::fs::write(fw.join("get_throttled"), "4\n").unwrap();
        let files = SupplyFiles::find(sys);
        assert!(files.read().unwrap().throttled);
        // Raspberry Pi OS on a Pi 4
        let fw = sys.join("devices/platform/soc/soc:firmware");
        std::fs::create_dir_all(&fw).unwrap();
        std::fs::write(fw.join("get_throttled"), "50005\n").unwrap();
        let files = SupplyFiles::find(sys);
        assert!(files.read().unwrap().under_voltage);
        // garbage reads as nothing known, not as all well
        std::fs::write(fw.join("get_throttled"), "what\n").unwrap();
        assert_eq!(files.read(), None);
    }
}
