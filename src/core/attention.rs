//! What needs a look, and the request to be found: failed systemd units,
//! messages sent with `rackpi-panel notify`, and `rackpi-panel identify`.
//! Every limit a sender controls is enforced here too (text length, number
//! of messages), so no input can grow the panel's state without bound.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::{Effect, Event, Time};

/// At most this many messages are kept; a new one pushes out the oldest
/// `info`, or else the oldest of all.
pub const MAX_MESSAGES: usize = 16;
/// A message's text is cut to this many bytes (at a character boundary).
pub const MAX_TEXT: usize = 200;
/// At most this many failed units are listed; past it, the page says that
/// there are more (see [`MORE_UNITS`]) until systemd's next full listing.
pub(crate) const MAX_UNITS: usize = 64;
/// The attention page's line for the failed units past [`MAX_UNITS`]
/// (drawn as `more units failed`; no unit's name has a space).
pub(crate) const MORE_UNITS: &str = "more units";
/// How long `identify` lasts when no time is given.
pub const IDENTIFY_DEFAULT: Duration = Duration::from_secs(60);
/// The longest `identify`, from the socket or a simulator script alike.
pub const MAX_IDENTIFY: Duration = Duration::from_secs(3600);

/// A message's text: not empty, at most [`MAX_TEXT`] bytes.
pub fn check_text(text: &str) -> Result<(), String> {
    // (control characters become spaces on the panel: they say nothing)
    if text.chars().all(|c| c.is_whitespace() || c.is_control()) {
        return Err("the message is empty".into());
    }
    if text.len() > MAX_TEXT {
        return Err(format!(
            "the message is {} bytes long: at most {MAX_TEXT} fit (the panel shows a line of it)",
            text.len()
        ));
    }
    Ok(())
}

/// Whether the unit `name` is one of `ignore`: full names, or patterns
/// with `*` (any characters) and `?` (one), as `systemctl list-units` takes.
pub fn ignored(name: &str, ignore: &[String]) -> bool {
    ignore.iter().any(|pattern| glob_match(pattern, name))
}

fn glob_match(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), name.chars().collect());
    let (mut p, mut n) = (0, 0);
    // where the last `*` was, and where in `name` it now matches up to
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                // back to the last `*`, which takes one more character
                Some((at, upto)) => {
                    p = at;
                    n = upto + 1;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// How urgent a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Shown on the next wake only; the LED is not changed.
    Info,
    /// Sets the LED to *attention* until acknowledged or expired.
    Warn,
    /// As `warn`, listed as an error.
    Error,
}

impl Level {
    /// The name used on the command line, in scripts and in events.
    pub fn name(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The level named `name` (`info`, `warn` or `error`).
    pub(crate) fn from_name(name: &str) -> Option<Level> {
        [Level::Info, Level::Warn, Level::Error]
            .into_iter()
            .find(|level| level.name() == name)
    }
}

impl serde::Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Where something that needs attention came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttentionSource {
    /// A systemd unit entered the failed state.
    Unit,
    /// A message from `rackpi-panel notify` (or MQTT's `cmd/notify`).
    Notify,
    /// The UPS, read over NUT (SPEC §10): on battery, low battery.
    Ups,
    /// The Pi's supply: under-voltage reported by the firmware (SPEC §10).
    Power,
    /// The temperature at or above `temp_warn_c` (SPEC §10).
    Temp,
    /// The rack over MQTT: a peer offline or calling for attention (§9,
    /// with `rack_attention`).
    Rack,
}

impl AttentionSource {
    /// The source's name in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            AttentionSource::Unit => "unit",
            AttentionSource::Notify => "notify",
            AttentionSource::Ups => "ups",
            AttentionSource::Power => "power",
            AttentionSource::Temp => "temp",
            AttentionSource::Rack => "rack",
        }
    }
}

/// A standing condition that calls for attention while it holds (the UPS
/// on battery, under-voltage, heat, the rack): set and cleared by its
/// source, never acknowledged by a press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub level: Level,
    pub text: String,
}

/// One line of the attention page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttentionItem {
    /// A standing condition (UPS, supply, heat, rack), with its level.
    Condition { level: Level, text: String },
    /// A failed systemd unit, by name.
    Unit(String),
    /// A message.
    Message { level: Level, text: String },
}

#[derive(Debug, Clone, PartialEq)]
struct Message {
    level: Level,
    text: String,
    until: Option<Time>,
    /// Shown on a lit screen: an `info` goes when the screen next goes off.
    seen: bool,
}

/// Failed units, messages, identify, and where the attention page is.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Attention {
    /// At most one per source, listed first.
    conditions: BTreeMap<AttentionSource, Condition>,
    units: BTreeSet<String>,
    /// A unit failed while [`MAX_UNITS`] were listed: it is not known when
    /// all have recovered before systemd lists them again, so the LED and
    /// the page keep saying so meanwhile.
    more_units: bool,
    /// Oldest first.
    messages: Vec<Message>,
    identify_until: Option<Time>,
    /// The first line shown while the attention page is the current page.
    shown_from: Option<usize>,
    /// The list was not empty when last looked at (for `attention_cleared`).
    announced: bool,
}

/// The longest a message may last (`--for`, MQTT's `for_s`): 30 days.
pub const MAX_MESSAGE_FOR: Duration = Duration::from_secs(30 * 86_400);

/// `text` fit to quote in an answer or a log line: control characters
/// escaped (a newline becomes `\n`, so a sender can neither add a line nor
/// an assignment such as `WATCHDOG=trigger`), at most `max` characters and
/// then `…`.
pub fn printable(text: &str, max: usize) -> String {
    let mut shown = String::with_capacity(text.len().min(max * 2));
    for (count, c) in text.chars().enumerate() {
        if count == max {
            shown.push('…');
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Cuts `text` to [`MAX_TEXT`] bytes at a character boundary, control
/// characters replaced by spaces (a message is one line on the panel).
fn clean(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > MAX_TEXT {
            break;
        }
        out.push(c);
    }
    out.trim().to_string()
}

impl Attention {
    /// A unit entered the failed state; true when it was not known failed.
    pub(crate) fn unit_failed(
        &mut self,
        name: &str,
        ignore: &[String],
        effects: &mut Vec<Effect>,
    ) -> bool {
        let name = clean(name);
        if name.is_empty() || ignored(&name, ignore) || self.units.contains(&name) {
            return false;
        }
        if self.units.len() >= MAX_UNITS {
            return !std::mem::replace(&mut self.more_units, true);
        }
        effects.push(Effect::Event(Event::Attention {
            source: AttentionSource::Unit,
            level: Level::Error,
            text: name.clone(),
        }));
        self.units.insert(name);
        true
    }

    /// A source's condition holds (`Some`) or has ended (`None`); true when
    /// the list changed. A condition that starts or changes is reported
    /// with an `attention` event.
    pub(crate) fn set_condition(
        &mut self,
        source: AttentionSource,
        condition: Option<Condition>,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let Some(Condition { level, text }) = condition else {
            return self.conditions.remove(&source).is_some();
        };
        let condition = Condition {
            level,
            text: clean(&text),
        };
        if self.conditions.get(&source) == Some(&condition) {
            return false;
        }
        effects.push(Effect::Event(Event::Attention {
            source,
            level,
            text: condition.text.clone(),
        }));
        self.conditions.insert(source, condition);
        true
    }

    /// A unit left the failed state (recovered, reset, or unloaded).
    pub(crate) fn unit_recovered(&mut self, name: &str) -> bool {
        self.units.remove(&clean(name))
    }

    /// The whole set of failed units, as listed by systemd; true when a
    /// unit was added.
    pub(crate) fn units_failed(
        &mut self,
        names: &[String],
        ignore: &[String],
        effects: &mut Vec<Effect>,
    ) -> bool {
        let wanted: BTreeSet<String> = names.iter().map(|n| clean(n)).collect();
        self.units.retain(|name| wanted.contains(name));
        // the listing is the whole truth: what is past the limit is counted anew
        self.more_units = false;
        let mut added = false;
        for name in &wanted {
            added |= self.unit_failed(name, ignore, effects);
        }
        added
    }

    /// Units the rules now ignore are forgotten.
    pub(crate) fn ignore(&mut self, ignore: &[String]) {
        self.units.retain(|name| !ignored(name, ignore));
    }

    /// A message arrives; `lasts` makes it expire by itself. Returns false
    /// for an empty text.
    pub(crate) fn notify(
        &mut self,
        level: Level,
        text: &str,
        lasts: Option<Duration>,
        now: Time,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let text = clean(text);
        if text.is_empty() {
            return false;
        }
        // a script that repeats itself refreshes its message, not the list
        self.messages
            .retain(|m| !(m.level == level && m.text == text));
        if self.messages.len() >= MAX_MESSAGES {
            let oldest_info = self.messages.iter().position(|m| m.level == Level::Info);
            self.messages.remove(oldest_info.unwrap_or(0));
        }
        effects.push(Effect::Event(Event::Attention {
            source: AttentionSource::Notify,
            level,
            text: text.clone(),
        }));
        self.messages.push(Message {
            level,
            text,
            until: lasts.map(|d| now.saturating_add(d)),
            seen: false,
        });
        true
    }

    /// `identify` for `lasts` from `now`; zero ends it. True when the
    /// panel identifies afterwards.
    pub(crate) fn identify(
        &mut self,
        lasts: Duration,
        now: Time,
        effects: &mut Vec<Effect>,
    ) -> bool {
        if lasts.is_zero() {
            self.end_identify(effects);
            return false;
        }
        self.identify_until = Some(now.saturating_add(lasts));
        effects.push(Effect::Event(Event::Identify {
            seconds: lasts.as_secs_f64().ceil() as u64,
        }));
        true
    }

    /// Identify ends (its time ran out, or a press found the panel).
    pub(crate) fn end_identify(&mut self, effects: &mut Vec<Effect>) -> bool {
        if self.identify_until.take().is_some() {
            effects.push(Effect::Event(Event::IdentifyEnd));
            return true;
        }
        false
    }

    pub(crate) fn identifying(&self) -> bool {
        self.identify_until.is_some()
    }

    /// When the next message expires or identify ends.
    pub(crate) fn deadline(&self) -> Option<Time> {
        self.messages
            .iter()
            .filter_map(|m| m.until)
            .chain(self.identify_until)
            .min()
    }

    /// Everything due at `at` ends; true when the list changed.
    pub(crate) fn expire(&mut self, at: Time, effects: &mut Vec<Effect>) -> bool {
        if self.identify_until.is_some_and(|until| until <= at) {
            self.end_identify(effects);
        }
        let before = self.messages.len();
        self.messages
            .retain(|m| m.until.is_none_or(|until| until > at));
        self.messages.len() != before
    }

    /// Whether the LED must show *attention*: a condition, a failed unit, or a `warn`
    /// or `error` message not yet acknowledged.
    pub(crate) fn needs_attention(&self) -> bool {
        self.fixed_lines() > 0 || self.messages.iter().any(|m| m.level > Level::Info)
    }

    /// The attention page's lines: conditions (by source), failed units by
    /// name, then messages, newest first.
    pub(crate) fn items(&self) -> Vec<AttentionItem> {
        self.conditions
            .values()
            .map(|c| AttentionItem::Condition {
                level: c.level,
                text: c.text.clone(),
            })
            .chain(
                self.units
                    .iter()
                    .map(|name| AttentionItem::Unit(name.clone())),
            )
            .chain(
                self.more_units
                    .then(|| AttentionItem::Unit(MORE_UNITS.to_string())),
            )
            .chain(self.messages.iter().rev().map(|m| AttentionItem::Message {
                level: m.level,
                text: m.text.clone(),
            }))
            .collect()
    }

    /// The page's lines that a press does not acknowledge: conditions and
    /// failed units.
    fn fixed_lines(&self) -> usize {
        self.conditions.len() + self.units.len() + usize::from(self.more_units)
    }

    fn len(&self) -> usize {
        self.fixed_lines() + self.messages.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first line shown, while the attention page is the current page.
    pub(crate) fn shown_from(&self) -> Option<usize> {
        self.shown_from
    }

    /// The attention page becomes the current page, from its first line.
    pub(crate) fn show(&mut self, rows: usize) {
        self.shown_from = Some(0);
        self.mark_seen(rows);
    }

    /// Another page becomes the current page.
    pub(crate) fn hide(&mut self) {
        self.shown_from = None;
    }

    /// Lines were added or removed while the page is shown: the window
    /// stays within the list.
    pub(crate) fn keep_window(&mut self, rows: usize) {
        if let Some(first) = self.shown_from {
            let last_window = self.len().saturating_sub(1) / rows.max(1) * rows.max(1);
            self.shown_from = Some(first.min(last_window));
            self.mark_seen(rows);
        }
    }

    /// The indices (newest first) of the messages in the window shown.
    fn window_messages(&self, rows: usize) -> std::ops::Range<usize> {
        let Some(first) = self.shown_from else {
            return 0..0;
        };
        let fixed = self.fixed_lines();
        let start = first.max(fixed) - fixed;
        let end = (first + rows.max(1)).max(fixed) - fixed;
        start.min(self.messages.len())..end.min(self.messages.len())
    }

    fn mark_seen(&mut self, rows: usize) {
        let count = self.messages.len();
        for newest_first in self.window_messages(rows) {
            self.messages[count - 1 - newest_first].seen = true;
        }
    }

    /// A short press on the attention page: the messages on the screen are
    /// acknowledged; if there were none, the page scrolls. Returns false
    /// when the press scrolled past the last line.
    pub(crate) fn press(&mut self, rows: usize, effects: &mut Vec<Effect>) -> bool {
        let Some(first) = self.shown_from else {
            return false;
        };
        let window = self.window_messages(rows);
        if !window.is_empty() {
            let count = self.messages.len();
            let oldest_first = count - window.end..count - window.start;
            for message in self.messages.drain(oldest_first).rev() {
                effects.push(Effect::Event(Event::Acknowledged { text: message.text }));
            }
            self.keep_window(rows);
            return !self.is_empty();
        }
        let next = first + rows.max(1);
        if next >= self.len() {
            self.shown_from = None;
            return false;
        }
        self.shown_from = Some(next);
        self.mark_seen(rows);
        true
    }

    /// The screen went off: `info` messages that were shown have had their
    /// wake, and the page starts from the top next time.
    pub(crate) fn screen_off(&mut self) {
        self.messages.retain(|m| m.level > Level::Info || !m.seen);
        self.shown_from = None;
    }

    /// `attention_cleared` once the list has become empty.
    pub(crate) fn report_cleared(&mut self, effects: &mut Vec<Effect>) {
        let listed = !self.is_empty();
        if self.announced && !listed {
            effects.push(Effect::Event(Event::AttentionCleared));
        }
        self.announced = listed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: u64) -> Duration {
        Duration::from_secs(v)
    }

    #[test]
    fn a_message_of_exactly_the_limit_is_taken_one_byte_more_is_not() {
        assert!(check_text(&"x".repeat(MAX_TEXT)).is_ok());
        let err = check_text(&"x".repeat(MAX_TEXT + 1)).unwrap_err();
        assert!(err.contains("201 bytes"), "{err}");
        assert!(check_text(" \t").is_err(), "blank");
        assert!(check_text("\u{1}\u{7}\r").is_err(), "nothing to show");
    }

    fn events(effects: &[Effect]) -> Vec<&'static str> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Event(e) => Some(e.name()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_unit_counts_once_and_ignored_units_never() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        let ignore = vec!["apt-daily.service".to_string()];
        assert!(a.unit_failed("backup.service", &ignore, &mut fx));
        assert!(!a.unit_failed("backup.service", &ignore, &mut fx));
        assert!(!a.unit_failed("apt-daily.service", &ignore, &mut fx));
        assert_eq!(events(&fx), vec!["attention"]);
        assert!(a.needs_attention());
        assert!(a.unit_recovered("backup.service"));
        assert!(!a.needs_attention());
    }

    #[test]
    fn past_the_limit_the_panel_says_more_failed_until_systemd_lists_them_again() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        let names: Vec<String> = (0..=MAX_UNITS)
            .map(|i| format!("u{i:03}.service"))
            .collect();
        for name in &names {
            assert!(a.unit_failed(name, &[], &mut fx), "{name} is news");
        }
        // more past the limit are counted in the one line, not news again
        assert!(!a.unit_failed("more.service", &[], &mut fx));
        for name in &names[..MAX_UNITS] {
            a.unit_recovered(name);
        }
        assert!(
            a.needs_attention(),
            "the unit past the limit is still failed: the LED must say so"
        );
        assert_eq!(a.items(), vec![AttentionItem::Unit(MORE_UNITS.into())]);
        a.units_failed(&names[MAX_UNITS..], &[], &mut fx);
        assert_eq!(
            a.items(),
            vec![AttentionItem::Unit(names[MAX_UNITS].clone())]
        );
        a.units_failed(&[], &[], &mut fx);
        assert!(!a.needs_attention());
        assert!(a.is_empty());
    }

    #[test]
    fn ignored_units_may_be_named_by_patterns() {
        let ignore = vec!["apt-daily*".to_string(), "user@?.service".to_string()];
        for name in [
            "apt-daily.service",
            "apt-daily-upgrade.timer",
            "user@0.service",
        ] {
            assert!(ignored(name, &ignore), "{name}");
        }
        for name in ["backup.service", "user@1000.service", "xapt-daily.service"] {
            assert!(!ignored(name, &ignore), "{name}");
        }
        assert!(ignored("a.service", &["*".into()]));
        assert!(ignored("abcbd", &["a*b*d".into()]));
        assert!(!ignored("abcbe", &["a*b*d".into()]));
        // a `*` that must give back what it took: each retry moves on by one
        for (pattern, name, matches) in [
            ("*.service", "a.service.service", true),
            ("*ab", "aab", true),
            ("*ab", "aaab", true),
            ("a*ab", "aaab", true),
            ("*ba", "bbba", true),
            ("*b", "bbc", false),
            ("*x*y", "axbxay", true),
            ("?*", "", false),
            ("a?c", "ac", false),
        ] {
            assert_eq!(glob_match(pattern, name), matches, "{pattern} ~ {name}");
        }
        let mut a = Attention::default();
        let mut fx = Vec::new();
        assert!(!a.unit_failed("apt-daily-upgrade.service", &ignore, &mut fx));
        assert!(a.unit_failed("backup.service", &ignore, &mut fx));
        a.ignore(&["back*".into()]);
        assert!(a.is_empty());
    }

    #[test]
    fn a_full_listing_replaces_the_set() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.unit_failed("a.service", &[], &mut fx);
        a.units_failed(&["b.service".into()], &[], &mut fx);
        assert_eq!(a.items(), vec![AttentionItem::Unit("b.service".into())]);
    }

    #[test]
    fn info_does_not_need_attention_but_warn_and_error_do() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.notify(Level::Info, "updated", None, s(0), &mut fx);
        assert!(!a.needs_attention());
        assert!(!a.is_empty());
        a.notify(Level::Warn, "disk 91%", None, s(0), &mut fx);
        assert!(a.needs_attention());
    }

    #[test]
    fn text_is_cut_to_200_bytes_on_a_character_boundary_and_kept_on_one_line() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.notify(Level::Error, &"é".repeat(300), None, s(0), &mut fx);
        a.notify(Level::Error, "two\nlines", None, s(0), &mut fx);
        let items = a.items();
        let AttentionItem::Message { text, .. } = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(text.len(), MAX_TEXT);
        assert_eq!(
            items[0],
            AttentionItem::Message {
                level: Level::Error,
                text: "two lines".into()
            }
        );
        assert!(!a.notify(Level::Error, " \n ", None, s(0), &mut fx));
    }

    #[test]
    fn at_most_sixteen_messages_and_an_info_goes_first() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.notify(Level::Info, "first info", None, s(0), &mut fx);
        for i in 0..100 {
            a.notify(Level::Error, &format!("flood {i}"), None, s(0), &mut fx);
        }
        assert_eq!(a.items().len(), MAX_MESSAGES);
        assert!(!a.items().contains(&AttentionItem::Message {
            level: Level::Info,
            text: "first info".into()
        }));
        assert_eq!(
            a.items()[0],
            AttentionItem::Message {
                level: Level::Error,
                text: "flood 99".into()
            }
        );
    }

    #[test]
    fn a_repeated_message_replaces_the_earlier_one() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.notify(Level::Warn, "same", Some(s(10)), s(0), &mut fx);
        a.notify(Level::Warn, "same", Some(s(10)), s(5), &mut fx);
        assert_eq!(a.items().len(), 1);
        assert_eq!(a.deadline(), Some(s(15)));
    }

    #[test]
    fn messages_and_identify_expire_at_their_deadlines() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        assert_eq!(a.deadline(), None, "nothing pending: no wake-up");
        a.notify(Level::Error, "x", Some(s(30)), s(0), &mut fx);
        a.identify(s(10), s(0), &mut fx);
        assert_eq!(a.deadline(), Some(s(10)));
        assert!(!a.expire(s(10), &mut fx));
        assert!(!a.identifying());
        assert_eq!(a.deadline(), Some(s(30)));
        assert!(!a.expire(s(29), &mut fx));
        assert!(a.expire(s(30), &mut fx));
        assert!(a.is_empty());
        assert_eq!(events(&fx), vec!["attention", "identify", "identify_end"]);
    }

    #[test]
    fn a_press_acknowledges_the_messages_shown_and_otherwise_scrolls() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        for unit in ["a", "b", "c", "d"] {
            a.unit_failed(unit, &[], &mut fx);
        }
        a.notify(Level::Error, "backup failed", None, s(0), &mut fx);
        fx.clear();
        a.show(3);
        assert!(a.press(3, &mut fx), "units only on screen: scrolls");
        assert_eq!(a.shown_from(), Some(3));
        assert!(fx.is_empty());
        assert!(a.press(3, &mut fx), "d and the message: acknowledged");
        assert_eq!(events(&fx), vec!["acknowledged"]);
        assert_eq!(a.items().len(), 4);
        assert_eq!(a.shown_from(), Some(3), "d is still shown");
        assert!(!a.press(3, &mut fx), "past the end");
        assert_eq!(a.shown_from(), None);
    }

    #[test]
    fn a_shown_info_goes_when_the_screen_goes_off_an_unseen_one_stays() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.notify(Level::Info, "seen", None, s(0), &mut fx);
        a.show(3);
        a.notify(Level::Info, "not yet", None, s(0), &mut fx);
        a.screen_off();
        assert_eq!(
            a.items(),
            vec![AttentionItem::Message {
                level: Level::Info,
                text: "not yet".into()
            }]
        );
    }

    #[test]
    fn cleared_is_reported_once_when_the_list_empties() {
        let mut a = Attention::default();
        let mut fx = Vec::new();
        a.report_cleared(&mut fx);
        a.unit_failed("x", &[], &mut fx);
        a.report_cleared(&mut fx);
        a.unit_recovered("x");
        a.report_cleared(&mut fx);
        a.report_cleared(&mut fx);
        assert_eq!(events(&fx), vec!["attention", "attention_cleared"]);
    }
}
