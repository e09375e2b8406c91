//! What the Pipelines screens show, as plain data: the definitions found in the config dir and
//! the pipeline runs rebuilt from the journal.
//!
//! Built off the loop by [`super::pipeline_catalog`] (files and journal), read by the views, kept
//! in the [`Model`](super::model::Model). Holds no handles, so tests build it by hand.

use std::path::PathBuf;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::Value;

use crate::hex::ParamSpec;
use crate::pipeline::machine::{Attempt, PipelineStatus, StepStatus};

/// One pipeline the list shows: a definition file, or a name only the journal knows (a run
/// started with `--file` from elsewhere).
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineDef {
    pub name: String,
    /// Where `r` reads the definition from (read again at launch, so an edit counts).
    pub file: Option<PathBuf>,
    pub description: Option<String>,
    pub steps: usize,
    /// The pipeline's parameters, as the launch form takes them.
    pub specs: Vec<ParamSpec>,
    /// Their defaults, resolved for today, to prefill the form.
    pub defaults: IndexMap<String, Value>,
    /// Why the file does not validate (its first error); it cannot be launched until fixed.
    pub problem: Option<String>,
}

/// One pipeline run, as the journal tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineRunView {
    pub id: String,
    pub name: String,
    /// The definition file it was started from.
    pub file: PathBuf,
    pub params: IndexMap<String, Value>,
    pub status: PipelineStatus,
    pub started_at: Timestamp,
    /// When it ended (its last journal entry), while [`PipelineStatus::is_ended`].
    pub ended_at: Option<Timestamp>,
    /// In the definition's order (a valid order to run them in).
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub id: String,
    /// The project as the definition names it (alias, id or title).
    pub project: String,
    pub depends_on: Vec<String>,
    pub status: StepStatus,
    /// Every attempt, oldest first, across retries and resumes.
    pub attempts: Vec<Attempt>,
    /// Retries allowed per round.
    pub retries: u32,
}

impl StepView {
    /// The run of the newest attempt that made one.
    pub fn last_run_id(&self) -> Option<&str> {
        self.attempts.iter().rev().find_map(|a| a.run_id.as_deref())
    }
}

impl PipelineRunView {
    /// Seconds from start to end, or to `now` while it goes on.
    pub fn duration_secs(&self, now: Timestamp) -> u64 {
        let end = self.ended_at.unwrap_or(now);
        u64::try_from(end.duration_since(self.started_at).as_secs()).unwrap_or(0)
    }

    /// Steps that succeeded, of all steps.
    pub fn progress(&self) -> (usize, usize) {
        let done = self
            .steps
            .iter()
            .filter(|s| s.status.is_succeeded())
            .count();
        (done, self.steps.len())
    }

    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}
