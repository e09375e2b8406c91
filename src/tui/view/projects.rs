//! The projects screen: every project with its published state, last run, duration trend and
//! schedule; the filter line; loading, empty and error states (last good rows stay, marked).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use super::style;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Load, Model, ProjectRow};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, keys: &KeyMap) {
    let [top, list, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let f = &model.projects.filter;
    let top_line = if f.editing || !f.text.is_empty() {
        Line::from(vec![
            Span::styled(format!(" {} ", keys.label(Action::Filter)), style::header()),
            Span::raw(f.text.clone()),
            Span::styled(if f.editing { "▏" } else { "" }, style::warn()),
            Span::styled(
                format!(
                    "   {} shown · sorted by {}",
                    model.visible_projects().len(),
                    model.projects.sort.label()
                ),
                style::dim(),
            ),
        ])
    } else {
        Line::from(Span::styled(
            format!(
                " {} projects · sorted by {}",
                model.projects.load.data().map_or(0, Vec::len),
                model.projects.sort.label()
            ),
            style::dim(),
        ))
    };
    frame.render_widget(Paragraph::new(top_line), top);
    frame.render_widget(
        Paragraph::new(super::hints(
            keys,
            &[
                (Action::Launch, "launch"),
                (Action::Open, "runs"),
                (Action::Filter, "filter"),
                (Action::Sort, "sort"),
                (Action::ShowRuns, "all runs"),
                (Action::Quit, "quit"),
            ],
        )),
        hint,
    );
    match (&model.projects.load, model.projects.load.data()) {
        (Load::NotAsked | Load::Loading | Load::Loaded(_), None) => {
            frame.render_widget(
                Paragraph::new(" loading projects…").style(style::dim()),
                list,
            );
        }
        (Load::Failed { error, .. }, None) => {
            let text = vec![
                Line::styled(format!(" cannot list projects: {error}"), style::error()),
                Line::styled(
                    format!(" press {} to try again", keys.label(Action::ShowProjects)),
                    style::dim(),
                ),
            ];
            frame.render_widget(Paragraph::new(text), list);
        }
        (_, Some(rows)) if rows.is_empty() => {
            frame.render_widget(
                Paragraph::new(" this workspace has no projects the token can see")
                    .style(style::dim()),
                list,
            );
        }
        (load, Some(_)) => draw_table(frame, list, model, matches!(load, Load::Failed { .. })),
    }
}

fn draw_table(frame: &mut Frame<'_>, area: Rect, model: &Model, stale: bool) {
    let shown = model.visible_projects();
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let cursor = model.projects.cursor.min(shown.len().saturating_sub(1));
    let first = cursor.saturating_sub(height - 1);
    let wide = area.width >= 130;
    let rows = shown
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, p)| {
            let row = row_of(p, model, wide);
            if i == cursor {
                row.style(style::selected())
            } else {
                row
            }
        });
    let mut header = vec![
        "TITLE",
        "ALIAS",
        "PUBLISHED",
        "LAST RUN",
        "STATUS",
        "DURATION",
    ];
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(18),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(17),
        Constraint::Length(9),
    ];
    if wide {
        header.extend(["TREND", "SCHEDULE"]);
        widths.extend([Constraint::Length(20), Constraint::Length(10)]);
    }
    let title = if stale {
        " (stale: the last refresh failed)"
    } else {
        ""
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(style::header()))
        .column_spacing(1);
    frame.render_widget(table, area);
    if stale {
        let line = Rect {
            y: area.bottom().saturating_sub(1),
            height: 1,
            ..area
        };
        frame.render_widget(Paragraph::new(title).style(style::warn()), line);
    }
}

fn row_of<'a>(p: &'a ProjectRow, model: &Model, wide: bool) -> Row<'a> {
    let published = match p.project.last_published_at {
        Some(t) => style::duration(style::since(t, model.now)) + " ago",
        None => "draft".into(),
    };
    let last_run = p
        .last_run_at
        .map(|t| style::clock(t, model.now, &model.tz))
        .unwrap_or_else(|| "-".into());
    let status = p
        .last_status
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into());
    let duration = p
        .last_duration_secs
        .map(|s| style::duration(std::time::Duration::from_secs_f64(s.max(0.0))))
        .unwrap_or_else(|| "-".into());
    let mut cells = vec![
        Line::raw(p.project.title.clone()),
        Line::raw(p.alias.clone().unwrap_or_default()),
        Line::styled(
            published,
            if p.project.last_published_at.is_none() {
                style::warn()
            } else {
                style::dim()
            },
        ),
        Line::raw(last_run),
        Line::styled(status, style::status_style(p.last_status.as_ref())),
        Line::raw(duration),
    ];
    if wide {
        cells.push(Line::styled(sparkline(&p.trend), style::dim()));
        cells.push(Line::raw(schedule(p, model.now)));
    }
    Row::new(cells)
}

/// Durations as block characters, scaled to the longest.
pub fn sparkline(values: &[u64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    values
        .iter()
        .map(|v| {
            let i = usize::try_from(v.saturating_mul(7) / max).unwrap_or(0);
            SPARK.get(i).copied().unwrap_or('▁')
        })
        .collect()
}

/// The next scheduled run, when it can be worked out (hourly, daily), else the cadence.
fn schedule(p: &ProjectRow, now: jiff::Timestamp) -> String {
    let next = p
        .project
        .schedules
        .iter()
        .filter(|s| s.enabled)
        .filter_map(|s| next_run(s, now).map(|t| (t, s)))
        .min_by_key(|(t, _)| *t);
    if let Some((t, _)) = next {
        return format!("in {}", style::duration(style::since(now, t)));
    }
    match p.project.schedules.iter().filter(|s| s.enabled).count() {
        0 => "-".into(),
        1 => p
            .project
            .schedules
            .iter()
            .find(|s| s.enabled)
            .map(|s| s.cadence.to_lowercase())
            .unwrap_or_default(),
        n => format!("{n} schedules"),
    }
}

/// Next time an hourly or daily schedule fires after `now`, in its own time zone.
fn next_run(s: &crate::hex::types::Schedule, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let (timing, hourly) = match s.cadence.as_str() {
        "HOURLY" => (s.hourly.as_ref()?, true),
        "DAILY" => (s.daily.as_ref()?, false),
        _ => return None,
    };
    let tz = timing
        .timezone
        .as_deref()
        .and_then(|n| jiff::tz::TimeZone::get(n).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let z = now.to_zoned(tz);
    let minute = i8::try_from(timing.minute.unwrap_or(0)).ok()?;
    let candidate = if hourly {
        z.with()
            .minute(minute)
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
    } else {
        let hour = i8::try_from(timing.hour.unwrap_or(0)).ok()?;
        z.with()
            .hour(hour)
            .minute(minute)
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .ok()?
    };
    let step = if hourly {
        jiff::Span::new().hours(1)
    } else {
        jiff::Span::new().days(1)
    };
    let next = if candidate.timestamp() > now {
        candidate
    } else {
        candidate.checked_add(step).ok()?
    };
    Some(next.timestamp())
}
