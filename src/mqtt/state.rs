//! `P/N/state` both ways: this node's figures as the JSON others read, and
//! a peer's JSON (and availability) read back for the rack page, tolerant
//! of fields an older or newer panel leaves out.

use std::net::IpAddr;

use serde::Serialize;

use crate::core::{LedPattern, PeerState};
use crate::stats::Stats;

/// The largest peer `state` payload read, in bytes.
pub const MAX_PEER_STATE: usize = 4096;

/// What this node reports on `P/N/state`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateReport {
    /// The hostname.
    pub host: String,
    /// The address shown on the info page; `None` = no network.
    pub ip: Option<IpAddr>,
    /// Busy share of all cores, 0–100; `None` until first measured.
    pub cpu_pct: Option<f32>,
    /// Memory in use, 0–100.
    pub mem_pct: f32,
    /// SoC temperature; `None` without a thermal zone.
    pub temp_c: Option<f32>,
    /// Root filesystem usage, 0–100; `None` when unknown.
    pub disk_pct: Option<f32>,
    /// Seconds since boot.
    pub uptime_s: u64,
    /// Whether the LED shows attention (failed units, unacknowledged messages).
    pub attention: bool,
    /// The attention page's lines (failed units, messages).
    pub attention_text: Vec<String>,
    /// The LED's pattern now.
    pub led: LedPattern,
    /// This program's version.
    pub version: String,
}

/// The JSON's fields, in SPEC §9's order and rounding.
#[derive(Serialize)]
struct StateJson<'a> {
    host: &'a str,
    ip: Option<String>,
    cpu_pct: Option<f64>,
    mem_pct: f64,
    temp_c: Option<f64>,
    disk_pct: Option<f64>,
    uptime_s: u64,
    attention: bool,
    attention_text: &'a [String],
    led: &'static str,
    version: &'a str,
}

/// `value` to one decimal: what a sensor can tell (and no `45.29999923`).
fn tenths(value: f32) -> f64 {
    (f64::from(value) * 10.0).round() / 10.0
}

impl StateReport {
    /// The report of `stats` (collected for the pages) and the panel's own
    /// part: attention, its lines, the LED.
    pub fn new(
        stats: &Stats,
        attention: bool,
        attention_text: Vec<String>,
        led: LedPattern,
        version: &str,
    ) -> StateReport {
        StateReport {
            host: stats.hostname.clone(),
            ip: stats.ip,
            cpu_pct: stats.cpu_percent,
            mem_pct: stats.mem_percent,
            temp_c: stats.temperature_c,
            disk_pct: stats.disk_percent,
            uptime_s: stats.uptime.as_secs(),
            attention,
            attention_text,
            led,
            version: version.into(),
        }
    }

    /// The payload of `P/N/state`.
    pub fn to_json(&self) -> String {
        let json = StateJson {
            host: &self.host,
            ip: self.ip.map(|ip| ip.to_string()),
            cpu_pct: self.cpu_pct.map(tenths),
            mem_pct: tenths(self.mem_pct),
            temp_c: self.temp_c.map(tenths),
            disk_pct: self.disk_pct.map(tenths),
            uptime_s: self.uptime_s,
            attention: self.attention,
            attention_text: &self.attention_text,
            led: self.led.name(),
            version: &self.version,
        };
        // (a struct of strings, numbers and lists: serialising cannot fail)
        serde_json::to_string(&json).unwrap_or_default()
    }
}

/// Why a peer's `state` payload was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerStateError {
    /// Longer than [`MAX_PEER_STATE`].
    #[error(
        "the state is {0} bytes long: at most {MAX_PEER_STATE} are read (is it a rackpi-panel's?)"
    )]
    TooLong(usize),
    /// Not JSON.
    #[error("the state is not JSON ({0}): is it a rackpi-panel's?")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("the state is not a JSON object: is it a rackpi-panel's?")]
    NotObject,
}

/// The temperatures a Pi's sensor can give; anything else (`1e300`, read
/// as infinity) is taken as absent rather than shown as `inf°C`.
const PLAUSIBLE_TEMP_C: std::ops::RangeInclusive<f64> = -100.0..=200.0;

/// A peer's `state` payload, as far as the rack page reads it. A field
/// missing or of another type is taken as absent: a panel of another
/// version may write other fields.
pub fn peer_state(payload: &[u8]) -> Result<PeerState, PeerStateError> {
    if payload.len() > MAX_PEER_STATE {
        return Err(PeerStateError::TooLong(payload.len()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(payload).map_err(|err| PeerStateError::NotJson(err.to_string()))?;
    let object = value.as_object().ok_or(PeerStateError::NotObject)?;
    let attention_text = object
        .get("attention_text")
        .and_then(|list| list.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|line| line.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(PeerState {
        attention: object
            .get("attention")
            .and_then(|attention| attention.as_bool())
            .unwrap_or(false),
        attention_text,
        temp_c: object
            .get("temp_c")
            .and_then(|temp| temp.as_f64())
            .filter(|temp| PLAUSIBLE_TEMP_C.contains(temp))
            .map(|temp| temp as f32),
    })
}

/// A peer's `availability` payload that is none of `online`, `offline`, empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the availability `{0}` is neither `online`, `offline` nor empty")]
pub struct AvailabilityError(pub String);

/// A peer's `availability` payload: `online` (`Some(true)`), `offline`
/// (`Some(false)`: its Last Will, or a clean stop), or empty (`None`: the
/// retained message was cleared, the node is forgotten).
pub fn peer_availability(payload: &[u8]) -> Result<Option<bool>, AvailabilityError> {
    match payload {
        b"online" => Ok(Some(true)),
        b"offline" => Ok(Some(false)),
        b"" => Ok(None),
        other => Err(AvailabilityError(shown(other, 32))),
    }
}

/// `text` as a log line may quote it: its first `max` characters, control
/// characters as `?`, `…` when cut.
pub fn shown(text: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let mut shown: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> StateReport {
        StateReport {
            host: "rackpi".into(),
            ip: Some("192.168.1.42".parse().unwrap()),
            cpu_pct: Some(3.04),
            mem_pct: 12.34,
            temp_c: Some(45.3),
            disk_pct: Some(37.0),
            uptime_s: 273_600,
            attention: true,
            attention_text: vec!["backup.service".into(), "restic: \"failed\"".into()],
            led: LedPattern::TripleBlink,
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn the_state_has_the_fields_of_the_spec_in_its_order_rounded_to_tenths() {
        assert_eq!(
            report().to_json(),
            concat!(
                r#"{"host":"rackpi","ip":"192.168.1.42","cpu_pct":3.0,"mem_pct":12.3,"#,
                r#""temp_c":45.3,"disk_pct":37.0,"uptime_s":273600,"attention":true,"#,
                r#""attention_text":["backup.service","restic: \"failed\""],"#,
                r#""led":"triple-blink","version":"0.1.0"}"#
            )
        );
    }

    #[test]
    fn what_is_not_known_is_null() {
        let report = StateReport {
            ip: None,
            cpu_pct: None,
            temp_c: None,
            disk_pct: None,
            ..report()
        };
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        for key in ["ip", "cpu_pct", "temp_c", "disk_pct"] {
            assert!(json[key].is_null(), "{key}: {json}");
        }
    }

    #[test]
    fn the_sample_stats_make_the_report_of_the_simulator() {
        let report = StateReport::new(&Stats::sample(), false, Vec::new(), LedPattern::On, "1.0");
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["host"], "rackpi");
        assert_eq!(json["ip"], "192.168.1.42");
        assert_eq!(json["temp_c"], 45.0);
        assert_eq!(json["uptime_s"], (3 * 24 + 4) * 3600);
        assert_eq!(json["led"], "on");
    }

    #[test]
    fn our_own_state_reads_back_as_a_peers() {
        assert_eq!(
            peer_state(report().to_json().as_bytes()).unwrap(),
            PeerState {
                attention: true,
                attention_text: vec!["backup.service".into(), "restic: \"failed\"".into()],
                temp_c: Some(45.3),
            }
        );
    }

    #[test]
    fn a_peer_state_missing_fields_or_of_other_types_is_read_as_far_as_it_goes() {
        assert_eq!(peer_state(b"{}").unwrap(), PeerState::default());
        let peer = peer_state(
            br#"{"attention":"yes","attention_text":["a",1,"b"],"temp_c":"hot","new":{}}"#,
        )
        .unwrap();
        assert!(!peer.attention);
        assert_eq!(peer.attention_text, ["a", "b"]);
        assert_eq!(peer.temp_c, None);
    }

    #[test]
    fn a_peer_state_that_is_not_a_json_object_or_too_long_is_refused() {
        assert!(matches!(
            peer_state(b"online"),
            Err(PeerStateError::NotJson(_))
        ));
        assert_eq!(peer_state(b"[1]"), Err(PeerStateError::NotObject));
        let long = format!(r#"{{"host":"{}"}}"#, "a".repeat(MAX_PEER_STATE));
        assert_eq!(
            peer_state(long.as_bytes()),
            Err(PeerStateError::TooLong(MAX_PEER_STATE + 11))
        );
    }

    #[test]
    fn availability_is_online_offline_or_emptied() {
        assert_eq!(peer_availability(b"online"), Ok(Some(true)));
        assert_eq!(peer_availability(b"offline"), Ok(Some(false)));
        assert_eq!(peer_availability(b""), Ok(None));
        let err = peer_availability(b"ONLINE\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the availability `ONLINE?` is neither `online`, `offline` nor empty"
        );
    }
}
