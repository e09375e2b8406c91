//! Keeping one engine in step with the other hexdash processes on the data dir.
//!
//! Every half second: fold in what other processes recorded (runs they launched are followed
//! here too; statuses they saw count as polls here), give a heartbeat, and now and then settle
//! launches that a process which died mid-launch left unresolved. Half a second keeps a run
//! launched by cron on an open dashboard "within about a second" and costs one indexed read.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::launch;
use super::shared::Shared;

/// How often the store is read for other processes' events.
const PERIOD: Duration = Duration::from_millis(500);

/// A heartbeat every this many periods.
const HEARTBEAT_EVERY: u64 = 2;

/// Launches left behind by dead processes are looked for every this many periods.
const ORPHANS_EVERY: u64 = 20;

pub(crate) async fn keep_in_sync(inner: Weak<Shared>) {
    let mut count: u64 = 0;
    // The orphan pass runs beside this loop, one at a time: it waits for project locks, which a
    // launch of this process may hold for half a minute (a slow POST, then listings with
    // backoff). Awaited here, it would stop the heartbeat that long, and after `ALIVE_GRACE`
    // the other processes would take this live process for dead and settle its launch.
    let mut orphans: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        tokio::time::sleep(PERIOD).await;
        count = count.wrapping_add(1);
        let Some(inner) = inner.upgrade() else {
            break;
        };
        if inner.closed.load(Ordering::Relaxed) {
            break;
        }
        let updates = {
            let mut st = inner.lock();
            if count.is_multiple_of(HEARTBEAT_EVERY)
                && let Err(e) = st.journal.heartbeat()
            {
                tracing::warn!(error = %e, "could not write a heartbeat");
            }
            st.sync(Instant::now())
        };
        if !updates.is_empty() {
            inner.publish(updates);
            inner.wake.notify_one();
        }
        if count.is_multiple_of(ORPHANS_EVERY)
            && orphans
                .as_ref()
                .is_none_or(tokio::task::JoinHandle::is_finished)
        {
            let inner = std::sync::Arc::clone(&inner);
            orphans = Some(tokio::spawn(async move {
                launch::reconcile_orphans(&inner).await;
            }));
        }
    }
    // A pass still waiting for a lock must not write to the store of a closed engine.
    if let Some(pass) = orphans {
        pass.abort();
    }
}
