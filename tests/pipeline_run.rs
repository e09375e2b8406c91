#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash pipeline run|status|list|cancel` end to end: the real binary against the demo
//! workspace served in-process (sped up, with failures only where a test wants them), with the
//! demo config and the shipped example pipelines. What ran is checked in the emulator's own
//! record of runs (`/_emulator/runs`).

mod common;

use std::time::Duration;

use common::pty::Pty;
use common::{Emu, Home, Outcome, poll_until};
use hexdash::emulator::RunRecord;
use serde_json::Value;

const EXTRACT: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001";
const TRANSFORM: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0002";
const LOAD: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0003";
const FLAKY: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0005";
const HANGS: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0006";

/// The demo workspace, quick and failing only where a test wants it, and a home with the demo
/// config and the shipped example pipelines.
fn started() -> (Emu, Home) {
    let emu = Emu::demo(|scenario| {
        for project in &mut scenario.projects {
            let p = project.get_mut();
            p.run.failure_rate = if p.id == FLAKY { 1.0 } else { 0.0 };
            p.run.pending_secs = [0.0, 1.0];
            p.run.duration_secs = [1.0, 2.0];
            // The demo's colleague left a load RUNNING, its scheduler starts the attribution
            // sync every half hour, and Airflow retrains the churn model; these tests count
            // each step's runs.
            p.stuck = None;
            p.schedules.clear();
            p.activity = None;
        }
    });
    (emu, Home::with_demo_config())
}

/// The runs of `project` this test started, oldest first.
fn runs_of(emu: &Emu, project: &str) -> Vec<RunRecord> {
    let mut runs: Vec<RunRecord> = emu
        .runs()
        .into_iter()
        // The demo workspace comes with a history of scheduled runs; ours are API runs.
        .filter(|r| r.project_id == project && r.run_trigger == "API")
        .collect();
    runs.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    runs
}

/// Waits for `ready`, asked every 200 ms: some ask a hexdash.
fn wait_for(what: &str, ready: impl FnMut() -> bool) {
    poll_until(
        what,
        Duration::from_secs(60),
        Duration::from_millis(200),
        ready,
    );
}

fn step<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {report}"))
}

fn status_text(r: &RunRecord) -> String {
    serde_json::to_value(&r.status)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_daily_etl_runs_its_steps_in_order_with_the_date_reaching_every_step() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &[
            "pipeline",
            "run",
            "daily-etl",
            "-p",
            "date=2026-02-03",
            "--wait",
            "--json",
        ],
    );
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["status"], "SUCCEEDED", "{report}");
    for id in ["extract", "transform", "load"] {
        assert_eq!(step(&report, id)["status"], "SUCCEEDED");
    }
    assert!(
        out.stderr.contains("extract: launched run"),
        "{}",
        out.stderr
    );

    // Exactly one run per step, each with the date, each started after the one before ended.
    let mut previous_end: Option<jiff::Timestamp> = None;
    for project in [EXTRACT, TRANSFORM, LOAD] {
        let runs = runs_of(&emu, project);
        assert_eq!(runs.len(), 1, "{project}: {runs:?}");
        let run = &runs[0];
        assert_eq!(run.input_params["run_date"], "2026-02-03");
        assert_eq!(status_text(run), "COMPLETED");
        if let Some(end) = previous_end {
            let created: jiff::Timestamp = run.created_at.parse().unwrap();
            assert!(
                created >= end,
                "{project} started at {} before its upstream ended at {end}",
                run.created_at
            );
        }
        previous_end = run.transitions.last().map(|t| t.at);
    }
    assert_eq!(
        runs_of(&emu, LOAD)[0].input_params["target_schema"],
        "analytics"
    );

    // The journal tells the same story offline.
    let id = report["pipelineRunId"].as_str().unwrap();
    let status = home.hexdash(&emu, &["pipeline", "status", &id[..8], "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["status"], "SUCCEEDED");
    let list = home.hexdash(&emu, &["pipeline", "list"]);
    list.expect_code(0);
    assert!(
        list.stdout.contains("daily-etl") && list.stdout.contains("3/3"),
        "{}",
        list.stdout
    );
}

#[test]
fn a_flaky_step_is_retried_as_configured_then_fails_the_pipeline() {
    let (emu, home) = started();
    home.write_pipeline(
        "flaky.toml",
        r#"name = "flaky"
[[steps]]
id = "sync"
project = "attribution-sync"
retries = 2
retry_backoff = "1s"
[[steps]]
id = "after"
project = "etl-load"
params = { run_date = "2026-01-01" }
"#,
    );
    // Its seeded history has API runs too: count what appears.
    let before = runs_of(&emu, FLAKY).len();
    let out = home.hexdash(&emu, &["pipeline", "run", "flaky", "--wait", "--json"]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "FAILED");
    let sync = step(&report, "sync");
    assert_eq!(sync["status"], "FAILED");
    assert_eq!(sync["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(step(&report, "after")["status"], "SKIPPED");
    let runs = runs_of(&emu, FLAKY);
    assert_eq!(runs.len() - before, 3, "one run per attempt");
    assert!(runs[before..].iter().all(|r| status_text(r) == "ERRORED"));
    let ids: Vec<&str> = sync["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["runId"].as_str().unwrap())
        .collect();
    let new: Vec<&str> = runs[before..].iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(ids, new, "each attempt is its own run, in order");
    assert!(
        runs_of(&emu, LOAD).is_empty(),
        "a stopped pipeline launches nothing downstream"
    );
}

#[test]
fn cancelling_a_pipeline_from_another_hexdash_kills_every_running_step() {
    let (emu, home) = started();
    home.write_pipeline(
        "stuck.toml",
        r#"name = "stuck"
[[steps]]
id = "a"
project = "inventory-recon"
depends_on = []
[[steps]]
id = "b"
project = "inventory-recon"
depends_on = []
[[steps]]
id = "after"
project = "etl-load"
depends_on = ["a", "b"]
params = { run_date = "2026-01-01" }
"#,
    );
    let mut driver = home.spawn(&emu, &["pipeline", "run", "stuck", "--wait"]);
    wait_for("both hanging steps running", || {
        runs_of(&emu, HANGS)
            .iter()
            .filter(|r| status_text(r) == "RUNNING")
            .count()
            == 2
    });
    let list = home.hexdash(&emu, &["pipeline", "list", "--json"]);
    let id = list.json()[0]["pipelineRunId"]
        .as_str()
        .unwrap()
        .to_string();

    let out = home.hexdash(&emu, &["pipeline", "cancel", &id]);
    out.expect_code(2);
    assert!(out.stdout.contains("CANCELLED"), "{}", out.stdout);
    let driven = driver.wait_with_output().unwrap();
    assert_eq!(
        driven.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&driven.stderr)
    );
    let runs = runs_of(&emu, HANGS);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| status_text(r) == "KILLED"), "{runs:?}");
    assert!(runs_of(&emu, LOAD).is_empty());
    let status = home.hexdash(&emu, &["pipeline", "status", &id, "--json"]);
    let report = status.json();
    assert_eq!(report["status"], "CANCELLED");
    assert_eq!(step(&report, "after")["status"], "CANCELLED");
    driver = home.spawn(&emu, &["pipeline", "cancel", &id]);
    let again = driver.wait_with_output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "cancelling an ended pipeline is a no-op"
    );
}

#[test]
fn bad_parameters_and_unknown_runs_are_refused_with_the_fix() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &["pipeline", "run", "daily-etl", "-p", "dat=2026-01-01"],
    );
    out.expect_code(4);
    assert!(out.stderr.contains("date"), "{}", out.stderr);
    let out = home.hexdash(
        &emu,
        &["pipeline", "run", "daily-etl", "-p", "date=yesterdayish"],
    );
    out.expect_code(4);
    let out = home.hexdash(&emu, &["pipeline", "status", "nope"]);
    out.expect_code(4);
    assert!(out.stderr.contains("pipeline list"), "{}", out.stderr);
    for project in [EXTRACT, TRANSFORM, LOAD] {
        assert!(runs_of(&emu, project).is_empty(), "nothing launched");
    }
}

#[test]
fn the_dashboard_carries_on_a_pipeline_whose_driver_was_killed() {
    let (emu, home) = started();
    let mut driver = home.spawn(
        &emu,
        &[
            "pipeline",
            "run",
            "daily-etl",
            "-p",
            "date=2026-02-04",
            "--wait",
        ],
    );
    wait_for("the extract step launched", || {
        runs_of(&emu, EXTRACT).len() == 1
    });
    driver.kill().unwrap();
    driver.wait().unwrap();
    let id = home.hexdash(&emu, &["pipeline", "list", "--json"]).json()[0]["pipelineRunId"]
        .as_str()
        .unwrap()
        .to_string();

    let mut dashboard = Pty::against(&home, &emu, &[]);
    dashboard.wait_for("the dashboard", |s| s.contains("Projects"));
    wait_for("the pipeline to succeed", || {
        home.hexdash(&emu, &["pipeline", "status", &id, "--json"])
            .json()["status"]
            == "SUCCEEDED"
    });
    for project in [EXTRACT, TRANSFORM, LOAD] {
        let runs = runs_of(&emu, project);
        assert_eq!(runs.len(), 1, "{project} ran once: {runs:?}");
        assert_eq!(runs[0].input_params["run_date"], "2026-02-04");
    }
    assert_eq!(dashboard.quit_with("q"), 0, "{}", dashboard.screen());
}

#[test]
fn without_wait_a_background_hexdash_carries_the_pipeline_to_its_end() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &["pipeline", "run", "daily-etl", "-p", "date=2026-02-05"],
    );
    out.expect_code(0);
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "the pipeline run id: {}", out.stdout);
    assert!(out.stderr.contains("background hexdash"), "{}", out.stderr);
    wait_for("the pipeline to succeed", || {
        home.hexdash(&emu, &["pipeline", "status", &id, "--json"])
            .json()["status"]
            == "SUCCEEDED"
    });
    assert_eq!(runs_of(&emu, LOAD).len(), 1);
}

#[test]
fn step_timeouts_kill_the_run_or_leave_it_as_configured() {
    let (emu, home) = started();
    home.write_pipeline(
        "slow.toml",
        r#"name = "slow"
[[steps]]
id = "killed"
project = "inventory-recon"
depends_on = []
timeout = "2s"
[[steps]]
id = "left"
project = "inventory-recon"
depends_on = []
timeout = "2s"
kill_on_timeout = false
"#,
    );
    let out = home.hexdash(&emu, &["pipeline", "run", "slow", "--wait", "--json"]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(step(&report, "killed")["status"], "FAILED", "{report}");
    assert_eq!(step(&report, "left")["status"], "FAILED", "{report}");
    let left = &step(&report, "left")["attempts"][0];
    assert!(
        left["error"].as_str().unwrap().contains("timed out"),
        "{left}"
    );
    let killed_run = step(&report, "killed")["attempts"][0]["runId"]
        .as_str()
        .unwrap()
        .to_string();
    let left_run = left["runId"].as_str().unwrap().to_string();
    let runs = runs_of(&emu, HANGS);
    let status_of = |id: &str| status_text(runs.iter().find(|r| r.run_id == id).unwrap());
    assert_eq!(status_of(&killed_run), "KILLED");
    assert_eq!(
        status_of(&left_run),
        "RUNNING",
        "left running as configured"
    );
}

#[test]
fn resume_from_a_step_reruns_it_and_its_downstream_only() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &[
            "pipeline",
            "run",
            "daily-etl",
            "-p",
            "date=2026-02-06",
            "--wait",
            "--json",
        ],
    );
    out.expect_code(0);
    let id = out.json()["pipelineRunId"].as_str().unwrap().to_string();
    let again = home.hexdash(&emu, &["pipeline", "resume", &id, "--wait"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("already succeeded"),
        "{}",
        again.stdout
    );

    let out = home.hexdash(
        &emu,
        &[
            "pipeline",
            "resume",
            &id,
            "--from",
            "transform",
            "--wait",
            "--json",
        ],
    );
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["status"], "SUCCEEDED");
    assert_eq!(
        step(&report, "extract")["attempts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        step(&report, "transform")["attempts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        runs_of(&emu, EXTRACT).len(),
        1,
        "upstream of --from is not rerun"
    );
    assert_eq!(runs_of(&emu, TRANSFORM).len(), 2);
    assert_eq!(runs_of(&emu, LOAD).len(), 2);
    assert!(
        runs_of(&emu, LOAD)
            .iter()
            .all(|r| r.input_params["run_date"] == "2026-02-06")
    );

    let out = home.hexdash(&emu, &["pipeline", "resume", &id, "--from", "nope"]);
    out.expect_code(4);
    assert!(out.stderr.contains("nope"), "{}", out.stderr);
    // A refused resume leaves the pipeline run readable and as it was.
    let status = home.hexdash(&emu, &["pipeline", "status", &id, "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["status"], "SUCCEEDED");
}

#[test]
fn the_dashboard_launches_the_daily_etl_and_watches_it_complete() {
    let (emu, home) = started();
    let mut ui = Pty::against(&home, &emu, &[]);
    ui.wait_for("the dashboard", |s| s.contains("Projects"));
    ui.type_keys("3");
    ui.wait_for("the pipelines list", |s| {
        s.contains("daily-etl") && s.contains("fan-out") && s.contains("never run")
    });
    ui.type_keys("r");
    ui.wait_for("the pipeline's form", |s| {
        s.contains("Launch pipeline daily-etl") && !s.contains("Run options")
    });
    // Replace the default date (yesterday) with a known one.
    ui.send(&"\x7f".repeat(12));
    ui.type_keys("2026-02-06");
    ui.wait_for("the typed date", |s| s.contains("2026-02-06"));
    ui.send("\x13"); // ctrl-s
    ui.wait_for("the run view", |s| {
        s.contains("Timeline") && s.contains("extract")
    });
    ui.wait_for("the pipeline to succeed", |s| {
        s.contains("✓ SUCCEEDED") && s.contains("steps 3/3")
    });
    let screen = ui.screen();
    for step in ["extract", "transform", "load"] {
        assert!(screen.contains(step), "{step} is not drawn:\n{screen}");
    }
    assert!(
        screen.contains('▶'),
        "no arrows between the steps:\n{screen}"
    );
    for project in [EXTRACT, TRANSFORM, LOAD] {
        let runs = runs_of(&emu, project);
        assert_eq!(runs.len(), 1, "{project} ran once: {runs:?}");
        assert_eq!(runs[0].input_params["run_date"], "2026-02-06");
    }
    // In order: each step started after the one before it ended.
    let (e, t, l) = (
        &runs_of(&emu, EXTRACT)[0],
        &runs_of(&emu, TRANSFORM)[0],
        &runs_of(&emu, LOAD)[0],
    );
    assert!(e.created_at < t.created_at && t.created_at < l.created_at);
    // The headless view agrees with the screen.
    let list = home.hexdash(&emu, &["pipeline", "list", "--json"]).json();
    assert_eq!(list[0]["status"], "SUCCEEDED", "{list}");
    ui.type_keys("q");
    ui.wait_for("the list again", |s| s.contains("Recent runs of daily-etl"));
    ui.type_keys("q");
    assert_eq!(ui.wait_exit(), 0, "{}", ui.screen());
    ui.assert_restored();
}

#[test]
fn a_step_whose_run_hex_forgets_fails_instead_of_waiting_forever() {
    let (emu, home) = started();
    home.write_pipeline(
        "forgotten.toml",
        r#"name = "forgotten"
[[steps]]
id = "hangs"
project = "inventory-recon"
[[steps]]
id = "after"
project = "etl-load"
"#,
    );
    let driver = home.spawn(&emu, &["pipeline", "run", "forgotten", "--wait", "--json"]);
    wait_for("the hanging step's run", || runs_of(&emu, HANGS).len() == 1);
    // Hex loses every run (the emulator back to its initial state): polls now get 404.
    emu.emu.control().reset();
    // Killed (exit code -1) if it has not given up within the minute.
    let out = Outcome::guarded(driver, Duration::from_secs(60));
    assert_ne!(
        out.code, -1,
        "the pipeline still waits for a run Hex no longer knows"
    );
    out.expect_code(1);
    let report = out.json();
    let hangs = step(&report, "hangs");
    assert_eq!(hangs["status"], "FAILED", "{report}");
    let error = hangs["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("no longer"), "{error}");
    assert_eq!(step(&report, "after")["status"], "SKIPPED", "{report}");
    assert!(
        runs_of(&emu, LOAD).is_empty(),
        "nothing launched after the failure"
    );
}

/// A dashboard opened while `pipeline run --wait` drives a pipeline on the same data dir follows
/// it live through the store, and does not drive it too (each step launched once).
#[test]
fn a_dashboard_follows_a_pipeline_another_hexdash_drives() {
    let (emu, home) = started();
    let driver = home.spawn(
        &emu,
        &[
            "pipeline",
            "run",
            "daily-etl",
            "-p",
            "date=2026-02-07",
            "--wait",
        ],
    );
    wait_for("the extract step launched", || {
        runs_of(&emu, EXTRACT).len() == 1
    });
    let mut ui = Pty::against(&home, &emu, &[]);
    ui.wait_for("the dashboard", |s| s.contains("Projects"));
    assert!(!ui.screen().contains("read-only"), "{}", ui.screen());
    ui.type_keys("3");
    ui.wait_for("the running pipeline", |s| s.contains("RUNNING"));
    ui.send("\r");
    // The driver is another process: the dashboard sees its progress in the store.
    ui.wait_for("the pipeline to succeed", |s| {
        s.contains("✓ SUCCEEDED") && s.contains("steps 3/3")
    });
    let out = Outcome::of(driver.wait_with_output().unwrap());
    out.expect_code(0);
    ui.type_keys("qq");
    assert_eq!(ui.wait_exit(), 0, "{}", ui.screen());
    ui.assert_restored();
    for project in [EXTRACT, TRANSFORM, LOAD] {
        assert_eq!(
            runs_of(&emu, project).len(),
            1,
            "each step launched once, by the driver only"
        );
    }
}
