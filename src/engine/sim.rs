//! A deterministic simulation of status polling against Hex's rate limit, on a virtual clock.
//!
//! Owns the yardstick for DESIGN.md "One request budget": given runs (project, launch, true
//! PENDING and RUNNING times, as the emulator plans them), the limits and a strategy (our
//! scheduler driven the way the engine's driver drives it, or naive per-run polling every P
//! seconds as the existing integrations do), it reports requests sent, 429s received and the
//! lag between each run's true end and its detection. The server model follows HEX_API.md
//! "Limits": one window of `requests_per_minute` that starts at the first request and resets
//! 60 s later, counting every request; a 429 returns no data. Only status polls are sent: the
//! runs start at their given times as if launched elsewhere (a schedule, another user), so
//! RunProject and its 20/min window are not modelled. Used by unit tests, the criterion
//! benchmark (`benches/scheduler.rs`) and BENCHMARKS.md. Pure: no I/O, no sleeping, no real
//! time (the shared `Budget` is fed virtual instants).

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::poll_policy::PollPolicy;
use super::scheduler::{Poll, RunKey, Scheduler, SchedulerConfig, WatchInfo};
use super::tick::Tick;
use crate::hex::{Budget, Limits, Priority, RunStatus};

const WINDOW: Duration = Duration::from_secs(60);

/// One run in a scenario. Its lifecycle is the emulator's (`emulator::state`): PENDING from the
/// launch until a kernel starts, RUNNING for `duration`, then COMPLETED.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRun {
    pub project: usize,
    /// When it was launched, from the start of the simulation.
    pub start: Duration,
    /// How long it stays PENDING before RUNNING (the emulator's `pending_secs`).
    pub pending: Duration,
    /// How long it stays RUNNING before Hex reports it COMPLETED (the emulator's
    /// `duration_secs`).
    pub duration: Duration,
    /// What the project's history would predict, if anything. Like the engine's statistics
    /// (`stats::duration_stats`, from `startTime` to `endTime`) this is RUNNING time, while the
    /// scheduler counts a run's age from its launch.
    pub expected: Option<Duration>,
}

impl SimRun {
    /// When Hex starts reporting it RUNNING.
    pub fn running_from(&self) -> Tick {
        Tick::from_duration(self.start + self.pending)
    }

    /// Its true end: when Hex starts reporting it COMPLETED.
    pub fn end(&self) -> Tick {
        Tick::from_duration(self.start + self.pending + self.duration)
    }

    fn status_at(&self, t: Tick) -> RunStatus {
        if t < self.running_from() {
            RunStatus::Pending
        } else if t < self.end() {
            RunStatus::Running
        } else {
            RunStatus::Completed
        }
    }
}

/// How the client polls.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per simulation; boxing would only cost readability"
)]
pub enum Strategy {
    /// Our scheduler, with the shared budget checked before every request.
    Scheduler(PollPolicy),
    /// One GetRunStatus per run every `every` (first one `every` after launch), no batching,
    /// no budget; after a 429 it just tries again at its next interval.
    Naive { every: Duration },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    pub limits: Limits,
    /// Time from sending a request to having its answer.
    pub latency: Duration,
    /// How long to keep going after the last true end before giving up on detection.
    pub tail: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            limits: Limits::default(),
            latency: Duration::from_millis(250),
            tail: Duration::from_secs(600),
        }
    }
}

/// What a simulation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct SimReport {
    pub runs: usize,
    /// Runs whose end was never seen before the simulation gave up (their lag counts as the
    /// time to the end of the simulation, so they make the figures worse, not better).
    pub undetected: usize,
    pub requests: u64,
    pub rate_limited: u64,
    /// The most requests sent in any sliding 60 s window.
    pub max_requests_per_minute: usize,
    pub mean_lag: Duration,
    pub p95_lag: Duration,
    pub max_lag: Duration,
    /// Every run's lag, sorted, so reports of several seeds can be pooled.
    pub lags: Vec<Duration>,
}

impl SimReport {
    /// One report for several simulations (e.g. many seeds): a p95 over 25 runs is noisy, a
    /// p95 over hundreds is not.
    pub fn pooled(reports: &[SimReport]) -> SimReport {
        let lags: Vec<Duration> = reports
            .iter()
            .flat_map(|r| r.lags.iter().copied())
            .collect();
        let mut pooled = SimReport::from_lags(lags);
        pooled.undetected = reports.iter().map(|r| r.undetected).sum();
        pooled.requests = reports.iter().map(|r| r.requests).sum();
        pooled.rate_limited = reports.iter().map(|r| r.rate_limited).sum();
        pooled.max_requests_per_minute = reports
            .iter()
            .map(|r| r.max_requests_per_minute)
            .max()
            .unwrap_or(0);
        pooled
    }

    /// The lag statistics of `lags`; counters left at zero.
    fn from_lags(mut lags: Vec<Duration>) -> SimReport {
        lags.sort();
        let n = lags.len();
        let total: Duration = lags.iter().sum();
        let mean_lag = u32::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .map_or(Duration::ZERO, |n| total / n);
        // Nearest-rank percentile.
        let p95_rank = (n * 95).div_ceil(100).max(1) - 1;
        SimReport {
            runs: n,
            undetected: 0,
            requests: 0,
            rate_limited: 0,
            max_requests_per_minute: 0,
            mean_lag,
            p95_lag: lags.get(p95_rank).copied().unwrap_or_default(),
            max_lag: lags.last().copied().unwrap_or_default(),
            lags,
        }
    }
}

impl SimReport {
    /// The header of the Markdown table [`SimReport::table_row`] fills (BENCHMARKS.md).
    pub const TABLE_HEADER: &'static str = "| strategy | runs | requests | 429s | peak/min \
         | mean lag | p95 lag | max lag |\n|---|---|---|---|---|---|---|---|";

    /// This report as one row of the Markdown table under [`SimReport::TABLE_HEADER`].
    pub fn table_row(&self, label: &str) -> String {
        let undetected = if self.undetected == 0 {
            String::new()
        } else {
            format!(" ({} undetected)", self.undetected)
        };
        format!(
            "| {label} | {}{undetected} | {} | {} ({:.1} %) | {} | {:.2} s | {:.2} s | {:.2} s |",
            self.runs,
            self.requests,
            self.rate_limited,
            self.refused_percent(),
            self.max_requests_per_minute,
            self.mean_lag.as_secs_f64(),
            self.p95_lag.as_secs_f64(),
            self.max_lag.as_secs_f64(),
        )
    }

    /// Share of the requests sent that Hex refused with a 429.
    pub fn refused_percent(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            100.0 * self.rate_limited as f64 / self.requests as f64
        }
    }
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let refused = self.refused_percent();
        write!(
            f,
            "{} runs: {} requests, {} × 429 ({refused:.1} %), peak {}/min; end-detection lag \
             mean {:.2} s, p95 {:.2} s, max {:.2} s; undetected {}",
            self.runs,
            self.requests,
            self.rate_limited,
            self.max_requests_per_minute,
            self.mean_lag.as_secs_f64(),
            self.p95_lag.as_secs_f64(),
            self.max_lag.as_secs_f64(),
            self.undetected,
        )
    }
}

/// Salt of the pending-time draws, so adding them left every run's start and duration (and so
/// the earlier figures' scenarios) as they were.
const PENDING_SEED_SALT: u64 = 0x7065_6e64;

/// `runs` runs spread round-robin over `projects` projects, all launched within the first
/// minute, each RUNNING uniformly 30 s to 20 min (the scenario of DESIGN.md) after PENDING
/// uniformly 2–5 s (the emulator's default `pending_secs`).
pub fn scenario(seed: u64, runs: usize, projects: usize) -> Vec<SimRun> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut pending_rng = fastrand::Rng::with_seed(seed ^ PENDING_SEED_SALT);
    (0..runs)
        .map(|i| SimRun {
            project: i % projects.max(1),
            start: Duration::from_millis(rng.u64(0..60_000)),
            duration: Duration::from_millis(rng.u64(30_000..=1_200_000)),
            pending: Duration::from_millis(pending_rng.u64(2_000..=5_000)),
            expected: None,
        })
        .collect()
}

/// Gives every run an expected duration within ±`spread` (e.g. 0.2) of its true RUNNING time:
/// what a project with a steady history would offer.
pub fn with_history(mut runs: Vec<SimRun>, seed: u64, spread: f64) -> Vec<SimRun> {
    let mut rng = fastrand::Rng::with_seed(seed);
    for run in &mut runs {
        let factor = 1.0 + spread * (2.0 * rng.f64() - 1.0);
        run.expected = Some(run.duration.mul_f64(factor.max(0.0)));
    }
    runs
}

/// Runs the scenario and measures it.
pub fn simulate(runs: &[SimRun], config: &SimConfig, strategy: &Strategy) -> SimReport {
    let mut world = World::new(runs, config);
    match strategy {
        Strategy::Scheduler(policy) => world.run_scheduler(*policy),
        Strategy::Naive { every } => world.run_naive(*every),
    }
    world.report()
}

/// Hex's counter (HEX_API.md "Limits"): a fixed window opened by the first request.
#[derive(Debug)]
pub(crate) struct FixedWindowServer {
    limit: u32,
    opened: Option<Tick>,
    count: u32,
}

impl FixedWindowServer {
    pub(crate) fn new(limit: u32) -> Self {
        FixedWindowServer {
            limit,
            opened: None,
            count: 0,
        }
    }

    /// Counts a request at `now`; `Err(retry_after)` when it is over the limit.
    pub(crate) fn admit(&mut self, now: Tick) -> Result<(), Duration> {
        let opened = match self.opened {
            Some(t) if now.saturating_since(t) < WINDOW => t,
            _ => {
                self.count = 0;
                self.opened = Some(now);
                now
            }
        };
        self.count += 1;
        if self.count <= self.limit {
            return Ok(());
        }
        // Retry-After is whole seconds; round up so that obeying it really lands past the reset.
        let left = (opened + WINDOW).saturating_since(now);
        Err(Duration::from_secs(
            left.as_millis().div_ceil(1000).max(1) as u64
        ))
    }
}

enum Answer {
    Statuses(Vec<(RunKey, RunStatus)>),
    RateLimited(Duration),
}

struct InFlight {
    arrives: Tick,
    poll: Poll,
    answer: Answer,
}

struct World<'a> {
    runs: &'a [SimRun],
    config: SimConfig,
    server: FixedWindowServer,
    sent: Vec<Tick>,
    rate_limited: u64,
    detected: Vec<Option<Tick>>,
    horizon: Tick,
}

impl<'a> World<'a> {
    fn new(runs: &'a [SimRun], config: &SimConfig) -> Self {
        let last_end = runs.iter().map(SimRun::end).max().unwrap_or(Tick::ZERO);
        World {
            runs,
            config: *config,
            server: FixedWindowServer {
                limit: config.limits.requests_per_minute,
                opened: None,
                count: 0,
            },
            sent: Vec::new(),
            rate_limited: 0,
            detected: vec![None; runs.len()],
            horizon: last_end + config.tail,
        }
    }

    fn key(&self, index: usize) -> RunKey {
        let project = self.runs.get(index).map_or(0, |r| r.project);
        RunKey::new(format!("project-{project}"), format!("run-{index}"))
    }

    fn index_of(key: &RunKey) -> Option<usize> {
        key.run_id.strip_prefix("run-")?.parse().ok()
    }

    /// Sends `poll` at `now` to the model server and returns what will come back.
    fn send(&mut self, now: Tick, poll: Poll) -> InFlight {
        self.sent.push(now);
        let answer = match self.server.admit(now) {
            Err(retry_after) => {
                self.rate_limited += 1;
                Answer::RateLimited(retry_after)
            }
            Ok(()) => Answer::Statuses(self.truth(now, &poll)),
        };
        InFlight {
            arrives: now + self.config.latency,
            poll,
            answer,
        }
    }

    /// What Hex would answer at `now`: for a project, every run of it launched so far (all
    /// within the newest 100 in these scenarios).
    fn truth(&self, now: Tick, poll: &Poll) -> Vec<(RunKey, RunStatus)> {
        match poll {
            Poll::Run(key) => Self::index_of(key)
                .and_then(|i| self.runs.get(i))
                .map(|r| vec![(key.clone(), r.status_at(now))])
                .unwrap_or_default(),
            Poll::Project { project_id, .. } => (0..self.runs.len())
                .filter_map(|i| {
                    let key = self.key(i);
                    let run = self.runs.get(i)?;
                    let launched = Tick::from_duration(run.start) <= now;
                    (launched && key.project_id == *project_id).then(|| (key, run.status_at(now)))
                })
                .collect(),
        }
    }

    fn all_detected(&self) -> bool {
        self.detected.iter().all(Option::is_some)
    }

    fn run_scheduler(&mut self, policy: PollPolicy) {
        let limits = self.config.limits;
        let mut sched = Scheduler::new(SchedulerConfig { limits, policy });
        // The real shared budget, fed virtual instants: only differences between them matter.
        let budget = Budget::new(limits);
        let epoch = Instant::now();
        let mut order: Vec<usize> = (0..self.runs.len()).collect();
        order.sort_by_key(|&i| self.runs.get(i).map(|r| r.start));
        let mut next_start = 0;
        let mut flying: Vec<InFlight> = Vec::new();
        let mut now = Tick::ZERO;
        while now <= self.horizon {
            while let Some(&i) = order.get(next_start) {
                let Some(run) = self.runs.get(i) else { break };
                let launched = Tick::from_duration(run.start);
                if launched > now {
                    break;
                }
                let info = WatchInfo {
                    expected_duration: run.expected,
                    ..WatchInfo::launched(launched)
                };
                sched.watch(self.key(i), info);
                next_start += 1;
            }
            let (arrived, still): (Vec<InFlight>, Vec<InFlight>) =
                flying.into_iter().partition(|f| f.arrives <= now);
            flying = still;
            for f in arrived {
                match f.answer {
                    Answer::Statuses(statuses) => {
                        let applied = sched.on_result(now, &f.poll, &statuses);
                        for (key, _) in applied.ended {
                            if let Some(slot) =
                                Self::index_of(&key).and_then(|i| self.detected.get_mut(i))
                            {
                                *slot = Some(now);
                            }
                        }
                    }
                    Answer::RateLimited(retry_after) => {
                        sched.on_rate_limited(now, &f.poll, Some(retry_after));
                    }
                }
            }
            if next_start >= order.len() && flying.is_empty() && self.all_detected() {
                break;
            }
            let plan = sched.next(now);
            if plan.as_ref().is_some_and(|p| p.at <= now) {
                match budget.try_acquire(Priority::Poll, now.to_instant(epoch)) {
                    Err(wait) => sched.defer(now + wait),
                    Ok(()) => {
                        if let Some(poll) = sched.dispatch(now) {
                            let f = self.send(now, poll);
                            flying.push(f);
                        }
                    }
                }
                continue;
            }
            let upcoming = [
                plan.map(|p| p.at),
                flying.iter().map(|f| f.arrives).min(),
                order
                    .get(next_start)
                    .and_then(|&i| self.runs.get(i))
                    .map(|r| Tick::from_duration(r.start)),
            ];
            match upcoming.into_iter().flatten().min() {
                Some(t) if t > now => now = t,
                _ => break,
            }
        }
    }

    fn run_naive(&mut self, every: Duration) {
        // Each run's next poll, or None while its request is in flight.
        let mut next_poll: Vec<Option<Tick>> = self
            .runs
            .iter()
            .map(|r| Some(Tick::from_duration(r.start) + every))
            .collect();
        let mut flying: Vec<InFlight> = Vec::new();
        let mut now = Tick::ZERO;
        while now <= self.horizon {
            let (arrived, still): (Vec<InFlight>, Vec<InFlight>) =
                flying.into_iter().partition(|f| f.arrives <= now);
            flying = still;
            for f in arrived {
                let Some(i) = f.poll.runs().first().and_then(Self::index_of) else {
                    continue;
                };
                if let Answer::Statuses(statuses) = &f.answer
                    && statuses.iter().any(|(_, s)| s.is_terminal())
                {
                    if let Some(slot) = self.detected.get_mut(i) {
                        *slot = Some(now);
                    }
                    continue;
                }
                if let Some(slot) = next_poll.get_mut(i) {
                    *slot = Some(now + every);
                }
            }
            for i in 0..self.runs.len() {
                let due = next_poll.get(i).copied().flatten();
                if due.is_some_and(|t| t <= now) && self.detected.get(i) == Some(&None) {
                    let f = self.send(now, Poll::Run(self.key(i)));
                    flying.push(f);
                    if let Some(slot) = next_poll.get_mut(i) {
                        *slot = None;
                    }
                }
            }
            if flying.is_empty() && self.all_detected() {
                break;
            }
            let upcoming = flying.iter().map(|f| f.arrives).chain(
                next_poll
                    .iter()
                    .zip(&self.detected)
                    .filter(|(_, d)| d.is_none())
                    .filter_map(|(p, _)| *p),
            );
            match upcoming.min() {
                Some(t) if t > now => now = t,
                _ => break,
            }
        }
    }

    fn report(&self) -> SimReport {
        let lags: Vec<Duration> = self
            .runs
            .iter()
            .zip(&self.detected)
            .map(|(run, seen)| seen.unwrap_or(self.horizon).saturating_since(run.end()))
            .collect();
        SimReport {
            undetected: self.detected.iter().filter(|d| d.is_none()).count(),
            requests: self.sent.len() as u64,
            rate_limited: self.rate_limited,
            max_requests_per_minute: max_in_window(&self.sent, WINDOW),
            ..SimReport::from_lags(lags)
        }
    }
}

/// The most entries of sorted `times` inside any half-open window `[t, t + width)`.
pub fn max_in_window(times: &[Tick], width: Duration) -> usize {
    let mut best = 0;
    let mut first = 0;
    for (last, t) in times.iter().enumerate() {
        while times
            .get(first)
            .is_some_and(|f| t.saturating_since(*f) >= width)
        {
            first += 1;
        }
        best = best.max(last + 1 - first);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: u64 = 20_260_101;

    fn print(label: &str, report: &SimReport) {
        println!("{label}: {report}");
    }

    #[test]
    fn the_scenario_is_what_design_md_describes() {
        let runs = scenario(SEED, 25, 5);
        assert_eq!(runs.len(), 25);
        assert!(runs.iter().all(|r| r.start < Duration::from_secs(60)));
        assert!(
            runs.iter().all(|r| r.duration >= Duration::from_secs(30)
                && r.duration <= Duration::from_secs(1200))
        );
        assert!(
            runs.iter().all(|r| r.pending >= Duration::from_secs(2)
                && r.pending <= Duration::from_secs(5))
        );
        for p in 0..5 {
            assert_eq!(runs.iter().filter(|r| r.project == p).count(), 5);
        }
        assert_eq!(runs, scenario(SEED, 25, 5), "seeded, so deterministic");
    }

    #[test]
    fn a_run_is_pending_then_running_then_completed_like_the_emulators() {
        let run = SimRun {
            project: 0,
            start: Duration::from_secs(10),
            pending: Duration::from_secs(3),
            duration: Duration::from_secs(30),
            expected: None,
        };
        assert_eq!(run.status_at(Tick::from_secs(10)), RunStatus::Pending);
        assert_eq!(run.status_at(Tick::from_millis(12_999)), RunStatus::Pending);
        assert_eq!(run.running_from(), Tick::from_secs(13));
        assert_eq!(run.status_at(Tick::from_secs(13)), RunStatus::Running);
        assert_eq!(run.end(), Tick::from_secs(43));
        assert_eq!(run.status_at(Tick::from_secs(43)), RunStatus::Completed);
    }

    #[test]
    fn the_server_window_opens_at_the_first_request_and_counts_refusals() {
        let mut server = FixedWindowServer {
            limit: 2,
            opened: None,
            count: 0,
        };
        assert!(server.admit(Tick::from_secs(10)).is_ok());
        assert!(server.admit(Tick::from_secs(20)).is_ok());
        assert_eq!(
            server.admit(Tick::from_millis(30_500)),
            Err(Duration::from_secs(40))
        );
        assert!(server.admit(Tick::from_secs(69)).is_err());
        assert!(server.admit(Tick::from_secs(70)).is_ok(), "window reset");
    }

    #[test]
    fn sliding_window_counter_counts_half_open_windows() {
        let times: Vec<Tick> = [0, 30, 59_999, 60_000, 60_001]
            .into_iter()
            .map(Tick::from_millis)
            .collect();
        assert_eq!(max_in_window(&times, WINDOW), 4);
        assert_eq!(max_in_window(&[], WINDOW), 0);
    }

    #[test]
    fn scheduler_beats_naive_polling_without_a_single_429() {
        let runs = scenario(SEED, 25, 5);
        let config = SimConfig::default();
        let ours = simulate(&runs, &config, &Strategy::Scheduler(PollPolicy::default()));
        let naive3 = simulate(
            &runs,
            &config,
            &Strategy::Naive {
                every: Duration::from_secs(3),
            },
        );
        let naive5 = simulate(
            &runs,
            &config,
            &Strategy::Naive {
                every: Duration::from_secs(5),
            },
        );
        let history = with_history(runs.clone(), SEED + 1, 0.2);
        let ours_hist = simulate(
            &history,
            &config,
            &Strategy::Scheduler(PollPolicy::default()),
        );
        print("scheduler", &ours);
        print("scheduler, history ±20 %", &ours_hist);
        print("naive 3 s", &naive3);
        print("naive 5 s", &naive5);

        assert_eq!(ours.undetected, 0);
        assert_eq!(ours.rate_limited, 0, "{ours}");
        assert!(ours.p95_lag < Duration::from_secs(6), "{ours}");
        let poll_budget = Scheduler::polls_per_minute(&config.limits) as usize;
        assert!(ours.max_requests_per_minute <= poll_budget, "{ours}");
        assert!(naive3.rate_limited > 0, "{naive3}");
        assert!(naive3.p95_lag > ours.p95_lag, "{naive3} vs {ours}");
        assert_eq!(ours_hist.rate_limited, 0, "{ours_hist}");
        assert!(ours_hist.p95_lag < Duration::from_secs(6), "{ours_hist}");
    }

    #[test]
    fn over_many_seeds_the_scheduler_stays_under_six_seconds_at_p95() {
        let config = SimConfig::default();
        let run_all = |strategy: Strategy| -> SimReport {
            let reports: Vec<SimReport> = (1..=20)
                .map(|seed| simulate(&scenario(seed, 25, 5), &config, &strategy))
                .collect();
            SimReport::pooled(&reports)
        };
        let ours = run_all(Strategy::Scheduler(PollPolicy::default()));
        let naive3 = run_all(Strategy::Naive {
            every: Duration::from_secs(3),
        });
        print("scheduler, 20 seeds pooled", &ours);
        print("naive 3 s, 20 seeds pooled", &naive3);
        assert_eq!(ours.runs, 500);
        assert_eq!(ours.rate_limited, 0, "{ours}");
        assert_eq!(ours.undetected, 0, "{ours}");
        assert!(ours.p95_lag < Duration::from_secs(6), "{ours}");
        assert!(
            naive3.rate_limited > 0 && naive3.p95_lag > ours.p95_lag * 3,
            "{naive3}"
        );
    }

    #[test]
    fn a_single_run_is_polled_fast_and_cheaply() {
        let runs = vec![SimRun {
            project: 0,
            start: Duration::ZERO,
            pending: Duration::ZERO,
            duration: Duration::from_secs(300),
            expected: None,
        }];
        let report = simulate(
            &runs,
            &SimConfig::default(),
            &Strategy::Scheduler(PollPolicy::default()),
        );
        print("one run", &report);
        assert_eq!(report.undetected, 0);
        assert!(report.max_lag <= Duration::from_millis(5_500), "{report}");
        // ~1 request per 5 s once old: far below the budget.
        assert!(report.requests < 100, "{report}");
    }
}
