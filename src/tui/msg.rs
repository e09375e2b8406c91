//! The dashboard's messages (what happened) and effects (what to do about it).
//!
//! `update` takes a [`Msg`] and returns [`Effect`]s; the app loop performs the effects (engine
//! calls, browser, clipboard, bell) and turns their results back into messages. Messages are
//! past tense or plain facts; effects are named for the I/O they do.

use crossterm::event::KeyEvent;
use jiff::Timestamp;

use super::model::ProjectRow;
use super::pipeline_data::{PipelineDef, PipelineRunView};
use crate::engine::{CancelSent, LaunchRequest, Launched, Overdue, RunKey, RunView, Update};
use crate::hex::BudgetSnapshot;
use crate::hex::types::InvalidParam;

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// Time passed (spinners, elapsed clocks, data ages).
    Tick(Timestamp),
    /// The terminal's size, at start and on every change (the mouse's hit tests need it).
    Resized {
        width: u16,
        height: u16,
    },
    /// A mouse event, with when it came (milliseconds on a monotonic clock) for double-clicks.
    Mouse {
        event: crossterm::event::MouseEvent,
        at_ms: u64,
    },
    ProjectsLoaded(Result<Vec<ProjectRow>, String>),
    /// From the engine's broadcast.
    Engine(Update),
    /// Runs known before this dashboard subscribed (journal history, re-attached runs).
    RunsKnown(Vec<RunView>),
    /// Ended runs read from the store for the runs list, a chunk at a time. Turned into rows
    /// here, on the loop's thread, so the reader's thread keeps none of their memory.
    HistoryRead(Vec<crate::journal::RunRecord>),
    /// A page of Hex's history of a project (newest first), or why it could not be read.
    ProjectHistory {
        project_id: String,
        /// The page's offset, as asked.
        offset: u32,
        result: Result<HistoryPage, String>,
    },
    /// Overdue flags, recomputed on ticks from the projects' duration statistics.
    OverdueChecked(Vec<(RunKey, Option<Overdue>)>),
    Budget(BudgetSnapshot),
    LaunchFinished {
        project_id: String,
        result: Result<Launched, LaunchFailure>,
    },
    BulkLaunchFinished {
        item: usize,
        result: Result<Launched, LaunchFailure>,
    },
    /// The operator's log, newest first, or why it could not be read.
    OperatorLog(Result<Vec<crate::journal::OperatorAction>, String>),
    CancelFinished {
        key: RunKey,
        result: Result<CancelSent, String>,
    },
    /// An effect with nothing to report but its failure (saving presets) failed.
    EffectFailed(String),
    /// Hex's newest run of a project (GetProjectRuns, limit 1), or why it is not known.
    LastRunFetched {
        project_id: String,
        result: Result<Option<super::model::LastRun>, String>,
    },
    /// Pipeline definitions read from the config dir (with names only the journal knows).
    PipelinesLoaded(Result<Vec<PipelineDef>, String>),
    /// This profile's pipeline runs, read again from the journal.
    PipelineRunsLoaded(Vec<PipelineRunView>),
    /// A pipeline run started from the form (its id), or why not.
    PipelineStarted(Result<String, String>),
    /// A resume (`R`) is being driven, or why not.
    PipelineResumed {
        id: String,
        result: Result<(), String>,
    },
    /// The browser could not be opened: show the URL instead.
    OpenFailed {
        url: String,
        error: String,
    },
}

/// Why a launch from the form did not happen.
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchFailure {
    /// Hex's 422: shown at the fields it names.
    Rejected {
        message: String,
        invalid: Vec<InvalidParam>,
        not_found: Vec<String>,
    },
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The project list: the shared cache's at once, then Hex's when that is stale or missing.
    FetchProjects,
    /// The project list from Hex, whatever the cache holds (the explicit refresh).
    RefreshProjects,
    /// The project list again in the background: the cache's while fresh, else Hex's unless
    /// this process is walking it already or walked it within the TTL.
    RelistProjects,
    /// Ask Hex for one project's newest run.
    FetchLastRun(String),
    /// Ask Hex for a page of a project's run history (every trigger), from `offset` runs back,
    /// for `enter` on a project and then as the cursor reaches the end of what was read.
    FetchProjectHistory {
        project_id: String,
        offset: u32,
    },
    Launch(LaunchRequest),
    /// A launch of a bulk rerun: its answer comes back as `BulkLaunchFinished` with the item's
    /// place in the bulk action, so it is never taken for another launch of the project.
    BulkLaunch {
        item: usize,
        request: LaunchRequest,
    },
    Cancel(RunKey),
    /// Read the operator's log (`:log`) from the store.
    LoadOperatorLog,
    /// Poll this run fast while it is on screen.
    Focus(RunKey, bool),
    /// Discovery lists this project often while it is under the cursor.
    FocusProject(Option<String>),
    /// Discovery lists these projects often: the ones pinned on the projects screen.
    PinProjects(Vec<String>),
    OpenUrl(String),
    /// Put text on the clipboard (OSC 52, works over SSH).
    Copy(String),
    /// Bell, and OSC 9 where supported, for a run that ended.
    Notify(String),
    /// Write the presets file.
    SavePresets(super::presets::Presets),
    /// Read the pipeline definitions and runs.
    LoadPipelines,
    /// Read the pipeline runs again (cheap: only changed runs are rebuilt).
    LoadPipelineRuns,
    /// Start the pipeline in `file` (read and validated again) with these parameter values.
    StartPipeline {
        file: std::path::PathBuf,
        params: indexmap::IndexMap<String, serde_json::Value>,
    },
    /// Ask whoever drives this pipeline run to cancel it.
    CancelPipeline(String),
    /// Resume an ended pipeline run from its failed steps.
    ResumePipeline(String),
    /// `:profile NAME`: restart the dashboard on another profile.
    SwitchProfile(String),
}

/// One page of a project's history from Hex.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryPage {
    pub runs: Vec<crate::hex::types::RunStatusResponse>,
    /// Hex has older runs past this page.
    pub more: bool,
}
