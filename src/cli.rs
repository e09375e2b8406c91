//! The command line: argument definitions only (clap derive). What each command does lives in
//! `headless` (and, for the dashboard, `tui`); parsing never touches the network or the disk.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A terminal dashboard and headless command line for operating Hex projects.
#[derive(Debug, Parser)]
#[command(name = "hexdash", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 completed (or launched without --wait), 1 errored or unable \
to allocate a kernel, 2 killed, 3 timed out, 4 usage or config error, 5 API or network error."
)]
pub struct Cli {
    /// Config file to use instead of the platform default.
    #[arg(long, global = true, value_name = "FILE", env = "HEXDASH_CONFIG")]
    pub config: Option<PathBuf>,

    /// Profile of the config file to use.
    #[arg(long, global = true, value_name = "NAME", env = "HEXDASH_PROFILE")]
    pub profile: Option<String>,

    /// Disable launching and cancelling (also a profile option: read_only = true).
    #[arg(long, global = true)]
    pub read_only: bool,

    /// Log more detail to the log file (and to stderr for headless commands).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the workspace's projects.
    Projects(ProjectsArgs),
    /// Launch a run of a project.
    Run(RunArgs),
    /// Show one run's status.
    Status(StatusArgs),
    /// List a project's recent runs.
    Runs(RunsArgs),
    /// Cancel a run.
    Cancel(CancelArgs),
    /// Follow active runs live (those earlier hexdash sessions started, and with PROJECT, every
    /// active run of it); ends when none is active.
    Watch(WatchArgs),
    /// Pipelines: multi-step runs defined in TOML (validate, run, list, status, cancel, resume,
    /// export).
    Pipeline(PipelineArgs),
    /// What hexdash launched, watched and cancelled, newest first (from the journal).
    History(HistoryArgs),
    /// The operator's log: every launch, rerun and cancel done through hexdash, with who, when,
    /// profile, parameters and outcome, newest first (from the store; works offline).
    Log(LogArgs),
    /// Show, check or create the config file.
    Config(ConfigArgs),
    /// Start the Hex API emulator (a stateful offline stand-in for Hex).
    Emulator(EmulatorArgs),
    /// Try hexdash on an embedded emulator with a demo workspace; no Hex account needed.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct ProjectsArgs {
    /// Print JSON (Hex's project objects) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Project id, alias (from the config) or exact title (case-insensitive).
    pub project: String,

    /// An input parameter, NAME=VALUE (typed by the project's declaration) or NAME:=JSON.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// A TOML or JSON file of parameter values; -p values override it.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<PathBuf>,

    /// Ask Hex to validate the launch without running anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Run SQL without the cache (useCachedSqlResults = false).
    #[arg(long)]
    pub no_sql_cache: bool,

    /// Write this run's results into the published app (needs edit rights).
    #[arg(long)]
    pub update_published: bool,

    /// Wait for the run to end; the exit code tells how it ended.
    #[arg(long)]
    pub wait: bool,

    /// With --wait: give up after this long (e.g. 90s, 10m, 1h).
    #[arg(long, value_name = "DURATION", requires = "wait")]
    pub timeout: Option<String>,

    /// With --timeout: cancel the run when the timeout passes.
    #[arg(long, requires = "timeout")]
    pub kill_on_timeout: bool,

    /// Refuse to launch while a run of this project with the same parameters is still active
    /// (by default hexdash warns and launches).
    #[arg(long)]
    pub no_duplicate: bool,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Project id, alias or exact title.
    pub project: String,
    /// The run's id, or its first characters as the dashboard shows them (8 are enough).
    pub run_id: String,
    /// Print JSON (Hex's run status object).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Project id, alias or exact title. Without it: the active runs of every published project
    /// (one request per project, within the shared budget), whoever started them.
    pub project: Option<String>,
    /// Only runs in this status (PENDING, RUNNING, COMPLETED, ERRORED, KILLED,
    /// UNABLE_TO_ALLOCATE_KERNEL).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Only runs started this way: API (launched through the API, by hexdash or any other
    /// client), SCHEDULED (Hex's schedules), APP_REFRESH, or ALL.
    #[arg(long, value_name = "TRIGGER", default_value = "ALL")]
    pub trigger: String,
    /// Only runs that look stuck (without PROJECT): running well past their project's usual
    /// time (1.5 × the p95 of its recent completed runs), or PENDING over 5 minutes since a
    /// hexdash first saw them.
    #[arg(long, conflicts_with = "status")]
    pub overdue: bool,
    /// How many of the project's newest runs to list (1-100).
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: u32,
    /// Print JSON (Hex's run status objects; without PROJECT, each with its project's title and
    /// who started it).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Project id, alias or exact title.
    pub project: String,
    /// The run's id, or its first characters as the dashboard shows them (8 are enough).
    pub run_id: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Projects (id, alias or exact title) whose active runs to follow too; only their runs are
    /// shown. Without any, every run the journal knows to be active is followed.
    pub projects: Vec<String>,
    /// Follow the whole workspace until interrupted: every active run of every published
    /// project, whoever started it, asked again now and then for new ones (one request per
    /// project each time, at most about 30 a minute).
    #[arg(long, conflicts_with = "projects")]
    pub all: bool,
    /// With --all: ask every project again this often, in seconds (default 60; never more than
    /// one project every 2 s, whatever is asked).
    #[arg(long, value_name = "SECS", requires = "all", value_parser = clap::value_parser!(u64).range(1..))]
    pub every: Option<u64>,
    /// One JSON object per line and change, instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    #[command(subcommand)]
    pub action: PipelineAction,
}

#[derive(Debug, Subcommand)]
pub enum PipelineAction {
    /// Check a pipeline file and report every problem with file:line:col and its fix.
    Validate(PipelineValidateArgs),
    /// Write the pipeline for another scheduler: an Airflow DAG (--airflow) or a Dagster job
    /// (--dagster).
    Export(PipelineExportArgs),
    /// Start a pipeline run: its steps launch in dependency order, each exactly once.
    Run(PipelineRunArgs),
    /// Pipeline runs in the journal, newest first.
    List(PipelineListArgs),
    /// One pipeline run: its steps, their attempts and runs.
    Status(PipelineStatusArgs),
    /// Carry on a pipeline run: a failed or cancelled one from its failed steps (or --from a
    /// step), an interrupted one from where it stopped.
    Resume(PipelineResumeArgs),
    /// Cancel a pipeline run: its running steps are cancelled until dead, nothing more launches.
    Cancel(PipelineCancelArgs),
}

#[derive(Debug, Args)]
pub struct PipelineRunArgs {
    #[command(flatten)]
    pub source: PipelineSource,
    /// A pipeline parameter, NAME=VALUE (typed by its declaration) or NAME:=JSON.
    #[arg(short = 'p', long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Stay until the pipeline ends; the exit code tells how (0 succeeded, 1 failed, 2
    /// cancelled). Without it, a background hexdash carries the pipeline on.
    #[arg(long)]
    pub wait: bool,
    /// Print one JSON object at the end instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineListArgs {
    /// Show at most this many (0 = all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineStatusArgs {
    /// The pipeline run's id (a unique prefix is enough).
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineResumeArgs {
    /// The pipeline run's id (a unique prefix is enough).
    pub id: String,
    /// Rerun this step and everything downstream of it, even steps that succeeded.
    #[arg(long, value_name = "STEP")]
    pub from: Option<String>,
    /// Stay until the pipeline ends (as for `pipeline run --wait`).
    #[arg(long)]
    pub wait: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PipelineCancelArgs {
    /// The pipeline run's id (a unique prefix is enough).
    pub id: String,
}

/// Which pipeline a command reads, and whether Hex may be asked about its projects.
#[derive(Debug, Args)]
pub struct PipelineSource {
    /// A pipeline in the config dir's pipelines/ (NAME or NAME.toml).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub name: Option<String>,
    /// A pipeline file anywhere.
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Check project titles only against the config, without asking Hex for the project list.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct PipelineValidateArgs {
    #[command(flatten)]
    pub source: PipelineSource,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("format").required(true).args(["airflow", "dagster"])))]
pub struct PipelineExportArgs {
    #[command(flatten)]
    pub source: PipelineSource,
    /// Write an Airflow DAG (Python) for Airflow 3, or 2 with --airflow-version 2.
    #[arg(long)]
    pub airflow: bool,
    /// The Airflow major version to write for: 3 (each step a HexRunOperator defined in the
    /// file) or 2 (Hex's provider, airflow-provider-hex, which does not import on Airflow 3).
    #[arg(
        long,
        value_name = "MAJOR",
        default_value_t = 3,
        value_parser = clap::value_parser!(u8).range(2..=3),
        conflicts_with = "dagster"
    )]
    pub airflow_version: u8,
    /// Write a Dagster job (a Python module) on Hex's dagster-hex; run it with `dagster job
    /// execute -f FILE`.
    #[arg(long)]
    pub dagster: bool,
    /// Write to this file (replaced atomically) instead of stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only this project (id, alias or exact title).
    #[arg(long)]
    pub project: Option<String>,
    /// Show at most this many entries (0 = all).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub limit: usize,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only what was done since: a span back from now (`24h`, `7d`, `90m`), a date
    /// (`2026-12-01`, from its start in local time) or a time (`2026-12-01T09:00:00Z`).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Show at most this many entries (0 = all).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub limit: usize,
    /// Print a JSON array instead of a table.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print CSV (RFC 4180, a header row first) instead of a table.
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print where hexdash reads its config and keeps its data.
    Path,
    /// Load the config, resolve the profile and report problems.
    Check,
    /// Write a documented default config file.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "HOST:PORT")]
    pub addr: SocketAddr,
    /// Scenario TOML file (defaults to the built-in demo workspace).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Time factor for run durations and schedules (10 = ten times faster).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
    /// An extra API token to accept, besides the scenario's.
    #[arg(long, value_name = "TOKEN")]
    pub token: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Time factor for the demo's run durations and schedules.
    #[arg(long, default_value_t = 20.0, value_name = "FACTOR")]
    pub speed: f64,
    /// Keep the demo's journal, logs and presets in DIR instead of a throw-away directory
    /// (note: the emulator starts afresh each time, so runs left active there are lost to it).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// A command to run against the demo workspace; without one, the dashboard (or, when not on
    /// a terminal, a short guided run).
    #[command(subcommand)]
    pub command: Option<DemoCommand>,
}

/// The headless commands, run against the embedded demo emulator.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// List the demo workspace's projects.
    Projects(ProjectsArgs),
    /// Launch a run of a demo project.
    Run(RunArgs),
    /// Show one run's status.
    Status(StatusArgs),
    /// List a demo project's recent runs.
    Runs(RunsArgs),
    /// Cancel a run.
    Cancel(CancelArgs),
    /// The short guided text run (what `hexdash demo` does when not on a terminal).
    Tour,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kill_on_timeout_needs_a_timeout() {
        let err = Cli::try_parse_from(["hexdash", "run", "p", "--wait", "--kill-on-timeout"]);
        assert!(err.is_err());
        let ok = Cli::try_parse_from([
            "hexdash",
            "run",
            "p",
            "-p",
            "date=2026-01-01",
            "--wait",
            "--timeout",
            "5m",
            "--kill-on-timeout",
        ])
        .unwrap();
        assert!(matches!(ok.command, Some(Command::Run(r)) if r.kill_on_timeout));
    }

    #[test]
    fn export_needs_a_format_and_one_pipeline() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["hexdash", "pipeline"], args].concat());
        assert!(
            parse(&["export", "daily-etl"]).is_err(),
            "--airflow or --dagster is required"
        );
        assert!(parse(&["export", "x", "--airflow", "--dagster"]).is_err());
        assert!(parse(&["export", "x", "--dagster", "--airflow-version", "2"]).is_err());
        assert!(
            parse(&["export", "--airflow"]).is_err(),
            "NAME or --file is required"
        );
        assert!(parse(&["export", "x", "--file", "x.toml", "--airflow"]).is_err());
        let ok = parse(&["export", "--file", "p.toml", "--airflow", "-o", "dag.py"]).unwrap();
        let Some(Command::Pipeline(PipelineArgs {
            action: PipelineAction::Export(e),
        })) = ok.command
        else {
            panic!("not an export: {ok:?}");
        };
        assert!(e.airflow && !e.source.offline);
        assert_eq!(e.airflow_version, 3, "Airflow 3 unless asked");
        assert_eq!(e.output.as_deref(), Some(std::path::Path::new("dag.py")));
        let two = |v: &str| parse(&["export", "x", "--airflow", "--airflow-version", v]);
        assert!(two("2").is_ok());
        assert!(two("1").is_err() && two("4").is_err() && two("3.0").is_err());
        let dagster = parse(&["export", "x", "--dagster"]).unwrap();
        let Some(Command::Pipeline(PipelineArgs {
            action: PipelineAction::Export(e),
        })) = dagster.command
        else {
            panic!("not an export: {dagster:?}");
        };
        assert!(e.dagster && !e.airflow);
    }
}
