//! Pipelines: several Hex project runs chained as a DAG, defined in a TOML file
//! (`pipelines/*.toml` in the config dir, or any file). See [`definition`] for the format.
//!
//! Parts: the definition and its validation (a file is parsed, every problem is reported with
//! `file:line:col` and its fix, and what remains is a [`Pipeline`] whose steps are in a
//! runnable order); the pure run state machine ([`machine`]); its driver on the run engine
//! ([`exec`], the only part that launches, cancels or journals, always through the engine); and
//! the exports to Airflow ([`airflow`]) and Dagster ([`dagster`]).

pub mod airflow;
pub mod dagster;
pub mod definition;
mod diagnostic;
pub mod exec;
mod export;
pub mod machine;
mod model;
pub mod name;
pub mod template;
mod validate;

use std::path::{Path, PathBuf};

pub use diagnostic::{Diagnostic, Severity};
pub use model::{
    DEFAULT_MAX_PARALLEL, DEFAULT_RETRY_BACKOFF, MAX_RETRIES, MAX_STEPS, OnFailure, ParamDefault,
    Pipeline, PipelineParam, ProjectRef, Step, StepValue,
};
pub use validate::{Projects, lacks_project, validate, validate_recorded};

/// A pipeline file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read pipeline file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads a pipeline file's text, refusing one larger than [`crate::files::PIPELINE_MAX_BYTES`]
/// (a runaway generated file, or `/dev/zero`, is refused instead of filling memory).
pub fn read_file(path: &Path) -> Result<String, Error> {
    crate::files::read_text(path, crate::files::PIPELINE_MAX_BYTES).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
