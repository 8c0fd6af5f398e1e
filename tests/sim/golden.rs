//! Every screen at 128×32 and 128×64 against committed PNGs, and the proof
//! that what the SSD1306 driver sends decodes to exactly what was drawn.
//! Re-bless the PNGs after an intended layout change with
//! `RACKPI_BLESS=1 cargo test --test sim golden`.

use std::path::PathBuf;

use rackpi_panel::app::ports::DisplayPort;
use rackpi_panel::config::{Config, PanelSize, Rotation};
use rackpi_panel::core::{HoldStage, PageKind, PageName, PowerAction, View};
use rackpi_panel::frame::Frame;
use rackpi_panel::layout;
use rackpi_panel::linux::display::{PanelSettings, Ssd1306Port};
use rackpi_panel::sim::{SimBus, SimClock};
use rackpi_panel::stats::{Stats, Throttling};

fn screens() -> Vec<(&'static str, View)> {
    let mut all = vec![
        ("attention", layout::sample_view("attention").unwrap()),
        ("identify", View::Identify),
        ("rack", layout::sample_view("rack").unwrap()),
        ("countdown", layout::sample_view("countdown").unwrap()),
    ];
    all.extend(builtin_screens());
    all
}

fn builtin_screens() -> Vec<(&'static str, View)> {
    let page = |page| View::Page {
        page,
        shift: (0, 0),
    };
    vec![
        ("info", page(PageKind::Info)),
        ("system", page(PageKind::System)),
        ("network", page(PageKind::Network)),
        ("ups", page(PageKind::Ups)),
        (
            "custom",
            page(PageKind::Custom(PageName::new("backup").unwrap())),
        ),
        (
            "stage-reboot",
            View::Stage {
                stage: HoldStage::Reboot,
                seconds_left: 4,
            },
        ),
        (
            "stage-shutdown",
            View::Stage {
                stage: HoldStage::Shutdown,
                seconds_left: 8,
            },
        ),
        (
            "stage-cancelled",
            View::Stage {
                stage: HoldStage::Cancelled,
                seconds_left: 0,
            },
        ),
        ("rebooting", View::Action(PowerAction::Reboot)),
        ("shutting-down", View::Action(PowerAction::Shutdown)),
        (
            "reboot-failed",
            View::Failed {
                action: PowerAction::Reboot,
                reason: "`systemctl reboot` exited with status 1: Access denied".into(),
            },
        ),
    ]
}

fn draw(view: &View, size: PanelSize) -> Frame {
    let (w, h) = size.dimensions();
    let mut frame = Frame::new(w, h);
    let Ok(()) = layout::draw(&mut frame, &Stats::sample(), view);
    frame
}

/// Compares `frame` with the golden PNG `name` at its height (or writes
/// it, when blessing); a mismatch is added to `mismatches`.
fn compare(name: &str, frame: &Frame, mismatches: &mut Vec<String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let h = frame.height();
    assert!(frame.lit_count() > 0, "{name} at 128x{h} is blank");
    let path = dir.join(format!("{name}-128x{h}.png"));
    if std::env::var_os("RACKPI_BLESS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        frame.write_png(&path, 1).unwrap();
        return;
    }
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (bless with RACKPI_BLESS=1)", path.display()));
    let golden = Frame::from_png(&bytes, 1).unwrap();
    if golden != *frame {
        mismatches.push(format!("{}:\n{}", path.display(), frame.to_ascii()));
    }
}

#[test]
fn every_screen_matches_its_golden_png() {
    let mut mismatches = Vec::new();
    for size in [PanelSize::W128H32, PanelSize::W128H64] {
        for (name, view) in screens() {
            compare(name, &draw(&view, size), &mut mismatches);
        }
    }
    assert!(
        mismatches.is_empty(),
        "screens differ from their goldens:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn a_throttled_pi_says_so_on_the_system_page() {
    let stats = Stats {
        temperature_c: Some(82.4),
        throttling: Throttling {
            under_voltage: true,
            throttled: true,
            ..Throttling::default()
        },
        ..Stats::sample()
    };
    let system = View::Page {
        page: PageKind::System,
        shift: (0, 0),
    };
    let mut mismatches = Vec::new();
    for size in [PanelSize::W128H32, PanelSize::W128H64] {
        let (w, h) = size.dimensions();
        let mut frame = Frame::new(w, h);
        let Ok(()) = layout::draw(&mut frame, &stats, &system);
        compare("system-throttled", &frame, &mut mismatches);
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_rack_page_scrolled_and_the_power_off_countdown_match_their_goldens() {
    let Some(View::Rack {
        up, total, lines, ..
    }) = layout::sample_view("rack")
    else {
        panic!("the sample rack is a rack page");
    };
    let mut mismatches = Vec::new();
    for size in [PanelSize::W128H32, PanelSize::W128H64] {
        // the second window: 2 node lines a window on 32 rows, 4 on 64
        let first = if size == PanelSize::W128H32 { 2 } else { 4 };
        let scrolled = View::Rack {
            up,
            total,
            lines: lines.clone(),
            first,
        };
        compare("rack-scrolled", &draw(&scrolled, size), &mut mismatches);
        let power_off = View::Countdown {
            action: PowerAction::Shutdown,
            seconds_left: 10,
        };
        compare(
            "countdown-poweroff",
            &draw(&power_off, size),
            &mut mismatches,
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn the_panel_shows_what_the_layout_drew_whatever_the_size_and_rotation() {
    for size in [PanelSize::W128H32, PanelSize::W128H64] {
        for rotation in [Rotation::Normal, Rotation::UpsideDown] {
            let mut config = Config::default();
            config.display.size = size;
            config.display.rotation = rotation;
            let settings = PanelSettings::from_config(&config);
            let bus = SimBus::new(0x3c, SimClock::new(true));
            let mut port = Ssd1306Port::new(bus.clone(), settings);
            port.init().unwrap();
            port.set_on(true).unwrap();
            let rows = size.dimensions().1 as usize;
            // one screen after another: each partial update must leave
            // exactly the new picture on the glass
            for (name, view) in screens() {
                let frame = draw(&view, size);
                port.show(&frame).unwrap();
                let seen = bus
                    .state()
                    .model
                    .visible(rows, rotation == Rotation::UpsideDown);
                assert_eq!(seen, frame, "{name} at {size:?}, {rotation:?}");
            }
        }
    }
}

#[test]
fn a_one_number_refresh_sends_a_fraction_of_a_full_frame() {
    let config = Config::default();
    let bus = SimBus::new(0x3c, SimClock::new(true));
    let mut port = Ssd1306Port::new(bus.clone(), PanelSettings::from_config(&config));
    port.init().unwrap();
    let view = View::Page {
        page: PageKind::Info,
        shift: (0, 0),
    };
    let mut stats = Stats::sample();
    let mut frame = Frame::new(128, 32);
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let before = bus.state().counters.bytes;
    port.show(&frame).unwrap();
    let full = bus.state().counters.bytes - before;
    stats.cpu_percent = Some(47.0);
    let Ok(()) = layout::draw(&mut frame, &stats, &view);
    let before = bus.state().counters.bytes;
    port.show(&frame).unwrap();
    let partial = bus.state().counters.bytes - before;
    assert!(
        full >= 512,
        "a full frame carries all 512 bytes of RAM: {full}"
    );
    assert!(
        partial * 4 <= full,
        "one number changed: {partial} bytes vs {full} for a full frame"
    );
    let before = bus.state().counters.bytes;
    port.show(&frame).unwrap();
    assert_eq!(
        bus.state().counters.bytes,
        before,
        "an unchanged frame sends nothing"
    );
}

#[test]
fn render_knows_every_screen_by_the_name_of_its_golden() {
    let names: Vec<&str> = screens().into_iter().map(|(name, _)| name).collect();
    for name in &names {
        assert!(layout::SCREENS.contains(name), "{name}");
        assert_eq!(
            layout::sample_view(name),
            screens()
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
        );
    }
    assert_eq!(names.len(), layout::SCREENS.len());
}
