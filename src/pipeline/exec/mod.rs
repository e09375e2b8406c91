//! Running pipelines: the pure [`machine`](super::machine) driven on the run engine, journalled
//! entry by entry so a crash or a quit loses nothing (see [`record`]).
//!
//! Owns preparing a run from a file ([`prepare`]: read, validated, parameters resolved), starting
//! it (header journalled), rebuilding one from the
//! journal, and the driving loop ([`Conductor`]). Must not poll Hex or send RunProject itself:
//! every launch and cancel goes through the engine.

mod conductor;
pub mod control;
mod prepare;
pub mod record;
mod runner;

use std::sync::Arc;

use indexmap::IndexMap;
use jiff::civil::Date;
use serde_json::Value;

pub use conductor::{ConductError, Conductor, Progress};
pub use prepare::{
    Lacks, PrepareError, Prepared, StartRefusal, Workspace, prepare, prepare_offline,
};
pub use record::{Header, Recorded};
pub use runner::{Runner, RunnerError};

use super::machine::{Machine, MachineError};
use super::{Pipeline, Projects};
use crate::journal::JournalState;

/// Every pipeline parameter's value for a run starting on `today`: given ones as given (already
/// typed), the rest from their defaults. A parameter with neither is an error naming it.
pub fn resolve_params(
    pipeline: &Pipeline,
    mut given: IndexMap<String, Value>,
    today: Date,
) -> Result<IndexMap<String, Value>, String> {
    let mut out = IndexMap::new();
    let mut missing = Vec::new();
    for param in &pipeline.params {
        match (given.shift_remove(&param.name), &param.default) {
            (Some(v), _) => {
                out.insert(param.name.clone(), v);
            }
            (None, Some(default)) => {
                out.insert(param.name.clone(), default.resolve(today));
            }
            (None, None) => missing.push(format!("-p {}=…", param.name)),
        }
    }
    if let Some(extra) = given.keys().next() {
        return Err(format!(
            "pipeline {} has no parameter {extra:?} (it has: {}); fix the name",
            pipeline.name,
            names(pipeline)
        ));
    }
    if !missing.is_empty() {
        return Err(format!(
            "pipeline {} needs a value for every parameter without a default: give {}",
            pipeline.name,
            missing.join(" ")
        ));
    }
    Ok(out)
}

fn names(pipeline: &Pipeline) -> String {
    if pipeline.params.is_empty() {
        return "none".into();
    }
    pipeline
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A pipeline run rebuilt from the journal.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub id: String,
    pub recorded: Recorded,
    pub pipeline: Arc<Pipeline>,
    pub machine: Machine,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("no pipeline run {0} in the journal (see `hexdash pipeline list`)")]
    NotFound(String),
    #[error(transparent)]
    Record(#[from] record::RecordError),
    #[error("pipeline run {id}: its recorded definition no longer validates: {why}")]
    Invalid { id: String, why: String },
    #[error("pipeline run {id}: {source}")]
    Machine {
        id: String,
        #[source]
        source: MachineError,
    },
}

/// Rebuilds pipeline run `id` (a unique prefix of it is enough) from the journal.
pub fn load(
    journal: &JournalState,
    id: &str,
    projects: &Projects<'_>,
) -> Result<Rebuilt, LoadError> {
    let mut matches = journal
        .pipelines()
        .filter(|(run_id, _)| run_id.starts_with(id));
    let (run_id, entries) = matches
        .next()
        .ok_or_else(|| LoadError::NotFound(id.to_string()))?;
    if matches.next().is_some() && run_id != id {
        return Err(LoadError::NotFound(format!(
            "{id} (more than one pipeline run starts with it; give more of the id)"
        )));
    }
    load_entries(run_id, entries, projects)
}

/// Every pipeline run in the journal, oldest first; unreadable ones as errors.
pub fn load_all(
    journal: &JournalState,
    projects: &Projects<'_>,
) -> Vec<Result<Rebuilt, LoadError>> {
    journal
        .pipelines()
        .map(|(id, entries)| load_entries(id, entries, projects))
        .collect()
}

/// Whether a recorded pipeline run that `which` picks (by id and entries) has a step naming a
/// project that `projects` cannot resolve (see [`super::lacks_project`]): loading it needs the
/// project list, or a newer one. Runs whose header cannot be read lack nothing here; loading
/// them fails on its own.
pub fn recorded_lack(
    journal: &JournalState,
    projects: &Projects<'_>,
    which: impl Fn(&str, &[crate::journal::PipelineEntry]) -> bool,
) -> bool {
    journal
        .pipelines()
        .filter(|(id, entries)| which(id, entries))
        .filter_map(|(id, entries)| record::decode(id, entries).ok())
        .any(|r| super::lacks_project(&r.header.source, &r.header.file, projects))
}

/// Rebuilds pipeline run `id` from its journal entries.
pub fn load_entries(
    id: &str,
    entries: &[crate::journal::PipelineEntry],
    projects: &Projects<'_>,
) -> Result<Rebuilt, LoadError> {
    let recorded = record::decode(id, entries)?;
    let pipeline =
        super::validate_recorded(&recorded.header.source, &recorded.header.file, projects)
            .map_err(|diagnostics| LoadError::Invalid {
                id: id.to_string(),
                why: diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            })?;
    let pipeline = Arc::new(pipeline);
    let machine = Machine::replay(
        Arc::clone(&pipeline),
        recorded.header.params.clone(),
        &recorded.inputs,
    )
    .map_err(|source| LoadError::Machine {
        id: id.to_string(),
        source,
    })?;
    Ok(Rebuilt {
        id: id.to_string(),
        recorded,
        pipeline,
        machine,
    })
}
