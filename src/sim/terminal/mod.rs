//! The interactive simulator: the panel drawn in the terminal, the button
//! worked from the keyboard. Everything fits the terminal it runs in (an
//! 80×24 one included): the panel is drawn with half blocks, quadrant blocks
//! or Braille cells, whichever fits; every line is cut to the width and
//! placed by cursor position, so nothing wraps and nothing scrolls. The
//! terminal is put back however the run ends: `q`, Ctrl-C, SIGTERM, the end
//! of input, an error or a panic.
//!
//! Four rooms: `cells` turns the panel's pixels into characters, `screen`
//! lays out and paints the terminal, `keys` turns keys into button edges
//! and inputs, `session` takes the terminal and gives it back.

mod cells;
mod keys;
mod screen;
mod session;

pub use cells::Cells;
pub(crate) use keys::{KeyTimes, KeyboardInputs};
pub(crate) use screen::{Screen, ScreenSettings};
pub(crate) use session::{stdin_is_terminal, Session};
pub use session::{stdout_is_terminal, PaneLog};
