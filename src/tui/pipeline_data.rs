//! What the Pipelines screens show, as plain data: the definitions found in the config dir and
//! the pipeline runs rebuilt from the journal.
//!
//! Built off the loop by [`super::pipeline_catalog`] (files and journal), read by the views, kept
//! in the [`Model`](super::model::Model). Holds no handles, so tests build it by hand.

use std::collections::HashSet;
use std::path::PathBuf;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::Value;

use super::cursor::Cursor;
use super::model::Load;
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

impl PipelineDef {
    /// What the list's cursor keeps: the name and the file, since two files may (wrongly)
    /// define the same name.
    pub fn id(&self) -> DefId {
        (self.name.clone(), self.file.clone())
    }
}

/// A definition's identity on the list.
pub type DefId = (String, Option<PathBuf>);

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

/// The Pipelines screens' state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelinesState {
    /// Definitions, read when the screen first opens and again on its key.
    pub defs: Load<Vec<PipelineDef>>,
    /// This profile's pipeline runs, oldest first; `None` until first read.
    pub runs: Option<Vec<PipelineRunView>>,
    /// The definition under the cursor on the list.
    pub cursor: Cursor<DefId>,
    /// The pipeline run the run view shows.
    pub open: Option<String>,
    /// The step under the cursor in the run view, by step id.
    pub step: Cursor<String>,
    /// A start from the form is in flight.
    pub starting: bool,
    /// Runs started or resumed from this dashboard: a bell when they end.
    pub session: HashSet<String>,
}

impl PipelinesState {
    pub fn rows(&self) -> &[PipelineDef] {
        self.defs.data().map_or(&[], Vec::as_slice)
    }

    /// The position of the definition under the cursor: the row drawn with it.
    pub fn selected_index(&self) -> Option<usize> {
        let ids: Vec<DefId> = self.rows().iter().map(PipelineDef::id).collect();
        let ids: Vec<&DefId> = ids.iter().collect();
        self.cursor.pick(&ids, "")
    }

    /// The definition under the cursor: the one keys act on.
    pub fn selected(&self) -> Option<&PipelineDef> {
        self.rows().get(self.selected_index()?)
    }

    /// The position of the open run's step under the cursor.
    pub fn selected_step_index(&self) -> Option<usize> {
        let run = self.open_run()?;
        let ids: Vec<&String> = run.steps.iter().map(|s| &s.id).collect();
        self.step.pick(&ids, "")
    }

    /// The open run's step under the cursor: the one keys act on.
    pub fn selected_step(&self) -> Option<&StepView> {
        self.open_run()?.steps.get(self.selected_step_index()?)
    }

    /// Runs of the pipeline called `name`, newest first.
    pub fn runs_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PipelineRunView> {
        self.runs
            .iter()
            .flatten()
            .rev()
            .filter(move |r| r.name == name)
    }

    pub fn run(&self, id: &str) -> Option<&PipelineRunView> {
        self.runs.iter().flatten().find(|r| r.id == id)
    }

    /// The run the run view shows.
    pub fn open_run(&self) -> Option<&PipelineRunView> {
        self.run(self.open.as_deref()?)
    }

    /// Whether what the screens show can still change: a run goes on, a start is in flight, or
    /// the open run has not been read yet. Runs are read again on each tick while true.
    pub fn live(&self) -> bool {
        let Some(runs) = &self.runs else {
            return true;
        };
        self.starting
            || runs.iter().any(|r| !r.status.is_ended())
            || self.open.as_ref().is_some_and(|id| self.run(id).is_none())
    }
}
