//! The simulator's scenario language (one command per line, `#` comments)
//! and the inputs that play a scenario.

use std::collections::VecDeque;
use std::io::Read;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use crate::app::deadline::poll_timeout;
use crate::app::ports::{Inputs, Wake};
use crate::core::{check_text, Input, Level, Time, MAX_IDENTIFY};

use super::devices::Devices;
use super::signals::{Signals, Woke};
use super::ups::SimUps;
use super::{SimBus, SimClock, SimPower};

/// One scenario command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Press, hold this long, release.
    Press(Duration),
    /// The button goes down (pressed).
    Down,
    /// The button comes up (released).
    Up,
    /// Let time pass.
    Wait(Duration),
    /// The panel stops acknowledging I2C.
    Unplug,
    /// The panel acknowledges I2C again.
    Plug,
    /// The next power commands fail.
    PowerFail,
    /// The next power commands succeed.
    PowerOk,
    /// A systemd unit enters the failed state.
    UnitFail(String),
    /// A systemd unit leaves the failed state.
    UnitOk(String),
    /// As `rackpi-panel notify --level LEVEL TEXT`.
    Notify(Level, String),
    /// As `rackpi-panel identify --for SECONDS`.
    Identify(Duration),
    /// The UPS says `status` (NUT's `ups.status` tokens), with the battery
    /// charge in percent.
    Ups { status: String, charge: Option<f32> },
    /// The Pi's supply goes under-voltage (true) or recovers, as the
    /// firmware reports it (SPEC §10).
    UnderVoltage(bool),
    /// The SoC's temperature reads this many °C.
    Temp(f32),
    /// Stop, as on SIGTERM.
    Quit,
}

/// A bad script line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("script line {line}: {message}")]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// What happens at a moment of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The button level changes.
    Button(bool),
    /// The display is plugged (true) or unplugged.
    Display(bool),
    /// Power commands succeed (true) or fail.
    Power(bool),
    /// Something reaches the daemon (a unit's state, a message, identify).
    Input(Input),
    /// The UPS's status and charge change (the page and the attention).
    Ups { status: String, charge: Option<f32> },
    /// End the run as SIGTERM does (`quit`).
    Quit,
}

/// A word of the script as a message shows it: control characters
/// escaped, and at most 24 characters of it (a line of 100 000 digits is
/// not echoed whole).
fn shown(word: &str) -> String {
    const MAX: usize = 24;
    let count = word.chars().count();
    let mut text: String = word
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if count > MAX {
        text.push_str(&format!("… ({count} characters)"));
    }
    text
}

/// Parses a whole script.
pub fn parse(text: &str) -> Result<Vec<Command>, ScriptError> {
    let mut commands = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let command = parse_command(&words).map_err(|message| ScriptError {
            line: index + 1,
            message,
        })?;
        commands.push(command);
    }
    Ok(commands)
}

/// One command from the words of its line (at least one); the error says
/// what is wrong with it.
fn parse_command(words: &[&str]) -> Result<Command, String> {
    let command = match words[0] {
        "press" => Command::Press(seconds(words, "press")?),
        "wait" => Command::Wait(seconds(words, "wait")?),
        "down" => bare(words, Command::Down)?,
        "up" => bare(words, Command::Up)?,
        "quit" => bare(words, Command::Quit)?,
        "unit" => match (words.get(1).copied(), words.len()) {
            (Some("fail"), 3) => Command::UnitFail(words[2].to_string()),
            (Some("ok"), 3) => Command::UnitOk(words[2].to_string()),
            _ => return Err("use `unit fail NAME` or `unit ok NAME`".into()),
        },
        "notify" => {
            let level = words
                .get(1)
                .and_then(|w| Level::from_name(w))
                .ok_or("use `notify LEVEL TEXT…` with LEVEL info, warn or error")?;
            let text = words[2..].join(" ");
            check_text(&text)?;
            Command::Notify(level, text)
        }
        "identify" => {
            let lasts = seconds(words, "identify")?;
            // as the daemon: `rackpi-panel identify --for` is at most 1 h
            if lasts > MAX_IDENTIFY {
                return Err(format!(
                    "identify lasts at most {} seconds, as on the daemon",
                    MAX_IDENTIFY.as_secs()
                ));
            }
            Command::Identify(lasts)
        }
        "display" | "power" | "undervoltage" => switch(words)?,
        "ups" => ups(words)?,
        "temp" => temperature(words)?,
        other => {
            return Err(format!(
                "unknown command `{}` (commands: press, down, up, wait, display, power, unit, notify, identify, ups, undervoltage, temp, quit)",
                shown(other)
            ))
        }
    };
    Ok(command)
}

/// The one number of seconds after `what`.
fn seconds(words: &[&str], what: &str) -> Result<Duration, String> {
    let [_, value] = words[..] else {
        return Err(format!(
            "`{what}` takes one number of seconds, e.g. `{what} 8.5`"
        ));
    };
    let secs: f64 = value
        .parse()
        .map_err(|_| format!("`{}` is not a number of seconds", shown(value)))?;
    if !secs.is_finite() || !(0.0..=31_536_000.0).contains(&secs) {
        let value = if secs.is_finite() && value.len() > 12 {
            format!("{secs:e}")
        } else {
            shown(value)
        };
        return Err(format!("{value} seconds is out of range (0 to 31536000)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `command`, which takes no argument.
fn bare(words: &[&str], command: Command) -> Result<Command, String> {
    if words.len() == 1 {
        Ok(command)
    } else {
        Err(format!("`{}` takes no argument", words[0]))
    }
}

/// `temp C`: a reading the thermal zone could give.
fn temperature(words: &[&str]) -> Result<Command, String> {
    let [_, value] = words[..] else {
        return Err("`temp` takes one temperature in °C, e.g. `temp 83`".into());
    };
    match value.parse::<f32>() {
        Ok(celsius) if (-40.0..=150.0).contains(&celsius) => Ok(Command::Temp(celsius)),
        _ => Err(format!(
            "`{}` is not a temperature from -40 to 150 °C",
            shown(value)
        )),
    }
}

/// `display unplug | plug`, `power fail | ok`, `undervoltage on | off`.
fn switch(words: &[&str]) -> Result<Command, String> {
    match (words[0], words.get(1).copied(), words.len()) {
        ("undervoltage", Some("on"), 2) => Ok(Command::UnderVoltage(true)),
        ("undervoltage", Some("off"), 2) => Ok(Command::UnderVoltage(false)),
        ("undervoltage", ..) => Err("use `undervoltage on` or `undervoltage off`".into()),
        ("display", Some("unplug"), 2) => Ok(Command::Unplug),
        ("display", Some("plug"), 2) => Ok(Command::Plug),
        ("power", Some("fail"), 2) => Ok(Command::PowerFail),
        ("power", Some("ok"), 2) => Ok(Command::PowerOk),
        ("display", ..) => Err("use `display unplug` or `display plug`".into()),
        _ => Err("use `power fail` or `power ok`".into()),
    }
}

/// `ups STATUS… [CHARGE]`: NUT's status tokens (`OB DISCHRG`), then the
/// battery charge in percent if given.
fn ups(words: &[&str]) -> Result<Command, String> {
    const USAGE: &str =
        "use `ups STATUS… [CHARGE]` with NUT's tokens, e.g. `ups OB DISCHRG 64` or `ups OL CHRG`";
    let mut tokens = &words[1..];
    let mut charge = None;
    if let Some((last, before)) = tokens.split_last() {
        if last.starts_with(|c: char| c.is_ascii_digit()) {
            let value: f32 = last
                .parse()
                .ok()
                .filter(|v| (0.0..=100.0).contains(v))
                .ok_or_else(|| {
                    format!(
                        "the charge `{}` is not a percentage from 0 to 100",
                        shown(last)
                    )
                })?;
            charge = Some(value);
            tokens = before;
        }
    }
    if tokens.is_empty() {
        return Err(USAGE.into());
    }
    if let Some(bad) = tokens
        .iter()
        .find(|t| t.len() > 16 || !t.chars().all(|c| c.is_ascii_uppercase()))
    {
        return Err(format!("`{}` is not a status token: {USAGE}", shown(bad)));
    }
    Ok(Command::Ups {
        status: tokens.join(" "),
        charge,
    })
}

/// The scenario as a timeline of (time since start, step), and its end.
pub fn timeline(commands: &[Command]) -> (Vec<(Duration, Step)>, Duration) {
    let mut t = Duration::ZERO;
    let mut steps = Vec::new();
    for command in commands {
        match command {
            Command::Press(hold) => {
                steps.push((t, Step::Button(true)));
                t += *hold;
                steps.push((t, Step::Button(false)));
            }
            Command::Down => steps.push((t, Step::Button(true))),
            Command::Up => steps.push((t, Step::Button(false))),
            Command::Wait(d) => t += *d,
            Command::Unplug => steps.push((t, Step::Display(false))),
            Command::Plug => steps.push((t, Step::Display(true))),
            Command::PowerFail => steps.push((t, Step::Power(false))),
            Command::PowerOk => steps.push((t, Step::Power(true))),
            Command::UnitFail(name) => {
                steps.push((t, Step::Input(Input::UnitFailed(name.clone()))))
            }
            Command::UnitOk(name) => {
                steps.push((t, Step::Input(Input::UnitRecovered(name.clone()))))
            }
            Command::Notify(level, text) => steps.push((
                t,
                Step::Input(Input::Notify {
                    level: *level,
                    text: text.clone(),
                    lasts: None,
                }),
            )),
            Command::Identify(lasts) => {
                steps.push((t, Step::Input(Input::Identify { lasts: *lasts })))
            }
            Command::Ups { status, charge } => steps.push((
                t,
                Step::Ups {
                    status: status.clone(),
                    charge: *charge,
                },
            )),
            Command::UnderVoltage(now) => steps.push((t, Step::Input(Input::under_voltage(*now)))),
            Command::Temp(celsius) => {
                steps.push((t, Step::Input(Input::Temperature(Some(*celsius)))))
            }
            Command::Quit => steps.push((t, Step::Quit)),
        }
    }
    (steps, t)
}

fn drain(stream: &mut UnixStream) {
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// Feeds a script's timeline as inputs.
pub(crate) struct ScriptInputs {
    steps: VecDeque<(Duration, Step)>,
    quit_at: Duration,
    clock: SimClock,
    bus: SimBus,
    power: SimPower,
    ups: SimUps,
    level: bool,
    signals: Option<Signals>,
    /// A byte here when a background source (the broker, the UPS) has
    /// inputs: a real-time run wakes for them.
    woken: Option<UnixStream>,
    arrived: Vec<Input>,
}

impl ScriptInputs {
    /// Inputs that play `steps` and stop at `quit_at`. What the script sets
    /// at time 0 is how the hardware is at start — `down` a button held when
    /// the program starts, `display unplug` a panel missing from the start —
    /// and is set up here.
    pub(crate) fn new(
        steps: Vec<(Duration, Step)>,
        quit_at: Duration,
        devices: Devices,
        signals: Option<Signals>,
        woken: Option<UnixStream>,
    ) -> Self {
        let Devices {
            clock,
            bus,
            power,
            ups,
            ..
        } = devices;
        let mut inputs = ScriptInputs {
            steps: steps.into(),
            quit_at,
            clock,
            bus,
            power,
            ups,
            level: false,
            signals,
            woken,
            arrived: Vec::new(),
        };
        while let Some((Duration::ZERO, step)) = inputs.steps.front().cloned() {
            match step {
                Step::Button(level) => inputs.level = level,
                Step::Display(plugged) => inputs.bus.state().plugged = plugged,
                Step::Power(ok) => inputs.power.failing.set(!ok),
                // (reaches the running firmware, at time 0)
                Step::Input(_) | Step::Ups { .. } | Step::Quit => break,
            }
            inputs.steps.pop_front();
        }
        inputs
    }

    /// Lets time pass until `t`, unless a signal comes first: SIGTERM and
    /// SIGINT stop the run as `quit` does, SIGHUP asks for a reload.
    fn advance_to(&mut self, t: Duration) -> std::io::Result<Option<Wake>> {
        loop {
            let woke = match (&self.clock, self.signals.as_mut()) {
                (SimClock::Virtual(cell), signals) => {
                    let woke = match signals {
                        Some(signals) => signals.pending()?,
                        None => None,
                    };
                    if !matches!(woke, Some(Woke::Stop | Woke::Reload)) {
                        cell.set(cell.get().max(t));
                        return Ok(None);
                    }
                    woke
                }
                (SimClock::Real(_), signals) => {
                    let now = self.clock.now();
                    if t <= now {
                        return Ok(None);
                    }
                    let woken = self.woken.as_ref().map(|w| w.as_fd());
                    match signals {
                        Some(signals) => Some(signals.wait(poll_timeout(now, Some(t)), woken)?),
                        None => {
                            std::thread::sleep(t - now);
                            None
                        }
                    }
                }
            };
            match woke {
                None => return Ok(None),
                Some(Woke::Stop) => return Ok(Some(Wake::Stop)),
                Some(Woke::Reload) => return Ok(Some(Wake::Reload)),
                Some(Woke::Ready) => {
                    if let Some(woken) = self.woken.as_mut() {
                        drain(woken);
                    }
                    return Ok(Some(Wake::Woken));
                }
                // real time: the timeout passed, or nothing of ours woke us
                Some(Woke::Resize | Woke::Suspend | Woke::Timeout) => {}
            }
        }
    }
}

impl Inputs for ScriptInputs {
    fn now(&mut self) -> Time {
        self.clock.now()
    }

    fn button_pressed(&mut self) -> std::io::Result<bool> {
        Ok(self.level)
    }

    fn pending_inputs(&mut self) -> Vec<Input> {
        std::mem::take(&mut self.arrived)
    }

    fn wait(&mut self, deadline: Option<Time>) -> std::io::Result<Wake> {
        loop {
            let next = self.steps.front().map_or(self.quit_at, |(t, _)| *t);
            if let Some(deadline) = deadline.filter(|&d| d <= next) {
                return Ok(self.advance_to(deadline)?.unwrap_or(Wake::Deadline));
            }
            if let Some(wake) = self.advance_to(next)? {
                return Ok(wake);
            }
            let Some((_, step)) = self.steps.pop_front() else {
                return Ok(Wake::Stop);
            };
            match step {
                Step::Button(level) if level != self.level => {
                    self.level = level;
                    return Ok(Wake::Button {
                        pressed: level,
                        at: self.clock.now(),
                    });
                }
                Step::Button(_) => {}
                Step::Display(plugged) => self.bus.state().plugged = plugged,
                Step::Power(ok) => self.power.failing.set(!ok),
                Step::Input(input) => {
                    self.arrived.push(input);
                    return Ok(Wake::Woken);
                }
                Step::Ups { status, charge } => {
                    self.arrived.push(self.ups.set(&status, charge));
                    return Ok(Wake::Woken);
                }
                Step::Quit => return Ok(Wake::Stop),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses() {
        let text = "# a scenario\nwait 1\npress 8.1  # reboot\ndown\nup\ndisplay unplug\ndisplay plug\npower fail\npower ok\nunit fail backup.service\nunit ok backup.service\nnotify error restic:  backup failed\nidentify 60\nundervoltage on\nundervoltage off\ntemp 83.5\nquit\n\n";
        let commands = parse(text).unwrap();
        assert_eq!(
            commands,
            vec![
                Command::Wait(Duration::from_secs(1)),
                Command::Press(Duration::from_millis(8100)),
                Command::Down,
                Command::Up,
                Command::Unplug,
                Command::Plug,
                Command::PowerFail,
                Command::PowerOk,
                Command::UnitFail("backup.service".into()),
                Command::UnitOk("backup.service".into()),
                Command::Notify(Level::Error, "restic: backup failed".into()),
                Command::Identify(Duration::from_secs(60)),
                Command::UnderVoltage(true),
                Command::UnderVoltage(false),
                Command::Temp(83.5),
                Command::Quit,
            ]
        );
    }

    #[test]
    fn ups_takes_the_status_tokens_then_the_charge() {
        let commands = parse("ups OB DISCHRG 64\nups OL\nups LB OB 9.5\n").unwrap();
        let ups = |status: &str, charge| Command::Ups {
            status: status.into(),
            charge,
        };
        assert_eq!(
            commands,
            [
                ups("OB DISCHRG", Some(64.0)),
                ups("OL", None),
                ups("LB OB", Some(9.5))
            ]
        );
        for (text, fragment) in [
            ("ups\n", "use `ups STATUS… [CHARGE]`"),
            ("ups 64\n", "use `ups STATUS… [CHARGE]`"),
            ("ups ob\n", "`ob` is not a status token"),
            (
                "ups OB 120\n",
                "the charge `120` is not a percentage from 0 to 100",
            ),
            ("ups OB 6x\n", "the charge `6x` is not a percentage"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(fragment), "{text:?}: {err}");
        }
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, fragment) in [
            ("wait 1\npres 3\n", 2, "unknown command `pres`"),
            ("press\n", 1, "takes one number"),
            ("\n\nwait soon\n", 3, "`soon` is not a number"),
            ("wait -1\n", 1, "out of range"),
            ("wait nan\n", 1, "out of range"),
            ("down now\n", 1, "takes no argument"),
            ("display off\n", 1, "display unplug"),
            ("power\n", 1, "power fail"),
            ("unit fail\n", 1, "unit fail NAME"),
            ("unit broke x\n", 1, "unit fail NAME"),
            ("notify loud x\n", 1, "info, warn or error"),
            ("notify error\n", 1, "empty"),
            ("identify\n", 1, "takes one number"),
            ("identify 3601\n", 1, "at most 3600 seconds"),
            ("undervoltage\n", 1, "undervoltage on"),
            ("undervoltage yes\n", 1, "undervoltage on"),
            ("temp\n", 1, "temp 83"),
            ("temp hot\n", 1, "from -40 to 150"),
            ("temp 1e9\n", 1, "from -40 to 150"),
            ("temp NaN\n", 1, "from -40 to 150"),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}");
            assert!(err.to_string().contains(fragment), "{text:?}: {err}");
            assert!(err.to_string().starts_with(&format!("script line {line}:")));
        }
    }

    #[test]
    fn press_becomes_down_and_up_with_the_hold_between() {
        let (steps, end) = timeline(&parse("wait 1\npress 8.1\nwait 1\n").unwrap());
        assert_eq!(
            steps,
            vec![
                (Duration::from_secs(1), Step::Button(true)),
                (Duration::from_millis(9100), Step::Button(false)),
            ]
        );
        assert_eq!(end, Duration::from_millis(10_100));
    }
}
