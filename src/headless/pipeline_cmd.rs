//! `hexdash pipeline …`: hands each subcommand to its module (`run`, `list`, `status`,
//! `resume`, `cancel` in `pipeline_run`, `export` in `pipeline_export`) and holds `validate`:
//! check a pipeline file before anything runs (the file found and prepared by
//! `pipeline_source`). Every problem is printed as `file:line:col: message (fix)`; any error
//! exits 4, warnings alone exit 0.

use super::pipeline_source::{display, load};
use crate::cli::{Cli, PipelineAction, PipelineArgs, PipelineValidateArgs};
use crate::pipeline::exec::Prepared;
use crate::session::{Exit, Failure};

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
