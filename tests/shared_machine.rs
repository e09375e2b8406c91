#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One machine, many hexdash processes on one data dir and one token, as operators run them:
//! the dashboard open, twelve cron-style `hexdash run --wait` launching at once, and a `hexdash
//! watch`. Nobody is read-only, every run exits 0, Hex (the emulator) never answers 429 and never
//! sees more than 60 requests in a minute, and the dashboard lists every run the others launched.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::pty::Pty;
use common::scenario::{self as sc, project};
use common::{Emu, Home, wait_until};
use jiff::Timestamp;

const ETL: &str = "dddddddd-0000-4000-8000-000000000001";

fn scenario() -> String {
    sc::scenario()
        .project(
            project(ETL, "Nightly ETL")
                .owner("data@acme.example")
                .published(3.0)
                .runs([1.0, 2.0], [4.0, 8.0]),
        )
        .toml()
}

fn config() -> String {
    sc::config().project(ETL, "etl", None).toml()
}

/// The most requests the emulator saw in any 60 s window, and how many it refused with 429.
fn request_figures(emu: &Emu) -> (usize, usize) {
    let requests = emu.emu.control().requests();
    let times: Vec<Timestamp> = requests.iter().map(|r| r.at.parse().unwrap()).collect();
    let mut most = 0;
    for (i, start) in times.iter().enumerate() {
        let end = start
            .checked_add(jiff::SignedDuration::from_secs(60))
            .unwrap();
        let n = times[i..].iter().take_while(|t| **t < end).count();
        most = most.max(n);
    }
    let refused = requests.iter().filter(|r| r.status == Some(429)).count();
    (most, refused)
}

#[test]
fn a_dashboard_twelve_runs_and_a_watch_share_one_data_dir_and_one_budget() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let mut ui = Pty::against(&home, &emu, &[]);
    ui.wait_for("the dashboard", |s| s.contains("Projects"));
    assert!(!ui.screen().contains("read-only"), "{}", ui.screen());

    let runs: Vec<Child> = (0..12)
        .map(|_| home.spawn(&emu, &["run", "etl", "--wait"]))
        .collect();
    wait_until("the first launch", Duration::from_secs(30), || {
        !emu.runs().is_empty()
    });
    let watch = home.spawn(&emu, &["watch"]);

    for (i, run) in runs.into_iter().enumerate() {
        let out = run.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "run {i}: {err}");
        assert!(!err.contains("read-only"), "run {i}: {err}");
    }
    let out = watch.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "watch: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(emu.runs().len(), 12, "each process launched once");

    // The dashboard lists every run the others launched, ended, from the shared store.
    // Rows come with the launches the store records, their ends with the statuses after them:
    // on a loaded machine the ends may be a sync or two behind the rows.
    ui.type_keys("2");
    ui.wait_for("twelve runs on the dashboard, ended", |s| {
        s.contains("12 runs") && s.matches("COMPLETED").count() >= 10
    });
    ui.type_keys("q");
    assert_eq!(ui.wait_exit(), 0, "{}", ui.screen());
    ui.assert_restored();

    let (most, refused) = request_figures(&emu);
    println!(
        "{} requests in all, at most {most} in any 60 s, {refused} refused",
        emu.emu.control().requests().len()
    );
    assert_eq!(refused, 0, "Hex refused requests: the budget is not shared");
    assert!(most <= 60, "{most} requests in one minute");
}

/// A launch held up for long (here paused right after Hex's 201, before the run is recorded, as
/// a slow POST or listings with backoff hold it) keeps its process alive on the store: the
/// orphan pass, which waits for that launch's project lock, runs beside the heartbeat rather
/// than in its loop. Were the heartbeat to stop, after 10 s another process would take this live
/// one for dead and settle its launch under it. Watched over 22 s: two orphan passes and more
/// than the grace.
#[test]
fn a_launch_held_up_for_long_keeps_its_process_heartbeat_going() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let mut child = home
        .spawn_against(&emu, &["run", "etl", "--wait"])
        .env("HEXDASH_TEST_PAUSE_AT", "after_post")
        .env("HEXDASH_TEST_PAUSE_MS", "60000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the run at the emulator", Duration::from_secs(30), || {
        emu.runs().len() == 1
    });
    let store =
        rusqlite::Connection::open(home.data_dir().join(hexdash::journal::FILE_NAME)).unwrap();
    let pid = child.id();
    let heartbeat_age_ms = || -> i64 {
        let beat: i64 = store
            .query_row(
                "SELECT heartbeat_ms FROM processes WHERE pid = ?1",
                [pid],
                |r| r.get(0),
            )
            .unwrap();
        Timestamp::now().as_millisecond() - beat
    };
    let watched = std::time::Instant::now();
    let mut oldest = 0;
    while watched.elapsed() < Duration::from_secs(22) {
        oldest = oldest.max(heartbeat_age_ms());
        std::thread::sleep(Duration::from_millis(250));
    }
    let _ = child.kill();
    let _ = child.wait();
    // A heartbeat every second; a busy machine may delay one by a few.
    assert!(
        oldest < 5_000,
        "the paused launcher's heartbeat was {oldest} ms old at worst: it would look dead"
    );
}
