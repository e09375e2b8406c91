//! `update`: the only code that changes the [`Model`]. A message in, effects out, no I/O.
//!
//! Keys are routed by what has them: an open overlay (help, command line, confirmation) first,
//! then a filter being typed, then the launch form (which types characters into its fields),
//! then the screen's own actions and the global ones. Several actions may share a key; the first
//! one that means something here wins. Results from the engine and from effects are merged in
//! `events`; screen actions live in `screens`.

mod bulk;
mod events;
mod history;
mod mouse;
mod pipelines;
mod presets;
mod screens;
mod selection;

pub(crate) use pipelines::running_steps;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::keymap::KeyMap;
use super::model::{Confirm, Level, Message, Model, Overlay, Screen};
use super::msg::{Effect, Msg};
use super::text_input::TextInput;

/// Applies `msg` to `model`; returns what the app loop must do.
pub fn update(model: &mut Model, msg: Msg, keys: &KeyMap) -> Vec<Effect> {
    let before = model.runs.cursor.id().cloned();
    let mut effects = match msg {
        Msg::Key(key) => on_key(model, &key, keys),
        Msg::Mouse { event, at_ms } => mouse::on_mouse(model, &event, at_ms, keys),
        other => events::on_event(model, other),
    };
    // Whatever changed what the lists show, each cursor is now on a row that is shown, and the
    // engine polls fast the run under it.
    selection::settle(model);
    if model.runs.cursor.id() != before.as_ref() {
        // `c` starts again from the URL on another run.
        model.copy_next = 0;
    }
    effects.extend(screens::refocus(model));
    effects
}

fn on_key(model: &mut Model, key: &KeyEvent, keys: &KeyMap) -> Vec<Effect> {
    let actions = keys.actions(key);
    let has = |a: Action| actions.contains(&a);
    // Ctrl-C always means "quit", asked first when this session's runs are still going.
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return request_quit(model);
    }
    if let Some(overlay) = model.overlay.take() {
        return on_overlay_key(model, overlay, key, &has);
    }
    if let Some(effects) = screens::on_filter_key(model, key) {
        return effects;
    }
    if model.screen == Screen::Form {
        return screens::on_form_key(model, key, &has);
    }
    for action in actions {
        if let Some(effects) = on_action(model, *action) {
            return effects;
        }
    }
    Vec::new()
}

/// A key while an overlay is open. The overlay was taken out of the model; put it back to keep
/// it open.
fn on_overlay_key(
    model: &mut Model,
    overlay: Overlay,
    key: &KeyEvent,
    has: &impl Fn(Action) -> bool,
) -> Vec<Effect> {
    match overlay {
        Overlay::Help => {
            if !(has(Action::Back) || has(Action::Help) || has(Action::Quit)) {
                model.overlay = Some(Overlay::Help);
            }
            Vec::new()
        }
        Overlay::CommandLine(mut line) => match key.code {
            KeyCode::Enter => run_command(model, line.value().trim()),
            KeyCode::Esc => Vec::new(),
            // Backspace on an empty line closes it, as in vim.
            KeyCode::Backspace if line.is_empty() => Vec::new(),
            KeyCode::Tab => {
                let names = |command: &str| argument_names(model, command);
                // The whole line is completed, wherever the cursor was; it goes to the end.
                if let Some(done) = super::commands::complete(line.value(), names) {
                    line.set(done);
                }
                model.overlay = Some(Overlay::CommandLine(line));
                Vec::new()
            }
            _ => {
                // The editing keys of every text field; any other key is ignored.
                line.key(key);
                model.overlay = Some(Overlay::CommandLine(line));
                Vec::new()
            }
        },
        // Read, then closed by any key.
        Overlay::BulkReport(_) | Overlay::Log(_) => Vec::new(),
        Overlay::Confirm(confirm) => {
            if has(Action::Confirm) {
                confirmed(model, confirm)
            } else if has(Action::Decline) || has(Action::Back) || key.code == KeyCode::Enter {
                // Enter takes the default answer, which is no.
                Vec::new()
            } else {
                // Any other key leaves the question open: default no, never yes by accident.
                model.overlay = Some(Overlay::Confirm(confirm));
                Vec::new()
            }
        }
    }
}

/// What `tab` completes a command's argument from: the config's profiles for `:profile`, the
/// form's project's presets for `:preset`.
fn argument_names<'a>(model: &'a Model, command: &str) -> Vec<&'a str> {
    match command {
        "profile" => model
            .status
            .profiles
            .iter()
            .flatten()
            .map(String::as_str)
            .collect(),
        "preset" => model
            .form
            .as_ref()
            .and_then(|f| model.presets.get(&f.project_id))
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn confirmed(model: &mut Model, confirm: Confirm) -> Vec<Effect> {
    match confirm {
        Confirm::Quit { .. } => {
            model.quit = true;
            Vec::new()
        }
        Confirm::CancelPipeline { id, .. } => pipelines::confirmed_cancel(model, id),
        Confirm::Bulk(plan) => bulk::confirmed(model, *plan),
        Confirm::Relaunch {
            project, request, ..
        } => {
            inform(model, Level::Info, format!("relaunching {project}…"));
            vec![Effect::Launch(*request)]
        }
        Confirm::CancelRun { key, .. } => {
            // The dialog froze its target; refuse if that run ended while it was open.
            let still_active = model
                .runs
                .rows
                .get(&key)
                .is_some_and(|r| r.view.is_active() && r.followed);
            if !still_active {
                inform(
                    model,
                    Level::Warning,
                    format!("run {} already ended; nothing to cancel", key.short()),
                );
                return Vec::new();
            }
            inform(
                model,
                Level::Info,
                format!("cancelling run {}…", key.short()),
            );
            model.runs.cancelled_here.insert(key.clone());
            vec![Effect::Cancel(key)]
        }
    }
}

/// Global and per-screen actions; `None` when the action means nothing here.
fn on_action(model: &mut Model, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::ShowProjects if model.screen == Screen::Projects => {
            // Pressed again: list anew from Hex. The rows on screen stay until the answer.
            Some(vec![Effect::RefreshProjects])
        }
        Action::ShowProjects => Some(show(model, Screen::Projects)),
        Action::ShowRuns => Some(show(model, Screen::Runs)),
        Action::ShowPipelines => Some(pipelines::show_list(model)),
        Action::Help => {
            model.overlay = Some(Overlay::Help);
            Some(Vec::new())
        }
        Action::CommandLine => {
            model.overlay = Some(Overlay::CommandLine(TextInput::default()));
            Some(Vec::new())
        }
        Action::Quit if model.screen.is_top_level() => Some(request_quit(model)),
        Action::Back if model.screen.is_top_level() => Some(back_at_the_top(model)),
        _ if matches!(model.screen, Screen::Pipelines | Screen::PipelineRun) => {
            pipelines::on_action(model, action)
        }
        _ => bulk::on_action(model, action).or_else(|| screens::on_screen_action(model, action)),
    }
}

/// Esc on a list: first unmarks marked runs, then clears a kept filter (the cursor stays on its row), then goes back
/// from the runs to the projects screen it came from; and dismisses a message that stays until
/// dismissed.
fn back_at_the_top(model: &mut Model) -> Vec<Effect> {
    if bulk::clear_marks(model) {
        return Vec::new();
    }
    model.status.message = None;
    let filter = match model.screen {
        Screen::Projects => Some(&mut model.projects.filter),
        Screen::Runs => Some(&mut model.runs.filter),
        _ => None,
    };
    if let Some(filter) = filter.filter(|f| !f.text.is_empty()) {
        filter.text.clear();
        return Vec::new();
    }
    if model.screen == Screen::Runs && model.previous == Screen::Projects {
        return show(model, Screen::Projects);
    }
    Vec::new()
}

pub(super) fn show(model: &mut Model, screen: Screen) -> Vec<Effect> {
    if model.screen != screen {
        model.previous = model.screen;
    }
    model.screen = screen;
    model.copy_next = 0;
    let mut effects = screens::refocus(model);
    if screen == Screen::Projects && model.projects.load.data().is_none() {
        effects.push(Effect::FetchProjects);
    }
    effects
}

fn request_quit(model: &mut Model) -> Vec<Effect> {
    let active = model.session_active();
    if active == 0 {
        model.quit = true;
    } else {
        model.overlay = Some(Overlay::Confirm(Confirm::Quit { active }));
    }
    Vec::new()
}

fn run_command(model: &mut Model, text: &str) -> Vec<Effect> {
    if let Some(rest) = text.strip_prefix("preset") {
        return presets::command(model, rest.trim());
    }
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some("projects" | "p"), None) => show(model, Screen::Projects),
        (Some("runs" | "r"), None) => show(model, Screen::Runs),
        (Some("pipelines"), None) => pipelines::show_list(model),
        (Some("log"), None) => {
            inform(model, Level::Info, "reading the operator's log…".into());
            vec![Effect::LoadOperatorLog]
        }
        (Some("pipeline"), Some(id)) => pipelines::open_by_id(model, id),
        (Some("q" | "quit"), None) => request_quit(model),
        (Some("q!" | "quit!"), None) => {
            model.quit = true;
            Vec::new()
        }
        (Some("profile"), Some(name)) => switch_profile(model, name),
        (Some("profile"), None) => {
            inform(
                model,
                Level::Error,
                ":profile needs a name, e.g. :profile staging".into(),
            );
            Vec::new()
        }
        (None, _) => Vec::new(),
        (Some(other), _) => {
            let hint = crate::config::did_you_mean(other, super::commands::names())
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            inform(
                model,
                Level::Error,
                format!(
                    "unknown command :{other}{hint}; try :projects, :runs, :pipelines, \
                     :pipeline ID, :profile NAME, :preset [save|delete] NAME, :q"
                ),
            );
            Vec::new()
        }
    }
}

/// `:profile NAME`: only to a profile the config has, and not where switching is impossible; a
/// refusal leaves the dashboard as it is (nothing restarts).
fn switch_profile(model: &mut Model, name: &str) -> Vec<Effect> {
    let refusal = match &model.status.profiles {
        None => Some(
            "the demo runs on its own emulator: :profile switches between the profiles of your \
             config in `hexdash`, not in the demo"
                .to_string(),
        ),
        Some(_) if name == model.status.profile => Some(format!("already on profile {name:?}")),
        Some(known) if !known.iter().any(|p| p == name) => {
            let hint = crate::config::did_you_mean(name, known.iter().map(String::as_str))
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            let list = if known.is_empty() {
                "the config defines none: add a [profiles.NAME] table".to_string()
            } else {
                format!("configured: {}", known.join(", "))
            };
            Some(format!("no profile {name:?}{hint}; {list}"))
        }
        Some(_) => None,
    };
    match refusal {
        Some(text) => {
            inform(model, Level::Error, text);
            Vec::new()
        }
        None => vec![Effect::SwitchProfile(name.to_string())],
    }
}

/// After rows changed: focus follows the run on screen.
pub(super) fn refocus_after_change(model: &mut Model) -> Vec<Effect> {
    screens::refocus(model)
}

pub(super) fn inform(model: &mut Model, level: Level, text: String) {
    model.status.message = Some(Message { text, level });
}

#[cfg(test)]
mod bulk_tests;
#[cfg(test)]
mod cursor_tests;
#[cfg(test)]
mod editing_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod navigation_tests;
#[cfg(test)]
mod pipeline_tests;
#[cfg(test)]
mod prefill_tests;
#[cfg(test)]
mod relaunch_tests;
#[cfg(test)]
use crate::tui::fixtures::keys as test_kit;
#[cfg(test)]
mod tests;
