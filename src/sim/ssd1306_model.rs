//! A model of the SSD1306 controller: it decodes the bytes a driver writes over
//! I2C (control bytes, commands and their arguments, addressing modes and
//! windows, remap, COM scan, multiplex, display on/off) into display RAM and
//! shows the picture a viewer sees. It is what makes the simulator's frames,
//! and the tests that use them, honest.

use crate::frame::Frame;

const WIDTH: usize = 128;
const PAGES: usize = 8;
const RAM_ROWS: usize = 64;

/// Argument count of the commands that take any.
fn argument_count(op: u8) -> usize {
    match op {
        0x20 | 0x23 | 0x81 | 0x8D | 0xA8 | 0xAD | 0xD3 | 0xD5 | 0xD6 | 0xD9 | 0xDA | 0xDB => 1,
        0x21 | 0x22 | 0xA3 => 2,
        0x29 | 0x2A => 5,
        0x26 | 0x27 | 0x2C | 0x2D => 6,
        _ => 0,
    }
}

/// Addressing mode (command 0x20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Addressing {
    Horizontal,
    Vertical,
    Page,
}

/// The controller's state, as after reset.
#[derive(Debug, Clone)]
pub struct Ssd1306Model {
    ram: [u8; WIDTH * PAGES],
    mode: Addressing,
    col_start: usize,
    col_end: usize,
    page_start: usize,
    page_end: usize,
    col: usize,
    page: usize,
    page_col_start: usize,
    display_on: bool,
    mux: usize,
    start_line: usize,
    offset: usize,
    seg_remap: bool,
    com_remap: bool,
    contrast: u8,
    charge_pump: bool,
    invert: bool,
    entire_on: bool,
    pending: Option<(u8, Vec<u8>)>,
    data_bytes: u64,
}

impl Default for Ssd1306Model {
    fn default() -> Self {
        Ssd1306Model {
            ram: [0; WIDTH * PAGES],
            mode: Addressing::Page,
            col_start: 0,
            col_end: WIDTH - 1,
            page_start: 0,
            page_end: PAGES - 1,
            col: 0,
            page: 0,
            page_col_start: 0,
            display_on: false,
            mux: 64,
            start_line: 0,
            offset: 0,
            seg_remap: false,
            com_remap: false,
            contrast: 0x7F,
            charge_pump: false,
            invert: false,
            entire_on: false,
            pending: None,
            data_bytes: 0,
        }
    }
}

impl Ssd1306Model {
    /// A controller just after power-on.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the display is switched on (0xAF) with the charge pump enabled.
    pub fn display_on(&self) -> bool {
        self.display_on
    }

    /// The contrast register (0x81).
    pub fn contrast(&self) -> u8 {
        self.contrast
    }

    /// Display data bytes received so far.
    #[cfg(test)]
    pub(crate) fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// Feeds one I2C write message (the bytes after the address).
    pub fn write(&mut self, message: &[u8]) {
        let mut i = 0;
        while i < message.len() {
            let control = message[i];
            i += 1;
            let data = control & 0x40 != 0;
            if control & 0x80 != 0 {
                // Co = 1: one byte, then another control byte
                if let Some(&b) = message.get(i) {
                    self.byte(data, b);
                    i += 1;
                }
                continue;
            }
            for &b in &message[i..] {
                self.byte(data, b);
            }
            return;
        }
    }

    fn byte(&mut self, data: bool, b: u8) {
        if data {
            self.data(b)
        } else {
            self.command(b)
        }
    }

    fn command(&mut self, b: u8) {
        if let Some((op, mut args)) = self.pending.take() {
            args.push(b);
            if args.len() == argument_count(op) {
                self.apply(op, &args);
            } else {
                self.pending = Some((op, args));
            }
            return;
        }
        if argument_count(b) > 0 {
            self.pending = Some((b, Vec::with_capacity(6)));
        } else {
            self.apply(b, &[]);
        }
    }

    fn apply(&mut self, op: u8, a: &[u8]) {
        match op {
            0x20 => {
                self.mode = match a[0] & 3 {
                    0 => Addressing::Horizontal,
                    1 => Addressing::Vertical,
                    _ => Addressing::Page,
                }
            }
            0x21 => {
                self.col_start = (a[0] & 0x7F) as usize;
                self.col_end = (a[1] & 0x7F) as usize;
                self.col = self.col_start;
            }
            0x22 => {
                self.page_start = (a[0] & 7) as usize;
                self.page_end = (a[1] & 7) as usize;
                self.page = self.page_start;
            }
            0x81 => self.contrast = a[0],
            0x8D => self.charge_pump = a[0] & 0x04 != 0,
            0xA8 => self.mux = a[0].clamp(15, 63) as usize + 1,
            0xD3 => self.offset = (a[0] & 0x3F) as usize,
            0xA0 | 0xA1 => self.seg_remap = op == 0xA1,
            0xA4 | 0xA5 => self.entire_on = op == 0xA5,
            0xA6 | 0xA7 => self.invert = op == 0xA7,
            0xAE | 0xAF => self.display_on = op == 0xAF,
            0x00..=0x0F => {
                self.col = (self.col & 0x70) | op as usize;
                self.page_col_start = self.col;
            }
            0x10..=0x1F => {
                self.col = (((op & 0x07) as usize) << 4) | (self.col & 0x0F);
                self.page_col_start = self.col;
            }
            0x40..=0x7F => self.start_line = (op & 0x3F) as usize,
            0xB0..=0xB7 => self.page = (op & 7) as usize,
            0xC0..=0xCF => self.com_remap = op & 0x08 != 0,
            // timing, scrolling set-up, NOP and the rest: no effect on the picture
            _ => {}
        }
    }

    fn data(&mut self, b: u8) {
        self.pending = None;
        self.data_bytes += 1;
        self.ram[self.page * WIDTH + self.col] = b;
        match self.mode {
            Addressing::Horizontal => {
                if self.col >= self.col_end {
                    self.col = self.col_start;
                    self.page = if self.page >= self.page_end {
                        self.page_start
                    } else {
                        self.page + 1
                    };
                } else {
                    self.col += 1;
                }
            }
            Addressing::Vertical => {
                if self.page >= self.page_end {
                    self.page = self.page_start;
                    self.col = if self.col >= self.col_end {
                        self.col_start
                    } else {
                        self.col + 1
                    };
                } else {
                    self.page += 1;
                }
            }
            Addressing::Page => {
                self.col = if self.col < WIDTH - 1 {
                    self.col + 1
                } else {
                    self.page_col_start
                };
            }
        }
    }

    fn ram_pixel(&self, ram_row: usize, col: usize) -> bool {
        (self.ram[(ram_row / 8) * WIDTH + col] >> (ram_row % 8)) & 1 == 1
    }

    /// The glass as seen from the front of a module in its usual orientation
    /// (connector at the top), `rows` tall, whatever the display on/off state.
    pub fn glass(&self, rows: usize) -> Frame {
        let mut frame = Frame::new(WIDTH as u32, rows as u32);
        for r in 0..self.mux.min(rows) {
            let com = if self.com_remap { self.mux - 1 - r } else { r };
            // COM0 is the bottom row of the glass, SEG0 the rightmost column
            let Some(y) = (rows - 1).checked_sub(com) else {
                continue;
            };
            let ram_row = (r + self.start_line + self.offset) % RAM_ROWS;
            for col in 0..WIDTH {
                let seg = if self.seg_remap { WIDTH - 1 - col } else { col };
                let x = WIDTH - 1 - seg;
                let lit = self.entire_on || (self.ram_pixel(ram_row, col) ^ self.invert);
                frame.set(x as u32, y as u32, lit);
            }
        }
        frame
    }

    /// What a viewer sees: dark while the display is off; `upside_down` for a
    /// module mounted turned by 180° (the RackPi).
    pub fn visible(&self, rows: usize, upside_down: bool) -> Frame {
        if !self.display_on {
            return Frame::new(WIDTH as u32, rows as u32);
        }
        let glass = self.glass(rows);
        if upside_down {
            glass.rotated_180()
        } else {
            glass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(frame: &Frame) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for y in 0..frame.height() {
            for x in 0..frame.width() {
                if frame.get(x, y) {
                    out.push((x, y));
                }
            }
        }
        out
    }

    #[test]
    fn page_mode_with_one_command_per_transfer() {
        let mut d = Ssd1306Model::new();
        for cmd in [0xA1, 0xC8, 0xA8, 0x1F, 0xAF] {
            d.write(&[0x80, cmd]);
        }
        d.write(&[0x00, 0xB1]);
        d.write(&[0x00, 0x02, 0x10]);
        d.write(&[0x40, 0x01]);
        assert_eq!(lit(&d.visible(32, false)), vec![(2, 8)]);
    }

    #[test]
    fn horizontal_window_wraps_to_its_start() {
        let mut d = Ssd1306Model::new();
        d.write(&[
            0x00, 0xA1, 0xC8, 0xA8, 31, 0x20, 0x00, 0x21, 10, 11, 0x22, 0, 1, 0xAF,
        ]);
        // four bytes fill the 2x2 window; the fifth wraps to its start
        d.write(&[0x40, 1, 1, 1, 1, 0x80]);
        assert_eq!(
            lit(&d.visible(32, false)),
            vec![(11, 0), (10, 7), (10, 8), (11, 8)]
        );
    }

    #[test]
    fn arguments_split_across_transfers_are_not_commands() {
        let mut d = Ssd1306Model::new();
        d.write(&[0x00, 0x81]);
        d.write(&[0x00, 0xAF]); // the contrast value, not "display on"
        assert_eq!(d.contrast(), 0xAF);
        assert!(!d.display_on());
    }

    #[test]
    fn rotate_180_on_a_module_mounted_upside_down_reads_upright() {
        // A0 + C0 is what the driver sends for Rotate180
        let mut d = Ssd1306Model::new();
        d.write(&[
            0x00, 0xA0, 0xC0, 0xA8, 31, 0x20, 0x00, 0x21, 0, 127, 0x22, 0, 3, 0xAF,
        ]);
        d.write(&[0x40, 0x01]);
        assert_eq!(lit(&d.visible(32, true)), vec![(0, 0)]);
    }

    #[test]
    fn display_off_shows_nothing_but_keeps_the_ram() {
        let mut d = Ssd1306Model::new();
        d.write(&[0x00, 0xA1, 0xC8, 0xA8, 31, 0xAF]);
        d.write(&[0x40, 0xFF]);
        assert_eq!(d.visible(32, false).lit_count(), 8);
        d.write(&[0x00, 0xAE]);
        assert_eq!(d.visible(32, false).lit_count(), 0);
        d.write(&[0x00, 0xAF]);
        assert_eq!(d.visible(32, false).lit_count(), 8);
    }
}
