//! What the daemon says about the panel: one log line per state change, and
//! systemd's status line (the display's health, the last power action).

use crate::app::ports::Reporter;
use crate::core::{AttentionSource, Event, Time};

/// Logs one line per state change and keeps systemd's status line current.
pub(super) struct DaemonReporter {
    display: &'static str,
    last_action: String,
}

impl DaemonReporter {
    /// At start: the display taken as working, no action yet.
    pub(super) fn new() -> Self {
        DaemonReporter {
            display: "ok",
            last_action: "no action yet".into(),
        }
    }

    fn status(&self) {
        let line = format!("display {}; {}", self.display, self.last_action);
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Status(&line)]);
    }
}

impl Reporter for DaemonReporter {
    fn event(&mut self, _at: Time, event: &Event) {
        match event {
            Event::Led(pattern) => log::debug!("LED {}", pattern.name()),
            Event::Page(page) => log::debug!("page {}", page.name()),
            Event::Press | Event::Release | Event::ScreenOn | Event::ScreenOff => {
                log::debug!("{}", event.name())
            }
            Event::RebootArmed => log::info!("button held: release now to reboot"),
            Event::ShutdownArmed => log::info!("button held: release now to shut down"),
            Event::Cancelled => log::info!("cancelled"),
            Event::RemoteArmed { action } => log::warn!(
                "{} from MQTT: the panel counts down, a press cancels",
                action.name()
            ),
            Event::MqttConnected => log::info!("connected to the MQTT broker"),
            // (the link logs each cause once; the event is for the simulator)
            Event::MqttDisconnected { .. } => {}
            Event::Command { name } => log::info!("command from MQTT: {name}"),
            Event::Rack { up, total } => log::debug!("rack: {up}/{total} up"),
            Event::Reboot | Event::Shutdown => {
                log::warn!("{} requested from the front panel", event.name());
                self.last_action = format!("{} started", event.name());
                self.status();
            }
            Event::ActionFailed { action, reason } => {
                log::error!("{} failed: {reason}", action.name());
                self.last_action = format!("{} failed: {reason}", action.name());
                self.status();
            }
            Event::DisplayLost => {
                self.display = "lost (retrying)";
                self.status();
            }
            Event::DisplayRestored => {
                self.display = "ok";
                self.status();
            }
            Event::Attention {
                source,
                level,
                text,
            } => match source {
                AttentionSource::Unit => log::warn!("unit failed: {text}"),
                // (the core has made the text one line: control characters are spaces)
                AttentionSource::Notify => log::info!("message ({}): {text}", level.name()),
                other => log::warn!("{} ({}): {text}", other.name(), level.name()),
            },
            Event::AttentionCleared => log::info!("nothing needs attention any more"),
            Event::Acknowledged { text } => log::info!("acknowledged on the panel: {text}"),
            Event::Identify { seconds } => log::info!("identify for {seconds} s"),
            Event::IdentifyEnd => log::info!("identify ended"),
            Event::Started => log::info!("started"),
            Event::Stopped => log::info!("stopped"),
        }
    }
}
