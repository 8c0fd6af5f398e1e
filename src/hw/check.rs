//! `rackpi-panel check`: probes the GPIO lines, the I2C bus and the display
//! and says, for each problem, what to do about it.

use std::fmt;
use std::path::Path;

use embedded_hal::i2c::I2c;

use crate::config::{Config, LineSelector};
use crate::hw::gpio;
use crate::ports::GpioError;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What was checked.
    pub what: String,
    /// Whether it is fine.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do, when not fine.
    pub fix: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks, in order.
    pub items: Vec<Item>,
}

impl Report {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.items.iter().all(|item| item.ok)
    }

    fn push(&mut self, what: impl Into<String>, result: Result<String, (String, String)>) {
        let what = what.into();
        self.items.push(match result {
            Ok(detail) => Item {
                what,
                ok: true,
                detail,
                fix: None,
            },
            Err((detail, fix)) => Item {
                what,
                ok: false,
                detail,
                fix: Some(fix),
            },
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            writeln!(
                f,
                "{} {:<10} {}",
                if item.ok { "ok  " } else { "FAIL" },
                item.what,
                item.detail
            )?;
            if let Some(fix) = &item.fix {
                writeln!(f, "                fix: {fix}")?;
            }
        }
        let failed = self.items.iter().filter(|i| !i.ok).count();
        if failed == 0 {
            writeln!(f, "all {} checks passed", self.items.len())
        } else {
            writeln!(f, "{failed} of {} checks failed", self.items.len())
        }
    }
}

fn line_check(selector: &LineSelector, own_consumer: &str) -> Result<String, (String, String)> {
    match gpio::resolve(selector) {
        Ok(line) => {
            let place = format!("{selector} is {} line {}", line.chip.display(), line.offset);
            match line.consumer {
                None => Ok(format!("{place}, free")),
                Some(consumer) if consumer == own_consumer => {
                    Ok(format!("{place}, held by the running rackpi-panel"))
                }
                Some(consumer) => Err((
                    format!("{place}, held by \"{consumer}\""),
                    "stop the program that holds it (the old infoscreen.py from rc.local? see README, Migration)".into(),
                )),
            }
        }
        Err(err) => {
            let fix = match &err {
                GpioError::NoChips => "run this on the Raspberry Pi (no GPIO chip here)".to_string(),
                GpioError::Permission { .. } => {
                    "add the user to the gpio group (sudo usermod -aG gpio $USER), then log in again".to_string()
                }
                GpioError::NoSuchChip { .. } => {
                    "check [button]/[led] chip in the config; `gpiodetect` lists the chips".to_string()
                }
                GpioError::NotFound { .. } => {
                    "check [button]/[led] line in the config; `gpioinfo` lists the line names".to_string()
                }
                _ => "see the message above".to_string(),
            };
            Err((err.to_string(), fix))
        }
    }
}

/// `pid 3081` or `pids 3081, 3082`.
fn pids(pids: &[u32]) -> String {
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    let word = if pids.len() == 1 { "pid" } else { "pids" };
    format!("{word} {}", list.join(", "))
}

/// Processes whose command line mentions the old script.
pub fn old_script_processes(proc_dir: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir(proc_dir) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let text = String::from_utf8_lossy(&cmdline);
            text.contains("infoscreen.py").then_some(pid)
        })
        .collect();
    pids.sort_unstable();
    pids
}

/// Probes everything the config names.
pub fn check(config: &Config) -> Report {
    let mut report = Report::default();
    report.push("button", line_check(&config.button_line(), "rackpi-button"));
    report.push("LED", line_check(&config.led_line(), "rackpi-led"));

    let bus_path = &config.display.bus;
    let address = config.display.address;
    match linux_embedded_hal::I2cdev::new(bus_path).map_err(std::io::Error::from) {
        Err(err) => {
            let fix = if err.kind() == std::io::ErrorKind::PermissionDenied {
                "add the user to the i2c group (sudo usermod -aG i2c $USER)".to_string()
            } else {
                "enable I2C: add dtparam=i2c_arm=on to /boot/firmware/config.txt (or run raspi-config, Interface Options, I2C) and reboot".to_string()
            };
            report.push(
                "I2C bus",
                Err((format!("cannot open {}: {err}", bus_path.display()), fix)),
            );
            report.push(
                "display",
                Err(("not probed (no bus)".into(), "fix the I2C bus first".into())),
            );
        }
        Ok(mut bus) => {
            report.push("I2C bus", Ok(format!("{} opened", bus_path.display())));
            // 0xE3 is the SSD1306's no-operation command: harmless to send
            let probe = bus.write(address, &[0x00, 0xE3]);
            report.push(
                "display",
                match probe {
                    Ok(()) => Ok(format!("SSD1306 answers at {address:#04x}")),
                    Err(err) => Err((
                        format!("nothing answers at {address:#04x} on {} ({err})", bus_path.display()),
                        "check the wiring (wiring.md: SDA pin 3, SCL pin 5, 3V3, GND); `i2cdetect -y 1` should show 3c".into(),
                    )),
                },
            );
        }
    }

    let old = old_script_processes(Path::new("/proc"));
    report.push(
        "old script",
        if old.is_empty() {
            Ok("no infoscreen.py running".into())
        } else {
            Err((
                format!(
                    "infoscreen.py is running ({}) and may hold the pins",
                    pids(&old)
                ),
                "remove its line from /etc/rc.local and stop it (sudo pkill -f infoscreen.py)"
                    .into(),
            ))
        },
    );
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_ids_read_as_a_person_writes_them() {
        assert_eq!(pids(&[3081]), "pid 3081");
        assert_eq!(pids(&[3081, 3082]), "pids 3081, 3082");
    }

    #[test]
    fn the_report_lists_a_fix_under_each_problem() {
        let mut report = Report::default();
        report.push(
            "button",
            Ok("GPIO20 is /dev/gpiochip0 line 20, free".into()),
        );
        report.push(
            "display",
            Err(("nothing answers at 0x3c".into(), "check the wiring".into())),
        );
        let text = report.to_string();
        assert!(!report.ok());
        assert!(text.contains("ok   button    "), "{text}");
        assert!(text.contains("FAIL display"), "{text}");
        assert!(text.contains("fix: check the wiring"), "{text}");
        assert!(text.contains("1 of 2 checks failed"), "{text}");
    }

    #[test]
    fn the_old_script_is_found_by_its_command_line() {
        let dir = tempfile::tempdir().unwrap();
        for (pid, cmdline) in [
            ("12", "python3\0/home/pi/infoscreen.py\0"),
            ("40", "sshd\0"),
        ] {
            std::fs::create_dir(dir.path().join(pid)).unwrap();
            std::fs::write(dir.path().join(pid).join("cmdline"), cmdline).unwrap();
        }
        std::fs::create_dir(dir.path().join("self")).unwrap();
        assert_eq!(old_script_processes(dir.path()), vec![12]);
    }

    #[test]
    fn on_this_machine_the_report_names_the_missing_hardware() {
        let mut config = Config::default();
        config.display.bus = "/nonexistent/i2c-1".into();
        let report = check(&config);
        assert!(!report.ok());
        let text = report.to_string();
        assert!(text.contains("/nonexistent/i2c-1"), "{text}");
        assert!(text.contains("dtparam=i2c_arm=on"), "{text}");
    }
}
