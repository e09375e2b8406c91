//! Following one run until it ends (`run --wait`), through the engine: the run is polled by the
//! shared scheduler (focused, so fast), its timeout and kill-on-timeout are the engine's, and
//! every status change lands in the journal. Progress goes to stderr: a live line on a terminal,
//! one line per change otherwise. Transient API failures never end the wait; Ctrl-C, SIGTERM and
//! SIGHUP do, leaving the run going on in Hex and recorded as active for the next hexdash.

use std::io::{IsTerminal, Write};

use tokio::sync::broadcast::error::RecvError;

use crate::engine::{Change, Engine, RunKey, RunView, Update};

use crate::safe_text::escape_block;
use crate::signals;
use crate::time_text::duration_ms;

/// How a wait ended.
#[derive(Debug)]
pub struct Outcome {
    pub view: RunView,
    pub timed_out: bool,
    /// A cancel was sent because of the timeout.
    pub cancel_sent: bool,
    pub interrupted: bool,
}

/// Progress lines on stderr.
pub struct Progress {
    tty: bool,
    enabled: bool,
    label: String,
    last_line: Option<String>,
    last_warning: Option<String>,
}

impl Progress {
    pub fn new(label: String, enabled: bool) -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            enabled,
            label,
            last_line: None,
            last_warning: None,
        }
    }

    pub fn show(&mut self, view: &RunView) {
        if !self.enabled {
            return;
        }
        let status = view
            .status
            .as_ref()
            .map_or_else(|| "LAUNCHED".to_string(), ToString::to_string);
        let elapsed = view.elapsed_ms.map_or_else(|| "-".into(), duration_ms);
        let stale = if view.stale.is_some() { " (stale)" } else { "" };
        let line = format!(
            "{} {} {status} {elapsed}{stale}",
            self.label,
            view.key.short()
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{}", escape_block(&line));
            if !view.is_active() {
                let _ = writeln!(err);
            }
        } else if self.last_line.as_deref() != Some(line.as_str())
            && elapsed_free_change(self, &line)
        {
            let _ = writeln!(err, "{}", escape_block(&line));
        }
        let _ = err.flush();
        self.last_line = Some(line);
    }

    pub fn note(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{}", escape_block(text));
    }

    /// A warning shown once until a different one (or success) replaces it, so a flapping
    /// network does not flood a log.
    fn warn(&mut self, text: Option<&str>) {
        if text == self.last_warning.as_deref() {
            return;
        }
        self.last_warning = text.map(str::to_string);
        if let Some(t) = text {
            self.note(&format!("warning: {t}; still waiting"));
        }
    }
}

/// Off a terminal, print a line when the status (not just the elapsed time) changed.
fn elapsed_free_change(p: &Progress, line: &str) -> bool {
    let strip = |l: &str| -> String { l.rsplit_once(' ').map_or(l, |(a, _)| a).to_string() };
    p.last_line.as_deref().map(strip) != Some(strip(line))
}

/// Follows `key` until it ends, times out (as the engine judges it), or a signal arrives.
pub async fn follow(engine: &Engine, key: &RunKey, progress: &mut Progress) -> Option<Outcome> {
    engine.focus(key, true);
    let mut rx = engine.subscribe();
    let shutdown = signals::wait_for_shutdown();
    tokio::pin!(shutdown);
    let mut cancel_sent = false;
    let kill = engine
        .view(key)?
        .options
        .as_ref()
        .is_some_and(|o| o.kill_on_timeout);
    loop {
        let view = engine.view(key)?;
        progress.show(&view);
        let outcome = |view: RunView, cancel_sent| Outcome {
            timed_out: view.timed_out,
            view,
            cancel_sent,
            interrupted: false,
        };
        if !view.is_active() {
            return Some(outcome(view, cancel_sent));
        }
        if view.timed_out && !kill {
            progress.note("timed out; the run goes on in Hex (no --kill-on-timeout)");
            return Some(outcome(view, false));
        }
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(Update::Run { change, view }) if view.key == *key => match change {
                    Change::TimedOut if kill => {
                        cancel_sent = true;
                        progress.note("timed out; cancelling the run");
                    }
                    Change::CancelNotConfirmed => {
                        progress.note(&format!(
                            "cancel not confirmed: the run is still {}; re-send with: hexdash \
                             cancel {} {}",
                            view.status.as_ref().map_or_else(|| "active".into(), ToString::to_string),
                            key.project_id,
                            key.run_id
                        ));
                        return Some(outcome(*view, cancel_sent));
                    }
                    Change::Lost => {
                        progress.note(view.stale.as_deref().unwrap_or("Hex no longer knows the run"));
                        return Some(outcome(*view, cancel_sent));
                    }
                    // Nothing will end it from here: waiting on would never return (a server
                    // that refuses every request made `run --wait --kill-on-timeout` hang).
                    Change::KillFailed => {
                        progress.note(view.stale.as_deref().unwrap_or("the cancel failed"));
                        return Some(outcome(*view, false));
                    }
                    _ => {}
                },
                Ok(Update::Health(h)) => progress.warn(h.error.as_deref()),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return engine.view(key).map(|v| outcome(v, cancel_sent)),
            },
            () = &mut shutdown => {
                progress.note(&format!(
                    "stopped waiting; the run goes on in Hex (follow it with: hexdash watch, or \
                     hexdash status {} {})",
                    key.project_id, key.run_id
                ));
                return Some(Outcome {
                    view,
                    timed_out: false,
                    cancel_sent,
                    interrupted: true,
                });
            }
        }
    }
}
