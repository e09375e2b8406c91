//! The view: draws the [`Model`] into a ratatui [`Frame`], and nothing else.
//!
//! Pure drawing from `&Model` (and `&KeyMap`, so every key shown is the key actually bound):
//! no I/O, no clock (time is `model.now`, the zone `model.tz`), no state kept between frames,
//! so the same model always draws the same screen and snapshot tests hold. Each frame is a tab
//! header, the filter line while a filter is set, the screen's body, the message line while
//! there is a message, the key hints, and the status bar; overlays are drawn last, on top.
//! Lists build only the rows that fit, so ten thousand runs draw as fast as fifty.

mod bulk;
mod chrome;
mod detail;
mod form;
pub mod hit;
mod operator_log;
mod overlay;
mod pipeline_graph;
mod pipeline_run;
mod pipeline_style;
mod pipeline_timeline;
pub(crate) mod pipelines;
mod projects;
pub(crate) mod runs;
mod status_bar;
pub(crate) mod style;
mod table;

#[cfg(test)]
pub(crate) use crate::tui::fixtures::screens as fixtures;
#[cfg(test)]
mod text_cursor_tests;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::keymap::KeyMap;
use super::model::{Model, Overlay, Screen};

/// Draws one frame of the dashboard.
pub fn draw(frame: &mut Frame, model: &Model, keys: &KeyMap) {
    let area = frame.area();
    let filter = chrome::active_filter(model);
    let message = model.status.message.is_some();
    let [header, filter_area, body, message_area, hints, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(filter.is_some())),
        Constraint::Min(0),
        Constraint::Length(u16::from(message)),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, model, keys);
    if let Some(f) = filter {
        chrome::filter_line(frame, filter_area, model, f, keys);
    }
    let hint_list = match model.screen {
        Screen::Projects => {
            projects::draw(frame, body, model, keys);
            projects::hints(model, keys)
        }
        Screen::Runs => {
            runs::draw(frame, body, model, keys);
            runs::hints(model, keys)
        }
        Screen::Detail => {
            detail::draw(frame, body, model, keys);
            detail::hints(model, keys)
        }
        Screen::Form => {
            form::draw(frame, body, model);
            form::hints(model, keys)
        }
        Screen::Pipelines => {
            pipelines::draw(frame, body, model, keys);
            pipelines::hints(model, keys)
        }
        Screen::PipelineRun => {
            pipeline_run::draw(frame, body, model);
            pipeline_run::hints(model, keys)
        }
    };
    status_bar::draw_message(frame, message_area, model);
    chrome::hints(frame, hints, &hint_list);
    status_bar::draw(frame, status, model);
    // Overlays cover everything but the status bar, which stays honest underneath.
    let above_status = Rect {
        height: area.height.saturating_sub(1),
        ..area
    };
    match &model.overlay {
        None => {}
        Some(Overlay::Help) => overlay::help(frame, above_status, keys),
        Some(Overlay::CommandLine(line)) => overlay::command_line(frame, hints, line),
        Some(Overlay::Confirm(c)) => overlay::confirm(frame, above_status, model, keys, c),
        Some(Overlay::BulkReport(progress)) => bulk::report(frame, above_status, progress),
        Some(Overlay::Log(actions)) => operator_log::draw(frame, above_status, model, actions),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{form_model, projects_model, render, runs_model};
    use crate::tui::model::{Confirm, Overlay, Screen};

    /// Tiny or odd terminal sizes must never panic, on any screen or overlay.
    #[test]
    fn any_size_draws() {
        let mut models = vec![projects_model(), runs_model(), form_model()];
        let mut detail = runs_model();
        detail.screen = Screen::Detail;
        detail.detail = detail.runs.cursor.id().cloned();
        models.push(detail);
        for (screen, open) in [
            (Screen::Pipelines, None),
            (
                Screen::PipelineRun,
                Some("7f3c9d2e-0000-4000-8000-000000000002"),
            ),
            (
                Screen::PipelineRun,
                Some("c4d5e6f7-0000-4000-8000-000000000003"),
            ),
            (Screen::PipelineRun, Some("not-read-yet")),
        ] {
            let mut m = runs_model();
            m.pipelines = crate::tui::pipeline_fixtures::state();
            m.pipelines.open = open.map(str::to_string);
            m.pipelines.step = crate::tui::cursor::Cursor::at(4);
            m.screen = screen;
            models.push(m);
        }
        for overlay in [
            Overlay::Help,
            Overlay::CommandLine("q".into()),
            Overlay::Confirm(Confirm::Quit { active: 1 }),
            Overlay::Confirm(Confirm::CancelPipeline {
                id: "7f3c9d2e-0000-4000-8000-000000000002".into(),
                name: "a pipeline with a long name".into(),
                running: 2,
            }),
            Overlay::Confirm(Confirm::CancelRun {
                key: crate::engine::RunKey::new("p", "r"),
                project: "a project with a long title".into(),
                started: None,
                status: None,
            }),
        ] {
            let mut m = runs_model();
            m.overlay = Some(overlay);
            models.push(m);
        }
        for m in &models {
            for (w, h) in [
                (1, 1),
                (2, 2),
                (10, 3),
                (20, 5),
                (33, 7),
                (80, 4),
                (300, 100),
            ] {
                render(m, w, h);
            }
        }
    }
}
