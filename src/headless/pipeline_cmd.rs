//! `hexdash pipeline …`: hands each subcommand to its module (`run`, `list`, `status`,
//! `resume`, `cancel` in `pipeline_run`, `export` in `pipeline_export`), holds `validate` (check
//! a pipeline file before anything runs), and finds the file a NAME or `--file` means for all of
//! them, prepared the one way there is ([`exec::prepare`]).
//!
//! Works without a token (config only); with one, and without `--offline`, steps named by title
//! are checked against the project list (the shared cache's when fresh and it knows every such
//! title, else Hex's); a file whose steps all name config aliases or ids needs no list. Every
//! problem is printed as `file:line:col: message (fix)`; any error exits 4, warnings alone exit 0.

use std::path::{Path, PathBuf};

use crate::cli::{Cli, PipelineAction, PipelineArgs, PipelineSource, PipelineValidateArgs};
use crate::config::Paths;
use crate::config::{Config, ProcessEnv};
use crate::hex::types::Project;
use crate::pipeline;
use crate::pipeline::exec::{self, PrepareError, Prepared};
use crate::session::{Context, Exit, Failure};

pub async fn run(cli: &Cli, args: &PipelineArgs) -> Result<Exit, Failure> {
    match &args.action {
        PipelineAction::Validate(v) => validate(cli, v).await,
        PipelineAction::Export(e) => super::pipeline_export::run(cli, e).await,
        PipelineAction::Run(a) => super::pipeline_run::run(cli, a).await,
        PipelineAction::List(a) => super::pipeline_run::list(cli, a),
        PipelineAction::Status(a) => super::pipeline_run::status(cli, a),
        PipelineAction::Resume(a) => super::pipeline_run::resume(cli, a).await,
        PipelineAction::Cancel(a) => super::pipeline_run::cancel(cli, a).await,
    }
}

async fn validate(cli: &Cli, args: &PipelineValidateArgs) -> Result<Exit, Failure> {
    let Prepared {
        file, pipeline: p, ..
    } = load(cli, &args.source).await?;
    // The first steps of the order; a generated pipeline's full order is no use on a line.
    const SHOWN: usize = 20;
    let mut order: Vec<&str> = p.steps.iter().take(SHOWN).map(|s| s.id.as_str()).collect();
    let more = p.steps.len().saturating_sub(SHOWN);
    let rest = format!("… ({more} more)");
    if more > 0 {
        order.push(&rest);
    }
    crate::outln!(
        "{} is valid: {} step(s), in order {} (max_parallel {})",
        display(&file),
        p.steps.len(),
        order.join(" → "),
        p.max_parallel
    );
    Ok(Exit::Completed)
}

/// Finds, reads and validates the pipeline (steps named by title checked against the project
/// list, the profile loaded only if one needs it), printing its warnings; on errors, prints each
/// and fails with exit 4.
pub(super) async fn load(cli: &Cli, source: &PipelineSource) -> Result<Prepared, Failure> {
    let (paths, config) = Config::for_cli(cli, &ProcessEnv)?;
    let file = file_of(&paths, source)?;
    if source.offline {
        return report(exec::prepare_offline(&file, &config), false);
    }
    report(exec::prepare(&file, &config, &OnDemand(cli)).await, true)
}

/// [`load`] on a loaded profile (`pipeline run`), whose project list it uses.
pub(super) async fn load_in(ctx: &Context, source: &PipelineSource) -> Result<Prepared, Failure> {
    let file = file_of(&ctx.paths, source)?;
    if source.offline {
        return report(exec::prepare_offline(&file, &ctx.config), false);
    }
    report(
        exec::prepare(&file, &ctx.config, &ctx.project_list()).await,
        true,
    )
}

/// The file a NAME or `--file` means.
fn file_of(paths: &Paths, source: &PipelineSource) -> Result<PathBuf, Failure> {
    match (&source.file, &source.name) {
        (Some(f), _) => Ok(f.clone()),
        (None, Some(name)) => {
            // A NAME is a plain name, so it cannot reach outside pipelines/ (`../../x`).
            let name = pipeline::name::from_argument(name).map_err(Failure::usage)?;
            Ok(paths.pipelines_dir().join(format!("{name}.toml")))
        }
        (None, None) => Err(Failure::usage("give a pipeline NAME or --file FILE")),
    }
}

/// Prints a prepared file's warnings (and, when `note`, why titles were checked against the
/// config only), or each of its problems.
fn report(prepared: Result<Prepared, PrepareError>, note: bool) -> Result<Prepared, Failure> {
    match prepared {
        Ok(p) => {
            if let Some(why) = p.config_only.as_deref().filter(|_| note) {
                crate::errln!("note: checking projects against the config only ({why})");
            }
            for w in &p.pipeline.warnings {
                crate::errln!("{w}");
            }
            Ok(p)
        }
        Err(e @ PrepareError::Invalid { .. }) => {
            for line in e.lines() {
                crate::errln!("{line}");
            }
            Err(Failure::usage(e.to_string()))
        }
        Err(e @ PrepareError::Read(_)) => Err(Failure::usage(e.to_string())),
    }
}

/// The project list for a command that works without a token: the profile is loaded only
/// when a step names its project by title, and a profile that cannot load is a note.
struct OnDemand<'a>(&'a Cli);

impl exec::Workspace for OnDemand<'_> {
    async fn projects(&self, lacks: exec::Lacks<'_>) -> Result<Vec<Project>, String> {
        let ctx = Context::load(self.0).map_err(|f| f.message)?;
        ctx.project_list()
            .lookup(lacks)
            .await
            .map_err(|e| format!("cannot list them: {e}"))
    }
}

pub(super) fn display(path: &Path) -> String {
    path.display().to_string()
}
