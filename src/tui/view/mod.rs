//! Drawing: pure functions from the model (and the key map, for key labels) to a frame.
//!
//! Layout: a header line (screen tabs, profile), the screen, a status bar; overlays on top.
//! Views never change the model and never do I/O; what they show of time comes from
//! `model.now` and `model.tz`, so snapshots are stable.

mod detail;
mod form;
mod overlay;
mod projects;
mod runs;
mod status_bar;
mod style;

#[cfg(test)]
mod tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::action::Action;
use super::keymap::KeyMap;
use super::model::{Model, Screen};

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame<'_>, model: &Model, keys: &KeyMap) {
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    draw_header(frame, head, model, keys);
    match model.screen {
        Screen::Projects => projects::draw(frame, body, model, keys),
        Screen::Runs => runs::draw(frame, body, model, keys),
        Screen::Detail => detail::draw(frame, body, model, keys),
        Screen::Form => form::draw(frame, body, model, keys),
    }
    status_bar::draw(frame, foot, model);
    overlay::draw(frame, model, keys);
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, model: &Model, keys: &KeyMap) {
    let tab = |action: Action, name: &str, on: bool| {
        let text = format!(" {} {name} ", keys.label(action));
        if on {
            Span::styled(text, style::selected())
        } else {
            Span::raw(text)
        }
    };
    let screen = model.screen;
    let active = model
        .runs
        .rows
        .values()
        .filter(|r| r.followed && r.view.is_active())
        .count();
    let mut spans = vec![
        Span::styled(" hexdash ", style::header()),
        tab(Action::ShowProjects, "Projects", screen == Screen::Projects),
        tab(
            Action::ShowRuns,
            &format!("Runs ({active} active)"),
            matches!(screen, Screen::Runs | Screen::Detail),
        ),
    ];
    if screen == Screen::Form {
        spans.push(Span::styled(" Launch ", style::selected()));
    }
    spans.push(Span::styled(
        format!("   {} help", keys.label(Action::Help)),
        style::dim(),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A one-line hint of keys: `label action` pairs.
pub(crate) fn hints(keys: &KeyMap, items: &[(Action, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (action, what) in items {
        spans.push(Span::styled(
            keys.label(*action),
            Style::new().fg(ratatui::style::Color::Cyan),
        ));
        spans.push(Span::styled(format!(" {what}  "), style::dim()));
    }
    Line::from(spans)
}
