#![allow(clippy::expect_used)] // a benchmark, like a test: a failed setup should stop it loudly
//! `cargo bench --bench store`: what the shared SQLite store costs (issue 12; figures in
//! BENCHMARKS.md), on a real disk (the store is made under `target/`).
//!
//! - `launch`: what one launch costs the store: the intent and the 201's run id, each committed
//!   with `synchronous=FULL` (on disk before the request goes out / before it is acted on);
//! - `status`: one status change (`synchronous=NORMAL`, WAL);
//! - `open 100k`: opening a store of 100,000 events and folding them (what the dashboard, `watch`
//!   and every `run` do at start);
//!
//! With `HEXDASH_BENCH_DIR=DIR` it instead writes `DIR/data-100k/hexdash.db` and
//! `DIR/data-1m/hexdash.db` (100,000 and 1,000,000 events: a launch, its run id and two status
//! changes per run) for the command-line figures, and exits.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::Criterion;
use hexdash::clock::ManualClock;
use hexdash::hex::RunStatus;
use hexdash::journal::{
    self, Event, Journal, JournalState, LaunchIntent, LaunchOptions, Origin, StatusChange,
};
use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

const PROJECTS: [&str; 4] = [
    "0c0c0c0c-0000-4000-8000-000000000001",
    "0c0c0c0c-0000-4000-8000-000000000002",
    "0c0c0c0c-0000-4000-8000-000000000003",
    "0c0c0c0c-0000-4000-8000-000000000004",
];

fn intent(n: usize) -> Event {
    Event::LaunchIntent(LaunchIntent {
        launch_id: format!("launch-{n}"),
        project_id: PROJECTS[n % PROJECTS.len()].into(),
        project_title: Some("Daily ETL · Extract orders".into()),
        params: IndexMap::from([
            ("run_date".to_string(), json!("2026-12-01")),
            ("rows".to_string(), json!(n)),
        ]),
        options: LaunchOptions::default(),
        origin: Origin::Cli,
        profile: "default".into(),
        launched_by: Some(journal::Launcher::this_process().clone()),
    })
}

fn launched(n: usize) -> Event {
    Event::Launched {
        launch_id: format!("launch-{n}"),
        project_id: PROJECTS[n % PROJECTS.len()].into(),
        run_id: format!("run-{n}"),
        run_url: Some(format!(
            "https://app.hex.tech/acme/app/p/latest?runId=run-{n}"
        )),
        trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
        project_version: None,
    }
}

fn status(n: usize, status: RunStatus, at: Timestamp) -> Event {
    Event::StatusChanged(StatusChange {
        project_id: PROJECTS[n % PROJECTS.len()].into(),
        run_id: format!("run-{n}"),
        status,
        start_time: Some(at),
        end_time: None,
        elapsed_ms: Some(1234.0),
        observed_at: at,
    })
}

/// A store at `path` with `runs` runs of four events each, written in one process.
fn fill(path: &Path, runs: usize) {
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().expect("a timestamp");
    let clock = Arc::new(ManualClock::new(start));
    let mut j = Journal::open_with_clock(path, clock.clone())
        .expect("a store")
        .journal;
    // One transaction per event would take minutes at FULL; the figures here are about reading.
    j.append_batch((0..runs).flat_map(|n| {
        let at = start
            .checked_add(SignedDuration::from_secs(n as i64 * 60))
            .expect("in range");
        [
            intent(n),
            launched(n),
            status(n, RunStatus::Running, at),
            status(n, RunStatus::Completed, at),
        ]
    }))
    .expect("written");
}

fn main() {
    if let Some(dir) = std::env::var_os("HEXDASH_BENCH_DIR") {
        let dir = Path::new(&dir);
        for (name, runs) in [("data-100k", 25_000), ("data-1m", 250_000)] {
            let path = dir.join(name).join(journal::FILE_NAME);
            let _ = std::fs::remove_file(&path);
            fill(&path, runs);
            println!("wrote {} ({} events)", path.display(), runs * 4);
        }
        return;
    }
    std::fs::create_dir_all("target").expect("target dir");
    let tmp = tempfile::tempdir_in("target").expect("a dir on the real disk");
    let mut c = Criterion::default().configure_from_args().sample_size(30);

    let path = tmp.path().join("writes").join(journal::FILE_NAME);
    let mut j = Journal::open(&path).expect("a store").journal;
    let mut book = JournalState::default();
    let mut n = 0;
    c.bench_function("store/launch (intent + run id, FULL)", |b| {
        b.iter(|| {
            n += 1;
            j.record(&mut book, intent(n)).expect("recorded");
            j.record(&mut book, launched(n)).expect("recorded");
        })
    });
    c.bench_function("store/status change (NORMAL)", |b| {
        b.iter(|| {
            n += 1;
            let at = Timestamp::now();
            j.record(&mut book, status(n % 64, RunStatus::Running, at))
                .expect("recorded");
        })
    });

    let big = tmp.path().join("big").join(journal::FILE_NAME);
    fill(&big, 25_000);
    c.bench_function("store/open and fold 100k events", |b| {
        b.iter(|| {
            let r = Journal::open_replayed(&big, hexdash::clock::system()).expect("opened");
            black_box(r.state.runs().count())
        })
    });
    c.final_summary();
}
