//! The terminal's screen: the panel in a border, the status line, the
//! keys, and the latest events and log lines, laid out to fit any size and
//! painted in place.

use std::collections::VecDeque;
use std::io::Write;
use std::time::Duration;

use crossterm::{cursor, terminal, QueueableCommand};

use crate::core::{Event, Time};
use crate::frame::Frame;
use crate::sim::devices::Devices;

use super::cells::{choose_cells, Cells};
use super::keys::{key_items, KeyTimes};
use super::session::{take_pane_log, terminal_size};

/// Seconds as people write them: `9 s`, `4.5 s`.
pub(super) fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        let text = format!("{:.3}", d.as_secs_f64());
        format!("{} s", text.trim_end_matches('0'))
    }
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

/// Where an event line's text starts, after its time (`    9.000 s  `):
/// the continuation of a wrapped line is indented to it.
const EVENT_INDENT: usize = 13;

/// One line of the event pane in lines of at most `width` characters,
/// broken between words where it can be, the continuations indented.
fn wrap_line(line: &str, width: usize) -> Vec<String> {
    let indent = if width >= 2 * EVENT_INDENT {
        EVENT_INDENT
    } else {
        0
    };
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for (index, word) in line.split(' ').enumerate() {
        let word_len = word.chars().count();
        if index > 0 {
            if current_len > indent && current_len + 1 + word_len > width {
                lines.push(std::mem::replace(&mut current, " ".repeat(indent)));
                current_len = indent;
            } else {
                current.push(' ');
                current_len += 1;
            }
        }
        // a word longer than a line is cut where the line ends
        let mut rest = word;
        while current_len + rest.chars().count() > width {
            let take = width.saturating_sub(current_len).max(1);
            let cut = rest.char_indices().nth(take).map_or(rest.len(), |(i, _)| i);
            current.push_str(&rest[..cut]);
            rest = &rest[cut..];
            lines.push(std::mem::replace(&mut current, " ".repeat(indent)));
            current_len = indent;
        }
        current.push_str(rest);
        current_len += rest.chars().count();
    }
    lines.push(current);
    lines
}

fn clip(line: &str, width: usize) -> String {
    line.chars().take(width).collect()
}

/// `mqtt: connected`, `mqtt: down (why)` in at most `room` characters
/// (but never less than the words before the reason).
fn broker_status(broker: &Broker, room: usize) -> String {
    match broker {
        Broker::Connecting => "mqtt: connecting".into(),
        Broker::Connected => "mqtt: connected".into(),
        Broker::Down(reason) => {
            let head = "mqtt: down (";
            let left = room.saturating_sub(head.len() + 1);
            let reason = if reason.chars().count() <= left {
                reason.clone()
            } else {
                let cut: String = reason.chars().take(left.saturating_sub(1)).collect();
                format!("{}…", cut.trim_end())
            };
            format!("{head}{reason})")
        }
    }
}

/// Draws the panel, the LED and status line, the keys, and the latest
/// events and log lines in a pane of their own.
pub(crate) struct Screen {
    cells: Cells,
    /// The devices whose state the status line shows.
    devices: Devices,
    /// What the keys hold: the keyboard reads them here, so the key line
    /// and the keys always agree.
    times: KeyTimes,
    frame: Frame,
    events: VecDeque<String>,
    /// The action recorded last, and when, while its screen is up.
    action: Option<(&'static str, Time)>,
    /// How the button is held, while it is down.
    button: Option<Held>,
    /// The broker's connection, with `[mqtt]` on.
    mqtt: Option<Broker>,
}

/// The broker's connection as the last `mqtt_*` event said.
#[derive(Debug, Clone, PartialEq)]
enum Broker {
    /// No event yet: the first try is under way.
    Connecting,
    Connected,
    /// Lost or refused, and why.
    Down(String),
}

/// The width the broker's part of the status keeps to: a line of an
/// 80-column terminal.
const STATUS_WIDTH: usize = 80;

/// What the screen starts with.
pub(crate) struct ScreenSettings {
    /// The panel's width and height in pixels.
    pub(crate) panel: (u32, u32),
    /// Forced, or `Auto` to follow the terminal's size.
    pub(crate) cells: Cells,
    /// What the keys hold until a reload changes it.
    pub(crate) times: KeyTimes,
    /// Whether `[mqtt]` is on: the status line then says how the broker is.
    pub(crate) mqtt: bool,
}

/// How the keyboard holds the button down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Held {
    /// By one SPACE: it stays down until the next SPACE.
    UntilSpace,
    /// By `t`, `r`, `s`, `c` or a held SPACE: released at this time.
    Until(Time),
}

/// Event and log lines kept for the pane (more than any terminal shows).
const PANE_KEEP: usize = 200;

impl Screen {
    pub(crate) fn new(settings: ScreenSettings, devices: Devices) -> Self {
        let (width, height) = settings.panel;
        Screen {
            cells: settings.cells,
            devices,
            times: settings.times,
            frame: Frame::new(width, height),
            events: VecDeque::new(),
            action: None,
            button: None,
            mqtt: settings.mqtt.then_some(Broker::Connecting),
        }
    }

    /// What the keys `r`, `s` and `c` hold.
    pub(crate) fn times(&self) -> KeyTimes {
        self.times
    }

    /// The configuration was reloaded: the keys hold for its thresholds.
    pub(crate) fn set_times(&mut self, times: KeyTimes) {
        self.times = times;
    }

    /// How the keyboard holds the button (`None`: it is up).
    pub(crate) fn set_button(&mut self, held: Option<Held>) {
        self.button = held;
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
            Event::MqttConnected => self.mqtt = Some(Broker::Connected),
            Event::MqttDisconnected { reason } => self.mqtt = Some(Broker::Down(reason.clone())),
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
        self.status_items(now, STATUS_WIDTH).join("  ")
    }

    /// The status line's items, for a terminal `cols` wide.
    fn status_items(&self, now: Time, cols: usize) -> Vec<String> {
        let led = if self.devices.led.0.get() {
            "●"
        } else {
            "○"
        };
        let display = {
            let bus = self.devices.bus.state();
            match (bus.plugged, bus.model.display_on()) {
                (false, _) => "display UNPLUGGED",
                (true, true) => "display plugged",
                (true, false) => "display plugged, screen off",
            }
        };
        let button = match self.button {
            None => None,
            Some(Held::UntilSpace) => Some("button held (SPACE releases)".to_string()),
            Some(Held::Until(at)) => Some(format!(
                "button held, released in {}",
                seconds(Duration::from_secs(
                    at.saturating_sub(now).as_millis().div_ceil(1000) as u64
                ))
            )),
        };
        let power = match self.action {
            Some((name, at)) => {
                let back = at.saturating_add(self.times.settle);
                format!(
                    "{name} recorded, not run: panel back in {}",
                    seconds(Duration::from_secs(back.saturating_sub(now).as_secs()))
                )
            }
            None if self.devices.power.failing.get() => "power commands fail (f)".into(),
            None => "power: recorded, not run".into(),
        };
        let mut items = vec![format!("LED {led}")];
        items.extend(button);
        items.extend([display.into(), power]);
        // (a reason too long for what the line has left goes to a status
        // line of its own, cut to its width; the whole of it is in the
        // event pane below)
        items.extend(
            self.mqtt
                .as_ref()
                .map(|broker| broker_status(broker, cols.min(STATUS_WIDTH))),
        );
        items
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
        let mut tail = wrap(&self.status_items(now, cols), cols.max(1));
        tail.extend(wrap(&key_items(&self.times), cols.max(1)));
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
        // the latest events in the room left, each wrapped to the width:
        // a long error line ends with its fix
        let room = rows.saturating_sub(lines.len());
        let mut pane: Vec<String> = Vec::new();
        for event in self.events.iter().rev() {
            if pane.len() >= room {
                break;
            }
            pane.extend(wrap_line(event, cols.max(1)).into_iter().rev());
        }
        pane.truncate(room);
        lines.extend(pane.into_iter().rev());
        lines.truncate(rows);
        lines.iter().map(|line| clip(line, cols)).collect()
    }

    /// Paints the whole screen in place: each line at its own row, the
    /// rest of the row cleared, nothing written past the last row.
    pub(crate) fn paint(&mut self) {
        for line in take_pane_log() {
            self.push_line(line);
        }
        let size = terminal_size();
        let lines = self.compose(size, self.devices.clock.now());
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
    use crate::sim::SimClock;

    fn screen(height: u32) -> Screen {
        let mut screen = Screen::new(
            ScreenSettings {
                panel: (128, height),
                cells: Cells::Auto,
                times: KeyTimes::default(),
                mqtt: false,
            },
            Devices::new(SimClock::new(true), 0x3c),
        );
        for i in 0..50 {
            screen.push_line(format!("{i:>9}.000 s  page system"));
        }
        screen.action = Some(("shutdown", Duration::from_secs(3)));
        // the panel switched on (display on), as during an action
        screen.devices.bus.state().model.write(&[0x00, 0xAF]);
        screen
    }

    #[test]
    fn the_status_line_says_how_the_button_is_held_and_when_the_screen_is_off() {
        let mut screen = screen(32);
        screen.action = None;
        screen.button = Some(Held::UntilSpace);
        let status = screen.status(Duration::from_secs(5));
        assert!(status.contains("button held (SPACE releases)"), "{status}");
        assert!(!status.contains("screen off"), "{status}");
        // the whole status still fits an 80-column line
        assert!(status.chars().count() <= 80, "{status}");
        screen.button = Some(Held::Until(Duration::from_millis(13_100)));
        let status = screen.status(Duration::from_secs(5));
        assert!(status.contains("button held, released in 9 s"), "{status}");
        screen.button = None;
        screen.devices.bus.state().model.write(&[0x00, 0xAE]);
        let status = screen.status(Duration::from_secs(5));
        assert!(status.contains("display plugged, screen off"), "{status}");
        assert!(!status.contains("button held"), "{status}");
    }

    #[test]
    fn the_status_line_says_how_the_broker_is_in_80_columns() {
        let mut screen = screen(32);
        screen.action = None;
        assert!(!screen.status(Duration::ZERO).contains("mqtt"));
        screen.mqtt = Some(Broker::Connecting);
        assert!(screen.status(Duration::ZERO).ends_with("mqtt: connecting"));
        let reason = "127.0.0.1:1883 refused the connection: no broker listens there \
                      (check [mqtt] url and that the broker runs)";
        screen.event(
            Duration::from_secs(1),
            &Event::MqttDisconnected {
                reason: reason.into(),
            },
        );
        let lines = wrap(&screen.status_items(Duration::from_secs(1), 80), 80);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[1].starts_with("mqtt: down (127.0.0.1:1883 refused the connection: no broker"),
            "{lines:?}"
        );
        assert!(lines[1].ends_with("…)"), "{lines:?}");
        assert_eq!(lines[1].chars().count(), 80, "{lines:?}");
        // the whole reason is in the event pane
        assert!(screen.events.back().unwrap().contains("broker runs)"));
        screen.event(Duration::from_secs(2), &Event::MqttConnected);
        let status = screen.status(Duration::from_secs(2));
        assert!(status.ends_with("mqtt: connected"), "{status}");
        assert!(status.chars().count() <= 80, "{status}");
    }

    #[test]
    fn a_long_event_line_is_wrapped_with_its_end_on_the_screen() {
        let mut screen = screen(32);
        let error = "    3.000 s  config file /etc/rackpi-panel/config.toml: line 7: \
            `page.timeout_s` is the string \"15\", where a whole number is expected: \
            write `timeout_s = 15`";
        screen.push_line(error.into());
        let lines = screen.compose((80, 24), Duration::ZERO);
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
        let pane = lines.join("\n");
        let words = pane.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.ends_with("write `timeout_s = 15`"), "{pane}");
        assert!(pane.contains("\n    3.000 s  config file"), "{pane}");
        // continuations start under the text, after the time
        let last = lines.last().unwrap();
        assert!(last.starts_with(&" ".repeat(EVENT_INDENT)), "{last:?}");
        assert!(!last[EVENT_INDENT..].starts_with(' '), "{last:?}");
    }

    #[test]
    fn half_blocks_start_at_130_columns_and_a_narrower_terminal_cuts_the_panels_right_edge() {
        let forced = Cells::Auto;
        assert_eq!(
            choose_cells(forced, (128, 32), (130, 24)),
            Cells::HalfBlocks
        );
        assert_eq!(choose_cells(forced, (128, 32), (129, 24)), Cells::Quadrants);
        assert_eq!(
            choose_cells(forced, (128, 64), (130, 40)),
            Cells::HalfBlocks
        );
        assert_eq!(choose_cells(forced, (128, 64), (130, 39)), Cells::Braille);
        assert_eq!(choose_cells(forced, (128, 32), (66, 24)), Cells::Quadrants);
        assert_eq!(choose_cells(forced, (128, 32), (65, 24)), Cells::Braille);
        // 66 columns hold the Braille panel whole; 65 cut its right border
        let whole = screen(64).compose((66, 24), Duration::ZERO);
        assert!(whole[0].ends_with('┐'), "{whole:#?}");
        let cut = screen(64).compose((65, 24), Duration::ZERO);
        assert!(
            cut[0].starts_with('┌') && !cut[0].ends_with('┐'),
            "{cut:#?}"
        );
        assert!(
            cut[1].starts_with('│') && !cut[1].ends_with('│'),
            "{cut:#?}"
        );
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
    fn the_status_line_says_when_the_panel_returns_after_an_action() {
        let screen = screen(32);
        screen.devices.bus.state().plugged = false;
        let status = screen.status(Duration::from_secs(13));
        assert!(
            status.contains("shutdown recorded, not run: panel back in 110 s"),
            "{status}"
        );
        assert!(status.chars().count() <= 80, "{status}");
    }

    #[test]
    fn in_a_40_column_terminal_a_long_broker_reason_is_cut_with_its_mark() {
        let mut screen = screen(32);
        screen.action = None;
        screen.event(
            Duration::from_secs(1),
            &Event::MqttDisconnected {
                reason: "127.0.0.1:18839 refused the connection: no broker listens there".into(),
            },
        );
        let lines = screen.compose((40, 12), Duration::from_secs(1));
        let status = lines
            .iter()
            .find(|line| line.starts_with("mqtt: down ("))
            .unwrap_or_else(|| panic!("no broker line: {lines:#?}"));
        assert!(status.ends_with("…)"), "cut without saying so: {status:?}");
        assert!(status.chars().count() <= 40, "{status:?}");
    }
}
