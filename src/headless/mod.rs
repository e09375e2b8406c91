//! The non-interactive commands, for scripts, cron and CI: plain text or `--json` on stdout,
//! progress and errors on stderr, and exit codes that mean one thing each (see [`Exit`]).
//! Commands act through the same client and run engine as the dashboard, and share its store.
//! The app shell (`crate::app`) hands each command here; nothing here knows the dashboard.

pub mod cancel;
mod emulator_cmd;
mod history;
mod operator_log;
pub mod output;
mod params;
mod pipeline_cmd;
mod pipeline_export;
mod pipeline_run;
mod pipeline_source;
pub mod projects;
mod resolve;
pub mod run;
mod run_ref;
pub mod status;
mod view_json;
mod wait;
mod watch;
mod workspace_runs;

use std::io::Write;

use serde::Serialize;

use crate::cli::{Cli, Command};
use crate::session::{Context, Exit, Failure, offline};

pub use resolve::{Match, Resolved, match_projects};

/// Runs one headless command. The app shell runs `config`, `demo` and `completions` itself
/// (they need more than this layer) and never hands them here.
pub async fn execute(cli: &Cli, command: &Command) -> Result<Exit, Failure> {
    match command {
        Command::Emulator(args) => emulator_cmd::run(args).await,
        Command::Projects(args) => projects::run(&Context::load(cli)?, args).await,
        Command::Run(args) => run::run(&Context::load(cli)?, args).await,
        Command::Status(args) => status::status(&Context::load(cli)?, args).await,
        Command::Runs(args) => status::runs(&Context::load(cli)?, args).await,
        Command::Cancel(args) => cancel::run(&Context::load(cli)?, args).await,
        Command::Watch(args) => watch::run(&Context::load(cli)?, args).await,
        Command::Pipeline(args) => pipeline_cmd::run(cli, args).await,
        // The store and the config only: these work offline and without a token.
        Command::History(args) => {
            let (paths, config) = offline(cli)?;
            history::run(&paths, &config, args)
        }
        Command::Log(args) => {
            let (paths, config) = offline(cli)?;
            operator_log::run(&paths, &config, args)
        }
        Command::Config(_) | Command::Demo(_) | Command::Completions(_) => Err(Failure::local(
            "config, demo and completions are not headless commands (a defect: please report it)",
        )),
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::api(format!("cannot encode JSON output: {e}")))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", crate::safe_text::escape_json(&text))
        .map_err(|e| Failure::local(format!("cannot write output: {e}")))
}
