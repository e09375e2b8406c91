//! The bulk action dialogs: the blast-radius preview before a bulk cancel or rerun (how many
//! runs, of which projects and triggers, on which profile — drawn as a warning when it looks like
//! production — and what each run will get), and the summary after it (what happened to each,
//! with the reasons for failures). Long lists show what fits and say how many more.

use crate::hex::short_id;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::overlay::{answer_line, boxed, field, printable, prod_profile};
use super::style::{self, ERROR, WARN};
use crate::hex::params::display_value;
use crate::tui::bulk::{BulkAction, BulkPlan, BulkProgress, Outcome, Will};
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;

/// `Daily ETL (2) · Inventory (1)`
fn tallies(list: &[(String, usize)], with_parens: bool) -> String {
    let parts: Vec<String> = list
        .iter()
        .map(|(name, n)| {
            let name = printable(name);
            if with_parens {
                format!("{name} ({n})")
            } else {
                format!("{name} {n}")
            }
        })
        .collect();
    parts.join(" · ")
}

/// How many item lines fit in `area` with `fixed` other lines and the border.
fn room_for_items(area: Rect, fixed: usize, items: usize) -> usize {
    let fits = usize::from(area.height).saturating_sub(fixed + 2).max(1);
    if items > fits {
        fits.saturating_sub(1).max(1)
    } else {
        items
    }
}

/// `  3f2a9c1d  Daily ETL  MIDDLE  what`: one run of a plan or a summary, `what` cut to the width
/// left.
fn run_line(
    (run_id, project, project_w): (&str, &str, usize),
    middle: &str,
    (what, look): (&str, Style),
    width: usize,
) -> Line<'static> {
    let head = format!(
        "  {}  {:<project_w$}  {middle}",
        short_id(run_id),
        style::fit(&printable(project), project_w),
    );
    let rest = width.saturating_sub(style::width(&head));
    Line::from(vec![
        Span::raw(head),
        Span::styled(style::fit(what, rest).into_owned(), look),
    ])
}

/// `  … and 4 more`, when some were left out.
fn more(left_out: usize) -> Option<Line<'static>> {
    (left_out > 0).then(|| Line::styled(format!("  … and {left_out} more"), style::dim()))
}

pub fn preview(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap, plan: &BulkPlan) {
    let acting = plan.acting();
    let skipped = plan.items.len() - acting;
    let verb = plan.action.verb();
    let mut counts = format!("{} to {verb}", style::plural(acting, "run"));
    if skipped > 0 {
        counts.push_str(&format!(" · {skipped} skipped"));
    }
    if plan.hidden > 0 {
        counts.push_str(&format!(" · {} hidden by the filter left out", plan.hidden));
    }
    // Room for a value: the dialog's inner width less the label column.
    let room = usize::from(area.width).saturating_sub(4 + 11);
    let fit = |text: String| Span::raw(style::fit(&text, room).into_owned());
    let mut lines = vec![
        Line::raw(""),
        field("runs", Span::styled(counts, style::bold())),
        field("projects", fit(tallies(&plan.projects(), true))),
        field("triggers", fit(tallies(&plan.triggers(), false))),
        field(
            "profile",
            if model.status.prod_like {
                prod_profile(model)
            } else {
                Span::raw(printable(&model.status.profile))
            },
        ),
        Line::raw(""),
    ];
    let width = usize::from(area.width).saturating_sub(4);
    let project_w = plan
        .items
        .iter()
        .map(|i| style::width(&i.project))
        .max()
        .unwrap_or(0)
        .min(width / 3);
    let shown = room_for_items(area, lines.len() + 2, plan.items.len());
    for item in plan.items.iter().take(shown) {
        let status = style::status_word(item.status.as_ref()).into_owned();
        let (will, will_style) = will(&item.will);
        let head = format!("{status:<9}  ");
        lines.push(run_line(
            (&item.key.run_id, &item.project, project_w),
            &head,
            (&will, will_style),
            width,
        ));
    }
    lines.extend(more(plan.items.len() - shown));
    lines.push(Line::raw(""));
    let (yes_what, no_what) = match plan.action {
        BulkAction::Cancel => (
            format!("cancel {}", style::plural(acting, "run")),
            "keep them running",
        ),
        BulkAction::Rerun => (
            format!("launch {}", style::plural(acting, "run")),
            "launch nothing",
        ),
    };
    lines.push(answer_line(keys, &yes_what, no_what));
    let color = match plan.action {
        BulkAction::Cancel => ERROR,
        BulkAction::Rerun if model.status.prod_like => WARN,
        BulkAction::Rerun => style::ACCENT,
    };
    let title = format!(
        "{} {}?",
        match plan.action {
            BulkAction::Cancel => "Cancel",
            BulkAction::Rerun => "Rerun",
        },
        style::plural(acting, "run")
    );
    boxed(frame, area, lines, 50, &title, color);
}

/// What `y` does to one run, in words: cancel it, launch it again with which parameters, or
/// skip it and why.
fn will(will: &Will) -> (String, Style) {
    match will {
        Will::Cancel => ("cancel".to_string(), Style::new().fg(ERROR)),
        Will::Relaunch(request) => {
            let params: Vec<String> = request
                .params
                .iter()
                .map(|(k, v)| format!("{}={}", printable(k), printable(&display_value(v))))
                .collect();
            let text = if params.is_empty() {
                "launch again, the project's defaults".to_string()
            } else {
                format!("launch again: {}", params.join(" "))
            };
            (text, Style::new())
        }
        Will::Skip(why) => (format!("skip: {why}"), style::dim()),
    }
}

pub fn report(frame: &mut Frame, area: Rect, progress: &BulkProgress) {
    let width = usize::from(area.width).saturating_sub(4);
    let project_w = progress
        .runs
        .iter()
        .map(|(_, p, _)| style::width(p))
        .max()
        .unwrap_or(0)
        .min(width / 3);
    let mut lines = vec![Line::raw("")];
    let shown = room_for_items(area, 3, progress.runs.len());
    for (key, project, outcome) in progress.runs.iter().take(shown) {
        let (text, look) = match outcome {
            Outcome::Cancelled => (
                "cancelled (its row turns KILLED when Hex confirms)".to_string(),
                Style::new(),
            ),
            Outcome::Launched(run_id) => {
                (format!("launched as {}", short_id(run_id)), Style::new())
            }
            Outcome::AlreadyEnded => ("already ended".to_string(), style::dim()),
            Outcome::Skipped(why) => (format!("skipped: {why}"), style::dim()),
            Outcome::Failed(why) => (
                format!("failed: {}", printable(why)),
                Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
            ),
            Outcome::Waiting => ("no answer yet".to_string(), Style::new().fg(WARN)),
        };
        lines.push(run_line(
            (key.run_id.as_str(), project, project_w),
            "",
            (&text, look),
            width,
        ));
    }
    lines.extend(more(progress.runs.len() - shown));
    lines.push(Line::raw(""));
    lines.push(Line::styled("  any key closes this", style::dim()));
    let failed = progress
        .runs
        .iter()
        .any(|(_, _, o)| matches!(o, Outcome::Failed(_)));
    let color = if failed { ERROR } else { style::ACCENT };
    let title = format!("Bulk {}: {}", progress.action.verb(), progress.counts());
    boxed(frame, area, lines, 44, &title, color);
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{render, runs_model};
    use crate::tui::keymap::KeyMap;
    use crate::tui::model::{Model, Overlay};
    use crate::tui::msg::Msg;
    use crate::tui::update::update;

    fn key(m: &mut Model, c: char) {
        let keys = KeyMap::defaults();
        let event = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        );
        update(m, Msg::Key(event), &keys);
    }

    #[test]
    fn marked_rows_carry_a_dot_and_the_hints_speak_of_them() {
        let mut m = runs_model();
        key(&mut m, 'g');
        key(&mut m, ' ');
        key(&mut m, ' ');
        let text = format!("{}", render(&m, 150, 16).backend());
        assert_eq!(text.matches('●').count(), 2, "{text}");
        assert!(text.contains("cancel 2 marked runs"), "{text}");
        insta::assert_snapshot!(render(&m, 150, 16).backend());
    }

    #[test]
    fn the_bulk_cancel_preview_on_a_prod_profile() {
        let mut m = runs_model();
        m.status.profile = "prod".into();
        m.status.prod_like = true;
        key(&mut m, '*');
        key(&mut m, 'x');
        assert!(matches!(m.overlay, Some(Overlay::Confirm(_))));
        let t = render(&m, 120, 30);
        let text = format!("{}", t.backend());
        assert!(text.contains("⚠ prod"), "{text}");
        assert!(text.contains("skip: already ended"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn a_long_preview_says_how_many_more() {
        let mut m = runs_model();
        key(&mut m, '*');
        key(&mut m, 'x');
        let text = format!("{}", render(&m, 100, 16).backend());
        assert!(text.contains("… and"), "{text}");
        assert!(text.contains("y = cancel"), "the answer line stays: {text}");
    }

    #[test]
    fn the_summary_says_what_happened_to_each_run() {
        use crate::engine::RunKey;
        use crate::tui::bulk::{BulkAction, BulkProgress, Outcome};
        let mut m = runs_model();
        m.overlay = Some(Overlay::BulkReport(BulkProgress {
            action: BulkAction::Cancel,
            runs: vec![
                (
                    RunKey::new("p", "3f2a9c1d-1"),
                    "Daily ETL".into(),
                    Outcome::Cancelled,
                ),
                (
                    RunKey::new("p", "7c6b5a49-2"),
                    "Marketing attribution".into(),
                    Outcome::Failed("CancelRun: 503 Service Unavailable".into()),
                ),
                (
                    RunKey::new("p", "2c3d4e5f-3"),
                    "Daily ETL".into(),
                    Outcome::AlreadyEnded,
                ),
            ],
        }));
        let t = render(&m, 100, 16);
        let text = format!("{}", t.backend());
        assert!(
            text.contains("1 cancelled, 1 already ended, 1 failed"),
            "{text}"
        );
        assert!(text.contains("failed: CancelRun: 503"), "{text}");
        insta::assert_snapshot!(t.backend());
    }
}
