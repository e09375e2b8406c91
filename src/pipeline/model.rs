//! A validated pipeline: what the run state machine consumes. Steps are in a topological order,
//! projects resolved, durations parsed, parameter values typed or kept as checked templates.
//!
//! Owns the resolved types and the run-time meaning of defaults (`today`, `yesterday`). Must not
//! hold spans or do I/O; building one is `validate`'s job.

use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use jiff::civil::Date;
use serde_json::Value;

use super::diagnostic::Diagnostic;
use super::template::Template;
use crate::hex::ParamKind;

/// Without `max_parallel`, up to this many independent steps run at once. Launches still go
/// through the profile's launch budget, so a wide fan-out waits for the budget, not for this.
pub const DEFAULT_MAX_PARALLEL: usize = 4;
/// The most steps one pipeline may have. Validation, the state machine and the journal are
/// linear in the steps (BENCHMARKS.md: 10,000 steps validate in tens of milliseconds), so this
/// is not a performance cliff: it bounds what a runaway generator can ask for (a run of 50,000
/// steps takes days of Hex's launch budget) and the one part that is not linear, checking a
/// template reference to a step far upstream across a long chain.
pub const MAX_STEPS: usize = 50_000;
/// More retries than this is a loop, not resilience: the step is broken.
pub const MAX_RETRIES: u32 = 10;
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub name: String,
    pub description: Option<String>,
    /// The file it was read from, for messages and the journal.
    pub source: PathBuf,
    pub params: Vec<PipelineParam>,
    pub max_parallel: usize,
    /// Every step after all of its dependencies; among ready steps, file order.
    pub steps: Vec<Step>,
    /// Problems that do not stop the pipeline (e.g. a project title that could not be checked).
    pub warnings: Vec<Diagnostic>,
}

impl Pipeline {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn param(&self, name: &str) -> Option<&PipelineParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineParam {
    pub name: String,
    pub kind: ParamKind,
    pub options: Vec<String>,
    pub default: Option<ParamDefault>,
    pub description: Option<String>,
}

impl PipelineParam {
    /// As a parameter form or `-p` parser takes it. The default is left out: it is resolved per
    /// run (`today`), and a value not given is filled from it then.
    pub fn spec(&self) -> crate::hex::ParamSpec {
        crate::hex::ParamSpec {
            name: self.name.clone(),
            kind: self.kind,
            options: self.options.clone(),
            default: None,
            description: self.description.clone(),
            required: false,
        }
    }
}

/// A pipeline parameter's default. `today` and `yesterday` are resolved once, when a pipeline
/// run starts, from the local calendar date of the machine running hexdash; the resolved value
/// is recorded with the run, so a resumed or re-attached run keeps the date it started with.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamDefault {
    Value(Value),
    Today,
    Yesterday,
}

impl ParamDefault {
    /// The value for a run started on `today` (the caller's local date).
    pub fn resolve(&self, today: Date) -> Value {
        match self {
            ParamDefault::Value(v) => v.clone(),
            ParamDefault::Today => Value::String(today.to_string()),
            ParamDefault::Yesterday => Value::String(
                today
                    .yesterday()
                    .map_or_else(|_| today.to_string(), |d| d.to_string()),
            ),
        }
    }
}

/// The project a step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectRef {
    /// Known id: from config (alias or id), a project list, or a full UUID as written.
    Id(String),
    /// A title that could not be checked without the workspace's project list; the runner must
    /// resolve it (exact title) before launching.
    Title(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// Downstream steps are not launched; the pipeline fails once running steps end.
    #[default]
    Stop,
    /// Downstream steps run as if this one had succeeded; the pipeline still ends failed.
    Continue,
}

/// A step parameter's value, checked against the project's declared type.
#[derive(Debug, Clone, PartialEq)]
pub enum StepValue {
    /// Canonical JSON (dates as YYYY-MM-DD).
    Literal(Value),
    /// Rendered when the step launches. A whole-value `{{ ... }}` takes the referenced value as
    /// is; otherwise the result is text. `kind` is the project's declared type, if any, to check
    /// the rendered value against.
    Template {
        template: Template,
        kind: Option<ParamKind>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub project: ProjectRef,
    /// As written (the project field), for display.
    pub project_name: String,
    /// Direct dependencies, in the order written.
    pub depends_on: Vec<String>,
    pub params: IndexMap<String, StepValue>,
    pub timeout: Option<Duration>,
    pub kill_on_timeout: bool,
    /// Extra attempts after the first fails; each is a new run.
    pub retries: u32,
    pub retry_backoff: Duration,
    pub on_failure: OnFailure,
    /// None leaves Hex's default.
    pub use_cached_sql_results: Option<bool>,
    pub update_published_results: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_dates_resolve_against_the_given_day() {
        let day = Date::new(2026, 3, 1).unwrap();
        assert_eq!(ParamDefault::Today.resolve(day), "2026-03-01");
        assert_eq!(ParamDefault::Yesterday.resolve(day), "2026-02-28");
        assert_eq!(
            ParamDefault::Value(Value::from(3)).resolve(day),
            Value::from(3)
        );
    }
}
