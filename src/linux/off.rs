//! `rackpi-panel off`: darkens the LED and the display once the daemon has
//! stopped, however it stopped (the unit's `ExecStopPost=`), so a crash, a
//! kill or a watchdog abort leaves nothing lit. Nothing is drawn and the
//! button line is never requested.

use std::fmt;

use crate::app::ports::{BusOpener, DisplayFault, DisplayPort, GpioError, LedPort};
use crate::config::Config;
use crate::linux::display::{LinuxBus, PanelSettings, Ssd1306Port};
use crate::linux::gpio::Led;

/// What became of one part of the panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Switched off (where it is).
    Off(String),
    /// Not on this machine, so there is nothing to switch off (why).
    Absent(String),
    /// There, but it could not be switched off (why, and what to do).
    Failed(String),
}

/// How systemd says the daemon ended: `$EXIT_CODE` and `$EXIT_STATUS`, which
/// it sets for `ExecStopPost=` commands (unset elsewhere).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceExit {
    /// `exited`, `killed` or `dumped`.
    pub code: Option<String>,
    /// The exit status, or the signal's name.
    pub status: Option<String>,
}

impl ServiceExit {
    /// Read from the environment.
    pub(crate) fn from_env() -> Self {
        ServiceExit {
            code: std::env::var("EXIT_CODE").ok(),
            status: std::env::var("EXIT_STATUS").ok(),
        }
    }

    /// Whether the daemon returned 0 by itself. It does so only after its own
    /// stop handling, which darkens the panel, or on purpose leaves the
    /// `Rebooting…` / `Shutting down…` screen up while the machine goes down.
    /// A SIGTERM that killed it before its handler was installed counts as a
    /// clean stop for systemd, but is `killed` here.
    pub(crate) fn clean(&self) -> bool {
        self.code.as_deref() == Some("exited") && self.status.as_deref() == Some("0")
    }
}

/// What `off` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The daemon had stopped cleanly: nothing was touched.
    Skipped,
    /// The LED, then the display.
    Done {
        /// The status LED.
        led: Outcome,
        /// The OLED.
        display: Outcome,
    },
}

impl Report {
    /// Whether everything that is there is off (or was left alone on purpose).
    pub fn ok(&self) -> bool {
        match self {
            Report::Skipped => true,
            Report::Done { led, display } => ![led, display]
                .iter()
                .any(|outcome| matches!(outcome, Outcome::Failed(_))),
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Skipped => writeln!(
                f,
                "rackpi-panel off: the daemon exited cleanly (EXIT_CODE=exited, EXIT_STATUS=0) and left the panel as it should be: nothing to do"
            ),
            Report::Done { led, display } => {
                for (what, outcome) in [("LED", led), ("display", display)] {
                    match outcome {
                        Outcome::Off(place) => {
                            writeln!(f, "rackpi-panel off: {what} switched off ({place})")?
                        }
                        Outcome::Absent(why) => writeln!(
                            f,
                            "rackpi-panel off: {what} not there, nothing to switch off: {why}"
                        )?,
                        Outcome::Failed(why) => writeln!(
                            f,
                            "rackpi-panel off: {what} could NOT be switched off: {why}"
                        )?,
                    }
                }
                Ok(())
            }
        }
    }
}

/// The label `Led::request` gives the LED line: whoever holds it under this
/// name is a running rackpi-panel.
const DAEMON_LED: &str = "rackpi-led";

/// Switches the LED and the display that `config` names off, unless the
/// daemon stopped cleanly (see [`ServiceExit::clean`]).
pub fn off(config: &Config, service: &ServiceExit) -> Report {
    if service.clean() {
        return Report::Skipped;
    }
    let selector = config.led_line();
    let led = Led::request(&selector, config.led.active_low).map(|led| {
        let place = format!(
            "{selector}, {} line {}",
            led.line.chip.display(),
            led.line.offset
        );
        (led, place)
    });
    switch_off(led, || {
        let bus = &config.display.bus;
        match std::fs::metadata(bus) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Outcome::Absent(format!(
                "no I2C bus {} (I2C not enabled, or no display fitted)",
                bus.display()
            )),
            _ => {
                let settings = PanelSettings::from_config(config);
                let place = format!("{:#04x} on {}", settings.address, bus.display());
                display_off(&mut Ssd1306Port::new(LinuxBus::new(bus), settings), place)
            }
        }
    })
}

/// Darkens the requested LED, then the display through `display_off`;
/// while a running daemon holds the LED, the display is its too and is left
/// alone (switched off behind its back, it would stay dark while the daemon
/// believes it lit).
fn switch_off<L: LedPort>(
    requested_led: Result<(L, String), GpioError>,
    display_off: impl FnOnce() -> Outcome,
) -> Report {
    let daemon_running = matches!(
        &requested_led,
        Err(GpioError::Busy { consumer, .. }) if consumer == DAEMON_LED
    );
    let led = darken(requested_led);
    let display = if daemon_running {
        Outcome::Failed("left alone: the running rackpi-panel drives it".into())
    } else {
        display_off()
    };
    Report::Done { led, display }
}

/// Sets the LED that was requested, or explains why it could not be.
fn darken<L: LedPort>(requested: Result<(L, String), GpioError>) -> Outcome {
    match requested {
        Ok((mut led, place)) => match led.set(false) {
            Ok(()) => Outcome::Off(place),
            Err(err) => Outcome::Failed(format!("{place}: {err}")),
        },
        Err(err @ (GpioError::NoChips | GpioError::NoSuchChip { .. } | GpioError::NotFound { .. })) => {
            Outcome::Absent(err.to_string())
        }
        Err(GpioError::Busy { consumer, line, .. }) if consumer == DAEMON_LED => {
            Outcome::Failed(format!(
                "GPIO line {line} is held by a running rackpi-panel; `sudo systemctl stop rackpi-panel` stops it, and it switches the LED off itself"
            ))
        }
        Err(err) => Outcome::Failed(err.to_string()),
    }
}

/// Sends the panel its display-off command and nothing else: no
/// initialisation (it would light the panel first), no pixels.
fn display_off<B: BusOpener>(port: &mut Ssd1306Port<B>, place: String) -> Outcome
where
    B::Bus: 'static,
{
    match port.attach().and_then(|()| port.set_on(false)) {
        Ok(()) => Outcome::Off(place),
        Err(
            fault @ (DisplayFault::NoBus { .. }
            | DisplayFault::BusDenied { .. }
            | DisplayFault::Bus { .. }),
        ) => Outcome::Failed(fault.to_string()),
        Err(DisplayFault::NoAnswer { address, .. }) => Outcome::Absent(format!(
            "nothing answers at {address:#04x} (no display fitted, or not powered)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PanelSize;
    use crate::frame::Frame;
    use crate::sim::{SimBus, SimClock, SimLed};

    fn settings() -> PanelSettings {
        PanelSettings {
            address: 0x3c,
            size: PanelSize::W128H32,
            upside_down: true,
            contrast: 255,
        }
    }

    /// A bus whose panel shows a picture, as a daemon that died left it.
    fn lit_panel() -> SimBus {
        let bus = SimBus::new(0x3c, SimClock::new(true));
        let mut daemon = Ssd1306Port::new(bus.clone(), settings());
        let mut frame = Frame::new(128, 32);
        for x in 0..128 {
            frame.set(x, x % 32, true);
        }
        daemon.init().unwrap();
        daemon.show(&frame).unwrap();
        daemon.set_on(true).unwrap();
        assert!(bus.state().model.display_on());
        bus
    }

    #[test]
    fn the_display_is_switched_off_and_nothing_else_is_sent() {
        let bus = lit_panel();
        let before = bus.state().counters;
        let picture = bus.state().model.glass(32);
        let data = bus.state().model.data_bytes();

        let outcome = display_off(
            &mut Ssd1306Port::new(bus.clone(), settings()),
            "0x3c".into(),
        );

        assert_eq!(outcome, Outcome::Off("0x3c".into()));
        let state = bus.state();
        assert!(!state.model.display_on(), "the panel is still lit");
        // one transaction: the command byte and display-off (0xAE)
        assert_eq!(state.counters.transactions, before.transactions + 1);
        assert_eq!(state.counters.bytes, before.bytes + 2);
        assert_eq!(state.model.data_bytes(), data, "pixels were sent");
        assert_eq!(state.model.glass(32), picture, "the panel's memory changed");
    }

    #[test]
    fn a_panel_that_does_not_answer_is_reported_as_not_there() {
        let bus = lit_panel();
        bus.state().plugged = false;
        let outcome = display_off(&mut Ssd1306Port::new(bus, settings()), "0x3c".into());
        match outcome {
            Outcome::Absent(why) => assert!(why.contains("nothing answers at 0x3c"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_led_is_darkened() {
        let lit = SimLed::default();
        lit.0.set(true);
        let outcome = darken(Ok((lit.clone(), "GPIO23".into())));
        assert_eq!(outcome, Outcome::Off("GPIO23".into()));
        assert!(!lit.0.get());
    }

    #[test]
    fn a_missing_gpio_chip_or_line_is_not_a_failure() {
        let no_line = GpioError::NotFound {
            name: "GPIO23".into(),
            chips: "/dev/gpiochip0".into(),
        };
        for err in [GpioError::NoChips, no_line] {
            let text = err.to_string();
            assert_eq!(darken::<SimLed>(Err(err)), Outcome::Absent(text));
        }
    }

    #[test]
    fn a_line_held_by_the_running_daemon_is_a_failure_that_says_what_to_do() {
        match darken::<SimLed>(Err(held_by("rackpi-led"))) {
            Outcome::Failed(why) => {
                assert!(
                    why.contains("GPIO23") && why.contains("systemctl stop rackpi-panel"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
        match darken::<SimLed>(Err(held_by("infoscreen"))) {
            Outcome::Failed(why) => assert!(why.contains("\"infoscreen\""), "{why}"),
            other => panic!("{other:?}"),
        }
        let denied = GpioError::Permission {
            chip: "/dev/gpiochip0".into(),
            reason: "Permission denied".into(),
        };
        assert!(matches!(darken::<SimLed>(Err(denied)), Outcome::Failed(_)));
    }

    fn held_by(consumer: &str) -> GpioError {
        GpioError::Busy {
            line: "GPIO23".into(),
            chip: "/dev/gpiochip0".into(),
            offset: 23,
            consumer: consumer.into(),
        }
    }

    #[test]
    fn while_the_daemon_runs_its_display_is_left_alone() {
        let report = switch_off::<SimLed>(Err(held_by("rackpi-led")), || {
            panic!("the display was switched off under the running daemon")
        });
        let Report::Done { led, display } = &report else {
            panic!("{report:?}")
        };
        assert!(matches!(led, Outcome::Failed(_)), "{led:?}");
        assert_eq!(
            display,
            &Outcome::Failed("left alone: the running rackpi-panel drives it".into())
        );
        assert!(!report.ok());
    }

    #[test]
    fn the_display_is_switched_off_whatever_became_of_the_led() {
        for led in [
            Ok((SimLed::default(), "GPIO23".to_string())),
            Err(GpioError::NoChips),
            Err(held_by("infoscreen")),
        ] {
            let mut asked = false;
            let report = switch_off(led, || {
                asked = true;
                Outcome::Off("0x3c".into())
            });
            assert!(asked, "{report:?}");
        }
    }

    #[test]
    fn only_a_clean_exit_of_the_daemon_leaves_the_panel_alone() {
        let exit = |code: &str, status: &str| ServiceExit {
            code: Some(code.into()),
            status: Some(status.into()),
        };
        assert!(exit("exited", "0").clean());
        for unclean in [
            exit("exited", "1"),
            exit("exited", "78"),
            exit("killed", "KILL"),
            // SIGTERM before the handler was installed: no cleanup happened
            exit("killed", "TERM"),
            exit("dumped", "ABRT"),
            ServiceExit::default(),
        ] {
            assert!(!unclean.clean(), "{unclean:?}");
        }
        let config = Config::default();
        let report = off(&config, &exit("exited", "0"));
        assert_eq!(report, Report::Skipped);
        assert!(report.ok());
    }

    #[test]
    fn the_report_fails_only_on_a_failure() {
        let report = |led, display| Report::Done { led, display };
        let off = || Outcome::Off("x".into());
        let absent = || Outcome::Absent("no I2C bus /dev/i2c-1".into());
        let failed = || Outcome::Failed("permission denied".into());
        assert!(report(off(), absent()).ok());
        assert!(report(absent(), absent()).ok());
        assert!(!report(off(), failed()).ok());
        assert!(!report(failed(), off()).ok());
        let text = report(absent(), failed()).to_string();
        assert!(
            text.contains("LED not there, nothing to switch off"),
            "{text}"
        );
        assert!(
            text.contains("display could NOT be switched off: permission denied"),
            "{text}"
        );
    }
}
