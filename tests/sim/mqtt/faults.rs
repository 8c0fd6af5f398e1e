//! Never at the button's cost (SPEC §9): with the broker down, restarted,
//! refusing the login, failing TLS or never answering, a press is handled
//! on time and the log says why once per cause.

use std::net::TcpListener;
use std::time::Duration;

use super::{assert_on_time, config, lines_with, url, Sim};
use crate::common::mosquitto::{free_port, Mosquitto, Options};

/// The screen goes dark after 1 s; a press at 3 s lights it, one at
/// 3.6 s (released at 3.7 s) turns the page.
const SCRIPT: &str = "wait 3\npress 0.1\nwait 0.5\npress 0.1\nwait 2\n";
const DISPLAY: &str = "timeout_s = 1";

/// Runs [`SCRIPT`] with `[mqtt]` from `mqtt`, calling `meanwhile` while it
/// runs; checks the presses were on time and returns the events and log.
fn run_pressing(
    url: &str,
    mqtt: &str,
    meanwhile: impl FnOnce(&Sim),
) -> (Vec<serde_json::Value>, String) {
    let sim = Sim::start(&config(url, "pi-a", mqtt, DISPLAY), SCRIPT);
    meanwhile(&sim);
    let (events, log) = sim.finish(Duration::from_secs(20));
    assert_on_time(&events, "screen_on", 3000);
    assert_on_time(&events, "page", 3700);
    (events, log)
}

#[test]
fn a_broker_down_at_the_start_then_started() {
    let port = free_port();
    let mut broker = None;
    let (events, log) = run_pressing(&format!("mqtt://127.0.0.1:{port}"), "", |sim| {
        std::thread::sleep(Duration::from_millis(1500));
        broker = Mosquitto::start_on("broker_down_at_start", Options::default(), port);
        if broker.is_some() {
            sim.wait_connected();
        }
    });
    if broker.is_none() {
        return;
    }
    assert_eq!(lines_with(&log, "no broker listens there"), 1, "{log}");
    assert_eq!(
        super::named(&events, "mqtt_connected").len(),
        1,
        "{events:?}"
    );
}

#[test]
fn a_broker_restarted_mid_run() {
    let Some(mut broker) = Mosquitto::start("broker_restarted", Options::default()) else {
        return;
    };
    let (events, log) = run_pressing(&url(&broker), "", |sim| {
        sim.wait_connected();
        std::thread::sleep(Duration::from_millis(2800));
        broker.restart();
    });
    assert_eq!(lines_with(&log, "closed the connection"), 1, "{log}");
    assert_eq!(
        super::named(&events, "mqtt_disconnected").len(),
        1,
        "{events:?}"
    );
    assert_eq!(
        super::named(&events, "mqtt_connected").len(),
        2,
        "{events:?}"
    );
}

#[test]
fn a_wrong_password() {
    let user = Some(("panel".to_string(), "right".to_string()));
    let Some(broker) = Mosquitto::start(
        "wrong_password",
        Options {
            user,
            ..Options::default()
        },
    ) else {
        return;
    };
    let password = broker.dir.path().join("wrong-password");
    std::fs::write(&password, "wrong\n").unwrap();
    let mqtt = format!(
        "username = \"panel\"\npassword_file = \"{}\"",
        password.display()
    );
    let (events, log) = run_pressing(&url(&broker), &mqtt, |_| {});
    assert_eq!(lines_with(&log, "refused the login"), 1, "{log}");
    assert!(
        super::named(&events, "mqtt_connected").is_empty(),
        "{events:?}"
    );
}

#[test]
fn a_broker_certificate_from_another_ca() {
    let Some(broker) = Mosquitto::start(
        "wrong_ca",
        Options {
            tls: true,
            ..Options::default()
        },
    ) else {
        return;
    };
    let url = format!("mqtts://127.0.0.1:{}", broker.tls_port.unwrap());
    let other = broker.dir.path().join("other-ca.pem");
    let mqtt = format!("ca_file = \"{}\"", other.display());
    let (events, log) = run_pressing(&url, &mqtt, |_| {});
    assert_eq!(lines_with(&log, "TLS with"), 1, "{log}");
    assert!(
        super::named(&events, "mqtt_connected").is_empty(),
        "{events:?}"
    );
}

#[test]
fn a_listener_that_never_answers() {
    if !crate::common::mosquitto::available("silent_listener") {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let (events, log) = run_pressing(&format!("mqtt://127.0.0.1:{port}"), "", |_| {});
    assert_eq!(lines_with(&log, "no answer from"), 1, "{log}");
    assert!(
        super::named(&events, "mqtt_connected").is_empty(),
        "{events:?}"
    );
}
