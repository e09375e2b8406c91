//! The journal: hexdash's durable record of every launch, status change, cancel and pipeline
//! step, so nothing hexdash launched is forgotten or launched twice, even after SIGKILL; shared
//! by every hexdash process on the data dir.
//!
//! Owns the SQLite store in the data dir (`hexdash.db`: an append-only event log plus what reads
//! need), the one-time import of the old `journal.jsonl`, and the pure fold from events to
//! [`JournalState`]. It must not talk to Hex, decide when to launch or poll (the engine does,
//! writing here first), or ever see the API token: no event has a field for it.
//!
//! Pieces: `event` (the event format), `schema` (tables, migrations), `store` (open, record,
//! catch up with other processes, heartbeats, poll claims), `import` and `scan` (the old JSON-lines
//! journal, tolerant of damage), `process` (who this process is), `replay` (events to state),
//! `working` (the part of the store a running process folds) and `recent` (`history`'s part).

mod error;
mod event;
mod import;
mod process;
pub mod project_cache;
mod recent;
mod replay;
mod scan;
mod schema;
mod store;
#[cfg(test)]
mod testing;
mod working;

pub use error::Error;
pub use event::{
    Envelope, Event, FORMAT_VERSION, LaunchIntent, LaunchOptions, Origin, StatusChange,
};
pub use import::LEGACY_FILE_NAME;
pub use process::Launcher;
pub use project_cache::{CachedProjects, ProjectCache, Scope as CacheScope};
pub use recent::load_recent;
pub use replay::{
    CancelState, EndedLaunch, JournalState, LastLaunch, LaunchEnd, PendingLaunch, PipelineEntry,
    RunDuration, RunKey, RunRecord, UnknownOutcome,
};
pub use store::{
    ActionKind, Journal, Loaded, Opened, OperatorAction, Recorded, Replayed, UsualTime, load,
    load_state,
};
pub use working::RECENT_COMPLETED;

/// The `kind` of the pipeline entry that ends a pipeline run (until it is resumed).
pub const PIPELINE_FINISHED: &str = "finished";

/// The `kind` of the pipeline entry that cancels a pipeline run: from it on, no launch intent of
/// the run is recorded (until a `resume` entry starts a new round).
pub const PIPELINE_CANCEL: &str = "cancel";
/// The `kind` of the pipeline entry that starts a new round of an ended pipeline run.
pub const PIPELINE_RESUME: &str = "resume";

/// The store's file name inside the data dir.
pub const FILE_NAME: &str = "hexdash.db";
