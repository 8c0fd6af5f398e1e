//! Which of the core's events go to `P/N/event`, in the simulator's JSON
//! (`core::Event`'s own serialisation), with what MQTT adds: how long a
//! press was held, and the countdowns MQTT itself started.

use serde_json::{Map, Value};

use crate::core::{Event, Time};

/// Follows the core's events and says which to publish. It keeps one
/// thing: when the button went down, since `press` goes out at the release
/// with `held_s` (the core's `Press` is the edge down, before the length
/// is known).
#[derive(Debug, Clone, Default)]
pub struct EventFeed {
    pressed_at: Option<Time>,
}

impl EventFeed {
    /// A feed that has seen no press.
    pub fn new() -> EventFeed {
        EventFeed::default()
    }

    /// The `P/N/event` payload for `event`, reported by the core at `now`
    /// (the time `step` was given), or `None` when it is not published.
    /// Every event must come through here, `Press` and `Release` included.
    pub fn payload(&mut self, event: &Event, now: Time) -> Option<String> {
        match event {
            Event::Press => {
                self.pressed_at = Some(now);
                None
            }
            Event::Release => {
                let held = now.saturating_sub(self.pressed_at.take()?);
                let held_s = (held.as_secs_f64() * 10.0).round() / 10.0;
                Some(with(&Event::Press, [("held_s", held_s.into())]))
            }
            Event::Reboot
            | Event::Shutdown
            | Event::Cancelled
            | Event::ActionFailed { .. }
            | Event::Attention { .. }
            | Event::AttentionCleared
            | Event::Acknowledged { .. }
            | Event::Identify { .. }
            | Event::IdentifyEnd
            | Event::RemoteArmed { .. } => Some(with(event, [])),
            // the button's own hold stages are seen on the LED and end in
            // `reboot` / `shutdown` / `cancelled`; the rest is the panel's
            // own business (screen, pages, display health) or the broker's
            // own news (`mqtt_connected`, `command`, `rack`)
            Event::Started
            | Event::ScreenOn
            | Event::ScreenOff
            | Event::Page(_)
            | Event::RebootArmed
            | Event::ShutdownArmed
            | Event::DisplayLost
            | Event::DisplayRestored
            | Event::Led(_)
            | Event::MqttConnected
            | Event::MqttDisconnected { .. }
            | Event::Command { .. }
            | Event::Rack { .. }
            | Event::Stopped => None,
        }
    }
}

/// `event`'s JSON with `extra` fields after its own.
fn with<const N: usize>(event: &Event, extra: [(&str, Value); N]) -> String {
    let mut fields = match serde_json::to_value(event) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    for (key, value) in extra {
        fields.insert(key.into(), value);
    }
    Value::Object(fields).to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::core::{AttentionSource, Level, PageKind, PowerAction};

    fn ms(ms: u64) -> Time {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_press_goes_out_at_its_release_with_how_long_it_was_held() {
        let mut feed = EventFeed::new();
        assert_eq!(feed.payload(&Event::Press, ms(1_000)), None);
        assert_eq!(feed.payload(&Event::ScreenOn, ms(1_000)), None);
        assert_eq!(
            feed.payload(&Event::Release, ms(1_340)).as_deref(),
            Some(r#"{"event":"press","held_s":0.3}"#)
        );
        // a release without a press seen (held at start) says nothing
        assert_eq!(feed.payload(&Event::Release, ms(2_000)), None);
    }

    #[test]
    fn a_long_hold_is_a_press_held_past_the_stages_and_the_reboot() {
        let mut feed = EventFeed::new();
        let timeline = [
            (0, Event::Press),
            (8_000, Event::RebootArmed),
            (8_000, Event::Led(crate::core::LedPattern::Blink1Hz)),
            (9_000, Event::Release),
            (9_000, Event::Reboot),
        ];
        let sent: Vec<String> = timeline
            .iter()
            .filter_map(|(at, event)| feed.payload(event, ms(*at)))
            .collect();
        assert_eq!(
            sent,
            [r#"{"event":"press","held_s":9.0}"#, r#"{"event":"reboot"}"#]
        );
    }

    #[test]
    fn the_events_of_the_spec_go_out_as_the_simulator_writes_them() {
        let mut feed = EventFeed::new();
        let json = |event: Event| serde_json::to_string(&event).unwrap();
        for event in [
            Event::Reboot,
            Event::Shutdown,
            Event::Cancelled,
            Event::ActionFailed {
                action: PowerAction::Reboot,
                reason: "polkit said no".into(),
            },
            Event::Attention {
                source: AttentionSource::Notify,
                level: Level::Warn,
                text: "disk full".into(),
            },
            Event::AttentionCleared,
            Event::Acknowledged { text: "hi".into() },
            Event::Identify { seconds: 60 },
            Event::IdentifyEnd,
        ] {
            assert_eq!(
                feed.payload(&event, ms(0)),
                Some(json(event.clone())),
                "{event:?}"
            );
        }
        for quiet in [
            Event::Started,
            Event::ScreenOff,
            Event::Page(PageKind::Network),
            Event::RebootArmed,
            Event::ShutdownArmed,
            Event::DisplayLost,
            Event::DisplayRestored,
            Event::MqttConnected,
            Event::MqttDisconnected {
                reason: "refused".into(),
            },
            Event::Command { name: "identify" },
            Event::Rack { up: 7, total: 8 },
            Event::Stopped,
        ] {
            assert_eq!(feed.payload(&quiet, ms(0)), None, "{quiet:?}");
        }
    }

    #[test]
    fn a_countdown_started_from_mqtt_says_so() {
        let mut feed = EventFeed::new();
        let armed = |action| Event::RemoteArmed { action };
        assert_eq!(
            feed.payload(&armed(PowerAction::Reboot), ms(0)).as_deref(),
            Some(r#"{"event":"reboot_armed","source":"mqtt"}"#)
        );
        assert_eq!(
            feed.payload(&armed(PowerAction::Shutdown), ms(0))
                .as_deref(),
            Some(r#"{"event":"shutdown_armed","source":"mqtt"}"#)
        );
    }
}
