//! What the world tells the panel: button levels, answers to the panel's
//! own requests, systemd units, messages, and the time passing.

use std::time::Duration;

use super::{AttentionSource, Command, Condition, Level, PageName, PeerUpdate};

/// Something that happens to the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The button's raw level changed (or was read again).
    Button { pressed: bool },
    /// Nothing happened; a deadline passed.
    Tick,
    /// The power command finished (`Err` says why it failed).
    ActionDone(Result<(), String>),
    /// The kernel dropped button edges (its queue overflowed while the loop
    /// was stalled); the button is at `pressed` now. The press in progress,
    /// if any, can no longer be timed: it is dropped without acting.
    EdgesLost { pressed: bool },
    /// The display answered an initialisation (true) or a display operation
    /// failed (false).
    DisplayHealth(bool),
    /// Whether the machine has an IP address (for `show_until_ip`).
    IpKnown(bool),
    /// This systemd unit entered the failed state.
    UnitFailed(String),
    /// This systemd unit left the failed state (recovered, reset, unloaded).
    UnitRecovered(String),
    /// systemd's listing of every unit failed now (at start, or after the
    /// bus came back): units not in it have recovered.
    FailedUnitsListed(Vec<String>),
    /// A message from `rackpi-panel notify`.
    Notify {
        level: Level,
        /// Cut to [`MAX_TEXT`](super::MAX_TEXT) bytes.
        text: String,
        /// The message expires this long after it arrives (`--for`).
        lasts: Option<Duration>,
    },
    /// A source's standing condition holds (`Some`) or has ended (`None`):
    /// the UPS, the supply, the temperature, the rack. The adapter sends
    /// it when it changes; the same condition again changes nothing.
    Condition {
        source: AttentionSource,
        condition: Option<Condition>,
    },
    /// The SoC's temperature in °C, read every `poll_s` (`None`: it could
    /// not be read). The core decides the `temp` condition from it, with
    /// [`TEMP_HYSTERESIS_C`](super::TEMP_HYSTERESIS_C) of hysteresis.
    Temperature(Option<f32>),
    /// `rackpi-panel identify`: LED at 5 Hz and `IDENTIFY` on the screen
    /// for `lasts`; zero ends it.
    Identify { lasts: Duration },
    /// A custom page's refresh (asked for with
    /// [`Effect::RefreshPage`](super::Effect::RefreshPage)) has ended: its
    /// command finished or its file was read.
    PageRefreshed {
        name: PageName,
        /// Whether what the page shows is different now.
        changed: bool,
    },
    /// The MQTT broker took the panel's connection (SPEC §9).
    MqttConnected,
    /// The connection to the broker is lost or was refused.
    MqttDisconnected { reason: String },
    /// A command from the broker, taken as it arrived.
    Command(Command),
    /// What the broker says of a node of the rack (this one included).
    Peer { node: String, update: PeerUpdate },
    /// SIGTERM / SIGINT / `quit`.
    Stop,
}

impl Input {
    /// The Pi's supply is under-voltage now (`true`) or no longer: the
    /// `power` condition, *warn* `under-voltage` (SPEC §10).
    pub fn under_voltage(now: bool) -> Input {
        Input::Condition {
            source: AttentionSource::Power,
            condition: now.then(|| Condition {
                level: Level::Warn,
                text: "under-voltage".into(),
            }),
        }
    }
}
