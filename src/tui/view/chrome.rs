//! The frame around every screen: the tab header, the filter line, and the key-hint line.
//!
//! Key labels always come from the [`KeyMap`], so a rebound key shows as bound. Screens supply
//! their own hints and header summary; this module only lays them out.

use crate::hex::short_id;
use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::style::{self, ACCENT};
use super::{pipelines, projects, runs};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Filter, Model, Screen};

/// One key hint: "x cancel".
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub keys: String,
    pub what: Cow<'static, str>,
}

impl Hint {
    /// The keys bound to `action`, doing `what` here.
    pub fn new(keys: &KeyMap, action: Action, what: impl Into<Cow<'static, str>>) -> Hint {
        Hint {
            keys: keys.label(action),
            what: what.into(),
        }
    }

    /// A key that is not a bindable action (a form field's own keys).
    pub fn raw(keys: &str, what: impl Into<Cow<'static, str>>) -> Hint {
        Hint {
            keys: keys.to_string(),
            what: what.into(),
        }
    }
}

/// Hints as spans; the ones that do not fit in `width` are left off the end.
pub fn hint_spans(list: &[Hint], width: usize) -> Vec<Span<'static>> {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for h in list {
        let w = style::width(&h.keys) + 1 + style::width(&h.what) + 2;
        if used + w > width + 2 {
            break;
        }
        used += w;
        spans.push(Span::styled(h.keys.clone(), style::key()));
        spans.push(Span::styled(format!(" {}  ", h.what), style::dim()));
    }
    spans
}

pub fn hints(frame: &mut Frame, area: Rect, list: &[Hint]) {
    let spans = hint_spans(list, usize::from(area.width));
    frame.render_widget(Line::from(spans), area);
}

/// `1 Projects  2 Runs › run 3f2a9c1d` on the left; the screen's summary and the help key on the
/// right.
pub fn header(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap) {
    let tab = |action: Action, name: &str, on: bool| {
        let text = format!(" {} {name} ", keys.label(action));
        if on {
            Span::styled(
                text,
                Style::new()
                    .fg(ratatui::style::Color::Black)
                    .bg(ACCENT)
                    .add_modifier(Modifier::BOLD),
            )
        } else {
            Span::raw(text)
        }
    };
    let on_pipelines = matches!(model.screen, Screen::Pipelines | Screen::PipelineRun)
        || model.form.as_ref().is_some_and(|f| f.pipeline.is_some())
            && model.screen == Screen::Form;
    let on_projects = matches!(model.screen, Screen::Projects | Screen::Form) && !on_pipelines;
    let mut left = vec![
        Span::styled(" hexdash ", style::bold()),
        tab(Action::ShowProjects, "Projects", on_projects),
        Span::raw(" "),
        tab(Action::ShowRuns, "Runs", !on_projects && !on_pipelines),
        Span::raw(" "),
        tab(Action::ShowPipelines, "Pipelines", on_pipelines),
    ];
    match model.screen {
        Screen::Detail => {
            let id = model.detail.as_ref().map(|k| k.short()).unwrap_or("?");
            left.push(Span::styled(format!(" › run {id}"), style::bold()));
        }
        Screen::Form => {
            let title = model
                .form
                .as_ref()
                .map(|f| f.project_title.as_deref().unwrap_or(&f.project_id))
                .unwrap_or("?");
            left.push(Span::styled(format!(" › launch {title}"), style::bold()));
        }
        Screen::PipelineRun => {
            let what = model
                .pipelines
                .open_run()
                .map(|r| format!(" › {} {}", r.name, short_id(&r.id)))
                .unwrap_or_default();
            left.push(Span::styled(what, style::bold()));
        }
        Screen::Projects | Screen::Runs | Screen::Pipelines => {}
    }
    let summary = match model.screen {
        Screen::Projects => projects::summary(model),
        Screen::Runs => runs::summary(model),
        Screen::Pipelines => pipelines::summary(model),
        Screen::Detail | Screen::Form | Screen::PipelineRun => String::new(),
    };
    let help = format!("{} help ", keys.label(Action::Help));
    let left_width: usize = left.iter().map(Span::width).sum();
    let width = usize::from(area.width);
    let mut right = vec![Span::styled(help, style::dim())];
    if !summary.is_empty() && left_width + style::width(&summary) + 3 + right[0].width() <= width {
        right.insert(0, Span::styled(format!("{summary}  "), style::dim()));
    }
    let right_width: usize = right.iter().map(Span::width).sum();
    if left_width + right_width < width {
        left.push(Span::raw(" ".repeat(width - left_width - right_width)));
        left.extend(right);
    }
    frame.render_widget(Line::from(left), area);
}

/// The filter of the current list screen, when one is set or being typed.
pub fn active_filter(model: &Model) -> Option<&Filter> {
    let f = match model.screen {
        Screen::Projects => &model.projects.filter,
        Screen::Runs => &model.runs.filter,
        Screen::Detail | Screen::Form | Screen::Pipelines | Screen::PipelineRun => return None,
    };
    (f.editing || !f.text.is_empty()).then_some(f)
}

/// ` / running etl   12 of 1,234 match   enter keep  esc clear`
pub fn filter_line(frame: &mut Frame, area: Rect, model: &Model, f: &Filter, keys: &KeyMap) {
    let (shown, total) = match model.screen {
        Screen::Projects => (
            model.visible_projects().len(),
            model.projects.load.data().map_or(0, Vec::len),
        ),
        _ => (model.shown_runs().len(), model.runs.rows.len()),
    };
    // While typed, a long filter scrolls to keep its cursor in view; kept, it shows from its
    // start.
    let typed = f
        .text
        .shown(f.editing, usize::from(area.width).saturating_sub(3));
    let mut spans = vec![
        Span::styled(" / ", style::key()),
        Span::styled(typed.text.to_string(), style::bold()),
    ];
    let cursor_x = (area.x + 3).saturating_add(u16::try_from(typed.cursor).unwrap_or(u16::MAX));
    spans.push(Span::styled(
        format!(
            "   {} of {} match",
            style::count(shown),
            style::count(total)
        ),
        if shown == 0 {
            Style::new().fg(style::WARN)
        } else {
            style::dim()
        },
    ));
    let hint = if f.editing {
        vec![Hint::raw("enter", "keep"), Hint::raw("esc", "clear")]
    } else {
        vec![Hint::new(keys, Action::Filter, "edit (esc there clears)")]
    };
    spans.push(Span::raw("  "));
    spans.extend(hint_spans(&hint, usize::from(area.width)));
    frame.render_widget(Line::from(spans), area);
    if f.editing && model.overlay.is_none() && cursor_x < area.right() {
        frame.set_cursor_position(Position::new(cursor_x, area.y));
    }
}

/// A short message in the middle of an empty body: loading, empty and error states.
/// `lines` one a row from the top of `area`, as wide as it; those past its bottom are left out.
pub fn lines(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    for (i, line) in lines.into_iter().enumerate() {
        let Ok(dy) = u16::try_from(i) else { break };
        if dy >= area.height {
            break;
        }
        frame.render_widget(
            line,
            Rect {
                y: area.y + dy,
                height: 1,
                ..area
            },
        );
    }
}

pub fn notice(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let top = area.y + area.height.saturating_sub(height) / 3;
    for (i, line) in lines.into_iter().enumerate() {
        let y = top.saturating_add(u16::try_from(i).unwrap_or(u16::MAX));
        if y >= area.bottom() {
            break;
        }
        let rect = Rect {
            y,
            height: 1,
            ..area
        };
        frame.render_widget(line.centered(), rect);
    }
}

/// `✗ cannot list …`, the error, and what to press: a list that never loaded.
pub fn failed(frame: &mut Frame, area: Rect, headline: &str, error: &str, hints: &[Hint]) {
    notice(
        frame,
        area,
        vec![
            Line::styled(
                format!("✗ {headline}"),
                Style::new().fg(style::ERROR).add_modifier(Modifier::BOLD),
            ),
            Line::raw(error.to_string()),
            Line::raw(""),
            Line::from(hint_spans(hints, usize::from(area.width))).style(style::dim()),
        ],
    );
}
