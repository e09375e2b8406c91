//! The Pipelines screens: moving over definitions and steps, opening a run and a step's run,
//! launching from the form, cancelling (confirmed) and resuming, and the results of reading
//! definitions and runs.
//!
//! Pipeline runs are driven by the pipeline runner, not here: these functions only ask for
//! effects and show what the journal says back.

use crate::hex::short_id;
use std::collections::HashSet;

use super::screens::refused_read_only;
use super::{inform, show};
use crate::pipeline::machine::{PipelineStatus, StepStatus};
use crate::tui::action::Action;
use crate::tui::cursor::Cursor;
use crate::tui::form::Form;
use crate::tui::model::{Confirm, Level, Load, Model, Overlay, Screen};
use crate::tui::msg::{Effect, Msg};
use crate::tui::pipeline_data::PipelineRunView;

const PAGE: i64 = 10;

/// `3`: the list, read on first opening; pressed on the list, read again.
pub(super) fn show_list(model: &mut Model) -> Vec<Effect> {
    if model.screen == Screen::Pipelines {
        return vec![Effect::LoadPipelines];
    }
    let mut effects = show(model, Screen::Pipelines);
    effects.push(match model.pipelines.defs {
        Load::NotAsked => Effect::LoadPipelines,
        _ => Effect::LoadPipelineRuns,
    });
    if matches!(model.pipelines.defs, Load::NotAsked) {
        model.pipelines.defs = Load::Loading;
    }
    effects
}

/// Actions on the two pipelines screens; `None` when the action means nothing there.
pub(super) fn on_action(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    let on_run = model.screen == Screen::PipelineRun;
    let selected = if on_run {
        model.pipelines.selected_step().is_some()
    } else {
        model.pipelines.selected().is_some()
    };
    let needs_one = match action {
        Action::Open | Action::OpenUrl => true,
        Action::Launch | Action::CancelRun | Action::ResumePipeline => !on_run,
        _ => false,
    };
    if needs_one && !selected {
        // Nothing is drawn under the cursor (no definitions, or the run not read yet).
        let what = if on_run {
            "no step selected"
        } else {
            "no pipeline selected"
        };
        inform(model, Level::Warning, what.into());
        return Some(Vec::new());
    }
    match action {
        Action::MoveUp => Some(move_by(model, -1)),
        Action::MoveDown => Some(move_by(model, 1)),
        Action::PageUp => Some(move_by(model, -PAGE)),
        Action::PageDown => Some(move_by(model, PAGE)),
        Action::Top => Some(move_by(model, i64::MIN)),
        Action::Bottom => Some(move_by(model, i64::MAX)),
        Action::Open if on_run => Some(open_step_run(model)),
        Action::Open => Some(open_newest(model)),
        Action::Launch => Some(open_form(model)),
        Action::CancelRun => Some(ask_cancel(model)),
        Action::ResumePipeline => Some(resume(model)),
        Action::OpenUrl if on_run => {
            let url = selected_step(model)
                .and_then(|s| s.attempts.iter().rev().find_map(|a| a.run_url.clone()));
            match url {
                Some(url) => Some(vec![Effect::OpenUrl(url)]),
                None => {
                    inform(model, Level::Warning, "this step has no run yet".into());
                    Some(Vec::new())
                }
            }
        }
        Action::Back | Action::Quit if on_run => Some(show(model, Screen::Pipelines)),
        _ => None,
    }
}

fn move_by(model: &mut Model, delta: i64) -> Vec<Effect> {
    super::selection::move_by(model, delta);
    Vec::new()
}

fn selected_step(model: &Model) -> Option<&crate::tui::pipeline_data::StepView> {
    model.pipelines.selected_step()
}

/// Opens the run view on `id`, the cursor on the step that needs looking at first.
pub(super) fn open_run(model: &mut Model, id: String) -> Vec<Effect> {
    model.pipelines.step = Cursor::at(first_interesting(model.pipelines.run(&id)).unwrap_or(0));
    model.pipelines.open = Some(id);
    let mut effects = show(model, Screen::PipelineRun);
    effects.push(Effect::LoadPipelineRuns);
    effects
}

fn first_interesting(run: Option<&PipelineRunView>) -> Option<usize> {
    run?.steps.iter().position(|s| interesting(&s.status))
}

/// A failed or active step: where an operator looks first.
fn interesting(status: &StepStatus) -> bool {
    matches!(
        status,
        StepStatus::Failed
            | StepStatus::Running { .. }
            | StepStatus::Launching { .. }
            | StepStatus::RetryWaiting { .. }
    )
}

fn open_newest(model: &mut Model) -> Vec<Effect> {
    let Some(def) = model.pipelines.selected() else {
        return Vec::new();
    };
    let name = def.name.clone();
    let newest = model.pipelines.runs_of(&name).next().map(|r| r.id.clone());
    match newest {
        Some(id) => open_run(model, id),
        None => {
            inform(
                model,
                Level::Info,
                format!("pipeline {name} has not run yet from this profile; r launches it"),
            );
            Vec::new()
        }
    }
}

/// Enter on a step: its newest run's detail screen.
fn open_step_run(model: &mut Model) -> Vec<Effect> {
    let Some(step) = selected_step(model) else {
        return Vec::new();
    };
    let id = step.id.clone();
    let Some(run_id) = step.last_run_id().map(str::to_string) else {
        inform(
            model,
            Level::Info,
            format!("step {id} has no run yet ({})", step.status.as_str()),
        );
        return Vec::new();
    };
    let key = model.runs.rows.keys().find(|k| k.run_id == run_id).cloned();
    match key {
        Some(key) => {
            model.detail = Some(key);
            show(model, Screen::Detail)
        }
        None => {
            inform(
                model,
                Level::Warning,
                format!(
                    "run {} of step {id} is not in this dashboard's runs; \
                     `hexdash status {run_id}` shows it",
                    short_id(&run_id)
                ),
            );
            Vec::new()
        }
    }
}

/// `r`: the pipeline's form, prefilled with the open run's values (a rerun with edits) or, on
/// the list, with the definition's defaults resolved for today.
fn open_form(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "launching") {
        return Vec::new();
    }
    let (def, values, missing) = match model.screen {
        Screen::PipelineRun => match model.pipelines.open_run() {
            Some(run) => (
                model.pipelines.rows().iter().find(|d| d.name == run.name),
                Some(run.params.clone()),
                format!(
                    "no definition of pipeline {} is listed; 3 reads them again",
                    run.name
                ),
            ),
            None => return Vec::new(),
        },
        // The row itself: two files may (wrongly) define the same name.
        _ => (
            model.pipelines.selected(),
            None,
            "no pipeline selected".to_string(),
        ),
    };
    let Some(def) = def else {
        inform(model, Level::Warning, missing);
        return Vec::new();
    };
    let name = def.name.clone();
    if let Some(problem) = &def.problem {
        let text = format!("pipeline {name} cannot be launched: {problem}");
        inform(model, Level::Error, text);
        return Vec::new();
    }
    let Some(file) = def.file.clone() else {
        return Vec::new();
    };
    let mut values = values.unwrap_or_else(|| def.defaults.clone());
    // A parameter added to the file since that run: its default.
    for (k, v) in &def.defaults {
        values.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let form = Form::for_pipeline(&name, &file, &def.specs, &values);
    super::screens::show_form(model, form)
}

fn ask_cancel(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "cancelling") {
        return Vec::new();
    }
    // On the list: the selected pipeline's newest run still going, else its newest.
    let going = match (model.screen, model.pipelines.selected()) {
        (Screen::Pipelines, Some(def)) => model
            .pipelines
            .runs_of(&def.name)
            .find(|r| !r.status.is_ended()),
        _ => None,
    };
    let Some(run) = going.or_else(|| model.current_pipeline_run()) else {
        inform(model, Level::Warning, "no pipeline run to cancel".into());
        return Vec::new();
    };
    if run.status.is_ended() {
        let text = format!(
            "pipeline run {} already ended ({}); nothing to cancel",
            short_id(&run.id),
            run.status.as_str()
        );
        inform(model, Level::Warning, text);
        return Vec::new();
    }
    let confirm = Confirm::CancelPipeline {
        id: run.id.clone(),
        name: run.name.clone(),
        running: running_steps(run),
    };
    model.overlay = Some(Overlay::Confirm(confirm));
    Vec::new()
}

pub(crate) fn running_steps(run: &PipelineRunView) -> usize {
    run.steps
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                StepStatus::Running { .. } | StepStatus::Launching { .. }
            )
        })
        .count()
}

/// `y` in the cancel dialog: refused if the run ended while the dialog was open.
pub(super) fn confirmed_cancel(model: &mut Model, id: String) -> Vec<Effect> {
    if model.pipelines.run(&id).is_none_or(|r| r.status.is_ended()) {
        let text = format!(
            "pipeline run {} already ended; nothing to cancel",
            short_id(&id)
        );
        inform(model, Level::Warning, text);
        return Vec::new();
    }
    inform(
        model,
        Level::Info,
        format!(
            "cancelling pipeline run {}: its running steps until Hex confirms them dead, \
             nothing more launched",
            short_id(&id)
        ),
    );
    vec![Effect::CancelPipeline(id), Effect::LoadPipelineRuns]
}

fn resume(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "resuming") {
        return Vec::new();
    }
    let Some(run) = model.current_pipeline_run() else {
        inform(model, Level::Warning, "no pipeline run to resume".into());
        return Vec::new();
    };
    let id = run.id.clone();
    let (level, text) = match run.status {
        PipelineStatus::Failed | PipelineStatus::Cancelled => {
            model.pipelines.session.insert(id.clone());
            let text = format!(
                "resuming pipeline run {} from its failed steps…",
                short_id(&id)
            );
            inform(model, Level::Info, text);
            return vec![Effect::ResumePipeline(id)];
        }
        PipelineStatus::Succeeded => (
            Level::Warning,
            format!(
                "pipeline run {} succeeded: nothing to resume; to rerun a step and what follows \
                 it: hexdash pipeline resume {} --from STEP",
                short_id(&id),
                short_id(&id)
            ),
        ),
        other => (
            Level::Warning,
            format!(
                "pipeline run {} is {}; only an ended one can be resumed",
                short_id(&id),
                other.as_str()
            ),
        ),
    };
    inform(model, level, text);
    Vec::new()
}

/// Pipeline results; other messages are not for this module.
pub(super) fn on_event(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::PipelinesLoaded(Ok(defs)) => {
            model.pipelines.defs = Load::Loaded(defs);
            Vec::new()
        }
        Msg::PipelinesLoaded(Err(error)) => {
            let previous = model.pipelines.defs.data().cloned();
            inform(
                model,
                Level::Error,
                format!("cannot list pipelines: {error}"),
            );
            model.pipelines.defs = Load::Failed { error, previous };
            Vec::new()
        }
        Msg::PipelineRunsLoaded(runs) => runs_loaded(model, runs),
        Msg::PipelineStarted(result) => started(model, result),
        Msg::PipelineResumed { id, result } => match result {
            Ok(()) => vec![Effect::LoadPipelineRuns],
            Err(e) => {
                model.pipelines.session.remove(&id);
                inform(
                    model,
                    Level::Error,
                    format!("cannot resume pipeline run {}: {e}", short_id(&id)),
                );
                Vec::new()
            }
        },
        _ => Vec::new(),
    }
}

/// New runs from the journal; a bell for a run started or resumed here that just ended.
fn runs_loaded(model: &mut Model, runs: Vec<PipelineRunView>) -> Vec<Effect> {
    let was_active: HashSet<&str> = model
        .pipelines
        .runs
        .iter()
        .flatten()
        .filter(|r| !r.status.is_ended())
        .map(|r| r.id.as_str())
        .collect();
    let ended: Vec<(String, String, PipelineStatus)> = runs
        .iter()
        .filter(|r| {
            r.status.is_ended()
                && was_active.contains(r.id.as_str())
                && model.pipelines.session.contains(&r.id)
        })
        .map(|r| (r.id.clone(), r.name.clone(), r.status))
        .collect();
    let open_was_read = model.pipelines.open_run().is_some();
    model.pipelines.runs = Some(runs);
    if !open_was_read && let Some(at) = first_interesting(model.pipelines.open_run()) {
        // The run view opened before its run was read (just started, or :pipeline ID).
        model.pipelines.step = Cursor::at(at);
    }
    let mut effects = Vec::new();
    for (id, name, status) in ended {
        let text = format!(
            "pipeline {name} ({}) ended: {}",
            short_id(&id),
            status.as_str()
        );
        let level = if status == PipelineStatus::Succeeded {
            Level::Info
        } else {
            Level::Warning
        };
        inform(model, level, text.clone());
        effects.push(Effect::Notify(text));
    }
    effects
}

fn started(model: &mut Model, result: Result<String, String>) -> Vec<Effect> {
    model.pipelines.starting = false;
    // On the pipeline's form still (not a project's form opened meanwhile).
    let on_form =
        model.screen == Screen::Form && model.form.as_ref().is_some_and(|f| f.pipeline.is_some());
    match result {
        Ok(id) => {
            // The form that asked, if it is still open (not a project form opened since).
            let what = match model.form.take_if(|f| f.pipeline.is_some()) {
                Some(Form {
                    project_title: Some(name),
                    ..
                }) => format!("pipeline {name}"),
                _ => "pipeline".to_string(),
            };
            model.pipelines.session.insert(id.clone());
            inform(
                model,
                Level::Info,
                format!("{what}: run {} started", short_id(&id)),
            );
            // The new run is what to watch now (unless the person went elsewhere meanwhile).
            if on_form || model.screen == Screen::Pipelines {
                return open_run(model, id);
            }
            vec![Effect::LoadPipelineRuns]
        }
        Err(e) => {
            match model.form.as_mut().filter(|f| f.pipeline.is_some()) {
                Some(form) => {
                    form.submitting = false;
                    form.error = Some(e);
                }
                None => inform(
                    model,
                    Level::Error,
                    format!("cannot start the pipeline: {e}"),
                ),
            }
            Vec::new()
        }
    }
}

/// `:pipeline ID`: the run view of the pipeline run whose id starts with `id`.
pub(super) fn open_by_id(model: &mut Model, id: &str) -> Vec<Effect> {
    let Some(runs) = &model.pipelines.runs else {
        inform(
            model,
            Level::Info,
            "reading pipeline runs; give the command again in a moment".into(),
        );
        return vec![Effect::LoadPipelines];
    };
    let found: Vec<String> = runs
        .iter()
        .filter(|r| r.id.starts_with(id))
        .map(|r| r.id.clone())
        .collect();
    match found.as_slice() {
        [one] => open_run(model, one.clone()),
        [] => {
            let text =
                format!("no pipeline run {id} of this profile; `hexdash pipeline list` shows them");
            inform(model, Level::Error, text);
            Vec::new()
        }
        many => {
            let text = format!(
                "{} pipeline runs start with {id}; give more of the id",
                many.len()
            );
            inform(model, Level::Error, text);
            Vec::new()
        }
    }
}
