//! How the panel's pixels become characters, and which cells fit the
//! terminal.

use crate::frame::Frame;

/// How the panel's pixels become characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cells {
    /// The most detailed of the three that fits the terminal.
    #[default]
    Auto,
    /// 1×2 pixels per character: 130 columns for a 128-pixel panel.
    HalfBlocks,
    /// 2×2 pixels per character (quadrant blocks).
    Quadrants,
    /// 2×4 pixels per character (Braille patterns).
    Braille,
}

impl Cells {
    pub(super) fn name(self) -> &'static str {
        match self {
            Cells::Auto => "auto",
            Cells::HalfBlocks => "half blocks",
            Cells::Quadrants => "quadrants",
            Cells::Braille => "braille",
        }
    }

    /// Pixels per character, across and down.
    fn pixels(self) -> (u32, u32) {
        match self {
            Cells::Auto | Cells::HalfBlocks => (1, 2),
            Cells::Quadrants => (2, 2),
            Cells::Braille => (2, 4),
        }
    }

    pub(super) fn draw(self, frame: &Frame) -> Vec<String> {
        match self {
            Cells::Auto | Cells::HalfBlocks => frame.to_half_blocks(),
            Cells::Quadrants => frame.to_quadrants(),
            Cells::Braille => frame.to_braille(),
        }
    }
}

/// Lines around the panel: the status line, two key lines, and at least
/// three lines of events.
const CHROME_LINES: u32 = 1 + 2 + 3;

/// The cells for a `panel` (pixels) in a terminal of `size` (columns, rows):
/// the forced choice, or the most detailed one whose panel, border and
/// surrounding lines fit.
pub(crate) fn choose_cells(forced: Cells, panel: (u32, u32), size: (u16, u16)) -> Cells {
    if forced != Cells::Auto {
        return forced;
    }
    let (cols, rows) = (u32::from(size.0), u32::from(size.1));
    [Cells::HalfBlocks, Cells::Quadrants]
        .into_iter()
        .find(|cells| {
            let (px, py) = cells.pixels();
            panel.0.div_ceil(px) + 2 <= cols && panel.1.div_ceil(py) + 2 + CHROME_LINES <= rows
        })
        .unwrap_or(Cells::Braille)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cells_follow_the_terminal_or_the_option() {
        for (forced, panel, terminal, cells) in [
            (Cells::Auto, (128, 32), (80, 24), Cells::Quadrants),
            (Cells::Auto, (128, 64), (80, 24), Cells::Braille),
            (Cells::Auto, (128, 32), (132, 30), Cells::HalfBlocks),
            (Cells::Auto, (128, 64), (132, 40), Cells::HalfBlocks),
            (Cells::Auto, (128, 64), (100, 40), Cells::Quadrants),
            (Cells::Braille, (128, 32), (200, 60), Cells::Braille),
        ] {
            assert_eq!(
                choose_cells(forced, panel, terminal),
                cells,
                "{forced:?} {panel:?} in {terminal:?}"
            );
        }
    }
}
