//! Heat (SPEC §10): the core turns each temperature reading into the `temp`
//! condition, at or above `temp_warn_c`, cleared only 5 °C below it.

use rackpi_panel::core::{AttentionSource, Event, Input, LedPattern, Level, Rules};

use crate::common::Harness;

fn reading(celsius: f32) -> Input {
    Input::Temperature(Some(celsius))
}

/// The `temp` attention events and clearings, with their times.
fn heat_events(h: &Harness) -> Vec<(u64, String)> {
    h.events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            Event::Attention {
                source: AttentionSource::Temp,
                level,
                text,
            } => Some((t, format!("{} {text}", level.name()))),
            Event::AttentionCleared => Some((t, "cleared".into())),
            _ => None,
        })
        .collect()
}

#[test]
fn it_is_too_hot_from_the_threshold_until_five_degrees_below() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(30_000, reading(79.9));
    assert_eq!(heat_events(&h), vec![], "79.9 °C is not 80");
    h.input(60_000, reading(80.0));
    assert_eq!(
        heat_events(&h),
        vec![(60_000, "warn too hot: 80 °C".into())]
    );
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    h.input(90_000, reading(76.0));
    assert_eq!(heat_events(&h).len(), 1, "76 °C keeps it");
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    h.input(120_000, reading(75.0));
    assert_eq!(heat_events(&h).last(), Some(&(120_000, "cleared".into())));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
}

#[test]
fn flapping_around_the_threshold_calls_once() {
    let mut h = Harness::default();
    for (i, celsius) in [79.8, 80.1, 79.9, 80.0, 79.6, 80.2, 78.0, 80.3, 79.0]
        .into_iter()
        .enumerate()
    {
        h.input(1_000 + i as u64 * 30_000, reading(celsius));
    }
    assert_eq!(
        heat_events(&h),
        vec![(31_000, "warn too hot: 80 °C".into())]
    );
}

#[test]
fn hotter_by_a_degree_is_said_and_cooling_is_not() {
    let mut h = Harness::default();
    for (t, celsius) in [(1_000, 83.0), (2_000, 83.4), (3_000, 85.2), (4_000, 81.0)] {
        h.input(t, reading(celsius));
    }
    assert_eq!(
        heat_events(&h),
        vec![
            (1_000, "warn too hot: 83 °C".into()),
            (3_000, "warn too hot: 85 °C".into()),
        ]
    );
}

#[test]
fn an_unreadable_sensor_keeps_what_was_known() {
    let mut h = Harness::default();
    h.input(1_000, reading(90.0));
    h.input(2_000, Input::Temperature(None));
    h.input(3_000, Input::Temperature(Some(f32::NAN)));
    assert_eq!(heat_events(&h), vec![(1_000, "warn too hot: 90 °C".into())]);
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
}

#[test]
fn a_reload_judges_the_last_reading_by_the_new_threshold() {
    let mut h = Harness::default();
    h.input(1_000, reading(72.0));
    assert_eq!(heat_events(&h), vec![]);
    h.panel.set_rules(Rules {
        temp_warn_c: 70.0,
        ..Rules::default()
    });
    h.input(2_000, Input::Tick);
    assert_eq!(heat_events(&h), vec![(2_000, "warn too hot: 72 °C".into())]);
    // and back: 72 is not 5 °C below 75, so it stays
    h.panel.set_rules(Rules {
        temp_warn_c: 75.0,
        ..Rules::default()
    });
    h.input(3_000, Input::Tick);
    assert_eq!(heat_events(&h).len(), 1);
    h.panel.set_rules(Rules::default());
    h.input(4_000, Input::Tick);
    assert_eq!(heat_events(&h).last(), Some(&(4_000, "cleared".into())));
}

#[test]
fn heat_stands_beside_a_message_and_clears_alone() {
    let mut h = Harness::default();
    h.input(
        1_000,
        Input::Notify {
            level: Level::Warn,
            text: "disk 91% full".into(),
            lasts: None,
        },
    );
    h.input(2_000, reading(81.0));
    h.input(3_000, reading(70.0));
    assert!(
        heat_events(&h).iter().all(|(_, e)| e != "cleared"),
        "the message still calls"
    );
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    // the heat itself was cleared: the same 81 °C calls anew
    h.input(4_000, reading(81.0));
    assert_eq!(
        heat_events(&h),
        vec![
            (2_000, "warn too hot: 81 °C".into()),
            (4_000, "warn too hot: 81 °C".into()),
        ]
    );
}
