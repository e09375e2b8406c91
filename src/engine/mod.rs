//! The run engine: launches exactly once, watches all active runs with one budgeted poll
//! scheduler, confirms cancels, re-attaches after restart, and emits run updates.
//!
//! Pure parts: the poll scheduler, its interval policy, the `Tick` time type, duration
//! statistics, workspace discovery's planner, and deterministic simulations to measure them
//! (debug builds and the `sim` feature only: `cargo bench --features sim`).
//! Async parts: the handle callers use ([`Engine`]), the request driver (polls and sweeps),
//! launches with reconciliation, and cancels. Nothing here may
//! import `tui`, `headless` or `pipeline` (they sit above the engine).

mod cancel;
pub mod discovery;
// Measuring tools (BENCHMARKS.md), not part of hexdash: out of release builds unless asked for.
#[cfg(any(debug_assertions, feature = "sim"))]
pub mod discovery_sim;
mod driver;
mod failpoint;
mod handle;
mod launch;
pub mod poll_policy;
pub mod scheduler;
mod shared;
#[cfg(any(debug_assertions, feature = "sim"))]
pub mod sim;
mod state;
pub mod stats;
mod sync;
pub mod tick;
mod update;

pub use cancel::{CancelError, CancelSent};
pub use handle::{Engine, PipelineRecordError, StartError, Started, WatchError};
pub use launch::{DuplicatePolicy, LaunchError, LaunchRequest, Launched};
pub use poll_policy::PollPolicy;
pub use scheduler::{
    Applied, ErrorScope, Plan, Poll, RunKey, Scheduler, SchedulerConfig, WatchInfo,
};
pub use shared::EngineOptions;
pub use state::WorkspaceProject;
pub use stats::{DurationStats, Overdue};
pub use tick::Tick;
pub use update::{Change, Health, LaunchNotice, ListedRun, RunView, Update, WorkspaceView};
