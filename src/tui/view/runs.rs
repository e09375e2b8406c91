//! The runs screen: every watched run across projects, live.
//!
//! One row per run from [`Model::visible_runs`] (pinned first, then active with the overdue on
//! top, then ended, newest first): pin mark, project, short run id, status with a spinner while
//! live (`○` when its data stands still: a failed poll, a run Hex forgot), start time, elapsed
//! time (ticking while live), how old its data is ("stale" when the last poll failed), Hex's
//! trigger, origin (who started it: this machine's tui/cli/pipeline, or a schedule, app refresh
//! or another API client for runs discovery found), and flags (overdue, timed out, cancel not
//! confirmed, unknown to Hex, no longer followed). Only the rows that fit are built: the list may
//! hold ten thousand runs and must still draw in well under 2 ms.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::chrome::{self, Hint};
use super::style::{self, ERROR, WARN};
use super::table::{self, Column};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{HistoryPages, Model, RunRow};

const COLUMNS: [Column; 10] = [
    Column::fixed("", 10),
    Column::flex("PROJECT", 14),
    Column::fixed("RUN", 9),
    Column::fixed("STATUS", 10),
    Column::fixed("STARTED", 4),
    Column::fixed("ELAPSED", 8).right(),
    Column::fixed("UPDATED", 7).right(),
    Column::fixed("TRIGGER", 2),
    Column::fixed("ORIGIN", 3),
    Column::fixed("FLAGS", 6).max(24),
];

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap) {
    if model.runs.rows.is_empty() {
        chrome::notice(
            frame,
            area,
            vec![
                Line::raw(format!(
                    "no runs yet: press {}, pick a project, {} to launch",
                    keys.label(Action::ShowProjects),
                    keys.label(Action::Launch)
                )),
                Line::styled(
                    "runs launched from the command line or a pipeline show here too",
                    style::dim(),
                ),
            ],
        );
        return;
    }
    let shown = model.shown_runs();
    if shown.is_empty() {
        let reading = history(model).is_some_and(|p| p.loading);
        let text = if reading {
            "reading the project's history from Hex…".to_string()
        } else {
            format!("no run matches \"{}\"", model.runs.filter.text.value())
        };
        chrome::notice(frame, area, vec![Line::raw(text)]);
        return;
    }
    let height = usize::from(area.height.saturating_sub(1));
    // The same answer the keys get (`Model::selected_run`).
    let cursor = model.run_cursor();
    let top = table::window(shown.len(), cursor.unwrap_or(0), height);
    let cells: Vec<Vec<Span<'static>>> = (top..shown.len())
        .take(height)
        .filter_map(|at| model.run_at(&shown, at))
        .map(|r| cells(r, model))
        .collect();
    let sorted = model
        .runs
        .sort
        .by
        .table_column()
        .map(|c| (c, model.runs.sort.reversed));
    table::render_sorted(
        frame,
        area,
        &COLUMNS,
        &cells,
        cursor.map(|c| c - top),
        sorted,
    );
}

fn cells(row: &RunRow, model: &Model) -> Vec<Span<'static>> {
    let v = &row.view;
    let none = || Span::styled("-", style::dim());
    // The first column: ★ pinned, ● marked for a bulk action.
    let pin = match (
        model.pinned.contains(&v.key),
        model.runs.marked.contains(&v.key),
    ) {
        (true, true) => Span::styled("★●", Style::new().fg(WARN).add_modifier(Modifier::BOLD)),
        (true, false) => Span::styled("★", Style::new().fg(WARN)),
        (false, true) => Span::styled(
            "●",
            Style::new().fg(style::ACCENT).add_modifier(Modifier::BOLD),
        ),
        (false, false) => Span::raw(""),
    };
    let project = Span::raw(
        v.project_title
            .clone()
            .unwrap_or_else(|| v.key.project_id.clone()),
    );
    // Only live rows spin; a stale or forgotten one stands still at its last observation.
    let (status, status_style) = style::run_status(v, row.live(), model.frame);
    let started = v
        .start_time
        .map_or_else(none, |t| Span::raw(style::clock(t, model.now, &model.tz)));
    let elapsed = match style::elapsed_secs(v, row.live(), model.now) {
        Some(s) if row.live() => Span::styled(style::duration(s), style::bold()),
        Some(s) => Span::raw(style::duration(s)),
        None => none(),
    };
    let updated = match (&v.stale, v.observed_at) {
        (Some(_), _) => Span::styled("stale", Style::new().fg(WARN).add_modifier(Modifier::BOLD)),
        (None, Some(t)) => {
            let secs = style::secs_between(t, model.now);
            let text = format!("{} ago", style::age(secs));
            // An active run's data should be seconds old; a minute means polling is behind.
            if v.is_active() && secs >= 60 {
                Span::styled(text, Style::new().fg(WARN))
            } else if v.is_active() {
                Span::raw(text)
            } else {
                Span::styled(text, style::dim())
            }
        }
        (None, None) => none(),
    };
    vec![
        pin,
        project,
        Span::styled(v.key.short().to_string(), style::dim()),
        Span::styled(status, status_style),
        started,
        elapsed,
        updated,
        Span::styled(style::trigger_label(v.origin.as_ref()), style::dim()),
        Span::raw(style::origin_label(v.origin.as_ref())),
        flags(row, model),
    ]
}

/// What needs a person's attention, most urgent first.
fn flags(row: &RunRow, model: &Model) -> Span<'static> {
    let mut list = row.flag_words();
    if row.view.is_active() && model.runs.cancel_failed.contains_key(&row.view.key) {
        list.insert(0, "cancel failed");
    }
    if list.is_empty() {
        return Span::raw("");
    }
    Span::styled(
        list.join(", "),
        Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
    )
}

/// `1,234 runs · 3 active`
pub fn summary(model: &Model) -> String {
    let total = model.runs.rows.len();
    if total == 0 {
        return String::new();
    }
    let active = model.runs.rows.values().filter(|r| r.live()).count();
    let mut text = format!(
        "{} · {} active",
        style::plural(total, "run"),
        style::count(active)
    );
    if let Some(pages) = history(model) {
        text.push_str(&match (pages.loading, pages.more) {
            (true, _) => " · reading Hex's history…".to_string(),
            (false, true) => format!(" · {} from Hex, more below", pages.read),
            (false, false) => format!(" · all {} from Hex", pages.read),
        });
    }
    text
}

/// The project history being read, while the list shows that project.
fn history(model: &Model) -> Option<&HistoryPages> {
    model
        .runs
        .history
        .as_ref()
        .filter(|p| p.filter == model.runs.filter.text.value())
}

/// The keys that do something for the selected run, then the screen's own.
pub fn hints(model: &Model, keys: &KeyMap) -> Vec<Hint> {
    let mut list = Vec::new();
    // Marks the filter hides are not acted on (see `update::bulk`): not counted here either.
    let marked = {
        let shown = model.shown_runs();
        model
            .runs
            .marked
            .iter()
            .filter(|k| shown.position_of(&model.runs.rows, k).is_some())
            .count()
    };
    if marked > 0 {
        let n = style::plural(marked, "marked run");
        list.push(Hint::new(keys, Action::CancelRun, format!("cancel {n}")));
        list.push(Hint::new(keys, Action::Launch, "rerun them"));
        list.push(Hint::new(keys, Action::Pin, "pin them"));
        list.push(Hint::new(keys, Action::Mark, "mark"));
        list.push(Hint::new(keys, Action::Back, "unmark all"));
    } else if let Some(row) = model.selected_run() {
        list.push(Hint::new(keys, Action::Open, "detail"));
        if !model.status.read_only {
            if row.view.is_active() && row.followed {
                list.push(Hint::new(keys, Action::CancelRun, "cancel"));
            }
            list.push(Hint::new(keys, Action::Launch, "rerun"));
            list.push(Hint::new(keys, Action::RerunWithEdits, "edit & rerun"));
        }
        let pin = if model.pinned.contains(&row.view.key) {
            "unpin"
        } else {
            "pin"
        };
        list.push(Hint::new(keys, Action::Pin, pin));
        if row.view.run_url.is_some() {
            list.push(Hint::new(keys, Action::OpenUrl, "open in Hex"));
        }
    }
    if !model.runs.rows.is_empty() {
        list.push(Hint::new(keys, Action::Filter, "filter"));
        list.push(Hint::new(keys, Action::Sort, "sort"));
        if marked == 0 {
            list.push(Hint::new(keys, Action::Mark, "mark"));
        }
    }
    list.extend([
        Hint::new(keys, Action::ShowProjects, "projects"),
        Hint::new(keys, Action::CommandLine, "command"),
        Hint::new(keys, Action::Quit, "quit"),
    ]);
    list
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::fixtures::{base, many_runs, render, runs_model};
    use crate::tui::model::Screen;

    #[test]
    fn empty_says_how_to_start() {
        let mut m = base();
        m.screen = Screen::Runs;
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn loaded() {
        insta::assert_snapshot!(render(&runs_model(), 150, 16).backend());
    }

    #[test]
    fn loaded_narrow() {
        insta::assert_snapshot!(render(&runs_model(), 80, 24).backend());
    }

    #[test]
    fn stale_and_forgotten_rows_stand_still_and_are_not_counted_active() {
        let mut m = runs_model();
        let active: Vec<_> = m
            .runs
            .rows
            .values()
            .filter(|r| r.live())
            .map(|r| r.view.key.clone())
            .collect();
        assert!(active.len() >= 2, "the fixture has two live runs at least");
        // One poll failed on the first; Hex forgot the second (404s, given up).
        if let Some(row) = m.runs.rows.get_mut(&active[0]) {
            row.view.stale = Some("GetRunStatus: connection reset".into());
        }
        if let Some(row) = m.runs.rows.get_mut(&active[1]) {
            row.view.stale = Some("Hex no longer knows this run: 404".into());
            row.followed = false;
        }
        let still = |m: &crate::tui::model::Model| {
            let shown = render(m, 150, 16).backend().to_string();
            shown
                .lines()
                .filter(|l| l.contains(active[0].short()) || l.contains(active[1].short()))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let before = still(&m);
        m.frame += 3;
        m.now += jiff::SignedDuration::from_secs(5);
        assert_eq!(still(&m), before, "neither spins nor ticks");
        assert!(
            before.iter().any(|l| l.contains("unknown to Hex")),
            "{before:?}"
        );
        assert!(
            super::summary(&m).contains(&format!("{} active", active.len() - 2)),
            "{}",
            super::summary(&m)
        );
        insta::assert_snapshot!(render(&m, 150, 16).backend());
    }

    #[test]
    fn spinner_and_elapsed_move_with_time() {
        let mut m = runs_model();
        m.frame = 3;
        m.now += jiff::SignedDuration::from_secs(5);
        insta::assert_snapshot!(render(&m, 150, 16).backend());
    }

    #[test]
    fn filtered() {
        let mut m = runs_model();
        m.runs.filter.text = "running".into();
        insta::assert_snapshot!(render(&m, 120, 14).backend());
    }

    #[test]
    fn filter_without_matches() {
        let mut m = runs_model();
        m.runs.filter.text = "nothing like this".into();
        m.runs.filter.editing = true;
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn a_long_list_scrolls_to_the_cursor() {
        let m = many_runs(500);
        let t = render(&m, 120, 16);
        let text = format!("{}", t.backend());
        assert!(text.contains('›'), "the cursor row is on screen");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn api_trouble_shows_in_the_status_bar_and_rows_keep_their_data() {
        let mut m = runs_model();
        m.status.health.error = Some("GetProjectRuns: 503 Service Unavailable".into());
        m.status.health.last_success = Some(m.now - jiff::SignedDuration::from_secs(95));
        insta::assert_snapshot!(render(&m, 120, 14).backend());
    }

    /// Mean time of a frame of `m` over `frames` draws (after `warm` unmeasured ones); with
    /// `touch`, one row changes before each frame, so the shown order is worked out again.
    fn frame_time(
        m: &mut crate::tui::model::Model,
        frames: u32,
        touch: bool,
    ) -> std::time::Duration {
        let keys = crate::tui::keymap::KeyMap::defaults();
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(200, 50)).unwrap();
        let first = m.runs.rows.keys().next().cloned().unwrap();
        for _ in 0..5 {
            t.draw(|f| super::super::draw(f, m, &keys)).unwrap();
        }
        let mut spent = std::time::Duration::ZERO;
        for _ in 0..frames {
            if touch && let Some(row) = m.runs.rows.get_mut(&first) {
                row.followed = !row.followed;
            }
            let start = Instant::now();
            t.draw(|f| super::super::draw(f, m, &keys)).unwrap();
            spent += start.elapsed();
        }
        spent / frames
    }

    /// The figures BENCHMARKS.md quotes: `cargo test --release --lib
    /// tui::view::runs::tests::render -- --ignored --nocapture`. 100 and 10,000 runs are
    /// measured in turns, side by side, so a busy machine slows both alike. Prints; asserts no
    /// timing (a shared machine would make that flaky).
    #[test]
    #[ignore = "a timing, run by hand in release mode"]
    fn render_100_vs_10k_runs_at_200x50() {
        let mut small = many_runs(100);
        let mut large = many_runs(10_000);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            a.push(frame_time(&mut small, 50, false));
            b.push(frame_time(&mut large, 50, false));
        }
        let mean = |v: &[std::time::Duration]| v.iter().sum::<std::time::Duration>() / 10;
        let (a, b) = (mean(&a), mean(&b));
        println!(
            "runs screen at 200x50, a frame (mean of 500 in turns): 100 runs {a:?}, 10,000 runs \
             {b:?}, ratio {:.2}",
            b.as_secs_f64() / a.as_secs_f64()
        );
        let (a, b) = (
            frame_time(&mut small, 100, true),
            frame_time(&mut large, 100, true),
        );
        println!(
            "the first frame after a row changed (the order worked out again): 100 runs {a:?}, \
             10,000 runs {b:?}"
        );
    }
}
