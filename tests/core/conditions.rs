//! Standing conditions (SPEC §10, §9's `rack_attention`): a source sets
//! its condition while it holds and clears it when it ends; a press never
//! acknowledges one away.

use rackpi_panel::core::{
    AttentionItem, AttentionSource, Condition, Event, Input, LedPattern, Level, PageKind, View,
};

use crate::common::Harness;

fn condition(source: AttentionSource, level: Level, text: &str) -> Input {
    Input::Condition {
        source,
        condition: Some(Condition {
            level,
            text: text.into(),
        }),
    }
}

fn cleared(source: AttentionSource) -> Input {
    Input::Condition {
        source,
        condition: None,
    }
}

fn attention(source: AttentionSource, level: Level, text: &str) -> Event {
    Event::Attention {
        source,
        level,
        text: text.into(),
    }
}

#[test]
fn a_condition_blinks_the_led_until_its_source_clears_it() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(
        30_000,
        condition(AttentionSource::Ups, Level::Warn, "on battery"),
    );
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert!(h.events().contains(&(
        30_000,
        attention(AttentionSource::Ups, Level::Warn, "on battery")
    )));
    h.input(40_000, cleared(AttentionSource::Ups));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert!(h.events().contains(&(40_000, Event::AttentionCleared)));
}

#[test]
fn the_same_condition_again_is_not_reported_again_and_a_worse_one_is() {
    let mut h = Harness::default();
    let on_battery = condition(AttentionSource::Ups, Level::Warn, "on battery");
    h.input(1_000, on_battery.clone());
    h.input(2_000, on_battery);
    h.input(
        3_000,
        condition(AttentionSource::Ups, Level::Error, "low battery"),
    );
    let reported: Vec<_> = h
        .events()
        .into_iter()
        .filter(|(_, e)| matches!(e, Event::Attention { .. }))
        .collect();
    assert_eq!(
        reported,
        vec![
            (
                1_000,
                attention(AttentionSource::Ups, Level::Warn, "on battery")
            ),
            (
                3_000,
                attention(AttentionSource::Ups, Level::Error, "low battery")
            ),
        ]
    );
}

#[test]
fn a_press_does_not_acknowledge_a_condition_away() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(
        21_000,
        condition(AttentionSource::Power, Level::Warn, "under-voltage"),
    );
    h.press(22_000, 100);
    h.run_until(22_500);
    assert_eq!(h.panel.page(), PageKind::Attention);
    h.press(23_000, 100);
    h.run_until(23_500);
    assert_eq!(
        h.count(&Event::Acknowledged {
            text: "under-voltage".into()
        }),
        0
    );
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
}

#[test]
fn conditions_come_first_on_the_attention_page_one_per_source() {
    let mut h = Harness::default();
    h.input(1_000, Input::UnitFailed("backup.service".into()));
    h.input(
        1_100,
        condition(AttentionSource::Temp, Level::Warn, "too hot: 83 °C"),
    );
    h.input(
        1_200,
        condition(AttentionSource::Temp, Level::Warn, "too hot: 85 °C"),
    );
    h.input(
        1_300,
        condition(AttentionSource::Ups, Level::Error, "low battery"),
    );
    // the screen is lit from the start: the attention page came up by itself
    h.run_until(1_500);
    let View::Attention { items, .. } = h.panel.view() else {
        panic!("the attention page is not shown: {:?}", h.panel.view());
    };
    assert_eq!(
        items,
        vec![
            AttentionItem::Condition {
                level: Level::Error,
                text: "low battery".into()
            },
            AttentionItem::Condition {
                level: Level::Warn,
                text: "too hot: 85 °C".into()
            },
            AttentionItem::Unit("backup.service".into()),
        ]
    );
}
