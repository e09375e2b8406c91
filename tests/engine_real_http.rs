#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(any(debug_assertions, feature = "sim"))]
//! The short real-HTTP run that confirms the polling simulation (BENCHMARKS.md): 10 runs across
//! 5 projects, launched through the real `Engine` (real HTTP, the real shared `Budget` at Hex's
//! 60 requests/minute, the real scheduler and driver) against the emulator in-process at 1×
//! speed. For each run it compares the emulator's true end with the engine's first observation
//! of the terminal status, counts what the emulator received (requests, 429s, peak per minute),
//! and runs `engine::sim` on the very same runs for comparison.
//!
//! Takes about 100 s of wall-clock time (the last run ends ~92 s after launch), so it is ignored
//! by default:
//! `cargo test --release --features sim --test engine_real_http -- --ignored --nocapture`
//! (`engine::sim` is in debug builds, and in release builds with the `sim` feature; without it a
//! release build of this file is empty).
//! It asserts only what must hold whatever the machine's speed (every run launched, ended and
//! seen ending, never before its true end); the figures are printed, not asserted.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use common::scenario::{self as sc, project};
use common::serve;
use hexdash::emulator::Scenario;
use hexdash::engine::sim::{self, SimConfig, SimReport, SimRun, Strategy};
use hexdash::engine::{
    DuplicatePolicy, Engine, EngineOptions, LaunchRequest, PollPolicy, RunKey, Tick, Update,
};
use hexdash::hex::{Client, ClientSettings, Operation, RunStatus};
use hexdash::journal::{LaunchOptions, Origin};
use indexmap::IndexMap;
use jiff::Timestamp;

const PROJECTS: usize = 5;
const RUNS: usize = 10;
/// Not a timing assertion: only a guard so a broken engine fails the run instead of hanging it.
const HANG_GUARD: Duration = Duration::from_secs(600);

fn project_id(p: usize) -> String {
    format!("bbbbbbbb-0000-4000-8000-00000000000{p}")
}

/// Five projects whose runs stay PENDING 2–5 s (the emulator's default) and then RUNNING for
/// 20–36 s, 36–52 s, ... 84–100 s: ends spread from ~25 s to ~105 s after launch.
fn scenario() -> String {
    let mut scenario = sc::scenario().seed(20260101);
    for p in 0..PROJECTS {
        let low = (20 + 16 * p) as f64;
        scenario = scenario.project(
            project(&project_id(p), &format!("Bench {p}"))
                .owner("bench@acme.example")
                .published(1.0)
                .runs([2.0, 5.0], [low, low + 16.0]),
        );
    }
    scenario.toml()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn since(earlier: Timestamp, later: Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or_default()
}

/// Mean, nearest-rank p95 and max, as `engine::sim` computes them.
fn lag_stats(lags: &[Duration]) -> (Duration, Duration, Duration) {
    let mut sorted = lags.to_vec();
    sorted.sort();
    let n = sorted.len();
    let mean = sorted.iter().sum::<Duration>() / u32::try_from(n.max(1)).unwrap();
    let p95 = sorted[(n * 95).div_ceil(100).max(1) - 1];
    (mean, p95, *sorted.last().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "real time: about 100 s at 1× speed; see BENCHMARKS.md"]
async fn ten_runs_at_real_speed_confirm_the_simulation() {
    let scenario = scenario();
    let limits = Scenario::from_toml_str(&scenario, "bench.toml")
        .unwrap()
        .limits
        .client_limits();
    let emu = serve(&scenario, hexdash::clock::system()).await;
    let settings = ClientSettings {
        limits,
        ..common::settings(&emu.base_url())
    };
    let client = Client::new(settings).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Engine::start(
        client,
        EngineOptions::new("bench", dir.path().join(hexdash::journal::FILE_NAME)),
    )
    .unwrap();
    let engine = started.engine;

    // The first terminal observation of every run, as a subscriber sees it: the status and
    // `observed_at`, when the engine received it from Hex. Every run this engine follows is ours,
    // so the collector is done when it has seen all of them end.
    let mut updates = engine.subscribe();
    let collector = tokio::spawn(async move {
        let mut first_end: HashMap<RunKey, (RunStatus, Timestamp)> = HashMap::new();
        while first_end.len() < RUNS {
            match updates.recv().await {
                Ok(Update::Run { view, .. }) => {
                    let Some(status) = view.status.clone().filter(RunStatus::is_terminal) else {
                        continue;
                    };
                    let observed = view.observed_at.expect("a status comes with its time");
                    first_end
                        .entry(view.key.clone())
                        .or_insert((status, observed));
                }
                Ok(_) => {}
                Err(e) => panic!("the collector lost updates: {e}"),
            }
        }
        first_end
    });

    let t0 = Timestamp::now();
    let launches = (0..RUNS).map(|i| {
        let engine = engine.clone();
        async move {
            let project = i % PROJECTS;
            let launched = engine
                .launch(LaunchRequest {
                    project_id: project_id(project),
                    project_title: Some(format!("Bench {project}")),
                    params: IndexMap::new(),
                    options: LaunchOptions::default(),
                    origin: Origin::Cli,
                    duplicates: DuplicatePolicy::Warn,
                    focused: false,
                })
                .await
                .unwrap();
            (project, launched.key)
        }
    });
    let keys: Vec<(usize, RunKey)> = futures::future::join_all(launches).await;
    println!(
        "launched {RUNS} runs in {}",
        secs(since(t0, Timestamp::now()))
    );

    let (ended, first_end) = tokio::time::timeout(HANG_GUARD, async {
        let mut views = Vec::new();
        for (_, key) in &keys {
            views.push(engine.wait_ended(key).await.unwrap());
        }
        (views, collector.await.unwrap())
    })
    .await
    .expect("every run ends within the hang guard");
    let finished = Timestamp::now();
    for view in &ended {
        assert_eq!(view.status, Some(RunStatus::Completed), "{view:?}");
    }

    let records = emu.control().runs();
    let requests = emu.control().requests();
    drop(engine);
    emu.shutdown().await;

    // Per run: the emulator's true times against the engine's first terminal observation.
    println!();
    println!("| run | project | pending | running | true end (s after t0) | seen | lag |");
    println!("|---|---|---|---|---|---|---|");
    let mut lags = Vec::new();
    let mut sim_runs = Vec::new();
    for (i, (project, key)) in keys.iter().enumerate() {
        let record = records
            .iter()
            .find(|r| r.run_id == key.run_id)
            .expect("the emulator knows every launched run");
        let at = |status: RunStatus| {
            record
                .transitions
                .iter()
                .find(|t| t.status == status)
                .map(|t| t.at)
                .expect("every transition happened")
        };
        let (created, running, end) = (
            at(RunStatus::Pending),
            at(RunStatus::Running),
            at(RunStatus::Completed),
        );
        let (status, observed) = first_end
            .get(key)
            .cloned()
            .expect("every end was broadcast");
        assert_eq!(status, RunStatus::Completed);
        assert!(observed >= end, "seen ending before it ended: {key:?}");
        let lag = since(end, observed);
        lags.push(lag);
        println!(
            "| {i} | {project} | {} | {} | {} | {} | {} |",
            secs(since(created, running)),
            secs(since(running, end)),
            secs(since(t0, end)),
            secs(since(t0, observed)),
            secs(lag),
        );
        sim_runs.push(SimRun {
            project: *project,
            start: since(t0, created),
            pending: since(created, running),
            duration: since(running, end),
            expected: None,
        });
    }

    // What the emulator received, from the first launch to the last end.
    let mut by_op: BTreeMap<String, usize> = BTreeMap::new();
    let (mut refused, mut polls_refused) = (0, 0);
    let (mut all_times, mut poll_times) = (Vec::new(), Vec::new());
    for r in &requests {
        let op = r.operation.map_or("other", Operation::as_str);
        *by_op.entry(op.to_string()).or_default() += 1;
        let is_poll = matches!(
            r.operation,
            Some(Operation::GetRunStatus | Operation::GetProjectRuns)
        );
        let at: Timestamp = r.at.parse().unwrap();
        let tick = Tick::from_duration(since(t0, at));
        all_times.push(tick);
        if is_poll {
            poll_times.push(tick);
        }
        if r.status == Some(429) {
            refused += 1;
            if is_poll {
                polls_refused += 1;
            }
        }
    }
    all_times.sort();
    poll_times.sort();
    let minute = Duration::from_secs(60);
    let peak = sim::max_in_window(&all_times, minute);
    let (mean, p95, max) = lag_stats(&lags);
    println!();
    println!(
        "real HTTP, 1× speed: {RUNS} runs, last end seen {} s after the first launch; {} \
         requests {by_op:?}, {refused} × 429, peak {peak} requests in any 60 s; end-detection \
         lag mean {}, p95 {}, max {}",
        since(t0, finished).as_secs(),
        requests.len(),
        secs(mean),
        secs(p95),
        secs(max),
    );

    // The simulation on exactly these runs. Loopback answers in about a millisecond, and the
    // simulation sends only polls (RunProject is not modelled), so compare with the poll count.
    let config = SimConfig {
        latency: Duration::from_millis(2),
        ..SimConfig::default()
    };
    println!();
    println!("{}", SimReport::TABLE_HEADER);
    let real = SimReport {
        runs: RUNS,
        undetected: 0,
        requests: poll_times.len() as u64,
        rate_limited: polls_refused,
        max_requests_per_minute: sim::max_in_window(&poll_times, minute),
        mean_lag: mean,
        p95_lag: p95,
        max_lag: max,
        lags,
    };
    println!("{}", real.table_row("real engine over HTTP (polls only)"));
    for (label, strategy) in [
        (
            "simulation, scheduler, same runs",
            Strategy::Scheduler(PollPolicy::default()),
        ),
        (
            "simulation, naive every 3 s, same runs",
            Strategy::Naive {
                every: Duration::from_secs(3),
            },
        ),
        (
            "simulation, naive every 5 s, same runs",
            Strategy::Naive {
                every: Duration::from_secs(5),
            },
        ),
    ] {
        let report = sim::simulate(&sim_runs, &config, &strategy);
        println!("{}", report.table_row(label));
    }
}
