//! Behaviour the mutation tests of the core showed no other test pinned
//! down: a reload's new rules take effect at once, the display's health as
//! the panel reports it, and the names the events and logs carry.

use std::time::Duration;

use rackpi_panel::core::{Input, PageKind, PowerAction, Rules};

use crate::common;

use common::Harness;

#[test]
fn a_reload_with_new_thresholds_applies_to_the_next_press() {
    let mut h = Harness::default();
    h.panel.set_rules(Rules {
        reboot_after: Duration::from_secs(3),
        shutdown_after: Duration::from_secs(5),
        cancel_after: Duration::from_secs(7),
        ..Default::default()
    });
    h.press(1_000, 3_500);
    h.run_until(6_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

#[test]
fn a_reload_with_fewer_pages_keeps_the_page_shown_within_them() {
    let mut h = Harness::default();
    h.press(1_000, 100);
    h.press(2_000, 100);
    h.run_until(2_500);
    assert_eq!(h.panel.page(), PageKind::Network);
    h.panel.set_rules(Rules {
        pages: vec![PageKind::Info, PageKind::System],
        ..Default::default()
    });
    assert_ne!(h.panel.page(), PageKind::Network);
    h.press(3_000, 100);
    h.press(4_000, 100);
    h.run_until(4_500);
    let shown: Vec<_> = h
        .events()
        .into_iter()
        .filter_map(|(t, e)| match e {
            rackpi_panel::core::Event::Page(p) if t >= 3_000 => Some(p),
            _ => None,
        })
        .collect();
    assert!(shown.iter().all(|p| *p != PageKind::Network), "{shown:?}");
}

#[test]
fn the_panel_knows_when_its_display_stops_and_starts_answering() {
    let mut h = Harness::default();
    assert!(h.panel.display_answers());
    h.input(1_000, Input::DisplayHealth(false));
    assert!(!h.panel.display_answers());
    h.input(2_000, Input::DisplayHealth(true));
    assert!(h.panel.display_answers());
}

#[test]
fn actions_and_pages_have_the_names_the_events_use() {
    assert_eq!(PowerAction::Reboot.name(), "reboot");
    assert_eq!(PowerAction::Shutdown.name(), "shutdown");
    let names: Vec<_> = PageKind::ALL.iter().map(|p| p.name()).collect();
    assert_eq!(names, ["info", "system", "network"]);
}

#[test]
fn a_reload_during_a_hold_never_changes_what_its_release_does() {
    use rackpi_panel::core::Event;
    let later = Rules {
        reboot_after: Duration::from_secs(15),
        shutdown_after: Duration::from_secs(30),
        cancel_after: Duration::from_secs(60),
        ..Default::default()
    };
    // shown "release now to shut down", reloaded, released: shuts down
    let mut h = Harness::default();
    h.level(1_000, true);
    h.run_until(14_000);
    h.panel.set_rules(later.clone());
    h.level(15_000, false);
    h.run_until(16_000);
    assert_eq!(h.actions(), vec![PowerAction::Shutdown]);
    // cancelled, reloaded with a later cancel, released: nothing
    let mut h = Harness::default();
    h.level(1_000, true);
    h.run_until(22_500);
    assert_eq!(h.count(&Event::Cancelled), 1);
    h.panel.set_rules(later.clone());
    h.level(22_500, false);
    h.run_until(30_000);
    assert_eq!(h.actions(), vec![]);
    // and the next press goes by the new rules
    h.press(31_000, 9_000);
    h.run_until(45_000);
    assert_eq!(h.actions(), vec![]);
    h.press(50_000, 16_000);
    h.run_until(70_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

#[test]
fn a_failure_and_a_dry_run_return_are_drawn_at_once() {
    use rackpi_panel::core::Effect;
    let mut h = Harness::default();
    h.press(1_000, 9_000);
    h.run_until(10_100);
    h.input(10_100, Input::ActionDone(Err("refused".into())));
    assert!(h.log.contains(&(10_100, Effect::Draw)), "{:?}", h.log);
    let mut h = Harness::new(
        Rules {
            settle: Duration::ZERO,
            ..Default::default()
        },
        false,
    );
    h.press(1_000, 9_000);
    h.run_until(10_100);
    h.input(10_100, Input::ActionDone(Ok(())));
    assert!(h.log.contains(&(10_100, Effect::Draw)), "{:?}", h.log);
}

#[test]
fn edges_lost_in_a_stage_cancel_it_visibly_and_in_a_short_press_quietly() {
    use rackpi_panel::core::{Effect, Event, View};
    let mut h = Harness::default();
    h.level(1_000, true);
    h.run_until(9_500);
    h.input(9_600, Input::EdgesLost { pressed: true });
    assert!(h.events().contains(&(9_600, Event::Cancelled)));
    assert!(h.events().contains(&(9_600, Event::Release)));
    assert!(
        h.log.contains(&(9_600, Effect::Draw)),
        "the stage screen goes"
    );
    assert!(matches!(h.panel.view(), View::Page { .. }));
    // a short press in progress: dropped, but nothing was shown to cancel
    let mut h = Harness::default();
    h.level(1_000, true);
    h.run_until(2_000);
    h.input(2_000, Input::EdgesLost { pressed: true });
    assert_eq!(h.count(&Event::Cancelled), 0);
    assert!(h.events().contains(&(2_000, Event::Release)));
}

#[test]
fn entering_a_stage_with_the_screen_on_redraws_without_switching_it_on_again() {
    use rackpi_panel::core::{Effect, Event};
    // pressed half-way between two refreshes: the stage is drawn when it
    // begins, and its countdown ticks on whole seconds of the hold
    let mut h = Harness::default();
    h.level(1_500, true);
    h.run_until(11_000);
    assert!(h.events().contains(&(9_500, Event::RebootArmed)));
    assert_eq!(h.count(&Event::ScreenOn), 1, "only the one at start");
    assert!(h.log.contains(&(9_500, Effect::Draw)));
    assert!(h.log.contains(&(10_500, Effect::Draw)));
    assert_eq!(
        h.log
            .iter()
            .filter(|(_, e)| *e == Effect::DisplayPower(true))
            .count(),
        1
    );
}

#[test]
fn led_patterns_have_the_names_the_logs_and_events_use() {
    use rackpi_panel::core::LedPattern;
    let names: Vec<_> = [
        LedPattern::Off,
        LedPattern::On,
        LedPattern::Blink1Hz,
        LedPattern::Blink4Hz,
        LedPattern::Blink5Hz,
        LedPattern::TripleBlink,
        LedPattern::DoubleBlink,
    ]
    .iter()
    .map(|p| p.name())
    .collect();
    assert_eq!(
        names,
        [
            "off",
            "on",
            "blink-1hz",
            "blink-4hz",
            "blink-5hz",
            "triple-blink",
            "double-blink"
        ]
    );
}

#[test]
fn after_a_lost_release_the_next_press_is_a_press_of_its_own() {
    // held since 1 s; the release was lost and the line reads "up": the
    // next press and 9 s hold must count from their own edge
    let mut h = Harness::default();
    h.level(1_000, true);
    h.run_until(3_000);
    h.input(3_000, Input::EdgesLost { pressed: false });
    h.press(5_000, 9_000);
    h.run_until(15_000);
    assert_eq!(h.actions(), vec![PowerAction::Reboot]);
}

#[test]
fn taps_cycle_through_the_pages_and_wrap_round() {
    use rackpi_panel::core::Event;
    let mut h = Harness::default();
    for (i, t) in [1_000, 2_000, 3_000, 4_000].into_iter().enumerate() {
        h.press(t, 100);
        h.run_until(t + 500);
        let expected = [
            PageKind::System,
            PageKind::Network,
            PageKind::Info,
            PageKind::System,
        ][i];
        assert_eq!(h.panel.page(), expected, "after tap {}", i + 1);
    }
    assert_eq!(
        h.count(&Event::Page(PageKind::Info)),
        2,
        "the start and the wrap"
    );
}

#[test]
fn an_address_known_again_and_again_does_not_hold_the_screen_on() {
    use rackpi_panel::core::Event;
    // the runtime reports the address after every draw: by default that
    // must not restart the screen timeout
    let mut h = Harness::default();
    for t in [1_000, 5_000, 10_000, 14_000] {
        h.input(t, Input::IpKnown(true));
    }
    h.run_until(20_000);
    assert!(
        h.events().contains(&(15_000, Event::ScreenOff)),
        "{:?}",
        h.events()
    );
    // with show_until_ip the wait ends once, at the first address
    let mut h = Harness::new(
        Rules {
            show_until_ip: true,
            ..Default::default()
        },
        false,
    );
    h.input(1_000, Input::IpKnown(false));
    h.input(2_000, Input::IpKnown(true));
    for t in [5_000, 10_000, 15_000] {
        h.input(t, Input::IpKnown(true));
    }
    h.run_until(30_000);
    assert!(
        h.events().contains(&(17_000, Event::ScreenOff)),
        "{:?}",
        h.events()
    );
}
