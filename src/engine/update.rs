//! What the engine tells its subscribers: one [`Update`] per thing that changed, each carrying
//! a full [`RunView`] of the run after the change, so a subscriber can replace its row without
//! keeping its own state machine.
//!
//! Owns the vocabulary only; the engine's tasks build and broadcast these. Every view carries
//! `observed_at` (when Hex last told us the status) so UIs can show how old the data is, and
//! `stale` with the reason when the last poll failed.

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::scheduler::RunKey;
use crate::hex::RunStatus;
use crate::hex::types::{ProjectVersion, RunStatusResponse};
use crate::journal::{CancelState, LaunchOptions, Launcher, Origin, RunRecord};

/// Everything the engine knows about one run, as of an update.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub key: RunKey,
    pub project_title: Option<String>,
    /// hexdash's launch id, when this hexdash (or an earlier one) launched it.
    pub launch_id: Option<String>,
    pub origin: Option<Origin>,
    /// The hexdash process that launched it (pid, user, host), when one did.
    /// Boxed: most rows have none, and every row of a long history carries the field.
    pub launched_by: Option<Box<Launcher>>,
    pub params: Option<IndexMap<String, Value>>,
    pub options: Option<LaunchOptions>,
    pub run_url: Option<String>,
    pub trace_id: Option<String>,
    pub project_version: Option<ProjectVersion>,
    /// `None` until the first status is known.
    pub status: Option<RunStatus>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub elapsed_ms: Option<f64>,
    /// When the status above was received from Hex.
    pub observed_at: Option<Timestamp>,
    /// When hexdash launched it, or first heard of it.
    pub first_seen: Timestamp,
    /// Why the data may be out of date (the last poll of this run failed), if it may be.
    pub stale: Option<String>,
    pub cancel: CancelState,
    /// Each distinct status in the order observed.
    pub timeline: Vec<(RunStatus, Timestamp)>,
    /// A `--timeout` (or form timeout) passed while the run was still active.
    pub timed_out: bool,
    /// Found again by reconciling a launch whose answer was lost.
    pub adopted: bool,
}

impl RunView {
    pub fn is_active(&self) -> bool {
        self.status.as_ref().is_none_or(RunStatus::is_active)
    }

    /// Folds in one answer from Hex. Returns whether the status changed.
    pub(crate) fn absorb(&mut self, run: &RunStatusResponse, observed_at: Timestamp) -> bool {
        let changed = self.status.as_ref() != Some(&run.status);
        if changed {
            self.timeline.push((run.status.clone(), observed_at));
        }
        self.status = Some(run.status.clone());
        self.start_time = run.start_time.or(self.start_time);
        self.end_time = run.end_time.or(self.end_time);
        self.elapsed_ms = run.elapsed_time.or(self.elapsed_ms);
        if run.run_url.is_some() {
            self.run_url.clone_from(&run.run_url);
        }
        if run.project_version.is_some() {
            self.project_version.clone_from(&run.project_version);
        }
        self.observed_at = Some(observed_at);
        self.stale = None;
        changed
    }
}

impl RunView {
    /// A run of which nothing is known yet but its key and when hexdash first heard of it.
    pub fn new(key: RunKey, first_seen: Timestamp) -> RunView {
        RunView {
            key,
            project_title: None,
            launch_id: None,
            origin: None,
            launched_by: None,
            params: None,
            options: None,
            run_url: None,
            trace_id: None,
            project_version: None,
            status: None,
            start_time: None,
            end_time: None,
            elapsed_ms: None,
            observed_at: None,
            first_seen,
            stale: None,
            cancel: CancelState::None,
            timeline: Vec::new(),
            timed_out: false,
            adopted: false,
        }
    }

    /// A run as Hex listed it, for one no hexdash launched or recorded (a project's history
    /// from Hex): its origin is Hex's trigger, its parameters unknown.
    pub fn listed(run: &RunStatusResponse, observed_at: Timestamp) -> RunView {
        let first_seen = run.start_time.or(run.end_time).unwrap_or(observed_at);
        let mut view = RunView {
            origin: Some(Origin::found(run.run_trigger.as_deref(), None)),
            trace_id: run.trace_id.clone(),
            ..RunView::new(RunKey::new(&run.project_id, &run.run_id), first_seen)
        };
        view.absorb(run, observed_at);
        view
    }
}

/// A run's view as the journal has it (no poll of this session yet).
impl From<&RunRecord> for RunView {
    fn from(record: &RunRecord) -> RunView {
        RunView {
            key: RunKey::new(&record.project_id, &record.run_id),
            project_title: record.project_title().map(str::to_string),
            launch_id: record.launch_id.clone(),
            origin: record.origin().cloned(),
            launched_by: record
                .intent
                .as_ref()
                .and_then(|i| i.launched_by.clone().map(Box::new)),
            params: record.params().cloned(),
            options: record.intent.as_ref().map(|i| i.options.clone()),
            run_url: record.run_url.clone(),
            trace_id: record.trace_id.clone(),
            project_version: record.project_version.clone(),
            status: record.status.clone(),
            start_time: record.start_time,
            end_time: record.end_time,
            elapsed_ms: record.elapsed_ms,
            observed_at: record.observed_at,
            first_seen: record.first_at,
            stale: None,
            cancel: record.cancel.clone(),
            timeline: record.timeline.clone(),
            timed_out: false,
            adopted: record.adopted,
        }
    }
}

/// What happened to a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The engine started following it (launched, adopted, re-attached or asked to watch).
    Watching,
    /// Hex reported a different status.
    Status,
    /// Hex reported the same status again (the data is fresher, nothing else changed).
    Refreshed,
    /// A poll covering it failed; the last good data stays, marked stale.
    Stale,
    /// Its timeout passed while it was still active.
    TimedOut,
    CancelRequested,
    /// Hex reported a terminal status after a cancel.
    CancelConfirmed,
    /// The cancel deadline passed with the run still active; the caller may re-send.
    CancelNotConfirmed,
    /// A kill on timeout could not be sent (the reason is the view's `stale`); the run goes on
    /// in Hex and nothing here will kill it. Whoever waits for its end must stop waiting.
    KillFailed,
    /// Hex reported a terminal status; the engine no longer polls it.
    Ended,
    /// Hex no longer knows the run (404 several times in a row); the engine stopped polling it.
    Lost,
}

/// Something about a launch that has no run (yet), e.g. found unresolved in the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchNotice {
    pub launch_id: String,
    pub project_id: String,
    pub message: String,
}

/// How polling as a whole is doing, for a status bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    /// The last poll that got an answer.
    pub last_success: Option<Timestamp>,
    /// The last failure, while polls keep failing; `None` once one succeeds again.
    pub error: Option<String>,
    /// Set while a 429 pause holds all polling.
    pub paused_until: Option<Timestamp>,
    /// How fresh the workspace view is, while the engine discovers runs (the dashboard).
    pub workspace: Option<WorkspaceView>,
}

/// How much of the workspace discovery has listed, and how long ago the stalest listing was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkspaceView {
    pub projects: usize,
    /// Projects listed at least once.
    pub swept: usize,
    /// The oldest listing, once every project has had one.
    pub oldest_sweep: Option<Timestamp>,
    /// Listings had runs but never said who started them: this Hex may list API runs only
    /// (`hex::types::says_triggers`).
    pub api_runs_only: bool,
}

/// One message to subscribers.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    Run {
        change: Change,
        view: Box<RunView>,
    },
    Launch(LaunchNotice),
    Health(Health),
    /// Discovery listed a project: its newest run, for a projects list's LAST RUN column.
    Listed {
        project_id: String,
        newest: Option<Box<ListedRun>>,
    },
}

/// The newest run in a project's listing.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRun {
    pub run_id: String,
    pub status: RunStatus,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// Hex's `elapsedTime`, in milliseconds.
    pub elapsed_ms: Option<f64>,
}
