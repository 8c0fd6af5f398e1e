//! The topics of SPEC §9 for one node under one prefix, what the panel
//! subscribes to, and which of those an arriving message belongs to. The
//! node's name is checked here once: it is a level of every topic.

/// The longest node name, in bytes (a topic level; Home Assistant's ids
/// are made from it too).
pub const MAX_NODE_NAME: usize = 64;

/// The topics of node `node` under `prefix` (`P/N/…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// The topic prefix (`[mqtt] prefix`, default `rackpi`).
    pub prefix: String,
    /// This Pi's name in topics (see [`node_name`]).
    pub node: String,
    /// Home Assistant's discovery prefix (`[mqtt] discovery_prefix`).
    pub discovery_prefix: String,
}

/// What an arriving message is, by its topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// `P/N/cmd/NAME`: a command to this node (NAME is checked by
    /// [`super::command::parse`]).
    Command { name: String },
    /// `P/NODE/availability` of a node (this one included).
    PeerAvailability { node: String },
    /// `P/NODE/state` of a node (this one included).
    PeerState { node: String },
    /// `{discovery_prefix}/status`: Home Assistant (re)started or stopped.
    HomeAssistantStatus,
}

impl Topics {
    /// `P/N/availability`: `online`, `offline` (retained, and the Last Will).
    pub fn availability(&self) -> String {
        format!("{}/{}/availability", self.prefix, self.node)
    }

    /// `P/N/state`: the JSON of [`super::state::StateReport`] (retained).
    pub fn state(&self) -> String {
        format!("{}/{}/state", self.prefix, self.node)
    }

    /// `P/N/event`: one JSON object per event (not retained).
    pub fn event(&self) -> String {
        format!("{}/{}/event", self.prefix, self.node)
    }

    /// `P/N/cmd/NAME`.
    pub fn command(&self, name: &str) -> String {
        format!("{}/{}/cmd/{name}", self.prefix, self.node)
    }

    /// `P/N/cmd/+`: the commands to this node.
    pub fn commands_filter(&self) -> String {
        self.command("+")
    }

    /// `P/+/availability`: every node's availability (the rack page).
    pub fn peers_availability_filter(&self) -> String {
        format!("{}/+/availability", self.prefix)
    }

    /// `P/+/state`: every node's state (the rack page).
    pub fn peers_state_filter(&self) -> String {
        format!("{}/+/state", self.prefix)
    }

    /// `{discovery_prefix}/status`: `online` when Home Assistant starts,
    /// the moment to send the discovery configs again.
    pub fn home_assistant_status(&self) -> String {
        format!("{}/status", self.discovery_prefix)
    }

    /// What a message on `topic` is, or `None` for a topic the panel does
    /// not follow. This node's own availability and state are included:
    /// the rack page counts this Pi among the rack's (`RACK 7/8 up`) as the
    /// broker sees it, and the core leaves it out of `rack_attention`.
    pub fn classify(&self, topic: &str) -> Option<Incoming> {
        if topic == self.home_assistant_status() {
            return Some(Incoming::HomeAssistantStatus);
        }
        let rest = topic.strip_prefix(&self.prefix)?.strip_prefix('/')?;
        let mut levels = rest.split('/');
        let node = levels.next().filter(|node| !node.is_empty())?;
        match (levels.next(), levels.next(), levels.next()) {
            (Some("cmd"), Some(name), None) if node == self.node && !name.is_empty() => {
                Some(Incoming::Command { name: name.into() })
            }
            (Some("availability"), None, None) => {
                Some(Incoming::PeerAvailability { node: node.into() })
            }
            (Some("state"), None, None) => Some(Incoming::PeerState { node: node.into() }),
            _ => None,
        }
    }
}

/// Why a node name cannot be a topic level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeNameError {
    /// Neither `[mqtt] node` nor the hostname gives a name.
    #[error("the node name is empty (and so is the hostname): set [mqtt] node to this Pi's name in the rack")]
    Empty,
    /// `+`, `#` or `/` would make the topics wildcards or extra levels.
    #[error("the node name `{name}` has `{found}`, which MQTT topics reserve (wildcards and level separators): set [mqtt] node to a name without `+`, `#` or `/`")]
    Reserved { name: String, found: char },
    /// MQTT forbids U+0000 in topics.
    #[error("the node name has a NUL character, which MQTT topics cannot carry: set [mqtt] node to a plain name")]
    Nul,
    /// Longer than [`MAX_NODE_NAME`].
    #[error("the node name `{name}` is {bytes} bytes long: at most {MAX_NODE_NAME} fit; set [mqtt] node to a shorter name")]
    TooLong { name: String, bytes: usize },
}

/// This Pi's name in topics: `configured` (`[mqtt] node`) as written, or
/// when it is empty the hostname, lowercased.
pub fn node_name(configured: &str, hostname: &str) -> Result<String, NodeNameError> {
    let name = match configured {
        "" => hostname.trim().to_lowercase(),
        configured => configured.to_string(),
    };
    if name.is_empty() {
        return Err(NodeNameError::Empty);
    }
    if name.contains('\0') {
        return Err(NodeNameError::Nul);
    }
    if let Some(found) = name.chars().find(|c| matches!(c, '+' | '#' | '/')) {
        return Err(NodeNameError::Reserved { name, found });
    }
    if name.len() > MAX_NODE_NAME {
        let bytes = name.len();
        return Err(NodeNameError::TooLong { name, bytes });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topics() -> Topics {
        Topics {
            prefix: "rackpi".into(),
            node: "pi3".into(),
            discovery_prefix: "homeassistant".into(),
        }
    }

    #[test]
    fn the_topics_of_a_node() {
        let t = topics();
        assert_eq!(t.availability(), "rackpi/pi3/availability");
        assert_eq!(t.state(), "rackpi/pi3/state");
        assert_eq!(t.event(), "rackpi/pi3/event");
        assert_eq!(t.command("identify"), "rackpi/pi3/cmd/identify");
        assert_eq!(t.commands_filter(), "rackpi/pi3/cmd/+");
        assert_eq!(t.peers_availability_filter(), "rackpi/+/availability");
        assert_eq!(t.peers_state_filter(), "rackpi/+/state");
        assert_eq!(t.home_assistant_status(), "homeassistant/status");
    }

    #[test]
    fn arriving_messages_are_told_apart() {
        let t = topics();
        let command = |name: &str| Some(Incoming::Command { name: name.into() });
        assert_eq!(t.classify("rackpi/pi3/cmd/identify"), command("identify"));
        assert_eq!(
            t.classify("rackpi/pi3/cmd/reboot-now"),
            command("reboot-now")
        );
        assert_eq!(
            t.classify("rackpi/pi7/availability"),
            Some(Incoming::PeerAvailability { node: "pi7".into() })
        );
        assert_eq!(
            t.classify("rackpi/pi7/state"),
            Some(Incoming::PeerState { node: "pi7".into() })
        );
        assert_eq!(
            t.classify("homeassistant/status"),
            Some(Incoming::HomeAssistantStatus)
        );
        assert_eq!(
            t.classify("rackpi/pi3/state"),
            Some(Incoming::PeerState { node: "pi3".into() })
        );
        for other in [
            "rackpi/pi7/cmd/identify",
            "rackpi/pi3/cmd/",
            "rackpi/pi3/cmd/a/b",
            "rackpi/pi3/event",
            "rackpi//state",
            "rackpi2/pi7/state",
            "rackpi",
            "other/pi7/state",
        ] {
            assert_eq!(t.classify(other), None, "{other}");
        }
    }

    #[test]
    fn a_prefix_of_several_levels_works_too() {
        let t = Topics {
            prefix: "site/rack1".into(),
            ..topics()
        };
        assert_eq!(
            t.classify("site/rack1/pi9/state"),
            Some(Incoming::PeerState { node: "pi9".into() })
        );
        assert_eq!(t.classify("site/pi9/state"), None);
    }

    #[test]
    fn the_node_defaults_to_the_hostname_lowercased() {
        assert_eq!(node_name("", "RackPi-3").unwrap(), "rackpi-3");
        assert_eq!(node_name("Top Shelf", "rackpi-3").unwrap(), "Top Shelf");
        assert_eq!(node_name("", &"a".repeat(64)).unwrap().len(), 64);
    }

    #[test]
    fn a_node_name_that_cannot_be_a_topic_level_is_refused_saying_why() {
        assert_eq!(node_name("", " "), Err(NodeNameError::Empty));
        assert_eq!(node_name("a\0b", "x"), Err(NodeNameError::Nul));
        for (name, found) in [("pi+1", '+'), ("#", '#'), ("rack/pi", '/')] {
            let err = node_name(name, "x").unwrap_err();
            assert_eq!(
                err,
                NodeNameError::Reserved {
                    name: name.into(),
                    found
                }
            );
            assert!(err.to_string().contains(&format!("`{found}`")), "{err}");
        }
        let err = node_name(&"é".repeat(33), "x").unwrap_err();
        assert!(
            err.to_string().contains("66 bytes long: at most 64"),
            "{err}"
        );
    }
}
