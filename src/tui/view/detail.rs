//! The run detail screen: everything known about one run.
//!
//! Every field Hex returned (status in Hex's spelling, start, end, elapsed, run URL, trace id,
//! project version, ids), the status timeline as hexdash observed it, the parameters and
//! options it was launched with, and what hexdash knows around it: origin, launch id, whether
//! it was adopted after a lost answer, cancel state, how old the data is and why it may be
//! stale. Two columns when there is room, one otherwise. The hint line lists the actions that
//! can be taken on this run now.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::chrome::{self, Hint};
use super::style::{self, ERROR, WARN};
use crate::engine::{Overdue, RunView};
use crate::hex::params::display_value;
use crate::journal::{CancelState, LaunchOptions, Origin};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Model, RunRow};

/// Width of the field names.
const LABEL: usize = 11;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap) {
    let Some(row) = model.detail.as_ref().and_then(|k| model.runs.rows.get(k)) else {
        chrome::notice(
            frame,
            area,
            vec![Line::raw(format!(
                "this run is no longer in the list; {} goes back",
                keys.label(Action::Back)
            ))],
        );
        return;
    };
    let v = &row.view;
    let (status, status_style) = style::run_status(v, row.live(), model.frame);
    // The status first: on a narrow terminal the title and id are cut (with `…`), never it.
    let title = Line::from(vec![
        Span::styled(format!(" {status} "), status_style),
        Span::styled(
            format!(" {} ", v.project_title.as_deref().unwrap_or("(untitled)")),
            style::bold(),
        ),
        Span::styled(format!(" run {}", v.key.run_id), style::dim()),
    ]);
    let title = style::fit_line(title, usize::from(area.width));
    frame.render_widget(title, Rect { height: 1, ..area });
    let body = Rect {
        y: area.y.saturating_add(2),
        height: area.height.saturating_sub(2),
        ..area
    };
    if body.width >= 70 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .spacing(2)
                .areas(body);
        let w = usize::from(left.width);
        let mut l = run_section(row, model, w);
        l.push(Line::raw(""));
        l.extend(launch_section(v, w));
        let w = usize::from(right.width);
        let mut r = timeline_section(v, model);
        r.push(Line::raw(""));
        r.extend(params_section(v, w));
        r.push(Line::raw(""));
        r.extend(watch_section(row, model, keys, w));
        chrome::lines(frame, left, l);
        chrome::lines(frame, right, r);
    } else {
        let w = usize::from(body.width);
        let mut all = run_section(row, model, w);
        for section in [
            timeline_section(v, model),
            params_section(v, w),
            launch_section(v, w),
            watch_section(row, model, keys, w),
        ] {
            all.push(Line::raw(""));
            all.extend(section);
        }
        chrome::lines(frame, body, all);
    }
}

fn section(name: &str) -> Line<'static> {
    Line::styled(format!(" {name}"), style::heading())
}

/// ` label     value`, the value cut to the width left.
fn field(label: &str, value: impl Into<String>, st: Style, width: usize) -> Line<'static> {
    let room = width.saturating_sub(LABEL + 2);
    let value: String = value.into();
    Line::from(vec![
        Span::styled(format!("  {label:<w$}", w = LABEL), style::dim()),
        Span::styled(style::fit(&value, room).into_owned(), st),
    ])
}

fn or_dash(v: Option<String>) -> (String, Style) {
    match v {
        Some(s) => (s, Style::new()),
        None => ("-".into(), style::dim()),
    }
}

fn run_section(row: &RunRow, model: &Model, w: usize) -> Vec<Line<'static>> {
    let v = &row.view;
    let tz = &model.tz;
    let status = match &v.status {
        Some(s) => Span::styled(
            format!("{} {}", style::status_glyph(Some(s), model.frame), s),
            Style::new()
                .fg(style::status_color(Some(s)))
                .add_modifier(Modifier::BOLD),
        ),
        None => Span::styled(
            format!("{} not reported yet", style::spinner(model.frame)),
            Style::new().fg(WARN),
        ),
    };
    let mut lines = vec![
        section("Run"),
        Line::from(vec![
            Span::styled(format!("  {:<w$}", "status", w = LABEL), style::dim()),
            status,
        ]),
    ];
    let (started, st) = or_dash(v.start_time.map(|t| style::full_time(t, tz)));
    lines.push(field("started", started, st, w));
    let ended = match v.end_time {
        Some(t) => (style::full_time(t, tz), Style::new()),
        None if v.is_active() => ("- (still going)".into(), style::dim()),
        None => ("-".into(), style::dim()),
    };
    lines.push(field("ended", ended.0, ended.1, w));
    let elapsed = match style::elapsed_secs(v, row.live(), model.now) {
        Some(s) if row.live() => (
            format!("{} and counting", style::duration(s)),
            style::bold(),
        ),
        Some(s) if v.is_active() => (
            format!("{} when last seen", style::duration(s)),
            Style::new(),
        ),
        Some(s) => (style::duration(s), Style::new()),
        None => ("- (not started)".into(), style::dim()),
    };
    lines.push(field("elapsed", elapsed.0, elapsed.1, w));
    let (url, st) = or_dash(v.run_url.clone());
    lines.push(field("run URL", url, st.fg(style::ACCENT), w));
    let (trace, st) = or_dash(v.trace_id.clone());
    lines.push(field("trace id", trace, st, w));
    let (version, st) = or_dash(v.project_version.as_ref().map(ToString::to_string));
    lines.push(field("version", version, st, w));
    lines.push(field("project", v.key.project_id.clone(), Style::new(), w));
    lines
}

fn launch_section(v: &RunView, w: usize) -> Vec<Line<'static>> {
    let origin = match &v.origin {
        Some(Origin::Pipeline {
            pipeline_run_id,
            step_id,
            attempt: 1,
        }) => format!("pipeline {pipeline_run_id}, step {step_id}"),
        Some(Origin::Pipeline {
            pipeline_run_id,
            step_id,
            attempt,
        }) => format!("pipeline {pipeline_run_id}, step {step_id}, attempt {attempt}"),
        Some(found @ Origin::Hex { .. }) => {
            format!("{} (found in Hex, not launched by hexdash)", found.word())
        }
        other => match style::origin_label(other.as_ref()) {
            "-" => "- (not launched by hexdash)".to_string(),
            label => label.to_string(),
        },
    };
    let (launch_id, st) = or_dash(v.launch_id.clone());
    let adopted = if v.adopted {
        (
            "yes: the launch answer was lost, found in the project's runs".to_string(),
            Style::new().fg(WARN),
        )
    } else {
        ("no".to_string(), style::dim())
    };
    let (options, ost) = match &v.options {
        Some(o) => (options(o), Style::new()),
        None => ("- (unknown)".to_string(), style::dim()),
    };
    let (by, byst) = match &v.launched_by {
        Some(l) if l.process == crate::journal::Launcher::this_process().process => {
            (format!("this hexdash ({})", l.describe()), Style::new())
        }
        Some(l) => (l.describe(), Style::new()),
        None => ("-".to_string(), style::dim()),
    };
    vec![
        section("Launch"),
        field("origin", origin, Style::new(), w),
        field("process", by, byst, w),
        field("launch id", launch_id, st, w),
        field("adopted", adopted.0, adopted.1, w),
        field("options", options, ost, w),
    ]
}

/// `cached SQL · no publish · timeout 30m (kill) · dry run`
fn options(o: &LaunchOptions) -> String {
    let mut parts = vec![
        if o.use_cached_sql_results == Some(false) {
            "fresh SQL"
        } else {
            "cached SQL"
        }
        .to_string(),
        if o.update_published_results == Some(true) {
            "updates published"
        } else {
            "no publish"
        }
        .to_string(),
    ];
    if let Some(t) = o.timeout_secs {
        let t = style::round_duration(t);
        parts.push(format!(
            "timeout {t}{}",
            if o.kill_on_timeout { " (kill)" } else { "" }
        ));
    }
    if o.dry_run {
        parts.push("dry run".into());
    }
    parts.join(" · ")
}

fn timeline_section(v: &RunView, model: &Model) -> Vec<Line<'static>> {
    let mut lines = vec![section("Timeline (as observed)")];
    if v.timeline.is_empty() {
        lines.push(Line::styled("  no status observed yet", style::dim()));
    }
    let mut previous = None;
    for (status, at) in &v.timeline {
        let mut spans = vec![
            Span::raw(format!("  {}  ", style::clock(*at, model.now, &model.tz))),
            Span::styled(
                format!("{status:<10}"),
                Style::new().fg(style::status_color(Some(status))),
            ),
        ];
        if let Some(p) = previous {
            spans.push(Span::styled(
                format!(" after {}", style::duration(style::secs_between(p, *at))),
                style::dim(),
            ));
        }
        previous = Some(*at);
        lines.push(Line::from(spans));
    }
    lines
}

fn params_section(v: &RunView, w: usize) -> Vec<Line<'static>> {
    let mut lines = vec![section("Parameters")];
    match &v.params {
        None => lines.push(Line::styled(
            "  unknown (not launched by hexdash)",
            style::dim(),
        )),
        Some(p) if p.is_empty() => {
            lines.push(Line::styled(
                "  none (the project's defaults)",
                style::dim(),
            ));
        }
        Some(p) => {
            let name_w = p.keys().map(|k| style::width(k)).max().unwrap_or(0).min(20);
            for (name, value) in p {
                let room = w.saturating_sub(name_w + 4);
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("  {:<name_w$}  ", style::fit(name, name_w)),
                        style::dim(),
                    ),
                    Span::raw(style::fit(&display_value(value), room).into_owned()),
                ]));
            }
        }
    }
    lines
}

fn watch_section(row: &RunRow, model: &Model, keys: &KeyMap, w: usize) -> Vec<Line<'static>> {
    let v = &row.view;
    let mut lines = vec![section("Data")];
    let updated = updated(v, model);
    lines.push(field("updated", updated.0, updated.1, w));
    lines.push(field(
        "first seen",
        style::clock(v.first_seen, model.now, &model.tz),
        Style::new(),
        w,
    ));
    if let Some(reason) = &v.stale {
        lines.push(field(
            "stale",
            reason.clone(),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
            w,
        ));
    }
    let following = following(row);
    lines.push(field("following", following.0, following.1, w));
    if let Some((text, st)) = cancel(v, model, keys) {
        lines.push(field("cancel", text, st, w));
    }
    if let Some(o) = &row.overdue
        && v.is_active()
    {
        lines.push(field(
            "overdue",
            overdue(o),
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
            w,
        ));
    }
    if v.timed_out {
        lines.push(field(
            "timeout",
            "passed while the run was still going",
            Style::new().fg(WARN),
            w,
        ));
    }
    let mut notes = Vec::new();
    if model.pinned.contains(&v.key) {
        notes.push("pinned: a bell when it ends");
    }
    if model.session_runs.contains(&v.key) {
        notes.push("launched in this session");
    }
    if !notes.is_empty() {
        lines.push(field("notes", notes.join("; "), Style::new(), w));
    }
    lines
}

/// When Hex last answered about the run, and how long ago.
fn updated(v: &RunView, model: &Model) -> (String, Style) {
    match v.observed_at {
        Some(t) => (
            format!(
                "{} ({} ago)",
                style::clock(t, model.now, &model.tz),
                style::age(style::secs_between(t, model.now))
            ),
            Style::new(),
        ),
        None => (
            "never: no answer from Hex yet".into(),
            Style::new().fg(WARN),
        ),
    }
}

/// Whether hexdash still polls the run; an active run it does not is an alarm.
fn following(row: &RunRow) -> (&'static str, Style) {
    let v = &row.view;
    if row.followed && v.is_active() {
        ("yes, polled fast while open", Style::new())
    } else if v.is_active() {
        (
            "no: hexdash stopped following it",
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
        )
    } else {
        ("no, it ended", style::dim())
    }
}

/// Where a cancel of the run stands, if one was asked for.
fn cancel(v: &RunView, model: &Model, keys: &KeyMap) -> Option<(String, Style)> {
    match &v.cancel {
        CancelState::None => None,
        CancelState::Requested { at, origin } => Some((
            format!(
                "requested {} ({}), waiting for Hex to confirm",
                style::clock(*at, model.now, &model.tz),
                style::origin_label(Some(origin))
            ),
            Style::new().fg(ratatui::style::Color::Magenta),
        )),
        CancelState::Confirmed { at, status } => Some((
            format!(
                "confirmed {}: {status}",
                style::clock(*at, model.now, &model.tz)
            ),
            Style::new(),
        )),
        CancelState::NotConfirmed { at } => Some((
            format!(
                "NOT confirmed by {}; {} re-sends",
                style::clock(*at, model.now, &model.tz),
                keys.label(Action::CancelRun)
            ),
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
        )),
    }
}

/// Why the run looks stuck.
fn overdue(o: &Overdue) -> String {
    match o {
        Overdue::PastUsual { running, p95 } => format!(
            "running {}, usually done within {} (p95)",
            style::duration(running.as_secs()),
            style::round_duration(p95.as_secs())
        ),
        Overdue::PendingTooLong { pending } => {
            format!("pending for {}", style::duration(pending.as_secs()))
        }
    }
}

/// The actions that mean something for this run now, with their keys.
pub fn hints(model: &Model, keys: &KeyMap) -> Vec<Hint> {
    let Some(row) = model.detail.as_ref().and_then(|k| model.runs.rows.get(k)) else {
        return vec![Hint::new(keys, Action::Back, "back")];
    };
    let v = &row.view;
    let mut list = Vec::new();
    if !model.status.read_only {
        if v.is_active() && row.followed {
            list.push(Hint::new(keys, Action::CancelRun, "cancel"));
        }
        list.push(Hint::new(keys, Action::Launch, "rerun"));
        list.push(Hint::new(keys, Action::RerunWithEdits, "rerun with edits"));
    }
    if v.run_url.is_some() {
        list.push(Hint::new(keys, Action::OpenUrl, "open URL"));
    }
    // The same turn order as `update`'s copy: URL (when known), id, command line.
    let next = match model.copy_next % 3 {
        0 if v.run_url.is_some() => "copy URL",
        0 | 1 => "copy id",
        _ => "copy command",
    };
    list.push(Hint::new(keys, Action::Copy, next));
    let pin = if model.pinned.contains(&v.key) {
        "unpin"
    } else {
        "pin"
    };
    list.push(Hint::new(keys, Action::Pin, pin));
    list.push(Hint::new(keys, Action::Back, "back"));
    list
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{etl_running, render, runs_model};
    use crate::engine::RunKey;
    use crate::tui::model::{Model, Screen};

    fn detail_of(key: &RunKey) -> Model {
        let mut m = runs_model();
        m.screen = Screen::Detail;
        m.previous = Screen::Runs;
        m.detail = Some(key.clone());
        m
    }

    fn key_of(m: &Model, run_prefix: &str) -> RunKey {
        m.runs
            .rows
            .keys()
            .find(|k| k.run_id.starts_with(run_prefix))
            .unwrap()
            .clone()
    }

    #[test]
    fn running() {
        insta::assert_snapshot!(render(&detail_of(&etl_running().key), 130, 26).backend());
    }

    #[test]
    fn running_narrow() {
        insta::assert_snapshot!(render(&detail_of(&etl_running().key), 80, 24).backend());
    }

    #[test]
    fn very_narrow_stacks_the_sections() {
        insta::assert_snapshot!(render(&detail_of(&etl_running().key), 60, 40).backend());
    }

    #[test]
    fn stale_and_overdue() {
        let m = runs_model();
        let key = key_of(&m, "7c6b5a49");
        insta::assert_snapshot!(render(&detail_of(&key), 130, 24).backend());
    }

    #[test]
    fn ended_after_a_confirmed_cancel() {
        let m = runs_model();
        let key = key_of(&m, "4b3a2918");
        let mut m = detail_of(&key);
        m.copy_next = 1;
        insta::assert_snapshot!(render(&m, 130, 24).backend());
    }

    #[test]
    fn foreign_run_not_launched_by_hexdash() {
        let m = runs_model();
        let key = key_of(&m, "6f5e4d3c");
        let mut m = detail_of(&key);
        m.status.read_only = true;
        insta::assert_snapshot!(render(&m, 130, 24).backend());
    }

    #[test]
    fn run_gone_from_the_list() {
        let mut m = runs_model();
        m.screen = Screen::Detail;
        m.detail = Some(RunKey::new("p", "deadbeef-0000"));
        insta::assert_snapshot!(render(&m, 100, 10).backend());
    }
}
