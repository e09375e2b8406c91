//! The status bar: profile (prod-like in a warning colour), read-only, API health, the budget
//! left, time since the last good poll, and the message line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::style;
use crate::tui::model::{Level, Model};

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let [info, message] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let s = &model.status;
    let profile_style = if s.prod_like {
        Style::new().fg(Color::Black).bg(Color::Yellow)
    } else {
        Style::new().fg(Color::Black).bg(Color::Cyan)
    };
    let mut spans = vec![Span::styled(format!(" {} ", s.profile), profile_style)];
    if s.read_only {
        spans.push(Span::styled(
            " read-only ",
            Style::new().fg(Color::Black).bg(Color::Gray),
        ));
    }
    let health = if let Some(until) = s.health.paused_until.filter(|u| *u > model.now) {
        Span::styled(
            format!(
                " rate limited, resuming in {} ",
                style::duration(style::since(model.now, until))
            ),
            style::warn(),
        )
    } else if s.health.error.is_some() {
        Span::styled(" API trouble ", style::error())
    } else {
        Span::styled(" API ok ", Style::new().fg(Color::Green))
    };
    spans.push(health);
    if let Some(b) = &s.budget {
        spans.push(Span::styled(
            format!(
                " budget {}/{} this min · {} launches left this hour ",
                b.requests_left_this_minute,
                b.limits.requests_per_minute,
                b.launches_left_this_hour
            ),
            style::dim(),
        ));
    }
    if let Some(t) = s.health.last_success {
        spans.push(Span::styled(
            format!(
                " last poll {} ago ",
                style::duration(style::since(t, model.now))
            ),
            style::dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), info);
    // The message line: a health error when no message says more.
    let line = match (&s.message, &s.health.error) {
        (Some(m), _) => {
            let st = match m.level {
                Level::Info => Style::new(),
                Level::Warning => style::warn(),
                Level::Error => style::error(),
            };
            Line::styled(format!(" {}", m.text), st)
        }
        (None, Some(e)) => Line::styled(
            format!(" {e} (last good data stays on screen)"),
            style::error(),
        ),
        (None, None) => Line::raw(""),
    };
    frame.render_widget(Paragraph::new(line), message);
}
