//! What the panel says and reads over MQTT (SPEC §9), as pure functions of
//! plain data: the [`topics`], what a delivered message asks of the panel
//! ([`arrival`]: the core's inputs), this node's [`state`] and a peer's,
//! the [`event`]s published, the [`command`]s taken, and Home Assistant
//! [`discovery`]. No I/O and no clock here: the transport carries the
//! bytes, the runtime the time.

pub mod arrival;
pub mod command;
pub mod discovery;
pub mod event;
pub mod state;
pub mod topics;

pub use arrival::{arrival, Arrival, ArrivalError};
pub use command::{CommandError, CommandPolicy};
pub use discovery::DiscoverySettings;
pub use event::EventFeed;
pub use state::{peer_availability, peer_state, shown, StateReport};
pub use topics::{node_name, Incoming, NodeNameError, Topics};
