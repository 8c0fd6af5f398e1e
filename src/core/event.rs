//! What the panel reports: the events of the logs and of the simulator's
//! JSON Lines (`{"event": name, …details}`). An event's name is written
//! once, in [`Event::name`]; the JSON takes it from there.

use serde::ser::{SerializeMap, Serializer};

use super::{AttentionSource, LedPattern, Level, PageKind, PowerAction};

/// Something observable that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The firmware started (reported by the runtime).
    Started,
    /// A debounced press.
    Press,
    /// A debounced release.
    Release,
    /// The display was switched on.
    ScreenOn,
    /// The display was switched off.
    ScreenOff,
    /// Another page is shown.
    Page(PageKind),
    /// Held to the reboot stage.
    RebootArmed,
    /// Held to the shutdown stage.
    ShutdownArmed,
    /// Held to the cancel stage.
    Cancelled,
    /// The reboot command is started.
    Reboot,
    /// The power-off command is started.
    Shutdown,
    /// A power command failed.
    ActionFailed {
        action: PowerAction,
        /// The command's own account of the failure.
        reason: String,
    },
    /// The display stopped answering.
    DisplayLost,
    /// The display answers again.
    DisplayRestored,
    /// The LED pattern changed.
    Led(LedPattern),
    /// Something needs a look: a unit failed, or a message arrived.
    Attention {
        source: AttentionSource,
        /// `error` for a failed unit.
        level: Level,
        /// The unit's name or the message.
        text: String,
    },
    /// Nothing is listed for attention any more.
    AttentionCleared,
    /// A press acknowledged this message on the screen.
    Acknowledged { text: String },
    /// Identify started (or was extended) for `seconds`.
    Identify { seconds: u64 },
    /// Identify ended.
    IdentifyEnd,
    /// A power command from the broker started its countdown (SPEC §9).
    RemoteArmed { action: PowerAction },
    /// The broker took the connection.
    MqttConnected,
    /// The connection to the broker was lost or refused.
    MqttDisconnected { reason: String },
    /// A command from the broker was taken.
    Command { name: &'static str },
    /// The rack's count changed: `up` of `total` nodes online.
    Rack { up: usize, total: usize },
    /// The firmware stopped.
    Stopped,
}

impl Event {
    /// The event's name, in logs and in the simulator's JSON Lines.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Started => "started",
            Event::Press => "press",
            Event::Release => "release",
            Event::ScreenOn => "screen_on",
            Event::ScreenOff => "screen_off",
            Event::Page(_) => "page",
            Event::RebootArmed => "reboot_armed",
            Event::ShutdownArmed => "shutdown_armed",
            Event::Cancelled => "cancelled",
            Event::Reboot => "reboot",
            Event::Shutdown => "shutdown",
            Event::ActionFailed { .. } => "action_failed",
            Event::DisplayLost => "display_lost",
            Event::DisplayRestored => "display_restored",
            Event::Led(_) => "led",
            Event::Attention { .. } => "attention",
            Event::AttentionCleared => "attention_cleared",
            Event::Acknowledged { .. } => "acknowledged",
            Event::Identify { .. } => "identify",
            Event::IdentifyEnd => "identify_end",
            Event::RemoteArmed {
                action: PowerAction::Reboot,
            } => "reboot_armed",
            Event::RemoteArmed {
                action: PowerAction::Shutdown,
            } => "shutdown_armed",
            Event::MqttConnected => "mqtt_connected",
            Event::MqttDisconnected { .. } => "mqtt_disconnected",
            Event::Command { .. } => "command",
            Event::Rack { .. } => "rack",
            Event::Stopped => "stopped",
        }
    }
}

/// `{"event": name}`, then the details in the order they are declared.
impl serde::Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = serializer.serialize_map(None)?;
        fields.serialize_entry("event", self.name())?;
        match self {
            Event::Page(page) => fields.serialize_entry("name", page)?,
            Event::Led(pattern) => fields.serialize_entry("pattern", pattern)?,
            Event::ActionFailed { action, reason } => {
                fields.serialize_entry("action", action)?;
                fields.serialize_entry("reason", reason)?;
            }
            Event::Attention {
                source,
                level,
                text,
            } => {
                fields.serialize_entry("source", source)?;
                fields.serialize_entry("level", level)?;
                fields.serialize_entry("text", text)?;
            }
            Event::Acknowledged { text } => fields.serialize_entry("text", text)?,
            Event::Identify { seconds } => fields.serialize_entry("seconds", seconds)?,
            Event::RemoteArmed { .. } => fields.serialize_entry("source", "mqtt")?,
            Event::MqttDisconnected { reason } => fields.serialize_entry("reason", reason)?,
            Event::Command { name } => {
                fields.serialize_entry("source", "mqtt")?;
                fields.serialize_entry("name", name)?;
            }
            Event::Rack { up, total } => {
                fields.serialize_entry("up", up)?;
                fields.serialize_entry("total", total)?;
            }
            Event::Started
            | Event::MqttConnected
            | Event::Press
            | Event::Release
            | Event::ScreenOn
            | Event::ScreenOff
            | Event::RebootArmed
            | Event::ShutdownArmed
            | Event::Cancelled
            | Event::Reboot
            | Event::Shutdown
            | Event::DisplayLost
            | Event::DisplayRestored
            | Event::AttentionCleared
            | Event::IdentifyEnd
            | Event::Stopped => {}
        }
        fields.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(event: Event) -> String {
        serde_json::to_string(&event).unwrap()
    }

    #[test]
    fn the_name_comes_first_then_the_details_in_order() {
        assert_eq!(json(Event::Started), r#"{"event":"started"}"#);
        assert_eq!(
            json(Event::Page(PageKind::System)),
            r#"{"event":"page","name":"system"}"#
        );
        assert_eq!(
            json(Event::Led(LedPattern::Blink1Hz)),
            r#"{"event":"led","pattern":"blink-1hz"}"#
        );
        assert_eq!(
            json(Event::ActionFailed {
                action: PowerAction::Shutdown,
                reason: "exit status 1".into()
            }),
            r#"{"event":"action_failed","action":"shutdown","reason":"exit status 1"}"#
        );
        assert_eq!(
            json(Event::Attention {
                source: AttentionSource::Notify,
                level: Level::Warn,
                text: "disk \"full\"".into()
            }),
            r#"{"event":"attention","source":"notify","level":"warn","text":"disk \"full\""}"#
        );
        assert_eq!(
            json(Event::Acknowledged { text: "hi".into() }),
            r#"{"event":"acknowledged","text":"hi"}"#
        );
        assert_eq!(
            json(Event::Identify { seconds: 60 }),
            r#"{"event":"identify","seconds":60}"#
        );
    }
}
