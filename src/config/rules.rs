//! The rules a configuration must follow, each checked once, and the
//! conversion of a configuration that follows them into the core's `Rules`.
//! Pure: nothing here reads a file (see `programs` for what the file names).

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lines::KeyLines;
use super::schema::{DEFAULT_EVERY_S, DEFAULT_TIMEOUT_S};
use super::{
    ButtonConfig, Config, DisplayConfig, LineSelector, PageConfig, PanelSize, PowerConfig,
    RuleError,
};
use crate::core::{CustomPage, MqttRules, PageKind, PageName, Rules, MAX_PAGE_NAME};

/// The shortest a hold stage may last, in milliseconds: long enough to see
/// it on the panel and let go within it.
const MIN_STAGE_MS: i64 = 500;

/// The types of systemd units, as the suffixes of their names.
const UNIT_TYPES: [&str; 11] = [
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

impl TryFrom<&Config> for Rules {
    type Error = RuleError;

    /// Every value checked, in a fixed order (the first problem found is the
    /// one reported), then the thresholds, timeout, pages and settle time.
    fn try_from(config: &Config) -> Result<Rules, RuleError> {
        no_nul_bytes(config)?;
        lines_of_their_own(config)?;
        display_bus(&config.display)?;
        power_programs(&config.power)?;
        for (index, page) in config.custom_pages.iter().enumerate() {
            custom_page(config, index, page).map_err(|problem| RuleError {
                page: Some(index),
                ..problem
            })?;
        }
        let b = &config.button;
        let d = &config.display;
        let hold = hold_stages(b)?;
        let screen_timeout = screen_timeout(d)?;
        shown_pages(config)?;
        ignore_units(&config.attention.ignore_units)?;
        super::ups::check(config)?;
        let settle = settle(&config.power)?;
        super::mqtt::check(&config.mqtt)?;
        let temp_warn_c = heat_and_power(config)?;
        Ok(Rules {
            debounce: hold.debounce,
            reboot_after: hold.reboot_after,
            shutdown_after: hold.shutdown_after,
            cancel_after: hold.cancel_after,
            screen_timeout,
            show_until_ip: d.show_until_ip,
            pages: d.pages.clone(),
            settle,
            ignore_units: config.attention.ignore_units.clone(),
            attention_rows: match d.size {
                PanelSize::W128H64 => 5,
                PanelSize::W128H32 => 3,
            },
            custom_pages: config
                .custom_pages
                .iter()
                .filter_map(|page| {
                    Some(CustomPage {
                        name: PageName::new(&page.name)?,
                        every: page.every(),
                    })
                })
                .collect(),
            temp_warn_c,
            mqtt: config.mqtt.enabled().then(|| MqttRules {
                node: config.mqtt.node_name(),
                publish_every: Duration::from_secs(config.mqtt.publish_s.unsigned_abs()),
                rack_attention: config.mqtt.rack && config.mqtt.rack_attention,
                power_countdown: config
                    .mqtt
                    .allow_power
                    .then(|| Duration::from_secs(config.mqtt.power_countdown_s.unsigned_abs())),
            }),
        })
    }
}

/// `attention.temp_warn_c`, `attention.poll_s` and `system.sysfs`; the
/// threshold in °C.
fn heat_and_power(config: &Config) -> Result<f32, RuleError> {
    let a = &config.attention;
    // a Pi's firmware throttles from 80 °C (85 °C hard): below 40 a rack
    // would call all day, above 100 never
    if !(40..=100).contains(&a.temp_warn_c) {
        return Err(RuleError::new(
            "attention.temp_warn_c",
            format!(
                "is {}: it must be from 40 to 100 °C (the Pi's firmware throttles from 80)",
                a.temp_warn_c
            ),
        ));
    }
    if !(1..=3600).contains(&a.poll_s) {
        return Err(RuleError::new(
            "attention.poll_s",
            format!(
                "is {}: it must be a number of seconds from 1 to 3600",
                a.poll_s
            ),
        ));
    }
    let sysfs = &config.system.sysfs;
    if !sysfs.is_absolute() || sysfs.as_os_str().as_bytes().contains(&0) {
        return Err(RuleError::new(
            "system.sysfs",
            format!(
                "is {:?}: it must be an absolute path to where sysfs is mounted (\"/sys\")",
                sysfs.to_string_lossy()
            ),
        ));
    }
    Ok(a.temp_warn_c as f32)
}

/// The one rule that needs the text: `line` has a default, so only the
/// file shows that it was given together with `chip` and `offset`.
pub(crate) fn line_given_once(lines: &KeyLines) -> Result<(), RuleError> {
    for [line, chip, offset] in [BUTTON_LINE_KEYS, LED_LINE_KEYS] {
        if lines.given(line) && (lines.given(chip) || lines.given(offset)) {
            return Err(RuleError::new(
                line,
                "is given together with chip and offset: give either the line's name or chip and offset, not both",
            ));
        }
    }
    Ok(())
}

/// The keys that choose the button's line: `line`, `chip`, `offset`.
const BUTTON_LINE_KEYS: [&str; 3] = ["button.line", "button.chip", "button.offset"];
/// The keys that choose the LED's line.
const LED_LINE_KEYS: [&str; 3] = ["led.line", "led.chip", "led.offset"];

/// The message for a string with a NUL byte, which no path, command or
/// interface name can hold.
fn nul_problem(text: &str) -> String {
    format!(
        "contains a NUL byte ({text:?}): a path, command or name cannot hold one (remove the \\u0000)"
    )
}

/// No path, line name, interface or power command holds a NUL byte.
fn no_nul_bytes(config: &Config) -> Result<(), RuleError> {
    let b = &config.button;
    for (key, path) in [
        ("button.chip", b.chip.as_deref()),
        ("led.chip", config.led.chip.as_deref()),
        ("display.bus", Some(config.display.bus.as_path())),
    ]
    .into_iter()
    .filter_map(|(key, path)| Some((key, path?)))
    {
        if path.as_os_str().as_bytes().contains(&0) {
            return Err(RuleError::new(key, nul_problem(&path.to_string_lossy())));
        }
    }
    let power = &config.power;
    for (key, text) in [
        ("button.line", &b.line),
        ("led.line", &config.led.line),
        ("network.interface", &config.network.interface),
    ]
    .into_iter()
    .chain(power.reboot.iter().map(|arg| ("power.reboot", arg)))
    .chain(power.shutdown.iter().map(|arg| ("power.shutdown", arg)))
    {
        if text.contains('\0') {
            return Err(RuleError::new(key, nul_problem(text)));
        }
    }
    Ok(())
}

/// The button and the LED each have a line, chosen one way, and not the same.
fn lines_of_their_own(config: &Config) -> Result<(), RuleError> {
    let (b, led) = (&config.button, &config.led);
    line_choice(BUTTON_LINE_KEYS, &b.line, &b.chip, b.offset)?;
    line_choice(LED_LINE_KEYS, &led.line, &led.chip, led.offset)?;
    let button_line = config.button_line();
    if config.led_line() == button_line {
        let key = match button_line {
            LineSelector::Named(_) => "led.line",
            LineSelector::Offset { .. } => "led.offset",
        };
        return Err(RuleError::new(
            key,
            format!("is the button's line ({button_line}): the LED needs a line of its own"),
        ));
    }
    Ok(())
}

/// A line is chosen either by name or by chip and offset.
fn line_choice(
    [line_key, chip_key, offset_key]: [&'static str; 3],
    line: &str,
    chip: &Option<PathBuf>,
    offset: Option<u32>,
) -> Result<(), RuleError> {
    match (chip, offset) {
        (Some(_), None) => Err(RuleError::new(
            offset_key,
            "is missing: `chip` needs an `offset`",
        )),
        (None, Some(_)) => Err(RuleError::new(
            chip_key,
            "is missing: `offset` needs a `chip`",
        )),
        (None, None) if line.trim().is_empty() => Err(RuleError::new(
            line_key,
            "is empty: name the GPIO line (e.g. \"GPIO20\") or give chip and offset",
        )),
        _ => Ok(()),
    }
}

/// The display's bus is named and its address is a 7-bit I2C address.
fn display_bus(d: &DisplayConfig) -> Result<(), RuleError> {
    if d.bus.as_os_str().is_empty() {
        return Err(RuleError::new(
            "display.bus",
            "is empty: name the I2C device, e.g. \"/dev/i2c-1\"",
        ));
    }
    if !(0x03..=0x77).contains(&d.address) {
        return Err(RuleError::new(
            "display.address",
            format!(
                "is {:#x}: a 7-bit I2C address is from 0x03 to 0x77 (the SSD1306 uses 0x3c or 0x3d)",
                d.address
            ),
        ));
    }
    Ok(())
}

/// What is wrong with `argv` as a command, if it names no program;
/// `example` shows a good one.
fn no_program(argv: &[String], example: &str) -> Option<String> {
    match argv.first() {
        None => Some(format!(
            "is empty: give the program and its arguments, e.g. {example}"
        )),
        Some(program) if program.trim().is_empty() => Some(format!(
            "has a blank program name ({program:?}): give the program and its arguments, e.g. {example}"
        )),
        Some(_) => None,
    }
}

/// The reboot and shutdown commands each name a program.
fn power_programs(power: &PowerConfig) -> Result<(), RuleError> {
    for (key, argv) in [
        ("power.reboot", &power.reboot),
        ("power.shutdown", &power.shutdown),
    ] {
        if let Some(problem) = no_program(argv, "[\"systemctl\", \"reboot\"]") {
            return Err(RuleError::new(key, problem));
        }
    }
    Ok(())
}

/// A `[[page]]`: a free, well-formed name that `display.pages` shows;
/// exactly one of `command` and `file`; times in range.
fn custom_page(config: &Config, index: usize, page: &PageConfig) -> Result<(), RuleError> {
    page_name(config, index, &page.name)?;
    let name = &page.name;
    match (&page.command, &page.file) {
        (Some(_), Some(_)) => Err(RuleError::new(
            "page.file",
            format!("of page \"{name}\" is given together with command: give either command or file"),
        )),
        (None, None) => Err(RuleError::new(
            "page.command",
            format!("is missing from page \"{name}\": give command = [\"program\", \"argument\"] or file = \"/path/to/status\""),
        )),
        (Some(argv), None) => page_command(name, argv),
        (None, Some(file)) => page_file(name, file, page),
    }?;
    page_times(page)
}

/// A page's name is not a built-in page's, is a page name, is not taken
/// by an earlier `[[page]]`, and is shown by `display.pages`.
fn page_name(config: &Config, index: usize, name: &str) -> Result<(), RuleError> {
    let problem = if PageKind::RESERVED.contains(&name) {
        format!("is \"{name}\", a built-in page: give the [[page]] a name of its own")
    } else if PageName::new(name).is_none() {
        format!(
            "is {name:?}: a page name is 1 to {MAX_PAGE_NAME} letters, digits, - or _, beginning with a letter (e.g. \"backup\")"
        )
    } else if config.custom_pages[..index]
        .iter()
        .any(|other| other.name == name)
    {
        format!("is \"{name}\" again: each [[page]] needs a name of its own")
    } else if !config
        .display
        .pages
        .iter()
        .any(|shown| shown.custom().is_some_and(|shown| shown.as_str() == name))
    {
        format!(
            "is \"{name}\", which display.pages does not name: add \"{name}\" to display.pages (e.g. pages = [\"info\", \"system\", \"network\", \"{name}\"]) or remove this [[page]]"
        )
    } else {
        return Ok(());
    };
    Err(RuleError::new("page.name", problem))
}

/// A page's command names a program and holds no NUL byte.
fn page_command(name: &str, argv: &[String]) -> Result<(), RuleError> {
    if let Some(problem) = no_program(argv, "[\"pihole\", \"status\"]") {
        return Err(RuleError::new(
            "page.command",
            format!("of page \"{name}\" {problem}"),
        ));
    }
    if let Some(arg) = argv.iter().find(|arg| arg.contains('\0')) {
        let problem = format!("of page \"{name}\" {}", nul_problem(arg));
        return Err(RuleError::new("page.command", problem));
    }
    Ok(())
}

/// A page's file is an absolute path without a NUL byte, and the page has
/// no command times.
fn page_file(name: &str, file: &Path, page: &PageConfig) -> Result<(), RuleError> {
    let shown = file.to_string_lossy();
    if file.as_os_str().as_bytes().contains(&0) {
        let problem = format!("of page \"{name}\" {}", nul_problem(&shown));
        return Err(RuleError::new("page.file", problem));
    }
    if !file.is_absolute() {
        return Err(RuleError::new(
            "page.file",
            format!("of page \"{name}\" is {shown:?}: give an absolute path (the service runs in /), e.g. \"/run/backup/status\""),
        ));
    }
    for (key, given) in [
        ("page.every_s", page.every_s),
        ("page.timeout_s", page.timeout_s),
    ] {
        if given.is_some() {
            return Err(RuleError::new(
                key,
                format!("of page \"{name}\" applies to command pages only: a file is read again at every redraw while the page is shown"),
            ));
        }
    }
    Ok(())
}

/// A page's command runs from every 2 s to once a day, is given 1 to
/// 600 s, and ends before the next run is due.
fn page_times(page: &PageConfig) -> Result<(), RuleError> {
    let name = &page.name;
    let every = page.every_s.unwrap_or(DEFAULT_EVERY_S);
    let timeout = page.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S);
    if !(2..=86_400).contains(&every) {
        return Err(RuleError::new(
            "page.every_s",
            format!("of page \"{name}\" is {every}: it must be from 2 to 86400 seconds"),
        ));
    }
    if !(1..=600).contains(&timeout) {
        return Err(RuleError::new(
            "page.timeout_s",
            format!("of page \"{name}\" is {timeout}: it must be from 1 to 600 seconds"),
        ));
    }
    if timeout >= every {
        return Err(RuleError::new(
            "page.timeout_s",
            format!("of page \"{name}\" is {timeout}: it must be less than every_s ({every}), so that one run ends before the next is due"),
        ));
    }
    Ok(())
}

/// The button's times, checked.
struct HoldStages {
    debounce: Duration,
    reboot_after: Duration,
    shutdown_after: Duration,
    cancel_after: Duration,
}

/// The debounce time and the three hold thresholds, each in range and
/// each stage long enough to let go in.
fn hold_stages(b: &ButtonConfig) -> Result<HoldStages, RuleError> {
    if b.debounce_ms <= 0 || b.debounce_ms > 1000 {
        return Err(RuleError::new(
            "button.debounce_ms",
            format!("is {}: it must be from 1 to 1000", b.debounce_ms),
        ));
    }
    for (key, value) in [
        ("button.reboot_after_s", b.reboot_after_s),
        ("button.shutdown_after_s", b.shutdown_after_s),
        ("button.cancel_after_s", b.cancel_after_s),
    ] {
        if !value.is_finite() || value <= 0.0 || value > 3600.0 {
            return Err(RuleError::new(
                key,
                format!(
                    "is {}: it must be a number of seconds above 0 and at most 3600",
                    shown(value)
                ),
            ));
        }
    }
    // Compared in whole milliseconds, with room for a person to see each
    // stage and let go in it: 8.0 and 8.0000000001 are one threshold.
    let millis = |seconds: f64| (seconds * 1000.0).round() as i64;
    for (key, value, before_key, before) in [
        (
            "button.reboot_after_s",
            b.reboot_after_s,
            "button.debounce_ms",
            b.debounce_ms,
        ),
        (
            "button.shutdown_after_s",
            b.shutdown_after_s,
            "button.reboot_after_s",
            millis(b.reboot_after_s),
        ),
        (
            "button.cancel_after_s",
            b.cancel_after_s,
            "button.shutdown_after_s",
            millis(b.shutdown_after_s),
        ),
    ] {
        if millis(value) < before + MIN_STAGE_MS {
            return Err(RuleError::new(
                key,
                format!(
                    "is {} s: it must be longer than {before_key} ({} s) by at least {} s",
                    shown(value),
                    before as f64 / 1000.0,
                    MIN_STAGE_MS as f64 / 1000.0
                ),
            ));
        }
    }
    Ok(HoldStages {
        debounce: Duration::from_millis(b.debounce_ms.unsigned_abs()),
        reboot_after: Duration::from_secs_f64(b.reboot_after_s),
        shutdown_after: Duration::from_secs_f64(b.shutdown_after_s),
        cancel_after: Duration::from_secs_f64(b.cancel_after_s),
    })
}

/// A number as short as it can be read: `8.5`, `1e298` (not 299 digits).
fn shown(value: f64) -> String {
    let plain = value.to_string();
    if plain.len() <= 12 {
        plain
    } else {
        format!("{value:e}")
    }
}

/// The screen goes dark after 1 s to a day without a press, or never (0).
fn screen_timeout(d: &DisplayConfig) -> Result<Option<Duration>, RuleError> {
    if !(0..=86_400).contains(&d.timeout_s) {
        return Err(RuleError::new(
            "display.timeout_s",
            format!(
                "is {}: it must be from 0 (never) to 86400 seconds",
                d.timeout_s
            ),
        ));
    }
    Ok(match d.timeout_s.unsigned_abs() {
        0 => None,
        s => Some(Duration::from_secs(s)),
    })
}

/// `display.pages` names at least one page, none twice, and only
/// `[[page]]` tables that exist.
fn shown_pages(config: &Config) -> Result<(), RuleError> {
    let pages = &config.display.pages;
    if pages.is_empty() {
        return Err(RuleError::new(
            "display.pages",
            "is empty: name at least one of \"info\", \"system\", \"network\"",
        ));
    }
    for (i, page) in pages.iter().enumerate() {
        if pages[..i].contains(page) {
            let name = page.name();
            return Err(RuleError::new(
                "display.pages",
                format!("names \"{name}\" twice"),
            ));
        }
        if *page == PageKind::Rack && !(config.mqtt.enabled() && config.mqtt.rack) {
            return Err(RuleError::new(
                "display.pages",
                "names \"rack\", which needs the rack over MQTT: set [mqtt] url (and keep rack = true), or remove \"rack\"",
            ));
        }
        let Some(name) = page.custom() else {
            continue;
        };
        if !config.custom_pages.iter().any(|p| p.name == name.as_str()) {
            let defined: Vec<String> = config
                .custom_pages
                .iter()
                .map(|p| format!("\"{}\"", p.name))
                .collect();
            let defined = if defined.is_empty() {
                "no [[page]] is defined".to_string()
            } else {
                format!("the [[page]] names are {}", defined.join(", "))
            };
            return Err(RuleError::new(
                "display.pages",
                format!(
                    "has unknown page \"{name}\": the built-in pages are \"info\", \"system\", \"network\", \"ups\", \"rack\", and {defined}"
                ),
            ));
        }
    }
    Ok(())
}

/// Each ignored unit is a full unit name with its type, or a pattern.
fn ignore_units(units: &[String]) -> Result<(), RuleError> {
    for unit in units {
        let pattern = unit.contains(['*', '?']);
        let typed = unit
            .rsplit_once('.')
            .is_some_and(|(name, kind)| !name.is_empty() && UNIT_TYPES.contains(&kind));
        if !pattern && !typed {
            return Err(RuleError::new(
                "attention.ignore_units",
                format!(
                    "has {unit:?}, which names no unit: give its full name with its type, e.g. \"{}.service\", or a pattern, e.g. \"{}*\"",
                    unit.trim_end_matches('.'),
                    unit.trim_end_matches('.')
                ),
            ));
        }
    }
    Ok(())
}

/// How long the machine may stay up after a power command that succeeded.
fn settle(power: &PowerConfig) -> Result<Duration, RuleError> {
    // under 10 s a real reboot that takes a moment would be called a failure
    if !(10..=3600).contains(&power.settle_s) {
        return Err(RuleError::new(
            "power.settle_s",
            format!(
                "is {}: it must be a number of seconds from 10 to 3600 (the machine needs time to go down)",
                power.settle_s
            ),
        ));
    }
    Ok(Duration::from_secs(power.settle_s.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parse, problem, with_page};
    use crate::config::PageOrigin;
    use crate::core::{CustomPage, PageKind, PageName, Rules, REFRESH};
    use std::time::Duration;

    #[test]
    fn ignore_units_takes_full_unit_names_and_patterns_only() {
        let msg = problem("[attention]\nignore_units = [\"apt-daily\"]\n");
        assert!(msg.contains("attention.ignore_units"), "{msg}");
        assert!(msg.contains("\"apt-daily.service\""), "{msg}");
        let config = parse(
            "[attention]\nignore_units = [\"apt-daily.timer\", \"apt-*\", \"user@?.service\"]\n",
        )
        .unwrap();
        assert!(Rules::try_from(&config).is_ok());
    }

    #[test]
    fn inconsistent_thresholds_name_the_key() {
        let msg = problem("[button]\nshutdown_after_s = 7.0\n");
        assert!(msg.contains("`button.shutdown_after_s`"), "{msg}");
        assert!(msg.contains("reboot_after_s"), "{msg}");
        let msg = problem("[button]\ncancel_after_s = 12.0\n");
        assert!(msg.contains("`button.cancel_after_s`"), "{msg}");
        let msg = problem("[button]\ndebounce_ms = 0\n");
        assert!(msg.contains("`button.debounce_ms`"), "{msg}");
        let msg = problem("[button]\nreboot_after_s = -1.0\n");
        assert!(msg.contains("`button.reboot_after_s`"), "{msg}");
        let msg = problem("[button]\nreboot_after_s = nan\n");
        assert!(msg.contains("`button.reboot_after_s`"), "{msg}");
    }

    #[test]
    fn display_values_out_of_range_name_the_key() {
        for (text, key) in [
            ("address = 0x80", "display.address"),
            ("address = 0", "display.address"),
            ("rotation = 90", "display.rotation"),
            ("contrast = 256", "display.contrast"),
            ("timeout_s = -1", "display.timeout_s"),
            ("pages = []", "display.pages"),
            ("pages = [\"info\", \"weather\"]", "display.pages"),
            ("pages = [\"info\", \"info\"]", "display.pages"),
            ("bus = \"\"", "display.bus"),
        ] {
            let msg = problem(&format!("[display]\n{text}\n"));
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
        }
        let msg = problem("[display]\nsize = \"96x16\"\n");
        assert!(msg.contains("96x16"), "{msg}");
    }

    #[test]
    fn power_commands_and_lines_must_name_something() {
        let msg = problem("[power]\nreboot = []\n");
        assert!(msg.contains("`power.reboot`"), "{msg}");
        let msg = problem("[power]\nshutdown = [\"\"]\n");
        assert!(msg.contains("`power.shutdown`"), "{msg}");
        let msg = problem("[button]\nchip = \"/dev/gpiochip0\"\n");
        assert!(msg.contains("`button.offset`"), "{msg}");
        let msg = problem("[led]\nline = \"\"\n");
        assert!(msg.contains("`led.line`"), "{msg}");
    }

    #[test]
    fn settle_s_defaults_to_120_s_and_reaches_the_rules() {
        assert_eq!(Rules::default().settle, Duration::from_secs(120));
        let t = Rules::try_from(&parse("[power]\nsettle_s = 30\n").unwrap()).unwrap();
        assert_eq!(t.settle, Duration::from_secs(30));
        assert!(parse("[power]\nsettle_s = 3600\n").is_ok());
        for text in [
            "settle_s = -1",
            "settle_s = 0",
            "settle_s = 9",
            "settle_s = 3601",
        ] {
            let msg = problem(&format!("[power]\n{text}\n"));
            assert!(msg.contains("`power.settle_s`"), "{text}: {msg}");
        }
    }

    #[test]
    fn nul_bytes_are_refused_in_every_path_name_and_command() {
        for (text, key) in [
            ("[display]\nbus = \"/dev/i2c\\u0000-1\"", "display.bus"),
            (
                "[button]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 1",
                "button.chip",
            ),
            (
                "[led]\nchip = \"/dev/gpiochip0\\u0000\"\noffset = 1",
                "led.chip",
            ),
            ("[led]\nline = \"GPIO23\\u0000\"", "led.line"),
            ("[network]\ninterface = \"\\u0000\"", "network.interface"),
            (
                "[power]\nreboot = [\"/sbin/reboot\\u0000\"]",
                "power.reboot",
            ),
            (
                "[power]\nshutdown = [\"systemctl\", \"\\u0000\"]",
                "power.shutdown",
            ),
        ] {
            let msg = problem(text);
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
            assert!(msg.contains("NUL"), "{text}: {msg}");
        }
    }

    #[test]
    fn a_blank_program_is_refused() {
        for text in ["reboot = [\" \"]", "reboot = [\"\\t\", \"now\"]"] {
            let msg = problem(&format!("[power]\n{text}\n"));
            assert!(msg.contains("`power.reboot`"), "{text}: {msg}");
        }
    }

    #[test]
    fn the_led_cannot_share_the_buttons_line() {
        let msg = problem("[button]\nline = \"GPIO23\"\n");
        assert!(msg.contains("`led.line`"), "{msg}");
        let msg = problem(
            "[button]\nchip = \"/dev/gpiochip4\"\noffset = 7\n[led]\nchip = \"/dev/gpiochip4\"\noffset = 7\n",
        );
        assert!(msg.contains("`led.offset`"), "{msg}");
        // by name and by offset cannot be compared without the hardware
        assert!(parse("[led]\nchip = \"/dev/gpiochip0\"\noffset = 20\n").is_ok());
        assert!(parse("[led]\nline = \"GPIO21\"\n").is_ok());
    }

    #[test]
    fn a_command_page_parses_into_the_rules_with_its_defaults() {
        let config = parse(&with_page("command = [\"restic\", \"snapshots\"]")).unwrap();
        let page = &config.custom_pages[0];
        assert_eq!(
            page.origin(),
            PageOrigin::Command {
                argv: vec!["restic".into(), "snapshots".into()],
                timeout: Duration::from_secs(5),
            }
        );
        let rules = Rules::try_from(&config).unwrap();
        let name = PageName::new("backup").unwrap();
        assert_eq!(rules.pages[3], PageKind::Custom(name));
        assert_eq!(
            rules.custom_pages,
            vec![CustomPage {
                name,
                every: Duration::from_secs(30)
            }]
        );
        let config = parse(&with_page("file = \"/run/backup/status\"")).unwrap();
        assert_eq!(
            config.custom_pages[0].origin(),
            PageOrigin::File("/run/backup/status".into())
        );
        assert_eq!(config.custom_pages[0].every(), REFRESH);
        let config = parse(&with_page(
            "command = [\"restic\"]\nevery_s = 600\ntimeout_s = 60",
        ))
        .unwrap();
        assert_eq!(config.custom_pages[0].every(), Duration::from_secs(600));
    }

    #[test]
    fn a_page_needs_exactly_one_of_command_and_file() {
        let msg = problem(&with_page("command = [\"true\"]\nfile = \"/run/x\""));
        assert!(
            msg.contains("`page.file`") && msg.contains("line 7"),
            "{msg}"
        );
        assert!(msg.contains("either command or file"), "{msg}");
        let msg = problem(&with_page(""));
        assert!(msg.contains("`page.command` is missing"), "{msg}");
        assert!(msg.contains("line 4"), "the [[page]] header: {msg}");
    }

    #[test]
    fn a_page_name_is_a_free_identifier_that_display_pages_shows() {
        for (name, why) in [
            ("info", "built-in page"),
            ("attention", "built-in page"),
            ("my backup", "letters, digits"),
            ("1st", "beginning with a letter"),
            ("", "letters, digits"),
            ("a-name-that-is-too-long", "1 to 16"),
        ] {
            let text = format!("[[page]]\nname = \"{name}\"\ncommand = [\"true\"]\n");
            let msg = problem(&text);
            assert!(msg.contains("`page.name`"), "{name}: {msg}");
            assert!(msg.contains("line 2"), "{name}: {msg}");
            assert!(msg.contains(why), "{name}: {msg}");
        }
        let msg = problem(&format!(
            "{}\n[[page]]\nname = \"backup\"\nfile = \"/run/x\"\n",
            with_page("command = [\"true\"]")
        ));
        assert!(msg.contains("again") && msg.contains("line 9"), "{msg}");
        let msg = problem("[[page]]\nname = \"backup\"\ncommand = [\"true\"]\n");
        assert!(msg.contains("`page.name`"), "{msg}");
        assert!(msg.contains("display.pages does not name"), "{msg}");
    }

    #[test]
    fn display_pages_may_only_name_pages_that_are_defined() {
        let msg = problem("[display]\npages = [\"info\", \"backup\"]\n");
        assert!(
            msg.contains("`display.pages`") && msg.contains("line 2"),
            "{msg}"
        );
        assert!(
            msg.contains("\"backup\"") && msg.contains("no [[page]]"),
            "{msg}"
        );
        let msg = problem(&format!(
            "{}[display]\npages = [\"backup\", \"pihole\"]\n",
            "[[page]]\nname = \"backup\"\nfile = \"/run/x\"\n"
        ));
        assert!(msg.contains("\"pihole\""), "{msg}");
        assert!(msg.contains("the [[page]] names are \"backup\""), "{msg}");
        let msg = problem("[display]\npages = [\"info\", \"attention\"]\n");
        assert!(msg.contains("attention"), "{msg}");
    }

    #[test]
    fn page_commands_and_files_must_name_something_usable() {
        for (body, key, why) in [
            ("command = []", "page.command", "is empty"),
            ("command = [\" \"]", "page.command", "blank program"),
            ("command = [\"true\", \"a\\u0000b\"]", "page.command", "NUL"),
            ("file = \"status.txt\"", "page.file", "absolute path"),
            ("file = \"/run/a\\u0000b\"", "page.file", "NUL"),
            (
                "file = \"/run/x\"\nevery_s = 10",
                "page.every_s",
                "command pages only",
            ),
            (
                "file = \"/run/x\"\ntimeout_s = 1",
                "page.timeout_s",
                "command pages only",
            ),
        ] {
            let msg = problem(&with_page(body));
            assert!(msg.contains(&format!("`{key}`")), "{body}: {msg}");
            assert!(msg.contains(why), "{body}: {msg}");
            assert!(msg.contains("page \"backup\""), "{body}: {msg}");
        }
    }

    #[test]
    fn page_times_are_checked_against_each_other() {
        for (body, key, why) in [
            ("every_s = 1", "page.every_s", "from 2 to 86400"),
            ("every_s = 86401", "page.every_s", "from 2 to 86400"),
            ("timeout_s = 0", "page.timeout_s", "from 1 to 600"),
            (
                "timeout_s = 601\nevery_s = 3600",
                "page.timeout_s",
                "from 1 to 600",
            ),
            ("every_s = 5", "page.timeout_s", "less than every_s (5)"),
            (
                "every_s = 10\ntimeout_s = 10",
                "page.timeout_s",
                "less than every_s",
            ),
        ] {
            let msg = problem(&with_page(&format!("command = [\"true\"]\n{body}")));
            assert!(msg.contains(&format!("`{key}`")), "{body}: {msg}");
            assert!(msg.contains(why), "{body}: {msg}");
        }
        assert!(parse(&with_page(
            "command = [\"true\"]\nevery_s = 2\ntimeout_s = 1"
        ))
        .is_ok());
    }

    #[test]
    fn heat_and_power_settings_are_checked_with_their_line() {
        assert_eq!(Rules::default().temp_warn_c, 80.0);
        let config =
            parse("[attention]\ntemp_warn_c = 70\npoll_s = 5\n[system]\nsysfs = \"/tmp/pi\"\n")
                .unwrap();
        assert_eq!(Rules::try_from(&config).unwrap().temp_warn_c, 70.0);
        assert_eq!(config.attention.poll_s, 5);
        for (text, key, line, allowed) in [
            (
                "[attention]\ntemp_warn_c = 120\n",
                "attention.temp_warn_c",
                2,
                "from 40 to 100",
            ),
            (
                "\n[attention]\ntemp_warn_c = 0\n",
                "attention.temp_warn_c",
                3,
                "from 40 to 100",
            ),
            (
                "[attention]\npoll_s = 0\n",
                "attention.poll_s",
                2,
                "from 1 to 3600",
            ),
            (
                "[system]\nsysfs = \"sys\"\n",
                "system.sysfs",
                2,
                "absolute path",
            ),
        ] {
            let msg = problem(text);
            assert!(msg.contains(key), "{msg}");
            assert!(msg.contains(&format!("line {line}")), "{msg}");
            assert!(msg.contains(allowed), "{msg}");
        }
    }
}
