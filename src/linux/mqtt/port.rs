//! The panel on the broker (SPEC §9): the runtime's [`BrokerPort`] over the
//! link. What goes out (the state, the events, Home Assistant's configs)
//! is handed to the link's queues; what comes in is turned into the core's
//! inputs by `crate::mqtt`, with the commands' rate limit and a log line
//! for each refusal. Nothing here waits: the link's thread does.

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::{link_settings, LinkEvent, MqttLink, Outgoing};
use crate::app::ports::{BrokerPort, PanelState};
use crate::config::MqttConfig;
use crate::core::{Command, Event, Input, Time};
use crate::linux::notify::limits::RateLimit;
use crate::mqtt::{arrival, discovery, Arrival, CommandPolicy, DiscoverySettings, EventFeed};
use crate::mqtt::{StateReport, Topics};
use crate::stats::Stats;

/// This program's version, in the state and the discovery configs.
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// A clean stop waits this long at most for `offline` to reach the broker.
pub(crate) const STOP_WITHIN: Duration = Duration::from_secs(2);
/// Refusals of arriving messages are logged at most this often (a flood
/// of bad messages must not flood the journal); the count is said.
const REFUSALS_LOGGED_EVERY: Duration = Duration::from_secs(10);

/// The runtime's broker port.
pub(crate) struct MqttPort {
    link: Option<MqttLink>,
    topics: Topics,
    policy: CommandPolicy,
    discovery: DiscoverySettings,
    discovery_on: bool,
    feed: EventFeed,
    /// Commands share the notify socket's rate (SPEC §9).
    commands: RateLimit,
    started: Instant,
    refusals: Refusals,
}

/// Refusals since the last line logged.
#[derive(Default)]
struct Refusals {
    last_logged: Option<Instant>,
    unsaid: u64,
}

impl Refusals {
    fn log(&mut self, why: &str) {
        let now = Instant::now();
        if self
            .last_logged
            .is_some_and(|at| now.duration_since(at) < REFUSALS_LOGGED_EVERY)
        {
            self.unsaid += 1;
            return;
        }
        match std::mem::take(&mut self.unsaid) {
            0 => log::warn!("mqtt: refused: {why}"),
            n => log::warn!("mqtt: refused: {why} (and {n} more refused since the last line)"),
        }
        self.last_logged = Some(now);
    }
}

/// The topics of `config` (its node name resolved).
fn topics(config: &MqttConfig) -> Topics {
    Topics {
        prefix: config.prefix.clone(),
        node: config.node_name(),
        discovery_prefix: config.discovery_prefix.clone(),
    }
}

/// What the panel follows: its commands, the rack (with `rack`), Home
/// Assistant's status (with `discovery`).
fn subscriptions(config: &MqttConfig, topics: &Topics) -> Vec<String> {
    let mut filters = vec![topics.commands_filter()];
    if config.rack {
        filters.push(topics.peers_availability_filter());
        filters.push(topics.peers_state_filter());
    }
    if config.discovery {
        filters.push(topics.home_assistant_status());
    }
    filters
}

fn availability(topics: &Topics, payload: &str) -> Outgoing {
    Outgoing {
        topic: topics.availability(),
        payload: payload.as_bytes().to_vec(),
        retain: true,
    }
}

impl MqttPort {
    /// Starts the link of `config` (which must have a `url`); `woken` gets
    /// a byte when something arrived. Errors name what is wrong (the
    /// password file, the CA file, the thread).
    pub(crate) fn start(config: &MqttConfig, woken: UnixStream) -> Result<MqttPort, String> {
        let topics = topics(config);
        let settings = link_settings(
            config,
            availability(&topics, "offline"),
            availability(&topics, "online"),
            subscriptions(config, &topics),
        )?;
        let link = MqttLink::start(settings, woken)
            .map_err(|err| format!("cannot start the MQTT link: {err}"))?;
        log::info!("mqtt: publishing as {} on {}", topics.node, config.url);
        Ok(MqttPort {
            link: Some(link),
            policy: CommandPolicy {
                allow_power: config.allow_power,
            },
            discovery: DiscoverySettings {
                prefix: config.prefix.clone(),
                node: topics.node.clone(),
                discovery_prefix: config.discovery_prefix.clone(),
                allow_power: config.allow_power,
                version: VERSION.into(),
            },
            discovery_on: config.discovery,
            topics,
            feed: EventFeed::new(),
            commands: RateLimit::new(Time::ZERO),
            started: Instant::now(),
            refusals: Refusals::default(),
        })
    }

    /// Says `offline` and disconnects, waiting at most [`STOP_WITHIN`].
    pub(crate) fn stop(&mut self) {
        if let Some(link) = self.link.take() {
            link.stop(STOP_WITHIN);
        }
    }

    /// Home Assistant's configs (or their removal), at each connect and
    /// when Home Assistant comes online.
    fn send_discovery(&mut self) {
        let Some(link) = self.link.as_mut() else {
            return;
        };
        let mut messages = discovery::removals(&self.discovery, self.discovery_on);
        if self.discovery_on {
            messages.extend(discovery::configs(&self.discovery));
        }
        for (topic, payload) in messages {
            link.publish_latest(Outgoing {
                topic,
                payload: payload.into_bytes(),
                retain: true,
            });
        }
    }

    /// A message from the broker, as an input, or refused with a log line.
    fn arrived(&mut self, topic: &str, payload: &[u8], retain: bool) -> Option<Input> {
        match arrival(&self.topics, self.policy, topic, payload, retain) {
            Ok(None) => None,
            Ok(Some(Arrival::ResendDiscovery)) => {
                self.send_discovery();
                None
            }
            // (`cancel` only stops a countdown: a flood that used up the
            // rate must not keep the owner from stopping a reboot)
            Ok(Some(Arrival::Input(input @ Input::Command(Command::CancelPower)))) => Some(input),
            Ok(Some(Arrival::Input(input @ Input::Command(_)))) => {
                if self.commands.allow(self.started.elapsed()) {
                    return Some(input);
                }
                self.refusals.log(&format!(
                    "a command on {topic}: too many commands, slow down"
                ));
                None
            }
            Ok(Some(Arrival::Input(input))) => Some(input),
            Err(why) => {
                // (a topic can be 64 KiB long, and other brokers than
                // Mosquitto pass control characters)
                self.refusals.log(&format!(
                    "{}: {why}",
                    crate::mqtt::shown(topic.as_bytes(), 128)
                ));
                None
            }
        }
    }
}

impl BrokerPort for MqttPort {
    fn event(&mut self, at: Time, event: &Event) {
        let Some(payload) = self.feed.payload(event, at) else {
            return;
        };
        if let Some(link) = self.link.as_mut() {
            link.publish_event(Outgoing {
                topic: self.topics.event(),
                payload: payload.into_bytes(),
                retain: false,
            });
        }
    }

    fn publish_state(&mut self, state: &PanelState, stats: &Stats) {
        let report = StateReport::new(
            stats,
            state.attention,
            state.attention_text.clone(),
            state.led,
            VERSION,
        );
        if let Some(link) = self.link.as_mut() {
            link.publish_latest(Outgoing {
                topic: self.topics.state(),
                payload: report.to_json().into_bytes(),
                retain: true,
            });
        }
    }

    fn poll(&mut self) -> Vec<Input> {
        let Some(link) = self.link.as_mut() else {
            return Vec::new();
        };
        let mut inputs = Vec::new();
        for event in link.receive() {
            match event {
                LinkEvent::Connected => {
                    self.send_discovery();
                    inputs.push(Input::MqttConnected);
                }
                LinkEvent::Disconnected { reason } => {
                    inputs.push(Input::MqttDisconnected { reason })
                }
                LinkEvent::Message {
                    topic,
                    payload,
                    retain,
                } => inputs.extend(self.arrived(&topic, &payload, retain)),
            }
        }
        inputs
    }
}

impl Drop for MqttPort {
    fn drop(&mut self) {
        self.stop();
    }
}
