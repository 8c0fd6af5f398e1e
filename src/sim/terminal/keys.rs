//! The keyboard as the panel's button and the world around it: keys in,
//! button edges and inputs out.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::os::fd::AsFd;
use std::rc::Rc;
use std::time::Duration;

use crate::app::deadline::poll_timeout;
use crate::app::ports::{Inputs, Wake};
use crate::core::{Input, Level, Rules, Time};
use crate::sim::devices::Devices;
use crate::sim::signals::{Signals, Woke};

use super::screen::{seconds, Held, Screen};
use super::session::suspend;

/// What the keys `r`, `s` and `c` hold, and how long an action's screen
/// stays up, from the configured thresholds (followed on SIGHUP).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct KeyTimes {
    /// Hold for `r`: past the reboot threshold, short of the shutdown one.
    pub reboot: Duration,
    /// Hold for `s`: past the shutdown threshold, short of the cancel one.
    pub shutdown: Duration,
    /// Hold for `c`: past the cancel threshold.
    pub cancel: Duration,
    /// `power.settle_s`.
    pub settle: Duration,
}

impl KeyTimes {
    /// One second past each threshold, or halfway to the next one if that
    /// is closer, so each key lands in its own stage.
    pub(crate) fn from_rules(rules: &Rules) -> Self {
        let second = Duration::from_secs(1);
        let between = |from: Duration, to: Duration| (from + second).min(from + (to - from) / 2);
        KeyTimes {
            reboot: between(rules.reboot_after, rules.shutdown_after),
            shutdown: between(rules.shutdown_after, rules.cancel_after),
            cancel: rules.cancel_after + second,
            settle: rules.settle,
        }
    }
}

impl Default for KeyTimes {
    fn default() -> Self {
        KeyTimes::from_rules(&Rules::default())
    }
}

/// The unit the key `x` fails and recovers.
const DEMO_UNIT: &str = "demo.service";
/// How long the key `i` identifies.
const IDENTIFY_KEY: Duration = Duration::from_secs(10);

/// The keys, each as shown on the key line, with the configured holds.
pub(super) fn key_items(times: &KeyTimes) -> Vec<String> {
    vec![
        "SPACE button".into(),
        "t tap".into(),
        format!("r {}: reboot", seconds(times.reboot)),
        format!("s {}: shutdown", seconds(times.shutdown)),
        format!("c {}: cancel", seconds(times.cancel)),
        "u display".into(),
        "f power fail".into(),
        "x unit fail".into(),
        "v undervolt".into(),
        "n message".into(),
        "i identify".into(),
        "b UPS".into(),
        "q quit".into(),
    ]
}

/// Keys in, button edges out; repaints the screen for keys that change
/// no input of the firmware, on resize, and once a second for the clock.
pub(crate) struct KeyboardInputs {
    devices: Devices,
    /// Where the button's hold is shown, and the key times read.
    screen: Rc<RefCell<Screen>>,
    signals: Signals,
    level: bool,
    /// When the button went down, while it is down.
    pressed_at: Option<Duration>,
    scheduled: VecDeque<(Duration, bool)>,
    /// Keys read but not yet acted on (a paste brings several at once).
    keys: VecDeque<u8>,
    /// The last key read, and when: a held key's auto-repeat is told apart
    /// from presses by the short gaps between its bytes.
    last_key: Option<(u8, Duration)>,
    /// Whether `x` has failed the demo unit.
    unit_failed: bool,
    /// Whether `v` has put the supply under-voltage.
    under_voltage: bool,
    /// Messages sent with `n` so far.
    messages: u32,
    /// What `x`, `v`, `n` and `i` sent, for the next wake-up.
    inputs: Vec<Input>,
}

/// Bytes of one key closer together than this are the terminal's
/// auto-repeat of a held key (25 to 30 a second, after a first delay of a
/// quarter to half a second), not presses: nobody presses a key that fast.
const REPEAT_GAP: Duration = Duration::from_millis(150);

impl KeyboardInputs {
    pub(crate) fn new(devices: Devices, screen: Rc<RefCell<Screen>>, signals: Signals) -> Self {
        KeyboardInputs {
            devices,
            screen,
            signals,
            level: false,
            pressed_at: None,
            scheduled: VecDeque::new(),
            keys: VecDeque::new(),
            last_key: None,
            unit_failed: false,
            under_voltage: false,
            messages: 0,
            inputs: Vec::new(),
        }
    }

    /// Holds the button for `hold`, counted from the press: a key pressed
    /// again (or auto-repeated) while the button is down never makes the
    /// hold longer than its key says.
    fn hold(&mut self, now: Duration, hold: Duration) -> Option<Wake> {
        let from = self.pressed_at.unwrap_or(now);
        self.scheduled.clear();
        self.scheduled.push_back(((from + hold).max(now), false));
        self.set_level(true, now)
    }

    fn set_level(&mut self, pressed: bool, at: Duration) -> Option<Wake> {
        self.show_button();
        (pressed != self.level).then(|| {
            self.level = pressed;
            self.pressed_at = pressed.then_some(at);
            self.show_button();
            Wake::Button { pressed, at }
        })
    }

    /// Tells the status line how the button is held: a SPACE leaves it
    /// down with nothing else on the screen to say so.
    fn show_button(&self) {
        let held = self.level.then(|| match self.scheduled.front() {
            Some(&(at, false)) => Held::Until(at),
            _ => Held::UntilSpace,
        });
        self.screen.borrow_mut().set_button(held);
    }

    fn suspend(&mut self) {
        if let Err(err) = suspend() {
            log::warn!("cannot take the terminal back after a stop: {err}");
        }
        self.screen.borrow_mut().resize();
    }

    fn key(&mut self, key: u8, now: Duration) -> Option<Wake> {
        let times = self.screen.borrow().times();
        let repeat = self
            .last_key
            .is_some_and(|(last, at)| last == key && now.saturating_sub(at) < REPEAT_GAP);
        self.last_key = Some((key, now));
        match key {
            // SPACE presses the button, and releases it when pressed again
            // or, when held, once its auto-repeat stops: the release waits
            // REPEAT_GAP for a repeat that says the key is still down
            b' ' if self.level => {
                self.scheduled.clear();
                self.scheduled.push_back((now + REPEAT_GAP, false));
                self.show_button();
                None
            }
            b' ' if repeat => None,
            b' ' => {
                self.scheduled.clear();
                self.set_level(true, now)
            }
            // a held key is one press, not one per auto-repeat
            _ if repeat => None,
            b't' => self.hold(now, Duration::from_millis(200)),
            b'r' => self.hold(now, times.reboot),
            b's' => self.hold(now, times.shutdown),
            b'c' => self.hold(now, times.cancel),
            _ => self.world_key(key),
        }
    }

    /// The keys that work the world around the button: the display, the
    /// power commands, a unit, the supply, a message, identify, the UPS,
    /// quitting, Ctrl-Z.
    fn world_key(&mut self, key: u8) -> Option<Wake> {
        match key {
            b'u' => {
                {
                    let mut bus = self.devices.bus.state();
                    bus.plugged = !bus.plugged;
                }
                self.screen.borrow_mut().paint();
                None
            }
            b'f' => {
                let failing = &self.devices.power.failing;
                failing.set(!failing.get());
                self.screen.borrow_mut().paint();
                None
            }
            b'x' => {
                self.unit_failed = !self.unit_failed;
                let unit = DEMO_UNIT.to_string();
                self.inputs.push(if self.unit_failed {
                    Input::UnitFailed(unit)
                } else {
                    Input::UnitRecovered(unit)
                });
                Some(Wake::Woken)
            }
            b'v' => {
                self.under_voltage = !self.under_voltage;
                self.inputs.push(Input::under_voltage(self.under_voltage));
                Some(Wake::Woken)
            }
            b'n' => {
                self.messages += 1;
                self.inputs.push(Input::Notify {
                    level: Level::Warn,
                    text: format!("message {} from the keyboard", self.messages),
                    lasts: None,
                });
                Some(Wake::Woken)
            }
            b'i' => {
                self.inputs.push(Input::Identify {
                    lasts: IDENTIFY_KEY,
                });
                Some(Wake::Woken)
            }
            b'b' => {
                // on battery and back, as `ups OB DISCHRG` / `ups OL CHRG`
                let ups = &self.devices.ups;
                let input = if ups.on_battery() {
                    ups.set("OL CHRG", None)
                } else {
                    ups.set("OB DISCHRG", Some(64.0))
                };
                self.inputs.push(input);
                Some(Wake::Woken)
            }
            b'q' | 3 | 4 => Some(Wake::Stop),
            // Ctrl-Z, which raw mode delivers as a byte
            26 => {
                self.suspend();
                None
            }
            _ => None,
        }
    }
}

impl Inputs for KeyboardInputs {
    fn now(&mut self) -> Time {
        self.devices.clock.now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }

    fn pending_inputs(&mut self) -> Vec<Input> {
        std::mem::take(&mut self.inputs)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        loop {
            if let Some(key) = self.keys.pop_front() {
                if let Some(wake) = self.key(key, self.devices.clock.now()) {
                    return Ok(wake);
                }
                continue;
            }
            let now = self.devices.clock.now();
            if let Some(&(at, level)) = self.scheduled.front() {
                if at <= now {
                    self.scheduled.pop_front();
                    if let Some(wake) = self.set_level(level, at) {
                        return Ok(wake);
                    }
                    continue;
                }
            }
            if deadline.is_some_and(|d| d <= now) {
                return Ok(Wake::Deadline);
            }
            // the clock in the title and any countdown move once a second
            let next_second = Duration::from_secs(now.as_secs() + 1);
            let until = [deadline, self.scheduled.front().map(|s| s.0)]
                .into_iter()
                .flatten()
                .chain([next_second])
                .min();
            let stdin = std::io::stdin();
            let woke = self
                .signals
                .wait(poll_timeout(now, until), Some(stdin.as_fd()))?;
            match woke {
                Woke::Stop => return Ok(Wake::Stop),
                Woke::Reload => return Ok(Wake::Reload),
                Woke::Resize => self.screen.borrow_mut().resize(),
                Woke::Suspend => self.suspend(),
                Woke::Timeout => {
                    if self.devices.clock.now() >= next_second {
                        self.screen.borrow_mut().paint();
                    }
                }
                Woke::Ready => {
                    // straight from the descriptor: a buffered reader could
                    // keep keys that poll(2) then no longer reports
                    let mut bytes = [0u8; 64];
                    match nix::unistd::read(stdin.as_fd(), &mut bytes) {
                        Ok(0) => return Ok(Wake::Stop),
                        Ok(n) => self.keys.extend(&bytes[..n]),
                        Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                        Err(err) => return Err(err.into()),
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_thresholds() {
        let rules = Rules {
            reboot_after: Duration::from_secs(3),
            shutdown_after: Duration::from_secs(4),
            cancel_after: Duration::from_secs(10),
            ..Rules::default()
        };
        let times = KeyTimes::from_rules(&rules);
        assert_eq!(times.reboot, Duration::from_millis(3500));
        assert_eq!(times.shutdown, Duration::from_secs(5));
        assert_eq!(times.cancel, Duration::from_secs(11));
        let items = key_items(&times).join("  ");
        assert!(items.contains("r 3.5 s: reboot"), "{items}");
        assert_eq!(key_items(&KeyTimes::default())[2], "r 9 s: reboot");
    }
}
