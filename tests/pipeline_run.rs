#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash pipeline run|status|list|cancel` end to end: the real binary against the demo
//! workspace served in-process (sped up, with failures only where a test wants them), with the
//! demo config and the shipped example pipelines. What ran is checked in the emulator's own
//! record of runs (`/_emulator/runs`).

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use hexdash::emulator::{EmulatorOptions, RunRecord, RunningEmulator, Scenario, start};
use serde_json::Value;

#[path = "common/pty.rs"]
mod pty;

const TOKEN: &str = "hxtp_pipeline_test_token";
const EXTRACT: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001";
const TRANSFORM: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0002";
const LOAD: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0003";
const FLAKY: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0005";
const HANGS: &str = "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0006";

struct Harness {
    emu: RunningEmulator,
    home: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut scenario = Scenario::demo().unwrap();
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
        let mut options = EmulatorOptions::new(scenario);
        options.extra_tokens.push(TOKEN.into());
        let emu = rt
            .block_on(start("127.0.0.1:0".parse().unwrap(), options))
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let pipelines = home.path().join("config/pipelines");
        std::fs::create_dir_all(&pipelines).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::copy(
            root.join("assets/demo-config.toml"),
            home.path().join("config/config.toml"),
        )
        .unwrap();
        for name in ["daily-etl.toml", "fan-out.toml"] {
            std::fs::copy(
                root.join("assets/pipelines").join(name),
                pipelines.join(name),
            )
            .unwrap();
        }
        Harness { emu, home, _rt: rt }
    }

    fn pipeline_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.home.path().join("config/pipelines").join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("HEX_API_URL", self.emu.base_url()),
            ("HEX_API_TOKEN", TOKEN.into()),
            (
                "HEXDASH_CONFIG_DIR",
                self.home.path().join("config").display().to_string(),
            ),
            (
                "HEXDASH_DATA_DIR",
                self.home.path().join("data").display().to_string(),
            ),
            (
                "HEXDASH_LEDGER_DIR",
                self.home.path().join("ledger").display().to_string(),
            ),
        ]
    }

    fn hexdash(&self, args: &[&str]) -> Outcome {
        let mut cmd = Command::cargo_bin("hexdash").unwrap();
        cmd.args(args)
            .envs(self.envs())
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .timeout(Duration::from_secs(120));
        Outcome::of(cmd.output().unwrap())
    }

    /// A hexdash left running in the background.
    fn spawn(&self, args: &[&str]) -> Child {
        std::process::Command::cargo_bin("hexdash")
            .unwrap()
            .args(args)
            .envs(self.envs())
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn runs_of(&self, project: &str) -> Vec<RunRecord> {
        let mut runs: Vec<RunRecord> = self
            .emu
            .control()
            .runs()
            .into_iter()
            // The demo workspace comes with a history of scheduled runs; ours are API runs.
            .filter(|r| r.project_id == project && r.run_trigger == "API")
            .collect();
        runs.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        runs
    }

    fn wait_for(&self, what: &str, mut ready: impl FnMut() -> bool) {
        let start = Instant::now();
        while !ready() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out: {what}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn of(o: Output) -> Outcome {
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
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
    let h = Harness::new();
    let out = h.hexdash(&[
        "pipeline",
        "run",
        "daily-etl",
        "-p",
        "date=2026-02-03",
        "--wait",
        "--json",
    ]);
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
        let runs = h.runs_of(project);
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
        h.runs_of(LOAD)[0].input_params["target_schema"],
        "analytics"
    );

    // The journal tells the same story offline.
    let id = report["pipelineRunId"].as_str().unwrap();
    let status = h.hexdash(&["pipeline", "status", &id[..8], "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["status"], "SUCCEEDED");
    let list = h.hexdash(&["pipeline", "list"]);
    list.expect_code(0);
    assert!(
        list.stdout.contains("daily-etl") && list.stdout.contains("3/3"),
        "{}",
        list.stdout
    );
}

#[test]
fn a_flaky_step_is_retried_as_configured_then_fails_the_pipeline() {
    let h = Harness::new();
    h.pipeline_file(
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
    let before = h.runs_of(FLAKY).len();
    let out = h.hexdash(&["pipeline", "run", "flaky", "--wait", "--json"]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "FAILED");
    let sync = step(&report, "sync");
    assert_eq!(sync["status"], "FAILED");
    assert_eq!(sync["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(step(&report, "after")["status"], "SKIPPED");
    let runs = h.runs_of(FLAKY);
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
        h.runs_of(LOAD).is_empty(),
        "a stopped pipeline launches nothing downstream"
    );
}

#[test]
fn cancelling_a_pipeline_from_another_hexdash_kills_every_running_step() {
    let h = Harness::new();
    h.pipeline_file(
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
    let mut driver = h.spawn(&["pipeline", "run", "stuck", "--wait"]);
    h.wait_for("both hanging steps running", || {
        h.runs_of(HANGS)
            .iter()
            .filter(|r| status_text(r) == "RUNNING")
            .count()
            == 2
    });
    let list = h.hexdash(&["pipeline", "list", "--json"]);
    let id = list.json()[0]["pipelineRunId"]
        .as_str()
        .unwrap()
        .to_string();

    let out = h.hexdash(&["pipeline", "cancel", &id]);
    out.expect_code(2);
    assert!(out.stdout.contains("CANCELLED"), "{}", out.stdout);
    let driven = driver.wait_with_output().unwrap();
    assert_eq!(
        driven.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&driven.stderr)
    );
    let runs = h.runs_of(HANGS);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| status_text(r) == "KILLED"), "{runs:?}");
    assert!(h.runs_of(LOAD).is_empty());
    let status = h.hexdash(&["pipeline", "status", &id, "--json"]);
    let report = status.json();
    assert_eq!(report["status"], "CANCELLED");
    assert_eq!(step(&report, "after")["status"], "CANCELLED");
    driver = h.spawn(&["pipeline", "cancel", &id]);
    let again = driver.wait_with_output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "cancelling an ended pipeline is a no-op"
    );
}

#[test]
fn bad_parameters_and_unknown_runs_are_refused_with_the_fix() {
    let h = Harness::new();
    let out = h.hexdash(&["pipeline", "run", "daily-etl", "-p", "dat=2026-01-01"]);
    out.expect_code(4);
    assert!(out.stderr.contains("date"), "{}", out.stderr);
    let out = h.hexdash(&["pipeline", "run", "daily-etl", "-p", "date=yesterdayish"]);
    out.expect_code(4);
    let out = h.hexdash(&["pipeline", "status", "nope"]);
    out.expect_code(4);
    assert!(out.stderr.contains("pipeline list"), "{}", out.stderr);
    for project in [EXTRACT, TRANSFORM, LOAD] {
        assert!(h.runs_of(project).is_empty(), "nothing launched");
    }
}

#[test]
fn the_dashboard_carries_on_a_pipeline_whose_driver_was_killed() {
    let h = Harness::new();
    let mut driver = h.spawn(&[
        "pipeline",
        "run",
        "daily-etl",
        "-p",
        "date=2026-02-04",
        "--wait",
    ]);
    h.wait_for("the extract step launched", || {
        h.runs_of(EXTRACT).len() == 1
    });
    driver.kill().unwrap();
    driver.wait().unwrap();
    let id = h.hexdash(&["pipeline", "list", "--json"]).json()[0]["pipelineRunId"]
        .as_str()
        .unwrap()
        .to_string();

    let env = h.envs();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut dashboard = pty::Pty::spawn_in(&[], &env, tempfile::tempdir().unwrap());
    dashboard.wait_for("the dashboard", |s| s.contains("Projects"));
    h.wait_for("the pipeline to succeed", || {
        h.hexdash(&["pipeline", "status", &id, "--json"]).json()["status"] == "SUCCEEDED"
    });
    for project in [EXTRACT, TRANSFORM, LOAD] {
        let runs = h.runs_of(project);
        assert_eq!(runs.len(), 1, "{project} ran once: {runs:?}");
        assert_eq!(runs[0].input_params["run_date"], "2026-02-04");
    }
    dashboard.type_keys("q");
    std::thread::sleep(Duration::from_millis(300));
    if dashboard.child.try_wait().unwrap().is_none() {
        dashboard.type_keys("y");
    }
    assert_eq!(dashboard.wait_exit(), 0, "{}", dashboard.screen());
}

#[test]
fn without_wait_a_background_hexdash_carries_the_pipeline_to_its_end() {
    let h = Harness::new();
    let out = h.hexdash(&["pipeline", "run", "daily-etl", "-p", "date=2026-02-05"]);
    out.expect_code(0);
    let id = out.stdout.trim().to_string();
    assert_eq!(id.len(), 36, "the pipeline run id: {}", out.stdout);
    assert!(out.stderr.contains("background hexdash"), "{}", out.stderr);
    h.wait_for("the pipeline to succeed", || {
        h.hexdash(&["pipeline", "status", &id, "--json"]).json()["status"] == "SUCCEEDED"
    });
    assert_eq!(h.runs_of(LOAD).len(), 1);
}

#[test]
fn step_timeouts_kill_the_run_or_leave_it_as_configured() {
    let h = Harness::new();
    h.pipeline_file(
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
    let out = h.hexdash(&["pipeline", "run", "slow", "--wait", "--json"]);
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
    let runs = h.runs_of(HANGS);
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
    let h = Harness::new();
    let out = h.hexdash(&[
        "pipeline",
        "run",
        "daily-etl",
        "-p",
        "date=2026-02-06",
        "--wait",
        "--json",
    ]);
    out.expect_code(0);
    let id = out.json()["pipelineRunId"].as_str().unwrap().to_string();
    let again = h.hexdash(&["pipeline", "resume", &id, "--wait"]);
    again.expect_code(0);
    assert!(
        again.stdout.contains("already succeeded"),
        "{}",
        again.stdout
    );

    let out = h.hexdash(&[
        "pipeline",
        "resume",
        &id,
        "--from",
        "transform",
        "--wait",
        "--json",
    ]);
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
        h.runs_of(EXTRACT).len(),
        1,
        "upstream of --from is not rerun"
    );
    assert_eq!(h.runs_of(TRANSFORM).len(), 2);
    assert_eq!(h.runs_of(LOAD).len(), 2);
    assert!(
        h.runs_of(LOAD)
            .iter()
            .all(|r| r.input_params["run_date"] == "2026-02-06")
    );

    let out = h.hexdash(&["pipeline", "resume", &id, "--from", "nope"]);
    out.expect_code(4);
    assert!(out.stderr.contains("nope"), "{}", out.stderr);
    // A refused resume leaves the pipeline run readable and as it was.
    let status = h.hexdash(&["pipeline", "status", &id, "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["status"], "SUCCEEDED");
}

#[test]
fn the_dashboard_launches_the_daily_etl_and_watches_it_complete() {
    let h = Harness::new();
    let env = h.envs();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut ui = pty::Pty::spawn_in(&[], &env, tempfile::tempdir().unwrap());
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
        let runs = h.runs_of(project);
        assert_eq!(runs.len(), 1, "{project} ran once: {runs:?}");
        assert_eq!(runs[0].input_params["run_date"], "2026-02-06");
    }
    // In order: each step started after the one before it ended.
    let (e, t, l) = (
        &h.runs_of(EXTRACT)[0],
        &h.runs_of(TRANSFORM)[0],
        &h.runs_of(LOAD)[0],
    );
    assert!(e.created_at < t.created_at && t.created_at < l.created_at);
    // The headless view agrees with the screen.
    let list = h.hexdash(&["pipeline", "list", "--json"]).json();
    assert_eq!(list[0]["status"], "SUCCEEDED", "{list}");
    ui.type_keys("q");
    ui.wait_for("the list again", |s| s.contains("Recent runs of daily-etl"));
    ui.type_keys("q");
    assert_eq!(ui.wait_exit(), 0, "{}", ui.screen());
    ui.assert_restored();
}

#[test]
fn a_step_whose_run_hex_forgets_fails_instead_of_waiting_forever() {
    let h = Harness::new();
    h.pipeline_file(
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
    let mut driver = h.spawn(&["pipeline", "run", "forgotten", "--wait", "--json"]);
    h.wait_for("the hanging step's run", || h.runs_of(HANGS).len() == 1);
    // Hex loses every run (the emulator back to its initial state): polls now get 404.
    h.emu.control().reset();
    let gave_up = (0..300).any(|_| {
        std::thread::sleep(Duration::from_millis(200));
        driver.try_wait().unwrap().is_some()
    });
    if !gave_up {
        driver.kill().unwrap();
        panic!("the pipeline still waits for a run Hex no longer knows");
    }
    let out = Outcome::of(driver.wait_with_output().unwrap());
    out.expect_code(1);
    let report = out.json();
    let hangs = step(&report, "hangs");
    assert_eq!(hangs["status"], "FAILED", "{report}");
    let error = hangs["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("no longer"), "{error}");
    assert_eq!(step(&report, "after")["status"], "SKIPPED", "{report}");
    assert!(
        h.runs_of(LOAD).is_empty(),
        "nothing launched after the failure"
    );
}

/// A dashboard opened while `pipeline run --wait` drives a pipeline on the same data dir follows
/// it live through the store, and does not drive it too (each step launched once).
#[test]
fn a_dashboard_follows_a_pipeline_another_hexdash_drives() {
    let h = Harness::new();
    let driver = h.spawn(&[
        "pipeline",
        "run",
        "daily-etl",
        "-p",
        "date=2026-02-07",
        "--wait",
    ]);
    h.wait_for("the extract step launched", || {
        h.runs_of(EXTRACT).len() == 1
    });
    let env = h.envs();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut ui = pty::Pty::spawn_in(&[], &env, tempfile::tempdir().unwrap());
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
            h.runs_of(project).len(),
            1,
            "each step launched once, by the driver only"
        );
    }
}
