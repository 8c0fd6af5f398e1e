//! A message delivered by the broker, as what it asks of the panel: an
//! input for the core (a command, a node's availability or state), or
//! that Home Assistant wants the discovery configs again. One call for
//! the transport: topic, payload and retain flag in, and either something
//! to do or a reason to log.

use crate::core::{Input, PeerUpdate};

use super::command::{CommandError, CommandPolicy};
use super::state::{peer_availability, peer_state, shown, AvailabilityError, PeerStateError};
use super::topics::{Incoming, Topics, MAX_NODE_NAME};

/// What a delivered message asks of the panel.
#[derive(Debug, Clone, PartialEq)]
pub enum Arrival {
    /// An input for the core: `Input::Command` or `Input::Peer`.
    Input(Input),
    /// Home Assistant said `online` on its status topic: send the
    /// discovery configs again (it may have lost them).
    ResendDiscovery,
}

/// Why a delivered message was refused (logged; nothing else happens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArrivalError {
    /// A command that is not taken.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A node's `state` that cannot be read.
    #[error("node `{node}`: {error}")]
    PeerState { node: String, error: PeerStateError },
    /// A node whose name no panel can have (too long, control characters):
    /// not followed, so that a stranger cannot fill the rack page, the
    /// memory or this panel's own attention text with it.
    #[error("a node named `{shown}` ({bytes} bytes) is not a rackpi-panel's: a panel's name is at most {MAX_NODE_NAME} bytes of printable characters")]
    NodeName { shown: String, bytes: usize },
    /// A node's `availability` that is none of the three.
    #[error("node `{node}`: {error}")]
    Availability {
        node: String,
        error: AvailabilityError,
    },
}

/// What the message on `topic` asks: `Ok(None)` for a topic the panel does
/// not follow, and for Home Assistant's `offline`.
pub fn arrival(
    topics: &Topics,
    policy: CommandPolicy,
    topic: &str,
    payload: &[u8],
    retained: bool,
) -> Result<Option<Arrival>, ArrivalError> {
    let input = match topics.classify(topic) {
        None => return Ok(None),
        Some(Incoming::HomeAssistantStatus) => {
            return Ok((payload == b"online").then_some(Arrival::ResendDiscovery))
        }
        Some(Incoming::Command { name }) => {
            Input::Command(policy.accept(&name, payload, retained)?)
        }
        Some(Incoming::PeerAvailability { node } | Incoming::PeerState { node })
            if !could_be_a_panel(&node) =>
        {
            return Err(ArrivalError::NodeName {
                shown: shown(node.as_bytes(), 32),
                bytes: node.len(),
            })
        }
        Some(Incoming::PeerAvailability { node }) => match peer_availability(payload) {
            Ok(online) => Input::Peer {
                node,
                update: PeerUpdate::Availability(online),
            },
            Err(error) => return Err(ArrivalError::Availability { node, error }),
        },
        Some(Incoming::PeerState { node }) => match peer_state(payload) {
            Ok(state) => Input::Peer {
                node,
                update: PeerUpdate::State(state),
            },
            Err(error) => return Err(ArrivalError::PeerState { node, error }),
        },
    };
    Ok(Some(Arrival::Input(input)))
}

/// Whether `node` could be a panel's name in topics (see
/// [`super::topics::node_name`]), and printable.
fn could_be_a_panel(node: &str) -> bool {
    node.len() <= MAX_NODE_NAME && !node.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Command, PeerState, PowerAction};

    fn arrived(
        topic: &str,
        payload: &str,
        retained: bool,
    ) -> Result<Option<Arrival>, ArrivalError> {
        let topics = Topics {
            prefix: "rackpi".into(),
            node: "pi3".into(),
            discovery_prefix: "homeassistant".into(),
        };
        let policy = CommandPolicy { allow_power: true };
        arrival(&topics, policy, topic, payload.as_bytes(), retained)
    }

    fn input(input: Input) -> Result<Option<Arrival>, ArrivalError> {
        Ok(Some(Arrival::Input(input)))
    }

    #[test]
    fn commands_and_the_racks_nodes_become_the_cores_inputs() {
        assert_eq!(
            arrived("rackpi/pi3/cmd/power", "reboot", false),
            input(Input::Command(Command::Power(PowerAction::Reboot)))
        );
        assert_eq!(
            arrived("rackpi/pi7/availability", "offline", true),
            input(Input::Peer {
                node: "pi7".into(),
                update: PeerUpdate::Availability(Some(false))
            })
        );
        assert_eq!(
            arrived("rackpi/pi7/availability", "", true),
            input(Input::Peer {
                node: "pi7".into(),
                update: PeerUpdate::Availability(None)
            })
        );
        assert_eq!(
            arrived("rackpi/pi7/state", r#"{"temp_c": 70.5}"#, true),
            input(Input::Peer {
                node: "pi7".into(),
                update: PeerUpdate::State(PeerState {
                    temp_c: Some(70.5),
                    ..PeerState::default()
                })
            })
        );
    }

    #[test]
    fn a_peer_no_panel_could_be_is_refused_and_named_short() {
        let long = "x".repeat(300);
        for topic in [
            format!("rackpi/{long}/state"),
            format!("rackpi/{long}/availability"),
        ] {
            let why = arrived(&topic, "online", true).unwrap_err().to_string();
            assert!(
                why.contains("300 bytes") && why.contains("is not a rackpi-panel's"),
                "{why}"
            );
            assert!(why.len() < 200, "the name is shortened: {why}");
        }
        let why = arrived("rackpi/evil\u{1b}[2J\nx/availability", "offline", true)
            .unwrap_err()
            .to_string();
        assert!(!why.chars().any(char::is_control), "{why:?}");
    }

    #[test]
    fn a_temperature_no_sensor_gives_is_taken_as_absent() {
        for temp in ["1e300", "1e30", "-1e30", "400", "-300"] {
            let state = format!(r#"{{"temp_c": {temp}}}"#);
            assert_eq!(
                arrived("rackpi/pi7/state", &state, true),
                input(Input::Peer {
                    node: "pi7".into(),
                    update: PeerUpdate::State(PeerState::default())
                }),
                "{temp}"
            );
        }
    }

    #[test]
    fn home_assistant_online_asks_for_the_configs_again() {
        let status = |payload| arrived("homeassistant/status", payload, false);
        assert_eq!(status("online"), Ok(Some(Arrival::ResendDiscovery)));
        assert_eq!(status("offline"), Ok(None));
        assert_eq!(arrived("elsewhere/pi7/state", "{}", false), Ok(None));
    }

    #[test]
    fn what_is_refused_says_which_node_or_command() {
        assert_eq!(
            arrived("rackpi/pi3/cmd/power", "reboot", true)
                .unwrap_err()
                .to_string(),
            "the retained command `power` is ignored: commands are taken only as they are sent (clear it with `mosquitto_pub -r -n -t TOPIC`)"
        );
        assert_eq!(
            arrived("rackpi/pi7/availability", "up", false)
                .unwrap_err()
                .to_string(),
            "node `pi7`: the availability `up` is neither `online`, `offline` nor empty"
        );
        assert_eq!(
            arrived("rackpi/pi7/state", "[]", false)
                .unwrap_err()
                .to_string(),
            "node `pi7`: the state is not a JSON object: is it a rackpi-panel's?"
        );
    }
}
