//! `rackpi-panel check`: probes the GPIO lines, the I2C bus and the display
//! and says, for each problem, what to do about it.

use std::fmt;
use std::path::Path;

use embedded_hal::i2c::I2c;

use crate::app::ports::GpioError;
use crate::config::{Config, LineSelector};
use crate::linux::gpio::{self, ResolvedLine};

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

/// The button's and the LED's lines, as `gpio::resolve` found them: on a
/// machine without GPIO chips both fail alike, and that is said once.
fn push_lines(
    report: &mut Report,
    button: (&LineSelector, Result<ResolvedLine, GpioError>),
    led: (&LineSelector, Result<ResolvedLine, GpioError>),
) {
    let no_chips = matches!(button.1, Err(GpioError::NoChips));
    report.push("button", line_check(button.0, button.1, "rackpi-button"));
    if no_chips && matches!(led.1, Err(GpioError::NoChips)) {
        report.items.push(Item {
            what: "LED".into(),
            ok: false,
            detail: "not probed: no GPIO chip (see the button)".into(),
            fix: None,
        });
    } else {
        report.push("LED", line_check(led.0, led.1, "rackpi-led"));
    }
}

fn line_check(
    selector: &LineSelector,
    resolved: Result<ResolvedLine, GpioError>,
    own_consumer: &str,
) -> Result<String, (String, String)> {
    match resolved {
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
        // the error's own message would say what the fix says
        Err(GpioError::NoChips) => Err((
            "no GPIO chip found (/dev/gpiochip*)".into(),
            "this is not a Raspberry Pi, or its kernel lacks the GPIO character device: \
             run check on the Pi (to try the panel without one: rackpi-panel simulate)"
                .into(),
        )),
        Err(err) => {
            let fix = match &err {
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
pub(crate) fn old_script_processes(proc_dir: &Path) -> Vec<u32> {
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
    let (button, led) = (config.button_line(), config.led_line());
    push_lines(
        &mut report,
        (&button, gpio::resolve(&button)),
        (&led, gpio::resolve(&led)),
    );

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

    if config.mqtt.enabled() {
        report.push("MQTT", mqtt_check(&config.mqtt));
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

/// How long `check` waits for the broker: the connection, TLS and login.
const MQTT_CHECK_WITHIN: std::time::Duration = std::time::Duration::from_secs(5);

/// One connection to the configured broker (the password as the service
/// gets it: `password_file`, else the credential).
fn mqtt_check(config: &crate::config::MqttConfig) -> Result<String, (String, String)> {
    let credentials = std::env::var_os("CREDENTIALS_DIRECTORY").map(std::path::PathBuf::from);
    let broker = crate::linux::mqtt::broker(config, credentials.as_deref())
        .map_err(|err| (err, "check [mqtt] password_file".to_string()))?;
    crate::linux::mqtt::probe(broker, MQTT_CHECK_WITHIN)
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
    fn without_gpio_chips_the_report_says_so_once() {
        let config = Config::default();
        let (button, led) = (config.button_line(), config.led_line());
        let mut report = Report::default();
        push_lines(
            &mut report,
            (&button, Err(GpioError::NoChips)),
            (&led, Err(GpioError::NoChips)),
        );
        let text = report.to_string();
        assert!(!report.ok());
        assert_eq!(text.matches("not a Raspberry Pi").count(), 1, "{text}");
        assert_eq!(text.matches("fix:").count(), 1, "{text}");
        assert!(
            text.contains("FAIL LED        not probed: no GPIO chip"),
            "{text}"
        );
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
