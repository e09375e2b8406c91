//! Workspace discovery: which project to list next to find runs nobody here launched.
//!
//! Hex has no workspace-wide runs endpoint (HEX_API.md), so runs started by Hex's schedules,
//! Airflow, Dagster or a colleague are found by listing projects one at a time (GetProjectRuns,
//! every trigger), from the same per-token budget as everything else. This planner spends those
//! requests where runs are likely: just after a project's schedule fires (and again shortly
//! after, then back off), often on the project under the operator's cursor and on projects the
//! config follows, every so often on projects with recent runs, seldom on dormant ones. Any
//! listing of a project counts as a sweep of it, the engine's batched status polls included.
//!
//! Pure, like the poll scheduler: no I/O, no clock; time comes in as [`Tick`]. [`choose`] decides
//! whether the next request is a status poll or a sweep: followed runs come first, a sweep
//! takes the slots they leave free, and keeps [`DiscoveryPolicy::min_share`] of them when they
//! leave none (at most half when a schedule probe or the operator's focus presses).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::tick::Tick;

/// How many of the latest requests the share of sweeps is judged over.
const SHARE_WINDOW: usize = 20;

/// How often each kind of project is listed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiscoveryPolicy {
    /// The project under the cursor and projects named in `[workspace] follow`.
    pub focus_every: Duration,
    /// Projects with a run started within `recent`.
    pub active_every: Duration,
    /// Everything else: the slow round of a quiet workspace.
    pub dormant_every: Duration,
    /// How recent a project's newest run must be for the project to count as active.
    pub recent: Duration,
    /// When to list a project after each of its schedule's fire times: Hex starts a scheduled
    /// run within seconds of the fire time, a busy workspace a little later.
    pub probes: [Duration; 3],
    /// The share of requests sweeps keep while followed runs would take them all.
    pub min_share: f64,
    /// How long a project whose listing failed is left alone; doubled for each failure in a row
    /// up to `failure_backoff_cap`.
    pub failure_backoff: Duration,
    pub failure_backoff_cap: Duration,
}

impl Default for DiscoveryPolicy {
    fn default() -> Self {
        DiscoveryPolicy {
            focus_every: Duration::from_secs(15),
            active_every: Duration::from_secs(40),
            dormant_every: Duration::from_secs(300),
            recent: Duration::from_secs(6 * 3600),
            probes: [
                Duration::from_secs(3),
                Duration::from_secs(15),
                Duration::from_secs(60),
            ],
            min_share: 0.3,
            failure_backoff: Duration::from_secs(60),
            failure_backoff_cap: Duration::from_secs(30 * 60),
        }
    }
}

/// Why a project is due, most pressing first (ties between projects go to the lower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    Focus,
    Schedule,
    /// The project's published results were written since its last listing: a run ended
    /// there, and others (a chain, a refresh) may follow.
    Hint,
    Active,
    Dormant,
}

/// The next sweep: list `project_id` at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub project_id: String,
    pub at: Tick,
    pub reason: Reason,
}

/// How fresh the workspace view is, for status bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    pub projects: usize,
    /// Projects listed at least once.
    pub swept: usize,
    /// The oldest last sweep, once every project has had one.
    pub oldest: Option<Tick>,
}

#[derive(Debug, Clone, Default)]
struct Project {
    followed: bool,
    last_swept: Option<Tick>,
    in_flight: bool,
    /// When its newest known run started.
    last_activity: Option<Tick>,
    /// Fire times of its schedules, sorted; dropped once their last probe is done.
    fires: Vec<Tick>,
    /// When a hint said to list it (until a listing after that).
    hinted: Option<Tick>,
    not_before: Tick,
    /// Failed listings in a row.
    failures: u32,
}

#[derive(Debug, Clone)]
pub struct Discovery {
    policy: DiscoveryPolicy,
    projects: BTreeMap<String, Project>,
    cursor: Option<String>,
    /// Pinned by the operator: focused like the cursor's project.
    pinned: BTreeSet<String>,
    /// The kinds of the latest requests sent: true for a sweep.
    recent_kinds: VecDeque<bool>,
}

impl Discovery {
    pub fn new(policy: DiscoveryPolicy) -> Self {
        Discovery {
            policy,
            projects: BTreeMap::new(),
            cursor: None,
            pinned: BTreeSet::new(),
            recent_kinds: VecDeque::with_capacity(SHARE_WINDOW),
        }
    }

    pub fn policy(&self) -> &DiscoveryPolicy {
        &self.policy
    }

    /// The projects to sweep (live ones, minus those the config ignores), each with whether the
    /// config follows it. What is known about projects that stay is kept; gone ones are dropped.
    pub fn set_projects<I>(&mut self, projects: I)
    where
        I: IntoIterator<Item = (String, bool)>,
    {
        let mut next = BTreeMap::new();
        for (id, followed) in projects {
            let mut p = self.projects.remove(&id).unwrap_or_default();
            p.followed = followed;
            next.insert(id, p);
        }
        self.projects = next;
    }

    /// The fire times of a project's schedules around now (a little in the past, so a fire
    /// that just passed is still probed). Unknown projects are ignored.
    pub fn set_fires(&mut self, project_id: &str, mut fires: Vec<Tick>) {
        if let Some(p) = self.projects.get_mut(project_id) {
            fires.sort();
            fires.dedup();
            p.fires = fires;
            let last_probe = self.policy.probes.iter().max().copied().unwrap_or_default();
            prune(p, last_probe);
        }
    }

    /// The project the operator is looking at, listed often while there.
    pub fn set_cursor(&mut self, project_id: Option<String>) {
        self.cursor = project_id;
    }

    /// Word from outside a listing that `project_id` saw activity (its published results were
    /// written): with `activity` it counts as active from then, and when `list_soon` it is
    /// listed at `now` unless a listing comes first.
    pub fn hint(&mut self, now: Tick, project_id: &str, activity: Option<Tick>, list_soon: bool) {
        if let Some(p) = self.projects.get_mut(project_id) {
            p.last_activity = p.last_activity.max(activity);
            if list_soon {
                p.hinted = Some(now);
            }
        }
    }

    /// The projects the operator pinned, listed as often as the cursor's.
    pub fn set_pinned(&mut self, project_ids: impl IntoIterator<Item = String>) {
        self.pinned = project_ids.into_iter().collect();
    }

    /// When `project_id` was last listed, if it has been.
    pub fn last_swept(&self, project_id: &str) -> Option<Tick> {
        self.projects.get(project_id).and_then(|p| p.last_swept)
    }

    pub fn is_known(&self, project_id: &str) -> bool {
        self.projects.contains_key(project_id)
    }

    // ----- planning ------------------------------------------------------------------------

    /// The project most due for a listing, and when; `None` with no project (or all in flight).
    /// Among projects already due, the most pressing reason goes first (a schedule that just
    /// fired before a backlog of routine sweeps), then the longest overdue.
    pub fn next(&self, now: Tick) -> Option<Sweep> {
        self.projects
            .iter()
            .filter(|(_, p)| !p.in_flight)
            .map(|(id, p)| {
                let (at, reason) = self.due(id, p, now);
                (at, reason, p.last_swept, id)
            })
            .min_by(|a, b| {
                let key = |x: &(Tick, Reason, Option<Tick>, &String)| {
                    let due_now = x.0 <= now;
                    let pressing = matches!(x.1, Reason::Focus | Reason::Schedule);
                    // Due focus and schedule probes first; then the routine sweep latest for
                    // its kind (lateness in intervals: a busy project 20 s late goes before a
                    // quiet one 60 s late, but a quiet one left waiting long enough goes first,
                    // so a steady stream of busy projects never starves the quiet ones).
                    let late = if due_now {
                        self.lateness(x.1, now.saturating_since(x.0))
                    } else {
                        0
                    };
                    (
                        !(due_now && pressing),
                        !due_now,
                        std::cmp::Reverse(late),
                        x.0,
                        x.1,
                        x.2,
                    )
                };
                key(a).cmp(&key(b))
            })
            .map(|(at, reason, _, id)| Sweep {
                project_id: id.clone(),
                at,
                reason,
            })
    }

    /// How late a routine sweep is, in thousandths of its kind's interval.
    fn lateness(&self, reason: Reason, late: Duration) -> u128 {
        let every = match reason {
            Reason::Focus => self.policy.focus_every,
            Reason::Active | Reason::Hint => self.policy.active_every,
            Reason::Dormant | Reason::Schedule => self.policy.dormant_every,
        };
        late.as_millis() * 1000 / every.as_millis().max(1)
    }

    /// When a project falls due, and why.
    fn due(&self, id: &str, p: &Project, now: Tick) -> (Tick, Reason) {
        let focused = p.followed || self.cursor.as_deref() == Some(id) || self.pinned.contains(id);
        let active = p
            .last_activity
            .is_some_and(|t| now.saturating_since(t) < self.policy.recent);
        let (every, reason) = if focused {
            (self.policy.focus_every, Reason::Focus)
        } else if active {
            (self.policy.active_every, Reason::Active)
        } else {
            (self.policy.dormant_every, Reason::Dormant)
        };
        let periodic = p.last_swept.map_or(Tick::ZERO, |t| t + every);
        let probe = p
            .fires
            .iter()
            .flat_map(|fire| self.policy.probes.iter().map(move |o| *fire + *o))
            .filter(|t| p.last_swept.is_none_or(|s| s < *t))
            .min();
        let hint = p.hinted.filter(|h| p.last_swept.is_none_or(|s| s < *h));
        let (at, reason) = match (probe, hint) {
            // A probe that is due (or due before the routine sweep) is the reason, even when the
            // routine sweep is overdue too: it ranks the project ahead of a backlog.
            (Some(t), _) if t <= periodic.max(now) => (t.min(periodic), Reason::Schedule),
            // A hint brings a routine sweep forward, unless the project is focused (listed
            // often anyway).
            (_, Some(h)) if reason != Reason::Focus && h < periodic => (h, Reason::Hint),
            _ => (periodic, reason),
        };
        (at.max(p.not_before), reason)
    }

    /// Marks `project_id` in flight: a sweep of it was sent.
    pub fn start(&mut self, project_id: &str) {
        if let Some(p) = self.projects.get_mut(project_id) {
            p.in_flight = true;
        }
    }

    /// A request was sent (`sweep` or a status poll): the share of sweeps is judged from these.
    pub fn note_sent(&mut self, sweep: bool) {
        if self.recent_kinds.len() == SHARE_WINDOW {
            self.recent_kinds.pop_front();
        }
        self.recent_kinds.push_back(sweep);
    }

    /// True when `next` (the sweep [`Discovery::next`] planned at `now`) must not wait for a
    /// gap between polls: a schedule just fired or the operator is looking (due at `now`), or
    /// sweeps got less than their minimum share of the latest requests. Even then sweeps take
    /// at most half of the requests: followed runs come first.
    pub fn pressing(&self, next: Option<&Sweep>, now: Tick) -> bool {
        let urgent = next
            .is_some_and(|s| s.at <= now && matches!(s.reason, Reason::Focus | Reason::Schedule));
        (urgent && self.share() < 0.5) || self.starved()
    }

    /// The share of sweeps among the latest requests.
    fn share(&self) -> f64 {
        if self.recent_kinds.is_empty() {
            return 0.0;
        }
        let sweeps = self.recent_kinds.iter().filter(|s| **s).count();
        sweeps as f64 / self.recent_kinds.len() as f64
    }

    /// True when sweeps got less than their minimum share of the latest requests.
    pub fn starved(&self) -> bool {
        !self.recent_kinds.is_empty() && self.share() < self.policy.min_share
    }

    // ----- outcomes ------------------------------------------------------------------------

    /// `project_id` was listed at `now` (by a sweep or a batched poll); `newest_start` is when
    /// the newest run in the answer started, if any did.
    pub fn swept(&mut self, now: Tick, project_id: &str, newest_start: Option<Tick>) {
        let last_probe = self.policy.probes.iter().max().copied().unwrap_or_default();
        if let Some(p) = self.projects.get_mut(project_id) {
            p.in_flight = false;
            p.last_swept = Some(p.last_swept.map_or(now, |t| t.max(now)));
            p.not_before = Tick::ZERO;
            p.failures = 0;
            p.last_activity = p.last_activity.max(newest_start);
            prune(p, last_probe);
        }
    }

    /// Listing `project_id` failed at `now`: it is left alone for a while, longer each time.
    pub fn failed(&mut self, now: Tick, project_id: &str) {
        let (base, cap) = (self.policy.failure_backoff, self.policy.failure_backoff_cap);
        if let Some(p) = self.projects.get_mut(project_id) {
            p.in_flight = false;
            p.failures = p.failures.saturating_add(1);
            let doublings = p.failures.saturating_sub(1).min(16);
            p.not_before = now + base.saturating_mul(1 << doublings).min(cap.max(base));
        }
    }

    /// The sweep got no answer that counts (another process listed the project moments ago, or
    /// Hex answered 429): counts as listed at `now` when `covered`, otherwise it is simply due
    /// again.
    pub fn not_sent(&mut self, now: Tick, project_id: &str, covered: bool) {
        if covered {
            self.swept(now, project_id, None);
        } else if let Some(p) = self.projects.get_mut(project_id) {
            p.in_flight = false;
        }
    }

    pub fn freshness(&self) -> Freshness {
        let swept = self
            .projects
            .values()
            .filter(|p| p.last_swept.is_some())
            .count();
        let oldest = if swept == self.projects.len() {
            self.projects.values().filter_map(|p| p.last_swept).min()
        } else {
            None
        };
        Freshness {
            projects: self.projects.len(),
            swept,
            oldest,
        }
    }
}

/// Drops fire times whose every probe is behind the last sweep.
fn prune(p: &mut Project, last_probe: Duration) {
    if let Some(swept) = p.last_swept {
        p.fires.retain(|fire| *fire + last_probe > swept);
    }
}

/// What the driver sends next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Poll(Tick),
    Sweep(Tick),
}

/// Picks between the poll scheduler's next request (`poll_at`) and discovery's (`sweep_at`, both
/// already held to the pacing between requests, `spacing` apart at least). Followed runs come
/// first: a sweep goes only into a gap where it does not hold the next poll back, or when it is
/// `pressing` (see [`Discovery::pressing`]).
pub fn choose(
    poll_at: Option<Tick>,
    sweep_at: Option<Tick>,
    pressing: bool,
    spacing: Duration,
) -> Option<Next> {
    match (poll_at, sweep_at) {
        (None, None) => None,
        (Some(p), None) => Some(Next::Poll(p)),
        (None, Some(s)) => Some(Next::Sweep(s)),
        (Some(p), Some(s)) if s + spacing <= p || (pressing && s <= p) => Some(Next::Sweep(s)),
        (Some(p), Some(_)) => Some(Next::Poll(p)),
    }
}

#[cfg(test)]
mod tests;
