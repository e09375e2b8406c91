//! The pipeline run as a Gantt chart: one row per step, its attempts as bars on a shared time
//! axis from the run's start to its end (or `now` while it runs), and the axis below.
//!
//! Every attempt is its own bar, and retries always stay apart (a `·` gap at least), so a
//! step retried once reads as two bars however close they were. Pure: lines from the run and
//! `now`, for any width, 0 included; no clock of its own, no state.

use jiff::Timestamp;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::pipeline_style;
use super::style;
use crate::pipeline::machine::{Attempt, StepStatus};
use crate::tui::pipeline_data::{PipelineRunView, StepView};

/// Longer step ids are cut: the bars need the room more.
const MAX_ID: usize = 16;
/// Fewer bar cells than this show nothing useful: then only the labels are drawn.
const MIN_BARS: usize = 4;

pub fn timeline(
    run: &PipelineRunView,
    selected: Option<usize>,
    now: Timestamp,
    width: u16,
) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let id_w = run
        .steps
        .iter()
        .map(|s| style::width(&s.id))
        .max()
        .unwrap_or(0)
        .min(MAX_ID);
    let tries: Vec<String> = run
        .steps
        .iter()
        .map(|s| match s.attempts.len() {
            0 | 1 => String::new(),
            n => format!(" ×{n}"),
        })
        .collect();
    let tries_w = tries.iter().map(|t| style::width(t)).max().unwrap_or(0);
    let label_w = id_w + tries_w;
    // One blank column between the labels and the bars.
    let bars = width
        .checked_sub(label_w + 1)
        .filter(|&b| b >= MIN_BARS)
        .unwrap_or(0);
    let scale = Scale {
        start: run.started_at,
        end: run.ended_at.unwrap_or(now).max(run.started_at),
        cells: bars,
    };

    let mut lines: Vec<Line<'static>> = run
        .steps
        .iter()
        .zip(&tries)
        .enumerate()
        .map(|(i, (step, tries))| {
            let (id_style, tries_style) = if selected == Some(i) {
                (style::selected(), style::selected())
            } else {
                (Style::new(), style::dim())
            };
            let id = style::fit(&step.id, id_w);
            let id = format!("{id}{}", " ".repeat(id_w.saturating_sub(style::width(&id))));
            if bars == 0 {
                let label = format!("{id}{tries}");
                return Line::from(Span::styled(
                    style::fit(label.trim_end(), width).into_owned(),
                    id_style,
                ));
            }
            let mut spans = vec![
                Span::styled(id, id_style),
                Span::styled(format!("{tries:<tries_w$}"), tries_style),
                Span::raw(" "),
            ];
            spans.extend(runs(&cells(step, &scale, now)));
            Line::from(spans)
        })
        .collect();
    lines.push(axis(&scale, label_w + 1));
    lines
}

/// Maps instants to bar cells: `cells` columns for `start..=end`.
struct Scale {
    start: Timestamp,
    end: Timestamp,
    cells: usize,
}

impl Scale {
    /// Where `at` falls, in cells from the left, within `0..=cells`.
    fn pos(&self, at: Timestamp) -> usize {
        let total = self.end.duration_since(self.start).as_millis();
        if total <= 0 {
            return 0;
        }
        let part = at.duration_since(self.start).as_millis().clamp(0, total);
        let cells = i128::try_from(self.cells).unwrap_or(i128::MAX);
        // Rounded to the nearest cell boundary.
        usize::try_from((part * cells * 2 + total) / (total * 2)).unwrap_or(self.cells)
    }

    fn secs(&self) -> u64 {
        style::secs_between(self.start, self.end)
    }
}

/// One step's bar cells: each attempt a bar (or a `✗` where a launch failed), `·` between
/// attempts and while a retry is due.
fn cells(step: &StepView, scale: &Scale, now: Timestamp) -> Vec<(char, Style)> {
    let mut cells = vec![(' ', Style::new()); scale.cells];
    let Some(last_cell) = scale.cells.checked_sub(1) else {
        return cells;
    };
    let active = matches!(
        step.status,
        StepStatus::Running { .. } | StepStatus::Launching { .. }
    );
    let wait = ('·', style::dim());
    let count = step.attempts.len();
    // The end (exclusive) of the last mark drawn.
    let mut prev: Option<usize> = None;
    for (i, a) in step.attempts.iter().enumerate() {
        let Some((from, to, glyph)) = mark(a, active && i + 1 == count, now) else {
            continue;
        };
        let color = pipeline_style::attempt_color(
            a.status.as_ref(),
            a.ended_at.is_some(),
            a.error.is_some(),
        );
        // A retry starts at least one cell after the attempt before, so they stay apart.
        let start = scale
            .pos(from)
            .max(prev.map_or(0, |p| p + 1))
            .min(last_cell);
        let end = if glyph == '█' {
            scale.pos(to).max(start + 1)
        } else {
            start + 1
        }
        .min(scale.cells);
        if let Some(p) = prev {
            for c in cells.iter_mut().take(start).skip(p) {
                *c = wait;
            }
        }
        for c in cells.iter_mut().take(end).skip(start) {
            *c = (glyph, Style::new().fg(color));
        }
        prev = Some(end);
    }
    if let (StepStatus::RetryWaiting { .. }, Some(p)) = (&step.status, prev) {
        let until = scale.pos(now).max(p + 1).min(scale.cells);
        for c in cells.iter_mut().take(until).skip(p) {
            *c = wait;
        }
    }
    cells
}

/// What one attempt draws: from, to, and the glyph. A launch that failed made no run, so it
/// is a single `✗` when it ended; a run not known to have ended runs to `now` if the step
/// still waits on it, else it shows its start only.
fn mark(a: &Attempt, ongoing: bool, now: Timestamp) -> Option<(Timestamp, Timestamp, char)> {
    let ended = a.ended_at.or(a.end_time);
    match a.launched_at {
        Some(from) => {
            let to = ended.or(ongoing.then_some(now)).unwrap_or(from);
            Some((from, to.max(from), '█'))
        }
        None if a.error.is_some() => ended.map(|at| (at, at, '✗')),
        None => None,
    }
}

/// Cells as spans, one per run of a style.
fn runs(cells: &[(char, Style)]) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut text = String::new();
    let mut current = Style::new();
    for &(ch, style) in cells {
        if style != current && !text.is_empty() {
            spans.push(Span::styled(std::mem::take(&mut text), current));
        }
        current = style;
        text.push(ch);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, current));
    }
    spans
}

/// `0s` under the left end, the total under the right, and the midpoint when there is room
/// for all three apart.
fn axis(scale: &Scale, indent: usize) -> Line<'static> {
    if scale.cells == 0 {
        return Line::default();
    }
    let mut row = vec![' '; scale.cells];
    let mut put = |at: usize, text: &str| {
        for (i, ch) in text.chars().enumerate() {
            if let Some(c) = row.get_mut(at + i) {
                *c = ch;
            }
        }
    };
    let left = "0s";
    let right = style::duration(scale.secs());
    let mid = style::duration(scale.secs() / 2);
    put(0, left);
    // Durations are ASCII: chars are columns.
    if left.len() + 1 + right.len() <= scale.cells {
        put(scale.cells - right.len(), &right);
        let at = (scale.cells / 2).saturating_sub(mid.len() / 2);
        if at >= left.len() + 2 && at + mid.len() + 2 <= scale.cells - right.len() {
            put(at, &mid);
        }
    }
    Line::from(vec![
        Span::raw(" ".repeat(indent)),
        Span::styled(row.into_iter().collect::<String>(), style::dim()),
    ])
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use indexmap::IndexMap;

    use super::*;
    use crate::hex::RunStatus;
    use crate::pipeline::machine::PipelineStatus;
    use crate::tui::pipeline_fixtures::{at, attempt_at as attempt};

    fn step(id: &str, status: StepStatus, attempts: Vec<Attempt>) -> StepView {
        StepView {
            id: id.into(),
            project: format!("{id} project"),
            depends_on: Vec::new(),
            status,
            attempts,
            retries: 2,
        }
    }

    /// 12:00 to 12:10: extract ran 2 minutes; transform failed, waited, and succeeded on
    /// its retry; load is still running.
    fn run() -> PipelineRunView {
        PipelineRunView {
            id: "p-1".into(),
            name: "nightly".into(),
            file: PathBuf::from("nightly.toml"),
            params: IndexMap::new(),
            status: PipelineStatus::Running,
            started_at: at("12:00:00"),
            ended_at: None,
            steps: vec![
                step(
                    "extract",
                    StepStatus::Succeeded,
                    vec![attempt(
                        1,
                        "12:00:00",
                        Some("12:02:00"),
                        Some(RunStatus::Completed),
                    )],
                ),
                step(
                    "transform",
                    StepStatus::Succeeded,
                    vec![
                        attempt(1, "12:02:00", Some("12:04:00"), Some(RunStatus::Errored)),
                        attempt(2, "12:05:00", Some("12:07:00"), Some(RunStatus::Completed)),
                    ],
                ),
                step(
                    "load",
                    StepStatus::Running { attempt: 1 },
                    vec![attempt(1, "12:07:00", None, Some(RunStatus::Running))],
                ),
            ],
        }
    }

    fn now() -> Timestamp {
        at("12:10:00")
    }

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    /// The bar area of a row: past the labels (`transform ×2 ` here).
    fn bars(line: &str) -> String {
        line.chars().skip(13).collect()
    }

    #[test]
    fn a_retry_is_two_bars_apart() {
        let lines = text(&timeline(&run(), None, now(), 13 + 40));
        assert_eq!(lines.len(), 4, "three steps and the axis");
        assert!(lines[1].starts_with("transform ×2 "), "{lines:#?}");
        assert!(lines[0].starts_with("extract      "), "{lines:#?}");
        // 40 cells for 10 minutes: 4 a minute.
        assert_eq!(
            bars(&lines[0]),
            format!("{}{}", "█".repeat(8), " ".repeat(32))
        );
        assert_eq!(
            bars(&lines[1]),
            format!(
                "{}{}{}{}{}",
                " ".repeat(8),
                "█".repeat(8),
                "·".repeat(4),
                "█".repeat(8),
                " ".repeat(12)
            )
        );
        // Still running: to now, the right end.
        assert_eq!(
            bars(&lines[2]),
            format!("{}{}", " ".repeat(28), "█".repeat(12))
        );
        let axis = format!(
            "{}0s{}5m00s{}10m00s",
            " ".repeat(13),
            " ".repeat(16),
            " ".repeat(11)
        );
        assert_eq!(lines[3], axis);
    }

    #[test]
    fn bars_take_the_colour_of_how_the_attempt_ended() {
        let lines = timeline(&run(), None, now(), 53);
        let colour = |line: &Line, ch: char| {
            line.spans
                .iter()
                .filter(|s| s.content.contains(ch))
                .map(|s| s.style.fg)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            colour(&lines[1], '█'),
            [Some(style::ERROR), Some(style::OK)]
        );
        assert_eq!(colour(&lines[1], '·'), [Some(style::DIM)]);
        assert_eq!(colour(&lines[2], '█'), [Some(style::ACCENT)]);
    }

    #[test]
    fn retries_stay_apart_however_close() {
        let mut r = run();
        // A retry one second after the failure, on a ten-hour axis.
        r.steps[1].attempts[1] = attempt(2, "12:04:01", Some("12:07:00"), None);
        r.ended_at = Some(at("22:00:00"));
        let lines = text(&timeline(&r, None, now(), 13 + 20));
        let row = bars(&lines[1]);
        assert!(row.contains("█·█"), "{row:?}");
    }

    #[test]
    fn a_waiting_retry_and_a_failed_launch() {
        let mut r = run();
        r.steps[2].status = StepStatus::RetryWaiting {
            due: at("12:11:00"),
        };
        r.steps[2].attempts = vec![
            attempt(1, "12:07:00", Some("12:08:00"), Some(RunStatus::Errored)),
            Attempt {
                number: 2,
                ended_at: Some(at("12:09:00")),
                error: Some("429: too many launches".into()),
                ..Attempt::default()
            },
        ];
        let lines = text(&timeline(&r, None, now(), 13 + 40));
        assert!(lines[2].starts_with("load      ×2 "), "{lines:#?}");
        assert_eq!(
            bars(&lines[2]),
            format!(
                "{}{}{}✗{}",
                " ".repeat(28),
                "█".repeat(4),
                "·".repeat(4),
                "·".repeat(3)
            )
        );
    }

    #[test]
    fn the_selected_label_is_highlighted() {
        let lines = timeline(&run(), Some(1), now(), 60);
        assert_eq!(lines[1].spans[0].content, "transform");
        assert_eq!(lines[1].spans[0].style, style::selected());
        assert_eq!(lines[0].spans[0].style, Style::new());
    }

    #[test]
    fn narrow_widths_show_labels_only_and_never_panic() {
        let r = run();
        let lines = text(&timeline(&r, None, now(), 16));
        assert_eq!(lines[..3], ["extract", "transform ×2", "load"]);
        assert_eq!(lines[3], "");
        for width in 0..80 {
            let lines = timeline(&r, Some(0), now(), width);
            assert_eq!(lines.len(), 4);
            assert!(
                lines.iter().all(|l| l.width() <= usize::from(width)),
                "{width}"
            );
        }
        let mut empty = r.clone();
        empty.steps.clear();
        empty.ended_at = Some(empty.started_at);
        assert_eq!(timeline(&empty, None, now(), 40).len(), 1);
        assert!(timeline(&empty, None, now(), 0)[0].spans.is_empty());
    }

    #[test]
    fn long_ids_are_cut() {
        let mut r = run();
        r.steps[0].id = "extract_everything_from_the_warehouse".into();
        let lines = text(&timeline(&r, None, now(), 60));
        assert!(lines[0].starts_with("extract_everyth… "), "{lines:#?}");
    }

    #[test]
    fn a_retry_snapshot() {
        let lines = text(&timeline(&run(), Some(1), now(), 60));
        insta::assert_snapshot!(lines.join("\n"));
    }
}
