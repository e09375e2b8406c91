//! The request driver: the one task that sends every status poll and every discovery sweep.
//!
//! Loop: ask the scheduler for its next plan, discovery (when on) for its next sweep, and the
//! state for its next timer; sleep until the earliest (or until woken because something was
//! watched, answered or cancelled), check the shared budget (`defer` when it says wait),
//! dispatch, and send the request in a task of its own so a slow answer never holds up the next
//! poll. Followed runs come before sweeps (`discovery::choose`). Answers and failures go back to
//! the state under its lock; the resulting updates are broadcast. Timers fire here too: a timeout
//! with kill-on-timeout starts a cancel.

use std::sync::Arc;

use tokio::time::Instant;

use super::discovery::{self, Next};
use super::scheduler::Poll;
use super::shared::Shared;
use super::state::State;
use super::tick::Tick;
use crate::hex::Priority;
use crate::hex::types::ProjectRunsQuery;
use crate::journal::Origin;

/// GetProjectRuns' largest page (HEX_API.md): the most runs one batched poll can see.
const LISTING_LIMIT: u32 = 100;
/// The longest a sweep claimed in the store holds other processes' sweeps of that project back.
const SWEEP_CLAIM: std::time::Duration = std::time::Duration::from_secs(10);

pub(crate) async fn drive(inner: Arc<Shared>) {
    loop {
        let now = Instant::now();
        let (wake_at, due, kills) = {
            let mut st = inner.lock();
            let (updates, kills) = st.fire_timers(now);
            inner.publish(updates);
            if let Some(u) = st.resume_if_paused(now) {
                inner.publish(vec![u]);
            }
            st.refresh_fires(now);
            let tick = st.tick(now);
            let next = next_request(&st, tick);
            let next_at = next.map(|n| at(n).to_instant(st.epoch));
            let wake_at = [next_at, st.next_timer()].into_iter().flatten().min();
            (wake_at, next.filter(|n| at(*n) <= tick), kills)
        };
        for key in kills {
            let engine = Arc::clone(&inner);
            // Journalled as cancelled by whoever launched it: the timeout was their option.
            let origin = inner
                .lock()
                .view(&key)
                .and_then(|v| v.origin.clone())
                .unwrap_or(Origin::Other);
            tokio::spawn(async move {
                if let Err(e) = super::cancel::send(&engine, &key, origin).await {
                    tracing::warn!(run = %key.run_id, error = %e, "kill on timeout failed");
                    let mut st = engine.lock();
                    let updates = st.kill_failed(&key, &e.to_string());
                    drop(st);
                    engine.publish(updates);
                }
            });
        }
        let Some(due) = due else {
            match wake_at {
                Some(at) if at > now => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = inner.wake.notified() => {}
                    }
                }
                Some(_) => {}
                None => inner.wake.notified().await,
            }
            continue;
        };
        let request = {
            let mut st = inner.lock();
            let tick = st.tick(now);
            let wait = inner.client.budget().wait_time(Priority::Poll, now);
            if !wait.is_zero() {
                st.scheduler.defer(tick + wait);
                None
            } else {
                match due {
                    Next::Poll(_) => {
                        let poll = st.scheduler.dispatch(tick);
                        if poll.is_some()
                            && let Some(d) = st.discovery_mut()
                        {
                            d.note_sent(false);
                        }
                        poll.map(Request::Poll)
                    }
                    Next::Sweep(_) => {
                        // Planned before the lock was let go: still due, or nothing now.
                        let sweep = st
                            .discovery()
                            .and_then(|d| d.next(tick))
                            .filter(|s| s.at <= tick);
                        if let (Some(sweep), Some(d)) = (&sweep, st.discovery_mut()) {
                            d.start(&sweep.project_id);
                            d.note_sent(true);
                        }
                        if sweep.is_some() {
                            st.scheduler.note_sent(tick);
                        }
                        sweep.map(|s| Request::Sweep(s.project_id))
                    }
                }
            }
        };
        match request {
            Some(Request::Poll(poll)) => {
                tokio::spawn(send(Arc::clone(&inner), poll));
            }
            Some(Request::Sweep(project_id)) => {
                tokio::spawn(sweep(Arc::clone(&inner), project_id));
            }
            None => {}
        }
    }
}

/// What the driver sends.
enum Request {
    Poll(Poll),
    Sweep(String),
}

/// The next request, status poll or sweep, both held to the pacing between requests.
fn next_request(st: &State, tick: Tick) -> Option<Next> {
    let poll_at = st.scheduler.next(tick).map(|p| p.at);
    let Some(d) = st.discovery() else {
        return poll_at.map(Next::Poll);
    };
    let earliest = st.scheduler.earliest_send(tick);
    let sweep = d.next(tick);
    let sweep_at = sweep.as_ref().map(|s| s.at.max(earliest));
    let pressing = d.pressing(sweep.as_ref(), tick);
    discovery::choose(poll_at, sweep_at, pressing, st.scheduler.spacing())
}

fn at(next: Next) -> Tick {
    match next {
        Next::Poll(t) | Next::Sweep(t) => t,
    }
}

/// Lists one project for discovery, unless another hexdash process listed it moments ago (its
/// findings reach this one through the store).
async fn sweep(inner: Arc<Shared>, project_id: String) {
    {
        let mut st = inner.lock();
        // A sweep is claimed like a poll of the project's "" run, which no real run id is, for
        // as long as the most eager of discoveries waits between two listings of a project:
        // two dashboards on one data dir list each project once between them.
        let fresh = st
            .discovery()
            .map_or(SWEEP_CLAIM, |d| d.policy().focus_every.min(SWEEP_CLAIM));
        if let Ok(false) = st.journal.claim_poll(&[(project_id.as_str(), "")], fresh) {
            let tick = st.tick(Instant::now());
            if let Some(d) = st.discovery_mut() {
                d.not_sent(tick, &project_id, true);
            }
            drop(st);
            inner.wake.notify_one();
            return;
        }
    }
    let query = ProjectRunsQuery::every_trigger(LISTING_LIMIT);
    let result = inner.poller.get_project_runs(&project_id, &query).await;
    let now = Instant::now();
    let updates = {
        let mut st = inner.lock();
        match result {
            Ok(page) => {
                let listed = Poll::Project {
                    project_id: project_id.clone(),
                    runs: Vec::new(),
                };
                st.absorb(now, &listed, &page.runs)
            }
            Err(e) => {
                tracing::debug!(project = %project_id, error = %e, "sweep failed");
                st.sweep_failed(now, &project_id, &e, &inner.client)
            }
        }
    };
    inner.publish(updates);
    inner.wake.notify_one();
}

/// Sends one poll and reports its outcome, unless another hexdash process asked Hex about the
/// same runs moments ago: its answer reaches this one through the store, so the machine asks
/// about each run once per interval however many processes follow it.
async fn send(inner: Arc<Shared>, poll: Poll) {
    super::failpoint::panic_at("poll");
    {
        let mut st = inner.lock();
        let runs: Vec<(&str, &str)> = poll
            .runs()
            .iter()
            .map(|k| (k.project_id.as_str(), k.run_id.as_str()))
            .collect();
        let fresh = st.scheduler.config().policy.shared_poll_window;
        match st.journal.claim_poll(&runs, fresh) {
            Ok(true) => {}
            Ok(false) => {
                st.skipped(Instant::now(), &poll);
                drop(st);
                inner.wake.notify_one();
                return;
            }
            // The store is a courtesy here: without it, ask Hex.
            Err(e) => tracing::debug!(error = %e, "could not claim a poll"),
        }
    }
    let result = match &poll {
        Poll::Run(key) => inner
            .poller
            .get_run_status(&key.project_id, &key.run_id)
            .await
            .map(|run| vec![run]),
        Poll::Project { project_id, .. } => {
            // Every trigger: a followed run Hex's scheduler started is listed with the rest
            // instead of costing a request of its own (HEX_API.md, GetProjectRuns).
            let query = ProjectRunsQuery::every_trigger(LISTING_LIMIT);
            inner
                .poller
                .get_project_runs(project_id, &query)
                .await
                .map(|page| page.runs)
        }
    };
    let now = Instant::now();
    let updates = {
        let mut st = inner.lock();
        match &result {
            Ok(runs) => st.absorb(now, &poll, runs),
            Err(e) => {
                if let crate::hex::Error::RateLimited { retry_after, .. } = e {
                    // Everyone sharing the token waits, launches and cancels included.
                    let pause =
                        retry_after.unwrap_or(st.scheduler.config().policy.rate_limit_fallback);
                    inner.client.budget().pause(pause, now);
                }
                tracing::debug!(op = %poll.operation(), error = %e, "poll failed");
                st.failed(now, &poll, e)
            }
        }
    };
    inner.publish(updates);
    inner.wake.notify_one();
}
