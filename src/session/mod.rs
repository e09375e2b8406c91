//! What the headless commands and the dashboard both stand on: a loaded profile with its
//! client ([`Context`]), the way a command ends ([`Exit`], [`Failure`]), the workspace's project
//! list through the shared cache ([`ProjectList`]), and the offline loading of paths and config
//! for commands that only read the store.
//!
//! Sits above the engine and pipelines and below `headless` and `tui`, which never import each
//! other; the app shell (`crate::app`) above them all picks which one runs.

mod context;
mod exit;
mod project_list;

pub use context::{Context, Surface, shared_client};
pub use exit::{Exit, Failure};
pub use project_list::{Kept, ProjectList};

use crate::cli::Cli;
use crate::config::{Config, Paths, ProcessEnv};

/// The paths and the config, without a profile or a token: for commands that only read the
/// store (history, log, pipeline list and status).
pub fn offline(cli: &Cli) -> Result<(Paths, Config), Failure> {
    Ok(Config::for_cli(cli, &ProcessEnv)?)
}
