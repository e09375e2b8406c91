//! The engine's public face: [`Engine`], a cheap-to-clone handle that the TUI, the headless
//! commands and pipelines share.
//!
//! Owns start-up (open the journal, replay it, re-attach to every run not known to have ended,
//! reconcile launches left without an answer, start the poll driver) and the calls callers make:
//! `launch`, `watch`, `cancel`, `subscribe`, `focus`, `snapshot`, `history`. The poll driver stops
//! when the last handle is dropped.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::discovery::Discovery;
use super::launch::{self, LaunchError, LaunchRequest, Launched};
use super::scheduler::{RunKey, Scheduler, SchedulerConfig};
use super::shared::{EngineOptions, Shared};
use super::state::{State, WorkspaceProject};
use super::stats::{self, DurationStats, Overdue};
use super::update::{Health, RunView, Update};
use super::{cancel, driver, sync};
use crate::hex::{Client, Error as HexError};
use crate::journal::{self, Event, Journal, JournalState, Origin};

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Journal(#[from] journal::Error),
}

/// A running engine and what it found on start.
pub struct Started {
    pub engine: Engine,
    /// Damaged or unknown journal lines that were skipped, one message each.
    pub warnings: Vec<String>,
    /// Runs from earlier sessions that are being watched again.
    pub reattached: usize,
}

/// Handle on the running engine. Clones share it.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Shared>,
    _driver: Arc<DriverGuard>,
}

/// Stops the poll driver when the last [`Engine`] handle goes.
struct DriverGuard(JoinHandle<()>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Engine {
    /// Opens the journal, re-attaches to its active runs, reconciles its unresolved launches in
    /// the background, and starts polling. Must be called inside a tokio runtime.
    pub fn start(client: Client, options: EngineOptions) -> Result<Started, StartError> {
        let mut opened = Journal::open_working(&options.journal_path, options.clock.clone())?;
        // Alive on the store before anything is launched: another hexdash that starts while this
        // one's first launch is in flight must see a live launcher and leave the launch to it,
        // not settle it as a dead process's (the periodic heartbeat only begins a second later).
        if let Err(e) = opened.journal.heartbeat() {
            tracing::warn!(error = %e, "could not write a heartbeat");
        }
        let book = opened.state;
        let scheduler = Scheduler::new(SchedulerConfig {
            limits: client.budget().limits(),
            policy: options.policy,
        });
        let now = Instant::now();
        let state = State::new(
            options.profile.clone(),
            opened.journal,
            book,
            options.clock.clone(),
            now,
            scheduler,
            options.cancel_deadline,
        );
        let inner = Arc::new(Shared::new(client, options, state));
        let reattached = {
            let mut st = inner.lock();
            // Runs launched under another profile belong to another workspace (and token):
            // polling them here would only collect 404s. Runs discovery found wait for
            // discovery to start (`Engine::discover`).
            let active: Vec<RunKey> = st
                .book
                .active_runs()
                .filter(|r| st.wants(r))
                .map(|r| RunKey::new(&r.project_id, &r.run_id))
                .collect();
            for key in &active {
                st.follow(key, now, false);
            }
            active.len()
        };
        let driver = tokio::spawn(driver::drive(Arc::clone(&inner)));
        let engine = Engine {
            inner,
            _driver: Arc::new(DriverGuard(driver)),
        };
        // Holds only the shared state, so dropping every handle still stops these tasks.
        let background = Arc::clone(&engine.inner);
        tokio::spawn(async move {
            launch::reconcile_pending(&background).await;
            background.mark_settled();
        });
        tokio::spawn(sync::keep_in_sync(Arc::downgrade(&engine.inner)));
        Ok(Started {
            engine,
            warnings: opened.warnings,
            reattached,
        })
    }

    /// Waits until the launches earlier sessions left unresolved have been reconciled (adopted
    /// runs are then being watched), or found impossible to reconcile for now.
    pub async fn settled(&self) {
        let mut rx = self.inner.settled();
        // An error means the sender is gone, which cannot happen while `self` holds `inner`.
        let _ = rx.wait_for(|done| *done).await;
    }

    /// Stops polling now (e.g. the dashboard switching profile); handles still work for
    /// reading. Other processes take over polling the runs this one followed.
    pub fn close(&self) {
        self._driver.0.abort();
        self.inner.closed.store(true, Ordering::Relaxed);
    }

    /// Makes this process the driver of pipeline run `id`; `Ok(Some(p))` when another live
    /// hexdash process `p` drives it (then this one must not).
    pub fn claim_pipeline(&self, id: &str) -> Result<Option<journal::Launcher>, journal::Error> {
        self.inner
            .lock()
            .journal
            .claim_pipeline(id, super::shared::ALIVE_GRACE)
    }

    /// Stops driving pipeline run `id`, so another process may carry it on at once.
    pub fn release_pipeline(&self, id: &str) {
        if let Err(e) = self.inner.lock().journal.release_pipeline(id) {
            tracing::warn!(pipeline_run = id, error = %e, "could not release a pipeline run");
        }
    }

    /// The live hexdash process other than this one that drives pipeline run `id`, if any.
    pub fn pipeline_driver(&self, id: &str) -> Option<journal::Launcher> {
        self.inner
            .lock()
            .journal
            .pipeline_driver(id, super::shared::ALIVE_GRACE)
            .unwrap_or_default()
    }

    /// Every hexdash process on this data dir that is alive now, this one included.
    pub fn processes(&self) -> Vec<journal::Launcher> {
        self.inner
            .lock()
            .journal
            .live_processes(super::shared::ALIVE_GRACE)
            .unwrap_or_default()
    }

    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.inner.subscribe()
    }

    /// Launches exactly once: see [`launch`](super::launch).
    pub async fn launch(&self, request: LaunchRequest) -> Result<Launched, LaunchError> {
        launch::launch(&self.inner, request).await
    }

    /// Active runs of `project_id` launched with exactly `params` (the duplicate guard).
    pub fn duplicates_of(
        &self,
        project_id: &str,
        params: &indexmap::IndexMap<String, serde_json::Value>,
    ) -> Vec<RunKey> {
        launch::duplicates(&self.inner.lock(), project_id, params)
    }

    /// The engine's clock (a manual one in tests).
    pub fn now(&self) -> jiff::Timestamp {
        self.inner.options.clock.now()
    }

    /// The profile launches are recorded under.
    pub fn profile(&self) -> &str {
        &self.inner.options.profile
    }

    /// Where the journal lives; its directory is the data dir.
    pub fn journal_path(&self) -> &std::path::Path {
        &self.inner.options.journal_path
    }

    /// Journals one pipeline entry durably (pipelines own `kind` and `data`). Refused on a
    /// read-only engine: a pipeline step recorded nowhere could be launched twice.
    pub fn record_pipeline(
        &self,
        pipeline_run_id: &str,
        kind: &str,
        data: serde_json::Value,
    ) -> Result<(), PipelineRecordError> {
        let mut st = self.inner.lock();
        st.record(Event::Pipeline {
            pipeline_run_id: pipeline_run_id.to_string(),
            kind: kind.to_string(),
            data,
        })?;
        Ok(())
    }

    /// Follows a run hexdash did not launch (recorded in the journal so a restart follows it too).
    pub fn watch(&self, key: &RunKey, origin: Origin) -> Result<(), journal::Error> {
        let mut st = self.inner.lock();
        if st.view(key).is_some_and(RunView::is_active) && st.scheduler.is_watched(key) {
            return Ok(());
        }
        let known = {
            let st = &mut *st;
            st.journal
                .hydrate(&mut st.book, &key.project_id, &key.run_id)?
        };
        if !known {
            st.record(Event::Watch {
                project_id: key.project_id.clone(),
                run_id: key.run_id.clone(),
                origin,
            })?;
        }
        let updates = st.follow(key, Instant::now(), false);
        drop(st);
        self.inner.publish(updates);
        self.inner.wake.notify_one();
        Ok(())
    }

    /// Follows every active run Hex lists for `project_id` (up to its newest 100, any trigger).
    pub async fn watch_project(
        &self,
        project_id: &str,
        origin: Origin,
    ) -> Result<usize, WatchError> {
        let runs = launch::recent_runs(&self.inner.client, project_id, true).await?;
        let mut count = 0;
        for run in runs.iter().filter(|r| r.status.is_active()) {
            self.watch(&RunKey::new(project_id, &run.run_id), origin.clone())?;
            count += 1;
        }
        Ok(count)
    }

    /// Discovers the workspace's runs from now on: `projects` are listed within the budget
    /// (after the runs followed here, never from the reserve for actions) and every active run
    /// found is recorded and followed. Called again with a fresh project list, updates it.
    pub fn discover(&self, projects: Vec<WorkspaceProject>) {
        let mut st = self.inner.lock();
        let policy = self.inner.options.discovery;
        let updates = st.set_workspace(Instant::now(), Discovery::new(policy), projects);
        drop(st);
        self.inner.publish(updates);
        self.inner.wake.notify_one();
    }

    /// The project under the operator's cursor: discovery lists it often while it is there.
    pub fn focus_project(&self, project_id: Option<&str>) {
        self.inner
            .lock()
            .set_cursor_project(project_id.map(str::to_string));
        self.inner.wake.notify_one();
    }

    /// The projects the operator pinned: discovery lists them as often as the cursor's.
    pub fn pin_projects(&self, project_ids: Vec<String>) {
        self.inner.lock().set_pinned_projects(project_ids);
        self.inner.wake.notify_one();
    }

    /// Polls `key` fast while `focused` (the run under the cursor, one being waited on).
    pub fn focus(&self, key: &RunKey, focused: bool) {
        if self.inner.lock().scheduler.set_focused(key, focused) {
            self.inner.wake.notify_one();
        }
    }

    /// Sends a cancel (retried) and polls the run fast until Hex reports it dead. Returns once
    /// the cancel is sent: confirmation arrives as [`Change::CancelConfirmed`] or, after the
    /// deadline, [`Change::CancelNotConfirmed`] (call again to re-send).
    ///
    /// [`Change::CancelConfirmed`]: super::Change::CancelConfirmed
    /// [`Change::CancelNotConfirmed`]: super::Change::CancelNotConfirmed
    pub async fn cancel(
        &self,
        key: &RunKey,
        origin: Origin,
    ) -> Result<cancel::CancelSent, cancel::CancelError> {
        cancel::cancel(&self.inner, key, origin).await
    }

    /// Every run this engine has followed, oldest first.
    pub fn snapshot(&self) -> Vec<RunView> {
        self.inner.lock().views().cloned().collect()
    }

    pub fn view(&self, key: &RunKey) -> Option<RunView> {
        self.inner.lock().view(key).cloned()
    }

    pub fn health(&self) -> Health {
        self.inner.lock().health().clone()
    }

    /// Whether the engine is still polling `key` (it is active and not lost).
    pub fn is_watched(&self, key: &RunKey) -> bool {
        self.inner.lock().scheduler.is_watched(key)
    }

    /// Runs still being polled.
    pub fn active_count(&self) -> usize {
        self.inner.lock().scheduler.active_count()
    }

    /// How long ago `key`'s data was fetched, by the engine's clock.
    pub fn data_age(&self, key: &RunKey) -> Option<Duration> {
        let st = self.inner.lock();
        let observed = st.view(key)?.observed_at?;
        Duration::try_from(st.now_ts().duration_since(observed)).ok()
    }

    pub fn stats(&self, project_id: &str) -> Option<DurationStats> {
        self.inner.lock().stats(project_id)
    }

    /// Whether `view` is overdue now, judged by its project's history.
    pub fn overdue(&self, view: &RunView) -> Option<Overdue> {
        let mut st = self.inner.lock();
        let s = st.stats(&view.key.project_id);
        stats::overdue(
            view.status.as_ref(),
            view.start_time,
            view.first_seen,
            s.as_ref(),
            self.inner.options.pending_limit,
            st.now_ts(),
        )
    }

    /// A copy of everything the journal says (history, last launches, pending launches).
    pub fn journal_state(&self) -> JournalState {
        self.inner.lock().book.clone()
    }

    /// Reads the journal's state in place: no copy of a possibly large history. Keep `read`
    /// short; polling waits while it runs.
    pub fn with_journal<R>(&self, read: impl FnOnce(&JournalState) -> R) -> R {
        read(&self.inner.lock().book)
    }

    /// Waits until `key` is no longer active (or no longer watched), returning its last view.
    /// Ends early with the current view if the engine stops publishing.
    pub async fn wait_ended(&self, key: &RunKey) -> Option<RunView> {
        let mut rx = self.subscribe();
        loop {
            {
                let st = self.inner.lock();
                let view = st.view(key)?;
                if !view.is_active() || !st.scheduler.is_watched(key) {
                    return Some(view.clone());
                }
            }
            match rx.recv().await {
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return self.view(key),
            }
        }
    }
}

/// Why following a project's runs failed.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error(transparent)]
    Hex(#[from] HexError),
    #[error(transparent)]
    Journal(#[from] journal::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineRecordError {
    #[error(transparent)]
    Journal(#[from] journal::Error),
}
