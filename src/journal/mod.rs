//! The journal: hexdash's durable local record of every launch, status change, cancel and
//! pipeline step, so nothing hexdash launched is forgotten or launched twice, even after SIGKILL.
//!
//! Owns the append-only JSON-lines file in the data dir (`journal.jsonl`), its single-writer lock,
//! its compaction, and the pure fold from events to [`JournalState`]. It must not talk to Hex,
//! decide when to launch or poll (the engine does, writing here first), or ever see the API token:
//! no event has a field for it.
//!
//! Pieces: `event` (the line format), `scan` (bytes to events, tolerant of damage), `lock` (one
//! writer), `file` (open, append, load, compact I/O), `compact` (what compaction keeps), `replay`
//! (events to state).

mod compact;
mod error;
mod event;
mod file;
mod lock;
pub mod project_cache;
mod replay;
mod scan;
#[cfg(test)]
mod testing;

pub use compact::CompactPolicy;
pub use error::Error;
pub use event::{
    Envelope, Event, FORMAT_VERSION, LaunchIntent, LaunchOptions, Origin, StatusChange,
};
pub use file::{CompactReport, Journal, Loaded, Opened, Replayed, load, load_state};
pub use lock::LockHolder;
pub use project_cache::{CachedProjects, ProjectCache, Scope as CacheScope};
pub use replay::{
    CancelState, EndedLaunch, JournalState, LastLaunch, LaunchEnd, PendingLaunch, PipelineEntry,
    RunDuration, RunKey, RunRecord, UnknownOutcome,
};

/// The `kind` of the pipeline entry that ends a pipeline run (until it is resumed). The one
/// pipeline kind the journal reads: compaction never drops a pipeline run that lacks it.
pub const PIPELINE_FINISHED: &str = "finished";

/// The `kind` of the pipeline entry that cancels a pipeline run: from it on, no launch intent of
/// the run is recorded (until a `resume` entry starts a new round).
pub const PIPELINE_CANCEL: &str = "cancel";
/// The `kind` of the pipeline entry that starts a new round of an ended pipeline run.
pub const PIPELINE_RESUME: &str = "resume";

/// The journal's file name inside the data dir.
pub const FILE_NAME: &str = "journal.jsonl";
