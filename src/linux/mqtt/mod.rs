//! The MQTT transport of SPEC §9: one thread of its own runs rumqttc's
//! client (its event loop on a current-thread runtime) and keeps the link
//! to the broker; the loop hands it messages and takes what came without
//! ever waiting. Generic over topics: what they mean is `crate::mqtt`'s.
//!
//! QoS: what the panel publishes goes at QoS 1, so that the broker
//! acknowledges it and at most 8 messages are in flight — the rest wait
//! here, where only the latest per topic and 64 events are kept. The
//! subscriptions are QoS 0: a command arrives at most once (a reboot must
//! never be delivered twice, and one missed while the link is down must
//! not run late), and the peers' state is retained and comes again anyway.
//!
//! Packet sizes: the broker may send packets of up to
//! [`MAX_INCOMING_PACKET`] (1 MiB of payload and its topic). A payload over
//! [`MAX_INCOMING_PAYLOAD`] is read and dropped here with a log line; a
//! packet over the limit is refused by rumqttc from its header, before it
//! is read, and the connection is dropped and retried with backoff.
//! The panel's own messages are at most [`MAX_OUTGOING_PACKET`]; a bigger
//! one is refused with a log line rather than handed to rumqttc, which
//! would end the connection for it.

mod link_thread;
mod port;
mod probe;
mod queues;
mod reason;
mod settings;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use rumqttc::{Client, QoS};

pub(crate) use port::MqttPort;
pub(crate) use probe::probe;
pub(crate) use settings::{broker, link_settings};

use queues::{Inbox, Outbox};

/// The largest packet the broker may send (its remaining length).
pub(crate) const MAX_INCOMING_PACKET: usize = (1 << 20) + 4096;
/// The largest payload handed to the loop; bigger ones are dropped here.
pub(crate) const MAX_INCOMING_PAYLOAD: usize = 16 * 1024;
/// The largest packet the panel sends (discovery configs are the biggest).
pub(crate) const MAX_OUTGOING_PACKET: usize = 64 * 1024;
/// Messages handed to rumqttc and not yet taken by its event loop.
const CLIENT_CHANNEL: usize = 8;
/// QoS 1 messages sent and not yet acknowledged.
const INFLIGHT: u16 = 8;

/// A message for the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outgoing {
    pub topic: String,
    pub payload: Vec<u8>,
    pub retain: bool,
}

/// What the link's thread tells the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkEvent {
    /// The broker accepted the connection; the birth message and the
    /// subscriptions are on their way. Send the state again: the session
    /// is clean, so what was handed to the last connection just before it
    /// dropped may not have reached the broker.
    Connected,
    /// The link is down (after being up, or for a new cause while trying).
    Disconnected { reason: String },
    /// A message on a subscribed topic.
    Message {
        topic: String,
        payload: Vec<u8>,
        retain: bool,
    },
}

/// A password: never printed, not even by `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Where the broker is and how to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Broker {
    pub host: String,
    pub port: u16,
    /// `mqtts://`.
    pub tls: bool,
    /// PEM of the CA to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl Broker {
    /// `host:port`, as messages name it.
    pub fn address(&self) -> String {
        match self.host.contains(':') {
            true => format!("[{}]:{}", self.host, self.port),
            false => format!("{}:{}", self.host, self.port),
        }
    }
}

/// Everything the link needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkSettings {
    pub broker: Broker,
    pub client_id: String,
    pub keepalive: Duration,
    /// The Last Will: availability `offline`, retained.
    pub will: Outgoing,
    /// Sent after every CONNACK: availability `online`, retained.
    pub birth: Outgoing,
    /// Subscribed again after every CONNACK.
    pub subscriptions: Vec<String>,
}

/// What the loop and the link's thread share.
struct Shared {
    out: Mutex<OutState>,
    /// Wakes the thread from its wait between tries (to stop).
    stopping_cv: Condvar,
    inbox: Mutex<Inbox>,
}

struct OutState {
    outbox: Outbox,
    /// Between a CONNACK and the end of that connection.
    connected: bool,
    stopping: bool,
}

impl Shared {
    fn out(&self) -> MutexGuard<'_, OutState> {
        self.out
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn inbox(&self) -> MutexGuard<'_, Inbox> {
        self.inbox
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The link to the broker, held by the loop.
pub(crate) struct MqttLink {
    shared: Arc<Shared>,
    client: Client,
    will: Outgoing,
    thread: Option<JoinHandle<()>>,
    done: mpsc::Receiver<()>,
}

impl MqttLink {
    /// Starts the link's thread, which connects (and reconnects) by
    /// itself; `woken` gets a byte when `receive` has something. Fails only
    /// when the thread cannot be started or the CA file cannot be read.
    pub(crate) fn start(settings: LinkSettings, woken: UnixStream) -> io::Result<Self> {
        let (options, network) = link_thread::options(&settings)?;
        let (client, mut connection) = Client::new(options, CLIENT_CHANNEL);
        connection.eventloop.set_network_options(network);
        let shared = Arc::new(Shared {
            out: Mutex::new(OutState {
                outbox: Outbox::default(),
                connected: false,
                stopping: false,
            }),
            stopping_cv: Condvar::new(),
            inbox: Mutex::new(Inbox::default()),
        });
        let (done_tx, done) = mpsc::channel();
        let will = settings.will.clone();
        let runs = link_thread::Runs {
            shared: Arc::clone(&shared),
            client: client.clone(),
            settings,
            woken,
        };
        let thread = std::thread::Builder::new()
            .name("mqtt-link".into())
            .spawn(move || {
                runs.run(connection);
                let _ = done_tx.send(());
            })?;
        Ok(MqttLink {
            shared,
            client,
            will,
            thread: Some(thread),
            done,
        })
    }

    /// Sends `msg` as soon as the link allows; while it waits, a newer
    /// message for the same topic replaces it.
    pub(crate) fn publish_latest(&mut self, msg: Outgoing) {
        if acceptable(&msg) {
            let mut out = self.shared.out();
            out.outbox.put_latest(msg);
            hand_over(&mut out, &self.client);
        }
    }

    /// Queues `msg` (at most 64 wait; past that the oldest is dropped).
    pub(crate) fn publish_event(&mut self, msg: Outgoing) {
        if acceptable(&msg) {
            let mut out = self.shared.out();
            if out.outbox.put_event(msg) && out.outbox.dropped.is_power_of_two() {
                log::warn!(
                    "mqtt: {} events dropped so far: the queue of {} was full while the broker could not take them",
                    out.outbox.dropped,
                    queues::EVENT_QUEUE
                );
            }
            hand_over(&mut out, &self.client);
        }
    }

    /// What happened since the last call; never waits.
    pub(crate) fn receive(&mut self) -> Vec<LinkEvent> {
        self.shared.inbox().take()
    }

    /// Says `offline` on the will's topic, disconnects, and waits at most
    /// `within` for the thread (a broker that does not read is left to
    /// the process's exit, which closes the socket: the broker then
    /// publishes the will itself).
    pub(crate) fn stop(mut self, within: Duration) {
        self.begin_stop();
        match self.done.recv_timeout(within) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                log::warn!(
                    "mqtt: the link did not close within {within:?}; leaving it to the exit"
                );
            }
        }
    }

    fn begin_stop(&mut self) {
        let mut out = self.shared.out();
        if out.stopping {
            return;
        }
        out.stopping = true;
        if out.connected {
            // straight to the client, ahead of whatever still waits here
            let will = &self.will;
            let _ =
                self.client
                    .try_publish(&will.topic, QoS::AtLeastOnce, true, will.payload.clone());
            let _ = self.client.try_disconnect();
        }
        drop(out);
        self.shared.stopping_cv.notify_all();
    }
}

impl Drop for MqttLink {
    fn drop(&mut self) {
        self.begin_stop();
    }
}

/// Whether rumqttc can take `msg`: a topic without wildcards, a packet
/// within the limit. Otherwise it is logged and dropped.
fn acceptable(msg: &Outgoing) -> bool {
    if !rumqttc::valid_topic(&msg.topic) || msg.topic.contains('\0') {
        log::warn!(
            "mqtt: not publishing to {:?}: not a valid topic name",
            msg.topic
        );
        return false;
    }
    if msg.topic.len() + msg.payload.len() + 4 > MAX_OUTGOING_PACKET {
        log::warn!(
            "mqtt: not publishing {} bytes to {}: over the limit of {MAX_OUTGOING_PACKET}",
            msg.payload.len(),
            msg.topic
        );
        return false;
    }
    true
}

/// Hands what waits to rumqttc while connected, until its channel is full
/// (the rest waits here; the thread goes on after each acknowledgement).
fn hand_over(out: &mut OutState, client: &Client) {
    if !out.connected || out.stopping {
        return;
    }
    while let Some(next) = out.outbox.peek() {
        let handed = match next {
            queues::Next::Message(msg) | queues::Next::First(queues::First::Publish(msg)) => client
                .try_publish(
                    &msg.topic,
                    QoS::AtLeastOnce,
                    msg.retain,
                    msg.payload.clone(),
                ),
            queues::Next::First(queues::First::Subscribe(topics)) => client.try_subscribe_many(
                topics
                    .iter()
                    .map(|topic| rumqttc::SubscribeFilter::new(topic.clone(), QoS::AtMostOnce)),
            ),
        };
        if handed.is_err() {
            return;
        }
        out.outbox.pop();
    }
}
