//! Logs go to a file in the data dir (`logs/hexdash.log`, private to the user), and with `-v` also
//! to stderr for headless commands; never to the terminal while the dashboard owns the screen.
//! `HEXDASH_LOG` takes a tracing filter; `-v` raises the default level. Every line is written
//! with control characters escaped (a run id or error body from a hostile server must not drive
//! the terminal of whoever runs `tail -f` on the log). The API token is never logged: no code
//! path formats it.

use std::io::{self, Write};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::{Cli, Command};
use crate::config::{Paths, ProcessEnv};
use crate::safe_text::escape_block;

const LOG_QUEUE_LINES: usize = 4096;
const LOG_FILE: &str = "hexdash.log";

/// Starts logging. Returns the guard that flushes the log file on drop, or `None` when the log
/// file cannot be opened (hexdash then runs without a file log rather than failing).
pub fn init(cli: &Cli) -> Option<WorkerGuard> {
    let default = match cli.verbose {
        0 => "hexdash=info",
        1 => "hexdash=debug",
        _ => "hexdash=trace,reqwest=debug",
    };
    let filter = || {
        std::env::var("HEXDASH_LOG")
            .ok()
            .and_then(|f| EnvFilter::try_new(f).ok())
            .unwrap_or_else(|| EnvFilter::new(default))
    };
    let (file_layer, guard) = match open_file(cli) {
        Some((writer, guard)) => {
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(Escaping(writer))
                .with_ansi(false)
                .with_filter(filter());
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    let stderr_layer = (cli.verbose > 0 && is_headless(cli)).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(Escaping(io::stderr))
            .with_ansi(false)
            .with_filter(filter())
    });
    tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init()
        .ok()?;
    guard
}

/// The dashboard (no command, or `demo` without one) owns the terminal: no log lines there.
fn is_headless(cli: &Cli) -> bool {
    match &cli.command {
        None => false,
        Some(Command::Demo(demo)) => demo.command.is_some(),
        Some(_) => true,
    }
}

fn open_file(cli: &Cli) -> Option<(tracing_appender::non_blocking::NonBlocking, WorkerGuard)> {
    let paths = Paths::resolve(cli.config.as_deref(), &ProcessEnv).ok()?;
    let dir = paths.log_dir();
    crate::files::create_private_dir_all(&dir).ok()?;
    // Created here, 0600, before the appender opens it for appending (which would create it
    // with the umask's mode, usually readable by everyone).
    crate::files::private_file_options()
        .append(true)
        .create(true)
        .open(dir.join(LOG_FILE))
        .ok()?;
    crate::files::make_private(&dir.join(LOG_FILE));
    let appender = tracing_appender::rolling::never(&dir, LOG_FILE);
    // The default queue (128,000 lines) is allocated up front: 4 MB for a log that writes a few
    // lines a minute. A burst beyond this many lines drops lines rather than block the UI.
    Some(
        tracing_appender::non_blocking::NonBlockingBuilder::default()
            .buffered_lines_limit(LOG_QUEUE_LINES)
            .lossy(true)
            .finish(appender),
    )
}

/// A writer factory whose writers escape control characters. tracing's fmt layer formats a
/// whole event into one buffer and writes it at once, so each `write` holds complete lines.
struct Escaping<M>(M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Escaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter(self.0.make_writer())
    }
}

struct EscapingWriter<W>(W);

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(escape_block(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_written_with_controls_escaped() {
        let mut out = EscapingWriter(Vec::new());
        out.write_all(b"run \x1b]0;owned\x07 ended\n").unwrap();
        assert_eq!(
            String::from_utf8(out.0).unwrap(),
            "run \\x1b]0;owned\\x07 ended\n"
        );
    }
}
