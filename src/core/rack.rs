//! The rack over MQTT, as the core sees it (SPEC §9): what the broker
//! says of every panel under the prefix, ordered for the rack page, and
//! the commands the broker carries. No topics and no JSON here: the
//! adapter parses them.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Condition, Level, PowerAction};

/// At most this many nodes are followed; later ones are not listed.
pub const MAX_NODES: usize = 256;

/// A command taken from the broker as it arrived (a retained one never
/// gets this far).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `cmd/identify`: as `rackpi-panel identify`.
    Identify { lasts: Duration },
    /// `cmd/notify`: as `rackpi-panel notify`.
    Notify {
        level: Level,
        text: String,
        lasts: Option<Duration>,
    },
    /// `cmd/power` `reboot` / `poweroff`: a countdown a press cancels (only
    /// with `allow_power`).
    Power(PowerAction),
    /// `cmd/power` `cancel`: the countdown stops.
    CancelPower,
}

impl Command {
    /// The command's name in the `command` event.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Identify { .. } => "identify",
            Command::Notify { .. } => "notify",
            Command::Power(PowerAction::Reboot) => "reboot",
            Command::Power(PowerAction::Shutdown) => "poweroff",
            Command::CancelPower => "cancel",
        }
    }
}

/// What the broker said of one node.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerUpdate {
    /// Its `availability`: online (true), offline (false); `None` when the
    /// retained topic was emptied: the node is forgotten.
    Availability(Option<bool>),
    /// Its `state`.
    State(PeerState),
}

/// The parts of a node's `state` the rack page shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeerState {
    pub attention: bool,
    /// The first line is shown for a node that calls for attention.
    pub attention_text: Vec<String>,
    pub temp_c: Option<f32>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    /// Unknown until its availability is seen.
    online: Option<bool>,
    state: PeerState,
}

impl Node {
    fn offline(&self) -> bool {
        self.online == Some(false)
    }
}

/// Every node under the prefix, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rack {
    nodes: BTreeMap<String, Node>,
    /// This panel's own node: not a peer for `rack_attention`.
    own: String,
}

impl Rack {
    pub(crate) fn new(own: &str) -> Rack {
        Rack {
            nodes: BTreeMap::new(),
            own: own.to_string(),
        }
    }

    /// Takes an update; true when the rack page would show something else.
    pub(crate) fn update(&mut self, node: &str, update: PeerUpdate) -> bool {
        if update == PeerUpdate::Availability(None) {
            return self.nodes.remove(node).is_some();
        }
        if !self.nodes.contains_key(node) && self.nodes.len() >= MAX_NODES {
            return false;
        }
        let entry = self.nodes.entry(node.to_string()).or_default();
        let before = entry.clone();
        match update {
            PeerUpdate::Availability(online) => entry.online = online,
            PeerUpdate::State(state) => entry.state = state,
        }
        *entry != before
    }

    /// (online, known) — `RACK 7/8 up`.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let up = self
            .nodes
            .values()
            .filter(|n| n.online == Some(true))
            .count();
        (up, self.nodes.len())
    }

    /// One line a node, those that need a look first: offline, then calling
    /// for attention, then the hottest; then by name.
    pub(crate) fn lines(&self) -> Vec<String> {
        let mut nodes: Vec<(&String, &Node)> = self.nodes.iter().collect();
        nodes.sort_by(|(a_name, a), (b_name, b)| {
            b.offline()
                .cmp(&a.offline())
                .then(b.state.attention.cmp(&a.state.attention))
                .then(
                    b.state
                        .temp_c
                        .unwrap_or(f32::MIN)
                        .total_cmp(&a.state.temp_c.unwrap_or(f32::MIN)),
                )
                .then(a_name.cmp(b_name))
        });
        nodes
            .into_iter()
            .map(|(name, node)| line(name, node))
            .collect()
    }

    /// `rack_attention`: a peer offline or calling for attention.
    pub(crate) fn condition(&self) -> Option<Condition> {
        let mut needing: Vec<(&String, &Node)> = self
            .nodes
            .iter()
            .filter(|(name, node)| **name != self.own && (node.offline() || node.state.attention))
            .collect();
        let text = match needing.len() {
            0 => return None,
            1 => {
                let (name, node) = needing.remove(0);
                if node.offline() {
                    format!("{name} offline")
                } else {
                    format!("{name} needs a look")
                }
            }
            // (no count in the text: a flood of peers going offline one by
            // one would otherwise be one `attention` event per count; the
            // rack page has the count and the names)
            _ => "peers in the rack need a look".to_string(),
        };
        Some(Condition {
            level: Level::Warn,
            text,
        })
    }
}

fn line(name: &str, node: &Node) -> String {
    if node.offline() {
        return format!("{name} offline");
    }
    if node.state.attention {
        // a peer's line carries its own `!` / `!!` for a warning or an
        // error (a failed unit has none): one mark, never `! !!`
        return match node.state.attention_text.first() {
            Some(text) if text.starts_with('!') => format!("{name} {text}"),
            Some(text) => format!("{name} ! {text}"),
            None => format!("{name} !"),
        };
    }
    match (node.online, node.state.temp_c) {
        (None, _) => format!("{name} ?"),
        (_, Some(t)) => format!("{name} {t:.0}°C"),
        (_, None) => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn online(rack: &mut Rack, name: &str, temp: f32) {
        rack.update(name, PeerUpdate::Availability(Some(true)));
        rack.update(
            name,
            PeerUpdate::State(PeerState {
                temp_c: Some(temp),
                ..PeerState::default()
            }),
        );
    }

    #[test]
    fn offline_first_then_attention_then_the_hottest() {
        let mut rack = Rack::new("pi-1");
        online(&mut rack, "pi-1", 50.0);
        online(&mut rack, "pi-2", 71.0);
        online(&mut rack, "pi-3", 40.0);
        rack.update("pi-4", PeerUpdate::Availability(Some(false)));
        rack.update(
            "pi-3",
            PeerUpdate::State(PeerState {
                attention: true,
                attention_text: vec!["disk full".into()],
                temp_c: Some(40.0),
            }),
        );
        assert_eq!(
            rack.lines(),
            vec!["pi-4 offline", "pi-3 ! disk full", "pi-2 71°C", "pi-1 50°C"]
        );
        assert_eq!(rack.counts(), (3, 4));
        assert_eq!(
            rack.condition().unwrap().text,
            "peers in the rack need a look"
        );
    }

    #[test]
    fn a_peers_own_warning_or_error_mark_is_shown_once() {
        let mut rack = Rack::new("me");
        for (name, text) in [("a", "!! restic: backup failed"), ("b", "! on battery")] {
            rack.update(name, PeerUpdate::Availability(Some(true)));
            rack.update(
                name,
                PeerUpdate::State(PeerState {
                    attention: true,
                    attention_text: vec![text.into()],
                    temp_c: None,
                }),
            );
        }
        assert_eq!(
            rack.lines(),
            vec!["a !! restic: backup failed", "b ! on battery"]
        );
    }

    #[test]
    fn more_peers_going_offline_past_the_second_leave_the_condition_as_it_is() {
        let mut rack = Rack::new("me");
        rack.update("a", PeerUpdate::Availability(Some(false)));
        let one = rack.condition();
        rack.update("b", PeerUpdate::Availability(Some(false)));
        let two = rack.condition();
        for name in ["c", "d", "e"] {
            rack.update(name, PeerUpdate::Availability(Some(false)));
            assert_eq!(rack.condition(), two, "{name}");
        }
        assert_ne!(one, two);
    }

    #[test]
    fn an_emptied_availability_forgets_the_node() {
        let mut rack = Rack::new("me");
        online(&mut rack, "pi-2", 40.0);
        assert!(rack.update("pi-2", PeerUpdate::Availability(None)));
        assert_eq!(rack.counts(), (0, 0));
        assert!(!rack.update("pi-2", PeerUpdate::Availability(None)));
    }

    #[test]
    fn no_more_than_the_limit_is_followed_and_known_nodes_still_update() {
        let mut rack = Rack::new("me");
        for i in 0..MAX_NODES + 10 {
            rack.update(&format!("n{i}"), PeerUpdate::Availability(Some(true)));
        }
        assert_eq!(rack.counts(), (MAX_NODES, MAX_NODES));
        assert!(rack.update("n0", PeerUpdate::Availability(Some(false))));
        assert_eq!(rack.counts(), (MAX_NODES - 1, MAX_NODES));
    }

    #[test]
    fn this_panel_is_counted_but_never_calls_for_its_own_attention() {
        let mut rack = Rack::new("me");
        rack.update("me", PeerUpdate::Availability(Some(false)));
        assert_eq!(rack.condition(), None);
        rack.update("pi-9", PeerUpdate::Availability(Some(false)));
        assert_eq!(rack.condition().unwrap().text, "pi-9 offline");
        assert_eq!(rack.counts(), (0, 2));
    }

    #[test]
    fn the_same_update_again_changes_nothing() {
        let mut rack = Rack::new("me");
        assert!(rack.update("a", PeerUpdate::Availability(Some(true))));
        assert!(!rack.update("a", PeerUpdate::Availability(Some(true))));
    }
}
