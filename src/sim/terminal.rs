//! The interactive simulator: the panel drawn in the terminal with Unicode
//! half blocks, the button worked from the keyboard.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags};
use nix::sys::termios::{self, LocalFlags, SetArg, Termios};

use crate::core::{Event, Time};
use crate::frame::Frame;
use crate::hw::daemon::poll_timeout;
use crate::ports::{Inputs, Wake};

use super::{SimBus, SimClock, SimPower};

/// The keys, as `--help` lists them.
pub const KEYS: &str = "Keys: SPACE press/release the button · t tap (0.2 s) · r hold 9 s (reboot) · s hold 13 s (shutdown) · c hold 21 s (cancel) · u unplug/plug the display · f make power commands fail/succeed · q quit";

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Keys in, button edges out; restores the terminal when dropped.
pub struct KeyboardInputs {
    clock: SimClock,
    bus: SimBus,
    power: SimPower,
    level: bool,
    scheduled: VecDeque<(Duration, bool)>,
    saved: Option<Termios>,
}

impl KeyboardInputs {
    /// Puts the terminal in raw mode (no echo, no line buffering).
    pub fn new(clock: SimClock, bus: SimBus, power: SimPower) -> std::io::Result<Self> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok();
        if let Some(saved) = &saved {
            let mut raw = saved.clone();
            raw.local_flags
                .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
            termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
                .map_err(std::io::Error::from)?;
        }
        print!("\x1b[?25l\x1b[2J");
        Ok(KeyboardInputs {
            clock,
            bus,
            power,
            level: false,
            scheduled: VecDeque::new(),
            saved,
        })
    }

    fn hold(&mut self, now: Duration, secs: f64) -> Option<Wake> {
        self.scheduled.clear();
        self.scheduled
            .push_back((now + Duration::from_secs_f64(secs), false));
        self.set_level(true, now)
    }

    fn set_level(&mut self, pressed: bool, at: Duration) -> Option<Wake> {
        (pressed != self.level).then(|| {
            self.level = pressed;
            Wake::Button { pressed, at }
        })
    }

    fn key(&mut self, key: u8, now: Duration) -> Option<Wake> {
        match key {
            b' ' => {
                self.scheduled.clear();
                self.set_level(!self.level, now)
            }
            b't' => self.hold(now, 0.2),
            b'r' => self.hold(now, 9.0),
            b's' => self.hold(now, 13.0),
            b'c' => self.hold(now, 21.0),
            b'u' => {
                let mut bus = self.bus.state();
                bus.plugged = !bus.plugged;
                None
            }
            b'f' => {
                self.power.failing.set(!self.power.failing.get());
                None
            }
            b'q' | 3 | 4 => Some(Wake::Stop),
            _ => None,
        }
    }
}

impl Drop for KeyboardInputs {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
        println!("\x1b[?25h");
        let _ = std::io::stdout().flush();
    }
}

impl Inputs for KeyboardInputs {
    fn now(&mut self) -> Time {
        self.clock.now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        Ok(false)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        loop {
            let now = self.clock.now();
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
            let until = [deadline, self.scheduled.front().map(|s| s.0)]
                .into_iter()
                .flatten()
                .min();
            let timeout = poll_timeout(now, until);
            let stdin = std::io::stdin();
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(0) => continue,
                Ok(_) => {
                    let mut byte = [0u8; 1];
                    if std::io::stdin().read(&mut byte)? == 0 {
                        return Ok(Wake::Stop);
                    }
                    if let Some(wake) = self.key(byte[0], self.clock.now()) {
                        return Ok(wake);
                    }
                }
                Err(nix::errno::Errno::EINTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
    }
}

/// Draws the panel, the LED and the latest events.
pub struct Screen {
    rows: usize,
    led: Rc<Cell<bool>>,
    bus: SimBus,
    power_failing: Rc<Cell<bool>>,
    frame: Frame,
    log: VecDeque<String>,
}

impl Screen {
    /// A screen for a panel `rows` tall.
    pub fn new(
        rows: usize,
        led: Rc<Cell<bool>>,
        bus: SimBus,
        power_failing: Rc<Cell<bool>>,
    ) -> Self {
        Screen {
            rows,
            led,
            bus,
            power_failing,
            frame: Frame::new(128, rows as u32),
            log: VecDeque::new(),
        }
    }

    /// Notes an event for the list under the panel.
    pub fn event(&mut self, at: Time, event: &Event) {
        // the details as in the events file, without the field names
        let detail: String = match serde_json::to_value(event) {
            Ok(serde_json::Value::Object(fields)) => fields
                .iter()
                .filter(|(key, _)| *key != "event" && *key != "action")
                .filter_map(|(_, value)| value.as_str())
                .map(|value| format!(" {value}"))
                .collect(),
            _ => String::new(),
        };
        self.log.push_back(format!(
            "{:>9.3} s  {}{}",
            at.as_secs_f64(),
            event.name(),
            detail
        ));
        while self.log.len() > 8 {
            self.log.pop_front();
        }
        self.paint();
    }

    /// Shows a new frame.
    pub fn frame(&mut self, frame: &Frame) {
        self.frame = frame.clone();
        self.paint();
    }

    fn paint(&self) {
        let mut out = String::from("\x1b[H");
        out.push_str("rackpi-panel simulator\x1b[K\r\n");
        out.push_str(&format!("┌{}┐\x1b[K\r\n", "─".repeat(128)));
        for line in self
            .frame
            .to_half_blocks()
            .iter()
            .take(self.rows.div_ceil(2))
        {
            out.push_str(&format!("│{line}│\x1b[K\r\n"));
        }
        out.push_str(&format!("└{}┘\x1b[K\r\n", "─".repeat(128)));
        let plugged = self.bus.state().plugged;
        out.push_str(&format!(
            "LED {}   display {}   power commands {}\x1b[K\r\n",
            if self.led.get() { "●" } else { "○" },
            if plugged { "plugged" } else { "UNPLUGGED" },
            if self.power_failing.get() {
                "FAIL"
            } else {
                "succeed (recorded, never run)"
            },
        ));
        out.push_str(&format!("{KEYS}\x1b[K\r\n"));
        for line in &self.log {
            out.push_str(&format!("{line}\x1b[K\r\n"));
        }
        out.push_str("\x1b[J");
        print!("{out}");
        let _ = std::io::stdout().flush();
    }
}
