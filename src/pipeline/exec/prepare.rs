//! The one way a pipeline file becomes a run: read it (size-capped), validate it against the
//! config, ask for the workspace's project list only when a step names its project by a title
//! the config does not know, and resolve the parameters into the run's header.
//!
//! `hexdash pipeline validate|export|run` and the dashboard's Pipelines screen all go through
//! here, so a file means the same everywhere. The project list comes through [`Workspace`],
//! which the layers above implement (the shared cache, or a context loaded only when needed).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use jiff::civil::Date;
use serde_json::Value;

use super::record::Header;
use super::resolve_params;
use crate::config::Config;
use crate::hex::types::Project;
use crate::pipeline::{self, Diagnostic, Pipeline, ProjectRef, Projects};

/// Whether a project list misses a step's project (so a cached list must be asked again).
pub type Lacks<'a> = &'a (dyn Fn(&[Project]) -> bool + Sync);

/// Where the workspace's projects come from when a step names its project by title.
pub trait Workspace {
    /// The workspace's projects, or why they cannot be had (shown to the person as a note).
    fn projects(
        &self,
        lacks: Lacks<'_>,
    ) -> impl Future<Output = Result<Vec<Project>, String>> + Send;
}

/// A pipeline file, read and validated.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub file: PathBuf,
    /// The file's text as validated (what a run records, so a later edit changes no run).
    pub text: String,
    pub pipeline: Pipeline,
    /// Why steps named by title were checked against the config only (no token, Hex could not
    /// list its projects); `None` when the list was used or not needed.
    pub config_only: Option<String>,
}

/// Why a file could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Read(pipeline::Error),
    /// The file does not validate; every diagnostic, errors and warnings, in file order.
    #[error("{} is not valid: {} error(s)", file.display(), errors(diagnostics))]
    Invalid {
        file: PathBuf,
        diagnostics: Vec<Diagnostic>,
    },
}

impl PrepareError {
    /// The problems one per line, `file:line:col: message (fix)`.
    pub fn lines(&self) -> Vec<String> {
        match self {
            PrepareError::Read(e) => vec![e.to_string()],
            PrepareError::Invalid { diagnostics, .. } => {
                diagnostics.iter().map(ToString::to_string).collect()
            }
        }
    }

    /// The first error alone (for a list row with room for one line).
    pub fn first_error(&self) -> String {
        match self {
            PrepareError::Read(e) => e.to_string(),
            PrepareError::Invalid { diagnostics, .. } => diagnostics
                .iter()
                .find(|d| d.is_error())
                .map_or_else(|| self.to_string(), ToString::to_string),
        }
    }

    /// The errors alone, on one line (for a message line with no room for a list).
    pub fn errors_on_one_line(&self) -> String {
        match self {
            PrepareError::Read(e) => e.to_string(),
            PrepareError::Invalid { diagnostics, .. } => diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

fn errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

/// Why a prepared pipeline cannot start.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartRefusal {
    /// A step's project is still only a title: Hex could not be asked (`why`), or it has no
    /// project by that title.
    #[error("{}", unchecked(step, project, why.as_deref()))]
    UncheckedProject {
        step: String,
        project: String,
        why: Option<String>,
    },
    /// A parameter is unknown, or one without a default has no value.
    #[error("{0}")]
    Params(String),
}

fn unchecked(step: &str, project: &str, why: Option<&str>) -> String {
    match why {
        Some(why) => format!(
            "step {step:?}: project {project:?} could not be checked against Hex's project list \
             ({why}), so it cannot be launched; run again when Hex can be reached, or name the \
             project by id or config alias"
        ),
        None => format!(
            "step {step:?}: no project in the workspace is titled {project:?}; fix the title, or \
             name the project by id or config alias"
        ),
    }
}

/// Reads and validates against the config alone: steps named by title stay titles (for lists
/// that must not spend requests, like the dashboard's definitions).
pub fn prepare_offline(file: &Path, config: &Config) -> Result<Prepared, PrepareError> {
    let text = pipeline::read_file(file).map_err(PrepareError::Read)?;
    let projects = Projects {
        config,
        workspace: None,
    };
    let why = pipeline::lacks_project(&text, file, &projects).then(|| NOT_ASKED.to_string());
    finish(file, text, config, None, why)
}

/// Why [`prepare_offline`] checked steps named by title against the config only.
pub const NOT_ASKED: &str = "the project list was not asked for";

/// Reads and validates, asking `workspace` for the project list only when a step names its
/// project by a title the config does not know (and a file whose steps all name aliases or ids
/// spends no request).
pub async fn prepare(
    file: &Path,
    config: &Config,
    workspace: &impl Workspace,
) -> Result<Prepared, PrepareError> {
    let text = pipeline::read_file(file).map_err(PrepareError::Read)?;
    let lacks = |list: Option<&[Project]>| {
        let projects = Projects {
            config,
            workspace: list,
        };
        pipeline::lacks_project(&text, file, &projects)
    };
    if !lacks(None) {
        return finish(file, text, config, None, None);
    }
    match workspace.projects(&|list| lacks(Some(list))).await {
        Ok(list) => finish(file, text, config, Some(&list), None),
        Err(why) => finish(file, text, config, None, Some(why)),
    }
}

fn finish(
    file: &Path,
    text: String,
    config: &Config,
    workspace: Option<&[Project]>,
    config_only: Option<String>,
) -> Result<Prepared, PrepareError> {
    let projects = Projects { config, workspace };
    match pipeline::validate(&text, file, &projects) {
        Ok(pipeline) => Ok(Prepared {
            file: file.to_path_buf(),
            text,
            pipeline,
            config_only,
        }),
        Err(diagnostics) => Err(PrepareError::Invalid {
            file: file.to_path_buf(),
            diagnostics,
        }),
    }
}

impl Prepared {
    /// The run's header on `profile`, its parameters resolved for `today` (given ones as
    /// given, the rest from their defaults). Refused while a step's project is only a title.
    pub fn start(
        self,
        given: IndexMap<String, Value>,
        profile: &str,
        today: Date,
    ) -> Result<(Arc<Pipeline>, Header), StartRefusal> {
        if let Some(step) = self
            .pipeline
            .steps
            .iter()
            .find(|s| matches!(s.project, ProjectRef::Title(_)))
        {
            return Err(StartRefusal::UncheckedProject {
                step: step.id.clone(),
                project: step.project_name.clone(),
                why: self.config_only.clone(),
            });
        }
        let params = resolve_params(&self.pipeline, given, today).map_err(StartRefusal::Params)?;
        let header = Header {
            name: self.pipeline.name.clone(),
            file: self.file,
            source: self.text,
            params,
            profile: profile.to_string(),
        };
        Ok((Arc::new(self.pipeline), header))
    }
}
