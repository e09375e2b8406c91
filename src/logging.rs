//! Logs go to a file in the data dir (`logs/hexdash.log`), never to the terminal, because the
//! dashboard owns the screen. `HEXDASH_LOG` takes a tracing filter; `-v` raises the default level.
//! The API token is never logged: no code path formats it.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;
use crate::config::{Paths, ProcessEnv};

const LOG_QUEUE_LINES: usize = 4096;

/// Starts file logging. Returns the guard that flushes the log on drop, or `None` when the log
/// file cannot be opened (hexdash then runs without a log rather than failing).
pub fn init(cli: &Cli) -> Option<WorkerGuard> {
    let paths = Paths::resolve(cli.config.as_deref(), &ProcessEnv).ok()?;
    let dir = paths.log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "hexdash.log");
    // The default queue (128,000 lines) is allocated up front: 4 MB for a log that writes a few
    // lines a minute. A burst beyond this many lines drops lines rather than block the UI.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .lossy(true)
        .finish(appender);
    let default = match cli.verbose {
        0 => "hexdash=info",
        1 => "hexdash=debug",
        _ => "hexdash=trace,reqwest=debug",
    };
    let filter = std::env::var("HEXDASH_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(guard)
}
