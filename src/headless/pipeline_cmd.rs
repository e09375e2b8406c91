//! `hexdash pipeline validate NAME|--file F`: check a pipeline file before anything runs; and
//! the loading every pipeline command shares (the file by name or path, the config, the
//! projects to check against).
//!
//! Works without a token (config only); with one, and without `--offline`, steps named by title
//! are checked against the project list (the shared cache's when fresh and it knows every such
//! title, else Hex's); a file whose steps all name config aliases or ids needs no list. Every
//! problem is printed as `file:line:col: message (fix)`; any error exits 4, warnings alone exit 0.

use std::path::{Path, PathBuf};

use crate::cli::{Cli, PipelineAction, PipelineArgs, PipelineSource, PipelineValidateArgs};
use crate::config::{Config, Paths, ProcessEnv};
use crate::hex::types::Project;
use crate::pipeline::{self, Pipeline, Projects};

use super::context::Context;
use super::exit::{Exit, Failure};

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
    let Source {
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

/// A pipeline file, read and validated.
pub(super) struct Source {
    pub file: PathBuf,
    /// The file's text as validated (what a pipeline run records).
    pub text: String,
    pub pipeline: Pipeline,
}

/// Finds, reads and validates the pipeline, printing its warnings; on errors, prints each and
/// fails with exit 4.
pub(super) async fn load(cli: &Cli, source: &PipelineSource) -> Result<Source, Failure> {
    let paths = Paths::resolve(cli.config.as_deref(), &ProcessEnv)?;
    let config = if cli.config.is_some() {
        Config::load_file(&paths.config_file)?
    } else {
        Config::load(&paths)?
    };
    let file = match (&source.file, &source.name) {
        (Some(f), _) => f.clone(),
        (None, Some(name)) => {
            // A NAME is a plain name, so it cannot reach outside pipelines/ (`../../x`).
            let name = pipeline::name::from_argument(name).map_err(Failure::usage)?;
            paths.pipelines_dir().join(format!("{name}.toml"))
        }
        (None, None) => return Err(Failure::usage("give a pipeline NAME or --file FILE")),
    };
    let text = pipeline::read_file(&file).map_err(|e| Failure::usage(e.to_string()))?;
    let lacks = |workspace: Option<&[Project]>| {
        let projects = Projects {
            config: &config,
            workspace,
        };
        pipeline::lacks_project(&text, &file, &projects)
    };
    // Nothing to look up when every step is a config alias or an id (or the file is broken).
    let workspace = if source.offline || !lacks(None) {
        None
    } else {
        workspace_projects(cli, |list| lacks(Some(list))).await
    };
    let projects = Projects {
        config: &config,
        workspace: workspace.as_deref(),
    };
    match pipeline::validate(&text, &file, &projects)
        .map_err(|diagnostics| pipeline::Error::Invalid { diagnostics })
    {
        Ok(p) => {
            for w in &p.warnings {
                crate::errln!("{w}");
            }
            Ok(Source {
                file,
                text,
                pipeline: p,
            })
        }
        Err(pipeline::Error::Invalid { diagnostics }) => {
            for d in &diagnostics {
                crate::errln!("{d}");
            }
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            Err(Failure::usage(format!(
                "{} is not valid: {errors} error(s)",
                display(&file)
            )))
        }
        Err(e) => Err(Failure::usage(e.to_string())),
    }
}

/// The workspace's projects when a profile with a token is usable; `None` (config only) when
/// not, with a note saying so. A cached list that `lacks` a step's project is listed again.
async fn workspace_projects(cli: &Cli, lacks: impl Fn(&[Project]) -> bool) -> Option<Vec<Project>> {
    let ctx = match Context::load(cli) {
        Ok(ctx) => ctx,
        Err(f) => {
            crate::errln!(
                "note: checking projects against the config only ({})",
                f.message
            );
            return None;
        }
    };
    match ctx.project_list().lookup(lacks).await {
        Ok(projects) => Some(projects),
        Err(e) => {
            crate::errln!(
                "note: checking projects against the config only (cannot list them: {e})"
            );
            None
        }
    }
}

pub(super) fn display(path: &Path) -> String {
    path.display().to_string()
}
