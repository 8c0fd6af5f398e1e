//! A monochrome picture of the panel: what the layout draws into, what the
//! SSD1306 model decodes from the bus, and what PNGs and the terminal show.

use std::io::Write;
use std::path::Path;

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;

/// A width × height bitmap, row-major, `true` = lit.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    width: u32,
    height: u32,
    pixels: Vec<bool>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Frame {}x{}", self.width, self.height)?;
        f.write_str(&self.to_ascii())
    }
}

impl Frame {
    /// An all-dark frame.
    pub fn new(width: u32, height: u32) -> Frame {
        Frame {
            width,
            height,
            pixels: vec![false; (width * height) as usize],
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Whether (x, y) is lit; outside the frame is dark.
    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.pixels[(y * self.width + x) as usize]
    }

    /// Lights or darkens (x, y); outside the frame is ignored.
    pub fn set(&mut self, x: u32, y: u32, lit: bool) {
        if x < self.width && y < self.height {
            self.pixels[(y * self.width + x) as usize] = lit;
        }
    }

    /// How many pixels are lit.
    pub fn lit_count(&self) -> usize {
        self.pixels.iter().filter(|&&p| p).count()
    }

    /// Column ranges of the 8-row band `band` that differ from `old` (all of
    /// them without one); ranges closer than `merge_gap` columns are sent as
    /// one (each region costs about eight bytes of addressing).
    pub(crate) fn changed_columns(
        &self,
        old: Option<&Frame>,
        band: u32,
        merge_gap: u32,
    ) -> Vec<std::ops::Range<u32>> {
        let rows = band * 8..band * 8 + 8;
        let differs = |x: u32| {
            rows.clone()
                .any(|y| old.is_none_or(|old| old.get(x, y) != self.get(x, y)))
        };
        let mut ranges: Vec<std::ops::Range<u32>> = Vec::new();
        for x in (0..self.width).filter(|&x| differs(x)) {
            match ranges.last_mut() {
                Some(last) if x - last.end <= merge_gap => last.end = x + 1,
                _ => ranges.push(x..x + 1),
            }
        }
        ranges
    }

    /// The frame turned by 180°.
    pub(crate) fn rotated_180(&self) -> Frame {
        let mut pixels = self.pixels.clone();
        pixels.reverse();
        Frame {
            width: self.width,
            height: self.height,
            pixels,
        }
    }

    /// `#` for lit, `.` for dark, one line per row (as `ssd1306-replay` prints).
    pub fn to_ascii(&self) -> String {
        let mut out = String::with_capacity(((self.width + 1) * self.height) as usize);
        for y in 0..self.height {
            for x in 0..self.width {
                out.push(if self.get(x, y) { '#' } else { '.' });
            }
            out.push('\n');
        }
        out
    }

    /// Two pixel rows per text line with Unicode half blocks, for a terminal.
    pub(crate) fn to_half_blocks(&self) -> Vec<String> {
        (0..self.height.div_ceil(2))
            .map(|row| {
                (0..self.width)
                    .map(|x| match (self.get(x, row * 2), self.get(x, row * 2 + 1)) {
                        (true, true) => '█',
                        (true, false) => '▀',
                        (false, true) => '▄',
                        (false, false) => ' ',
                    })
                    .collect()
            })
            .collect()
    }

    /// Two by two pixels per character with Unicode quadrant blocks: half
    /// the width of [`Frame::to_half_blocks`], for an 80-column terminal.
    pub(crate) fn to_quadrants(&self) -> Vec<String> {
        const QUADRANTS: [char; 16] = [
            ' ', '▘', '▝', '▀', '▖', '▌', '▞', '▛', '▗', '▚', '▐', '▜', '▄', '▙', '▟', '█',
        ];
        (0..self.height.div_ceil(2))
            .map(|row| {
                (0..self.width.div_ceil(2))
                    .map(|col| {
                        let (x, y) = (col * 2, row * 2);
                        let bits = [(0, 0, 1), (1, 0, 2), (0, 1, 4), (1, 1, 8)]
                            .iter()
                            .filter(|&&(dx, dy, _)| self.get(x + dx, y + dy))
                            .fold(0, |acc, &(_, _, bit)| acc | bit);
                        QUADRANTS[bits]
                    })
                    .collect()
            })
            .collect()
    }

    /// Two by four pixels per character with Unicode Braille patterns: a
    /// 128×64 panel in 64 columns and 16 lines.
    pub(crate) fn to_braille(&self) -> Vec<String> {
        // dot numbering of the Braille block: bit for (dx, dy)
        const DOTS: [(u32, u32, u32); 8] = [
            (0, 0, 0x01),
            (0, 1, 0x02),
            (0, 2, 0x04),
            (1, 0, 0x08),
            (1, 1, 0x10),
            (1, 2, 0x20),
            (0, 3, 0x40),
            (1, 3, 0x80),
        ];
        (0..self.height.div_ceil(4))
            .map(|row| {
                (0..self.width.div_ceil(2))
                    .map(|col| {
                        let (x, y) = (col * 2, row * 4);
                        let bits = DOTS
                            .iter()
                            .filter(|&&(dx, dy, _)| self.get(x + dx, y + dy))
                            .fold(0, |acc, &(_, _, bit)| acc | bit);
                        // a blank cell as a space: some fonts draw U+2800 as dots
                        if bits == 0 {
                            ' '
                        } else {
                            char::from_u32(0x2800 + bits).unwrap_or('?')
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Encodes the frame as a PNG, each panel pixel `scale` × `scale` image
    /// pixels, lit pixels in the OLED's white on black.
    pub(crate) fn to_png(&self, scale: u32) -> Vec<u8> {
        let scale = scale.max(1);
        let (w, h) = (self.width * scale, self.height * scale);
        let mut data = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                data.push(if self.get(x / scale, y / scale) {
                    0xff
                } else {
                    0x00
                });
            }
        }
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder
                .write_header()
                .expect("writing a PNG header to memory cannot fail");
            writer
                .write_image_data(&data)
                .expect("the image data matches the header");
        }
        out
    }

    /// Writes the PNG to `path` atomically (a temporary file, then a rename),
    /// so that a reader never sees half a picture.
    pub fn write_png(&self, path: &Path, scale: u32) -> std::io::Result<()> {
        let bytes = self.to_png(scale);
        let tmp = path.with_extension("png.tmp");
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all().ok();
        drop(file);
        std::fs::rename(&tmp, path)
    }

    /// Decodes a PNG written by [`Frame::to_png`] (any grey level above half is lit).
    pub fn from_png(bytes: &[u8], scale: u32) -> Result<Frame, String> {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
        let mut buf = vec![0; reader.output_buffer_size().ok_or("PNG too large")?];
        let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
        let channels = info.color_type.samples();
        let (w, h) = (info.width / scale.max(1), info.height / scale.max(1));
        let mut frame = Frame::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let (px, py) = (x * scale + scale / 2, y * scale + scale / 2);
                let idx = ((py * info.width + px) as usize) * channels;
                frame.set(x, y, buf[idx] > 0x7f);
            }
        }
        Ok(frame)
    }
}

impl OriginDimensions for Frame {
    fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }
}

impl DrawTarget for Frame {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(point, color) in pixels {
            if point.x >= 0 && point.y >= 0 {
                self.set(point.x as u32, point.y as u32, color.is_on());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrants_and_braille_place_every_pixel() {
        let mut frame = Frame::new(4, 4);
        frame.set(0, 0, true); // upper left of the first cell
        frame.set(3, 1, true); // lower right of the second
        frame.set(1, 3, true);
        assert_eq!(frame.to_quadrants(), vec!["▘▗", "▗ "]);
        // braille: dot 1 in the first cell, dot 5 in the second, dot 8 in the first
        assert_eq!(frame.to_braille(), vec!["\u{2881}\u{2810}"]);
        let blank = Frame::new(128, 64);
        assert!(blank.to_braille().iter().all(|l| l.chars().count() == 64));
        assert_eq!(blank.to_braille().len(), 16);
        assert_eq!(blank.to_quadrants().len(), 32);
    }

    #[test]
    fn png_round_trips() {
        let mut frame = Frame::new(128, 32);
        frame.set(0, 0, true);
        frame.set(127, 31, true);
        frame.set(64, 10, true);
        let decoded = Frame::from_png(&frame.to_png(3), 3).unwrap();
        assert_eq!(decoded, frame);
    }

    #[test]
    fn rotation_moves_the_top_left_pixel_to_the_bottom_right() {
        let mut frame = Frame::new(128, 32);
        frame.set(0, 0, true);
        let turned = frame.rotated_180();
        assert!(turned.get(127, 31));
        assert_eq!(turned.lit_count(), 1);
    }

    #[test]
    fn changed_columns_groups_nearby_changes() {
        let old = Frame::new(128, 32);
        let mut new = old.clone();
        new.set(3, 1, true);
        new.set(6, 2, true);
        new.set(100, 7, true);
        new.set(50, 9, true);
        assert_eq!(new.changed_columns(Some(&old), 0, 8), vec![3..7, 100..101]);
        assert_eq!(new.changed_columns(Some(&old), 1, 8), vec![50..51]);
        assert!(new.changed_columns(Some(&old), 2, 8).is_empty());
        assert_eq!(new.changed_columns(None, 3, 8), vec![0..128]);
    }

    #[test]
    fn half_blocks_pack_two_rows() {
        let mut frame = Frame::new(2, 2);
        frame.set(0, 0, true);
        frame.set(1, 1, true);
        assert_eq!(frame.to_half_blocks(), vec!["▀▄".to_string()]);
    }
}
