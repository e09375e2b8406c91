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

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::scenario::{self as sc, project};
use common::seeded::{Rng, kill_after, seed};
use common::{Emu, Home, Outcome};

const DEFAULT_SEED: u64 = 0x91fe_c4a5;
const ITERATIONS: u64 = 20;
/// The rival pipeline run of iteration N carries `iter = N + RIVAL`.
const RIVAL: u64 = 100;
const STEPS: [&str; 4] = ["extract", "left", "right", "load"];
/// Guards against hangs only; nothing here is a timed assertion.
const GUARD: Duration = Duration::from_secs(90);

const P1: &str = "dddddddd-0000-4000-8000-000000000001";
const P2: &str = "dddddddd-0000-4000-8000-000000000002";

fn scenario() -> String {
    // Far above what these launches and polls need: this test is about crashes, not 429s.
    let mut scenario = sc::scenario().seed(11).unlimited();
    for id in [P1, P2] {
        scenario = scenario
            .project(project(id, &format!("Crash pipeline {id}")).runs([0.0, 0.3], [0.3, 1.2]));
    }
    scenario.toml()
}

fn config() -> String {
    // As the emulator's limits: this test is about crashes, not the request budget its
    // processes share (one token, one ledger).
    let params = r#"[{ name = "iter", type = "number" }, { name = "step", type = "text" }]"#;
    sc::config()
        .unlimited()
        .project(P1, "p1", Some(params))
        .project(P2, "p2", Some(params))
        .toml()
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

/// The emulator, and a home with the config and the pipeline.
fn started() -> (Emu, Home) {
    let home = Home::with_config(&config());
    home.write_pipeline("crashpipe.toml", PIPELINE);
    (Emu::start(&scenario()), home)
}

/// `hexdash ARGS` to its end (killed at the guard).
fn run(emu: &Emu, home: &Home, args: &[&str]) -> Outcome {
    Outcome::guarded(home.spawn(emu, args), GUARD)
}

fn pipeline_ids(emu: &Emu, home: &Home) -> Vec<String> {
    let out = run(emu, home, &["pipeline", "list", "--limit", "0", "--json"]);
    out.expect_code(0);
    out.json()
        .as_array()
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
fn runs_by_step(emu: &Emu) -> BTreeMap<(i64, String), Vec<String>> {
    let mut out: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
    for run in emu.runs() {
        let iter = run.input_params["iter"].as_i64().unwrap();
        let step = run.input_params["step"].as_str().unwrap().to_string();
        let status = serde_json::to_value(&run.status).unwrap();
        out.entry((iter, step))
            .or_default()
            .push(status.as_str().unwrap().to_string());
    }
    out
}

#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test pauses")]
#[test]
fn a_pipeline_killed_at_random_moments_is_finished_by_the_next_hexdash_with_each_step_run_once() {
    let mut rng = Rng(seed("HEXDASH_CRASH_SEED", DEFAULT_SEED));
    let (emu, home) = started();
    let mut known: HashSet<String> = HashSet::new();
    let mut started: Vec<i64> = Vec::new();
    let mut rivals: Vec<i64> = Vec::new();
    for iter in 0..ITERATIONS {
        let iter_text = iter.to_string();
        let param = format!("iter={iter_text}");
        let mut cmd = home.spawn_against(
            &emu,
            &["pipeline", "run", "crashpipe", "-p", &param, "--wait"],
        );
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
        let rival = home.spawn(
            &emu,
            &["pipeline", "run", "crashpipe", "-p", &rival_param, "--wait"],
        );
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

        let ids = pipeline_ids(&emu, &home);
        let new: Vec<&String> = ids.iter().filter(|id| !known.contains(*id)).collect();
        assert!(new.len() <= 1, "iteration {iter}: {new:?}");
        let Some(id) = new.first().map(|s| s.to_string()) else {
            // Killed before the pipeline run was journalled: nothing may have launched.
            assert!(
                !runs_by_step(&emu).keys().any(|(i, _)| *i == iter as i64),
                "iteration {iter}: runs without a journalled pipeline run"
            );
            continue;
        };
        known.insert(id.clone());
        started.push(iter as i64);
        let out = run(
            &emu,
            &home,
            &["pipeline", "resume", &id, "--wait", "--json"],
        );
        assert_eq!(
            out.code, 0,
            "iteration {iter} (killed after {delay:?}): resume failed\n{}\n{}",
            out.stdout, out.stderr
        );
        if !out.stdout.contains("already succeeded") {
            let report = out.json();
            assert_eq!(report["status"], "SUCCEEDED", "{report}");
        }
    }
    assert!(
        started.len() >= 10,
        "too few kills landed after the start: {started:?}"
    );
    let runs = runs_by_step(&emu);
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
