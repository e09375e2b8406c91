//! The status-poll scheduler: decides when to poll what, for every active run from every source.
//!
//! Owns the set of watched runs, their last observed status and its age, and the plan of the next
//! request: one GetProjectRuns for two or more runs of a project, GetRunStatus otherwise (or for a
//! run the project listing did not contain). Each run wants an interval (`poll_policy`); the
//! scheduler stretches all wishes proportionally when together they would spend more than the
//! polling share of the budget (`requests_per_minute - reserved_for_actions`), spaces requests
//! evenly at that rate, and serves the most overdue poll first so nobody starves. 429s pause all
//! polling; failures back off the poll that failed and mark its runs stale.
//!
//! It is a pure, synchronous state machine: it does no I/O, never sleeps and reads no clock; time
//! comes in as [`Tick`]. The driver sends the requests, asks the shared `hex::Budget` before each
//! one (`defer` when refused), and reports every outcome back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::poll_policy::{PollPolicy, RunFacts, Wish};
use super::tick::Tick;
pub use crate::hex::RunKey;
use crate::hex::{Limits, Operation, RunStatus};

/// What the caller knows about a run when it starts watching it.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchInfo {
    /// When the run was launched, or first seen if hexdash did not launch it; its age counts
    /// from here.
    pub launched_at: Tick,
    pub focused: bool,
    /// From the project's run history (p50 or similar); `None` when there is no history.
    pub expected_duration: Option<Duration>,
    pub status: RunStatus,
    /// When `status` was true. `None` (e.g. a run re-attached from the journal) polls at once.
    pub observed_at: Option<Tick>,
    /// Found by workspace discovery: polled at the policy's slower `discovered_interval`.
    pub discovered: bool,
}

impl WatchInfo {
    /// A run hexdash launched at `now`: RunProject's answer is a fresh observation.
    pub fn launched(now: Tick) -> Self {
        WatchInfo {
            launched_at: now,
            focused: false,
            expected_duration: None,
            status: RunStatus::Pending,
            observed_at: Some(now),
            discovered: false,
        }
    }

    /// A run found elsewhere (journal, listing) whose current status is not known.
    pub fn reattached(launched_at: Tick, last_known: RunStatus) -> Self {
        WatchInfo {
            launched_at,
            focused: false,
            expected_duration: None,
            status: last_known,
            observed_at: None,
            discovered: false,
        }
    }
}

/// One request the driver should send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// GetProjectRuns with `limit=100` (HEX_API.md), covering `runs` (two or more). A run that is
    /// not in the answer must be reported missing (by leaving it out of `on_result`); it then gets
    /// individual polls.
    Project {
        project_id: String,
        runs: Vec<RunKey>,
    },
    /// GetRunStatus for one run.
    Run(RunKey),
}

impl Poll {
    /// The runs this request refreshes.
    pub fn runs(&self) -> &[RunKey] {
        match self {
            Poll::Project { runs, .. } => runs,
            Poll::Run(key) => std::slice::from_ref(key),
        }
    }

    pub fn project_id(&self) -> &str {
        match self {
            Poll::Project { project_id, .. } => project_id,
            Poll::Run(key) => &key.project_id,
        }
    }

    pub fn operation(&self) -> Operation {
        match self {
            Poll::Project { .. } => Operation::GetProjectRuns,
            Poll::Run(_) => Operation::GetRunStatus,
        }
    }
}

/// The next request: send `poll` at `at` (never earlier than the `now` it was planned at).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub at: Tick,
    pub poll: Poll,
}

/// How far a failure reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorScope {
    /// Only this request failed (timeout, 5xx, 404 of one run): back off its runs.
    ThisPoll,
    /// Every request would fail until someone acts (401/403): back off all polling.
    Global,
    /// Hex cannot be reached (connection refused, DNS): back off all polling, but keep trying
    /// every `outage_probe` to see it come back.
    Unreachable,
}

/// What `on_result` changed that the driver must act on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    /// Runs that reached a terminal status; they are no longer watched.
    pub ended: Vec<(RunKey, RunStatus)>,
    /// Runs the request should have covered but whose status was not in the answer.
    pub missing: Vec<RunKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SchedulerConfig {
    pub limits: Limits,
    pub policy: PollPolicy,
}

#[derive(Debug, Clone)]
struct Run {
    launched_at: Tick,
    focused: bool,
    cancelling: bool,
    discovered: bool,
    expected: Option<Duration>,
    status: RunStatus,
    observed_at: Option<Tick>,
    /// When the last request covering this run counts as made; `None` means "poll as soon as
    /// possible".
    last_polled: Option<Tick>,
    /// Set while a request covering this run is in flight: the time that request counts as
    /// made at (see `dispatch`).
    in_flight: Option<Tick>,
    /// Not found in its project's listing (older than the newest 100): GetRunStatus only.
    individual: bool,
    failures: u32,
    not_before: Tick,
    stale: bool,
}

/// A group of runs that one request refreshes, with its combined wish and due time.
#[derive(Debug)]
struct Unit<'a> {
    keys: Vec<&'a RunKey>,
    individual: bool,
    interval: Duration,
    urgent: bool,
}

#[derive(Debug, Clone)]
pub struct Scheduler {
    config: SchedulerConfig,
    /// Minimum time between two polls: the polling budget spread evenly over a minute.
    spacing: Duration,
    /// Ordered by project first, so a project's runs are adjacent and iteration is deterministic.
    runs: BTreeMap<RunKey, Run>,
    last_sent: Option<Tick>,
    paused_until: Tick,
    failure_streak: u32,
    rate_limit_streak: u32,
}

impl Scheduler {
    pub fn new(config: SchedulerConfig) -> Self {
        // Rounded up so that no sliding 60 s window ever holds more than the polling budget,
        // which keeps us inside hex::Budget's sliding log and therefore inside Hex's fixed window.
        let per_minute = u64::from(Self::polls_per_minute(&config.limits));
        let spacing = Duration::from_millis(60_000u64.div_ceil(per_minute));
        Scheduler {
            config,
            spacing,
            runs: BTreeMap::new(),
            last_sent: None,
            paused_until: Tick::ZERO,
            failure_streak: 0,
            rate_limit_streak: 0,
        }
    }

    /// The requests per minute polling may spend, as `hex::Budget` counts them for `Priority::Poll`.
    pub fn polls_per_minute(limits: &Limits) -> u32 {
        limits
            .requests_per_minute
            .saturating_sub(limits.reserved_for_actions)
            .max(1)
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    // ----- what to watch -------------------------------------------------------------------

    /// Starts (or refreshes) watching a run. A terminal status is not watched.
    pub fn watch(&mut self, key: RunKey, info: WatchInfo) {
        if info.status.is_terminal() {
            self.runs.remove(&key);
            return;
        }
        match self.runs.get_mut(&key) {
            Some(run) => {
                run.launched_at = info.launched_at;
                run.focused = info.focused;
                run.discovered = info.discovered;
                run.expected = info.expected_duration;
                if info.observed_at >= run.observed_at {
                    run.status = info.status;
                    run.observed_at = info.observed_at;
                }
            }
            None => {
                self.runs.insert(
                    key,
                    Run {
                        launched_at: info.launched_at,
                        focused: info.focused,
                        cancelling: false,
                        discovered: info.discovered,
                        expected: info.expected_duration,
                        status: info.status,
                        observed_at: info.observed_at,
                        last_polled: info.observed_at,
                        in_flight: None,
                        individual: false,
                        failures: 0,
                        not_before: Tick::ZERO,
                        stale: false,
                    },
                );
            }
        }
    }

    /// Stops watching; a result still in flight for it is then ignored. False if not watched.
    pub fn unwatch(&mut self, key: &RunKey) -> bool {
        self.runs.remove(key).is_some()
    }

    /// Marks the run a person is looking at. False if not watched.
    pub fn set_focused(&mut self, key: &RunKey, focused: bool) -> bool {
        self.with_run(key, |run| run.focused = focused)
    }

    /// History arrived (or changed) after the run was watched.
    pub fn set_expected_duration(&mut self, key: &RunKey, expected: Option<Duration>) -> bool {
        self.with_run(key, |run| run.expected = expected)
    }

    /// The run was (re)launched at `now`: it is young again and polled fast.
    pub fn mark_launched_now(&mut self, key: &RunKey, now: Tick) -> bool {
        self.with_run(key, |run| run.launched_at = now)
    }

    /// A cancel was sent: poll this run every `cancel_interval` until it is terminal. The driver
    /// owns the deadline after which it reports the cancel as not confirmed.
    pub fn expect_end(&mut self, key: &RunKey) -> bool {
        self.with_run(key, |run| {
            run.cancelling = true;
            // Poll promptly, first in line: the cancel is what the person is waiting to see
            // confirmed. An error backoff (`not_before`) still holds.
            if run.in_flight.is_none() {
                run.last_polled = None;
            }
        })
    }

    fn with_run(&mut self, key: &RunKey, f: impl FnOnce(&mut Run)) -> bool {
        match self.runs.get_mut(key) {
            Some(run) => {
                f(run);
                true
            }
            None => false,
        }
    }

    // ----- planning ------------------------------------------------------------------------

    /// The next request and when to send it; `None` when nothing is watched (or everything is
    /// already in flight). Cheap enough to call after every event.
    pub fn next(&self, now: Tick) -> Option<Plan> {
        self.plan(now).map(|(plan, _)| plan)
    }

    /// The plan, and the stretch applied to the chosen unit's wishes.
    fn plan(&self, now: Tick) -> Option<(Plan, f64)> {
        let units = self.units();
        let (urgent_stretch, ordinary_stretch) = self.stretch(&units);
        let best = units
            .iter()
            .map(|u| {
                let stretch = if u.urgent {
                    urgent_stretch
                } else {
                    ordinary_stretch
                };
                let (due, oldest) = self.unit_due(u, stretch);
                (due, oldest, u, stretch)
            })
            // Earliest due first; on a tie the longest-unpolled unit, then key order.
            .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))?;
        let (due, _, unit, stretch) = best;
        let paced = self.last_sent.map_or(Tick::ZERO, |t| t + self.spacing);
        let at = due.max(paced).max(self.paused_until).max(now);
        let poll = Self::poll_for(unit);
        Some((Plan { at, poll }, stretch))
    }

    /// Takes the planned request if it is due at `now` and marks its runs in flight. Call it right
    /// after the budget granted a slot; `None` means nothing is due yet.
    pub fn dispatch(&mut self, now: Tick) -> Option<Poll> {
        let (plan, stretch) = self.plan(now)?;
        if plan.at > now {
            return None;
        }
        for key in plan.poll.runs() {
            let Some(run) = self.runs.get(key) else {
                continue;
            };
            // Count the poll as made when it was due, not when the spacing let it out, so two
            // polls falling due together do not push every later poll back (which would leave
            // budget unspent). Forgive at most one spacing: a longer delay (a pause, a saturated
            // budget) must not leave dues in the past, where they would promise UIs polls that
            // cannot happen and turn a pause into a burst of back-to-back refreshes.
            let anchor = match self.run_due(run, stretch) {
                Some(due) => due.min(now).max(now - self.spacing),
                None => now,
            };
            if let Some(run) = self.runs.get_mut(key) {
                run.in_flight = Some(anchor);
            }
        }
        self.last_sent = Some(now);
        Some(plan.poll)
    }

    /// The earliest a request may go out at `now`: the spacing after the last one, and any pause.
    /// Discovery's sweeps share the pacing, so they are held to it too.
    pub fn earliest_send(&self, now: Tick) -> Tick {
        let paced = self.last_sent.map_or(Tick::ZERO, |t| t + self.spacing);
        paced.max(self.paused_until).max(now)
    }

    /// The least time between two requests.
    pub fn spacing(&self) -> Duration {
        self.spacing
    }

    /// A request other than a status poll (a discovery sweep) went out at `now`: the next poll
    /// keeps the spacing after it.
    pub fn note_sent(&mut self, now: Tick) {
        self.last_sent = Some(self.last_sent.map_or(now, |t| t.max(now)));
    }

    /// Holds all polling until `until`: the shared budget refused a slot, or the driver knows
    /// of a pause (e.g. a 429 seen by a launch).
    pub fn defer(&mut self, until: Tick) {
        self.paused_until = self.paused_until.max(until);
    }

    /// Active runs grouped into requests, skipping runs already in flight.
    fn units(&self) -> Vec<Unit<'_>> {
        let mut units: Vec<Unit<'_>> = Vec::new();
        let mut batch: Option<Unit<'_>> = None;
        for (key, run) in self.runs.iter().filter(|(_, r)| r.in_flight.is_none()) {
            let wish = self.wish(run);
            if run.individual {
                units.push(Unit {
                    keys: vec![key],
                    individual: true,
                    interval: wish.interval,
                    urgent: wish.urgent,
                });
                continue;
            }
            match &mut batch {
                Some(b)
                    if b.keys
                        .first()
                        .is_some_and(|k| k.project_id == key.project_id) =>
                {
                    b.keys.push(key);
                    b.interval = b.interval.min(wish.interval);
                    b.urgent |= wish.urgent;
                }
                _ => {
                    if let Some(done) = batch.take() {
                        units.push(done);
                    }
                    batch = Some(Unit {
                        keys: vec![key],
                        individual: false,
                        interval: wish.interval,
                        urgent: wish.urgent,
                    });
                }
            }
        }
        units.extend(batch);
        units
    }

    /// How much every wish must be lengthened so the total rate fits the polling budget. Urgent
    /// units (focused, cancelling) are served first, except that ordinary units keep up to
    /// `ordinary_share` of the budget; whatever urgent units leave unused goes to the others.
    fn stretch(&self, units: &[Unit<'_>]) -> (f64, f64) {
        let rate = f64::from(Self::polls_per_minute(&self.config.limits)) / 60.0;
        let demand = |urgent: bool| -> f64 {
            units
                .iter()
                .filter(|u| u.urgent == urgent)
                .map(|u| 1.0 / u.interval.as_secs_f64())
                .sum()
        };
        let (urgent_demand, ordinary_demand) = (demand(true), demand(false));
        let share = self.config.policy.ordinary_share.clamp(0.1, 0.9);
        let ordinary_floor = ordinary_demand.min(rate * share);
        let urgent_rate = rate - ordinary_floor;
        let urgent_stretch = (urgent_demand / urgent_rate).max(1.0);
        let ordinary_rate = rate - urgent_demand.min(urgent_rate);
        let ordinary_stretch = (ordinary_demand / ordinary_rate).max(1.0);
        (urgent_stretch, ordinary_stretch)
    }

    /// When a unit is due, and the oldest poll time among its runs (for fair tie-breaking).
    fn unit_due(&self, unit: &Unit<'_>, stretch: f64) -> (Tick, Tick) {
        let mut due = Tick::NEVER;
        let mut oldest = Tick::NEVER;
        for run in unit.keys.iter().filter_map(|k| self.runs.get(*k)) {
            let run_due = self.run_due(run, stretch).unwrap_or(Tick::ZERO);
            due = due.min(run_due.max(run.not_before));
            oldest = oldest.min(run.last_polled.unwrap_or(Tick::ZERO));
        }
        (due, oldest)
    }

    /// When a run's stretched wish falls due, ignoring error backoff; `None` if never polled.
    fn run_due(&self, run: &Run, stretch: f64) -> Option<Tick> {
        let wish = self.wish(run);
        let paced = run.last_polled? + wish.interval.mul_f64(stretch);
        Some(match wish.faster_from {
            Some(age) => paced.min(run.launched_at + age),
            None => paced,
        })
    }

    /// A run's wish, judged at its last poll rather than at `now`: a plan must not move later
    /// just because time passed while the driver slept towards it (only events move it), so
    /// `dispatch` at `plan.at` always finds the plan `next` promised.
    fn wish(&self, run: &Run) -> Wish {
        let judged_at = run.last_polled.unwrap_or(run.launched_at);
        self.config.policy.wish(RunFacts {
            age: judged_at.saturating_since(run.launched_at),
            focused: run.focused,
            cancelling: run.cancelling,
            expected_duration: run.expected,
            discovered: run.discovered,
        })
    }

    fn poll_for(unit: &Unit<'_>) -> Poll {
        match unit.keys.as_slice() {
            [one] => Poll::Run((*one).clone()),
            keys => {
                debug_assert!(!unit.individual, "individual runs are never batched");
                Poll::Project {
                    project_id: keys
                        .first()
                        .map(|k| k.project_id.clone())
                        .unwrap_or_default(),
                    runs: keys.iter().map(|k| (*k).clone()).collect(),
                }
            }
        }
    }

    // ----- outcomes ------------------------------------------------------------------------

    /// Hex answered `poll` at `now` with these statuses. A GetProjectRuns answer may include
    /// every run of the project: watched runs outside `poll` are refreshed too, for free.
    pub fn on_result(
        &mut self,
        now: Tick,
        poll: &Poll,
        results: &[(RunKey, RunStatus)],
    ) -> Applied {
        let mut applied = Applied::default();
        for key in poll.runs() {
            if let Some(run) = self.runs.get_mut(key) {
                run.last_polled = Some(run.in_flight.take().unwrap_or(now));
            }
        }
        let mut seen = BTreeSet::new();
        for (key, status) in results {
            if !seen.insert(key) {
                continue;
            }
            let Some(run) = self.runs.get_mut(key) else {
                continue;
            };
            run.status = status.clone();
            run.observed_at = Some(now);
            run.stale = false;
            run.failures = 0;
            run.not_before = Tick::ZERO;
            let requested = poll.runs().contains(key);
            if !requested && run.in_flight.is_none() && run.last_polled.is_none_or(|t| t < now) {
                // Listed for free alongside the runs we asked about.
                run.last_polled = Some(now);
            }
            if matches!(poll, Poll::Project { .. }) {
                // Listed again (e.g. it was briefly missing): batching works for it again.
                run.individual = false;
            }
            if status.is_terminal() {
                self.runs.remove(key);
                applied.ended.push((key.clone(), status.clone()));
            }
        }
        for key in poll.runs().iter().filter(|k| !seen.contains(k)) {
            let policy = self.config.policy;
            let Some(run) = self.runs.get_mut(key) else {
                continue;
            };
            applied.missing.push(key.clone());
            match poll {
                // HEX_API.md: GetProjectRuns lists at most the newest 100 (and by default only
                // API-triggered runs), so an absent run is not an error: ask for it by id, now.
                Poll::Project { .. } => {
                    run.individual = true;
                    run.last_polled = None;
                }
                Poll::Run(_) => {
                    run.failures += 1;
                    run.stale = true;
                    run.not_before = now + policy.backoff(run.failures);
                }
            }
        }
        if !results.is_empty() {
            let policy = self.config.policy;
            if self.failure_streak >= policy.global_failure_streak.max(1) {
                // Hex answers again after an outage: the other runs failed for the outage, not
                // for themselves, so their backoffs end now and they are polled at once.
                for run in self.runs.values_mut().filter(|r| r.in_flight.is_none()) {
                    run.failures = 0;
                    run.not_before = Tick::ZERO;
                }
            }
            self.failure_streak = 0;
            self.rate_limit_streak = 0;
        }
        applied
    }

    /// `poll` failed at `now`. Its runs keep their last good status, marked stale, and are retried
    /// after an exponential backoff; a global failure (or a streak of them) backs off everyone.
    pub fn on_error(&mut self, now: Tick, poll: &Poll, scope: ErrorScope) {
        let policy = self.config.policy;
        for key in poll.runs() {
            if let Some(run) = self.runs.get_mut(key) {
                run.last_polled = Some(run.in_flight.take().unwrap_or(now));
                run.failures += 1;
                run.stale = true;
                run.not_before = now + policy.backoff(run.failures);
            }
        }
        self.failure_streak += 1;
        let streak_is_global = self.failure_streak >= policy.global_failure_streak.max(1);
        if scope != ErrorScope::ThisPoll || streak_is_global {
            // Everything waits. When Hex (or the network) is down rather than the token refused,
            // one request goes out every `outage_probe` at most, so its return is seen within
            // that, not after a backoff that grew to a minute during a long outage.
            let backoff = policy.backoff(self.failure_streak);
            let wait = if scope == ErrorScope::Global {
                backoff
            } else {
                backoff.min(policy.outage_probe)
            };
            for run in self.runs.values_mut() {
                run.stale = true;
                run.not_before = run.not_before.min(now + wait);
            }
            self.defer(now + wait);
        }
    }

    /// Hex answered `poll` with 429 at `now`: nothing is polled until Retry-After has passed.
    /// The poll's runs got no data, so they are first in line afterwards.
    pub fn on_rate_limited(&mut self, now: Tick, poll: &Poll, retry_after: Option<Duration>) {
        for key in poll.runs() {
            if let Some(run) = self.runs.get_mut(key) {
                run.in_flight = None;
            }
        }
        self.rate_limit_streak += 1;
        let policy = self.config.policy;
        let pause = retry_after.unwrap_or_else(|| {
            let doublings = (self.rate_limit_streak - 1).min(6);
            policy
                .rate_limit_fallback
                .saturating_mul(1 << doublings)
                .min(policy.error_backoff_cap.max(policy.rate_limit_fallback))
        });
        self.defer(now + pause);
    }

    // ----- introspection for UIs -----------------------------------------------------------

    pub fn active_count(&self) -> usize {
        self.runs.len()
    }

    pub fn is_watched(&self, key: &RunKey) -> bool {
        self.runs.contains_key(key)
    }

    pub fn status(&self, key: &RunKey) -> Option<&RunStatus> {
        self.runs.get(key).map(|r| &r.status)
    }

    /// When the shown status was true.
    pub fn last_observed(&self, key: &RunKey) -> Option<Tick> {
        self.runs.get(key).and_then(|r| r.observed_at)
    }

    /// True when the last attempt to refresh this run failed, so its status may be out of date.
    pub fn is_stale(&self, key: &RunKey) -> bool {
        self.runs.get(key).is_some_and(|r| r.stale)
    }

    /// How old the shown status is at `now`.
    pub fn staleness(&self, key: &RunKey, now: Tick) -> Option<Duration> {
        self.last_observed(key).map(|t| now.saturating_since(t))
    }

    /// When this run would next be polled if nothing changes (pauses included, the spacing
    /// between requests not); `None` if unwatched or in flight.
    pub fn next_due(&self, key: &RunKey, now: Tick) -> Option<Tick> {
        let units = self.units();
        let (urgent_stretch, ordinary_stretch) = self.stretch(&units);
        let unit = units.iter().find(|u| u.keys.contains(&key))?;
        let stretch = if unit.urgent {
            urgent_stretch
        } else {
            ordinary_stretch
        };
        let (due, _) = self.unit_due(unit, stretch);
        Some(due.max(self.paused_until).max(now))
    }

    /// Set while polling is paused by a 429, a budget refusal or a global failure.
    pub fn paused_until(&self, now: Tick) -> Option<Tick> {
        (self.paused_until > now).then_some(self.paused_until)
    }
}

#[cfg(test)]
mod tests;
