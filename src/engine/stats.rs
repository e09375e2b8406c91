//! Stuck-run detection: per-project duration statistics from the journal or from Hex's own
//! listing of the project, and the rule that flags a run as overdue.
//!
//! Owns the thresholds. A run is overdue when it has been running well past its project's p95
//! (1.5 × p95, and at least a minute past it, so short projects do not flap), or has sat in
//! PENDING longer than `pending_limit` (a queue or kernel problem on Hex's side). Statistics use
//! COMPLETED runs only: killed and errored runs end early and would drag the percentiles down.
//! Pure functions over journal data; the caller passes "now".

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use crate::hex::RunStatus;
use crate::hex::types::RunStatusResponse;
use crate::journal::JournalState;

/// At most this many recent runs count, so a project that got faster is judged by its present.
const RECENT: usize = 50;
/// Fewer completed runs than this say too little to call anything overdue.
const MIN_COUNT: usize = 3;
/// PENDING longer than this is flagged overdue (the engine's default; a queue or kernel problem).
pub const PENDING_LIMIT: Duration = Duration::from_secs(300);

/// Duration statistics of one project's recent completed runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DurationStats {
    pub count: usize,
    #[serde(with = "secs")]
    pub p50: Duration,
    #[serde(with = "secs")]
    pub p95: Duration,
}

mod secs {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// Why a run is flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Overdue {
    /// Running for `running`, where the project's p95 is `p95`.
    PastUsual {
        #[serde(with = "secs")]
        running: Duration,
        #[serde(with = "secs")]
        p95: Duration,
    },
    /// PENDING for `pending`.
    PendingTooLong {
        #[serde(with = "secs")]
        pending: Duration,
    },
}

impl std::fmt::Display for Overdue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overdue::PastUsual { running, p95 } => write!(
                f,
                "overdue: running {}s, usually done within {}s (p95)",
                running.as_secs(),
                p95.as_secs()
            ),
            Overdue::PendingTooLong { pending } => {
                write!(f, "overdue: pending for {}s", pending.as_secs())
            }
        }
    }
}

/// The project's statistics, or `None` with fewer than three completed runs on record.
pub fn duration_stats(state: &JournalState, project_id: &str) -> Option<DurationStats> {
    let mut secs: Vec<Duration> = state
        .durations(project_id)
        .into_iter()
        .filter(|d| d.status == RunStatus::Completed)
        .take(RECENT)
        .filter_map(|d| Duration::try_from(d.duration).ok())
        .collect();
    stats_of(&mut secs)
}

/// The median time from hexdash's launch (or first sight) to Hex's end, over recent completed
/// runs: what the poll scheduler, which counts a run's age from its launch, should expect. The
/// running-time statistics above leave out the PENDING phase and would aim polls too early.
pub fn expected_total(state: &JournalState, project_id: &str) -> Option<Duration> {
    let mut totals: Vec<Duration> = state
        .runs()
        .rev()
        .filter(|r| r.project_id == project_id && r.status == Some(RunStatus::Completed))
        .filter_map(|r| Duration::try_from(r.end_time?.duration_since(r.first_at)).ok())
        .take(RECENT)
        .collect();
    stats_of(&mut totals).map(|s| s.p50)
}

/// A completed run said to have taken longer than this is not counted towards the usual time.
const MAX_USUAL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The project's usual running time from a listing of its newest runs (Hex's `elapsedTime` of
/// the COMPLETED ones, at most [`RECENT`]): the same statistic as [`duration_stats`], for
/// projects no hexdash has launched.
pub fn from_listing(runs: &[RunStatusResponse]) -> Option<DurationStats> {
    let mut durations: Vec<Duration> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Completed)
        .filter_map(|r| r.elapsed_time)
        // Server numbers: anything that is not a sane duration says nothing about the usual.
        .filter_map(|ms| Duration::try_from_secs_f64(ms / 1000.0).ok())
        .filter(|d| *d <= MAX_USUAL)
        .take(RECENT)
        .collect();
    stats_of(&mut durations)
}

/// p50 and p95 (nearest rank) of `durations`; `None` with fewer than [`MIN_COUNT`].
pub fn stats_of(durations: &mut [Duration]) -> Option<DurationStats> {
    if durations.len() < MIN_COUNT {
        return None;
    }
    durations.sort_unstable();
    Some(DurationStats {
        count: durations.len(),
        p50: nearest_rank(durations, 0.5)?,
        p95: nearest_rank(durations, 0.95)?,
    })
}

/// The `q` quantile (0–1) of `sorted` by nearest rank; `None` when empty.
pub fn nearest_rank(sorted: &[Duration], q: f64) -> Option<Duration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let i = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted.get(i).copied()
}

/// Whether a run in `status`, started at `start_time` (Hex's time; `None` while PENDING) and first
/// seen by hexdash at `first_seen`, is overdue at `now`.
pub fn overdue(
    status: Option<&RunStatus>,
    start_time: Option<Timestamp>,
    first_seen: Timestamp,
    stats: Option<&DurationStats>,
    pending_limit: Duration,
    now: Timestamp,
) -> Option<Overdue> {
    let since = |t: Timestamp| Duration::try_from(now.duration_since(t)).unwrap_or_default();
    match status {
        Some(RunStatus::Pending) | None => {
            let pending = since(first_seen);
            (pending > pending_limit).then_some(Overdue::PendingTooLong { pending })
        }
        Some(RunStatus::Running) => {
            let stats = stats?;
            let running = since(start_time.unwrap_or(first_seen));
            // Saturating: the statistics may come from Hex's numbers, whatever they are.
            let limit = stats
                .p95
                .checked_mul(3)
                .map_or(Duration::MAX, |d| d / 2)
                .max(stats.p95.saturating_add(Duration::from_secs(60)));
            (running > limit).then_some(Overdue::PastUsual {
                running,
                p95: stats.p95,
            })
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(list: &[u64]) -> Vec<Duration> {
        list.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut d = secs(&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        let s = stats_of(&mut d).unwrap();
        assert_eq!(s.count, 10);
        assert_eq!(s.p50, Duration::from_secs(50));
        assert_eq!(s.p95, Duration::from_secs(100));
    }

    #[test]
    fn too_little_history_gives_no_stats() {
        assert_eq!(stats_of(&mut secs(&[10, 20])), None);
        assert!(stats_of(&mut secs(&[10, 20, 30])).is_some());
    }

    #[test]
    fn absurd_statistics_judge_without_overflowing() {
        let huge = DurationStats {
            count: 3,
            p50: Duration::MAX,
            p95: Duration::MAX,
        };
        let running = Some(&RunStatus::Running);
        let limit = Duration::from_secs(600);
        assert_eq!(
            overdue(running, Some(t(0)), t(0), Some(&huge), limit, t(1_000_000)),
            None
        );
    }

    #[test]
    fn a_run_is_overdue_well_past_p95_only() {
        let stats = stats_of(&mut secs(&[100, 100, 100, 200])).unwrap();
        let limit = Duration::from_secs(600);
        let running = Some(&RunStatus::Running);
        // p95 200 s: the line is max(300 s, 260 s) = 300 s.
        assert_eq!(
            overdue(running, Some(t(0)), t(0), Some(&stats), limit, t(299)),
            None
        );
        assert_eq!(
            overdue(running, Some(t(0)), t(0), Some(&stats), limit, t(301)),
            Some(Overdue::PastUsual {
                running: Duration::from_secs(301),
                p95: Duration::from_secs(200)
            })
        );
        // Without history nothing is called overdue while it runs.
        assert_eq!(
            overdue(running, Some(t(0)), t(0), None, limit, t(100_000)),
            None
        );
    }

    #[test]
    fn short_projects_get_a_minute_of_slack() {
        let stats = stats_of(&mut secs(&[10, 10, 10])).unwrap();
        let running = Some(&RunStatus::Running);
        let limit = Duration::from_secs(600);
        assert_eq!(
            overdue(running, Some(t(0)), t(0), Some(&stats), limit, t(60)),
            None
        );
        assert!(overdue(running, Some(t(0)), t(0), Some(&stats), limit, t(71)).is_some());
    }

    #[test]
    fn pending_too_long_is_flagged_and_ended_runs_never_are() {
        let limit = Duration::from_secs(300);
        let pending = Some(&RunStatus::Pending);
        assert_eq!(overdue(pending, None, t(0), None, limit, t(300)), None);
        assert_eq!(
            overdue(pending, None, t(0), None, limit, t(301)),
            Some(Overdue::PendingTooLong {
                pending: Duration::from_secs(301)
            })
        );
        let done = Some(&RunStatus::Completed);
        assert_eq!(overdue(done, None, t(0), None, limit, t(100_000)), None);
    }
}
