//! Keeps each list's cursor on a row that is shown: settled after every message (filters typed,
//! runs that ended, refreshes, re-sorts all change what is shown), and moved by the movement
//! keys. The rules themselves live in [`crate::tui::cursor`]; this only feeds each cursor the
//! rows its screen shows, in order.

use crate::engine::RunKey;
use crate::tui::cursor::row_at;
use crate::tui::model::{Model, Screen};
use crate::tui::pipeline_data::DefId;

/// Settles every cursor on the row its list draws it on.
pub(super) fn settle(model: &mut Model) {
    let to = {
        let shown = model.visible_projects();
        let ids: Vec<&String> = shown.iter().map(|r| &r.project.id).collect();
        row_at(&ids, model.projects.pick(&shown))
    };
    let filter = model.projects.filter.text.value();
    model.projects.cursor.settle(to, filter);

    // The runs list may hold ten thousand rows: ordered here only while it is on screen, where
    // the cursor's position is what the operator sees. Elsewhere a run still shown keeps the
    // cursor (engine updates arrive many times a second and need no new order).
    let resting = model.screen != Screen::Runs
        && model.runs.cursor.wanted().is_none()
        && model.selected_run().map(|r| &r.view.key) == model.runs.cursor.id();
    if !resting {
        let to = run_target(model, Model::run_cursor);
        let filter = model.runs.filter.text.value();
        model.runs.cursor.settle(to, filter);
    }

    let to = {
        let ids = def_ids(model);
        let ids: Vec<&DefId> = ids.iter().collect();
        row_at(&ids, model.pipelines.cursor.pick(&ids, ""))
    };
    model.pipelines.cursor.settle(to, "");

    let to = step_target(model, |m, ids| m.pipelines.step.pick(ids, ""));
    // A run not read yet has no steps: its cursor waits for them instead of forgetting.
    if model.pipelines.open_run().is_some() {
        model.pipelines.step.settle(to, "");
    }
}

/// Moves the cursor of the current screen's list to row `at` (as shown, from the top).
pub(super) fn move_to(model: &mut Model, at: usize) {
    let from = match model.screen {
        Screen::Runs => model.run_cursor(),
        Screen::Projects => {
            let shown = model.visible_projects();
            model.projects.pick(&shown)
        }
        Screen::Pipelines => model.pipelines.selected_index(),
        _ => None,
    };
    if let Some(from) = from {
        let delta = i64::try_from(at).unwrap_or(i64::MAX) - i64::try_from(from).unwrap_or(0);
        move_by(model, delta);
    }
}

/// Moves the cursor of the current screen's list by `delta` rows.
pub(super) fn move_by(model: &mut Model, delta: i64) {
    match model.screen {
        Screen::Projects => {
            let to = {
                let shown = model.visible_projects();
                let ids: Vec<&String> = shown.iter().map(|r| &r.project.id).collect();
                let filter = model.projects.filter.text.value();
                row_at(&ids, model.projects.cursor.step(delta, &ids, filter))
            };
            let filter = model.projects.filter.text.value();
            model.projects.cursor.choose(to, filter);
        }
        Screen::Runs => {
            let to = run_target(model, |m| {
                let shown = m.shown_runs();
                m.runs.cursor.step_by(
                    delta,
                    shown.len(),
                    |k| shown.position_of(&m.runs.rows, k),
                    m.runs.filter.text.value(),
                )
            });
            let filter = model.runs.filter.text.value();
            model.runs.cursor.choose(to, filter);
        }
        Screen::Pipelines => {
            let to = {
                let ids = def_ids(model);
                let ids: Vec<&DefId> = ids.iter().collect();
                row_at(&ids, model.pipelines.cursor.step(delta, &ids, ""))
            };
            model.pipelines.cursor.choose(to, "");
        }
        Screen::PipelineRun => {
            let to = step_target(model, |m, ids| m.pipelines.step.step(delta, ids, ""));
            model.pipelines.step.choose(to, "");
        }
        Screen::Detail | Screen::Form => {}
    }
}

/// The run at the position `pick` chooses among the runs shown.
fn run_target(model: &Model, pick: impl Fn(&Model) -> Option<usize>) -> Option<(usize, RunKey)> {
    let at = pick(model)?;
    let key = model.run_at(&model.shown_runs(), at)?.view.key.clone();
    Some((at, key))
}

fn step_target(
    model: &Model,
    pick: impl Fn(&Model, &[&String]) -> Option<usize>,
) -> Option<(usize, String)> {
    let run = model.pipelines.open_run()?;
    let ids: Vec<&String> = run.steps.iter().map(|s| &s.id).collect();
    row_at(&ids, pick(model, &ids))
}

fn def_ids(model: &Model) -> Vec<DefId> {
    model
        .pipelines
        .rows()
        .iter()
        .map(crate::tui::pipeline_data::PipelineDef::id)
        .collect()
}
