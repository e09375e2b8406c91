//! Non-key messages: engine updates, loaded projects, launch and cancel results, ticks.
//!
//! Engine updates can arrive late or out of order relative to each other (a poll answered before
//! a cancel was confirmed, a lagging subscriber's replay): a row never goes back from an ended
//! state to an active one, and never takes data older than what it shows.

use jiff::Timestamp;

use super::{inform, refocus_after_change};
use crate::engine::{CancelSent, Change, ListedRun, Overdue, RunKey, RunView, Update};
use crate::hex::{BudgetSnapshot, Sharing};
use crate::journal::OperatorAction;
use crate::tui::bulk::Outcome;
use crate::tui::model::{
    Confirm, HexLast, LastRun, Level, Load, Model, Overlay, ProjectRow, RunRow, Screen,
};
use crate::tui::msg::{Effect, LaunchFailure, Msg};

pub(super) fn on_event(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(_) | Msg::Mouse { .. } => Vec::new(),
        Msg::Resized { width, height } => {
            model.size = (width, height);
            Vec::new()
        }
        Msg::Tick(now) => on_tick(model, now),
        msg @ (Msg::PipelinesLoaded(_)
        | Msg::PipelineRunsLoaded(_)
        | Msg::PipelineStarted(_)
        | Msg::PipelineResumed { .. }) => super::pipelines::on_event(model, msg),
        Msg::LastRunFetched { project_id, result } => {
            on_last_run_fetched(model, project_id, result);
            Vec::new()
        }
        Msg::Engine(Update::Listed { project_id, newest }) => {
            on_listed(model, project_id, newest);
            Vec::new()
        }
        Msg::ProjectsLoaded(result) => {
            on_projects_loaded(model, result);
            Vec::new()
        }
        Msg::Engine(Update::Run { change, view }) => on_run(model, change, *view),
        Msg::Engine(Update::Health(h)) => {
            model.status.health = h;
            Vec::new()
        }
        Msg::Engine(Update::Launch(notice)) => {
            inform(model, Level::Info, notice.message);
            Vec::new()
        }
        Msg::HistoryRead(records) => {
            let views = records.iter().map(RunView::from).collect();
            drop(records);
            on_event(model, Msg::RunsKnown(views))
        }
        Msg::ProjectHistory {
            project_id,
            offset,
            result,
        } => super::history::on_page(model, project_id, offset, result),
        Msg::RunsKnown(views) => on_runs_known(model, views),
        Msg::OverdueChecked(flags) => on_overdue_checked(model, flags),
        Msg::Budget(b) => {
            on_budget(model, b);
            Vec::new()
        }
        Msg::LaunchFinished { project_id, result } => launched(model, &project_id, result),
        Msg::BulkLaunchFinished { item, result } => {
            super::bulk::launch_answered(model, item, result);
            refocus_after_change(model)
        }
        Msg::CancelFinished { key, result } => {
            on_cancel_finished(model, key, result);
            Vec::new()
        }
        Msg::OperatorLog(result) => {
            on_operator_log(model, result);
            Vec::new()
        }
        Msg::EffectFailed(error) => {
            inform(model, Level::Error, error);
            Vec::new()
        }
        Msg::OpenFailed { url, error } => {
            tracing::warn!(%error, "cannot open a browser");
            inform(
                model,
                Level::Warning,
                format!("no browser here; the run's URL: {url}"),
            );
            Vec::new()
        }
    }
}

/// The clock moved: the spinner turns, and what is asked for on a rhythm is asked for.
fn on_tick(model: &mut Model, now: Timestamp) -> Vec<Effect> {
    model.now = now;
    model.frame = model.frame.wrapping_add(1);
    let mut effects = ask_last_run(model);
    effects.extend(relist_projects(model));
    if model.pipelines_watched() {
        effects.push(Effect::LoadPipelineRuns);
    }
    effects
}

fn on_last_run_fetched(
    model: &mut Model,
    project_id: String,
    result: Result<Option<LastRun>, String>,
) {
    let answer = match result {
        Ok(last) => HexLast::Known(last),
        Err(error) => {
            // Not an error to show: the status bar's API health already says why
            // requests fail, and the row keeps saying "unknown".
            tracing::debug!(%project_id, %error, "cannot ask for the newest run");
            HexLast::Failed(model.now)
        }
    };
    model.projects.hex_last.insert(project_id, answer);
}

/// Discovery's listings keep LAST RUN current, without a request of their own.
fn on_listed(model: &mut Model, project_id: String, newest: Option<Box<ListedRun>>) {
    let last = newest.map(|run| LastRun {
        at: run.start_time.or(run.end_time),
        duration_secs: run.elapsed_ms.map(|ms| ms / 1000.0),
        status: run.status,
    });
    model
        .projects
        .hex_last
        .insert(project_id, HexLast::Known(last));
}

fn on_projects_loaded(model: &mut Model, result: Result<Vec<ProjectRow>, String>) {
    match result {
        Ok(rows) => {
            model.projects.load = Load::Loaded(rows);
            model.projects.loaded_at = Some(model.now);
            title_untitled_runs(model);
        }
        Err(error) => {
            let previous = model.projects.load.data().cloned();
            inform(
                model,
                Level::Error,
                format!("cannot list projects: {error}"),
            );
            model.projects.load = Load::Failed { error, previous };
            model.projects.loaded_at = Some(model.now);
        }
    }
}

fn on_runs_known(model: &mut Model, views: Vec<RunView>) -> Vec<Effect> {
    // Thousands of history rows at once: grown by doubling, the table would keep up to
    // half of itself (megabytes) as slack for the whole session.
    model.runs.rows.reserve_exact(views.len());
    for view in views {
        let followed = view.is_active();
        merge(model, view, followed);
    }
    model.runs.rows.shrink_to_fit();
    refocus_after_change(model)
}

fn on_overdue_checked(model: &mut Model, flags: Vec<(RunKey, Option<Overdue>)>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for (key, overdue) in flags {
        // A run that just became overdue rings once (bell, OSC 9): stuck runs are what
        // an operator watches for, and most were started by someone else.
        let shown = model.runs.rows.contains(&key);
        let newly = shown && overdue.is_some() && model.rung_overdue.insert(key.clone());
        if let Some(row) = model.runs.rows.get_mut(&key) {
            row.overdue = overdue;
        }
        if newly && let Some(row) = model.runs.rows.get(&key) {
            let title = row
                .view
                .project_title
                .clone()
                .unwrap_or_else(|| key.project_id.clone());
            effects.push(Effect::Notify(format!("{title} {}: overdue", key.short())));
        }
    }
    effects
}

fn on_budget(model: &mut Model, b: BudgetSnapshot) {
    // The ledger failed under a running dashboard (the budget says so once, in the log):
    // from now on other hexdash processes' requests are not counted.
    let lost = b.sharing == Sharing::Unavailable
        && model
            .status
            .budget
            .is_some_and(|old| old.sharing == Sharing::Shared);
    model.status.budget = Some(b);
    if lost {
        inform(
            model,
            Level::Warning,
            "the request budget is no longer shared with other hexdash processes (the \
             log says why); several at once may get 429s"
                .into(),
        );
    }
}

/// A cancel's answer: to the bulk cancel it belongs to, or else to the status line.
fn on_cancel_finished(model: &mut Model, key: RunKey, result: Result<CancelSent, String>) {
    let outcome = match &result {
        Ok(sent) if sent.already_ended => Outcome::AlreadyEnded,
        Ok(_) => Outcome::Cancelled,
        Err(e) => Outcome::Failed(e.clone()),
    };
    // Marked on its row until it ends or a cancel goes through.
    match &result {
        Err(e) => model.runs.cancel_failed.insert(key.clone(), e.clone()),
        Ok(_) => model.runs.cancel_failed.remove(&key),
    };
    if super::bulk::answered(model, &key, outcome) {
        return;
    }
    match result {
        Ok(sent) if sent.already_ended => inform(
            model,
            Level::Info,
            format!("run {} had already ended", key.short()),
        ),
        Ok(sent) => inform(
            model,
            Level::Info,
            format!(
                "cancel sent for {}; waiting up to {}s for Hex to confirm",
                key.short(),
                sent.deadline.as_secs()
            ),
        ),
        Err(e) => inform(
            model,
            Level::Error,
            format!(
                "cancel of run {} failed: {e}; press x to try again",
                key.short()
            ),
        ),
    }
}

fn on_operator_log(model: &mut Model, result: Result<Vec<OperatorAction>, String>) {
    match result {
        Ok(actions) => {
            let text = format!("the operator's log: {} recorded", actions.len());
            inform(model, Level::Info, text);
            // Over the screen unless a question is open there.
            if model.overlay.is_none() {
                model.overlay = Some(Overlay::Log(actions));
            }
        }
        Err(error) => inform(
            model,
            Level::Error,
            format!("cannot read the operator's log: {error}"),
        ),
    }
}

fn on_run(model: &mut Model, change: Change, view: RunView) -> Vec<Effect> {
    let key = view.key.clone();
    let followed = !matches!(change, Change::Ended | Change::Lost) && view.is_active();
    let was_active = model
        .runs
        .rows
        .get(&key)
        .is_some_and(|r| r.view.is_active());
    if !merge(model, view, followed) {
        return Vec::new();
    }
    let mut effects = Vec::new();
    let Some(row) = model.runs.rows.get(&key) else {
        return effects;
    };
    // The projects screen's "last run" follows the newest run of each project.
    let (first_seen, status, started, elapsed) = (
        row.view.first_seen,
        row.view.status.clone(),
        row.view.start_time,
        row.view.elapsed_ms,
    );
    if let Load::Loaded(rows) = &mut model.projects.load
        && let Some(p) = rows.iter_mut().find(|p| p.project.id == key.project_id)
        && p.last_run_at
            .is_none_or(|t| t <= started.unwrap_or(first_seen))
    {
        p.last_run_at = Some(started.unwrap_or(first_seen));
        p.last_status = status;
        p.last_duration_secs = elapsed.map(|ms| ms / 1000.0);
    }
    let Some(row) = model.runs.rows.get(&key) else {
        return effects;
    };
    let ended = was_active && !row.view.is_active();
    if ended {
        model.runs.cancel_failed.remove(&key);
    }
    if ended && model.runs.cancelled_here.remove(&key) && model.runs.cursor.id() == Some(&key) {
        // Killing stuck runs one after another is `x y j x y`: the cursor stays where the
        // operator works (the row that takes the killed one's place), not on the killed run
        // as it moves down among the ended.
        model.runs.cursor.let_go();
    }
    let status = row
        .view
        .status
        .as_ref()
        .map_or_else(|| "?".to_string(), ToString::to_string);
    announce(model, &change, &key, &status);
    if ended {
        effects.extend(on_ended(model, &key, &status));
    }
    effects.extend(refocus_after_change(model));
    effects
}

/// Tells the operator what a cancel, a timeout or a lost run came to.
fn announce(model: &mut Model, change: &Change, key: &RunKey, status: &str) {
    match change {
        Change::CancelConfirmed => {
            inform(
                model,
                Level::Info,
                format!("run {} cancelled: {status}", key.short()),
            );
        }
        Change::CancelNotConfirmed => inform(
            model,
            Level::Error,
            format!(
                "cancel NOT confirmed: run {} is still {status}; press x to re-send",
                key.short()
            ),
        ),
        Change::TimedOut => inform(
            model,
            Level::Warning,
            format!("run {} passed its timeout", key.short()),
        ),
        Change::KillFailed => inform(
            model,
            Level::Error,
            format!(
                "run {} passed its timeout but could not be cancelled; press x to try again",
                key.short()
            ),
        ),
        Change::Lost => inform(
            model,
            Level::Error,
            format!(
                "Hex no longer knows run {}; stopped following it",
                key.short()
            ),
        ),
        _ => {}
    }
}

/// A run ended: a cancel dialog about it is closed, and a run of this session or a pinned one
/// rings.
fn on_ended(model: &mut Model, key: &RunKey, status: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    // A cancel dialog about this run must not fire after it ended.
    if let Some(Overlay::Confirm(Confirm::CancelRun { key: k, .. })) = &model.overlay
        && k == key
    {
        model.overlay = None;
        inform(
            model,
            Level::Warning,
            format!(
                "run {} ended ({status}) before the cancel was confirmed; nothing cancelled",
                key.short()
            ),
        );
    }
    if model.session_runs.contains(key) || model.pinned.contains(key) {
        let title = model
            .runs
            .rows
            .get(key)
            .map(super::screens::title_of)
            .unwrap_or_default();
        effects.push(Effect::Notify(format!("{title}: {status}")));
    }
    effects
}

/// Asks Hex for the newest run of the project under the cursor once it has rested there for a
/// tick, so scrolling past projects asks nothing.
fn ask_last_run(model: &mut Model) -> Vec<Effect> {
    let Some(id) = model.last_run_wanted().map(str::to_string) else {
        model.projects.rested_on = None;
        return Vec::new();
    };
    if model.projects.rested_on.as_deref() != Some(id.as_str()) {
        model.projects.rested_on = Some(id);
        return Vec::new();
    }
    model.projects.hex_last.insert(id.clone(), HexLast::Asking);
    vec![Effect::FetchLastRun(id)]
}

/// Runs journalled without a title (`hexdash run ALIAS`, runs found on Hex) or under another
/// name (a pipeline step's alias) take their project's title from the projects list: lists,
/// filters (a project's `enter` filters by its title) and dialogs name them like any other.
fn title_untitled_runs(model: &mut Model) {
    let Some(projects) = model.projects.load.data() else {
        return;
    };
    let titles: std::collections::HashMap<&str, &str> = projects
        .iter()
        .map(|p| (p.project.id.as_str(), p.project.title.as_str()))
        .collect();
    // Hex's title wins over what a launch recorded: a pipeline step records its project as the
    // definition names it (often an alias), and a project's runs must all carry its title
    // (`enter` on a project filters its runs by it).
    model.runs.rows.for_each_mut(|row| {
        if let Some(title) = titles.get(row.view.key.project_id.as_str())
            && row.view.project_title.as_deref() != Some(*title)
        {
            row.view.project_title = Some((*title).to_string());
        }
    });
}

/// Upserts a run row; false when the update was older than what the row shows.
fn merge(model: &mut Model, mut view: RunView, followed: bool) -> bool {
    // Hex's title when the projects list has it (see `title_untitled_runs`).
    if let Some(title) = model
        .projects
        .load
        .data()
        .and_then(|rows| rows.iter().find(|p| p.project.id == view.key.project_id))
        .map(|p| &p.project.title)
        && view.project_title.as_ref() != Some(title)
    {
        view.project_title = Some(title.clone());
    }
    if let Some(row) = model.runs.rows.get_mut(&view.key) {
        let older = match (row.view.observed_at, view.observed_at) {
            (Some(have), Some(got)) => got < have,
            (Some(_), None) => true,
            _ => false,
        };
        let revives = !row.view.is_active() && view.is_active();
        if older || revives {
            // Keep what is newer, but take cancel/stale notes that only the update knows.
            if view.cancel != row.view.cancel && !revives {
                row.view.cancel = view.cancel;
            }
            return false;
        }
        row.view = view;
        row.followed = followed;
    } else {
        model.runs.rows.insert(RunRow {
            view,
            overdue: None,
            followed,
        });
    }
    true
}

fn launched(
    model: &mut Model,
    project_id: &str,
    result: Result<crate::engine::Launched, LaunchFailure>,
) -> Vec<Effect> {
    let from_form = model
        .form
        .as_ref()
        .is_some_and(|f| f.project_id == project_id && f.submitting);
    match result {
        Ok(l) if l.dry_run => {
            if let Some(f) = model.form.as_mut() {
                f.submitting = false;
                f.error = None;
            }
            inform(
                model,
                Level::Info,
                "dry run accepted by Hex: the parameters are valid (nothing ran)".into(),
            );
            Vec::new()
        }
        Ok(l) => {
            let key: RunKey = l.key.clone();
            model.session_runs.insert(key.clone());
            if let Some(form) = model.form.take().filter(|_| from_form) {
                remember_launch(model, &form);
            }
            let mut text = format!("launched run {}", key.short());
            if l.adopted {
                text.push_str(" (answer lost; found it in the project's runs)");
            }
            if !l.duplicates.is_empty() {
                text.push_str(&format!(
                    "; note: {} other run(s) with the same parameters still active",
                    l.duplicates.len()
                ));
            }
            inform(model, Level::Info, text);
            // Its row may arrive after this answer: the cursor goes to it when it shows.
            model.runs.cursor.want(key.clone());
            model.runs.filter.text.clear();
            if from_form || model.screen == Screen::Runs {
                return super::show(model, Screen::Runs);
            }
            refocus_after_change(model)
        }
        Err(LaunchFailure::Rejected {
            message,
            invalid,
            not_found,
        }) => {
            match model.form.as_mut().filter(|_| from_form) {
                Some(form) => {
                    form.submitting = false;
                    form.apply_rejection(&message, &invalid, &not_found);
                }
                None => inform(model, Level::Error, format!("launch refused: {message}")),
            }
            Vec::new()
        }
        Err(LaunchFailure::Other(e)) => {
            if let Some(form) = model.form.as_mut().filter(|_| from_form) {
                form.submitting = false;
                form.error = Some(e.clone());
            }
            inform(model, Level::Error, format!("launch failed: {e}"));
            Vec::new()
        }
    }
}

/// The project's row prefills its next form with what was just launched.
fn remember_launch(model: &mut Model, form: &crate::tui::form::Form) {
    let mut copy = form.clone();
    let Some(request) = copy.validate(crate::journal::Origin::Tui) else {
        return;
    };
    if let Load::Loaded(rows) = &mut model.projects.load
        && let Some(row) = rows.iter_mut().find(|r| r.project.id == form.project_id)
    {
        row.last_params = Some(request.params);
        row.last_options = Some(request.options);
    }
}

/// The project list again, a minute after the last one arrived: from the shared cache while it
/// is younger than `[cache] projects_ttl` (no request, whichever hexdash listed it), from Hex
/// once it is older. So a dashboard open all day sees new projects and changed schedules, and
/// discovery sees `publishedResultsUpdatedAt` move; a failed list is tried again too.
fn relist_projects(model: &mut Model) -> Option<Effect> {
    if !model.projects.relist_due(model.now) {
        return None;
    }
    model.projects.loaded_at = Some(model.now);
    Some(Effect::RelistProjects)
}
