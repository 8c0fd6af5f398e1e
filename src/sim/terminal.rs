//! The interactive simulator: the panel drawn in the terminal, the button
//! worked from the keyboard. Everything fits the terminal it runs in (an
//! 80×24 one included): the panel is drawn with half blocks, quadrant blocks
//! or Braille cells, whichever fits; every line is cut to the width and
//! placed by cursor position, so nothing wraps and nothing scrolls. The
//! terminal is put back however the run ends: `q`, Ctrl-C, SIGTERM, the end
//! of input, an error or a panic.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};
use std::time::Duration;

use crossterm::{cursor, terminal, QueueableCommand};

use crate::core::{Event, Input, Level, Rules, Time};
use crate::frame::Frame;
use crate::hw::daemon::poll_timeout;
use crate::ports::{Inputs, Wake};

use super::signals::{Signals, Woke};
use super::{SimBus, SimClock, SimPower};

/// How the panel's pixels become characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cells {
    /// The most detailed of the three that fits the terminal.
    #[default]
    Auto,
    /// 1×2 pixels per character: 130 columns for a 128-pixel panel.
    HalfBlocks,
    /// 2×2 pixels per character (quadrant blocks).
    Quadrants,
    /// 2×4 pixels per character (Braille patterns).
    Braille,
}

impl Cells {
    fn name(self) -> &'static str {
        match self {
            Cells::Auto => "auto",
            Cells::HalfBlocks => "half blocks",
            Cells::Quadrants => "quadrants",
            Cells::Braille => "braille",
        }
    }

    /// Pixels per character, across and down.
    fn pixels(self) -> (u32, u32) {
        match self {
            Cells::Auto | Cells::HalfBlocks => (1, 2),
            Cells::Quadrants => (2, 2),
            Cells::Braille => (2, 4),
        }
    }

    fn draw(self, frame: &Frame) -> Vec<String> {
        match self {
            Cells::Auto | Cells::HalfBlocks => frame.to_half_blocks(),
            Cells::Quadrants => frame.to_quadrants(),
            Cells::Braille => frame.to_braille(),
        }
    }
}

/// Lines around the panel: the status line, two key lines, and at least
/// three lines of events.
const CHROME_LINES: u32 = 1 + 2 + 3;

/// The cells for a `panel` (pixels) in a terminal of `size` (columns, rows):
/// the forced choice, or the most detailed one whose panel, border and
/// surrounding lines fit.
pub fn choose_cells(forced: Cells, panel: (u32, u32), size: (u16, u16)) -> Cells {
    if forced != Cells::Auto {
        return forced;
    }
    let (cols, rows) = (u32::from(size.0), u32::from(size.1));
    [Cells::HalfBlocks, Cells::Quadrants]
        .into_iter()
        .find(|cells| {
            let (px, py) = cells.pixels();
            panel.0.div_ceil(px) + 2 <= cols && panel.1.div_ceil(py) + 2 + CHROME_LINES <= rows
        })
        .unwrap_or(Cells::Braille)
}

/// What the keys `r`, `s` and `c` hold, and how long an action's screen
/// stays up, from the configured thresholds (followed on SIGHUP).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KeyTimes {
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
    pub fn from_rules(rules: &Rules) -> Self {
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

/// Seconds as people write them: `9 s`, `4.5 s`.
fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        let text = format!("{:.3}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches('0'))
    }
}

/// The unit the key `x` fails and recovers.
const DEMO_UNIT: &str = "demo.service";
/// How long the key `i` identifies.
const IDENTIFY_KEY: Duration = Duration::from_secs(10);

/// The keys, each as shown on the key line, with the configured holds.
pub fn key_items(times: &KeyTimes) -> Vec<String> {
    vec![
        "SPACE button".into(),
        "t tap".into(),
        format!("r {}: reboot", seconds(times.reboot)),
        format!("s {}: shutdown", seconds(times.shutdown)),
        format!("c {}: cancel", seconds(times.cancel)),
        "u display".into(),
        "f power fail".into(),
        "x unit fail".into(),
        "n message".into(),
        "i identify".into(),
        "q quit".into(),
    ]
}

/// Items joined by two spaces into lines of at most `width` characters.
fn wrap(items: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for item in items {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 2 + item.chars().count() <= width => {
                line.push_str("  ");
                line.push_str(item);
            }
            _ => lines.push(item.clone()),
        }
    }
    lines
}

fn clip(line: &str, width: usize) -> String {
    line.chars().take(width).collect()
}

/// The size of the terminal on standard output (the one drawn on, even
/// when the process has another controlling terminal), 80×24 if unknown.
fn terminal_size() -> (u16, u16) {
    match rustix::termios::tcgetwinsize(std::io::stdout()) {
        Ok(size) if size.ws_col > 0 && size.ws_row > 0 => (size.ws_col, size.ws_row),
        _ => (80, 24),
    }
}

/// Whether standard input (where the keys come from) is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Set while the terminal is in the simulator's hands (raw mode, alternate
/// screen): log lines go to the event pane, and a panic restores it first.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Log lines waiting for the event pane.
static PANE_LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Where the logger writes in interactive mode: into the event pane while
/// the panel is drawn (so nothing is painted over), to stderr otherwise.
#[derive(Debug, Default)]
pub struct PaneLog;

impl Write for PaneLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if ACTIVE.load(Ordering::SeqCst) {
            let text = String::from_utf8_lossy(buf);
            if let Ok(mut pane) = PANE_LOG.lock() {
                pane.extend(
                    text.lines()
                        .filter(|line| !line.is_empty())
                        .map(str::to_owned),
                );
            }
            Ok(buf.len())
        } else {
            std::io::stderr().write(buf)
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

fn restore_terminal() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = std::io::stdout();
        let _ = out.queue(cursor::Show);
        let _ = out.queue(terminal::LeaveAlternateScreen);
        let _ = out.flush();
        let _ = terminal::disable_raw_mode();
        // what was logged in the last moments, where it can still be read
        if let Ok(mut pane) = PANE_LOG.lock() {
            for line in pane.drain(..) {
                eprintln!("{line}");
            }
        }
    }
}

/// The terminal in raw mode on the alternate screen, with the cursor
/// hidden; given back when dropped, and by a panic hook before a panic
/// message is printed (the release build aborts on panic, which runs no
/// destructors).
pub(crate) struct Session;

impl Session {
    pub(crate) fn start() -> std::io::Result<Self> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        take_terminal()?;
        Ok(Session)
    }
}

/// Raw mode, the alternate screen, the cursor hidden.
fn take_terminal() -> std::io::Result<()> {
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    let mut out = std::io::stdout();
    out.queue(terminal::EnterAlternateScreen)?;
    out.queue(cursor::Hide)?;
    out.queue(terminal::Clear(terminal::ClearType::All))?;
    out.flush()
}

/// SIGTSTP or Ctrl-Z: the terminal is given back, the process stops (as
/// the default action of SIGTSTP would), and on SIGCONT takes the terminal
/// again. The button stays as it was meanwhile.
fn suspend() -> std::io::Result<()> {
    restore_terminal();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP)?;
    take_terminal()
}

impl Drop for Session {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Keys in, button edges out; repaints the screen for keys that change
/// no input of the firmware, on resize, and once a second for the clock.
pub(crate) struct KeyboardInputs {
    clock: SimClock,
    bus: SimBus,
    power: SimPower,
    times: Rc<Cell<KeyTimes>>,
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
    /// Messages sent with `n` so far.
    messages: u32,
    /// What `x`, `n` and `i` sent, for the next wake-up.
    inputs: Vec<Input>,
}

/// Bytes of one key closer together than this are the terminal's
/// auto-repeat of a held key (25 to 30 a second, after a first delay of a
/// quarter to half a second), not presses: nobody presses a key that fast.
pub const REPEAT_GAP: Duration = Duration::from_millis(150);

impl KeyboardInputs {
    pub(crate) fn new(
        clock: SimClock,
        bus: SimBus,
        power: SimPower,
        times: Rc<Cell<KeyTimes>>,
        screen: Rc<RefCell<Screen>>,
        signals: Signals,
    ) -> Self {
        KeyboardInputs {
            clock,
            bus,
            power,
            times,
            screen,
            signals,
            level: false,
            pressed_at: None,
            scheduled: VecDeque::new(),
            keys: VecDeque::new(),
            last_key: None,
            unit_failed: false,
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
        (pressed != self.level).then(|| {
            self.level = pressed;
            self.pressed_at = pressed.then_some(at);
            Wake::Button { pressed, at }
        })
    }

    fn suspend(&mut self) {
        if let Err(err) = suspend() {
            log::warn!("cannot take the terminal back after a stop: {err}");
        }
        self.screen.borrow_mut().resize();
    }

    fn key(&mut self, key: u8, now: Duration) -> Option<Wake> {
        let times = self.times.get();
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
            b'u' => {
                {
                    let mut bus = self.bus.state();
                    bus.plugged = !bus.plugged;
                }
                self.screen.borrow_mut().paint();
                None
            }
            b'f' => {
                self.power.failing.set(!self.power.failing.get());
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
        self.clock.now()
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
                if let Some(wake) = self.key(key, self.clock.now()) {
                    return Ok(wake);
                }
                continue;
            }
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
                    if self.clock.now() >= next_second {
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

/// Draws the panel, the LED and status line, the keys, and the latest
/// events and log lines in a pane of their own.
pub(crate) struct Screen {
    cells: Cells,
    led: Rc<Cell<bool>>,
    bus: SimBus,
    power_failing: Rc<Cell<bool>>,
    times: Rc<Cell<KeyTimes>>,
    clock: SimClock,
    frame: Frame,
    events: VecDeque<String>,
    /// The action recorded last, and when, while its screen is up.
    action: Option<(&'static str, Time)>,
}

/// Event and log lines kept for the pane (more than any terminal shows).
const PANE_KEEP: usize = 200;

impl Screen {
    pub(crate) fn new(
        size: (u32, u32),
        cells: Cells,
        led: Rc<Cell<bool>>,
        bus: SimBus,
        power_failing: Rc<Cell<bool>>,
        times: Rc<Cell<KeyTimes>>,
        clock: SimClock,
    ) -> Self {
        Screen {
            cells,
            led,
            bus,
            power_failing,
            times,
            clock,
            frame: Frame::new(size.0, size.1),
            events: VecDeque::new(),
            action: None,
        }
    }

    fn push_line(&mut self, line: String) {
        self.events.push_back(line);
        while self.events.len() > PANE_KEEP {
            self.events.pop_front();
        }
    }

    /// Notes an event for the pane under the panel.
    pub(crate) fn event(&mut self, at: Time, event: &Event) {
        match event {
            Event::Reboot | Event::Shutdown => self.action = Some((event.name(), at)),
            Event::ActionFailed { .. } | Event::Stopped => self.action = None,
            _ => {}
        }
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
        self.push_line(format!(
            "{:>9.3} s  {}{}",
            at.as_secs_f64(),
            event.name(),
            detail
        ));
    }

    /// Shows a new frame.
    pub(crate) fn frame(&mut self, frame: &Frame) {
        self.frame = frame.clone();
        self.paint();
    }

    /// The terminal changed size: clear what the old layout left, repaint.
    pub(crate) fn resize(&mut self) {
        let mut out = std::io::stdout();
        let _ = out.queue(terminal::Clear(terminal::ClearType::All));
        self.paint();
    }

    /// The status line: the LED, the display, and what the power commands
    /// do; after an action, when the panel returns.
    #[cfg(test)]
    fn status(&self, now: Time) -> String {
        self.status_items(now).join("  ")
    }

    fn status_items(&self, now: Time) -> Vec<String> {
        let led = if self.led.get() { "●" } else { "○" };
        let display = if self.bus.state().plugged {
            "display plugged"
        } else {
            "display UNPLUGGED"
        };
        let power = match self.action {
            Some((name, at)) => {
                let back = at.saturating_add(self.times.get().settle);
                format!(
                    "{name} recorded, not run: panel back in {}",
                    seconds(Duration::from_secs(back.saturating_sub(now).as_secs()))
                )
            }
            None if self.power_failing.get() => "power commands fail (f)".into(),
            None => "power commands succeed (recorded, not run)".into(),
        };
        vec![format!("LED {led}"), display.into(), power]
    }

    /// Every line of the screen for a terminal of `size` (columns, rows):
    /// none longer than the width, no more than the rows.
    pub(crate) fn compose(&self, size: (u16, u16), now: Time) -> Vec<String> {
        let (cols, rows) = (usize::from(size.0), usize::from(size.1));
        let (w, h) = (self.frame.width(), self.frame.height());
        let cells = choose_cells(self.cells, (w, h), size);
        let body = cells.draw(&self.frame);
        let inner = body.first().map_or(0, |line| line.chars().count());
        let title = format!(
            " rackpi-panel simulator · {w}×{h} · {} · {} ",
            cells.name(),
            seconds(Duration::from_secs(now.as_secs()))
        );
        let title = clip(&title, inner);
        // the status and the keys come first: in a terminal too small for
        // everything, the panel loses rows, never the keys
        let mut tail = wrap(&self.status_items(now), cols.max(1));
        tail.extend(wrap(&key_items(&self.times.get()), cols.max(1)));
        let body_room = rows.saturating_sub(tail.len() + 2);
        let mut lines = Vec::with_capacity(rows);
        lines.push(format!(
            "┌{title}{}┐",
            "─".repeat(inner - title.chars().count())
        ));
        lines.extend(body.iter().take(body_room).map(|line| format!("│{line}│")));
        if rows > tail.len() + 1 {
            lines.push(format!("└{}┘", "─".repeat(inner)));
        }
        lines.truncate(rows.saturating_sub(tail.len()));
        lines.extend(tail);
        let room = rows.saturating_sub(lines.len());
        let skip = self.events.len().saturating_sub(room);
        lines.extend(self.events.iter().skip(skip).cloned());
        lines.truncate(rows);
        lines.iter().map(|line| clip(line, cols)).collect()
    }

    /// Paints the whole screen in place: each line at its own row, the
    /// rest of the row cleared, nothing written past the last row.
    pub(crate) fn paint(&mut self) {
        let pending: Vec<String> = PANE_LOG
            .lock()
            .map(|mut pane| pane.drain(..).collect())
            .unwrap_or_default();
        for line in pending {
            self.push_line(line);
        }
        let size = terminal_size();
        let lines = self.compose(size, self.clock.now());
        let mut out = std::io::stdout().lock();
        let mut draw = || -> std::io::Result<()> {
            for (row, line) in lines.iter().enumerate() {
                out.queue(cursor::MoveTo(0, row as u16))?;
                out.write_all(line.as_bytes())?;
                // (at the full width the cursor waits on the last column:
                // clearing from there would erase that column's character)
                if line.chars().count() < usize::from(size.0) {
                    out.queue(terminal::Clear(terminal::ClearType::UntilNewLine))?;
                }
            }
            if lines.len() < usize::from(size.1) {
                out.queue(cursor::MoveTo(0, lines.len() as u16))?;
                out.queue(terminal::Clear(terminal::ClearType::FromCursorDown))?;
            }
            out.flush()
        };
        if let Err(err) = draw() {
            log::debug!("cannot draw on the terminal: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(height: u32) -> Screen {
        let mut screen = Screen::new(
            (128, height),
            Cells::Auto,
            Rc::default(),
            SimBus::new(0x3c, SimClock::new(true)),
            Rc::default(),
            Rc::new(Cell::new(KeyTimes::default())),
            SimClock::new(true),
        );
        for i in 0..50 {
            screen.push_line(format!("{i:>9}.000 s  page system"));
        }
        screen.action = Some(("shutdown", Duration::from_secs(3)));
        screen
    }

    #[test]
    fn an_80_by_24_terminal_holds_panel_status_keys_and_events_for_both_sizes() {
        for height in [32, 64] {
            let lines = screen(height).compose((80, 24), Duration::from_secs(5));
            assert_eq!(lines.len(), 24, "{height}: {lines:#?}");
            assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
            assert!(lines[0].starts_with("┌ rackpi-panel simulator"));
            let bottom = lines.iter().position(|l| l.starts_with('└')).unwrap();
            assert!(lines[bottom + 1].starts_with("LED "), "{lines:#?}");
            assert!(lines[bottom + 2].starts_with("SPACE"));
            assert!(lines.iter().any(|l| l.contains("q quit")));
            assert!(
                lines.last().unwrap().contains("49.000 s"),
                "latest event shown"
            );
        }
    }

    #[test]
    fn the_cells_follow_the_terminal_or_the_option() {
        for (forced, panel, terminal, cells) in [
            (Cells::Auto, (128, 32), (80, 24), Cells::Quadrants),
            (Cells::Auto, (128, 64), (80, 24), Cells::Braille),
            (Cells::Auto, (128, 32), (132, 30), Cells::HalfBlocks),
            (Cells::Auto, (128, 64), (132, 40), Cells::HalfBlocks),
            (Cells::Auto, (128, 64), (100, 40), Cells::Quadrants),
            (Cells::Braille, (128, 32), (200, 60), Cells::Braille),
        ] {
            assert_eq!(
                choose_cells(forced, panel, terminal),
                cells,
                "{forced:?} {panel:?} in {terminal:?}"
            );
        }
    }

    #[test]
    fn a_tiny_terminal_is_clipped_not_wrapped() {
        let lines = screen(64).compose((40, 10), Duration::ZERO);
        assert_eq!(lines.len(), 10);
        assert!(lines.iter().all(|l| l.chars().count() <= 40));
        for size in [(1, 1), (20, 5), (2, 3)] {
            let lines = screen(64).compose(size, Duration::ZERO);
            assert!(lines.len() <= usize::from(size.1), "{size:?}: {lines:#?}");
            assert!(lines
                .iter()
                .all(|l| l.chars().count() <= usize::from(size.0)));
        }
    }

    #[test]
    fn a_small_terminal_shows_the_status_and_every_key_before_the_panel() {
        for (size, height) in [
            ((60, 20), 64),
            ((40, 10), 64),
            ((40, 12), 32),
            ((66, 14), 32),
        ] {
            let lines = screen(height).compose(size, Duration::ZERO);
            let text = lines.join("\n");
            assert!(lines.len() <= usize::from(size.1), "{size:?}: {text}");
            assert!(lines
                .iter()
                .all(|l| l.chars().count() <= usize::from(size.0)));
            assert!(lines[0].starts_with("┌ rackpi"), "{size:?}: {text}");
            for item in [
                "LED ",
                "display plugged",
                "shutdown recorded",
                "q quit",
                "c 21 s: cancel",
            ] {
                assert!(text.contains(item), "{size:?}: no {item}: {text}");
            }
        }
    }

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

    #[test]
    fn the_status_line_says_when_the_panel_returns_after_an_action() {
        let screen = screen(32);
        screen.bus.state().plugged = false;
        let status = screen.status(Duration::from_secs(13));
        assert!(
            status.contains("shutdown recorded, not run: panel back in 110 s"),
            "{status}"
        );
        assert!(status.chars().count() <= 80, "{status}");
    }
}
