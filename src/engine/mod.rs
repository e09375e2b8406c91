//! The run engine: launches exactly once, watches all active runs with one budgeted poll
//! scheduler, confirms cancels, re-attaches after restart, and emits run updates.
//!
//! So far it holds the pure parts: the poll scheduler, its interval policy, the `Tick` time type
//! they run on, and a deterministic simulation to measure them. Nothing here may import `tui`,
//! `headless` or `pipeline` (they sit above the engine).

pub mod poll_policy;
pub mod scheduler;
pub mod sim;
pub mod tick;

pub use poll_policy::PollPolicy;
pub use scheduler::{
    Applied, ErrorScope, Plan, Poll, RunKey, Scheduler, SchedulerConfig, WatchInfo,
};
pub use tick::Tick;
