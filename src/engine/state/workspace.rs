//! The engine's view of the workspace: feeds the discovery planner and follows what it finds.
//!
//! The dashboard hands over the workspace's projects (live ones, minus those the config ignores,
//! with their schedules); fire times become ticks for the planner, recomputed as time goes on.
//! Every listing of a project (a sweep, or a batched status poll) is folded in here: the newest
//! run's start tells the planner how active the project is, and every active run no hexdash
//! process knows is recorded in the store (`watch`, origin `hex` with Hex's trigger) and followed
//! like a launched one. The COMPLETED runs in a listing give the project's usual running time
//! (kept in the store, refreshed every ten minutes at most), so a stuck run is flagged even
//! when no hexdash ever launched that project. A run that started after the project's previous
//! listing and ended before this one is recorded with its end; older ended runs are not: the
//! store holds what this machine saw, Hex holds the project's history. Found runs are followed
//! only by engines that discover, under the profile that found them (`State::wants`).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::time::Instant;

use super::State;
use crate::engine::discovery::Discovery;
use crate::engine::scheduler::{ErrorScope, Poll, RunKey};
use crate::engine::stats::{self, DurationStats};
use crate::engine::tick::Tick;
use crate::engine::update::{ListedRun, Update, WorkspaceView};
use crate::hex::Error as HexError;
use crate::hex::schedule;
use crate::hex::types::{self, RunStatusResponse, Schedule};
use crate::journal::{Event, Origin, UsualTime};

/// How far ahead schedule fire times are worked out; they are recomputed well before then.
const FIRES_AHEAD: Duration = Duration::from_secs(2 * 3600);
/// A schedule firing more often than this many times in `FIRES_AHEAD` is probed at the first
/// ones only (a `* * * * *` cron keeps its project listed often anyway).
const MAX_FIRES: usize = 150;

/// Clock differences between Hex and this machine: a run that started this long before the
/// previous listing still counts as new since it.
const SWEEP_SLACK: Duration = Duration::from_secs(5);

/// How often a project's usual time is worked out again from its listings.
const USUAL_REFRESH: Duration = Duration::from_secs(600);

/// One project as discovery needs it.
#[derive(Debug, Clone)]
pub struct WorkspaceProject {
    pub id: String,
    /// Named in `[workspace] follow`: listed as often as the project under the cursor.
    pub followed: bool,
    pub schedules: Vec<Schedule>,
    /// Its `analytics.publishedResultsUpdatedAt`: when a run last wrote its published results.
    pub results_updated_at: Option<Timestamp>,
}

impl State {
    pub fn discovering(&self) -> bool {
        self.workspace.discovery.is_some()
    }

    pub fn discovery_mut(&mut self) -> Option<&mut Discovery> {
        self.workspace.discovery.as_mut()
    }

    pub fn discovery(&self) -> Option<&Discovery> {
        self.workspace.discovery.as_ref()
    }

    /// Starts discovery over `projects` (with `discovery` the first time), or updates the list.
    pub fn set_workspace(
        &mut self,
        now: Instant,
        discovery: Discovery,
        projects: Vec<WorkspaceProject>,
    ) -> Vec<Update> {
        if self.workspace.discovery.is_none() {
            // What earlier sessions (or other processes) learnt of each project's usual time.
            match self.journal.usual_times() {
                Ok(kept) => self.workspace.usual.extend(kept),
                Err(e) => tracing::debug!(error = %e, "no usual times from the store"),
            }
            self.stats.clear();
        }
        let d = self.workspace.discovery.get_or_insert(discovery);
        d.set_projects(projects.iter().map(|p| (p.id.clone(), p.followed)));
        self.results_hints(now, &projects);
        self.workspace.schedules = projects
            .into_iter()
            .filter(|p| p.schedules.iter().any(|s| s.enabled))
            .map(|p| (p.id, p.schedules))
            .collect();
        self.workspace.fires_until = None;
        self.refresh_fires(now);
        let mut updates = vec![self.workspace_health()];
        // Runs an earlier session (or another process) found are followed again.
        let found: Vec<RunKey> = self
            .book
            .active_runs()
            .filter(|r| r.intent.is_none() && self.wants(r))
            .map(|r| RunKey::new(&r.project_id, &r.run_id))
            .filter(|k| !self.views.contains_key(k))
            .collect();
        for key in found {
            updates.extend(self.follow(&key, now, false));
        }
        updates
    }

    /// `analytics.publishedResultsUpdatedAt` as activity: a recent time makes a project without
    /// a schedule count as active without a listing, and a time that moved since the previous
    /// project list (a run wrote the published app since) has the project listed soon, to find
    /// what else runs there. Judged on the wall clock, as listings are (see [`State::found`]).
    fn results_hints(&mut self, now: Instant, projects: &[WorkspaceProject]) {
        let tick = self.tick(now);
        let now_ts = self.now_ts();
        let Some(d) = self.workspace.discovery.as_mut() else {
            return;
        };
        let recent = d.policy().recent;
        let mut seen = std::collections::HashMap::new();
        for p in projects {
            let Some(at) = p.results_updated_at else {
                continue;
            };
            let was = self.workspace.results_at.get(&p.id).copied();
            let moved = was.is_some_and(|w| at > w);
            // A time ahead of this clock (skew) counts as now.
            let age = Duration::try_from(now_ts.duration_since(at)).unwrap_or(Duration::ZERO);
            let young = age < recent;
            // A schedule's runs write the app too, and are probed at its fire times already:
            // for a scheduled project the time is no sign of other activity.
            let scheduled = p.schedules.iter().any(|s| s.enabled);
            let activity = (young && !scheduled).then(|| tick_at(tick, now_ts, at));
            if activity.is_some() || (young && moved) {
                d.hint(tick, &p.id, activity, moved);
            }
            seen.insert(p.id.clone(), at);
        }
        self.workspace.results_at = seen;
    }

    /// Works schedule fire times out again when the last ones run short.
    pub fn refresh_fires(&mut self, now: Instant) {
        let now_ts = self.now_ts();
        if self.workspace.fires_until.is_some_and(|t| t > now_ts) || !self.discovering() {
            return;
        }
        let tick = self.tick(now);
        let from = now_ts
            .checked_sub(SignedDuration::from_secs(120))
            .unwrap_or(now_ts);
        let until = now_ts
            .checked_add(SignedDuration::try_from(FIRES_AHEAD).unwrap_or_default())
            .unwrap_or(now_ts);
        let mut all = Vec::new();
        for (project_id, schedules) in &self.workspace.schedules {
            let mut fires = Vec::new();
            for s in schedules.iter().filter(|s| s.enabled) {
                let mut after = from;
                let mut count = 0;
                while let Some(fire) = schedule::next_fire(s, after) {
                    if fire > until || count >= MAX_FIRES {
                        break;
                    }
                    fires.push(tick_at(tick, now_ts, fire));
                    count += 1;
                    after = fire;
                }
            }
            all.push((project_id.clone(), fires));
        }
        if let Some(d) = self.workspace.discovery.as_mut() {
            for (project_id, fires) in all {
                d.set_fires(&project_id, fires);
            }
        }
        // Again at half the horizon, so the fires just ahead are always known.
        self.workspace.fires_until = now_ts
            .checked_add(SignedDuration::try_from(FIRES_AHEAD / 2).unwrap_or_default())
            .ok();
    }

    /// The project under the operator's cursor, listed often while it is there.
    pub fn set_cursor_project(&mut self, project_id: Option<String>) {
        if let Some(d) = self.workspace.discovery.as_mut() {
            d.set_cursor(project_id);
        }
    }

    /// The projects pinned on the dashboard, listed as often as the cursor's.
    pub fn set_pinned_projects(&mut self, project_ids: Vec<String>) {
        if let Some(d) = self.workspace.discovery.as_mut() {
            d.set_pinned(project_ids);
        }
    }

    /// `project_id` was listed at `now` with `runs` (any trigger): the planner learns when it
    /// was listed and how active it is, and active runs nobody here follows are followed.
    pub fn found(
        &mut self,
        now: Instant,
        project_id: &str,
        runs: &[RunStatusResponse],
    ) -> Vec<Update> {
        if !self.discovering() {
            return Vec::new();
        }
        let tick = self.tick(now);
        let now_ts = self.now_ts();
        // Activity is what a schedule does not predict: scheduled runs are probed at their
        // fire times instead. Judged on the wall clock: ticks start with this process, so an
        // old run would map to its start and look recent. (One younger than `recent` but older
        // than the process counts from the process's start: active a little longer at most.)
        let recent = self
            .workspace
            .discovery
            .as_ref()
            .map_or(Duration::ZERO, |d| d.policy().recent);
        let newest = runs
            .iter()
            .filter(|r| r.run_trigger.as_deref() != Some("SCHEDULED"))
            .filter_map(|r| r.start_time)
            .max()
            .filter(|t| Duration::try_from(now_ts.duration_since(*t)).is_ok_and(|age| age < recent))
            .map(|t| tick_at(tick, now_ts, t));
        // Runs that started since the previous listing and already ended are shown too (they
        // happened between two sweeps); on a project's first listing they are history. Also on
        // the wall clock, for the same reason.
        let previous = self
            .workspace
            .discovery
            .as_ref()
            .and_then(|d| d.last_swept(project_id))
            .map(|p| {
                let slack = SignedDuration::try_from(SWEEP_SLACK).unwrap_or_default();
                let at = wall_clock_of(p, tick, now_ts);
                at.checked_sub(slack).unwrap_or(at)
            });
        if let Some(d) = self.workspace.discovery.as_mut() {
            d.swept(tick, project_id, newest);
        }
        // Hex lists newest first; a run still PENDING has no start time yet.
        let listed = runs.first().map(|r| {
            Box::new(ListedRun {
                run_id: r.run_id.clone(),
                status: r.status.clone(),
                start_time: r.start_time,
                end_time: r.end_time,
                elapsed_ms: r.elapsed_time,
            })
        });
        self.learn_usual_time(project_id, runs, now_ts);
        // One listing that says who started its runs settles it for the session.
        self.workspace.says_triggers = types::says_triggers(self.workspace.says_triggers, runs);
        let mut updates = vec![Update::Listed {
            project_id: project_id.to_string(),
            newest: listed,
        }];
        let since_previous =
            |r: &RunStatusResponse| previous.is_some_and(|p| r.start_time.is_some_and(|t| t >= p));
        for run in runs
            .iter()
            .filter(|r| r.status.is_active() || since_previous(r))
        {
            let key = RunKey::new(project_id, &run.run_id);
            if self.views.contains_key(&key) {
                continue;
            }
            updates.extend(self.follow_found(now, &key, run));
        }
        updates.push(self.workspace_health());
        updates
    }

    /// Follows one active run found in a listing; recorded first if no hexdash process knew it.
    fn follow_found(&mut self, now: Instant, key: &RunKey, run: &RunStatusResponse) -> Vec<Update> {
        // Another process may have recorded it moments ago (its sweep, its batched poll): read
        // what it wrote first, so the run is recorded once.
        let _ = self.catch_up_now();
        let known = {
            let st = &mut *self;
            st.journal
                .hydrate(&mut st.book, &key.project_id, &key.run_id)
        };
        match known {
            Ok(true) => {
                // Launched or found by a hexdash process: followed here only if it is this
                // engine's to follow (another profile is another workspace's token).
                let mine = self
                    .book
                    .run(&key.project_id, &key.run_id)
                    .is_some_and(|r| self.wants(r));
                if !mine {
                    return Vec::new();
                }
                if run.status.is_terminal() {
                    // Its end is the store's already, or the next poll's to record.
                    return self.follow(key, now, false);
                }
            }
            Ok(false) => {
                let event = Event::Watch {
                    project_id: key.project_id.clone(),
                    run_id: key.run_id.clone(),
                    origin: Origin::found(run.run_trigger.as_deref(), Some(&self.profile)),
                };
                if let Err(e) = self.record(event) {
                    // Unrecorded, it would vanish on a restart: better not shown than half-known.
                    tracing::warn!(error = %e, "could not record a run found in Hex");
                    return Vec::new();
                }
                if run.status.is_terminal() {
                    // Ended between two listings: recorded as seen, shown with the ended ones.
                    let observed_at = self.now_ts();
                    self.record_lossy(super::status_changed(key, run, observed_at));
                    return self.follow(key, now, false);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the store");
                return Vec::new();
            }
        }
        let mut updates = self.follow(key, now, false);
        // Its status in the listing is an observation: shown now, polled on from here.
        let listed = Poll::Project {
            project_id: key.project_id.clone(),
            runs: Vec::new(),
        };
        updates.extend(self.absorb_listing(now, &listed, std::slice::from_ref(run)));
        updates
    }

    /// Works the project's usual time out from a listing, at most every [`USUAL_REFRESH`], and
    /// keeps it in the store for other processes and later sessions.
    fn learn_usual_time(&mut self, project_id: &str, runs: &[RunStatusResponse], now: Timestamp) {
        let recent = self.workspace.usual.get(project_id).is_some_and(|u| {
            Duration::try_from(now.duration_since(u.updated_at))
                .is_ok_and(|age| age < USUAL_REFRESH)
        });
        if recent {
            return;
        }
        let Some(s) = stats::from_listing(runs) else {
            return;
        };
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let usual = UsualTime {
            count: u32::try_from(s.count).unwrap_or(u32::MAX),
            p50_ms: millis(s.p50),
            p95_ms: millis(s.p95),
            updated_at: now,
        };
        if let Err(e) = self.journal.keep_usual_time(project_id, &usual) {
            tracing::debug!(error = %e, "could not keep a usual time");
        }
        self.workspace.usual.insert(project_id.to_string(), usual);
        self.stats.remove(project_id);
    }

    /// The project's usual running time as Hex's history tells it, if known.
    pub(super) fn usual_from_hex(&self, project_id: &str) -> Option<DurationStats> {
        let u = self.workspace.usual.get(project_id)?;
        Some(DurationStats {
            count: usize::try_from(u.count).unwrap_or(usize::MAX),
            p50: Duration::from_millis(u.p50_ms),
            p95: Duration::from_millis(u.p95_ms),
        })
    }

    /// A sweep of `project_id` failed with `error`. A 429 pauses everyone sharing the token
    /// and the project is simply due again after it; an error every request would meet (a
    /// revoked token, Hex unreachable) holds all polling back and says so, as a failed poll
    /// does; otherwise the planner leaves the project alone, longer after each failure.
    pub fn sweep_failed(
        &mut self,
        now: Instant,
        project_id: &str,
        error: &HexError,
        client: &crate::hex::Client,
    ) -> Vec<Update> {
        let tick = self.tick(now);
        if let HexError::RateLimited { retry_after, .. } = error {
            let pause = retry_after.unwrap_or(self.scheduler.config().policy.rate_limit_fallback);
            client.budget().pause(pause, now);
            self.scheduler.defer(tick + pause);
            if let Some(d) = self.workspace.discovery.as_mut() {
                d.not_sent(tick, project_id, false);
            }
            return Vec::new();
        }
        let scope = super::error_scope(error);
        let global = scope != ErrorScope::ThisPoll;
        if let Some(d) = self.workspace.discovery.as_mut() {
            if global {
                // Not the project's fault: it is due again once requests go out, rather than
                // backing off on its own for minutes after Hex is back.
                d.not_sent(tick, project_id, false);
            } else {
                d.failed(tick, project_id);
            }
        }
        if !global {
            return Vec::new();
        }
        // Everything waits. Hex unreachable: one request every `outage_probe` sees it come
        // back. A refused token will not heal by itself: asked again once a minute.
        let policy = self.scheduler.config().policy;
        let backoff = if scope == ErrorScope::Unreachable {
            policy.outage_probe
        } else {
            policy.error_backoff_cap
        };
        self.scheduler.defer(tick + backoff);
        self.health.error = Some(error.to_string());
        vec![Update::Health(self.health.clone())]
    }

    /// How fresh the workspace view is, as the status bar shows it.
    pub fn workspace_view(&self, now: Instant) -> Option<WorkspaceView> {
        let d = self.workspace.discovery.as_ref()?;
        let f = d.freshness();
        let tick = self.tick(now);
        let now_ts = self.now_ts();
        Some(WorkspaceView {
            projects: f.projects,
            swept: f.swept,
            oldest_sweep: f.oldest.map(|t| wall_clock_of(t, tick, now_ts)),
            api_runs_only: self.workspace.says_triggers == Some(false),
        })
    }

    fn workspace_health(&mut self) -> Update {
        self.health.workspace = self.workspace_view(Instant::now());
        Update::Health(self.health.clone())
    }
}

/// The wall-clock time of tick `at`, given that `now_ts` is `now`.
fn wall_clock_of(at: Tick, now: Tick, now_ts: Timestamp) -> Timestamp {
    let ago = SignedDuration::try_from(now.saturating_since(at)).unwrap_or_default();
    now_ts.checked_sub(ago).unwrap_or(now_ts)
}

/// The tick of wall-clock time `at`, given that `now_ts` is `now`.
fn tick_at(now: Tick, now_ts: Timestamp, at: Timestamp) -> Tick {
    let diff = now_ts.duration_since(at);
    match Duration::try_from(diff) {
        Ok(past) => now - past,
        Err(_) => now + Duration::try_from(-diff).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_times_map_to_ticks_both_ways() {
        let now_ts: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        let now = Tick::from_secs(1000);
        let past: Timestamp = "2026-12-03T09:59:00Z".parse().unwrap();
        let future: Timestamp = "2026-12-03T10:00:30Z".parse().unwrap();
        assert_eq!(tick_at(now, now_ts, past), Tick::from_secs(940));
        assert_eq!(tick_at(now, now_ts, future), Tick::from_secs(1030));
        let ancient: Timestamp = "2000-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(tick_at(now, now_ts, ancient), Tick::ZERO);
        // Back to the wall clock: exact for ticks since the process started.
        assert_eq!(wall_clock_of(Tick::from_secs(940), now, now_ts), past);
        assert_eq!(wall_clock_of(now, now, now_ts), now_ts);
    }
}
