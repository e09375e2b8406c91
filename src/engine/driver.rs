//! The poll driver: the one task that sends every status poll.
//!
//! Loop: ask the scheduler for its next plan and the state for its next timer, sleep until the
//! earlier of the two (or until woken because something was watched, answered or cancelled),
//! check the shared budget (`defer` when it says wait), dispatch, and send the request in a task
//! of its own so a slow answer never holds up the next poll. Answers and failures go back to the
//! state under its lock; the resulting updates are broadcast. Timers fire here too: a timeout
//! with kill-on-timeout starts a cancel.

use std::sync::Arc;

use tokio::time::Instant;

use super::handle::Inner;
use super::scheduler::Poll;
use crate::hex::Priority;
use crate::hex::types::ProjectRunsQuery;
use crate::journal::Origin;

/// GetProjectRuns' largest page (HEX_API.md): the most runs one batched poll can see.
const LISTING_LIMIT: u32 = 100;

pub(crate) async fn drive(inner: Arc<Inner>) {
    loop {
        let now = Instant::now();
        let (wake_at, due, kills) = {
            let mut st = inner.lock();
            let (updates, kills) = st.fire_timers(now);
            inner.publish(updates);
            if let Some(u) = st.resume_if_paused(now) {
                inner.publish(vec![u]);
            }
            let tick = st.tick(now);
            let plan_at = st.scheduler.next(tick).map(|p| p.at.to_instant(st.epoch));
            let wake_at = [plan_at, st.next_timer()].into_iter().flatten().min();
            (wake_at, plan_at.is_some_and(|at| at <= now), kills)
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
        if !due {
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
        }
        let poll = {
            let mut st = inner.lock();
            let tick = st.tick(now);
            let wait = inner.client.budget().wait_time(Priority::Poll, now);
            if !wait.is_zero() {
                st.scheduler.defer(tick + wait);
                None
            } else {
                st.scheduler.dispatch(tick)
            }
        };
        if let Some(poll) = poll {
            tokio::spawn(send(Arc::clone(&inner), poll));
        }
    }
}

/// Sends one poll and reports its outcome, unless another hexdash process asked Hex about the
/// same runs moments ago: its answer reaches this one through the store, so the machine asks
/// about each run once per interval however many processes follow it.
async fn send(inner: Arc<Inner>, poll: Poll) {
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
            let query = ProjectRunsQuery {
                limit: Some(LISTING_LIMIT),
                run_trigger_filter: Some("ALL".to_string()),
                ..ProjectRunsQuery::default()
            };
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
