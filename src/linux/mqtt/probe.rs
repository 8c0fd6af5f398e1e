//! `rackpi-panel check`'s look at the broker: one connection with the
//! configured TLS and login, bounded in time, under a client id of its own
//! (so that the running daemon is not pushed off) and without a will or
//! birth (so that the panel's availability is left alone).

use std::time::{Duration, Instant};

use rumqttc::{Client, Event, Packet};

use super::link_thread::base_options;
use super::reason::describe;
use super::Broker;

/// Connects to `broker` once within `within`: `Ok` with what was found,
/// or `Err((what failed, what to do))` as the check report shows it.
pub(crate) fn probe(broker: Broker, within: Duration) -> Result<String, (String, String)> {
    let address = broker.address();
    let scheme = if broker.tls { "TLS, " } else { "" };
    let login = match &broker.username {
        Some(user) => format!("logged in as {user}"),
        None => "no login".into(),
    };
    let client_id = format!("rackpi-panel-check-{}", std::process::id());
    let (mqtt, network) = base_options(&broker, &client_id, Duration::from_secs(30))
        .map_err(|err| (err.to_string(), "check [mqtt] ca_file".to_string()))?;
    let (client, mut connection) = Client::new(mqtt, 1);
    connection.eventloop.set_network_options(network);
    let start = Instant::now();
    loop {
        let left = within.saturating_sub(start.elapsed());
        match connection.recv_timeout(left) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                let _ = client.try_disconnect();
                let _ = connection.recv_timeout(Duration::from_millis(200));
                return Ok(format!("{address} answers ({scheme}{login})"));
            }
            Ok(Ok(_)) => continue,
            Ok(Err(err)) => return Err((describe(&err, &address), fix(&err))),
            Err(_) => {
                return Err((
                    format!("no answer from {address} within {}s", within.as_secs()),
                    "check [mqtt] url, the broker and the firewall between".into(),
                ))
            }
        }
    }
}

fn fix(err: &rumqttc::ConnectionError) -> String {
    use rumqttc::ConnectionError as E;
    match err {
        E::ConnectionRefused(_) => {
            "check [mqtt] username and the password (password_file or the mqtt-password credential) against the broker's password file".into()
        }
        #[cfg(not(target_env = "musl"))]
        E::Tls(_) => "give the CA that signed the broker's certificate in [mqtt] ca_file, and the name on the certificate in [mqtt] url".into(),
        _ => "check [mqtt] url, that the broker runs, and the firewall between".into(),
    }
}
