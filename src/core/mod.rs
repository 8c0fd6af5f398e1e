//! The firmware core: the [`Panel`] as a composition of small machines —
//! [`debounce`], [`hold`] stages, the [`screen`] and its timeout, the
//! [`led`], power [`action`]s, [`display`] health, [`attention`] (failed
//! units, messages, identify, standing conditions and [`heat`]), when
//! custom [`pages`] are refreshed and the [`rack`] over MQTT —
//! speaking a small vocabulary: an [`Input`] in, [`Effect`]s out, among them
//! the [`Event`]s it reports. It performs no I/O, reads no clock and cannot
//! fail: `step` takes an input and the time and returns what to do;
//! `next_deadline` says when to call it again if nothing happens. Nothing
//! here knows the configuration file, the hardware or the simulator.

mod action;
mod attention;
mod debounce;
mod display;
mod effect;
mod event;
mod heat;
mod hold;
mod input;
mod led;
mod pages;
mod panel;
mod rack;
mod rules;
mod screen;
mod ups;

pub use attention::{
    check_text, printable, AttentionItem, AttentionSource, Condition, Level, IDENTIFY_DEFAULT,
    MAX_IDENTIFY, MAX_MESSAGES, MAX_MESSAGE_FOR, MAX_TEXT,
};
pub use effect::Effect;
pub use event::Event;
pub use heat::TEMP_HYSTERESIS_C;
pub use hold::HoldStage;
pub use input::Input;
pub use led::LedPattern;
pub use panel::{Panel, View};
pub use rack::{Command, PeerState, PeerUpdate, MAX_NODES};
pub use rules::{
    CustomPage, MqttRules, PageKind, PageName, PowerAction, Rules, FAILED_SCREEN, MAX_PAGE_NAME,
    REFRESH, SHIFT_EVERY,
};
pub use ups::UpsStatus;

/// A monotonic time, measured from an arbitrary origin.
pub type Time = std::time::Duration;
