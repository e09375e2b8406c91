#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Crash safety of pipelines, end to end with the real binary: `hexdash pipeline run P -p
//! iter=N --wait` is killed with SIGKILL at a moment a seeded RNG picks (some aimed with the
//! engine's test pauses between a step's synced intent and its POST, or right after Hex's 201),
//! at least 20 times over one data dir and one in-process emulator. After each kill the next
//! hexdash (`pipeline resume ID --wait`) must finish the pipeline, and at the end every step of
//! every pipeline run has run exactly once (counted in the emulator's own record of runs). In
//! every iteration a rival `pipeline run` of the same pipeline starts at the same moment on the
//! same data dir and runs to its end, so two processes launch the same projects at once.
//!
//! `HEXDASH_CRASH_SEED=<u64>` replays another plan; the seed is printed either way.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hexdash::emulator::{EmulatorOptions, RunningEmulator, Scenario, start};
use serde_json::Value;

const TOKEN: &str = "hxtp_pipeline_crash_0001";
const DEFAULT_SEED: u64 = 0x91fe_c4a5;
const ITERATIONS: u64 = 20;
/// The rival pipeline run of iteration N carries `iter = N + RIVAL`.
const RIVAL: u64 = 100;
const STEPS: [&str; 4] = ["extract", "left", "right", "load"];
/// Guards against hangs only; nothing here is a timed assertion.
const GUARD: Duration = Duration::from_secs(90);

const P1: &str = "dddddddd-0000-4000-8000-000000000001";
const P2: &str = "dddddddd-0000-4000-8000-000000000002";

fn scenario_text() -> String {
    let mut s = format!(
        r#"
tokens = ["{TOKEN}"]
seed = 11
# Far above what these launches and polls need: this test is about crashes, not 429s.
[limits]
requests_per_minute = 100000
run_per_minute = 10000
run_per_hour = 100000
max_concurrent_kernels = 1000
"#
    );
    for id in [P1, P2] {
        let _ = write!(
            s,
            r#"
[[projects]]
id = "{id}"
title = "Crash pipeline {id}"
owner = "ops@acme.example"
published_hours_ago = 5
[projects.run]
pending_secs = [0.0, 0.3]
duration_secs = [0.3, 1.2]
"#
        );
    }
    s
}

const LIMITS: &str = r#"
# As the emulator's limits: this test is about crashes, not the request budget its processes
# share (one token, one ledger).
[limits]
requests_per_minute = 100000
launches_per_minute = 10000
launches_per_hour = 100000
"#;

fn config_text() -> String {
    let mut s = String::from(LIMITS);
    for (id, alias) in [(P1, "p1"), (P2, "p2")] {
        let _ = write!(
            s,
            r#"
[[projects]]
id = "{id}"
alias = "{alias}"
params = [{{ name = "iter", type = "number" }}, {{ name = "step", type = "text" }}]
"#
        );
    }
    s
}

const PIPELINE: &str = r#"name = "crashpipe"
max_parallel = 2
[[params]]
name = "iter"
type = "number"
[[steps]]
id = "extract"
project = "p1"
params = { iter = "{{ params.iter }}", step = "extract" }
[[steps]]
id = "left"
project = "p2"
depends_on = ["extract"]
params = { iter = "{{ params.iter }}", step = "left" }
[[steps]]
id = "right"
project = "p2"
depends_on = ["extract"]
params = { iter = "{{ params.iter }}", step = "right" }
[[steps]]
id = "load"
project = "p1"
depends_on = ["left", "right"]
params = { iter = "{{ params.iter }}", step = "load" }
"#;

/// A small deterministic generator: the plan must replay from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

struct Harness {
    emu: RunningEmulator,
    home: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let scenario = Scenario::from_toml_str(&scenario_text(), "pipeline-crash.toml").unwrap();
        let emu = rt
            .block_on(start(
                "127.0.0.1:0".parse().unwrap(),
                EmulatorOptions::new(scenario),
            ))
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("config/pipelines")).unwrap();
        std::fs::write(home.path().join("config/config.toml"), config_text()).unwrap();
        std::fs::write(
            home.path().join("config/pipelines/crashpipe.toml"),
            PIPELINE,
        )
        .unwrap();
        Harness { emu, home, _rt: rt }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hexdash"));
        cmd.args(args)
            .env("HEX_API_URL", self.emu.base_url())
            .env("HEX_API_TOKEN", TOKEN)
            .env("HEXDASH_CONFIG_DIR", self.home.path().join("config"))
            .env("HEXDASH_DATA_DIR", self.home.path().join("data"))
            .env("HEXDASH_LEDGER_DIR", self.home.path().join("ledger"))
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .env_remove("HEXDASH_TEST_PAUSE_AT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs to the end (killed at the guard), returning exit code, stdout and stderr. Output is
    /// read while it runs: a listing can be larger than a pipe holds.
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let child = self.command(args).spawn().unwrap();
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait_with_output());
        });
        let out = match rx.recv_timeout(GUARD) {
            Ok(out) => out.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                rx.recv().unwrap().unwrap()
            }
        };
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn pipeline_ids(&self) -> Vec<String> {
        let (code, out, err) = self.run(&["pipeline", "list", "--limit", "0", "--json"]);
        assert_eq!(code, Some(0), "{out}{err}");
        let list: Value = serde_json::from_str(&out).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                p["pipelineRunId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("an unreadable pipeline run: {p}"))
                    .to_string()
            })
            .collect()
    }

    /// (iter, step) → how many runs the emulator created, and their statuses.
    fn runs_by_step(&self) -> BTreeMap<(i64, String), Vec<String>> {
        let mut out: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for run in self.emu.control().runs() {
            let iter = run.input_params["iter"].as_i64().unwrap();
            let step = run.input_params["step"].as_str().unwrap().to_string();
            let status = serde_json::to_value(&run.status).unwrap();
            out.entry((iter, step))
                .or_default()
                .push(status.as_str().unwrap().to_string());
        }
        out
    }
}

fn kill_after(child: &mut Child, delay: Duration) {
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test pauses")]
#[test]
fn a_pipeline_killed_at_random_moments_is_finished_by_the_next_hexdash_with_each_step_run_once() {
    let seed = std::env::var("HEXDASH_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    println!("HEXDASH_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let h = Harness::new();
    let mut known: HashSet<String> = HashSet::new();
    let mut started: Vec<i64> = Vec::new();
    let mut rivals: Vec<i64> = Vec::new();
    for iter in 0..ITERATIONS {
        let iter_text = iter.to_string();
        let param = format!("iter={iter_text}");
        let mut cmd = h.command(&["pipeline", "run", "crashpipe", "-p", &param, "--wait"]);
        let delay = match iter % 5 {
            // Held between a step's synced intent and its POST, or just after Hex's 201.
            0 => {
                cmd.env("HEXDASH_TEST_PAUSE_AT", "after_intent");
                Duration::from_millis(1500)
            }
            1 => {
                cmd.env("HEXDASH_TEST_PAUSE_AT", "after_post");
                Duration::from_millis(1500)
            }
            _ => Duration::from_millis(rng.next() % 5000),
        };
        cmd.env("HEXDASH_TEST_PAUSE_MS", "60000");
        let mut child = cmd.spawn().unwrap();
        // A second pipeline run of the same pipeline starts at the same moment on the same store
        // and is never killed: two processes launch the same projects at once.
        let rival_param = format!("iter={}", iter + RIVAL);
        let rival = h
            .command(&["pipeline", "run", "crashpipe", "-p", &rival_param, "--wait"])
            .spawn()
            .unwrap();
        kill_after(&mut child, delay);
        let rival = rival.wait_with_output().unwrap();
        let rival_err = String::from_utf8_lossy(&rival.stderr).into_owned();
        assert_eq!(
            rival.status.code(),
            Some(0),
            "iteration {iter}: rival\n{rival_err}"
        );
        let rival_id = rival_err
            .lines()
            .find_map(|l| l.split("run ").nth(1)?.strip_suffix(" started"))
            .unwrap_or_else(|| panic!("iteration {iter}: no rival id in\n{rival_err}"))
            .to_string();
        known.insert(rival_id);
        rivals.push((iter + RIVAL) as i64);

        let ids = h.pipeline_ids();
        let new: Vec<&String> = ids.iter().filter(|id| !known.contains(*id)).collect();
        assert!(new.len() <= 1, "iteration {iter}: {new:?}");
        let Some(id) = new.first().map(|s| s.to_string()) else {
            // Killed before the pipeline run was journalled: nothing may have launched.
            assert!(
                !h.runs_by_step().keys().any(|(i, _)| *i == iter as i64),
                "iteration {iter}: runs without a journalled pipeline run"
            );
            continue;
        };
        known.insert(id.clone());
        started.push(iter as i64);
        let (code, out, err) = h.run(&["pipeline", "resume", &id, "--wait", "--json"]);
        assert_eq!(
            code,
            Some(0),
            "iteration {iter} (killed after {delay:?}): resume failed\n{out}\n{err}"
        );
        if !out.contains("already succeeded") {
            let report: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(report["status"], "SUCCEEDED", "{report}");
        }
    }
    assert!(
        started.len() >= 10,
        "too few kills landed after the start: {started:?}"
    );
    let runs = h.runs_by_step();
    for iter in started.iter().chain(&rivals) {
        for step in STEPS {
            let statuses = runs
                .get(&(*iter, step.to_string()))
                .unwrap_or_else(|| panic!("iteration {iter}: step {step} never ran"));
            assert_eq!(
                statuses,
                &["COMPLETED".to_string()],
                "iteration {iter}: step {step} ran {} times",
                statuses.len()
            );
        }
    }
    println!(
        "{} of {ITERATIONS} kills landed after the pipeline run was journalled; every step of \
         each ran exactly once",
        started.len()
    );
}
