//! The screens, written once against an embedded-graphics `DrawTarget`, so the
//! panel, the simulator, `render` and the tests draw the very same pixels.

use embedded_graphics::mono_font::iso_8859_1::{FONT_10X20, FONT_6X10, FONT_8X13_BOLD};
use embedded_graphics::mono_font::{MonoFont, MonoTextStyle};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Alignment, Baseline, Text, TextStyleBuilder};

use crate::core::{AttentionItem, HoldStage, Level, PageKind, PageName, PowerAction, Rules, View};
use crate::frame::Frame;

mod lists;

use crate::stats::{PageText, Stats};
pub(crate) use lists::attention_line;
use lists::{attention_page, rack_page};

mod ups_page;

const SMALL: &MonoFont = &FONT_6X10;
const LARGE: &MonoFont = &FONT_8X13_BOLD;
/// Characters of the small font on a 128-pixel line.
const COLUMNS: usize = 21;

/// Draws `view` with `stats` onto `target` (the whole target is redrawn; the
/// display adapter sends only what changed).
pub fn draw<D>(target: &mut D, stats: &Stats, view: &View) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    target.clear(BinaryColor::Off)?;
    let size = target.bounding_box().size;
    let tall = size.height >= 64;
    match view {
        View::Off => Ok(()),
        View::Page { page, shift } => {
            let mut shifted = target.translated(Point::new(shift.0, shift.1));
            match page {
                PageKind::Info => info_page(&mut shifted, stats, tall),
                PageKind::System => lines(&mut shifted, &system_lines(stats), tall),
                PageKind::Network => lines(&mut shifted, &network_lines(stats, tall), tall),
                PageKind::Ups => lines(&mut shifted, &ups_page::ups_lines(&stats.ups, tall), tall),
                // (the core shows the attention page as its own view)
                PageKind::Attention => lines(&mut shifted, &["nothing to report".into()], tall),
                // (and the rack page too)
                PageKind::Rack => lines(&mut shifted, &["RACK".into()], tall),
                PageKind::Custom(name) => {
                    custom_page(&mut shifted, name.as_str(), &stats.page_text, tall)
                }
            }
        }
        View::Stage {
            stage,
            seconds_left,
        } => stage_screen(target, *stage, *seconds_left, tall),
        View::Action(action) => {
            let text = match action {
                PowerAction::Reboot => "Rebooting...",
                PowerAction::Shutdown => "Shutting down...",
            };
            centred(target, text, LARGE)
        }
        View::Failed { action, reason } => {
            let title = match action {
                PowerAction::Reboot => "Reboot failed:",
                PowerAction::Shutdown => "Shutdown failed:",
            };
            let mut text = vec![title.to_string()];
            text.extend(failure_lines(reason, COLUMNS, if tall { 5 } else { 2 }));
            lines(target, &text, tall)
        }
        View::Attention { items, first } => attention_page(target, items, *first, tall),
        View::Identify => identify_screen(target, &stats.hostname, tall),
        View::Countdown {
            action,
            seconds_left,
        } => {
            let title = match action {
                PowerAction::Reboot => "REBOOT from MQTT",
                PowerAction::Shutdown => "POWER OFF from MQTT",
            };
            if tall {
                return big_countdown(target, title, *seconds_left, "press to cancel");
            }
            let text = [
                title.to_string(),
                format!("in {seconds_left} s"),
                "press to cancel".to_string(),
            ];
            lines(target, &text, false)
        }
        View::Rack {
            up,
            total,
            lines: nodes,
            first,
        } => rack_page(target, *up, *total, nodes, *first, tall),
    }
}

fn identify_screen<D>(target: &mut D, hostname: &str, tall: bool) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let width = target.bounding_box().size.width as i32;
    let (font, title_y, host_y) = if tall {
        (&FONT_10X20, 14, 44)
    } else {
        (LARGE, 7, 24)
    };
    let centred = TextStyleBuilder::new()
        .alignment(Alignment::Center)
        .baseline(Baseline::Middle)
        .build();
    let title = MonoTextStyle::new(font, BinaryColor::On);
    Text::with_text_style("IDENTIFY", Point::new(width / 2, title_y), title, centred)
        .draw(target)?;
    let host = if hostname.is_empty() {
        "this Pi"
    } else {
        hostname
    };
    let small = MonoTextStyle::new(SMALL, BinaryColor::On);
    Text::with_text_style(
        &fit(host, COLUMNS),
        Point::new(width / 2, host_y),
        small,
        centred,
    )
    .draw(target)
    .map(|_| ())
}

/// A custom page: its name as the title, dark on a lit bar, then the first
/// lines of its output or why there are none — 2 lines on 32 rows, 4 on 64.
fn custom_page<D>(target: &mut D, title: &str, text: &PageText, tall: bool) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let width = target.bounding_box().size.width;
    Rectangle::new(Point::zero(), Size::new(width, SMALL.character_size.height))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(target)?;
    let dark = MonoTextStyle::new(SMALL, BinaryColor::Off);
    Text::with_baseline(&fit(title, COLUMNS), Point::new(1, 0), dark, Baseline::Top)
        .draw(target)?;
    let room = if tall { 4 } else { 2 };
    let mut text_lines = vec![String::new()];
    text_lines.extend(custom_lines(text, room));
    lines(target, &text_lines, tall)
}

/// The body of a custom page, at most `room` lines and never none.
pub(crate) fn custom_lines(text: &PageText, room: usize) -> Vec<String> {
    match text {
        PageText::Pending { running: true } => vec!["running...".into()],
        PageText::Pending { running: false } => vec!["no output yet".into()],
        PageText::Lines(found) if found.is_empty() => vec!["no output".into()],
        PageText::Lines(found) => found.iter().take(room).cloned().collect(),
        PageText::Error(reason) => wrap(reason, COLUMNS, room),
    }
}

/// One page with the sample data, on a panel `width` × `height` (for
/// `render` and the docs).
pub fn render_page(page: PageKind, (width, height): (u32, u32)) -> Frame {
    let mut frame = Frame::new(width, height);
    let view = View::Page {
        page,
        shift: (0, 0),
    };
    let Ok(()) = draw(&mut frame, &Stats::sample(), &view);
    frame
}

/// A custom page showing `text`, on a panel `width` × `height` (for
/// `render --screen NAME --config FILE`).
pub fn render_custom_page(name: PageName, text: PageText, (width, height): (u32, u32)) -> Frame {
    let mut frame = Frame::new(width, height);
    let stats = Stats {
        page_text: text,
        ..Stats::sample()
    };
    let view = View::Page {
        page: PageKind::Custom(name),
        shift: (0, 0),
    };
    let Ok(()) = draw(&mut frame, &stats, &view);
    frame
}

/// The screens `render --screen` knows, by name (`custom` is a sample
/// `[[page]]` named `backup`; `rack` a rack of seven with one offline and
/// one calling for attention; `countdown` a reboot sent over MQTT).
pub const SCREENS: [&str; 15] = [
    "info",
    "system",
    "network",
    "ups",
    "custom",
    "attention",
    "identify",
    "stage-reboot",
    "stage-shutdown",
    "stage-cancelled",
    "rebooting",
    "shutting-down",
    "reboot-failed",
    "rack",
    "countdown",
];

/// The screen named `name` (one of [`SCREENS`]) with sample content.
pub fn sample_view(name: &str) -> Option<View> {
    let page = |page| View::Page {
        page,
        shift: (0, 0),
    };
    let stage = |stage, seconds_left| View::Stage {
        stage,
        seconds_left,
    };
    Some(match name {
        "info" => page(PageKind::Info),
        "system" => page(PageKind::System),
        "network" => page(PageKind::Network),
        "ups" => page(PageKind::Ups),
        "custom" => page(PageKind::Custom(PageName::new("backup")?)),
        "attention" => View::Attention {
            items: vec![
                AttentionItem::Unit("restic-backup.service".into()),
                AttentionItem::Message {
                    level: Level::Error,
                    text: "restic: backup failed".into(),
                },
                AttentionItem::Message {
                    level: Level::Warn,
                    text: "disk 91% full".into(),
                },
            ],
            first: 0,
        },
        "identify" => View::Identify,
        "stage-reboot" => stage(HoldStage::Reboot, 4),
        "stage-shutdown" => stage(HoldStage::Shutdown, 8),
        "stage-cancelled" => stage(HoldStage::Cancelled, 0),
        "rebooting" => View::Action(PowerAction::Reboot),
        "shutting-down" => View::Action(PowerAction::Shutdown),
        "reboot-failed" => View::Failed {
            action: PowerAction::Reboot,
            reason: "`systemctl reboot` exited with status 1: Access denied".into(),
        },
        "rack" => View::Rack {
            up: 5,
            total: 7,
            lines: [
                "pi-3 offline",
                "pi-6 ! restic failed",
                "pi-2 71°C",
                "pi-7 64°C",
                "pi-1 52°C",
                "pi-5 49°C",
                "pi-4 ?",
            ]
            .map(String::from)
            .to_vec(),
            first: 0,
        },
        "countdown" => View::Countdown {
            action: PowerAction::Reboot,
            seconds_left: 7,
        },
        _ => return None,
    })
}

/// The screen named `name` with the sample data, on a panel `width` ×
/// `height`, as a configuration's `rules` make it: the stage screens count
/// down from its thresholds, as they look the moment the stage begins;
/// `None` for a name not in [`SCREENS`].
pub(crate) fn render_screen_for(
    name: &str,
    (width, height): (u32, u32),
    rules: &Rules,
) -> Option<Frame> {
    let mut view = sample_view(name)?;
    if let View::Stage {
        stage,
        seconds_left,
    } = &mut view
    {
        let until = |from: std::time::Duration, to: std::time::Duration| {
            to.saturating_sub(from).as_millis().div_ceil(1000) as u64
        };
        *seconds_left = match stage {
            HoldStage::Reboot => until(rules.reboot_after, rules.shutdown_after),
            HoldStage::Shutdown => until(rules.shutdown_after, rules.cancel_after),
            HoldStage::Short | HoldStage::Cancelled => *seconds_left,
        };
    }
    let mut frame = Frame::new(width, height);
    let Ok(()) = draw(&mut frame, &Stats::sample(), &view);
    Some(frame)
}

/// `CPU nn% | MEM nn%`, never wider than the panel. The numbers sit in
/// fixed-width fields, so a change of one moves nothing else on the line
/// (and only its digits are sent to the panel).
pub(crate) fn cpu_mem_line(stats: &Stats) -> String {
    format!(
        "CPU {:>4} | MEM {:>4}",
        percent(stats.cpu_percent),
        percent(Some(stats.mem_percent))
    )
}

fn percent(value: Option<f32>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{}%", v.clamp(0.0, 100.0).round() as u32),
        _ => "--%".into(),
    }
}

fn ip_text(stats: &Stats) -> String {
    match stats.ip {
        Some(ip) => ip.to_string(),
        None => "no network".into(),
    }
}

fn info_page<D>(target: &mut D, stats: &Stats, tall: bool) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let host = fit(&stats.hostname, COLUMNS);
    if !tall {
        return lines(target, &[host, ip_text(stats), cpu_mem_line(stats)], false);
    }
    lines(
        target,
        &[
            host,
            ip_text(stats),
            format!("CPU {:>4}", percent(stats.cpu_percent)),
            format!("MEM {:>4}", percent(Some(stats.mem_percent))),
            format!("RAM {}", gigabytes(stats.mem_total)),
        ],
        true,
    )?;
    bar(target, 60, 25, stats.cpu_percent.unwrap_or(0.0))?;
    bar(target, 60, 37, stats.mem_percent)?;
    Ok(())
}

fn gigabytes(bytes: u64) -> String {
    let gb = bytes as f64 / (1u64 << 30) as f64;
    if gb >= 10.0 {
        format!("{}G", gb.round() as u64)
    } else {
        format!("{:.1}G", gb)
    }
}

fn bar<D>(target: &mut D, x: i32, y: i32, percent: f32) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let width = 66u32;
    Rectangle::new(Point::new(x, y), Size::new(width, 8))
        .into_styled(PrimitiveStyle::with_stroke(BinaryColor::On, 1))
        .draw(target)?;
    let filled = ((width - 4) as f32 * percent.clamp(0.0, 100.0) / 100.0).round() as u32;
    Rectangle::new(Point::new(x + 2, y + 2), Size::new(filled, 4))
        .into_styled(PrimitiveStyle::with_fill(BinaryColor::On))
        .draw(target)
        .map(|_| ())
}

/// System page: temperature, what the Pi firmware does to the clocks (only
/// while it does: on a 32-row panel it takes the uptime's place), root
/// filesystem, uptime.
pub(crate) fn system_lines(stats: &Stats) -> Vec<String> {
    let temp = match stats.temperature_c {
        Some(t) if t.is_finite() => format!("TEMP {:.1}\u{b0}C", t.clamp(-99.9, 999.9)),
        _ => "TEMP --".into(),
    };
    let t = &stats.throttling;
    // the worst that holds, in a line
    let slowed = if t.throttled {
        Some("THROTTLED")
    } else if t.arm_capped {
        Some("CPU FREQ CAPPED")
    } else if t.soft_temp_limit {
        Some("SOFT TEMP LIMIT")
    } else {
        None
    };
    [temp]
        .into_iter()
        .chain(slowed.map(String::from))
        .chain([
            format!("DISK {}", percent(stats.disk_percent)),
            format!("UP {}", uptime(stats.uptime.as_secs())),
        ])
        .collect()
}

/// `3d 4h`, `5h 12m`, `7m`.
pub(crate) fn uptime(secs: u64) -> String {
    let (days, hours, minutes) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else {
        format!("{minutes}m")
    }
}

fn network_lines(stats: &Stats, tall: bool) -> Vec<String> {
    if stats.interfaces.is_empty() {
        return vec!["no network".into()];
    }
    let room = if tall { 5 } else { 3 };
    stats
        .interfaces
        .iter()
        .take(room)
        .map(|(name, ip)| {
            let ip = ip.to_string();
            let name = fit(name, COLUMNS.saturating_sub(ip.len() + 1).max(2));
            format!("{name} {ip}")
        })
        .collect()
}

fn stage_screen<D>(
    target: &mut D,
    stage: HoldStage,
    seconds_left: u64,
    tall: bool,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let (title, next) = match stage {
        HoldStage::Reboot => ("Release: REBOOT", "shut down"),
        HoldStage::Shutdown => ("Release: SHUT DOWN", "cancel"),
        HoldStage::Cancelled => {
            let text = [
                "Cancelled".to_string(),
                "Release the button:".into(),
                "nothing will happen".into(),
            ];
            return lines(target, &text, tall);
        }
        HoldStage::Short => return Ok(()),
    };
    if !tall {
        let text = [
            title.to_string(),
            format!("Hold {seconds_left}s more to"),
            next.to_string(),
        ];
        return lines(target, &text, false);
    }
    big_countdown(target, title, seconds_left, &format!("then: {next}"))
}

/// On 64 rows: `title`, the seconds left in large digits, then `footer`.
fn big_countdown<D>(
    target: &mut D,
    title: &str,
    seconds_left: u64,
    footer: &str,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    lines(target, &[title.to_string()], true)?;
    let centre = Point::new(target.bounding_box().center().x, 31);
    let big = MonoTextStyle::new(&FONT_10X20, BinaryColor::On);
    let centred = TextStyleBuilder::new()
        .alignment(Alignment::Center)
        .baseline(Baseline::Middle)
        .build();
    Text::with_text_style(&format!("{seconds_left} s"), centre, big, centred).draw(target)?;
    let style = MonoTextStyle::new(SMALL, BinaryColor::On);
    Text::with_baseline(footer, Point::new(0, 48), style, Baseline::Top)
        .draw(target)
        .map(|_| ())
}

/// Left-aligned lines of the small font: 3 on 32 rows (like the old script),
/// more and further apart on 64 rows.
fn lines<D>(target: &mut D, text: &[String], tall: bool) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let style = MonoTextStyle::new(SMALL, BinaryColor::On);
    let pitch = if tall { 12 } else { 11 };
    let room = if tall { 5 } else { 3 };
    for (i, line) in text.iter().take(room).enumerate() {
        Text::with_baseline(
            &fit(line, COLUMNS),
            Point::new(0, i as i32 * pitch),
            style,
            Baseline::Top,
        )
        .draw(target)?;
    }
    Ok(())
}

fn centred<D>(target: &mut D, text: &str, font: &MonoFont) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let centre = target.bounding_box().center();
    let style = MonoTextStyle::new(font, BinaryColor::On);
    let text_style = TextStyleBuilder::new()
        .alignment(Alignment::Center)
        .baseline(Baseline::Middle)
        .build();
    Text::with_text_style(text, centre, style, text_style)
        .draw(target)
        .map(|_| ())
}

/// Cuts `text` to `width` characters, marking the cut with `~`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('~');
    out
}

/// A failure's reason in at most `max_lines` lines: when the whole of it
/// does not fit, the command it names goes first (the title says which
/// action failed), so that how it ended — the exit status — stays readable.
fn failure_lines(reason: &str, width: usize, max_lines: usize) -> Vec<String> {
    let whole = wrap(reason, width, usize::MAX);
    if whole.len() <= max_lines {
        return whole;
    }
    // (whatever comes before the command goes with it)
    let shorter = reason
        .split_once('`')
        .and_then(|(_, rest)| rest.split_once("` "))
        .map_or(reason, |(_, ending)| ending);
    wrap(shorter, width, max_lines)
}

/// Word-wraps `text` into at most `max_lines` lines of `width` characters.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate_len =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && candidate_len > width {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    if out.len() > max_lines {
        out.truncate(max_lines);
        let last = out.last_mut().expect("max_lines > 0");
        *last = fit(&format!("{last}~~"), width);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_page_says_the_worst_slowing_and_nothing_when_none() {
        use crate::stats::Throttling;
        let second = |throttling| {
            let stats = Stats {
                throttling,
                ..Stats::sample()
            };
            system_lines(&stats)[1].clone()
        };
        let none = Throttling::default();
        assert_eq!(second(none), "DISK 37%");
        let under_voltage_only = Throttling {
            under_voltage: true,
            ..none
        };
        assert_eq!(
            second(under_voltage_only),
            "DISK 37%",
            "on the attention page"
        );
        let soft = Throttling {
            soft_temp_limit: true,
            ..none
        };
        assert_eq!(second(soft), "SOFT TEMP LIMIT");
        let capped = Throttling {
            arm_capped: true,
            ..soft
        };
        assert_eq!(second(capped), "CPU FREQ CAPPED");
        let all = Throttling {
            throttled: true,
            ..capped
        };
        assert_eq!(second(all), "THROTTLED");
    }

    fn attention_named(count: usize, first: usize, height: u32, name: &str) -> Frame {
        let items: Vec<AttentionItem> = (0..count)
            .map(|i| AttentionItem::Unit(format!("{name}-{i}.service")))
            .collect();
        let mut frame = Frame::new(128, height);
        let Ok(()) = draw(
            &mut frame,
            &Stats::sample(),
            &View::Attention { items, first },
        );
        frame
    }

    fn attention(count: usize, first: usize, height: u32) -> Frame {
        attention_named(count, first, height, "unit")
    }

    /// Whether anything is lit in the last column's cell of `row`.
    fn arrow_in_row(frame: &Frame, row: u32, pitch: u32) -> bool {
        (120..128).any(|x| (row * pitch..row * pitch + 10).any(|y| frame.get(x, y)))
    }

    #[test]
    fn the_attention_page_points_to_the_lines_it_cannot_show() {
        // 128x32: three rows
        let all = attention(3, 0, 32);
        assert!(!(0..3).any(|row| arrow_in_row(&all, row, 11)));
        let top = attention(5, 0, 32);
        assert!(top.get(124, 2 * 11 + 4), "an arrow down on the last row");
        assert!(!top.get(124, 4), "nothing above");
        let middle = attention(7, 3, 32);
        assert!(middle.get(124, 4), "an arrow up on the first row");
        assert!(middle.get(124, 2 * 11 + 4), "and down on the last");
        let bottom = attention(5, 3, 32);
        assert!(bottom.get(124, 4), "an arrow up");
        assert!(
            !arrow_in_row(&bottom, 1, 11),
            "two lines left, no arrow down"
        );
        // 128x64: five rows
        let tall = attention(6, 0, 64);
        assert!(tall.get(124, 4 * 12 + 4), "an arrow down on the fifth row");
        assert!(!attention(5, 0, 64).get(124, 4 * 12 + 4));
        // long lines give the arrows their column
        let long = attention_named(5, 0, 32, "a-rather-long-unit-name");
        assert!(!arrow_in_row(&long, 0, 11), "the first line stops short");
        let fits = attention_named(3, 0, 32, "a-rather-long-unit-name");
        assert!(arrow_in_row(&fits, 0, 11), "without arrows a line is whole");
    }

    #[test]
    fn a_long_failure_keeps_its_exit_status_on_a_128x32_panel() {
        let reason = "`systemctl reboot` exited with status 1: Failed to reboot system via logind";
        let lines = failure_lines(reason, COLUMNS, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines.join(" ").contains("status 1"), "{lines:?}");
        // what fits is left whole
        let short = failure_lines("`reboot` exited with status 1", COLUMNS, 2);
        assert_eq!(short.join(" "), "`reboot` exited with status 1");
    }

    #[test]
    fn the_simulators_power_failure_keeps_its_exit_status_on_a_128x32_panel() {
        for action in ["reboot", "shutdown"] {
            let reason = crate::app::ports::PowerError::Simulated { action }.to_string();
            let lines = failure_lines(&reason, COLUMNS, 2);
            assert!(lines.join(" ").contains("status 1"), "{lines:?}");
            // and a reason with words before its command keeps it too
            let lines = failure_lines(&format!("simulated failure: {reason}"), COLUMNS, 2);
            assert!(lines.join(" ").contains("status 1"), "{lines:?}");
        }
    }

    #[test]
    fn cpu_and_memory_never_overflow_the_line() {
        let mut stats = Stats::sample();
        stats.cpu_percent = Some(100.0);
        stats.mem_percent = 100.0;
        assert_eq!(cpu_mem_line(&stats), "CPU 100% | MEM 100%");
        assert!(cpu_mem_line(&stats).len() <= COLUMNS);
        stats.cpu_percent = Some(3.0);
        stats.mem_percent = 12.0;
        assert_eq!(cpu_mem_line(&stats), "CPU   3% | MEM  12%");
        stats.cpu_percent = Some(f32::NAN);
        stats.mem_percent = 250.0;
        assert_eq!(cpu_mem_line(&stats), "CPU  --% | MEM 100%");
    }

    #[test]
    fn no_address_reads_no_network() {
        let mut stats = Stats::sample();
        stats.ip = None;
        assert_eq!(ip_text(&stats), "no network");
        stats.interfaces.clear();
        assert_eq!(network_lines(&stats, false), vec!["no network"]);
    }

    #[test]
    fn a_custom_page_is_never_blank() {
        for text in [
            PageText::Pending { running: true },
            PageText::Pending { running: false },
            PageText::Lines(Vec::new()),
            PageText::Error("`restic` exited with status 1".into()),
        ] {
            let body = custom_lines(&text, 2);
            assert!(!body.is_empty() && !body[0].is_empty(), "{text:?}");
        }
        let many = PageText::Lines((1..=9).map(|n| format!("line {n}")).collect());
        assert_eq!(custom_lines(&many, 2), vec!["line 1", "line 2"]);
        assert_eq!(custom_lines(&many, 4).len(), 4);
        let long = PageText::Error(
            "`kubectl` did not finish within 5 s and was stopped: Unable to connect".into(),
        );
        let body = custom_lines(&long, 2);
        assert_eq!(body.len(), 2);
        assert!(
            body.iter().all(|l| l.chars().count() <= COLUMNS),
            "{body:?}"
        );
        assert!(body[0].starts_with("`kubectl`"), "{body:?}");
    }

    #[test]
    fn uptime_reads_in_the_largest_units() {
        assert_eq!(uptime(3 * 86_400 + 4 * 3_600 + 59), "3d 4h");
        assert_eq!(uptime(5 * 3_600 + 12 * 60), "5h 12m");
        assert_eq!(uptime(420), "7m");
    }

    #[test]
    fn long_names_are_cut_not_spilled() {
        assert_eq!(
            fit("a-very-long-hostname-indeed", 21),
            "a-very-long-hostname~"
        );
        let wrapped = wrap(
            "systemctl exited with status 1: Access denied by policy",
            21,
            2,
        );
        assert_eq!(wrapped.len(), 2);
        assert!(
            wrapped.iter().all(|l| l.chars().count() <= 21),
            "{wrapped:?}"
        );
    }
}
