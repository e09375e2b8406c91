//! Opening the dashboard: `hexdash` (the active profile) and `hexdash demo` (the embedded
//! emulator). Builds the engine, the key map and the first model, takes the terminal, runs the
//! loop, and gives the terminal back; `:profile NAME` comes back here and starts over on that
//! profile.

use std::io::IsTerminal;
use std::sync::Arc;

use crossterm::event::EventStream;

use super::app::{App, AppExit};
use super::effects::Io;
use super::keymap::KeyMap;
use super::model::{Level, Load, Message, Model};
use super::terminal::TerminalGuard;
use crate::cli::Cli;
use crate::config::Config;
use crate::engine::Engine;
use crate::pipeline::exec::Runner;
use crate::session::{Context, Exit, Failure, ProjectList};

/// Whether both ends are a terminal, which the dashboard needs.
pub fn has_terminal() -> bool {
    std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// `hexdash` with no command.
pub async fn run(cli: &Cli) -> Result<Exit, Failure> {
    // Without a token the config error already says how to set one and suggests the demo.
    let mut ctx = Context::load_for_profile(cli, cli.profile.as_deref())?;
    let mut notice = None;
    loop {
        let current = ctx.profile.name.clone();
        match open(ctx, cli.read_only, notice.take(), true).await? {
            AppExit::SwitchProfile(name) => match Context::load_for_profile(cli, Some(&name)) {
                Ok(next) => ctx = next,
                Err(f) => {
                    // Stay on the profile that works, and say why the switch did not happen.
                    ctx = Context::load_for_profile(cli, Some(&current))?;
                    notice = Some(Message {
                        text: format!("cannot switch to profile {name:?}: {}", f.message),
                        level: Level::Error,
                    });
                }
            },
            AppExit::Quit | AppExit::Stopped => return Ok(Exit::Completed),
        }
    }
}

/// Runs the dashboard on `ctx` until it quits or asks for another profile.
/// `switch`: whether `:profile NAME` may leave for another of the config's profiles (not in the
/// demo, whose profile is its own emulator's).
pub async fn open(
    ctx: Context,
    read_only_flag: bool,
    notice: Option<Message>,
    switch: bool,
) -> Result<AppExit, Failure> {
    let (keys, key_warnings) = KeyMap::from_config(&ctx.config);
    for w in &key_warnings {
        tracing::warn!("{w}");
    }
    let mut model = first_model(&ctx, read_only_flag, switch);
    let presets_path = ctx.paths.data_dir.join(super::presets::FILE_NAME);
    let (presets, presets_warning) = super::presets::load(&presets_path);
    model.presets = presets;
    let (mut terminal, guard) = TerminalGuard::enter(ctx.config.ui.mouse)
        .map_err(|e| Failure::usage(format!("cannot take over the terminal: {e}")))?;
    forced_panic_for_tests();
    // A first frame before the journal is read: a long history takes a moment to load, and the
    // screen should say what is happening rather than stay blank.
    model.projects.load = Load::Loading;
    model.status.message = Some(Message {
        text: "reading the journal…".into(),
        level: Level::Info,
    });
    terminal
        .draw(|f| super::view::draw(f, &model, &keys))
        .map_err(|e| Failure::usage(format!("cannot draw on the terminal: {e}")))?;
    // Its warnings (a data dir others can read, damaged lines) go to the status bar and the
    // log: written to stderr they would scroll the screen the dashboard draws on.
    let (engine, journal_warnings) = ctx.engine_and_warnings()?;
    for w in &journal_warnings {
        tracing::warn!("journal: {w}");
    }
    model.status.message = notice
        .or_else(|| first_message(&ctx.client, &key_warnings))
        .or(presets_warning.map(|text| Message {
            text,
            level: Level::Warning,
        }))
        .or(journal_warnings.first().map(|w| Message {
            text: format!("journal: {w}"),
            level: Level::Warning,
        }));
    let projects = ctx.project_list();
    let config = Arc::new(ctx.config);
    // Pipelines an earlier hexdash left unfinished (whose driver is gone) are carried on while
    // the dashboard runs; quitting stops driving, and the next hexdash goes on.
    let (stop_pipelines, stop) = tokio::sync::watch::channel(false);
    let pipelines =
        (!model.status.read_only).then(|| crate::pipeline::exec::Runner::new(engine.clone(), stop));
    if let Some(runner) = pipelines.clone() {
        carry_on_pipelines(
            runner,
            Arc::clone(&config),
            engine.clone(),
            projects.clone(),
        );
    }
    let app = App {
        engine,
        config,
        keys,
        model,
        io: Io::system(),
        draw: super::view::draw,
        presets_path: Some(presets_path),
        observer: None,
        pipelines,
        pipelines_dir: Some(ctx.paths.pipelines_dir()),
        projects,
    };
    let result = app.run(&mut terminal, EventStream::new()).await;
    stop_pipelines.send_replace(true);
    drop(guard);
    result.map_err(|e| Failure::api(format!("the dashboard stopped: {e}")))
}

/// The model before anything is read: the profile, whether it may act, the profiles
/// `:profile` may switch to and the config's project aliases.
fn first_model(ctx: &Context, read_only_flag: bool, switch: bool) -> Model {
    let read_only = read_only_flag || ctx.profile.read_only;
    let mut model = Model::new(
        &ctx.profile.name,
        read_only,
        jiff::Timestamp::now(),
        jiff::tz::TimeZone::system(),
    );
    model.status.profiles = switch.then(|| ctx.config.profiles.keys().cloned().collect());
    model.aliases = ctx
        .config
        .projects
        .iter()
        .filter_map(|p| p.alias.clone().map(|a| (p.id.clone(), a)))
        .collect();
    model
}

/// Carries on, in a task, the pipeline runs an earlier hexdash left unfinished.
fn carry_on_pipelines(runner: Runner, config: Arc<Config>, engine: Engine, list: ProjectList) {
    tokio::spawn(async move {
        // A step may name its project by title, which needs the project list; asked only
        // when an unfinished run has such a step the cached list does not know.
        let unfinished = |_: &str, entries: &[crate::journal::PipelineEntry]| {
            entries
                .last()
                .is_some_and(|e| e.kind != crate::journal::PIPELINE_FINISHED)
        };
        let workspace = list
            .for_recorded_pipelines(&engine, &config, unfinished)
            .await;
        let projects = crate::pipeline::Projects {
            config: &config,
            workspace: workspace.as_deref(),
        };
        for problem in runner.carry_on_unfinished(&projects).await {
            tracing::warn!(%problem, "cannot carry a pipeline run on");
        }
    });
}

/// What the status bar says first: why its request budget is not shared with other hexdash
/// processes, or a bad key binding.
fn first_message(client: &crate::hex::Client, key_warnings: &[String]) -> Option<Message> {
    if let Some(problem) = client.budget().problem() {
        return Some(Message {
            text: problem.to_string(),
            level: Level::Warning,
        });
    }
    let first = key_warnings.first()?;
    let more = match key_warnings.len() {
        1 => String::new(),
        n => format!(" (+{} more in the log)", n - 1),
    };
    Some(Message {
        text: format!("{first}{more}"),
        level: Level::Warning,
    })
}

/// `HEXDASH_TEST_PANIC_AFTER_MS=N` panics in a background task after N ms: the pseudo-terminal
/// test proves that a panic anywhere restores the terminal. Unset, it does nothing; a release
/// build has no such hook at all.
#[cfg(not(debug_assertions))]
fn forced_panic_for_tests() {}

#[cfg(debug_assertions)]
fn forced_panic_for_tests() {
    let Some(ms) = std::env::var("HEXDASH_TEST_PANIC_AFTER_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        panic!("forced by HEXDASH_TEST_PANIC_AFTER_MS to test that the terminal is restored");
    });
}
