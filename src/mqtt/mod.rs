//! What the panel says and reads over MQTT (SPEC §9), as pure functions of
//! plain data: the [`topics`] and what an arriving message is, this node's
//! [`state`] and a peer's, the [`event`]s published, the [`command`]s
//! taken, and Home Assistant [`discovery`]. No I/O and no clock here: the
//! transport (`linux::mqtt`) carries the bytes, the runtime the time.

pub mod command;
pub mod discovery;
pub mod event;
pub mod state;
pub mod topics;

pub use command::{Command, CommandError, CommandPolicy, PowerCommand};
pub use discovery::DiscoverySettings;
pub use event::EventFeed;
pub use state::{Availability, PeerState, StateReport};
pub use topics::{node_name, Incoming, NodeNameError, Topics};
