//! What the panel asks of the world; the answers come back as
//! [`Input`](super::Input)s.

use super::{Event, PageName, PowerAction};

/// What the caller must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Report this (log it, write it to the simulator's events).
    Event(Event),
    /// (Re)initialise the display, and answer with `Input::DisplayHealth`.
    InitDisplay,
    /// Switch the display on (true) or off (false).
    DisplayPower(bool),
    /// Draw `view()` now (only the parts that changed need to be sent).
    Draw,
    /// Drive the LED lit (true) or dark (false).
    Led(bool),
    /// Start this power command, and answer with `Input::ActionDone`.
    RunPower(PowerAction),
    /// Bring this custom page up to date — start its command, or read its
    /// file — without waiting, and answer with `Input::PageRefreshed`.
    RefreshPage(PageName),
    /// Publish this panel's state on the broker now (SPEC §9: at connect,
    /// on a change of attention or LED, at most once a second, and every
    /// `publish_s`).
    PublishState,
}
