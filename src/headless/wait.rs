//! Following one run until it ends (`run --wait`): polls within the shared budget, shows progress
//! (a live line on a terminal, one line per change otherwise), and applies `--timeout` and
//! `--kill-on-timeout` the way Hex's Airflow provider does. Transient API failures never end
//! the wait: hexdash keeps the run it launched in sight.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use tokio::time::Instant;

use crate::hex::types::RunStatusResponse;
use crate::hex::{Client, Error, RunStatus};

use super::exit::Failure;
use super::output::{duration_ms, short_id};

/// How long after a cancel hexdash waits for Hex to report the run dead.
const CANCEL_DEADLINE: Duration = Duration::from_secs(60);

/// How a wait ended.
#[derive(Debug)]
pub struct Outcome {
    pub last: RunStatusResponse,
    pub timed_out: bool,
    /// A cancel was sent because of the timeout.
    pub cancel_sent: bool,
    pub interrupted: bool,
}

/// Polls fast while a run is young, slower as it ages; never slower than 5 s so the end is seen
/// promptly.
pub fn poll_interval(age: Duration) -> Duration {
    match age.as_secs() {
        0..10 => Duration::from_secs(1),
        10..60 => Duration::from_secs(2),
        60..300 => Duration::from_secs(3),
        _ => Duration::from_secs(5),
    }
}

/// Progress lines on stderr.
pub struct Progress {
    tty: bool,
    enabled: bool,
    label: String,
    last_status: Option<RunStatus>,
}

impl Progress {
    pub fn new(label: String, enabled: bool) -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            enabled,
            label,
            last_status: None,
        }
    }

    pub fn show(&mut self, run: &RunStatusResponse) {
        if !self.enabled {
            return;
        }
        let changed = self.last_status.as_ref() != Some(&run.status);
        let elapsed = run
            .elapsed_time
            .map(duration_ms)
            .unwrap_or_else(|| "-".into());
        let line = format!(
            "{} {} {} {}",
            self.label,
            short_id(&run.run_id),
            run.status,
            elapsed
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if run.status.is_terminal() {
                let _ = writeln!(err);
            }
        } else if changed {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.last_status = Some(run.status.clone());
    }

    pub fn note(&mut self, text: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{text}");
    }
}

/// Polls `run_id` until it is terminal, the timeout passes, or Ctrl-C.
pub async fn follow(
    client: &Client,
    project_id: &str,
    run_id: &str,
    timeout: Option<Duration>,
    kill_on_timeout: bool,
    progress: &mut Progress,
) -> Result<Outcome, Failure> {
    let poller = client.for_polling();
    let started = Instant::now();
    let deadline = timeout.map(|t| started + t);
    let mut last: Option<RunStatusResponse> = None;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        match poller.get_run_status(project_id, run_id).await {
            Ok(run) => {
                progress.show(&run);
                let done = run.status.is_terminal();
                last = Some(run);
                if done {
                    break;
                }
            }
            Err(e) if e.is_refusal() => return Err(e.into()),
            Err(e) => progress.note(&format!("warning: {e}; still waiting")),
        }
        let now = Instant::now();
        if let Some(d) = deadline
            && now >= d
        {
            return timed_out(client, project_id, run_id, last, kill_on_timeout, progress).await;
        }
        let mut wake = now + poll_interval(now - started);
        if let Some(d) = deadline {
            wake = wake.min(d);
        }
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = &mut ctrl_c => {
                progress.note(&format!(
                    "stopped waiting; the run goes on in Hex (follow it with: hexdash status {project_id} {run_id})"
                ));
                return match last {
                    Some(last) => Ok(Outcome { last, timed_out: false, cancel_sent: false, interrupted: true }),
                    None => Err(Failure { exit: super::Exit::Interrupted, message: "interrupted".into() }),
                };
            }
        }
    }
    match last {
        Some(last) => Ok(Outcome {
            last,
            timed_out: false,
            cancel_sent: false,
            interrupted: false,
        }),
        None => Err(Failure::api("no status was ever read for the run")),
    }
}

async fn timed_out(
    client: &Client,
    project_id: &str,
    run_id: &str,
    last: Option<RunStatusResponse>,
    kill: bool,
    progress: &mut Progress,
) -> Result<Outcome, Failure> {
    if !kill {
        progress.note("timed out; the run goes on in Hex (no --kill-on-timeout)");
        let last = last.ok_or_else(|| Failure::api("timed out before any status was read"))?;
        return Ok(Outcome {
            last,
            timed_out: true,
            cancel_sent: false,
            interrupted: false,
        });
    }
    progress.note("timed out; cancelling the run");
    if let Err(e) = client.cancel_run(project_id, run_id).await {
        // An ended run answers 422: it finished between the last poll and the cancel.
        if !matches!(e, Error::Unprocessable { .. }) {
            return Err(Failure::api(format!(
                "timed out, and the cancel failed: {e}; cancel it with: hexdash cancel {project_id} {run_id}"
            )));
        }
    }
    // Cancel until dead: a cancel is only done when Hex reports a terminal state.
    let deadline = Instant::now() + CANCEL_DEADLINE;
    let mut latest = last;
    while Instant::now() < deadline {
        match client.get_run_status(project_id, run_id).await {
            Ok(run) => {
                progress.show(&run);
                let done = run.status.is_terminal();
                latest = Some(run);
                if done {
                    break;
                }
            }
            Err(e) if e.is_refusal() => return Err(e.into()),
            Err(e) => progress.note(&format!("warning: {e}")),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let last = latest.ok_or_else(|| Failure::api("timed out before any status was read"))?;
    if !last.status.is_terminal() {
        progress.note(&format!(
            "cancel not confirmed after {}s: the run is still {}; re-send with: hexdash cancel {project_id} {run_id}",
            CANCEL_DEADLINE.as_secs(),
            last.status
        ));
    }
    Ok(Outcome {
        last,
        timed_out: true,
        cancel_sent: true,
        interrupted: false,
    })
}
