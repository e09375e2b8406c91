//! The runs screen: every run the dashboard knows, live. Only the rows that fit are built, around
//! the cursor (found by run id), so ten thousand runs cost no more to draw than thirty.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::style;
use crate::journal::Origin;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Model, RunRow};

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, keys: &KeyMap) {
    let [top, list, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let shown = model.visible_runs();
    let f = &model.runs.filter;
    let top_line = if f.editing || !f.text.is_empty() {
        Line::from(vec![
            Span::styled(format!(" {} ", keys.label(Action::Filter)), style::header()),
            Span::raw(f.text.clone()),
            Span::styled(if f.editing { "▏" } else { "" }, style::warn()),
            Span::styled(
                format!("   {} of {} runs", shown.len(), model.runs.rows.len()),
                style::dim(),
            ),
        ])
    } else {
        Line::styled(
            format!(
                " {} runs · newest first, active and pinned on top",
                shown.len()
            ),
            style::dim(),
        )
    };
    frame.render_widget(Paragraph::new(top_line), top);
    frame.render_widget(
        Paragraph::new(super::hints(
            keys,
            &[
                (Action::Open, "detail"),
                (Action::CancelRun, "cancel"),
                (Action::Launch, "rerun"),
                (Action::RerunWithEdits, "edit+rerun"),
                (Action::OpenUrl, "open"),
                (Action::Copy, "copy"),
                (Action::Pin, "pin"),
                (Action::Filter, "filter"),
            ],
        )),
        hint,
    );
    if shown.is_empty() {
        let text = if model.runs.rows.is_empty() {
            format!(
                " no runs yet: press {} for projects, pick one, {} to launch",
                keys.label(Action::ShowProjects),
                keys.label(Action::Launch)
            )
        } else {
            " no run matches the filter".to_string()
        };
        frame.render_widget(Paragraph::new(text).style(style::dim()), list);
        return;
    }
    let height = usize::from(list.height.saturating_sub(1)).max(1);
    let cursor = model
        .runs
        .cursor
        .as_ref()
        .and_then(|k| shown.iter().position(|r| r.view.key == *k))
        .unwrap_or(0);
    let first = cursor
        .saturating_sub(height / 2)
        .min(shown.len().saturating_sub(height));
    let wide = list.width >= 110;
    let rows = shown
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, r)| {
            let row = row_of(r, model, wide);
            if i == cursor {
                row.style(style::selected())
            } else {
                row
            }
        });
    let mut header = vec!["", "PROJECT", "RUN", "STATUS", "STARTED", "ELAPSED", "DATA"];
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Length(17),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(7),
    ];
    if wide {
        header.extend(["ORIGIN", "FLAGS"]);
        widths.extend([Constraint::Length(8), Constraint::Length(22)]);
    } else {
        header.push("FLAGS");
        widths.push(Constraint::Length(10));
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(style::header()))
        .column_spacing(1);
    frame.render_widget(table, list);
}

fn row_of<'a>(r: &'a RunRow, model: &Model, wide: bool) -> Row<'a> {
    let v = &r.view;
    let pin = if model.pinned.contains(&v.key) {
        "*"
    } else {
        " "
    };
    let project = v.project_title.as_deref().unwrap_or(&v.key.project_id);
    let started = v
        .start_time
        .map(|t| style::clock(t, model.now, &model.tz))
        .unwrap_or_else(|| "-".into());
    let elapsed = if v.is_active() && r.followed {
        v.start_time
            .map(|t| style::duration(style::since(t, model.now)))
    } else {
        v.elapsed_ms.map(|ms| style::duration(style::millis(ms)))
    }
    .unwrap_or_else(|| "-".into());
    let (data, data_style) = match (&v.stale, v.observed_at) {
        (Some(_), _) => ("stale".to_string(), style::warn()),
        (None, Some(t)) if r.followed => {
            (style::duration(style::since(t, model.now)), style::dim())
        }
        (None, Some(_)) => ("final".to_string(), style::dim()),
        (None, None) => ("-".to_string(), style::dim()),
    };
    let status_text = if r.followed || !v.is_active() {
        style::status_text(v.status.as_ref(), model.frame)
    } else {
        // Known from the journal only, no longer followed: say so rather than spin.
        format!(
            "? {}",
            v.status
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )
    };
    let mut flags = Vec::new();
    if r.overdue.is_some() {
        flags.push("OVERDUE");
    }
    if matches!(v.cancel, crate::journal::CancelState::Requested { .. }) {
        flags.push("cancelling");
    }
    if matches!(v.cancel, crate::journal::CancelState::NotConfirmed { .. }) {
        flags.push("cancel unconfirmed");
    }
    if v.timed_out {
        flags.push("timed out");
    }
    if v.adopted {
        flags.push("adopted");
    }
    let flag_style = if r.overdue.is_some() {
        style::error()
    } else {
        style::warn()
    };
    let mut cells = vec![
        Line::styled(pin, style::warn()),
        Line::raw(project.to_string()),
        Line::raw(v.key.run_id.chars().take(8).collect::<String>()),
        Line::styled(status_text, style::status_style(v.status.as_ref())),
        Line::raw(started),
        Line::raw(elapsed),
        Line::styled(data, data_style),
    ];
    if wide {
        cells.push(Line::styled(origin_word(v.origin.as_ref()), Style::new()));
    }
    cells.push(Line::styled(flags.join(" "), flag_style));
    Row::new(cells)
}

pub fn origin_word(origin: Option<&Origin>) -> &'static str {
    match origin {
        Some(Origin::Tui) => "tui",
        Some(Origin::Cli) => "cli",
        Some(Origin::Pipeline { .. }) => "pipeline",
        Some(Origin::Other) => "other",
        None => "-",
    }
}
