//! Aligned columns for the list screens: widths sized to what is on screen, low-value columns
//! dropped first when the terminal is narrow, a cursor row marked with `›` and a highlight.
//!
//! Takes only the rows that fit (the caller picks the scroll window with [`window`]), so a list
//! of ten thousand runs costs what fifty cost. Knows nothing of projects or runs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::style;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column. Exactly one column per table should be `flex`: it gets the width the others
/// leave, and is never dropped.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    pub align: Align,
    /// Columns with a lower rank are dropped first when the terminal is too narrow.
    pub rank: u8,
    pub flex: bool,
    /// The narrowest the flexible column may get before other columns are dropped.
    pub min: u16,
    /// The widest a fixed column gets; longer cells are cut with `…`.
    pub max: u16,
}

impl Column {
    pub const fn fixed(title: &'static str, rank: u8) -> Column {
        Column {
            title,
            align: Align::Left,
            rank,
            flex: false,
            min: 0,
            max: u16::MAX,
        }
    }

    pub const fn flex(title: &'static str, min: u16) -> Column {
        Column {
            title,
            align: Align::Left,
            rank: u8::MAX,
            flex: true,
            min,
            max: u16::MAX,
        }
    }

    pub const fn right(mut self) -> Column {
        self.align = Align::Right;
        self
    }

    pub const fn max(mut self, max: u16) -> Column {
        self.max = max;
        self
    }
}

const GAP: usize = 2;

/// The first row to show so that `cursor` is on screen: the top page stays put, then the cursor
/// is kept in the middle, and the last page is never left half empty. Views keep no state, so
/// the window is a function of the cursor alone.
pub fn window(len: usize, cursor: usize, height: usize) -> usize {
    if len <= height || height == 0 {
        return 0;
    }
    cursor
        .saturating_sub(height / 2)
        .min(len.saturating_sub(height))
}

/// Which columns fit in `width` and how wide each is (`None` for a dropped column).
fn layout(
    columns: &[Column],
    titles: &[Span<'_>],
    rows: &[Vec<Span<'_>>],
    width: usize,
) -> Vec<Option<usize>> {
    let natural: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(Span::width)
                .max()
                .unwrap_or(0);
            let title = titles.get(i).map_or(0, Span::width);
            content.max(title).min(usize::from(c.max))
        })
        .collect();
    // A column with nothing in it and no title (the pin mark when nothing is pinned) takes no
    // room at all.
    let mut kept: Vec<bool> = natural.iter().map(|n| *n > 0).collect();
    // The cursor gutter takes one column.
    let needed = |kept: &[bool]| -> usize {
        let shown = kept.iter().filter(|k| **k).count();
        1 + columns
            .iter()
            .zip(&natural)
            .zip(kept)
            .filter(|(_, k)| **k)
            .map(|((c, n), _)| if c.flex { usize::from(c.min) } else { *n })
            .sum::<usize>()
            + GAP * shown.saturating_sub(1)
    };
    while needed(&kept) > width {
        // Drop the lowest-ranked column still shown; the rightmost of equals goes first.
        let victim = columns
            .iter()
            .enumerate()
            .filter(|(i, c)| kept[*i] && !c.flex)
            .min_by_key(|(i, c)| (c.rank, std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        match victim {
            Some(i) => kept[i] = false,
            None => break,
        }
    }
    let fixed = needed(&kept)
        - columns
            .iter()
            .zip(&kept)
            .filter(|(c, k)| **k && c.flex)
            .map(|(c, _)| usize::from(c.min))
            .sum::<usize>();
    let spare = width.saturating_sub(fixed);
    columns
        .iter()
        .zip(&natural)
        .zip(&kept)
        .map(|((c, n), k)| match (k, c.flex) {
            (false, _) => None,
            (true, true) => Some((*n).min(spare).max(usize::from(c.min).min(spare))),
            (true, false) => Some(*n),
        })
        .collect()
}

/// Draws the header and `rows` (already cut to the window) into `area`; `selected` is the
/// index within `rows` of the cursor row.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    columns: &[Column],
    rows: &[Vec<Span<'_>>],
    selected: Option<usize>,
) {
    render_sorted(frame, area, columns, rows, selected, None);
}

/// [`render`], with the column the rows are sorted by marked in the header (`▲` in its natural
/// direction, `▼` turned round): `sorted` is its index and whether it is turned round.
pub fn render_sorted(
    frame: &mut Frame,
    area: Rect,
    columns: &[Column],
    rows: &[Vec<Span<'_>>],
    selected: Option<usize>,
    sorted: Option<(usize, bool)>,
) {
    if area.height == 0 {
        return;
    }
    let header: Vec<Span<'_>> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match sorted {
            Some((at, reversed)) if at == i => {
                Span::raw(format!("{} {}", c.title, if reversed { "▼" } else { "▲" }))
            }
            _ => Span::raw(c.title),
        })
        .collect();
    let widths = layout(columns, &header, rows, usize::from(area.width));
    let header_line = line(columns, &widths, &header, " ").style(style::heading());
    frame.render_widget(header_line, row_rect(area, 0));
    for (i, cells) in rows.iter().enumerate() {
        let y = u16::try_from(i + 1).unwrap_or(u16::MAX);
        if y >= area.height {
            break;
        }
        let is_selected = selected == Some(i);
        let gutter = if is_selected { "›" } else { " " };
        let mut l = line(columns, &widths, cells, gutter);
        if is_selected {
            l = l.patch_style(style::selected());
        }
        frame.render_widget(l, row_rect(area, y));
    }
}

fn row_rect(area: Rect, y: u16) -> Rect {
    Rect {
        x: area.x,
        y: area.y.saturating_add(y),
        width: area.width,
        height: 1,
    }
}

fn line<'a>(
    columns: &[Column],
    widths: &[Option<usize>],
    cells: &[Span<'a>],
    gutter: &'static str,
) -> Line<'a> {
    let mut spans: Vec<Span<'a>> = Vec::with_capacity(cells.len() * 2 + 1);
    spans.push(Span::styled(gutter, style::key()));
    let mut first = true;
    for ((c, w), cell) in columns.iter().zip(widths).zip(cells) {
        let Some(w) = *w else { continue };
        if !first {
            spans.push(Span::raw("  "));
        }
        first = false;
        let text = style::fit(&cell.content, w);
        let pad = " ".repeat(w.saturating_sub(style::width(&text)));
        let text = text.into_owned();
        match c.align {
            Align::Left => {
                spans.push(Span::styled(text, cell.style));
                spans.push(Span::raw(pad));
            }
            Align::Right => {
                spans.push(Span::raw(pad));
                spans.push(Span::styled(text, cell.style));
            }
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_cursor() {
        assert_eq!(window(5, 4, 10), 0, "everything fits");
        assert_eq!(window(100, 3, 10), 0, "top page stays put");
        assert_eq!(window(100, 50, 10), 45, "cursor in the middle");
        assert_eq!(window(100, 99, 10), 90, "last page is full");
    }

    #[test]
    fn narrow_terminals_drop_the_lowest_rank_first() {
        let columns = [
            Column::flex("NAME", 10),
            Column::fixed("A", 3),
            Column::fixed("B", 1),
            Column::fixed("C", 2),
        ];
        let row = vec![
            Span::raw("a long name here"),
            Span::raw("aaaaa"),
            Span::raw("bbbbb"),
            Span::raw("ccccc"),
        ];
        let rows = vec![row];
        let titles: Vec<Span> = columns.iter().map(|c| Span::raw(c.title)).collect();
        let all = layout(&columns, &titles, &rows, 80);
        assert_eq!(all, vec![Some(16), Some(5), Some(5), Some(5)]);
        // 1 + 10 + 2+5 + 2+5 = 25: B (rank 1) goes, C stays.
        assert_eq!(
            layout(&columns, &titles, &rows, 25),
            vec![Some(10), Some(5), None, Some(5)]
        );
        assert_eq!(
            layout(&columns, &titles, &rows, 12),
            vec![Some(11), None, None, None]
        );
    }
}
