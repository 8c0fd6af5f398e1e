//! The screens that are lists a short press scrolls: the attention page
//! and the rack page.

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Triangle};

use super::{fit, lines, COLUMNS, SMALL};
use crate::core::{AttentionItem, Level};

/// `RACK 7/8 up`, then the nodes from `first` on (a short press scrolls);
/// when more nodes are above or below the window, arrows say so, as on the
/// attention page.
pub(super) fn rack_page<D>(
    target: &mut D,
    up: usize,
    total: usize,
    nodes: &[String],
    first: usize,
    tall: bool,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let (room, pitch) = if tall { (4, 12) } else { (2, 11) };
    let above = first > 0;
    let below = nodes.len() > first + room;
    let width = if above || below { COLUMNS - 1 } else { COLUMNS };
    let mut text = vec![if total == 0 {
        "RACK: nobody yet".to_string()
    } else {
        format!("RACK {up}/{total} up")
    }];
    text.extend(nodes.iter().skip(first).take(room).map(|n| fit(n, width)));
    lines(target, &text, tall)?;
    // the up arrow beside the title: the nodes above were scrolled away
    arrows(target, above, below, (text.len() - 1) as i32 * pitch)
}

/// The attention page from item `first`; when more items are above or
/// below the window, the lines leave their last column to an arrow
/// pointing that way (a short press scrolls).
pub(super) fn attention_page<D>(
    target: &mut D,
    items: &[AttentionItem],
    first: usize,
    tall: bool,
) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let (room, pitch) = if tall { (5, 12) } else { (3, 11) };
    let above = first > 0;
    let below = items.len() > first + room;
    let width = if above || below { COLUMNS - 1 } else { COLUMNS };
    let text: Vec<String> = items
        .iter()
        .skip(first)
        .take(room)
        .map(|item| fit(&attention_line(item), width))
        .collect();
    lines(target, &text, tall)?;
    arrows(target, above, below, (text.len() as i32 - 1) * pitch)
}

/// In the last column, an arrow up on the first line when lines are
/// above the window, and one down on the line at `last_y` when more are
/// below.
fn arrows<D>(target: &mut D, above: bool, below: bool, last_y: i32) -> Result<(), D::Error>
where
    D: DrawTarget<Color = BinaryColor>,
{
    let fill = PrimitiveStyle::with_fill(BinaryColor::On);
    let x = (COLUMNS as i32 - 1) * SMALL.character_size.width as i32 + 1;
    if above {
        Triangle::new(Point::new(x, 6), Point::new(x + 6, 6), Point::new(x + 3, 3))
            .into_styled(fill)
            .draw(target)?;
    }
    if below {
        Triangle::new(
            Point::new(x, last_y + 3),
            Point::new(x + 6, last_y + 3),
            Point::new(x + 3, last_y + 6),
        )
        .into_styled(fill)
        .draw(target)?;
    }
    Ok(())
}

/// One line of the attention page: `NAME failed` for a unit (`.service`
/// left out), the text of a message, marked `!!` for an error and `!` for
/// a warning.
pub(crate) fn attention_line(item: &AttentionItem) -> String {
    match item {
        AttentionItem::Unit(name) => {
            let name = name.strip_suffix(".service").unwrap_or(name);
            format!("{} failed", fit(name, COLUMNS - " failed".len()))
        }
        AttentionItem::Condition { level, text } | AttentionItem::Message { level, text } => {
            match level {
                Level::Error => format!("!! {text}"),
                Level::Warn => format!("! {text}"),
                Level::Info => text.clone(),
            }
        }
    }
}
