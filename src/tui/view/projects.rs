//! The projects screen: every project with its published state, last run (status, when, how
//! long), a sparkline of recent durations, and when its schedule fires next.
//!
//! Draws [`Model::visible_projects`] as given (the model filters and sorts); loading, empty and
//! failed states say what happened and what to press. After a failed refresh the last list stays
//! on screen under a stale banner (DESIGN.md, "honest freshness").

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::chrome::{self, Hint};
use super::style::{self, WARN};
use super::table::{self, Column};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{LastShown, Load, Model, ProjectRow, ProjectSort};

const TREND_BARS: usize = 12;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap) {
    let (rows, stale) = match &model.projects.load {
        Load::NotAsked | Load::Loading => {
            chrome::notice(
                frame,
                area,
                vec![Line::styled("loading projects…", style::dim())],
            );
            return;
        }
        Load::Failed {
            error,
            previous: None,
        } => {
            chrome::failed(
                frame,
                area,
                "cannot list projects",
                error,
                &[
                    Hint::new(keys, Action::ShowProjects, "retry"),
                    Hint::raw(":profile NAME", "use another profile"),
                    Hint::new(keys, Action::Quit, "quit"),
                ],
            );
            return;
        }
        Load::Failed {
            error,
            previous: Some(rows),
        } => (rows, Some(error)),
        Load::Loaded(rows) => (rows, None),
    };
    let body = match stale {
        Some(error) => stale_banner(frame, area, error),
        None => area,
    };
    if rows.is_empty() {
        chrome::notice(
            frame,
            body,
            vec![
                Line::raw("no projects are visible to this token"),
                Line::styled(format!("(profile {})", model.status.profile), style::dim()),
            ],
        );
        return;
    }
    let shown = model.visible_projects();
    if shown.is_empty() {
        chrome::notice(
            frame,
            body,
            vec![Line::raw(format!(
                "no project matches \"{}\"",
                model.projects.filter.text.value()
            ))],
        );
        return;
    }
    let height = usize::from(body.height.saturating_sub(1));
    let cursor = model.projects.pick(&shown).unwrap_or(0);
    let top = table::window(shown.len(), cursor, height);
    // The ids drawn tell the projects apart (the demo's share their first characters).
    let ids: Vec<&str> = shown.iter().map(|r| r.project.id.as_str()).collect();
    let labels = style::distinct_ids(&ids);
    let cells: Vec<Vec<Span<'static>>> = shown
        .iter()
        .zip(&labels)
        .skip(top)
        .take(height)
        .map(|(r, id)| cells(r, id, model))
        .collect();
    table::render(
        frame,
        body,
        &columns(model.projects.sort),
        &cells,
        Some(cursor - top),
    );
}

/// Says on the first line that the list is the last one read, as refreshing it failed; returns
/// the area under it.
fn stale_banner(frame: &mut Frame, area: Rect, error: &str) -> Rect {
    let banner = Line::styled(
        format!(" ⚠ stale: refreshing the projects failed ({error}); this is the last list"),
        Style::new().fg(WARN),
    );
    frame.render_widget(banner, Rect { height: 1, ..area });
    Rect {
        y: area.y.saturating_add(1),
        height: area.height.saturating_sub(1),
        ..area
    }
}

/// The sorted column says so with an arrow.
fn columns(sort: ProjectSort) -> [Column; 11] {
    let (title, when, published) = match sort {
        ProjectSort::Title => ("TITLE ↑", "WHEN", "PUBLISHED"),
        ProjectSort::LastRun => ("TITLE", "WHEN ↓", "PUBLISHED"),
        ProjectSort::Published => ("TITLE", "WHEN", "PUBLISHED ↓"),
    };
    [
        // The pin mark: no room at all while nothing is pinned.
        Column::fixed("", 10),
        Column::flex(title, 20),
        Column::fixed("ALIAS", 3).max(16),
        Column::fixed(published, 4),
        Column::fixed("LAST RUN", 9),
        Column::fixed(when, 8),
        Column::fixed("DURATION", 7).right(),
        Column::fixed("TREND", 5),
        Column::fixed("NEXT", 6),
        Column::fixed("SCHEDULE", 2).max(28),
        Column::fixed("ID", 1),
    ]
}

fn cells(row: &ProjectRow, id: &str, model: &Model) -> Vec<Span<'static>> {
    let p = &row.project;
    let none = || Span::styled("-", style::dim());
    let title = if p.archived_at.is_some() {
        Span::styled(p.title.clone(), style::dim())
    } else {
        Span::raw(p.title.clone())
    };
    let published = match (p.archived_at, p.last_published_at) {
        (Some(_), _) => Span::styled("archived", Style::new().fg(WARN)),
        (None, Some(at)) => Span::raw(format!(
            "{} ago",
            style::age(style::secs_between(at, model.now))
        )),
        (None, None) => Span::styled("draft", style::dim()),
    };
    let (last, when, took) = match model.last_run(row) {
        LastShown::Run(run) => {
            let s = &run.status;
            let last = Span::styled(
                format!(
                    "{} {}",
                    style::status_glyph(Some(s), model.frame),
                    style::status_word(Some(s))
                ),
                Style::new().fg(style::status_color(Some(s))),
            );
            let when = run.at.map_or_else(none, |t| {
                Span::raw(format!(
                    "{} ago",
                    style::age(style::secs_between(t, model.now))
                ))
            });
            let took = run
                .duration_secs
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map_or_else(none, |s| Span::raw(style::duration(s.round() as u64)));
            (last, when, took)
        }
        // Hex itself lists no run of it: only now is "never" known.
        LastShown::NoRuns => (Span::styled("no runs", style::dim()), none(), none()),
        LastShown::Asking => (Span::styled("asking…", style::dim()), none(), none()),
        // hexdash never ran it; Hex is asked once the cursor rests on the row.
        LastShown::Unknown => (Span::styled("unknown", style::dim()), none(), none()),
    };
    let trend = Span::styled(
        style::sparkline(&row.trend, TREND_BARS),
        Style::new().fg(style::ACCENT),
    );
    let upcoming = row.upcoming(model.now);
    let next = match &upcoming {
        Some(u) => match u.at {
            Some(at) => Span::raw(format!(
                "in {}",
                style::duration(style::secs_between(model.now, at))
            )),
            // A cron expression that does not parse, a weekly schedule without a day.
            None => Span::styled("unknown", style::dim()),
        },
        None => none(),
    };
    let schedule = upcoming.map_or_else(none, |u| Span::styled(u.label, style::dim()));
    let pin = if model.pinned_projects.contains(&p.id) {
        Span::styled("★", Style::new().fg(WARN))
    } else {
        Span::raw("")
    };
    vec![
        pin,
        title,
        Span::raw(row.alias.clone().unwrap_or_default()),
        published,
        last,
        when,
        took,
        trend,
        next,
        schedule,
        Span::styled(id.to_string(), style::dim()),
    ]
}

/// `12 projects · sorted by title`
pub fn summary(model: &Model) -> String {
    match model.projects.load.data() {
        Some(rows) => format!(
            "{} · sorted by {}",
            style::plural(rows.len(), "project"),
            model.projects.sort.label()
        ),
        None => String::new(),
    }
}

pub fn hints(model: &Model, keys: &KeyMap) -> Vec<Hint> {
    if model.projects.load.data().is_none_or(Vec::is_empty) {
        return vec![
            Hint::new(keys, Action::ShowRuns, "runs"),
            Hint::new(keys, Action::CommandLine, "command"),
            Hint::new(keys, Action::Quit, "quit"),
        ];
    }
    let mut list = Vec::new();
    // Keys that act on a project only while one is under the cursor.
    if model.selected_project().is_some() {
        list.push(Hint::new(keys, Action::Open, "runs"));
        if !model.status.read_only {
            list.push(Hint::new(keys, Action::Launch, "launch"));
        }
        list.push(Hint::new(keys, Action::Pin, "pin"));
    }
    list.extend([
        Hint::new(keys, Action::Filter, "filter"),
        Hint::new(keys, Action::Sort, "sort"),
        Hint::new(keys, Action::ShowRuns, "all runs"),
        Hint::new(keys, Action::CommandLine, "command"),
        Hint::new(keys, Action::Quit, "quit"),
    ]);
    list
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{base, projects_model, render};
    use crate::tui::model::{Load, ProjectSort};

    #[test]
    fn loading() {
        let mut m = base();
        m.projects.load = Load::Loading;
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn loaded() {
        insta::assert_snapshot!(render(&projects_model(), 150, 14).backend());
    }

    #[test]
    fn pinned_projects_come_first_marked() {
        let mut m = projects_model();
        let last = m.visible_projects().last().map(|r| r.project.id.clone());
        m.pinned_projects.extend(last);
        insta::assert_snapshot!(render(&m, 150, 10).backend());
    }

    #[test]
    fn loaded_narrow() {
        insta::assert_snapshot!(render(&projects_model(), 80, 24).backend());
    }

    #[test]
    fn failed_without_data_says_how_to_retry() {
        let mut m = base();
        m.projects.load = Load::Failed {
            error: "401 Unauthorized: the token was rejected (check HEX_API_TOKEN)".into(),
            previous: None,
        };
        insta::assert_snapshot!(render(&m, 100, 14).backend());
    }

    #[test]
    fn failed_with_data_keeps_the_rows_marked_stale() {
        let mut m = projects_model();
        let previous = m.projects.load.data().cloned();
        m.projects.load = Load::Failed {
            error: "connection refused".into(),
            previous,
        };
        insta::assert_snapshot!(render(&m, 120, 14).backend());
    }

    #[test]
    fn hex_answers_fill_and_refresh_the_last_run_columns() {
        use super::super::fixtures::ago;
        use crate::hex::RunStatus;
        use crate::tui::model::{HexLast, LastRun};
        let mut m = projects_model();
        let rows = m.projects.load.data().cloned().unwrap();
        // Hex knows a newer run of a project than the journal, none of another, and is being
        // asked about a third.
        m.projects.hex_last.insert(
            rows[0].project.id.clone(),
            HexLast::Known(Some(LastRun {
                status: RunStatus::Running,
                at: Some(ago(30)),
                duration_secs: None,
            })),
        );
        m.projects
            .hex_last
            .insert(rows[3].project.id.clone(), HexLast::Asking);
        m.projects
            .hex_last
            .insert(rows[4].project.id.clone(), HexLast::Known(None));
        m.projects.hex_last.insert(
            rows[5].project.id.clone(),
            HexLast::Known(Some(LastRun {
                status: RunStatus::Completed,
                at: Some(ago(400 * 86400)),
                duration_secs: Some(10.0),
            })),
        );
        insta::assert_snapshot!(render(&m, 150, 14).backend());
    }

    #[test]
    fn empty() {
        let mut m = base();
        m.projects.load = Load::Loaded(Vec::new());
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn filtering_as_you_type() {
        let mut m = projects_model();
        m.projects.filter.text = "re".into();
        m.projects.filter.editing = true;
        m.projects.cursor = crate::tui::cursor::Cursor::at(0);
        insta::assert_snapshot!(render(&m, 120, 12).backend());
    }

    #[test]
    fn filter_without_matches() {
        let mut m = projects_model();
        m.projects.filter.text = "zzz".into();
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn sorted_by_last_run() {
        let mut m = projects_model();
        m.projects.sort = ProjectSort::LastRun;
        insta::assert_snapshot!(render(&m, 120, 14).backend());
    }
}
