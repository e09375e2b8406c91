//! A grid of cells for the pipeline graph: text, or wires kept as direction bits, so lines
//! drawn one at a time join into the right box-drawing glyph (`─` plus `│` is `┼`, not
//! whichever came last).
//!
//! Knows nothing of steps or edges: [`super`] places the boxes, [`super::route`] the wires.
//! Writes outside the grid are dropped, never a panic.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

pub const N: u8 = 1;
pub const E: u8 = 2;
pub const S: u8 = 4;
pub const W: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sym {
    Blank,
    Char(char),
    /// The right half of a double-width character: prints nothing.
    Cont,
    Wire(u8),
}

#[derive(Debug, Clone, Copy)]
struct Cell {
    sym: Sym,
    style: Style,
}

pub struct Canvas {
    width: usize,
    cells: Vec<Cell>,
}

impl Canvas {
    pub fn new(width: usize, height: usize) -> Self {
        let blank = Cell {
            sym: Sym::Blank,
            style: Style::new(),
        };
        Self {
            width,
            cells: vec![blank; width * height],
        }
    }

    fn cell_mut(&mut self, x: usize, y: usize) -> Option<&mut Cell> {
        if x >= self.width {
            return None;
        }
        self.cells.get_mut(y * self.width + x)
    }

    pub fn put(&mut self, x: usize, y: usize, ch: char, style: Style) {
        if let Some(cell) = self.cell_mut(x, y) {
            *cell = Cell {
                sym: Sym::Char(ch),
                style,
            };
        }
    }

    /// Writes `text` from `x`; returns the columns used. Zero-width characters are dropped
    /// (a cell holds one character), double-width ones take two cells.
    pub fn text(&mut self, x: usize, y: usize, text: &str, style: Style) -> usize {
        let mut used = 0;
        for ch in text.chars() {
            match ch.width() {
                Some(1) => self.put(x + used, y, ch, style),
                Some(2) => {
                    self.put(x + used, y, ch, style);
                    if let Some(cell) = self.cell_mut(x + used + 1, y) {
                        *cell = Cell {
                            sym: Sym::Cont,
                            style,
                        };
                    }
                }
                _ => continue,
            }
            used += ch.width().unwrap_or(0);
        }
        used
    }

    /// Adds direction bits to a wire cell; text already there wins (a wire never runs
    /// through a box).
    pub fn wire(&mut self, x: usize, y: usize, bits: u8, style: Style) {
        if bits == 0 {
            return;
        }
        if let Some(cell) = self.cell_mut(x, y) {
            match cell.sym {
                Sym::Blank => {
                    *cell = Cell {
                        sym: Sym::Wire(bits),
                        style,
                    }
                }
                Sym::Wire(old) => cell.sym = Sym::Wire(old | bits),
                Sym::Char(_) | Sym::Cont => {}
            }
        }
    }

    /// The direction bits at a cell, 0 for text or nothing.
    pub fn bits(&self, x: usize, y: usize) -> u8 {
        if x >= self.width {
            return 0;
        }
        match self.cells.get(y * self.width + x).map(|c| c.sym) {
            Some(Sym::Wire(bits)) => bits,
            _ => 0,
        }
    }

    /// One line per row, each spanning the full width, with runs of one style merged into
    /// one span.
    pub fn into_lines(self) -> Vec<Line<'static>> {
        if self.width == 0 {
            return Vec::new();
        }
        self.cells
            .chunks(self.width)
            .map(|row| {
                let mut spans: Vec<Span<'static>> = Vec::new();
                let mut text = String::new();
                let mut style = Style::new();
                for cell in row {
                    if cell.style != style && !text.is_empty() {
                        spans.push(Span::styled(std::mem::take(&mut text), style));
                    }
                    style = cell.style;
                    match cell.sym {
                        Sym::Blank => text.push(' '),
                        Sym::Char(c) => text.push(c),
                        Sym::Cont => {}
                        Sym::Wire(bits) => text.push(glyph(bits)),
                    }
                }
                if !text.is_empty() {
                    spans.push(Span::styled(text, style));
                }
                Line::from(spans)
            })
            .collect()
    }
}

/// The light box-drawing glyph joining the given directions.
pub fn glyph(bits: u8) -> char {
    match bits & (N | E | S | W) {
        0 => ' ',
        N => '╵',
        E => '╶',
        S => '╷',
        W => '╴',
        0b0101 => '│',
        0b1010 => '─',
        0b0110 => '┌',
        0b1100 => '┐',
        0b0011 => '└',
        0b1001 => '┘',
        0b0111 => '├',
        0b1101 => '┤',
        0b1110 => '┬',
        0b1011 => '┴',
        _ => '┼',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(c: Canvas) -> Vec<String> {
        c.into_lines().iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn wires_join_whatever_order_they_are_drawn_in() {
        let mut c = Canvas::new(3, 3);
        for x in 0..3 {
            c.wire(x, 1, if x == 0 { E } else { E | W }, Style::new());
        }
        c.wire(1, 0, S, Style::new());
        c.wire(1, 1, N | S, Style::new());
        c.wire(1, 2, N, Style::new());
        assert_eq!(text(c), [" ╷ ", "╶┼─", " ╵ "]);
    }

    #[test]
    fn text_wins_over_wires_and_writes_outside_are_dropped() {
        let mut c = Canvas::new(4, 1);
        c.text(0, 0, "ab", Style::new());
        c.wire(0, 0, E | W, Style::new());
        c.wire(9, 9, E | W, Style::new());
        c.put(4, 0, 'x', Style::new());
        assert_eq!(c.text(2, 0, "日本", Style::new()), 4);
        assert_eq!(text(c), ["ab日"]);
    }

    #[test]
    fn runs_of_one_style_make_one_span() {
        let mut c = Canvas::new(6, 1);
        let bold = Style::new().add_modifier(ratatui::style::Modifier::BOLD);
        c.text(0, 0, "ab", bold);
        c.text(2, 0, "cd", bold);
        let lines = c.into_lines();
        assert_eq!(lines[0].spans.len(), 2);
        assert_eq!(lines[0].spans[0].content, "abcd");
    }
}
