//! The rack over MQTT as timelines (SPEC §9): the connection, commands, the
//! power countdown that a press cancels, when the state goes out, and the
//! rack page.

use std::time::Duration;

use rackpi_panel::core::{
    AttentionSource, Command, Effect, Event, Input, LedPattern, Level, MqttRules, PageKind,
    PeerState, PeerUpdate, PowerAction, Rules, View,
};

use crate::common::Harness;

fn rules(allow_power: bool, rack_attention: bool) -> Rules {
    Rules {
        pages: vec![PageKind::Info, PageKind::Rack, PageKind::System],
        mqtt: Some(MqttRules {
            node: "pi-1".into(),
            publish_every: Duration::from_secs(60),
            rack_attention,
            power_countdown: allow_power.then(|| Duration::from_secs(10)),
        }),
        ..Rules::default()
    }
}

fn publishes(h: &Harness) -> Vec<u64> {
    h.log
        .iter()
        .filter(|(_, e)| *e == Effect::PublishState)
        .map(|(t, _)| *t)
        .collect()
}

fn ran_power(h: &Harness) -> Vec<(u64, PowerAction)> {
    h.log
        .iter()
        .filter_map(|(t, e)| match e {
            Effect::RunPower(a) => Some((*t, *a)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_reboot_from_mqtt_counts_down_lit_and_blinking_then_runs() {
    let mut h = Harness::new(rules(true, false), false);
    h.run_until(30_000);
    assert!(!h.panel.screen_is_on());
    h.input(31_000, Input::Command(Command::Power(PowerAction::Reboot)));
    assert!(h
        .events()
        .contains(&(31_000, Event::Command { name: "reboot" })));
    assert!(h.events().contains(&(
        31_000,
        Event::RemoteArmed {
            action: PowerAction::Reboot
        }
    )));
    assert!(h.panel.screen_is_on(), "the panel lights for the countdown");
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink1Hz);
    h.run_until(34_000);
    assert_eq!(
        h.panel.view(),
        View::Countdown {
            action: PowerAction::Reboot,
            seconds_left: 7
        }
    );
    h.run_until(40_999);
    assert!(ran_power(&h).is_empty());
    h.run_until(41_000);
    assert_eq!(ran_power(&h), vec![(41_000, PowerAction::Reboot)]);
    assert!(h.events().contains(&(41_000, Event::Reboot)));
}

#[test]
fn a_press_during_the_countdown_cancels_it_and_nothing_runs() {
    let mut h = Harness::new(rules(true, false), false);
    h.input(1_000, Input::Command(Command::Power(PowerAction::Shutdown)));
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink4Hz);
    h.press(5_000, 100);
    h.run_until(60_000);
    assert!(ran_power(&h).is_empty());
    assert!(h.events().contains(&(5_030, Event::Cancelled)));
    assert_eq!(h.count(&Event::Shutdown), 0);
    assert_ne!(h.panel.led_pattern(), LedPattern::Blink4Hz);
}

#[test]
fn cancel_from_mqtt_stops_the_countdown() {
    let mut h = Harness::new(rules(true, false), false);
    h.input(1_000, Input::Command(Command::Power(PowerAction::Reboot)));
    h.input(2_000, Input::Command(Command::CancelPower));
    h.run_until(30_000);
    assert!(ran_power(&h).is_empty());
    assert_eq!(h.count(&Event::Cancelled), 1);
}

#[test]
fn without_allow_power_a_power_command_does_nothing() {
    let mut h = Harness::new(rules(false, false), false);
    h.run_until(20_000);
    h.input(21_000, Input::Command(Command::Power(PowerAction::Reboot)));
    h.run_until(60_000);
    assert!(ran_power(&h).is_empty());
    assert!(!h.panel.screen_is_on());
    assert_eq!(h.count(&Event::Command { name: "reboot" }), 0);
}

#[test]
fn a_power_command_while_the_button_is_held_is_dropped() {
    let mut h = Harness::new(rules(true, false), false);
    h.level(1_000, true);
    h.input(2_000, Input::Command(Command::Power(PowerAction::Reboot)));
    h.level(3_000, false);
    h.run_until(30_000);
    assert!(ran_power(&h).is_empty());
}

#[test]
fn identify_and_notify_from_mqtt_act_as_their_commands_do() {
    let mut h = Harness::new(rules(false, false), false);
    h.input(
        1_000,
        Input::Command(Command::Identify {
            lasts: Duration::from_secs(5),
        }),
    );
    assert_eq!(h.panel.led_pattern(), LedPattern::Blink5Hz);
    h.input(
        2_000,
        Input::Command(Command::Notify {
            level: Level::Warn,
            text: "backup late".into(),
            lasts: None,
        }),
    );
    h.run_until(7_000);
    assert_eq!(h.count(&Event::Command { name: "identify" }), 1);
    assert_eq!(h.count(&Event::Command { name: "notify" }), 1);
    assert_eq!(h.count(&Event::IdentifyEnd), 1);
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
}

#[test]
fn the_state_goes_out_at_connect_every_publish_s_and_soon_after_a_change() {
    let mut h = Harness::new(rules(false, false), false);
    h.run_until(10_000);
    assert!(publishes(&h).is_empty(), "nothing while not connected");
    h.input(10_000, Input::MqttConnected);
    h.run_until(10_000);
    assert_eq!(publishes(&h), vec![10_000]);
    h.run_until(70_000);
    assert_eq!(publishes(&h), vec![10_000, 70_000]);
    // a change (the LED) goes out a second after the last at the earliest
    h.input(70_500, Input::UnitFailed("a.service".into()));
    h.run_until(75_000);
    assert_eq!(publishes(&h), vec![10_000, 70_000, 71_000]);
    h.input(
        80_000,
        Input::MqttDisconnected {
            reason: "gone".into(),
        },
    );
    h.run_until(300_000);
    assert_eq!(publishes(&h), vec![10_000, 70_000, 71_000]);
}

fn peer(node: &str, update: PeerUpdate) -> Input {
    Input::Peer {
        node: node.into(),
        update,
    }
}

fn state(attention: bool, temp: f32) -> PeerUpdate {
    PeerUpdate::State(PeerState {
        attention,
        attention_text: attention
            .then(|| "disk full".to_string())
            .into_iter()
            .collect(),
        temp_c: Some(temp),
    })
}

#[test]
fn the_rack_page_counts_the_nodes_and_a_press_scrolls_it() {
    let mut h = Harness::new(rules(false, false), false);
    for (i, name) in ["pi-1", "pi-2", "pi-3", "pi-4"].iter().enumerate() {
        h.input(
            100 + i as u64,
            peer(name, PeerUpdate::Availability(Some(true))),
        );
        h.input(200 + i as u64, peer(name, state(false, 40.0 + i as f32)));
    }
    h.input(300, peer("pi-2", PeerUpdate::Availability(Some(false))));
    assert!(h.events().contains(&(300, Event::Rack { up: 3, total: 4 })));
    h.press(1_000, 100);
    h.run_until(1_500);
    assert_eq!(
        h.panel.view(),
        View::Rack {
            up: 3,
            total: 4,
            lines: vec![
                "pi-2 offline".into(),
                "pi-4 43°C".into(),
                "pi-3 42°C".into(),
                "pi-1 40°C".into()
            ],
            first: 0
        }
    );
    h.press(2_000, 100);
    h.run_until(2_500);
    assert!(matches!(h.panel.view(), View::Rack { first: 2, .. }));
    h.press(3_000, 100);
    h.run_until(3_500);
    assert_eq!(
        h.panel.page(),
        PageKind::System,
        "past the last line: the next page"
    );
}

#[test]
fn with_rack_attention_a_peer_offline_lights_this_panels_led() {
    let mut h = Harness::new(rules(false, true), false);
    h.input(100, peer("pi-2", PeerUpdate::Availability(Some(true))));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    h.input(200, peer("pi-2", PeerUpdate::Availability(Some(false))));
    assert_eq!(h.panel.led_pattern(), LedPattern::TripleBlink);
    assert!(h.events().contains(&(
        200,
        Event::Attention {
            source: AttentionSource::Rack,
            level: Level::Warn,
            text: "pi-2 offline".into()
        }
    )));
    h.input(300, peer("pi-2", PeerUpdate::Availability(Some(true))));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
    // this panel's own node offline (its will, seen late) is no peer's
    h.input(400, peer("pi-1", PeerUpdate::Availability(Some(false))));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
}

#[test]
fn without_rack_attention_peers_never_light_the_led() {
    let mut h = Harness::new(rules(false, false), false);
    h.input(200, peer("pi-2", PeerUpdate::Availability(Some(false))));
    h.input(300, peer("pi-3", state(true, 50.0)));
    assert_eq!(h.panel.led_pattern(), LedPattern::On);
}
