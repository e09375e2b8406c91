//! The run detail screen: every field Hex returned, the status timeline as observed, the
//! parameters and options used, freshness, cancel state, and the actions with their keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::style;
use crate::hex::params::display_value;
use crate::journal::CancelState;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, keys: &KeyMap) {
    let [body, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(super::hints(
            keys,
            &[
                (Action::CancelRun, "cancel"),
                (Action::Launch, "rerun"),
                (Action::RerunWithEdits, "edit+rerun"),
                (Action::OpenUrl, "open in browser"),
                (Action::Copy, "copy url/id/command"),
                (Action::Pin, "pin"),
                (Action::Back, "back"),
            ],
        )),
        hint,
    );
    let Some(row) = model.detail.as_ref().and_then(|k| model.runs.rows.get(k)) else {
        frame.render_widget(
            Paragraph::new(" this run is no longer in the list").style(style::dim()),
            body,
        );
        return;
    };
    let v = &row.view;
    let tz = &model.tz;
    let time = |t: Option<jiff::Timestamp>| {
        t.map(|t| style::full_time(t, tz))
            .unwrap_or_else(|| "-".into())
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!(" {name:<16}"), style::dim()),
            Span::raw(value),
        ])
    };
    let elapsed = match (v.is_active() && row.followed, v.start_time, v.elapsed_ms) {
        (true, Some(start), _) => style::duration(style::since(start, model.now)),
        (_, _, Some(ms)) => style::duration(style::millis(ms)),
        _ => "-".into(),
    };
    let freshness = match (&v.stale, v.observed_at) {
        (Some(reason), Some(t)) => format!(
            "STALE since {} ago: {reason}",
            style::duration(style::since(t, model.now))
        ),
        (Some(reason), None) => format!("STALE: {reason}"),
        (None, Some(t)) if row.followed => {
            format!(
                "fetched {} ago",
                style::duration(style::since(t, model.now))
            )
        }
        (None, Some(t)) => format!("final (observed {})", style::full_time(t, tz)),
        (None, None) => "no status read yet".into(),
    };
    let cancel = match &v.cancel {
        CancelState::None => "-".to_string(),
        CancelState::Requested { at, .. } => format!("requested at {}", style::full_time(*at, tz)),
        CancelState::Confirmed { at, status } => {
            format!("confirmed {status} at {}", style::full_time(*at, tz))
        }
        CancelState::NotConfirmed { at } => format!(
            "NOT confirmed (deadline passed at {}); {} re-sends",
            style::full_time(*at, tz),
            keys.label(Action::CancelRun)
        ),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" status          ", style::dim()),
            Span::styled(
                match &v.status {
                    Some(s) if s.is_terminal() => s.to_string(),
                    Some(s) => format!("{} {s}", style::spinner(model.frame)),
                    None => "not yet seen".to_string(),
                },
                style::status_style(v.status.as_ref()),
            ),
            Span::raw(if row.overdue.is_some() { "   " } else { "" }),
            Span::styled(
                row.overdue
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                style::error(),
            ),
        ]),
        field(
            "project",
            v.project_title.clone().unwrap_or_else(|| "-".into()),
        ),
        field("project id", v.key.project_id.clone()),
        field("run id", v.key.run_id.clone()),
        field("run URL", v.run_url.clone().unwrap_or_else(|| "-".into())),
        field("trace id", v.trace_id.clone().unwrap_or_else(|| "-".into())),
        field(
            "project version",
            v.project_version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "-".into()),
        ),
        field("started", time(v.start_time)),
        field("ended", time(v.end_time)),
        field("elapsed", elapsed),
        field("data", freshness),
        field("cancel", cancel),
        field(
            "origin",
            super::runs::origin_word(v.origin.as_ref()).to_string(),
        ),
        field(
            "launch id",
            v.launch_id
                .clone()
                .unwrap_or_else(|| "- (not launched by hexdash)".into()),
        ),
        field("first seen", style::full_time(v.first_seen, tz)),
    ];
    if v.adopted {
        lines.push(field(
            "adopted",
            "yes: Hex's answer was lost, found in the project's runs".into(),
        ));
    }
    if v.timed_out {
        lines.push(field("timeout", "passed while the run was active".into()));
    }
    let mut side = vec![Line::styled(" parameters", style::header())];
    match &v.params {
        Some(p) if p.is_empty() => side.push(Line::styled("  (project defaults)", style::dim())),
        Some(p) => side.extend(
            p.iter()
                .map(|(k, val)| Line::raw(format!("  {k} = {}", display_value(val)))),
        ),
        None => side.push(Line::styled(
            "  unknown (not launched by hexdash)",
            style::dim(),
        )),
    }
    if let Some(o) = &v.options {
        side.push(Line::styled(" options", style::header()));
        side.push(Line::raw(format!(
            "  cached SQL {}  ·  update published {}",
            if o.use_cached_sql_results == Some(false) {
                "off"
            } else {
                "on"
            },
            if o.update_published_results == Some(true) {
                "on"
            } else {
                "off"
            }
        )));
        if let Some(t) = o.timeout_secs {
            side.push(Line::raw(format!(
                "  timeout {}{}",
                style::duration(std::time::Duration::from_secs(t)),
                if o.kill_on_timeout {
                    ", kill on timeout"
                } else {
                    ""
                }
            )));
        }
    }
    side.push(Line::styled(" timeline (as observed)", style::header()));
    if v.timeline.is_empty() {
        side.push(Line::styled("  -", style::dim()));
    }
    for (s, at) in &v.timeline {
        side.push(Line::from(vec![
            Span::raw(format!("  {}  ", style::clock(*at, model.now, tz))),
            Span::styled(s.to_string(), style::status_style(Some(s))),
        ]));
    }
    let [left, right] = if body.width >= 100 {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(body)
    } else {
        // Narrow: one column, the parameters and timeline below the fields.
        lines.push(Line::raw(""));
        lines.append(&mut side);
        [body, Rect::default()]
    };
    let block = Block::new().borders(Borders::TOP).title(" run ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        left,
    );
    if right.width > 0 {
        let block = Block::new().borders(Borders::TOP | Borders::LEFT);
        frame.render_widget(Paragraph::new(side).block(block), right);
    }
}
