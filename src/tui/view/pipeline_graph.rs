//! The pipeline run's steps as a graph: boxes in columns, left to right, joined by arrows.
//!
//! A layered (Sugiyama-style) drawing: a step's column is one past its deepest dependency;
//! an edge that skips columns passes through a dummy slot in each column between (a plain
//! line), so every edge crosses only the gap between two neighbouring columns and never a
//! box. Within a column, boxes follow the mean position of their predecessors (one
//! barycenter pass; ties in step order), and each column is centred vertically. The gaps are
//! wired by [`route`]. Pure: draws from the steps, `now` and the spinner `frame` into lines
//! the caller scrolls and clips; keeps no state and does no I/O.

mod canvas;
mod route;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use jiff::Timestamp;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

use self::canvas::{Canvas, E, W};
use super::pipeline_style;
use super::style;
use crate::pipeline::machine::StepStatus;
use crate::tui::pipeline_data::StepView;

/// A box's width; the step id is cut to fit its top border.
const BOX_W: usize = 22;
/// Three rows of box and one blank row below it.
const SLOT_H: usize = 4;
/// Room for the glyph, word and detail: the box less its borders and a space each side.
const CONTENT_W: usize = BOX_W - 4;

pub struct Graph {
    pub lines: Vec<Line<'static>>,
    pub width: u16,
    /// x range (start, end) of the selected box, so the caller can scroll it into view; the
    /// end is exclusive.
    pub selected_x: Option<(u16, u16)>,
    /// The rows (first, last) of the selected box, so the caller can scroll it into view
    /// vertically too (a tall fan-out is taller than the room for it).
    pub selected_y: Option<(usize, usize)>,
}

/// A column entry: a step's box, or a dummy carrying a long edge through the column.
struct Node {
    step: Option<usize>,
    layer: usize,
    /// Tie-break within a column: the step's index, or for a dummy its edge's target's.
    key: usize,
    preds: Vec<usize>,
    succs: Vec<usize>,
}

pub fn graph(steps: &[StepView], selected: Option<usize>, now: Timestamp, frame: u64) -> Graph {
    if steps.is_empty() {
        return Graph {
            lines: Vec::new(),
            width: 0,
            selected_x: None,
            selected_y: None,
        };
    }
    let nodes = nodes(steps);
    let columns = columns(&nodes);

    let height = columns
        .iter()
        .map(|c| (c.len() * SLOT_H).saturating_sub(1))
        .max()
        .unwrap_or(0);
    let mut row = vec![0; nodes.len()];
    for column in &columns {
        let top = height.saturating_sub((column.len() * SLOT_H).saturating_sub(1)) / 2;
        for (slot, &n) in column.iter().enumerate() {
            row[n] = top + slot * SLOT_H + 1;
        }
    }

    let gaps: Vec<route::Gap> = columns
        .iter()
        .map(|column| {
            let edges: Vec<(usize, usize)> = column
                .iter()
                .flat_map(|&n| nodes[n].succs.iter().map(move |&s| (n, s)))
                .collect();
            route::plan(&edges, &row, height)
        })
        .collect();
    let mut col_x = Vec::with_capacity(columns.len());
    let mut x = 0;
    for gap in &gaps {
        col_x.push(x);
        x += BOX_W + gap.width();
    }
    // The last column has no gap after it.
    let width = x - gaps.last().map_or(0, route::Gap::width);

    let mut canvas = Canvas::new(width, height);
    let wire = Style::new().fg(Color::Gray);
    let mut selected_x = None;
    let mut selected_y = None;
    for (c, column) in columns.iter().enumerate() {
        for &n in column {
            let node = &nodes[n];
            let Some(i) = node.step else {
                for dx in 0..BOX_W {
                    canvas.wire(col_x[c] + dx, row[n], E | W, wire);
                }
                continue;
            };
            let is_selected = selected == Some(i);
            let out = !node.succs.is_empty();
            draw_box(
                &mut canvas,
                col_x[c],
                row[n] - 1,
                &steps[i],
                is_selected,
                out,
                now,
                frame,
            );
            if is_selected {
                let clamp = |v: usize| u16::try_from(v).unwrap_or(u16::MAX);
                selected_x = Some((clamp(col_x[c]), clamp(col_x[c] + BOX_W)));
                // The box's three rows around its middle row.
                selected_y = Some((row[n] - 1, row[n] + 1));
            }
        }
        if c + 1 < columns.len() {
            let is_box = |n: usize| nodes.get(n).is_some_and(|n| n.step.is_some());
            gaps[c].draw(&mut canvas, col_x[c] + BOX_W, &is_box, wire);
        }
    }
    Graph {
        lines: canvas.into_lines(),
        width: u16::try_from(width).unwrap_or(u16::MAX),
        selected_x,
        selected_y,
    }
}

/// The steps as nodes (step `i` is node `i`), with a dummy for each column a long edge skips.
/// A dependency on an unknown or later step is ignored: the definition's validation refuses
/// those, and drawing must not loop on them.
fn nodes(steps: &[StepView]) -> Vec<Node> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in steps.iter().enumerate() {
        index.entry(s.id.as_str()).or_insert(i);
    }
    let deps: Vec<Vec<usize>> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut d: Vec<usize> = s
                .depends_on
                .iter()
                .filter_map(|id| index.get(id.as_str()).copied())
                .filter(|&d| d < i)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    let mut nodes: Vec<Node> = Vec::with_capacity(steps.len());
    for (i, d) in deps.iter().enumerate() {
        let layer = d.iter().map(|&d| nodes[d].layer + 1).max().unwrap_or(0);
        nodes.push(Node {
            step: Some(i),
            layer,
            key: i,
            preds: Vec::new(),
            succs: Vec::new(),
        });
    }
    for (v, d) in deps.iter().enumerate() {
        for &u in d {
            let mut prev = u;
            for layer in nodes[u].layer + 1..nodes[v].layer {
                nodes.push(Node {
                    step: None,
                    layer,
                    key: v,
                    preds: vec![prev],
                    succs: Vec::new(),
                });
                let dummy = nodes.len() - 1;
                nodes[prev].succs.push(dummy);
                prev = dummy;
            }
            nodes[prev].succs.push(v);
            nodes[v].preds.push(prev);
        }
    }
    nodes
}

/// Node ids per column, top to bottom: the first in step order, each next one by the mean
/// position of its predecessors in the column before.
fn columns(nodes: &[Node]) -> Vec<Vec<usize>> {
    let layers = nodes.iter().map(|n| n.layer + 1).max().unwrap_or(0);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, n) in nodes.iter().enumerate() {
        columns[n.layer].push(i);
    }
    let mut position = vec![0.0_f64; nodes.len()];
    for column in &mut columns {
        let bary = |n: usize| {
            let preds = &nodes[n].preds;
            if preds.is_empty() {
                return 0.0;
            }
            preds.iter().map(|&p| position[p]).sum::<f64>() / preds.len() as f64
        };
        let mut keyed: Vec<(f64, usize, bool, usize)> = column
            .iter()
            .map(|&n| (bary(n), nodes[n].key, nodes[n].step.is_none(), n))
            .collect();
        keyed.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        *column = keyed.into_iter().map(|k| k.3).collect();
        for (p, &n) in column.iter().enumerate() {
            position[n] = p as f64;
        }
    }
    columns
}

/// One box: the id in its top border, status and detail in the middle; heavy and bold when
/// selected. `out` marks the right border where the step's edges leave.
#[allow(clippy::too_many_arguments)]
fn draw_box(
    canvas: &mut Canvas,
    x: usize,
    y: usize,
    step: &StepView,
    selected: bool,
    out: bool,
    now: Timestamp,
    frame: u64,
) {
    let (glyph, word, color) = pipeline_style::step(&step.status, frame);
    let mut border = Style::new().fg(color);
    let mut text = Style::new();
    if selected {
        border = border.add_modifier(Modifier::BOLD);
        text = text.add_modifier(Modifier::BOLD);
    }
    let [tl, tr, bl, br, h, v, exit] = if selected {
        ['┏', '┓', '┗', '┛', '━', '┃', '┠']
    } else {
        ['┌', '┐', '└', '┘', '─', '│', '├']
    };
    let right = x + BOX_W - 1;
    for dx in 1..BOX_W - 1 {
        canvas.put(x + dx, y, h, border);
        canvas.put(x + dx, y + 1, ' ', text);
        canvas.put(x + dx, y + 2, h, border);
    }
    for (dy, l, r) in [(0, tl, tr), (1, v, if out { exit } else { v }), (2, bl, br)] {
        canvas.put(x, y + dy, l, border);
        canvas.put(right, y + dy, r, border);
    }
    let title = style::fit(&step.id, BOX_W - 5);
    canvas.put(x + 1, y, ' ', border);
    let used = canvas.text(x + 2, y, &title, text);
    canvas.put(x + 2 + used, y, ' ', border);

    let head = format!("{glyph} {word}");
    let detail = detail(step, now);
    let (head, detail) = match detail {
        // The word goes first when all does not fit: glyph and colour still say it.
        Some(d) if style::width(&head) + 1 + style::width(&d) > CONTENT_W => {
            (glyph.to_string(), Some(d))
        }
        d => (head, d),
    };
    let status = Style::new().fg(color).patch(text);
    let used = canvas.text(x + 2, y + 1, &style::fit(&head, CONTENT_W), status);
    if let Some(d) = detail {
        let room = CONTENT_W.saturating_sub(used + 1);
        canvas.text(x + 3 + used, y + 1, &style::fit(&d, room), text);
    }
}

/// What the middle row says after the status: how long, which attempt, when the retry is.
fn detail(step: &StepView, now: Timestamp) -> Option<String> {
    let attempt = |n: u32| {
        step.attempts
            .iter()
            .rev()
            .find(|a| a.number == n)
            .or(step.attempts.last())
    };
    let (a, until) = match step.status {
        StepStatus::RetryWaiting { due } => {
            return Some(format!(
                "retry in {}",
                style::duration(style::secs_between(now, due))
            ));
        }
        StepStatus::Waiting | StepStatus::Skipped => return None,
        StepStatus::Launching { attempt: n } | StepStatus::Running { attempt: n } => {
            (attempt(n)?, Some(now))
        }
        StepStatus::Succeeded | StepStatus::Failed | StepStatus::Cancelled => {
            let a = step.attempts.last()?;
            (a, a.ended_at)
        }
    };
    let mut parts = Vec::new();
    if a.number > 1 {
        parts.push(format!("#{}", a.number));
    }
    if let (Some(from), Some(to)) = (a.launched_at, until) {
        parts.push(style::duration(style::secs_between(from, to)));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}
