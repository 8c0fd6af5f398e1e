//! The application's frame: the ports the core's effects go out through and
//! its inputs come in by (traits and their typed errors), and the one loop
//! that runs the core against them, shared by the daemon and the simulator.

pub(crate) mod deadline;
pub mod ports;
pub mod runtime;
