//! `cargo bench --features sim --bench discovery`: workspace discovery beside status polling.
//!
//! First prints the table of BENCHMARKS.md, computed by `engine::discovery_sim` on its virtual
//! clock: a 50-project workspace, 10 projects with hourly schedules, 30 ad-hoc runs an hour
//! started by other clients on 15 recently active projects, 10 runs launched here, an hour and a
//! quarter; Hex's 60 requests/minute. Our planner against listing every project in turn (at
//! the rate that spends the same requests, and once a minute). Ten seeds pooled. Then times
//! `simulate` with criterion. The figures are deterministic; only the timings depend on the
//! machine.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use hexdash::engine::discovery::DiscoveryPolicy;
use hexdash::engine::discovery_sim::{self, Sweeping, Workspace, WorkspaceReport};
use hexdash::hex::Limits;

const SEEDS: std::ops::RangeInclusive<u64> = 1..=10;

fn pooled(sweeping: Sweeping) -> WorkspaceReport {
    let ws = Workspace::default();
    let reports: Vec<WorkspaceReport> = SEEDS
        .map(|seed| {
            discovery_sim::simulate(
                &ws,
                &discovery_sim::runs(&ws, seed),
                Limits::default(),
                sweeping,
            )
        })
        .collect();
    WorkspaceReport::pooled(&reports)
}

fn print_table() {
    let started = Instant::now();
    let planned = pooled(Sweeping::Planned(DiscoveryPolicy::default()));
    // The round that lists all 50 projects with the planner's own number of sweeps.
    let span_secs = 75.0 * 60.0;
    let same_spend = Duration::from_secs_f64(50.0 * span_secs / planned.sweeps.max(1) as f64);
    let rows = [
        ("hexdash discovery", planned.clone()),
        (
            "every project in turn, at the planner's average rate",
            pooled(Sweeping::RoundRobin { every: same_spend }),
        ),
        (
            "every project in turn, each once a minute",
            pooled(Sweeping::RoundRobin {
                every: Duration::from_secs(60),
            }),
        ),
    ];
    println!("Workspace discovery: 50 projects (10 scheduled hourly, 15 with 30 ad-hoc runs/h),");
    println!("10 runs launched here, 75 min, Hex's 60 requests/min; seeds 1–10 pooled");
    println!();
    println!(
        "| strategy | scheduled seen p50 / p95 (s) | ad-hoc seen p50 / p95 (s) | end lag here p95 (s) \
         | end lag all p95 (s) | requests (sweeps) | max req/min | 429s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (label, r) in &rows {
        println!("{}", r.table_row(label));
    }
    println!();
    println!(
        "(at the planner's average rate, each project is listed every {:.0} s; table computed \
         in {:.2} s)",
        same_spend.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!();
}

fn main() {
    print_table();
    let mut c = Criterion::default().configure_from_args();
    let ws = Workspace::default();
    let runs = discovery_sim::runs(&ws, 1);
    c.bench_function("simulate 75 min of a 50-project workspace", |b| {
        b.iter(|| {
            discovery_sim::simulate(
                black_box(&ws),
                black_box(&runs),
                Limits::default(),
                Sweeping::Planned(DiscoveryPolicy::default()),
            )
        })
    });
    c.final_summary();
}
