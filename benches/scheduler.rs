//! `cargo bench --features sim --bench scheduler`: the status-poll scheduler against Hex's rate limit.
//!
//! First prints the comparison of BENCHMARKS.md, computed by `engine::sim` on its virtual clock:
//! 25 concurrent runs across 5 projects (RUNNING 30 s – 20 min after 2–5 s PENDING, all launched
//! within the first minute), Hex's 60 requests/minute, our scheduler (without and with duration
//! history) against naive per-run polling every 3 s and every 5 s; one seed, then 20 seeds
//! pooled. Then times `simulate` itself with criterion. The figures are deterministic; only the
//! criterion timings depend on the machine.

use std::hint::black_box;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use criterion::Criterion;
use hexdash::engine::PollPolicy;
use hexdash::engine::sim::{self, SimConfig, SimReport, SimRun, Strategy};

/// The seed of the single-scenario rows (and of the unit tests in `engine::sim`).
const SEED: u64 = 20_260_101;
/// The seeds of the pooled rows.
const SEEDS: RangeInclusive<u64> = 1..=20;
const RUNS: usize = 25;
const PROJECTS: usize = 5;
/// History within ±20 % of the true running time.
const HISTORY_SPREAD: f64 = 0.2;

fn scheduler() -> Strategy {
    Strategy::Scheduler(PollPolicy::default())
}

fn naive(secs: u64) -> Strategy {
    Strategy::Naive {
        every: Duration::from_secs(secs),
    }
}

fn runs(seed: u64, history: bool) -> Vec<SimRun> {
    let runs = sim::scenario(seed, RUNS, PROJECTS);
    if history {
        sim::with_history(runs, seed + 1, HISTORY_SPREAD)
    } else {
        runs
    }
}

/// The four rows of one table: (label, history?, strategy).
fn contenders() -> [(&'static str, bool, Strategy); 4] {
    [
        ("hexdash scheduler", false, scheduler()),
        ("hexdash scheduler, history within ±20 %", true, scheduler()),
        ("naive, every 3 s", false, naive(3)),
        ("naive, every 5 s", false, naive(5)),
    ]
}

fn print_comparison(config: &SimConfig) {
    let started = Instant::now();
    println!(
        "Status polling: {RUNS} runs across {PROJECTS} projects, {} requests/min ({} for polls), \
         {} ms latency",
        config.limits.requests_per_minute,
        hexdash::engine::Scheduler::polls_per_minute(&config.limits),
        config.latency.as_millis(),
    );
    println!();
    println!("{}", SimReport::TABLE_HEADER);
    for (label, history, strategy) in contenders() {
        let report = sim::simulate(&runs(SEED, history), config, &strategy);
        println!("{}", report.table_row(&format!("{label} (seed {SEED})")));
    }
    for (label, history, strategy) in contenders() {
        let reports: Vec<SimReport> = SEEDS
            .map(|seed| sim::simulate(&runs(seed, history), config, &strategy))
            .collect();
        let pooled = SimReport::pooled(&reports);
        let (first, last) = (SEEDS.start(), SEEDS.end());
        println!(
            "{}",
            pooled.table_row(&format!("{label}, seeds {first}–{last} pooled"))
        );
    }
    println!();
    println!(
        "(table computed in {:.2} s; lag = a run's true end to its detection, pooled p95 over \
         every run of every seed)",
        started.elapsed().as_secs_f64()
    );
    println!();
}

fn bench_simulate(c: &mut Criterion, config: &SimConfig) {
    let plain = runs(SEED, false);
    let history = runs(SEED, true);
    let mut group = c.benchmark_group("simulate 25 runs over 5 projects");
    group.sample_size(30);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (label, runs, strategy) in [
        ("scheduler", &plain, scheduler()),
        ("scheduler with history", &history, scheduler()),
        ("naive 3 s", &plain, naive(3)),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| sim::simulate(black_box(runs), config, &strategy));
        });
    }
    group.finish();
}

fn main() {
    let config = SimConfig::default();
    print_comparison(&config);
    let mut criterion = Criterion::default().configure_from_args();
    bench_simulate(&mut criterion, &config);
    criterion.final_summary();
}
