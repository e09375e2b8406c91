//! One request budget per token on the machine (issue 12): twelve `hexdash run --wait` and a
//! `hexdash watch`, all with ONE token, each on its own data dir (as cron jobs given their own
//! `HEXDASH_DATA_DIR` are) but the same ledger dir, against the emulator at Hex's 60 requests a
//! minute. Each process alone would poll its run every 1.5 s (40 requests a minute), so together
//! they want several times Hex's limit; through the shared ledger they stay inside it: every run
//! exits 0, the emulator answers no 429, and no 60 s window holds more than 60 requests. (With a
//! budget per process, as before issue 12, the emulator answered 13 × 429 and saw 73 requests
//! within one minute.)
//!
//! Takes a little over a minute: once the processes have spent the minute's budget, the last
//! polls wait for the window to slide, as they must.

mod common;

use std::time::{Duration, Instant};

use common::scenario::{self as sc, project};
use common::{Emu, Home, Outcome, TOKEN, wait_until};
use jiff::Timestamp;

const PROJECT: &str = "cccccccc-0000-4000-8000-000000000001";
const RUNS: usize = 12;
const LIMIT: usize = 60;

/// One project whose runs take 10–14 s: long enough that per-process budgets (each polling its
/// young run every 1.5 s) ask for far more than 60 requests in the first minute.
fn scenario() -> String {
    sc::scenario()
        .seed(12)
        .limits(&format!(
            "requests_per_minute = {LIMIT}\nrun_per_minute = 20\nrun_per_hour = 60\n\
             max_concurrent_kernels = 25"
        ))
        .project(
            project(PROJECT, "Shared budget")
                .published(1.0)
                .runs([1.0, 2.0], [10.0, 14.0]),
        )
        .toml()
}

/// `hexdash ARGS` against `emu` with its own data dir `data-NAME`, and the home's ledger dir.
fn process(home: &Home, emu: &Emu, name: &str, args: &[&str]) -> std::thread::JoinHandle<Outcome> {
    let mut cmd = assert_cmd::Command::from_std(home.std_command(args));
    cmd.env("HEX_API_URL", emu.base_url())
        .env("HEX_API_TOKEN", TOKEN)
        .env("HEXDASH_DATA_DIR", home.path().join(format!("data-{name}")))
        .timeout(Duration::from_secs(300));
    std::thread::spawn(move || Outcome::run(cmd))
}

/// The most requests that arrived within any 60 s.
fn peak_per_minute(times: &[Timestamp]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let minute = jiff::SignedDuration::from_secs(60);
    let mut peak = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end].duration_since(sorted[start]) >= minute {
            start += 1;
        }
        peak = peak.max(end + 1 - start);
    }
    peak
}

#[test]
fn twelve_runs_and_a_watch_with_one_token_share_one_budget() {
    let emu = Emu::start(&scenario());
    let home = Home::new();
    let started = Instant::now();

    let runs: Vec<_> = (0..RUNS)
        .map(|i| {
            process(
                &home,
                &emu,
                &format!("run-{i}"),
                &["run", PROJECT, "--wait"],
            )
        })
        .collect();
    // The watch follows every active run of the project: started once they all exist.
    wait_until("all twelve runs launched", Duration::from_secs(60), || {
        emu.runs().len() >= RUNS
    });
    let watch = process(&home, &emu, "watch", &["watch", PROJECT]);

    for (i, handle) in runs.into_iter().enumerate() {
        let out = handle.join().unwrap();
        assert_eq!(
            out.code, 0,
            "run {i} exited {}\n--- stdout:\n{}\n--- stderr:\n{}",
            out.code, out.stdout, out.stderr
        );
        assert!(
            !out.stderr.contains("not shared"),
            "run {i}: the ledger was not used: {}",
            out.stderr
        );
    }
    let watched = watch.join().unwrap();
    watched.expect_code(0);
    let wall = started.elapsed();

    let requests = emu.emu.control().requests();
    let refused = requests.iter().filter(|r| r.status == Some(429)).count();
    let times: Vec<Timestamp> = requests.iter().map(|r| r.at.parse().unwrap()).collect();
    let peak = peak_per_minute(&times);
    println!(
        "{RUNS} runs + watch: {} requests in {:.1} s, {refused} × 429, peak {peak} in any 60 s",
        requests.len(),
        wall.as_secs_f64()
    );
    let limited: Vec<String> = requests
        .iter()
        .filter(|r| r.status == Some(429))
        .map(|r| format!("{} {:?}", r.at, r.operation))
        .collect();
    assert_eq!(refused, 0, "the emulator answered 429s: {limited:#?}");
    assert!(peak <= LIMIT, "{peak} requests within one minute");
    assert_eq!(emu.runs().len(), RUNS, "one run per process, none twice");

    // Thirteen data dirs, one ledger: the budget follows the token, not the data dir.
    let ledgers: Vec<_> = std::fs::read_dir(home.ledger_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(ledgers.len(), 1, "{ledgers:?}");
    assert!(!ledgers[0].contains(TOKEN));
}

#[test]
fn an_unusable_ledger_dir_is_one_warning_not_a_failure() {
    let emu = Emu::start(&scenario());
    let home = Home::new();
    // A file where the ledger dir should be.
    std::fs::write(home.ledger_dir(), "").unwrap();
    let out = Outcome::run({
        let mut cmd = home.against(&emu.base_url(), TOKEN, &["projects"]);
        cmd.env("HEXDASH_LEDGER_DIR", home.ledger_dir().join("hexdash"));
        cmd
    });
    out.expect_code(0);
    assert!(out.stdout.contains("Shared budget"), "{}", out.stdout);
    let warnings: Vec<_> = out
        .stderr
        .lines()
        .filter(|l| l.contains("not shared"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].starts_with("hexdash: warning:"),
        "{}",
        warnings[0]
    );
    assert!(!out.all().contains(TOKEN));
}
