//! The pipeline file a command means (a NAME in `pipelines/`, or `--file`), prepared the one
//! way there is ([`exec::prepare`]) for `validate`, `export` and `run`.
//!
//! Works without a token (config only); with one, and without `--offline`, steps named by title
//! are checked against the project list (the shared cache's when fresh and it knows every such
//! title, else Hex's); a file whose steps all name config aliases or ids needs no list.

use std::path::{Path, PathBuf};

use crate::cli::{Cli, PipelineSource};
use crate::config::{Config, Paths, ProcessEnv};
use crate::hex::types::Project;
use crate::pipeline;
use crate::pipeline::exec::{self, PrepareError, Prepared};
use crate::session::{Context, Failure};

/// Finds, reads and validates the pipeline (steps named by title checked against the project
/// list, the profile loaded only if one needs it), printing its warnings; on errors, prints each
/// and fails with exit 4.
pub(super) async fn load(cli: &Cli, source: &PipelineSource) -> Result<Prepared, Failure> {
    let (paths, config) = Config::for_cli(cli, &ProcessEnv)?;
    prepare(&paths, &config, source, &OnDemand(cli)).await
}

/// [`load`] on a loaded profile (`pipeline run`), whose project list it uses.
pub(super) async fn load_in(ctx: &Context, source: &PipelineSource) -> Result<Prepared, Failure> {
    prepare(&ctx.paths, &ctx.config, source, &ctx.project_list()).await
}

/// The file `source` means, prepared with `workspace`'s project list (none with `--offline`).
async fn prepare(
    paths: &Paths,
    config: &Config,
    source: &PipelineSource,
    workspace: &impl exec::Workspace,
) -> Result<Prepared, Failure> {
    let file = file_of(paths, source)?;
    if source.offline {
        return report(exec::prepare_offline(&file, config), false);
    }
    report(exec::prepare(&file, config, workspace).await, true)
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
