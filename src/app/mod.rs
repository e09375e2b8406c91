//! The app shell: picks what a command line runs — the dashboard, a headless command, the demo
//! (an emulator with either), or `config` and `completions` — and prints a failure once.
//!
//! The top of the layers: it may use everything; nothing imports it but `main.rs`. `headless`
//! and `tui` sit side by side under it and never import each other; what both need (the loaded
//! profile, how a command ends, the project list) is `crate::session`'s.

mod config_cmd;
mod demo;

use clap::CommandFactory;

use crate::cli::{Cli, Command, Shell};
use crate::config::ProcessEnv;
use crate::session::{Exit, Failure};

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
        Command::Demo(args) => demo::run(args).await,
        Command::Completions(args) => {
            completions(args.shell);
            Ok(Exit::Completed)
        }
        headless => crate::headless::execute(cli, headless).await,
    }
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
