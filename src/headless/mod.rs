//! The non-interactive commands, for scripts, cron and CI: plain text or `--json` on stdout,
//! progress and errors on stderr, and exit codes that mean one thing each (see [`Exit`]).
//! Commands act through the same client and run engine as the dashboard, and share its journal.

mod cancel;
mod config_cmd;
mod context;
mod demo;
mod emulator_cmd;
mod exit;
mod history;
mod operator_log;
pub mod output;
mod params;
mod pipeline_cmd;
mod pipeline_export;
mod pipeline_run;
mod project_list;
mod projects;
mod resolve;
mod run;
mod run_ref;
mod status;
mod view_json;
mod wait;
mod watch;
mod workspace_runs;

use std::io::Write;

use clap::CommandFactory;
use serde::Serialize;

use crate::cli::{Cli, Command, Shell};
use crate::config::{Config, Paths, ProcessEnv};

pub use context::Context;
pub use exit::{Exit, Failure};
pub use project_list::{Kept, ProjectList};
pub use resolve::{Match, Resolved, match_projects};

/// Runs a parsed command line and returns how it ended. Errors are printed here, once.
pub async fn dispatch(cli: Cli) -> Exit {
    match execute(&cli).await {
        Ok(exit) => exit,
        Err(failure) => {
            crate::errln!("hexdash: {}", failure.message);
            failure.exit
        }
    }
}

async fn execute(cli: &Cli) -> Result<Exit, Failure> {
    let Some(command) = &cli.command else {
        if crate::tui::dashboard::has_terminal() {
            return crate::tui::dashboard::run(cli).await;
        }
        let mut cmd = Cli::command();
        let _ = cmd.print_help();
        return Ok(Exit::Completed);
    };
    match command {
        Command::Config(args) => config_cmd::run(cli, &args.action, &ProcessEnv),
        Command::Emulator(args) => emulator_cmd::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Completions(args) => {
            completions(args.shell);
            Ok(Exit::Completed)
        }
        Command::Projects(args) => projects::run(&Context::load(cli)?, args).await,
        Command::Run(args) => run::run(&Context::load(cli)?, args).await,
        Command::Status(args) => status::status(&Context::load(cli)?, args).await,
        Command::Runs(args) => status::runs(&Context::load(cli)?, args).await,
        Command::Cancel(args) => cancel::run(&Context::load(cli)?, args).await,
        Command::Watch(args) => watch::run(&Context::load(cli)?, args).await,
        Command::Pipeline(args) => pipeline_cmd::run(cli, args).await,
        Command::History(args) => {
            // The journal and the config only: works offline and without a token.
            let (paths, config) = offline(cli)?;
            history::run(&paths, &config, args)
        }
        Command::Log(args) => {
            // The store and the config (for aliases) only: works offline and without a token.
            let (paths, config) = offline(cli)?;
            operator_log::run(&paths, &config, args)
        }
    }
}

/// The paths and the config, without a profile or a token: for commands that only read the
/// store (history, log, pipeline list and status).
fn offline(cli: &Cli) -> Result<(Paths, Config), Failure> {
    let paths = Paths::resolve(cli.config.as_deref(), &ProcessEnv)?;
    let config = if cli.config.is_some() {
        Config::load_file(&paths.config_file)?
    } else {
        Config::load(&paths)?
    };
    Ok((paths, config))
}

fn completions(shell: Shell) {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "hexdash", &mut std::io::stdout());
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::api(format!("cannot encode JSON output: {e}")))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", crate::safe_text::escape_json(&text))
        .map_err(|e| Failure::local(format!("cannot write output: {e}")))
}
