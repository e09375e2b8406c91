//! The pipeline run view: a summary line, the steps as a graph (boxes and arrows coloured by
//! status), a timeline (a Gantt bar per attempt, so retries show), and the selected step's
//! details.
//!
//! The graph and timeline are drawn by [`super::pipeline_graph`] and
//! [`super::pipeline_timeline`]; this module lays them out, scrolls the graph sideways to keep
//! the selected step in view, and gives the rest of the height to what matters most: the
//! summary and the step's details always, then the timeline, then the graph.

use crate::hex::short_id;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::chrome::{self, Hint};
use super::style::{self, ERROR};
use super::{pipeline_graph, pipeline_style, pipeline_timeline};
use crate::pipeline::machine::StepStatus;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;
use crate::tui::pipeline_data::{PipelineRunView, StepView};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model) {
    let Some(run) = model.pipelines.open_run() else {
        let id = model.pipelines.open.as_deref().unwrap_or("?");
        let text = format!("reading pipeline run {}…", short_id(id));
        chrome::notice(frame, area, vec![Line::styled(text, style::dim())]);
        return;
    };
    let selected = model.pipelines.selected_step_index().unwrap_or(0);
    let width = area.width;
    let mut top = vec![summary(run, model), Line::raw("")];
    let details = step_details(run.steps.get(selected), model, usize::from(width));
    let timeline = pipeline_timeline::timeline(run, Some(selected), model.now, width);
    let graph = pipeline_graph::graph(&run.steps, Some(selected), model.now, model.frame);
    // Rows: summary 2, graph heading + graph + blank, timeline heading + timeline + blank,
    // details. The graph goes first when there is not room for everything.
    let fixed = top.len() + details.len();
    let timeline_rows = timeline.len() + 2;
    let room = usize::from(area.height).saturating_sub(fixed);
    let show_timeline = room >= timeline_rows;
    let graph_room = room.saturating_sub(if show_timeline { timeline_rows } else { 0 });
    let graph_rows = graph.lines.len().min(graph_room.saturating_sub(2));
    if graph_rows >= 3 {
        top.push(Line::styled(" Steps", style::heading()));
    }
    let mut y = area.y;
    let mut put = |frame: &mut Frame, lines: Vec<Line<'static>>, x_scroll: u16| {
        let h = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        let h = h.min(area.bottom().saturating_sub(y));
        if h == 0 {
            return;
        }
        let rect = Rect {
            y,
            height: h,
            ..area
        };
        frame.render_widget(Paragraph::new(lines).scroll((0, x_scroll)), rect);
        y = y.saturating_add(h);
    };
    // Text cut to fit says so (`date=2026…`, not a date that looks complete).
    let fit = |lines: Vec<Line<'static>>| -> Vec<Line<'static>> {
        lines
            .into_iter()
            .map(|l| style::fit_line(l, usize::from(width)))
            .collect()
    };
    put(frame, fit(top), 0);
    if graph_rows >= 3 {
        let scroll = graph_scroll(graph.selected_x, graph.width, width);
        // Taller than the room: the rows around the selected step, and say what is cut.
        let total = graph.lines.len();
        let first = graph_top(graph.selected_y, total, graph_rows);
        let mut lines: Vec<Line<'static>> = graph
            .lines
            .into_iter()
            .skip(first)
            .take(graph_rows)
            .collect();
        let below = total.saturating_sub(first + graph_rows);
        let cut = match (first, below) {
            (0, 0) => Line::raw(""),
            (above, below) => Line::styled(
                format!(
                    " ⋮ {above} rows above, {below} below (j/k picks a step; the graph follows)"
                ),
                style::dim(),
            ),
        };
        lines.push(cut);
        put(frame, lines, scroll);
    }
    if show_timeline {
        let mut lines = vec![Line::styled(" Timeline", style::heading())];
        lines.extend(timeline);
        lines.push(Line::raw(""));
        put(frame, lines, 0);
    }
    put(frame, fit(details), 0);
}

/// The first graph row shown so the selected box is in view: none while the graph fits, else
/// the box kept a row from the edge it approaches, never past the last page.
fn graph_top(selected: Option<(usize, usize)>, total: usize, rows: usize) -> usize {
    if total <= rows || rows == 0 {
        return 0;
    }
    let Some((first, last)) = selected else {
        return 0;
    };
    let latest = total - rows;
    if last < rows.saturating_sub(1) {
        return 0;
    }
    // Bring the box's bottom into view with a row below it, its top too if the room allows.
    (last + 2)
        .saturating_sub(rows)
        .min(first.saturating_sub(1))
        .min(latest)
}

/// The sideways scroll that keeps the selected box in view: none while the graph fits.
fn graph_scroll(selected: Option<(u16, u16)>, graph_width: u16, width: u16) -> u16 {
    if graph_width <= width {
        return 0;
    }
    let Some((start, end)) = selected else {
        return 0;
    };
    if end <= width {
        return 0;
    }
    // Bring the box's right edge into view, with a little of what follows it.
    end.saturating_add(2)
        .saturating_sub(width)
        .min(start)
        .min(graph_width.saturating_sub(width))
}

/// `✓ SUCCEEDED  run 3f2a9c1d  started 12:03:04  took 4m12s  steps 3/3  date=2026-02-03`
fn summary(run: &PipelineRunView, model: &Model) -> Line<'static> {
    let (status, st) = pipeline_style::pipeline(run.status, model.frame);
    let (done, total) = run.progress();
    let took = if run.status.is_ended() {
        "took"
    } else {
        "running for"
    };
    let params: Vec<String> = run
        .params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::hex::params::display_value(v)))
        .collect();
    Line::from(vec![
        Span::raw(" "),
        Span::styled(status, st.add_modifier(Modifier::BOLD)),
        Span::styled(format!("  run {}", short_id(&run.id)), style::dim()),
        Span::raw(format!(
            "  started {}  {took} {}  steps {done}/{total}  ",
            style::clock(run.started_at, model.now, &model.tz),
            style::duration(run.duration_secs(model.now)),
        )),
        Span::styled(params.join(" "), style::bold()),
    ])
}

/// Two lines about the selected step: what it runs and its newest attempt.
fn step_details(step: Option<&StepView>, model: &Model, width: usize) -> Vec<Line<'static>> {
    let Some(step) = step else {
        return vec![Line::styled(" this pipeline has no steps", style::dim())];
    };
    let (glyph, word, color) = pipeline_style::step(&step.status, model.frame);
    let attempts = step.attempts.len();
    let mut first = vec![
        Span::styled(format!(" {} ", step.id), style::bold()),
        Span::styled(format!("{glyph} {word}"), Style::new().fg(color)),
        Span::raw(format!("  project {}", step.project)),
    ];
    if attempts > 0 {
        first.push(Span::raw(format!(
            "  attempt {attempts} ({} {} allowed)",
            step.retries,
            if step.retries == 1 {
                "retry"
            } else {
                "retries"
            }
        )));
    }
    if let StepStatus::RetryWaiting { due } = step.status {
        first.push(Span::styled(
            format!(
                "  next attempt in {}",
                style::duration(style::secs_between(model.now, due))
            ),
            Style::new().fg(style::WARN),
        ));
    }
    let mut error_lines = Vec::new();
    let second = match step.attempts.last() {
        None => Line::styled("   no run yet", style::dim()),
        Some(a) => {
            let mut spans = vec![Span::raw("   ")];
            match &a.run_id {
                Some(id) => spans.push(Span::raw(format!("run {}", short_id(id)))),
                None => spans.push(Span::styled("no run", style::dim())),
            }
            if let Some(s) = &a.status {
                spans.push(Span::styled(
                    format!("  {}", style::status_word(Some(s))),
                    Style::new().fg(style::status_color(Some(s))),
                ));
            }
            if let Some(start) = a.launched_at {
                let end = a.ended_at.unwrap_or(model.now);
                spans.push(Span::raw(format!(
                    "  {}",
                    style::duration(style::secs_between(start, end))
                )));
            }
            if let Some(e) = &a.error {
                let e = crate::safe_text::escape_line(e);
                let room = width.saturating_sub(spans.iter().map(Span::width).sum::<usize>() + 2);
                if style::width(&e) <= room {
                    spans.push(Span::styled(format!("  {e}"), Style::new().fg(ERROR)));
                } else {
                    // In full, wrapped below: the reason a step failed is what the operator
                    // came to read.
                    error_lines = wrap(&e, width.saturating_sub(5).max(20))
                        .into_iter()
                        .take(MAX_ERROR_LINES)
                        .map(|l| Line::styled(format!("     {l}"), Style::new().fg(ERROR)))
                        .collect();
                }
            }
            Line::from(spans)
        }
    };
    let mut lines = vec![Line::from(first), second];
    lines.extend(error_lines);
    lines
}

/// A step's error gets at most this many lines; Hex's errors are a sentence or two.
const MAX_ERROR_LINES: usize = 6;

/// `text` in lines of at most `width` columns, broken at spaces where it can be, inside a word
/// where it cannot; the last line ends with `…` when the text does not fit `MAX_ERROR_LINES`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let needed = style::width(&line) + usize::from(!line.is_empty()) + style::width(&word);
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: cut it.
            let cut: String = word.chars().take(width.max(1)).collect();
            word = word.chars().skip(cut.chars().count()).collect();
            lines.push(cut);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > MAX_ERROR_LINES
        && let Some(last) = lines.get_mut(MAX_ERROR_LINES - 1)
    {
        *last = style::fit(&format!("{last} …"), width).into_owned();
        if !last.ends_with('…') {
            last.push('…');
        }
    }
    lines
}

pub fn hints(model: &Model, keys: &KeyMap) -> Vec<Hint> {
    let mut list = vec![
        Hint::new(keys, Action::Open, "step's run"),
        Hint::new(keys, Action::MoveDown, "steps"),
    ];
    if !model.status.read_only {
        let run = model.pipelines.open_run();
        if run.is_some_and(|r| !r.status.is_ended()) {
            list.push(Hint::new(keys, Action::CancelRun, "cancel pipeline"));
        } else {
            list.push(Hint::new(keys, Action::ResumePipeline, "resume"));
        }
        list.push(Hint::new(keys, Action::Launch, "run again"));
    }
    list.extend([
        Hint::new(keys, Action::OpenUrl, "open in Hex"),
        Hint::new(keys, Action::Back, "back"),
    ]);
    list
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{base, render};
    use super::graph_scroll;
    use crate::tui::model::{Model, Screen};
    use crate::tui::pipeline_fixtures;

    fn run_model(id: &str, step: usize) -> Model {
        let mut m = base();
        m.pipelines = pipeline_fixtures::state();
        m.pipelines.open = Some(id.into());
        m.pipelines.step = crate::tui::cursor::Cursor::at(step);
        m.screen = Screen::PipelineRun;
        m
    }

    #[test]
    fn a_running_etl_with_a_retried_extract() {
        let m = run_model("7f3c9d2e-0000-4000-8000-000000000002", 1);
        let t = render(&m, 120, 26);
        let text = format!("{}", t.backend());
        assert!(text.contains("×2"), "the retry is in the timeline:\n{text}");
        assert!(text.contains("steps 1/3"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn a_failed_fan_out_with_its_skipped_step() {
        let m = run_model("c4d5e6f7-0000-4000-8000-000000000003", 2);
        let t = render(&m, 120, 34);
        let text = format!("{}", t.backend());
        assert!(
            text.contains("run ERRORED"),
            "the failed step's error:\n{text}"
        );
        assert!(text.contains("skipped"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn a_tall_fan_out_scrolls_to_the_selected_step_and_says_what_is_cut() {
        let mut m = run_model("c4d5e6f7-0000-4000-8000-000000000003", 0);
        // Ten parallel steps after `extract`: a column forty rows tall.
        if let Some(runs) = m.pipelines.runs.as_mut()
            && let Some(run) = runs.iter_mut().find(|r| r.name == "fan-out")
        {
            let template = run.steps[1].clone();
            run.steps.truncate(1);
            for i in 0..10 {
                let mut step = template.clone();
                step.id = format!("branch-{i:02}");
                run.steps.push(step);
            }
        }
        let text_at = |m: &mut Model, step: usize| {
            m.pipelines.step = crate::tui::cursor::Cursor::at(step);
            format!("{}", render(m, 120, 34).backend())
        };
        // Boxes by their top border (the timeline lists every step by name).
        let top = text_at(&mut m, 1);
        assert!(top.contains("┏ branch-00"), "{top}");
        assert!(top.contains("below"), "says what is cut:\n{top}");
        let bottom = text_at(&mut m, 10);
        assert!(
            bottom.contains("┏ branch-09"),
            "the graph follows the step:\n{bottom}"
        );
        assert!(!bottom.contains("┌ branch-00"), "{bottom}");
        insta::assert_snapshot!(render(&m, 120, 34).backend());
    }

    #[test]
    fn at_80_columns_the_cut_summary_ends_with_an_ellipsis() {
        let m = run_model("c4d5e6f7-0000-4000-8000-000000000003", 2);
        let text = format!("{}", render(&m, 80, 34).backend());
        let summary = text.lines().nth(1).unwrap();
        assert!(
            summary.contains("date=2026-11…") || summary.contains('…'),
            "{summary}"
        );
        assert!(!summary.contains("quarter=Q4"), "{summary}");
    }

    #[test]
    fn short_terminals_keep_the_summary_and_the_step_and_drop_the_graph_first() {
        let m = run_model("c4d5e6f7-0000-4000-8000-000000000003", 2);
        let text = format!("{}", render(&m, 120, 16).backend());
        assert!(text.contains("FAILED"), "{text}");
        assert!(text.contains("Timeline"), "{text}");
        assert!(!text.contains("Steps"), "{text}");
        assert!(text.contains("attribution"), "{text}");
    }

    /// The figure BENCHMARKS.md quotes: `cargo test --release --lib
    /// tui::view::pipeline_run -- --ignored --nocapture`. A 30-step DAG (five layers of six,
    /// each step after two of the layer before), every step with two attempts.
    #[test]
    #[ignore = "a timing, run by hand in release mode"]
    fn render_a_30_step_run_at_200x50() {
        let mut run = pipeline_fixtures::etl_running();
        let template = run.steps[0].clone();
        run.steps = (0..30)
            .map(|i| {
                let mut s = template.clone();
                s.id = format!("step-{i:02}");
                if i >= 6 {
                    let layer = i / 6 - 1;
                    s.depends_on = vec![
                        format!("step-{:02}", layer * 6 + i % 6),
                        format!("step-{:02}", layer * 6 + (i + 1) % 6),
                    ];
                }
                s
            })
            .collect();
        let mut m = run_model(&run.id.clone(), 17);
        m.pipelines.runs = Some(vec![run]);
        let keys = crate::tui::keymap::KeyMap::defaults();
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50)).unwrap();
        for _ in 0..20 {
            t.draw(|f| super::super::draw(f, &m, &keys)).unwrap();
        }
        let frames = 200;
        let start = std::time::Instant::now();
        for _ in 0..frames {
            t.draw(|f| super::super::draw(f, &m, &keys)).unwrap();
        }
        let mean = start.elapsed() / frames;
        println!(
            "pipeline run view, 30 steps, 200x50: mean {mean:?} per frame over {frames} frames"
        );
    }

    #[test]
    fn a_long_step_error_is_wrapped_in_full() {
        let text = "the run ERRORED in cell load_orders: relation \"orders_staging\" does not \
                    exist (SQLSTATE 42P01) while refreshing the warehouse";
        let lines = super::wrap(text, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.join(" "), text, "nothing lost");
        let long = super::wrap(&"x".repeat(100), 10);
        assert_eq!(long.len(), 10);
        assert!(long[5].ends_with('…') && long[0].len() == 10, "{long:?}");
    }

    #[test]
    fn a_tall_graph_scrolls_to_the_selected_step() {
        use super::graph_top;
        // Fits: no scroll. A box in the first rows: none either.
        assert_eq!(graph_top(Some((40, 42)), 30, 40), 0);
        assert_eq!(graph_top(Some((0, 2)), 60, 12), 0);
        // Further down: its bottom row in view with a row below it.
        assert_eq!(graph_top(Some((20, 22)), 60, 12), 12);
        // At the end: the last page, never past it.
        assert_eq!(graph_top(Some((56, 58)), 59, 12), 47);
    }

    #[test]
    fn narrow_terminals_scroll_the_graph_to_the_selected_step() {
        // Fits: no scroll. Selected box past the right edge: scrolled just enough.
        assert_eq!(graph_scroll(Some((50, 72)), 74, 80), 0);
        assert_eq!(graph_scroll(Some((0, 22)), 122, 60), 0);
        assert_eq!(graph_scroll(Some((100, 122)), 122, 60), 62);
        assert_eq!(graph_scroll(Some((50, 72)), 122, 60), 14);
        let m = run_model("c4d5e6f7-0000-4000-8000-000000000003", 4);
        let text = format!("{}", render(&m, 60, 34).backend());
        assert!(
            text.contains("┏ kpi"),
            "the selected kpi box is in view:\n{text}"
        );
    }
}
