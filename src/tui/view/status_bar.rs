//! The status bar on every screen, and the message line above it.
//!
//! The bar answers "where am I and can I trust what I see": the profile (a warning colour and a
//! `⚠` on prod-like ones), read-only, the API's health (error with its reason, a rate-limit
//! pause counting down, or ok), the request budget left (or, when other hexdash processes share
//! it, how much of it everyone used and how many processes they are), and how long ago a poll
//! last got an answer. When the terminal is narrow the budget and the poll age are shortened
//! first, then the reason of an error is cut; the profile and the health state always show.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use super::style::{self, ERROR, OK, WARN};
use crate::hex::Sharing;
use crate::tui::model::{Level, Model};

pub fn draw(frame: &mut Frame, area: Rect, model: &Model) {
    let s = &model.status;
    let width = usize::from(area.width);
    let mut left: Vec<Span<'static>> = Vec::new();
    if s.prod_like {
        left.push(Span::styled(
            format!(" ⚠ {} ", s.profile),
            Style::new()
                .fg(Color::Black)
                .bg(WARN)
                .add_modifier(Modifier::BOLD),
        ));
    } else {
        left.push(Span::styled(
            format!(" {} ", s.profile),
            Style::new().fg(Color::Black).bg(Color::Gray),
        ));
    }
    if s.read_only {
        left.push(Span::raw(" "));
        left.push(Span::styled(
            " READ-ONLY ",
            Style::new()
                .fg(Color::Black)
                .bg(Color::Magenta)
                .add_modifier(Modifier::BOLD),
        ));
    }
    let (budget_forms, budget_style) = budget(model);
    let (poll_long, poll_short, poll_style) = last_poll(model);
    let used: usize = left.iter().map(Span::width).sum();
    let (health, health_style) = health(model);
    // The health text matters most: shorten the budget and the poll age before cutting it.
    let needs =
        |a: &str, b: &str| used + 1 + style::width(&health) + style::width(a) + style::width(b) + 6;
    let mut poll_text = poll_long;
    // The longest form of the budget that fits, else the shortest.
    let budget_text = budget_forms
        .iter()
        .find(|form| needs(form, &poll_text) <= width)
        .or(budget_forms.last())
        .cloned()
        .unwrap_or_default();
    if needs(&budget_text, &poll_text) > width {
        poll_text = poll_short;
    }
    let right = style::width(&budget_text) + style::width(&poll_text) + 6;
    let health_room = width.saturating_sub(used + 1 + right);
    left.push(Span::raw(" "));
    left.push(Span::styled(
        style::fit(&health, health_room).into_owned(),
        health_style,
    ));
    for (text, st) in [(budget_text, budget_style), (poll_text, poll_style)] {
        left.push(Span::styled(" · ", style::dim()));
        left.push(Span::styled(text, st));
    }
    frame.render_widget(Line::from(left), area);
}

/// The message line: what just happened, in the colour of its level.
pub fn draw_message(frame: &mut Frame, area: Rect, model: &Model) {
    let Some(m) = &model.status.message else {
        return;
    };
    let (mark, st) = match m.level {
        Level::Info => ("", Style::new()),
        Level::Warning => ("⚠ ", Style::new().fg(WARN)),
        Level::Error => ("✗ ", Style::new().fg(ERROR).add_modifier(Modifier::BOLD)),
    };
    frame.render_widget(
        Line::from(Span::styled(format!(" {mark}{}", m.text), st)),
        area,
    );
}

fn health(model: &Model) -> (String, Style) {
    let h = &model.status.health;
    if let Some(until) = h.paused_until.filter(|u| *u > model.now) {
        let secs = style::secs_between(model.now, until).max(1);
        return (
            format!("rate limited, resuming in {secs}s"),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        );
    }
    if let Some(paused) = model
        .status
        .budget
        .and_then(|b| b.paused_for)
        .filter(|p| !p.is_zero())
    {
        return (
            format!("rate limited, resuming in {}s", paused.as_secs().max(1)),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        );
    }
    match &h.error {
        Some(e) => (
            format!("API error: {e}"),
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
        ),
        None => ("API ok".into(), Style::new().fg(OK)),
    }
}

/// The budget, in the forms to try from the longest, and its colour: requests left this minute
/// and launches left this hour; when other processes share the budget, the requests everyone
/// used this minute and by how many processes.
fn budget(model: &Model) -> (Vec<String>, Style) {
    let Some(b) = model.status.budget else {
        return (
            vec!["budget unknown".into(), "budget ?".into()],
            style::dim(),
        );
    };
    let l = b.limits;
    let st = if b.requests_left_this_minute == 0 || b.launches_left_this_hour == 0 {
        Style::new().fg(ERROR)
    } else if b.requests_left_this_minute <= l.reserved_for_actions {
        Style::new().fg(WARN)
    } else {
        Style::new()
    };
    let launches = format!(
        "{}/{} launches/h",
        b.launches_left_this_hour, l.launches_per_hour
    );
    let short = format!(
        "{}/min {}/h",
        b.requests_left_this_minute, b.launches_left_this_hour
    );
    let requests = format!(
        "{}/{} req/min",
        b.requests_left_this_minute, l.requests_per_minute
    );
    let forms = if b.sharing == Sharing::Shared && b.processes > 1 {
        let shared = format!(
            "req/min: {} used by {} processes",
            b.used_this_minute, b.processes
        );
        vec![
            format!("{shared} · {launches}"),
            shared,
            format!("{}/min used by {}", b.used_this_minute, b.processes),
        ]
    } else if b.sharing == Sharing::Unavailable {
        // Meant to be shared but not: other processes' requests are not in these numbers.
        vec![
            format!("{requests} (not shared) · {launches}"),
            format!("{requests} · {launches}"),
            short,
        ]
    } else {
        // Said in words while there is room: "47/60" reads as used as easily as left.
        let words = format!(
            "{} of {} req/min left · {} of {} launches/h left",
            b.requests_left_this_minute,
            l.requests_per_minute,
            b.launches_left_this_hour,
            l.launches_per_hour
        );
        vec![words, format!("{requests} · {launches}"), short]
    };
    (forms, st)
}

/// How long since a poll got an answer, and how fresh the workspace view is (while discovery
/// lists the workspace); a warning once the poll is long ago while runs are active.
fn last_poll(model: &Model) -> (String, String, Style) {
    let (long, short, st) = poll_age(model);
    match model.status.health.workspace {
        None => (long, short, st),
        // Said before how fresh it is: a view that may lack every scheduled run is not fresh.
        Some(w) if w.api_runs_only => (
            format!("{long} · Hex may list API runs only (no runTrigger in its answers)"),
            format!("{short} · API runs only?"),
            Style::new().fg(WARN),
        ),
        Some(w) => match w.oldest_sweep {
            Some(t) => {
                let age = style::age(style::secs_between(t, model.now));
                (
                    format!("{long} · workspace swept {age} ago"),
                    format!("{short} · ws {age}"),
                    st,
                )
            }
            None => (
                format!("{long} · workspace {}/{} swept", w.swept, w.projects),
                format!("{short} · ws {}/{}", w.swept, w.projects),
                st,
            ),
        },
    }
}

fn poll_age(model: &Model) -> (String, String, Style) {
    match model.status.health.last_success {
        Some(t) => {
            let secs = style::secs_between(t, model.now);
            let age = style::age(secs);
            let st = if secs >= 60 && model.animating() {
                Style::new().fg(WARN)
            } else {
                style::dim()
            };
            (format!("polled {age} ago"), format!("poll {age}"), st)
        }
        None => ("not polled yet".into(), "no poll".into(), style::dim()),
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::super::fixtures::{base, render};
    use crate::tui::model::{Level, Message, Screen};

    fn model() -> crate::tui::model::Model {
        let mut m = base();
        m.screen = Screen::Runs;
        m
    }

    #[test]
    fn healthy() {
        insta::assert_snapshot!(render(&model(), 100, 5).backend());
    }

    #[test]
    fn prod_read_only_and_rate_limited() {
        let mut m = model();
        m.status.profile = "production".into();
        m.status.prod_like = true;
        m.status.read_only = true;
        m.status.health.paused_until = Some(m.now + SignedDuration::from_secs(17));
        m.status.message = Some(Message {
            text: "Hex asked us to slow down (429); polling paused".into(),
            level: Level::Warning,
        });
        insta::assert_snapshot!(render(&m, 100, 6).backend());
    }

    #[test]
    fn api_error_narrow() {
        let mut m = model();
        m.status.health.error =
            Some("connection refused (api.hex.tech:443); retrying with backoff".into());
        m.status.health.last_success = Some(m.now - SignedDuration::from_secs(300));
        m.status.message = Some(Message {
            text: "cancel NOT confirmed: run 3f2a9c1d is still RUNNING; press x to re-send".into(),
            level: Level::Error,
        });
        insta::assert_snapshot!(render(&m, 80, 6).backend());
    }

    #[test]
    fn a_budget_shared_by_four_processes_fits_80_columns() {
        let mut m = model();
        if let Some(b) = m.status.budget.as_mut() {
            b.used_this_minute = 31;
            b.requests_left_this_minute = 29;
            b.processes = 4;
        }
        let wide = render(&m, 110, 5);
        insta::assert_snapshot!("shared_budget_wide", wide.backend());
        let narrow = render(&m, 80, 5);
        insta::assert_snapshot!("shared_budget_80", narrow.backend());
        // Narrower still, with an error to show: the shortest form, still saying it is shared.
        m.status.health.error = Some("GetRunStatus: connection reset".into());
        insta::assert_snapshot!("shared_budget_error_80", render(&m, 80, 5).backend());
    }

    #[test]
    fn a_budget_that_could_not_be_shared_says_so_when_there_is_room() {
        let mut m = model();
        if let Some(b) = m.status.budget.as_mut() {
            b.sharing = crate::hex::Sharing::Unavailable;
        }
        insta::assert_snapshot!(render(&m, 110, 5).backend());
    }

    #[test]
    fn the_workspace_view_says_how_fresh_it_is_or_that_hex_may_hide_runs_from_it() {
        let mut m = model();
        let mut w = crate::engine::WorkspaceView {
            projects: 12,
            swept: 12,
            oldest_sweep: Some(m.now - SignedDuration::from_secs(40)),
            api_runs_only: false,
        };
        m.status.health.workspace = Some(w);
        let text = |m: &crate::tui::model::Model| format!("{:?}", render(m, 140, 5).backend());
        assert!(text(&m).contains("workspace swept 40s ago"), "{}", text(&m));
        w.api_runs_only = true;
        m.status.health.workspace = Some(w);
        assert!(
            text(&m).contains("Hex may list API runs only"),
            "{}",
            text(&m)
        );
        insta::assert_snapshot!(render(&m, 80, 5).backend());
    }

    #[test]
    fn not_polled_yet_and_no_budget() {
        let mut m = model();
        m.status.health.last_success = None;
        m.status.budget = None;
        insta::assert_snapshot!(render(&m, 80, 5).backend());
    }
}
