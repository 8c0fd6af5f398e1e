//! The link's thread: polls rumqttc's event loop (which connects, pings
//! at the keepalive and reads), waits between tries, and passes what came
//! to the loop. Every wait of the link happens here; while connected and
//! idle the thread sleeps in the event loop until the keepalive ping.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    Client, Connection, Event, LastWill, MqttOptions, NetworkOptions, Outgoing as Sent, Packet,
    QoS, Transport,
};

use super::queues::First;
use super::reason::{describe, Backoff, MAX_BACKOFF};
use super::{hand_over, Broker, LinkEvent, LinkSettings, Shared};
use super::{MAX_INCOMING_PACKET, MAX_INCOMING_PAYLOAD, MAX_OUTGOING_PACKET};

/// How long a connection (TCP, TLS and CONNACK) may take; also how long a
/// write may wait on a broker that does not read.
pub(crate) const CONNECT_TIMEOUT_S: u64 = 5;

/// rumqttc's options for `settings`; fails when the CA file cannot be read
/// or a subscription is not a valid topic filter.
pub(crate) fn options(settings: &LinkSettings) -> io::Result<(MqttOptions, NetworkOptions)> {
    if let Some(bad) = settings
        .subscriptions
        .iter()
        .find(|filter| !rumqttc::valid_filter(filter))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("mqtt: {bad:?} is not a valid topic filter"),
        ));
    }
    let (mut options, network) =
        base_options(&settings.broker, &settings.client_id, settings.keepalive)?;
    options.set_last_will(LastWill::new(
        &settings.will.topic,
        settings.will.payload.clone(),
        QoS::AtLeastOnce,
        settings.will.retain,
    ));
    Ok((options, network))
}

/// The options of a connection to `broker`: login, TLS, sizes, timeouts.
pub(crate) fn base_options(
    broker: &Broker,
    client_id: &str,
    keepalive: Duration,
) -> io::Result<(MqttOptions, NetworkOptions)> {
    let mut options = MqttOptions::new(client_id, &broker.host, broker.port);
    options
        .set_keep_alive(keepalive)
        .set_clean_session(true)
        .set_max_packet_size(MAX_INCOMING_PACKET, MAX_OUTGOING_PACKET)
        .set_inflight(super::INFLIGHT);
    if let Some(user) = &broker.username {
        let password = broker.password.as_ref().map(|p| p.0.clone());
        options.set_credentials(user, password.unwrap_or_default());
    }
    if broker.tls {
        options.set_transport(tls_transport(broker.ca_file.as_deref())?);
    }
    let mut network = NetworkOptions::new();
    network.set_connection_timeout(CONNECT_TIMEOUT_S);
    Ok((options, network))
}

/// The longest CA file read (Debian's whole bundle of roots is ~220 KB).
#[cfg(not(target_env = "musl"))]
const MAX_CA_FILE: u64 = 1 << 20;

#[cfg(not(target_env = "musl"))]
fn tls_transport(ca_file: Option<&std::path::Path>) -> io::Result<Transport> {
    use rumqttc::TlsConfiguration;
    Ok(Transport::tls_with_config(match ca_file {
        Some(path) => TlsConfiguration::SimpleNative {
            ca: crate::linux::small_file::read(path, MAX_CA_FILE)
                .map_err(|why| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("mqtt: cannot read ca_file {}: {why}", path.display()),
                    )
                })?
                .into_bytes(),
            client_auth: None,
        },
        None => TlsConfiguration::Native,
    }))
}

#[cfg(target_env = "musl")]
fn tls_transport(_: Option<&std::path::Path>) -> io::Result<Transport> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "mqtt: this static (musl) build has no TLS: use mqtt:// or the Debian package's build for mqtts://",
    ))
}

/// What the thread owns.
pub(super) struct Runs {
    pub shared: Arc<Shared>,
    pub client: Client,
    pub settings: LinkSettings,
    pub woken: UnixStream,
}

/// Where the link is, as the thread sees it.
#[derive(Default)]
struct Track {
    backoff: Backoff,
    /// The cause last logged, until a connection succeeds.
    last_reason: Option<String>,
    /// When the current connection's CONNACK came.
    connected_at: Option<Instant>,
    /// Oversized messages dropped.
    oversized: u64,
}

enum Flow {
    Go,
    Stop,
}

impl Runs {
    /// Polls until stopped.
    pub fn run(self, mut connection: Connection) {
        let mut track = Track::default();
        loop {
            if self.shared.out().stopping && track.connected_at.is_none() {
                return;
            }
            let flow = match connection.recv() {
                Err(_) => Flow::Stop, // no client left
                Ok(Ok(event)) => self.on_event(event, &mut track),
                Ok(Err(err)) => self.on_error(&err, &mut track),
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    fn on_event(&self, event: Event, track: &mut Track) -> Flow {
        match event {
            Event::Incoming(Packet::ConnAck(_)) => return self.on_connack(track),
            Event::Incoming(Packet::Publish(publish)) => {
                if publish.payload.len() > MAX_INCOMING_PAYLOAD {
                    track.oversized += 1;
                    if track.oversized.is_power_of_two() {
                        log::warn!(
                            "mqtt: dropped a message of {} bytes on {} (over {MAX_INCOMING_PAYLOAD}; {} so far)",
                            publish.payload.len(),
                            publish.topic,
                            track.oversized
                        );
                    }
                } else {
                    self.tell(LinkEvent::Message {
                        topic: publish.topic,
                        payload: publish.payload.to_vec(),
                        retain: publish.retain,
                    });
                }
            }
            Event::Outgoing(Sent::Disconnect) => return Flow::Stop,
            _ => {}
        }
        let mut out = self.shared.out();
        hand_over(&mut out, &self.client);
        Flow::Go
    }

    fn on_connack(&self, track: &mut Track) -> Flow {
        let mut out = self.shared.out();
        if out.stopping {
            // dropping the connection without DISCONNECT: the broker
            // publishes the will
            return Flow::Stop;
        }
        log::info!("mqtt: connected to {}", self.settings.broker.address());
        track.connected_at = Some(Instant::now());
        track.last_reason = None;
        out.connected = true;
        let mut first = vec![First::Publish(self.settings.birth.clone())];
        if !self.settings.subscriptions.is_empty() {
            first.push(First::Subscribe(self.settings.subscriptions.clone()));
        }
        out.outbox.on_connect(first);
        hand_over(&mut out, &self.client);
        drop(out);
        self.tell(LinkEvent::Connected);
        Flow::Go
    }

    fn on_error(&self, err: &rumqttc::ConnectionError, track: &mut Track) -> Flow {
        let was_up = track.connected_at.take();
        let stopping = {
            let mut out = self.shared.out();
            out.connected = false;
            out.stopping
        };
        if stopping {
            return Flow::Stop;
        }
        let reason = describe(err, &self.settings.broker.address());
        if was_up.is_some() || track.last_reason.as_ref() != Some(&reason) {
            log::warn!(
                "mqtt: {reason}; trying again with backoff up to {}s",
                MAX_BACKOFF.as_secs()
            );
            self.tell(LinkEvent::Disconnected {
                reason: reason.clone(),
            });
            track.last_reason = Some(reason);
        }
        if was_up.is_some_and(|at| at.elapsed() >= MAX_BACKOFF) {
            track.backoff.reset();
        }
        self.wait(track.backoff.next())
    }

    /// Waits `delay` before the next try, or until told to stop.
    fn wait(&self, delay: Duration) -> Flow {
        let out = self.shared.out();
        let (out, _) = self
            .shared
            .stopping_cv
            .wait_timeout_while(out, delay, |out| !out.stopping)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match out.stopping {
            true => Flow::Stop,
            false => Flow::Go,
        }
    }

    /// Passes `event` to the loop, with a byte on `woken` when the loop
    /// has not been told yet.
    fn tell(&self, event: LinkEvent) {
        let mut inbox = self.shared.inbox();
        let dropped = inbox.dropped;
        let first = inbox.push(event);
        if inbox.dropped != dropped && inbox.dropped.is_power_of_two() {
            log::warn!(
                "mqtt: {} incoming messages dropped so far: the loop had not taken the earlier ones",
                inbox.dropped
            );
        }
        drop(inbox);
        if first {
            let _ = (&self.woken).write_all(&[1]);
        }
    }
}
