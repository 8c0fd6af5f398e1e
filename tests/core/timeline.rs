//! The firmware core as timelines: button levels at given milliseconds in,
//! events and effects out. Time is advanced by calling, never by sleeping.

use rackpi_panel::core::{
    AttentionItem, AttentionSource, Effect, Event, HoldStage, Input, LedPattern, Level, PageKind,
    PowerAction, Rules, View,
};

use crate::common;

use common::Harness;
use std::time::Duration;

#[test]
fn start_shows_the_info_page_with_the_led_on() {
    let h = Harness::default();
    assert_eq!(h.names(), vec!["screen_on", "page"]);
    assert!(h.log.contains(&(0, Effect::DisplayPower(true))));
    assert!(h.log.contains(&(0, Effect::Led(true))));
    assert_eq!(
        h.panel.view(),
        View::Page {
            page: PageKind::Info,
            shift: (0, 0)
        }
    );
}

#[test]
fn a_tap_with_the_screen_on_shows_the_next_page() {
    let mut h = Harness::default();
    h.press(1000, 200);
    h.run_until(1300);
    assert_eq!(
        h.names(),
        vec!["screen_on", "page", "press", "release", "page"]
    );
    assert_eq!(h.count(&Event::Page(PageKind::System)), 1);
    // the release counts once stable for the debounce period
    assert!(h.events().contains(&(1230, Event::Page(PageKind::System))));
    h.press(2000, 100);
    h.press(3000, 100);
    h.run_until(3200);
    assert_eq!(h.panel.page(), PageKind::Info, "pages wrap around");
}

#[test]
fn a_press_with_the_screen_off_only_wakes_it_on_the_press_edge() {
    let mut h = Harness::default();
    h.run_until(20_000);
    assert!(h.events().contains(&(15_000, Event::ScreenOff)));
    assert!(h.log.contains(&(15_000, Effect::DisplayPower(false))));
    h.level(30_000, true);
    h.run_until(30_030);
    assert!(
        h.events().contains(&(30_030, Event::ScreenOn)),
        "on at the press, before release"
    );
    h.level(30_200, false);
    h.run_until(31_000);
    assert_eq!(
        h.count(&Event::Page(PageKind::System)),
        0,
        "the waking press does not turn the page"
    );
    assert_eq!(h.panel.page(), PageKind::Info);
}

#[test]
fn the_screen_timeout_restarts_with_each_press() {
    let mut h = Harness::default();
    h.press(10_000, 100);
    h.run_until(24_000);
    assert_eq!(h.count(&Event::ScreenOff), 0);
    h.run_until(26_000);
    assert!(h.events().contains(&(25_130, Event::ScreenOff)));
    // nothing at all happens while the screen is off: no deadlines
    assert_eq!(h.panel.next_deadline(), None);
}

#[test]
fn timeout_zero_never_switches_off_and_moves_the_content() {
    let timings = Rules {
        screen_timeout: None,
        ..Default::default()
    };
    let mut h = Harness::new(timings, false);
    h.run_until(3_600_000);
    assert_eq!(h.count(&Event::ScreenOff), 0);
    let View::Page { shift, .. } = h.panel.view() else {
        panic!("a page is shown")
    };
    // 3600 s / 180 s = 20 steps; 20 % 4 = 0, so check a moment later
    assert_eq!(shift, (0, 0));
    h.run_until(3_600_000 + 180_000);
    let View::Page { shift, .. } = h.panel.view() else {
        panic!("a page is shown")
    };
    assert_eq!(shift, (1, 0));
}

fn hold(hold_ms: u64) -> Harness {
    let mut h = Harness::default();
    h.press(1000, hold_ms);
    h.run_until(1000 + hold_ms + 1000);
    h
}

#[test]
fn released_exactly_at_reboot_after_reboots_and_a_millisecond_before_does_not() {
    let h = hold(8000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.count(&Event::RebootArmed), 1);
    let h = hold(7999);
    assert_eq!(h.actions(), vec![]);
    assert_eq!(
        h.count(&Event::RebootArmed),
        0,
        "the stage is never shown for a release 1 ms early"
    );
    assert_eq!(
        h.count(&Event::Page(PageKind::System)),
        1,
        "a 7.999 s press is a short press"
    );
}

#[test]
fn released_at_shutdown_after_shuts_down_without_rebooting() {
    let h = hold(12_000);
    assert_eq!(h.actions(), vec![PowerAction::Shutdown]);
    assert_eq!(h.count(&Event::RebootArmed), 1);
    assert_eq!(h.count(&Event::ShutdownArmed), 1);
    assert_eq!(h.count(&Event::Reboot), 0);
    let h = hold(11_999);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.count(&Event::ShutdownArmed), 0);
}

#[test]
fn held_to_cancel_after_does_nothing() {
    let h = hold(20_000);
    assert_eq!(h.actions(), vec![]);
    assert_eq!(h.count(&Event::Cancelled), 1);
    let h = hold(19_999);
    assert_eq!(h.actions(), vec![PowerAction::Shutdown]);
    assert_eq!(h.count(&Event::Cancelled), 0);
    let h = hold(25_000);
    assert_eq!(h.actions(), vec![]);
}

#[test]
fn stage_timing_is_measured_from_the_press_edge() {
    let h = hold(9000);
    let armed = h
        .events()
        .into_iter()
        .find(|(_, e)| *e == Event::RebootArmed)
        .unwrap();
    assert_eq!(armed.0, 9000);
    let reboot = h
        .events()
        .into_iter()
        .find(|(_, e)| *e == Event::Reboot)
        .unwrap();
    assert_eq!(
        reboot.0, 10_030,
        "the action runs when the release is confirmed"
    );
}

#[test]
fn the_stage_screens_count_down() {
    let mut h = Harness::default();
    h.level(1000, true);
    h.run_until(9000);
    assert_eq!(
        h.panel.view(),
        View::Stage {
            stage: HoldStage::Reboot,
            seconds_left: 4
        }
    );
    h.run_until(10_000);
    assert_eq!(
        h.panel.view(),
        View::Stage {
            stage: HoldStage::Reboot,
            seconds_left: 3
        }
    );
    h.run_until(13_000);
    assert_eq!(
        h.panel.view(),
        View::Stage {
            stage: HoldStage::Shutdown,
            seconds_left: 8
        }
    );
    h.run_until(21_000);
    assert_eq!(
        h.panel.view(),
        View::Stage {
            stage: HoldStage::Cancelled,
            seconds_left: 0
        }
    );
}

#[test]
fn the_led_tracks_the_stages() {
    let mut h = Harness::default();
    h.level(1000, true);
    h.run_until(22_000);
    h.level(22_000, false);
    h.run_until(23_000);
    assert_eq!(
        h.patterns(),
        vec![
            (0, LedPattern::On),
            (1030, LedPattern::Off),
            (9000, LedPattern::Blink1Hz),
            (13_000, LedPattern::Blink4Hz),
            (21_000, LedPattern::On),
        ]
    );
    // 1 Hz: level changes every 500 ms through the reboot stage
    let toggles: Vec<u64> = h
        .log
        .iter()
        .filter(|(t, e)| matches!(e, Effect::Led(_)) && (9000..13_000).contains(t))
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(
        toggles,
        vec![9000, 9500, 10_000, 10_500, 11_000, 11_500, 12_000, 12_500]
    );
    let fast = h
        .log
        .iter()
        .filter(|(t, e)| matches!(e, Effect::Led(_)) && (13_000..14_000).contains(t))
        .count();
    assert_eq!(fast, 8, "4 Hz: eight level changes a second");
}

#[test]
fn bounce_on_press_and_release_gives_one_action() {
    let mut h = Harness::default();
    // press: four edges less than 30 ms apart, then stable
    for (t, level) in [
        (1000, true),
        (1005, false),
        (1012, true),
        (1020, false),
        (1026, true),
    ] {
        h.level(t, level);
    }
    // release after 9 s, bouncing
    for (t, level) in [
        (10_000, false),
        (10_004, true),
        (10_010, false),
        (10_025, true),
        (10_031, false),
    ] {
        h.level(t, level);
    }
    h.run_until(12_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.count(&Event::Press), 1);
    assert_eq!(h.count(&Event::Release), 1);
}

#[test]
fn a_10_ms_glitch_is_ignored_entirely() {
    let mut h = Harness::default();
    h.press(5000, 10);
    h.run_until(6000);
    assert_eq!(h.names(), vec!["screen_on", "page"]);
    // and a 10 ms glitch up during a hold does not end the hold
    h.level(7000, true);
    h.level(12_000, false);
    h.level(12_010, true);
    h.level(16_000, false);
    h.run_until(17_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.count(&Event::Release), 1);
}

#[test]
fn a_button_held_at_start_is_ignored_until_released() {
    let mut h = Harness::new(Rules::default(), true);
    h.level(25_000, false);
    h.run_until(30_000);
    assert_eq!(h.actions(), vec![]);
    assert_eq!(h.count(&Event::RebootArmed), 0);
    assert_eq!(h.count(&Event::Press), 0);
    // once seen released, the button works
    h.press(31_000, 9000);
    h.run_until(41_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

#[test]
fn presses_during_an_action_screen_do_nothing() {
    let mut h = Harness::default();
    h.press(1000, 9000);
    h.run_until(11_000);
    h.press(12_000, 9000);
    h.press(30_000, 13_000);
    h.run_until(60_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.panel.view(), View::Action(PowerAction::Reboot));
    assert!(h.panel.screen_is_on(), "the action screen stays up");
}

#[test]
fn a_failed_action_is_shown_for_ten_seconds_and_blinks_the_led_until_a_press() {
    let mut h = Harness::default();
    h.press(1000, 9000);
    h.run_until(10_100);
    h.input(
        10_100,
        Input::ActionDone(Err("`systemctl reboot` exited with status 1".into())),
    );
    assert!(matches!(
        h.panel.view(),
        View::Failed {
            action: PowerAction::Reboot,
            ..
        }
    ));
    assert_eq!(h.panel.led_pattern(), LedPattern::DoubleBlink);
    h.run_until(20_099);
    assert!(matches!(h.panel.view(), View::Failed { .. }));
    h.run_until(20_100);
    assert!(matches!(h.panel.view(), View::Page { .. }));
    assert_eq!(h.panel.led_pattern(), LedPattern::DoubleBlink);
    h.press(21_000, 100);
    h.run_until(21_200);
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    // the failed command is not retried by itself; a new hold runs it again
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    h.press(22_000, 9000);
    h.run_until(32_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot, PowerAction::Reboot]);
}

#[test]
fn a_lost_display_double_blinks_the_led_until_it_is_back() {
    let mut h = Harness::default();
    h.input(2000, Input::DisplayHealth(false));
    assert_eq!(h.panel.led_pattern(), LedPattern::DoubleBlink);
    assert_eq!(h.count(&Event::DisplayLost), 1);
    h.input(2500, Input::DisplayHealth(false));
    assert_eq!(
        h.count(&Event::DisplayLost),
        1,
        "reported once, not per retry"
    );
    // the button still works, and the stages still show on the LED
    h.level(3000, true);
    h.run_until(11_500);
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink1Hz);
    h.level(11_500, false);
    h.run_until(12_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    h.input(13_000, Input::DisplayHealth(true));
    assert_eq!(h.count(&Event::DisplayRestored), 1);
}

#[test]
fn stop_while_held_switches_everything_off_and_acts_on_nothing() {
    let mut h = Harness::default();
    h.level(1000, true);
    h.run_until(10_000);
    h.input(10_000, Input::Stop);
    h.run_until(30_000);
    assert_eq!(h.actions(), vec![]);
    assert!(h.log.contains(&(10_000, Effect::DisplayPower(false))));
    assert!(h.log.contains(&(10_000, Effect::Led(false))));
    assert_eq!(h.names().last(), Some(&"stopped"));
    assert_eq!(h.panel.next_deadline(), None);
}

#[test]
fn stop_after_an_action_keeps_the_action_screen() {
    let mut h = Harness::default();
    h.press(1000, 13_000);
    h.run_until(15_000);
    h.input(15_000, Input::ActionDone(Ok(())));
    h.input(16_000, Input::Stop);
    assert_eq!(h.actions(), vec![PowerAction::Shutdown]);
    assert!(!h
        .log
        .iter()
        .any(|(t, e)| *t == 16_000 && *e == Effect::DisplayPower(false)));
    assert_eq!(h.panel.view(), View::Action(PowerAction::Shutdown));
}

#[test]
fn show_until_ip_keeps_the_screen_on_until_an_address_is_known() {
    let timings = Rules {
        show_until_ip: true,
        ..Default::default()
    };
    let mut h = Harness::new(timings, false);
    h.input(1000, Input::IpKnown(false));
    h.run_until(60_000);
    assert_eq!(h.count(&Event::ScreenOff), 0);
    h.input(60_000, Input::IpKnown(true));
    h.run_until(80_000);
    assert!(
        h.events().contains(&(75_000, Event::ScreenOff)),
        "{:?}",
        h.events()
    );
}

#[test]
fn the_screen_refreshes_once_a_second_while_on_and_never_while_off() {
    let mut h = Harness::default();
    h.run_until(30_000);
    let draws: Vec<u64> = h
        .log
        .iter()
        .filter(|(_, e)| *e == Effect::Draw)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(draws, (0..15).map(|s| s * 1000).collect::<Vec<_>>());
}

#[test]
fn a_glitch_across_a_threshold_delays_the_stage_but_keeps_the_hold() {
    let mut h = Harness::default();
    h.level(0, true);
    h.level(7979, false); // a 22 ms glitch straddling the 8 s mark
    h.level(8001, true);
    assert!(
        h.panel.next_deadline().unwrap() >= h.now,
        "never a deadline in the past"
    );
    h.run_until(8001);
    assert_eq!(
        h.count(&Event::RebootArmed),
        1,
        "the hold went on through the glitch"
    );
    h.level(9000, false);
    h.run_until(10_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    assert_eq!(h.count(&Event::Release), 1);
}

#[test]
fn a_command_that_succeeded_but_left_the_machine_up_is_reported_after_settle() {
    let mut h = Harness::default();
    h.press(1000, 9000);
    h.run_until(10_100);
    h.input(10_100, Input::ActionDone(Ok(())));
    // presses do nothing while the machine should be going down
    h.press(60_000, 200);
    h.run_until(130_099);
    assert_eq!(h.panel.view(), View::Action(PowerAction::Reboot));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    h.run_until(130_100);
    assert!(h.events().contains(&(
        130_100,
        Event::ActionFailed {
            action: PowerAction::Reboot,
            reason: "machine still up after 120 s".into()
        }
    )));
    assert_eq!(h.panel.led_pattern(), LedPattern::DoubleBlink);
    // then back to normal: pages, the screen timeout, and a new hold acts again
    h.run_until(140_100);
    assert!(matches!(h.panel.view(), View::Page { .. }));
    h.run_until(160_000);
    assert!(!h.panel.screen_is_on(), "the screen times out again");
    h.press(170_000, 13_000);
    h.run_until(190_000);
    assert_eq!(
        h.actions(),
        vec![PowerAction::Reboot, PowerAction::Shutdown]
    );
}

#[test]
fn with_no_settle_time_a_dry_run_returns_to_normal_at_once() {
    let timings = Rules {
        settle: std::time::Duration::ZERO,
        ..Default::default()
    };
    let mut h = Harness::new(timings, false);
    h.press(1000, 13_000);
    h.run_until(14_100);
    h.input(14_100, Input::ActionDone(Ok(())));
    assert!(matches!(h.panel.view(), View::Page { .. }));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert_eq!(h.count(&Event::Page(PageKind::Info)), 1);
    h.press(15_000, 200);
    h.run_until(15_300);
    assert_eq!(h.count(&Event::Page(PageKind::System)), 1);
    h.run_until(40_000);
    assert!(!h.panel.screen_is_on());
}

#[test]
fn edges_lost_during_a_hold_drop_it_until_the_button_is_released() {
    let mut h = Harness::default();
    h.level(1000, true);
    h.run_until(9_500);
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink1Hz);
    h.input(9_600, Input::EdgesLost { pressed: true });
    assert!(matches!(h.panel.view(), View::Page { .. }));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    h.level(12_000, false);
    h.run_until(30_000);
    assert_eq!(h.actions(), vec![]);
    // a real hold afterwards acts, once
    h.press(31_000, 9_000);
    h.run_until(41_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

#[test]
fn edges_lost_with_the_button_up_leave_the_next_press_alone() {
    let mut h = Harness::default();
    h.input(2000, Input::EdgesLost { pressed: false });
    h.press(3000, 9000);
    h.run_until(13_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

// ---- attention: failed units, messages, identify (SPEC §3, §8) ----

fn unit_failed(name: &str) -> Input {
    Input::UnitFailed(name.into())
}

fn notify(level: Level, text: &str, lasts_ms: Option<u64>) -> Input {
    Input::Notify {
        level,
        text: text.into(),
        lasts: lasts_ms.map(common::ms),
    }
}

fn attention_lines(h: &Harness) -> Vec<AttentionItem> {
    match h.panel.view() {
        View::Attention { items, first } => items[first..].to_vec(),
        other => panic!("the attention page is not shown: {other:?}"),
    }
}

#[test]
fn a_failed_unit_triple_blinks_without_waking_the_screen_and_a_press_shows_it() {
    let mut h = Harness::default();
    h.run_until(20_000);
    assert!(!h.panel.screen_is_on());
    h.input(30_000, unit_failed("backup.service"));
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert!(h.events().contains(&(
        30_000,
        Event::Attention {
            source: AttentionSource::Unit,
            level: Level::Error,
            text: "backup.service".into()
        }
    )));
    assert!(
        !h.log
            .iter()
            .any(|(t, e)| *t >= 30_000 && *e == Effect::DisplayPower(true)),
        "the screen stays dark: no I2C for a failure nobody is looking at"
    );
    h.press(40_000, 100);
    h.run_until(40_500);
    assert_eq!(h.panel.page(), PageKind::Attention);
    assert_eq!(
        attention_lines(&h),
        vec![AttentionItem::Unit("backup.service".into())]
    );
    assert!(h
        .events()
        .contains(&(40_030, Event::Page(PageKind::Attention))));
}

#[test]
fn recovery_clears_the_attention_and_the_led_goes_back_to_on() {
    let mut h = Harness::default();
    h.input(1000, unit_failed("a.service"));
    h.input(1500, unit_failed("b.service"));
    h.input(2000, Input::UnitRecovered("a.service".into()));
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert_eq!(h.count(&Event::AttentionCleared), 0);
    h.input(3000, Input::UnitRecovered("b.service".into()));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert_eq!(h.count(&Event::AttentionCleared), 1);
    assert!(h.events().contains(&(3000, Event::AttentionCleared)));
    assert!(
        matches!(
            h.panel.view(),
            View::Page {
                page: PageKind::Info,
                ..
            }
        ),
        "the empty attention page is left for the first page"
    );
}

#[test]
fn a_full_listing_recovers_the_units_it_leaves_out() {
    let mut h = Harness::default();
    h.input(1000, unit_failed("a.service"));
    h.input(2000, Input::FailedUnitsListed(vec![]));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert_eq!(h.count(&Event::AttentionCleared), 1);
}

#[test]
fn ignored_units_never_call_for_attention() {
    let rules = Rules {
        ignore_units: vec!["apt-daily.service".into()],
        ..Rules::default()
    };
    let mut h = Harness::new(rules, false);
    h.input(1000, unit_failed("apt-daily.service"));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert!(!h.names().contains(&"attention"));
}

#[test]
fn a_short_press_scrolls_the_attention_page_then_goes_on_to_the_first_page() {
    let mut h = Harness::default();
    for unit in ["a", "b", "c", "d", "e"] {
        h.input(1000, unit_failed(unit));
    }
    assert_eq!(
        attention_lines(&h).len(),
        5,
        "a lit screen shows it at once"
    );
    h.press(2000, 100);
    h.run_until(2500);
    assert_eq!(
        attention_lines(&h),
        vec![
            AttentionItem::Unit("d".into()),
            AttentionItem::Unit("e".into())
        ]
    );
    h.press(3000, 100);
    h.run_until(3500);
    assert_eq!(h.panel.page(), PageKind::Info);
    // round the pages and back to the attention page before the first
    for t in [4000, 5000] {
        h.press(t, 100);
    }
    h.run_until(5500);
    assert_eq!(h.panel.page(), PageKind::Network);
    h.press(6000, 100);
    h.run_until(6500);
    assert_eq!(h.panel.page(), PageKind::Attention);
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::TripleBlink,
        "units stay until they recover"
    );
}

#[test]
fn a_press_while_a_warning_is_shown_acknowledges_it() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(21_000, notify(Level::Error, "restic: backup failed", None));
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert!(!h.panel.screen_is_on());
    // the waking press only shows it: nobody has read it yet
    h.press(25_000, 100);
    h.run_until(25_500);
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert_eq!(
        attention_lines(&h),
        vec![AttentionItem::Message {
            level: Level::Error,
            text: "restic: backup failed".into()
        }]
    );
    assert_eq!(
        h.count(&Event::Acknowledged {
            text: "restic: backup failed".into()
        }),
        0
    );
    h.press(26_000, 100);
    h.run_until(26_500);
    assert!(h.events().contains(&(
        26_130,
        Event::Acknowledged {
            text: "restic: backup failed".into()
        }
    )));
    assert!(h.events().contains(&(26_130, Event::AttentionCleared)));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert_eq!(h.panel.page(), PageKind::Info);
}

#[test]
fn an_info_message_leaves_the_led_alone_and_is_shown_on_the_next_wake_only() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(21_000, notify(Level::Info, "updated to 1.2", None));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert!(h.panel.attention_listed());
    h.press(30_000, 100);
    h.run_until(30_500);
    assert_eq!(attention_lines(&h).len(), 1);
    // it times out unread-by-press: it has had its wake
    h.run_until(50_000);
    assert!(!h.panel.screen_is_on());
    h.press(60_000, 100);
    h.run_until(60_500);
    assert_eq!(h.panel.page(), PageKind::Info);
    assert!(!h.panel.attention_listed());
}

#[test]
fn a_message_for_a_while_expires_at_its_deadline_without_polling() {
    let mut h = Harness::default();
    h.run_until(20_000);
    assert_eq!(h.panel.next_deadline(), None, "idle: nothing to wake for");
    h.input(20_000, notify(Level::Warn, "disk 91%", Some(60_000)));
    h.run_until(79_999);
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    h.run_until(80_000);
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert!(h.events().contains(&(80_000, Event::AttentionCleared)));
    assert_eq!(h.panel.next_deadline(), None);
}

#[test]
fn a_unit_failing_while_the_button_is_held_leaves_the_screen_to_the_hold() {
    let mut h = Harness::default();
    h.press(1000, 100); // the screen is on, on the info page
    h.level(3000, true);
    h.input(4000, unit_failed("backup.service"));
    h.run_until(5000);
    assert_ne!(
        h.panel.page(),
        PageKind::Attention,
        "a person holding the button is not interrupted"
    );
    assert!(!h
        .events()
        .contains(&(4000, Event::Page(PageKind::Attention))));
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::Off,
        "held: the LED is dark"
    );
}

#[test]
fn a_change_that_adds_nothing_leaves_a_page_chosen_by_the_person() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(21_000, unit_failed("a.service"));
    h.input(21_500, unit_failed("b.service"));
    h.press(30_000, 100); // wakes the screen on the attention page
    h.run_until(30_500);
    assert_eq!(h.panel.page(), PageKind::Attention);
    h.press(31_000, 100); // on to the first page
    h.run_until(31_500);
    assert_ne!(h.panel.page(), PageKind::Attention);
    let page = h.panel.page();
    h.input(32_000, Input::UnitRecovered("a.service".into()));
    assert_eq!(
        h.panel.page(),
        page,
        "a recovery is no news: the page stays"
    );
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::TripleBlink,
        "b is still failed"
    );
}

#[test]
fn when_the_attention_page_empties_the_screen_goes_back_to_the_first_page() {
    let mut h = Harness::default();
    h.press(1000, 100); // the lit screen turns to the second page
    h.run_until(1500);
    assert_ne!(h.panel.page(), PageKind::Info);
    h.input(2000, unit_failed("backup.service"));
    assert_eq!(h.panel.page(), PageKind::Attention);
    h.input(2500, Input::UnitRecovered("backup.service".into()));
    assert_eq!(
        h.panel.page(),
        PageKind::Info,
        "the first page, not the one before"
    );
    assert!(h.events().contains(&(2500, Event::Page(PageKind::Info))));
    assert!(h.log.contains(&(2500, Effect::Draw)));
}

#[test]
fn identify_on_a_lit_screen_draws_it_at_once() {
    let mut h = Harness::default();
    h.run_until(1000); // lit since the start
    assert!(h.panel.screen_is_on());
    h.input(
        2500, // between two refreshes of the info page
        Input::Identify {
            lasts: common::ms(10_000),
        },
    );
    assert_eq!(h.panel.view(), View::Identify);
    assert!(
        h.log.contains(&(2500, Effect::Draw)),
        "the identify screen is drawn when identify starts"
    );
}

#[test]
fn identify_blinks_at_5_hz_shows_itself_and_ends_at_its_deadline() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(
        30_000,
        Input::Identify {
            lasts: common::ms(60_000),
        },
    );
    assert!(h
        .events()
        .contains(&(30_000, Event::Identify { seconds: 60 })));
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink5Hz);
    assert!(h.panel.screen_is_on(), "identify lights the screen");
    assert_eq!(h.panel.view(), View::Identify);
    h.run_until(89_999);
    assert!(
        h.panel.screen_is_on(),
        "no screen timeout while identifying"
    );
    h.run_until(90_000);
    assert!(h.events().contains(&(90_000, Event::IdentifyEnd)));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    assert!(matches!(h.panel.view(), View::Page { .. }));
    h.run_until(104_999);
    assert!(h.panel.screen_is_on(), "a whole timeout after identify");
    h.run_until(105_000);
    assert!(!h.panel.screen_is_on());
}

#[test]
fn a_press_ends_identify_without_turning_the_page() {
    let mut h = Harness::default();
    h.input(
        1000,
        Input::Identify {
            lasts: common::ms(60_000),
        },
    );
    h.press(5000, 100);
    h.run_until(5500);
    assert!(h.events().contains(&(5130, Event::IdentifyEnd)));
    assert_eq!(h.panel.page(), PageKind::Info);
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    h.input(
        6000,
        Input::Identify {
            lasts: common::ms(60_000),
        },
    );
    h.input(
        7000,
        Input::Identify {
            lasts: common::ms(0),
        },
    );
    assert_eq!(h.count(&Event::IdentifyEnd), 2, "identify --for 0 ends it");
}

#[test]
fn the_led_priority_is_hold_then_identify_then_attention_then_degraded() {
    let mut h = Harness::default();
    h.input(1000, Input::DisplayHealth(false));
    assert_eq!(h.panel.led_pattern(), LedPattern::DoubleBlink);
    h.input(2000, unit_failed("x.service"));
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::TripleBlink,
        "attention beats degraded"
    );
    h.input(
        3000,
        Input::Identify {
            lasts: common::ms(60_000),
        },
    );
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::Blink5Hz,
        "identify beats attention"
    );
    h.level(4000, true);
    h.run_until(4100);
    assert_eq!(h.panel.led_pattern(), LedPattern::Off, "a press is seen");
    h.run_until(12_100);
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::Blink1Hz,
        "a hold stage beats identify"
    );
    assert_eq!(
        h.panel.view(),
        View::Stage {
            stage: HoldStage::Reboot,
            seconds_left: 4
        }
    );
}

#[test]
fn a_flood_of_messages_keeps_sixteen_and_the_button_still_works() {
    let mut h = Harness::default();
    for i in 0..1000 {
        h.input(1000, notify(Level::Error, &format!("flood {i}"), None));
    }
    let View::Attention { items, .. } = h.panel.view() else {
        panic!("attention page")
    };
    assert_eq!(items.len(), rackpi_panel::core::MAX_MESSAGES);
    h.press(2000, 9000);
    h.run_until(12_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

fn error(text: &str) -> AttentionItem {
    AttentionItem::Message {
        level: Level::Error,
        text: text.into(),
    }
}

fn acknowledged(h: &Harness) -> Vec<String> {
    h.events()
        .into_iter()
        .filter_map(|(_, e)| match e {
            Event::Acknowledged { text } => Some(text),
            _ => None,
        })
        .collect()
}

#[test]
fn a_unit_recovering_under_a_scrolled_attention_page_brings_back_the_lines_above() {
    let mut h = Harness::default();
    for unit in ["a", "b", "c", "d"] {
        h.input(1000, unit_failed(unit));
    }
    h.press(2000, 100); // on to the second screenful: d alone
    h.run_until(2500);
    assert_eq!(attention_lines(&h), vec![AttentionItem::Unit("d".into())]);
    h.input(3000, Input::UnitRecovered("d".into()));
    assert_eq!(
        attention_lines(&h),
        vec![
            AttentionItem::Unit("a".into()),
            AttentionItem::Unit("b".into()),
            AttentionItem::Unit("c".into())
        ],
        "never an empty screen while units are still failed"
    );
    assert!(h.log.contains(&(3000, Effect::Draw)));
    h.press(4000, 100); // units only: the press scrolls, past the end
    h.run_until(4500);
    assert_eq!(h.panel.page(), PageKind::Info);
}

#[test]
fn a_press_acknowledges_what_each_screenful_shows_below_the_failed_units() {
    let mut h = Harness::default();
    for unit in ["a", "b", "c", "d"] {
        h.input(1000, unit_failed(unit));
    }
    for text in ["m1", "m2", "m3", "m4"] {
        h.input(1500, notify(Level::Error, text, None));
    }
    // a b c | d m4 m3 | m2 m1 (messages newest first, three lines a screen)
    h.press(2000, 100);
    h.run_until(2500);
    assert_eq!(
        attention_lines(&h)[..3],
        [AttentionItem::Unit("d".into()), error("m4"), error("m3")]
    );
    assert!(
        acknowledged(&h).is_empty(),
        "units only: the press scrolled"
    );
    h.press(3000, 100);
    h.run_until(3500);
    assert_eq!(acknowledged(&h), vec!["m4", "m3"]);
    assert_eq!(
        attention_lines(&h),
        vec![AttentionItem::Unit("d".into()), error("m2"), error("m1")],
        "the older messages move up into the screenful"
    );
    h.press(4000, 100);
    h.run_until(4500);
    assert_eq!(acknowledged(&h), vec!["m4", "m3", "m2", "m1"]);
    assert_eq!(attention_lines(&h), vec![AttentionItem::Unit("d".into())]);
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::TripleBlink,
        "the units are still failed"
    );
}

#[test]
fn after_units_recover_under_the_second_screenful_a_press_acknowledges_only_what_it_shows() {
    let mut h = Harness::default();
    for unit in ["a", "b", "c", "d"] {
        h.input(1000, unit_failed(unit));
    }
    for text in ["m1", "m2", "m3", "m4"] {
        h.input(1500, notify(Level::Error, text, None));
    }
    h.press(2000, 100); // d m4 m3
    h.run_until(2500);
    h.input(2600, Input::UnitRecovered("c".into()));
    h.input(2700, Input::UnitRecovered("d".into()));
    // a b m4 | m3 m2 m1: the screenful stays the second one
    assert_eq!(
        attention_lines(&h),
        vec![error("m3"), error("m2"), error("m1")]
    );
    h.press(3000, 100);
    h.run_until(3500);
    assert_eq!(
        acknowledged(&h),
        vec!["m3", "m2", "m1"],
        "m4 has scrolled out of sight: not acknowledged"
    );
    assert_eq!(
        attention_lines(&h),
        vec![
            AttentionItem::Unit("a".into()),
            AttentionItem::Unit("b".into()),
            error("m4")
        ]
    );
    h.press(4000, 100);
    h.run_until(4500);
    assert_eq!(acknowledged(&h), vec!["m3", "m2", "m1", "m4"]);
}

#[test]
fn a_warning_seen_but_not_acknowledged_outlives_the_screen_going_off_a_seen_info_does_not() {
    let mut h = Harness::default();
    h.run_until(20_000);
    h.input(21_000, notify(Level::Error, "restic: backup failed", None));
    h.input(21_500, notify(Level::Info, "updated to 1.2", None));
    h.press(25_000, 100); // wakes the screen on the attention page: both shown
    h.run_until(25_500);
    assert_eq!(
        attention_lines(&h),
        vec![
            AttentionItem::Message {
                level: Level::Info,
                text: "updated to 1.2".into()
            },
            error("restic: backup failed")
        ]
    );
    h.run_until(45_000);
    assert!(!h.panel.screen_is_on(), "timed out without a press");
    assert_eq!(
        h.panel.led_pattern(),
        LedPattern::TripleBlink,
        "seen is not acknowledged"
    );
    h.press(50_000, 100);
    h.run_until(50_500);
    assert_eq!(
        attention_lines(&h),
        vec![error("restic: backup failed")],
        "the info has had its wake, the error waits for its press"
    );
}

#[test]
fn an_info_arriving_on_the_shown_attention_page_has_had_its_wake_when_the_screen_goes_off() {
    let mut h = Harness::default();
    h.input(1000, unit_failed("backup.service"));
    assert_eq!(h.panel.page(), PageKind::Attention);
    h.input(2000, notify(Level::Info, "updated to 1.2", None));
    assert_eq!(attention_lines(&h).len(), 2, "it is on the screen");
    h.run_until(20_000);
    assert!(!h.panel.screen_is_on());
    h.press(30_000, 100);
    h.run_until(30_500);
    assert_eq!(
        attention_lines(&h),
        vec![AttentionItem::Unit("backup.service".into())]
    );
}

#[test]
fn a_listing_that_names_a_new_failed_unit_shows_it_on_a_lit_screen_a_repeated_one_does_not() {
    let mut h = Harness::default();
    h.press(1000, 100); // the person turns to the second page
    h.run_until(1500);
    let page = h.panel.page();
    assert_ne!(page, PageKind::Info);
    h.input(
        2000,
        Input::FailedUnitsListed(vec!["a.service".into(), "b.service".into()]),
    );
    assert_eq!(h.panel.page(), PageKind::Attention, "two new failures");
    h.press(3000, 100); // units only: on to the first page
    h.run_until(3500);
    assert_eq!(h.panel.page(), PageKind::Info);
    h.input(
        4000,
        Input::FailedUnitsListed(vec!["a.service".into(), "b.service".into()]),
    );
    assert_eq!(
        h.panel.page(),
        PageKind::Info,
        "the same listing is no news"
    );
    h.input(
        5000,
        Input::FailedUnitsListed(vec![
            "a.service".into(),
            "b.service".into(),
            "c.service".into(),
        ]),
    );
    assert_eq!(
        h.panel.page(),
        PageKind::Attention,
        "a second unit failing while others are failed is news"
    );
    assert_eq!(attention_lines(&h).len(), 3);
}

// --- custom pages: refreshed only while shown or next, never while dark ---

fn backup() -> rackpi_panel::core::PageName {
    rackpi_panel::core::PageName::new("backup").unwrap()
}

/// Rules with `pages` and a `backup` command page renewed every 30 s.
fn custom_rules(pages: Vec<PageKind>) -> Rules {
    Rules {
        pages,
        custom_pages: vec![rackpi_panel::core::CustomPage {
            name: backup(),
            every: Duration::from_secs(30),
        }],
        ..Rules::default()
    }
}

/// The times the `backup` page was asked to refresh.
fn refreshes(h: &Harness) -> Vec<u64> {
    h.log
        .iter()
        .filter(|(_, e)| *e == Effect::RefreshPage(backup()))
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn a_shown_command_page_is_renewed_every_every_s_while_the_screen_is_on() {
    let rules = Rules {
        screen_timeout: None,
        ..custom_rules(vec![PageKind::Custom(backup()), PageKind::Info])
    };
    let mut h = Harness::new(rules, false);
    assert_eq!(refreshes(&h), vec![0], "shown at start: run at once");
    h.run_until(40_500);
    assert_eq!(refreshes(&h), vec![0], "not again before it answered");
    h.input(
        40_500,
        Input::PageRefreshed {
            name: backup(),
            changed: true,
        },
    );
    let drawn = h
        .log
        .iter()
        .any(|(t, e)| *t == 40_500 && *e == Effect::Draw);
    assert!(drawn, "new output on the screen is drawn at once");
    assert_eq!(refreshes(&h), vec![0, 40_500], "older than 30 s: run again");
    h.input(
        41_000,
        Input::PageRefreshed {
            name: backup(),
            changed: false,
        },
    );
    // renewed at the first redraw 30 s after the last run started
    h.run_until(70_499);
    assert_eq!(refreshes(&h), vec![0, 40_500]);
    h.run_until(71_000);
    assert_eq!(refreshes(&h), vec![0, 40_500, 71_000]);
}

#[test]
fn the_next_page_is_prepared_and_a_dark_screen_runs_nothing() {
    let mut h = Harness::new(
        custom_rules(vec![PageKind::Info, PageKind::Custom(backup())]),
        false,
    );
    assert_eq!(refreshes(&h), vec![0], "next after info: prepared");
    // (between two of the once-a-second redraws)
    h.input(
        2_500,
        Input::PageRefreshed {
            name: backup(),
            changed: true,
        },
    );
    let drawn = h.log.iter().any(|(t, e)| *t == 2_500 && *e == Effect::Draw);
    assert!(!drawn, "not shown: nothing to redraw");
    // the screen goes dark at 15 s; inputs while dark run nothing
    h.run_until(20_000);
    assert!(!h.panel.screen_is_on());
    for t in (40_000..600_000).step_by(20_000) {
        h.input(t, Input::UnitFailed(format!("unit{t}.service")));
        h.run_until(t + 10_000);
    }
    assert_eq!(refreshes(&h), vec![0], "ran while the screen was off");
    // a press wakes the screen: older than 30 s, it runs again at once
    h.press(700_000, 100);
    assert_eq!(refreshes(&h), vec![0, 700_030]);
}

#[test]
fn no_page_command_runs_while_an_action_screen_is_up() {
    let rules = Rules {
        screen_timeout: None,
        ..custom_rules(vec![PageKind::Info, PageKind::Custom(backup())])
    };
    let mut h = Harness::new(rules, false);
    h.input(
        500,
        Input::PageRefreshed {
            name: backup(),
            changed: true,
        },
    );
    // a reboot: its screen stays up for the settle time (120 s)
    h.press(1_000, 9_000);
    h.run_until(10_500);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
    for t in (20_000..100_000).step_by(5_000) {
        h.input(t, Input::IpKnown(true));
        h.run_until(t + 4_000);
    }
    assert_eq!(
        refreshes(&h),
        vec![0],
        "the backup page, next after info, ran during the action screen"
    );
}
