//! The engine's bookkeeping: everything its tasks share, behind one lock, changed only by the
//! synchronous methods here.
//!
//! Owns the journal handle and the state folded from it (`book`), the live view of every run this
//! engine follows, the poll scheduler, per-run timers (timeouts, cancel deadlines) and polling
//! health. Each method records what must be durable first, then changes memory, then returns the
//! [`Update`]s to broadcast. No method awaits: the async tasks (`driver`, `launch`, `cancel`)
//! hold the lock only between their requests, never across one.

use std::collections::HashMap;
use std::time::Duration;

use indexmap::IndexMap;
use jiff::Timestamp;
use tokio::time::Instant;

use super::scheduler::{ErrorScope, Poll, RunKey, Scheduler, WatchInfo};
use super::stats::{self, DurationStats};
use super::tick::Tick;
use super::update::{Change, Health, RunView, Update};
use crate::clock::SharedClock;
use crate::hex::types::RunStatusResponse;
use crate::hex::{Error as HexError, RunStatus};
use crate::journal::{self, CancelState, Envelope, Event, Journal, JournalState, StatusChange};

mod workspace;

pub use workspace::WorkspaceProject;

/// What the engine knows of the workspace beyond the runs it follows (discovery on).
#[derive(Debug, Default)]
struct Workspace {
    discovery: Option<crate::engine::discovery::Discovery>,
    schedules: HashMap<String, Vec<crate::hex::types::Schedule>>,
    /// When schedule fire times must be worked out again.
    fires_until: Option<Timestamp>,
    /// Each project's usual running time from Hex's listings (and the store's copy of them).
    usual: HashMap<String, crate::journal::UsualTime>,
    /// Each project's `analytics.publishedResultsUpdatedAt` in the latest project list.
    results_at: HashMap<String, Timestamp>,
    /// Whether listings say who started their runs: `Some(true)` once one did.
    says_triggers: Option<bool>,
}

/// A run is given up on after this many "not found" answers in a row.
const LOST_AFTER: u32 = 3;

/// Deadlines that belong to one run.
#[derive(Debug, Clone, Copy, Default)]
struct Timers {
    timeout_at: Option<Instant>,
    kill_on_timeout: bool,
    cancel_deadline: Option<Instant>,
}

pub(crate) struct State {
    /// The config profile this engine launches under: runs another process launched under a
    /// different profile belong to another workspace (and token) and are not followed here.
    profile: String,
    pub journal: Journal,
    pub book: JournalState,
    pub clock: SharedClock,
    pub epoch: Instant,
    pub scheduler: Scheduler,
    /// How long a cancel re-attached after a restart may take to be seen working.
    cancel_deadline: Duration,
    views: IndexMap<RunKey, RunView>,
    timers: HashMap<RunKey, Timers>,
    not_found: HashMap<RunKey, u32>,
    stats: HashMap<String, Option<DurationStats>>,
    expected: HashMap<String, Option<Duration>>,
    health: Health,
    /// Events other processes recorded, folded into `book` but not yet into the views.
    backlog: Vec<Envelope>,
    workspace: Workspace,
}

impl State {
    pub fn new(
        profile: String,
        journal: Journal,
        book: JournalState,
        clock: SharedClock,
        epoch: Instant,
        scheduler: Scheduler,
        cancel_deadline: Duration,
    ) -> State {
        State {
            profile,
            journal,
            book,
            clock,
            epoch,
            scheduler,
            cancel_deadline,
            views: IndexMap::new(),
            timers: HashMap::new(),
            not_found: HashMap::new(),
            stats: HashMap::new(),
            expected: HashMap::new(),
            health: Health {
                last_success: None,
                error: None,
                paused_until: None,
                workspace: None,
            },
            backlog: Vec::new(),
            workspace: Workspace::default(),
        }
    }

    /// Whether this engine follows `record`'s run: one launched under its profile; one
    /// discovery found, only while this engine discovers and for the profile that found it (a
    /// `hexdash run` has no business polling the workspace's runs); one somebody asked to watch.
    pub fn wants(&self, record: &journal::RunRecord) -> bool {
        if let Some(intent) = &record.intent {
            return intent.profile == self.profile;
        }
        match &record.watch_origin {
            Some(journal::Origin::Hex { profile, .. }) => {
                self.discovering() && profile.as_deref().is_none_or(|p| p == self.profile)
            }
            _ => true,
        }
    }

    pub fn tick(&self, now: Instant) -> Tick {
        Tick::since(self.epoch, now)
    }

    pub fn now_ts(&self) -> Timestamp {
        self.clock.now()
    }

    /// Records `event` in the store and folds it into `book`, after what other processes
    /// recorded before it (kept for [`State::sync`] to show). An error means it is not in the
    /// store: the caller must not act on it.
    pub fn record(&mut self, event: Event) -> Result<(), journal::Error> {
        let recorded = self.journal.record(&mut self.book, event)?;
        self.backlog.extend(recorded.foreign);
        Ok(())
    }

    /// Brings this engine up to date with what other hexdash processes recorded: runs they
    /// launched are followed here too, statuses they observed and cancels they sent are shown
    /// without asking Hex again.
    pub fn sync(&mut self, now: Instant) -> Vec<Update> {
        if let Err(e) = self.catch_up_now() {
            self.health.error = Some(e.to_string());
            return vec![Update::Health(self.health.clone())];
        }
        let backlog = std::mem::take(&mut self.backlog);
        let mut updates = Vec::new();
        for env in &backlog {
            updates.extend(self.absorb_foreign(now, env));
        }
        updates
    }

    /// One event another process recorded, already in `book`.
    fn absorb_foreign(&mut self, now: Instant, env: &Envelope) -> Vec<Update> {
        let Some((project_id, run_id)) = env.event.run() else {
            return Vec::new();
        };
        let key = RunKey::new(project_id, run_id);
        if !self.views.contains_key(&key) {
            let mine = self
                .book
                .run(project_id, run_id)
                .is_some_and(|r| self.wants(r));
            return if mine {
                self.follow(&key, now, false)
            } else {
                Vec::new()
            };
        }
        match &env.event {
            Event::StatusChanged(change) => self.observed_elsewhere(now, &key, change),
            Event::CancelRequested { .. } => {
                self.sync_cancel(&key);
                self.scheduler.expect_end(&key);
                self.run_update(&key, Change::CancelRequested)
                    .into_iter()
                    .collect()
            }
            Event::CancelConfirmed { .. } => {
                self.sync_cancel(&key);
                self.run_update(&key, Change::CancelConfirmed)
                    .into_iter()
                    .collect()
            }
            Event::CancelNotConfirmed { .. } => {
                self.sync_cancel(&key);
                self.run_update(&key, Change::CancelNotConfirmed)
                    .into_iter()
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Another process saw `change`: show it, and count it as a poll of that run here, so the
    /// machine does not ask Hex twice.
    fn observed_elsewhere(
        &mut self,
        now: Instant,
        key: &RunKey,
        change: &StatusChange,
    ) -> Vec<Update> {
        let Some(record) = self.book.run(&key.project_id, &key.run_id) else {
            return Vec::new();
        };
        let mut fresh = RunView::from(record);
        let Some(view) = self.views.get_mut(key) else {
            return Vec::new();
        };
        fresh.timed_out = view.timed_out;
        fresh.project_title = fresh.project_title.or(view.project_title.take());
        let changed = fresh.status != view.status;
        *view = fresh;
        let tick = self.tick(now);
        let listed = Poll::Project {
            project_id: key.project_id.clone(),
            runs: Vec::new(),
        };
        let applied = if self.scheduler.is_watched(key) {
            self.scheduler
                .on_result(tick, &listed, &[(key.clone(), change.status.clone())])
        } else {
            Default::default()
        };
        let mut updates = Vec::new();
        if change.status.is_terminal() {
            self.forget_ended(key);
            if applied.ended.is_empty() {
                self.scheduler.unwatch(key);
            }
            self.sync_cancel(key);
            updates.extend(self.run_update(key, Change::Ended));
        } else {
            let change = if changed {
                Change::Status
            } else {
                Change::Refreshed
            };
            updates.extend(self.run_update(key, change));
        }
        updates
    }

    /// A poll was not sent because another process asked Hex about the same runs moments ago
    /// (its answer reaches this process through the store): reschedule as if answered.
    pub fn skipped(&mut self, now: Instant, poll: &Poll) {
        let tick = self.tick(now);
        let same: Vec<(RunKey, RunStatus)> = poll
            .runs()
            .iter()
            .map(|k| {
                let status = self
                    .views
                    .get(k)
                    .and_then(|v| v.status.clone())
                    .unwrap_or(RunStatus::Pending);
                (k.clone(), status)
            })
            .collect();
        self.scheduler.on_result(tick, poll, &same);
    }

    /// Records an event whose loss only costs history (a status change, a cancel outcome): a
    /// failure is logged and polling goes on.
    fn record_lossy(&mut self, event: Event) {
        let kind = event.kind();
        if let Err(e) = self.record(event) {
            tracing::warn!(kind, error = %e, "journal write failed");
            self.health.error = Some(e.to_string());
        }
    }

    pub fn stats(&mut self, project_id: &str) -> Option<DurationStats> {
        if let Some(s) = self.stats.get(project_id) {
            return *s;
        }
        // The journal's own history, or Hex's listing of the project, whichever has seen more
        // completed runs (Hex's includes runs no hexdash launched).
        let local = stats::duration_stats(&self.book, project_id);
        let hex = self.usual_from_hex(project_id);
        let s = match (local, hex) {
            (Some(l), Some(h)) if h.count > l.count => Some(h),
            (Some(l), _) => Some(l),
            (None, h) => h,
        };
        self.stats.insert(project_id.to_string(), s);
        s
    }

    /// Launch-to-end median of the project, cached like `stats`.
    fn expected(&mut self, project_id: &str) -> Option<Duration> {
        if let Some(e) = self.expected.get(project_id) {
            return *e;
        }
        let e = stats::expected_total(&self.book, project_id);
        self.expected.insert(project_id.to_string(), e);
        e
    }

    pub fn views(&self) -> impl Iterator<Item = &RunView> {
        self.views.values()
    }

    pub fn view(&self, key: &RunKey) -> Option<&RunView> {
        self.views.get(key)
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    fn run_update(&self, key: &RunKey, change: Change) -> Option<Update> {
        self.views.get(key).map(|v| Update::Run {
            change,
            view: Box::new(v.clone()),
        })
    }

    /// Starts following a run the journal knows about (just launched, adopted, re-attached or
    /// recorded with a `watch` event). `fresh` is the status Hex just gave, if any.
    pub fn follow(&mut self, key: &RunKey, now: Instant, fresh: bool) -> Vec<Update> {
        let Some(record) = self.book.run(&key.project_id, &key.run_id) else {
            return Vec::new();
        };
        let view = RunView::from(record);
        let first_seen = record.first_at;
        let options = record.intent.as_ref().map(|i| i.options.clone());
        // Found by discovery (nobody here launched it or asked to watch it): polled slowly.
        let discovered = record.intent.is_none()
            && matches!(record.watch_origin, Some(journal::Origin::Hex { .. }));
        let active = view.is_active();
        self.views.insert(key.clone(), view);
        if !active {
            return self.run_update(key, Change::Ended).into_iter().collect();
        }
        let tick = self.tick(now);
        let age = Duration::try_from(self.now_ts().duration_since(first_seen)).unwrap_or_default();
        let launched_at = Tick::from_duration(tick.as_duration().saturating_sub(age));
        let status = self
            .views
            .get(key)
            .and_then(|v| v.status.clone())
            .unwrap_or(RunStatus::Pending);
        let mut info = if fresh {
            WatchInfo::launched(tick)
        } else {
            WatchInfo::reattached(launched_at, status)
        };
        info.expected_duration = self.expected(&key.project_id);
        info.discovered = discovered;
        self.scheduler.watch(key.clone(), info);
        if let Some(secs) = options.as_ref().and_then(|o| o.timeout_secs) {
            // An absurd timeout (an old journal, a hand-edited one) means "never", not "now":
            // capped to a year, which no run outlives and no clock overflows.
            let left = Duration::from_secs(secs)
                .saturating_sub(age)
                .min(Duration::from_secs(365 * 24 * 3600));
            // (With at most a year added, `checked_add` cannot fail on any real clock.)
            let timeout_at = now.checked_add(left).unwrap_or(now);
            let timers = self.timers.entry(key.clone()).or_default();
            timers.timeout_at = Some(timeout_at);
            timers.kill_on_timeout = options.as_ref().is_some_and(|o| o.kill_on_timeout);
        }
        if matches!(
            record_cancel(&self.book, key),
            CancelState::Requested { .. }
        ) {
            // A cancel sent before a restart is still unconfirmed: keep polling it fast, and
            // report it not confirmed if it is not seen dead in time. Its deadline died with
            // the old engine; a fresh one counts from now, because one judged from the
            // journal's time could expire before this engine has polled the run even once.
            self.scheduler.expect_end(key);
            self.timers.entry(key.clone()).or_default().cancel_deadline =
                Some(now + self.cancel_deadline);
        }
        self.run_update(key, Change::Watching).into_iter().collect()
    }

    /// Hex answered `poll`; `runs` is every run status in the answer. A project's listing is
    /// also a sweep of it for discovery (runs nobody here follows are followed from now on).
    pub fn absorb(&mut self, now: Instant, poll: &Poll, runs: &[RunStatusResponse]) -> Vec<Update> {
        let mut updates = self.absorb_listing(now, poll, runs);
        if let Poll::Project { project_id, .. } = poll {
            updates.extend(self.found(now, project_id, runs));
        }
        updates
    }

    /// The statuses in an answer, for the runs followed here.
    fn absorb_listing(
        &mut self,
        now: Instant,
        poll: &Poll,
        runs: &[RunStatusResponse],
    ) -> Vec<Update> {
        let tick = self.tick(now);
        let observed_at = self.now_ts();
        self.health.last_success = Some(observed_at);
        self.health.error = None;
        let pairs: Vec<(RunKey, RunStatus)> = runs
            .iter()
            .map(|r| {
                (
                    RunKey::new(poll_project(poll, r), &r.run_id),
                    r.status.clone(),
                )
            })
            .filter(|(k, _)| self.scheduler.is_watched(k))
            .collect();
        let applied = self.scheduler.on_result(tick, poll, &pairs);
        let mut updates = Vec::new();
        for run in runs {
            let key = RunKey::new(poll_project(poll, run), &run.run_id);
            if !pairs.iter().any(|(k, _)| *k == key) {
                continue;
            }
            self.not_found.remove(&key);
            let Some(view) = self.views.get_mut(&key) else {
                continue;
            };
            let changed = view.absorb(run, observed_at);
            if changed {
                self.record_lossy(status_changed(&key, run, observed_at));
            }
            if run.status.is_terminal() {
                continue;
            }
            let change = if changed {
                Change::Status
            } else {
                Change::Refreshed
            };
            updates.extend(self.run_update(&key, change));
        }
        for (key, status) in &applied.ended {
            updates.extend(self.ended(key, status));
        }
        // Status bars show when the last poll succeeded (and that an earlier error is over).
        updates.push(Update::Health(self.health.clone()));
        updates
    }

    /// Folds in what other processes recorded, now, without showing it yet (the next
    /// [`State::sync`] does): for decisions that must see a cancel another process sent.
    fn catch_up_now(&mut self) -> Result<(), journal::Error> {
        let foreign = self.journal.catch_up(&mut self.book).inspect_err(|e| {
            tracing::warn!(error = %e, "could not read the store");
        })?;
        self.backlog.extend(foreign);
        Ok(())
    }

    /// A run ended: its timers go, and its project's duration figures are worked out again.
    fn forget_ended(&mut self, key: &RunKey) {
        self.timers.remove(key);
        self.stats.remove(&key.project_id);
        self.expected.remove(&key.project_id);
    }

    /// A watched run reached `status`: confirm a pending cancel, drop its timers.
    fn ended(&mut self, key: &RunKey, status: &RunStatus) -> Vec<Update> {
        let mut updates = Vec::new();
        // A cancel from another process, or its confirmation, may be in the store already
        // (if the store cannot be read now, the cancel shows at the next sync).
        let _ = self.catch_up_now();
        self.forget_ended(key);
        if matches!(
            record_cancel(&self.book, key),
            CancelState::Requested { .. } | CancelState::NotConfirmed { .. }
        ) {
            self.record_lossy(Event::CancelConfirmed {
                project_id: key.project_id.clone(),
                run_id: key.run_id.clone(),
                status: status.clone(),
            });
            self.sync_cancel(key);
            updates.extend(self.run_update(key, Change::CancelConfirmed));
        }
        // Whoever confirmed it, the view shows the cancel as the store has it.
        self.sync_cancel(key);
        updates.extend(self.run_update(key, Change::Ended));
        updates
    }

    /// `poll` failed with `error`.
    pub fn failed(&mut self, now: Instant, poll: &Poll, error: &HexError) -> Vec<Update> {
        let tick = self.tick(now);
        let reason = error.to_string();
        if let HexError::RateLimited { retry_after, .. } = error {
            self.scheduler.on_rate_limited(tick, poll, *retry_after);
            let until = self.scheduler.paused_until(tick).map(|t| {
                let wait = t.saturating_since(tick);
                self.now_ts()
                    .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                    .unwrap_or_else(|_| self.now_ts())
            });
            self.health.paused_until = until;
            if !error.asked_absurd_wait() {
                return vec![Update::Health(self.health.clone())];
            }
            // Polling stops for the whole capped pause (minutes, not seconds): say why on the
            // health line and on the runs, rather than let them look fresh and frozen.
            self.health.error = Some(reason.clone());
            let mut updates = vec![Update::Health(self.health.clone())];
            for key in poll.runs() {
                if let Some(view) = self.views.get_mut(key) {
                    view.stale = Some(reason.clone());
                }
                updates.extend(self.run_update(key, Change::Stale));
            }
            return updates;
        }
        self.scheduler.on_error(tick, poll, error_scope(error));
        self.health.error = Some(reason.clone());
        let mut updates = vec![Update::Health(self.health.clone())];
        let lost = matches!(poll, Poll::Run(_)) && matches!(error, HexError::NotFound { .. });
        for key in poll.runs() {
            if lost {
                let count = self.not_found.entry(key.clone()).or_insert(0);
                *count += 1;
                if *count >= LOST_AFTER {
                    self.not_found.remove(key);
                    self.scheduler.unwatch(key);
                    self.timers.remove(key);
                    if let Some(view) = self.views.get_mut(key) {
                        view.stale = Some(format!("Hex no longer knows this run: {reason}"));
                    }
                    updates.extend(self.run_update(key, Change::Lost));
                    continue;
                }
            }
            if let Some(view) = self.views.get_mut(key) {
                view.stale = Some(reason.clone());
            }
            updates.extend(self.run_update(key, Change::Stale));
        }
        updates
    }

    /// Clears the 429 pause note once polling may go on.
    pub fn resume_if_paused(&mut self, now: Instant) -> Option<Update> {
        let tick = self.tick(now);
        if self.health.paused_until.is_some() && self.scheduler.paused_until(tick).is_none() {
            self.health.paused_until = None;
            return Some(Update::Health(self.health.clone()));
        }
        None
    }

    /// A kill on timeout could not be sent: say so on the run (stale, with the reason) and in
    /// the health line, so nobody believes it is being cancelled.
    pub fn kill_failed(&mut self, key: &RunKey, reason: &str) -> Vec<Update> {
        let text = format!("timed out, but the cancel failed: {reason}; cancel it by hand");
        self.health.error = Some(text.clone());
        if let Some(view) = self.views.get_mut(key) {
            view.stale = Some(text);
        }
        let mut updates = vec![Update::Health(self.health.clone())];
        updates.extend(self.run_update(key, Change::KillFailed));
        updates
    }

    /// Records that a cancel was sent: poll fast until dead, give up waiting at `deadline`.
    pub fn cancel_requested(
        &mut self,
        key: &RunKey,
        origin: journal::Origin,
        deadline: Instant,
    ) -> Vec<Update> {
        self.record_lossy(Event::CancelRequested {
            project_id: key.project_id.clone(),
            run_id: key.run_id.clone(),
            origin,
        });
        self.sync_cancel(key);
        self.scheduler.expect_end(key);
        self.timers.entry(key.clone()).or_default().cancel_deadline = Some(deadline);
        self.run_update(key, Change::CancelRequested)
            .into_iter()
            .collect()
    }

    fn sync_cancel(&mut self, key: &RunKey) {
        let cancel = record_cancel(&self.book, key);
        if let Some(view) = self.views.get_mut(key) {
            view.cancel = cancel;
        }
    }

    /// The earliest timer, for the driver's sleep.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers
            .values()
            .flat_map(|t| [t.timeout_at, t.cancel_deadline])
            .flatten()
            .min()
    }

    /// Fires due timers. Returns the updates and the runs to cancel (timed out with
    /// kill-on-timeout).
    pub fn fire_timers(&mut self, now: Instant) -> (Vec<Update>, Vec<RunKey>) {
        let mut updates = Vec::new();
        let mut kill = Vec::new();
        let due: Vec<RunKey> = self
            .timers
            .iter()
            .filter(|(_, t)| {
                t.timeout_at.is_some_and(|at| at <= now)
                    || t.cancel_deadline.is_some_and(|at| at <= now)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in due {
            let Some(timers) = self.timers.get_mut(&key) else {
                continue;
            };
            if timers.timeout_at.is_some_and(|at| at <= now) {
                timers.timeout_at = None;
                if timers.kill_on_timeout {
                    kill.push(key.clone());
                }
                if let Some(view) = self.views.get_mut(&key) {
                    view.timed_out = true;
                }
                updates.extend(self.run_update(&key, Change::TimedOut));
            }
            let Some(timers) = self.timers.get_mut(&key) else {
                continue;
            };
            if timers.cancel_deadline.is_some_and(|at| at <= now) {
                timers.cancel_deadline = None;
                if self.scheduler.is_watched(&key) {
                    self.record_lossy(Event::CancelNotConfirmed {
                        project_id: key.project_id.clone(),
                        run_id: key.run_id.clone(),
                    });
                    self.sync_cancel(&key);
                    updates.extend(self.run_update(&key, Change::CancelNotConfirmed));
                }
            }
        }
        (updates, kill)
    }
}

/// Whom a failed request says something about: this request alone, every request until someone
/// acts (a refused token), or every request while Hex cannot be reached. Status polls and
/// discovery's listings back off by it alike.
fn error_scope(error: &HexError) -> ErrorScope {
    match error {
        HexError::Unauthorized { .. } | HexError::Forbidden { .. } => ErrorScope::Global,
        HexError::Transport { refused: true, .. } => ErrorScope::Unreachable,
        _ => ErrorScope::ThisPoll,
    }
}

/// The event recording what Hex said of `key` at `observed_at`.
fn status_changed(key: &RunKey, run: &RunStatusResponse, observed_at: Timestamp) -> Event {
    Event::StatusChanged(StatusChange {
        project_id: key.project_id.clone(),
        run_id: key.run_id.clone(),
        status: run.status.clone(),
        start_time: run.start_time,
        end_time: run.end_time,
        elapsed_ms: run.elapsed_time,
        observed_at,
    })
}

/// The project a status answer belongs to: GetProjectRuns answers for the project asked about,
/// whatever the body says (a body with a missing or odd projectId must not create a new key).
fn poll_project(poll: &Poll, run: &RunStatusResponse) -> String {
    match poll {
        Poll::Project { project_id, .. } => project_id.clone(),
        Poll::Run(key) if key.run_id == run.run_id => key.project_id.clone(),
        Poll::Run(_) => run.project_id.clone(),
    }
}

fn record_cancel(book: &JournalState, key: &RunKey) -> CancelState {
    book.run(&key.project_id, &key.run_id)
        .map(|r| r.cancel.clone())
        .unwrap_or_default()
}
