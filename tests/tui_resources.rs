#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Resource figures of the real dashboard process, for BENCHMARKS.md (ignored: they take over a
//! minute and mean something only in release builds). Run with
//! `cargo test --release --test tui_resources -- --ignored --nocapture --test-threads 1`.
//!
//! - startup to the first frame with a 100,000-event store (and to its history on screen);
//! - idle CPU over 60 s with 10 active runs on screen, and resident memory with 10,000 runs in
//!   the runs list.
//!
//! The process is `hexdash` in a pseudo-terminal against an in-process emulator; CPU and memory
//! come from /proc. Nothing here asserts a time: the figures are printed.

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use common::pty::Pty;
use common::{Emu, Home};
use hexdash::hex::types::RunProjectRequest;
use hexdash::hex::{Client, RunStatus};
use hexdash::journal::{Envelope, Event, LaunchIntent, LaunchOptions, Origin, StatusChange};
use jiff::{SignedDuration, Timestamp};

/// The demo workspace's project that runs until cancelled.
const HANGS: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0006";
const DONE: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001";
/// Linux's USER_HZ, the unit of utime/stime in /proc/PID/stat.
const TICKS_PER_SEC: f64 = 100.0;

/// Starts `n` runs of the demo's hanging project that never end, as another client would.
fn hanging_runs(emu: &Emu, n: usize) -> Vec<String> {
    let client = Client::new(common::settings(&emu.base_url())).unwrap();
    let body = RunProjectRequest {
        input_params: Some([("warehouse_code".to_string(), "STO-1".into())].into()),
        ..RunProjectRequest::default()
    };
    (0..n)
        .map(|_| {
            emu.runtime()
                .block_on(client.run_project(HANGS, &body))
                .unwrap()
                .run_id
        })
        .collect()
}

/// A journal of `ended` completed runs, then `active` runs launched and not yet ended.
fn write_journal(path: &Path, ended: usize, active: &[String]) -> usize {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut out = std::io::BufWriter::new(fs::File::create(path).unwrap());
    let t0: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
    let mut seq = 0u64;
    let mut write = |event: Event, at: Timestamp| {
        seq += 1;
        let env = Envelope {
            v: 1,
            seq,
            at,
            event,
        };
        serde_json::to_writer(&mut out, &env).unwrap();
        out.write_all(b"\n").unwrap();
    };
    let intent = |launch: &str, project: &str| {
        Event::LaunchIntent(LaunchIntent {
            launch_id: launch.into(),
            project_id: project.into(),
            project_title: Some("Daily ETL · Extract orders".into()),
            params: [("run_date".to_string(), "2026-06-01".into())].into(),
            options: LaunchOptions::default(),
            origin: Origin::Cli,
            profile: "default".into(),
            launched_by: None,
        })
    };
    for i in 0..ended {
        let at = t0
            .checked_add(SignedDuration::from_secs(i as i64 * 60))
            .unwrap();
        let (launch, run) = (format!("launch-{i}"), format!("run-{i:08}"));
        write(intent(&launch, DONE), at);
        write(
            Event::Launched {
                launch_id: launch,
                project_id: DONE.into(),
                run_id: run.clone(),
                run_url: Some(format!("https://app.hex.tech/x/{run}")),
                trace_id: None,
                project_version: None,
            },
            at,
        );
        for (status, after) in [(RunStatus::Running, 5), (RunStatus::Completed, 65)] {
            let when = at.checked_add(SignedDuration::from_secs(after)).unwrap();
            write(
                Event::StatusChanged(StatusChange {
                    project_id: DONE.into(),
                    run_id: run.clone(),
                    end_time: (status == RunStatus::Completed).then_some(when),
                    status,
                    start_time: Some(at),
                    elapsed_ms: Some(60_000.0),
                    observed_at: when,
                }),
                when,
            );
        }
    }
    let now = Timestamp::now();
    for (i, run) in active.iter().enumerate() {
        let launch = format!("active-{i}");
        write(intent(&launch, HANGS), now);
        write(
            Event::Launched {
                launch_id: launch,
                project_id: HANGS.into(),
                run_id: run.clone(),
                run_url: None,
                trace_id: None,
                project_version: None,
            },
            now,
        );
    }
    usize::try_from(seq).unwrap()
}

fn proc_field(pid: u32, file: &str, key: &str) -> String {
    let text = fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap();
    text.lines()
        .find(|l| l.starts_with(key))
        .map(|l| l.trim_start_matches(key).trim().to_string())
        .unwrap_or_default()
}

/// utime + stime of `pid`, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / TICKS_PER_SEC
}

/// Imports the old-format journal written above into the store, as the first start after an
/// upgrade would, so the figures are those of every later start.
fn import(home: &Home) {
    hexdash::journal::Journal::open(home.store_file()).unwrap();
}

#[test]
#[ignore = "resource figures for BENCHMARKS.md; run in release with --nocapture"]
fn startup_to_first_frame_with_100k_journal_events() {
    let emu = Emu::demo(|_| {});
    let home = Home::new();
    let events = write_journal(&home.data_dir().join("journal.jsonl"), 25_000, &[]);
    import(&home);
    let started = Instant::now();
    let mut pty = Pty::against(&home, &emu, &[]);
    pty.wait_for("the first frame", |s| {
        s.contains("Projects") && s.contains("Runs")
    });
    let first_frame = started.elapsed();
    // The history is on screen once the projects' last runs show it.
    pty.wait_for("the history read", |s| s.contains("COMPLETED"));
    let loaded = started.elapsed();
    println!(
        "{events} journal events: first frame after {first_frame:?}, history loaded and shown \
         after {loaded:?}"
    );
    pty.send("\x03");
    pty.wait_exit();
}

#[test]
#[ignore = "resource figures for BENCHMARKS.md; takes 70 s; run in release with --nocapture"]
fn idle_cpu_with_10_active_runs_and_memory_with_10k_runs() {
    let emu = Emu::demo(|_| {});
    let active = hanging_runs(&emu, 10);
    let home = Home::new();
    let ended = std::env::var("HEXDASH_BENCH_ENDED").map_or(9_990, |v| v.parse().unwrap());
    write_journal(&home.data_dir().join("journal.jsonl"), ended, &active);
    import(&home);
    // `HEXDASH_BENCH_KEEP=DIR` leaves a copy of the store there, for a heap profile of
    // `hexdash demo --data-dir DIR` (the runs launched in this test's emulator show as lost).
    if let Some(keep) = std::env::var_os("HEXDASH_BENCH_KEEP") {
        let store = hexdash::journal::FILE_NAME;
        fs::create_dir_all(&keep).unwrap();
        fs::copy(home.store_file(), Path::new(&keep).join(store)).unwrap();
    }
    let mut pty = Pty::against(&home, &emu, &[]);
    pty.wait_for("the dashboard", |s| s.contains("Projects"));
    pty.send("2");
    pty.wait_for("10 active runs", |s| s.contains("10 active"));
    std::thread::sleep(Duration::from_secs(5));
    let pid = pty.pid();
    let (cpu0, t0) = (cpu_secs(pid), Instant::now());
    // `HEXDASH_BENCH_IDLE_SECS` shortens the idle window when only the memory figure matters.
    let idle = std::env::var("HEXDASH_BENCH_IDLE_SECS").map_or(60, |v| v.parse().unwrap());
    std::thread::sleep(Duration::from_secs(idle));
    let (cpu1, wall) = (cpu_secs(pid), t0.elapsed());
    let rss = proc_field(pid, "status", "VmRSS:");
    let hwm = proc_field(pid, "status", "VmHWM:");
    let share = 100.0 * (cpu1 - cpu0) / wall.as_secs_f64();
    println!(
        "10 active runs on screen, 10,000 runs in the list: CPU {share:.2} % of one core over \
         {wall:?}; VmRSS {rss}, peak {hwm}"
    );
    let screen = pty.screen();
    assert!(screen.contains("RUNNING"), "{screen}");
    pty.send("\x03");
    // Ten runs of this session? No: they were launched elsewhere, so no question is asked.
    pty.wait_exit();
}
