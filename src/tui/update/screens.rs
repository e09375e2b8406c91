//! What actions do on each screen: moving, opening, launching, rerunning, cancelling, opening
//! and copying a run's URL, pinning, filtering and sorting, and the launch form's own keys.

use crossterm::event::{KeyCode, KeyEvent};

use super::{inform, show};
use crate::hex::params::display_value;
use crate::journal::{LaunchOptions, Origin};
use crate::tui::action::Action;
use crate::tui::form::Form;
use crate::tui::model::{Confirm, Level, Model, Overlay, RunRow, Screen};
use crate::tui::msg::Effect;

const PAGE: usize = 10;

/// Keys while a filter is being typed; `None` when no filter is being typed here.
pub(super) fn on_filter_key(model: &mut Model, key: &KeyEvent) -> Option<Vec<Effect>> {
    let filter = match model.screen {
        Screen::Projects => &mut model.projects.filter,
        Screen::Runs => &mut model.runs.filter,
        Screen::Detail | Screen::Form | Screen::Pipelines | Screen::PipelineRun => return None,
    };
    if !filter.editing {
        return None;
    }
    // Every other key is the text's while it is typed (the editing keys of every text field);
    // one that edits nothing does nothing, so a list key never acts behind the filter.
    match key.code {
        KeyCode::Enter => filter.editing = false,
        KeyCode::Esc => {
            filter.editing = false;
            filter.text.clear();
        }
        _ => {
            filter.text.key(key);
        }
    }
    // The list changed under the cursor: `update` settles the cursor on a row still shown.
    Some(Vec::new())
}

pub(super) fn on_form_key(
    model: &mut Model,
    key: &KeyEvent,
    has: &impl Fn(Action) -> bool,
) -> Vec<Effect> {
    let today = model.now.to_zoned(model.tz.clone()).date();
    let Some(form) = model.form.as_mut() else {
        model.screen = Screen::Projects;
        return Vec::new();
    };
    // Characters type, and in a text field so do its editing keys (left/right, home/end,
    // ctrl-u, ctrl-w, alt-b/f), whatever else they are bound to; the keys that edit nothing
    // (tab, up/down, ctrl-s, ctrl-p, esc) act.
    let is_char = matches!(key.code, KeyCode::Char(_))
        && !key.modifiers.intersects(
            crossterm::event::KeyModifiers::CONTROL | crossterm::event::KeyModifiers::ALT,
        );
    let typing = is_char || form.types(key);
    if !typing || !form.key(key, today) {
        if has(Action::SubmitLaunch) {
            return submit(model);
        }
        if has(Action::Presets) {
            model.overlay = Some(Overlay::CommandLine("preset ".into()));
            return Vec::new();
        }
        if has(Action::NextField) || (has(Action::MoveDown) && !typing) {
            form.next();
        } else if has(Action::PrevField) || (has(Action::MoveUp) && !typing) {
            form.prev();
        } else if has(Action::Back) {
            model.form = None;
            let back = model.previous;
            return show(
                model,
                if back == Screen::Form {
                    Screen::Projects
                } else {
                    back
                },
            );
        } else if !typing {
            form.key(key, today);
        }
    }
    Vec::new()
}

fn submit(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "launching") {
        return Vec::new();
    }
    let Some(form) = model.form.as_mut() else {
        return Vec::new();
    };
    if form.submitting {
        return Vec::new();
    }
    match form.validate(Origin::Tui) {
        Some(request) => {
            form.submitting = true;
            match form.pipeline.clone() {
                Some(file) => {
                    model.pipelines.starting = true;
                    vec![Effect::StartPipeline {
                        file,
                        params: request.params,
                    }]
                }
                None => vec![Effect::Launch(request)],
            }
        }
        None => Vec::new(),
    }
}

/// Screen actions; `None` when the action means nothing on this screen.
pub(super) fn on_screen_action(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    match (model.screen, action) {
        (_, Action::MoveUp) => Some(move_by(model, -1)),
        (_, Action::MoveDown) => Some(move_by(model, 1)),
        (_, Action::PageUp) => Some(move_by(model, -(PAGE as i64))),
        (_, Action::PageDown) => Some(move_by(model, PAGE as i64)),
        (_, Action::Top) => Some(move_by(model, i64::MIN)),
        (_, Action::Bottom) => Some(move_by(model, i64::MAX)),
        (Screen::Projects | Screen::Runs, Action::Filter) => start_filter(model),
        (Screen::Projects, Action::Sort) => {
            model.projects.sort = model.projects.sort.next();
            Some(Vec::new())
        }
        (Screen::Projects, Action::Open) if model.selected_project().is_none() => {
            inform(model, Level::Warning, "no project selected".into());
            Some(Vec::new())
        }
        (Screen::Projects, Action::Launch) => Some(open_form(model, None)),
        (Screen::Projects, Action::Pin) => Some(pin_project(model)),
        (Screen::Projects, Action::Open) => open_project_runs(model),
        (Screen::Runs | Screen::Detail, action)
            if acts_on_a_run(model.screen, action) && model.current_run().is_none() =>
        {
            // Nothing is drawn under the cursor (a filter matches nothing): nothing to act on.
            inform(model, Level::Warning, "no run selected".into());
            Some(Vec::new())
        }
        (Screen::Runs, Action::Open) => {
            let key = model.selected_run()?.view.key.clone();
            model.detail = Some(key);
            Some(show(model, Screen::Detail))
        }
        (Screen::Detail, Action::Back | Action::Quit) => {
            let back = if model.previous == Screen::Detail {
                Screen::Runs
            } else {
                model.previous
            };
            Some(show(model, back))
        }
        (Screen::Runs | Screen::Detail, Action::Launch) => Some(ask_relaunch(model)),
        (Screen::Runs | Screen::Detail, Action::RerunWithEdits) => {
            let row = model.current_run()?.clone();
            Some(open_form(model, Some(&row)))
        }
        (Screen::Runs | Screen::Detail, Action::CancelRun) => Some(ask_cancel(model)),
        (Screen::Runs | Screen::Detail, Action::OpenUrl) => open_run_url(model),
        (Screen::Runs | Screen::Detail, Action::Copy) => Some(copy(model)),
        (Screen::Runs | Screen::Detail, Action::Pin) => toggle_pin(model),
        _ => None,
    }
}

/// Starts typing a new filter on the projects or runs screen.
fn start_filter(model: &mut Model) -> Option<Vec<Effect>> {
    // A new filter starts empty, as in less and k9s; esc while typing clears it too.
    let filter = match model.screen {
        Screen::Projects => &mut model.projects.filter,
        _ => &mut model.runs.filter,
    };
    filter.editing = true;
    filter.text.clear();
    Some(Vec::new())
}

fn open_project_runs(model: &mut Model) -> Option<Vec<Effect>> {
    // A project's runs: the runs screen filtered to it, with Hex's history of it (runs
    // no hexdash launched included) added as it arrives.
    let project = &model.selected_project()?.project;
    let (title, id) = (project.title.to_lowercase(), project.id.clone());
    model.runs.filter.text.set(title.clone());
    let mut effects = show(model, Screen::Runs);
    effects.push(super::history::open(model, id, title));
    Some(effects)
}

/// Opens the current run in the browser, when Hex gave its URL.
fn open_run_url(model: &mut Model) -> Option<Vec<Effect>> {
    let row = model.current_run()?;
    match row.view.run_url.clone() {
        Some(url) => Some(vec![Effect::OpenUrl(url)]),
        None => {
            inform(model, Level::Warning, "Hex gave no URL for this run".into());
            Some(Vec::new())
        }
    }
}

/// Pins the current run (a bell when it ends), or unpins it.
fn toggle_pin(model: &mut Model) -> Option<Vec<Effect>> {
    let key = model.current_run()?.view.key.clone();
    if !model.pinned.remove(&key) {
        inform(
            model,
            Level::Info,
            format!("pinned {}: a bell when it ends", key.short()),
        );
        model.pinned.insert(key);
    } else {
        inform(model, Level::Info, format!("unpinned {}", key.short()));
    }
    Some(Vec::new())
}

/// `p` on a project: pinned ones are shown first and listed by discovery as often as the one
/// under the cursor, for as long as this dashboard runs (`[workspace] follow` keeps them).
fn pin_project(model: &mut Model) -> Vec<Effect> {
    let Some(row) = model.selected_project() else {
        inform(model, Level::Warning, "no project selected".into());
        return Vec::new();
    };
    let (id, title) = (row.project.id.clone(), row.project.title.clone());
    let live = row.project.is_live();
    let text = if model.pinned_projects.remove(&id) {
        format!("unpinned {title}")
    } else {
        model.pinned_projects.insert(id);
        if live {
            format!("pinned {title}: shown first, its runs looked for every 15 s")
        } else {
            // Discovery lists live projects only: a draft or archived one has no runs to find.
            format!("pinned {title}: shown first (not published, so no runs to look for)")
        }
    };
    inform(model, Level::Info, text);
    vec![Effect::PinProjects(
        model.pinned_projects.iter().cloned().collect(),
    )]
}

/// The actions that act on the run under the cursor (or the detail's run).
fn acts_on_a_run(screen: Screen, action: Action) -> bool {
    match action {
        Action::Open => screen == Screen::Runs,
        Action::Launch
        | Action::RerunWithEdits
        | Action::CancelRun
        | Action::OpenUrl
        | Action::Copy
        | Action::Pin => true,
        _ => false,
    }
}

fn move_by(model: &mut Model, delta: i64) -> Vec<Effect> {
    super::selection::move_by(model, delta);
    // At the end of a project's list: Hex's next page of its history.
    super::history::on_move(model).into_iter().collect()
}

/// Focus follows the run on screen: the engine polls it at the focused rate.
pub(super) fn refocus(model: &mut Model) -> Vec<Effect> {
    let wanted = model
        .current_run()
        .filter(|r| r.followed && r.view.is_active())
        .map(|r| r.view.key.clone());
    let mut effects = refocus_project(model);
    if wanted == model.focused {
        return effects;
    }
    if let Some(old) = model.focused.take() {
        effects.push(Effect::Focus(old, false));
    }
    if let Some(new) = wanted {
        effects.push(Effect::Focus(new.clone(), true));
        model.focused = Some(new);
    }
    effects
}

/// Discovery follows the cursor: the selected project, or the project of the run on screen.
fn refocus_project(model: &mut Model) -> Vec<Effect> {
    let wanted = match model.screen {
        Screen::Projects => model.selected_project().map(|p| p.project.id.clone()),
        _ => model.current_run().map(|r| r.view.key.project_id.clone()),
    };
    if wanted == model.focused_project {
        return Vec::new();
    }
    model.focused_project.clone_from(&wanted);
    vec![Effect::FocusProject(wanted)]
}

/// Opens the launch form for the selected project, or for `rerun`'s project prefilled with its
/// parameters.
fn open_form(model: &mut Model, rerun: Option<&RunRow>) -> Vec<Effect> {
    if refused_read_only(model, "launching") {
        return Vec::new();
    }
    let form = match rerun {
        Some(row) => {
            let v = &row.view;
            let project = model
                .projects
                .load
                .data()
                .and_then(|rows| rows.iter().find(|r| r.project.id == v.key.project_id));
            let specs = project.map(|p| p.specs.clone()).unwrap_or_default();
            let mut form = Form::new(
                &v.key.project_id,
                v.project_title
                    .as_deref()
                    .or(project.map(|p| p.project.title.as_str())),
                &specs,
                v.params.as_ref(),
                v.options.as_ref(),
            );
            form.rerun_of = Some(v.key.clone());
            form
        }
        None => {
            let Some(p) = model.selected_project() else {
                inform(model, Level::Warning, "no project selected".into());
                return Vec::new();
            };
            Form::new(
                &p.project.id,
                Some(&p.project.title),
                &p.specs,
                p.last_params.as_ref(),
                p.last_options.as_ref(),
            )
        }
    };
    show_form(model, form)
}

/// Opens `form`, saying which values from history it did not take.
pub(super) fn show_form(model: &mut Model, form: Form) -> Vec<Effect> {
    if !form.prefill_notes.is_empty() {
        let text = format!(
            "not prefilled, no longer valid here: {}",
            form.prefill_notes.join("; ")
        );
        inform(model, Level::Warning, text);
    }
    model.form = Some(form);
    show(model, Screen::Form)
}

/// `r` on a run: ask to launch it again with the same parameters and options, showing exactly
/// what would be sent. A run whose parameters are unknown (not launched by hexdash) opens the
/// form instead, to fill them in.
fn ask_relaunch(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "launching") {
        return Vec::new();
    }
    let Some(row) = model.current_run().cloned() else {
        return Vec::new();
    };
    let request = match relaunch_request(&row) {
        Ok(request) => request,
        Err(by) => {
            inform(
                model,
                Level::Info,
                format!(
                    "this run's parameters are unknown (started by {by}; Hex does not return \
                     the parameters of runs hexdash did not launch): the form has the project's \
                     defaults"
                ),
            );
            return open_form(model, Some(&row));
        }
    };
    model.overlay = Some(Overlay::Confirm(Confirm::Relaunch {
        of: row.view.key.clone(),
        project: title_of(&row),
        origin: row.view.origin.clone(),
        request: Box::new(request),
    }));
    Vec::new()
}

/// What launching the run again sends: its parameters and options, from this dashboard. Hex's
/// API returns no parameters for a run, so only runs a hexdash launched have them; for the
/// others, who started it (`Err`), to say why it cannot be repeated as it was.
pub(super) fn relaunch_request(row: &RunRow) -> Result<crate::engine::LaunchRequest, &'static str> {
    let Some(params) = row.view.params.clone() else {
        return Err(match &row.view.origin {
            Some(Origin::Hex { trigger, .. }) => match trigger.as_deref() {
                Some("SCHEDULED") => "Hex's scheduler",
                Some("APP_REFRESH") => "an app refresh",
                _ => "another client",
            },
            _ => "something other than hexdash",
        });
    };
    let mut options = crate::tui::form::launchable(row.view.options.as_ref());
    options.dry_run = false;
    Ok(crate::engine::LaunchRequest {
        project_id: row.view.key.project_id.clone(),
        project_title: row.view.project_title.clone(),
        params,
        options,
        origin: Origin::Tui,
        duplicates: crate::engine::DuplicatePolicy::Warn,
        focused: true,
    })
}

fn ask_cancel(model: &mut Model) -> Vec<Effect> {
    if refused_read_only(model, "cancelling") {
        return Vec::new();
    }
    let Some(row) = model.current_run() else {
        return Vec::new();
    };
    if !row.view.is_active() || !row.followed {
        let text = format!(
            "run {} is not active; nothing to cancel",
            row.view.key.short()
        );
        inform(model, Level::Warning, text);
        return Vec::new();
    }
    let confirm = Confirm::CancelRun {
        key: row.view.key.clone(),
        project: title_of(row),
        started: row.view.start_time.or(Some(row.view.first_seen)),
        status: row.view.status.clone(),
    };
    model.overlay = Some(Overlay::Confirm(confirm));
    Vec::new()
}

/// Copies, in turn on each press, the run URL, the run id and a `hexdash run` command line.
fn copy(model: &mut Model) -> Vec<Effect> {
    let Some(row) = model.current_run() else {
        return Vec::new();
    };
    let v = &row.view;
    let alias = model.aliases.get(&v.key.project_id).cloned();
    let items: [(&str, Option<String>); 3] = [
        ("run URL", v.run_url.clone()),
        ("run id", Some(v.key.run_id.clone())),
        (
            "command line",
            Some(command_line(
                alias.as_deref().unwrap_or(&v.key.project_id),
                v.params.as_ref(),
                v.options.as_ref(),
            )),
        ),
    ];
    let start = usize::from(model.copy_next) % items.len();
    for offset in 0..items.len() {
        let i = (start + offset) % items.len();
        if let (what, Some(text)) = (items[i].0, items[i].1.clone()) {
            let next = items[(i + 1) % items.len()].0;
            model.copy_next = u8::try_from((i + 1) % items.len()).unwrap_or(0);
            inform(
                model,
                Level::Info,
                format!("copied the {what} (c again: {next})"),
            );
            return vec![Effect::Copy(text)];
        }
    }
    Vec::new()
}

/// An equivalent `hexdash run` command, with values quoted for a POSIX shell.
pub(crate) fn command_line(
    project: &str,
    params: Option<&indexmap::IndexMap<String, serde_json::Value>>,
    options: Option<&LaunchOptions>,
) -> String {
    let mut cmd = format!("hexdash run {}", shell_quote(project));
    for (name, value) in params.into_iter().flatten() {
        let arg = match value {
            serde_json::Value::String(_)
            | serde_json::Value::Number(_)
            | serde_json::Value::Bool(_) => {
                format!("{name}={}", display_value(value))
            }
            other => format!("{name}:={other}"),
        };
        cmd.push_str(" -p ");
        cmd.push_str(&shell_quote(&arg));
    }
    if let Some(o) = options {
        if o.use_cached_sql_results == Some(false) {
            cmd.push_str(" --no-sql-cache");
        }
        if o.update_published_results == Some(true) {
            cmd.push_str(" --update-published");
        }
        if let Some(t) = o.timeout_secs {
            cmd.push_str(&format!(" --wait --timeout {t}s"));
            if o.kill_on_timeout {
                cmd.push_str(" --kill-on-timeout");
            }
        }
    }
    cmd
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=.,:/@%+".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

pub(super) fn title_of(row: &RunRow) -> String {
    row.view
        .project_title
        .clone()
        .unwrap_or_else(|| row.view.key.project_id.clone())
}

/// Read-only (the flag or the profile): say so and do nothing.
pub(super) fn refused_read_only(model: &mut Model, what: &str) -> bool {
    if model.status.read_only {
        inform(
            model,
            Level::Error,
            format!("read-only: {what} is disabled"),
        );
    }
    model.status.read_only
}
