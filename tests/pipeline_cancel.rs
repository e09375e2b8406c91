#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A cancelled pipeline launches nothing more, end to end with the real binary (hardening item
//! 6). A three-step sequence a → b → c runs with `pipeline run --file F --wait`; its driver is
//! interrupted (SIGINT), killed (SIGKILL, some while paused between a step's synced intent and
//! its POST) or left running, at moments chosen per iteration (a seeded RNG for the random ones),
//! and `pipeline cancel ID` is run from another process. Then, from the journal and from the
//! emulator's own record of runs:
//! - no `launch_intent` of the pipeline run follows its journalled `cancel`;
//! - every run the emulator created for the iteration came from an intent written before the
//!   cancel (no step's run was created after the cancel was journalled);
//! - the pipeline run ended CANCELLED (or had already ended before the cancel).
//!
//! `HEXDASH_CANCEL_SEED=<u64>` replays another plan; the seed is printed either way.

mod common;

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::scenario::{self as sc, project};
use common::seeded::{Rng, kill_after, seed};
use common::{Emu, Home, Outcome, wait_until};

const DEFAULT_SEED: u64 = 0x6_ca9c_e11e;
const PROJECT: &str = "cccccccc-0000-4000-8000-000000000001";
/// Guards against hangs only; nothing here is a timed assertion.
const GUARD: Duration = Duration::from_secs(90);

fn scenario() -> String {
    sc::scenario()
        .seed(5)
        .unlimited()
        .project(project(PROJECT, "Cancel sequence").runs([0.0, 0.2], [1.2, 1.6]))
        .toml()
}

fn config() -> String {
    // As the emulator's limits: this test is about cancels, not the request budget its
    // processes share (one token, one ledger).
    sc::config()
        .unlimited()
        .project(
            PROJECT,
            "seq",
            Some(r#"[{ name = "iter", type = "number" }, { name = "step", type = "text" }]"#),
        )
        .toml()
}

const PIPELINE: &str = r#"name = "sequence"
[[params]]
name = "iter"
type = "number"
[[steps]]
id = "a"
project = "seq"
params = { iter = "{{ params.iter }}", step = "a" }
[[steps]]
id = "b"
project = "seq"
params = { iter = "{{ params.iter }}", step = "b" }
[[steps]]
id = "c"
project = "seq"
params = { iter = "{{ params.iter }}", step = "c" }
"#;

/// How the driver is stopped before `pipeline cancel` runs.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// SIGINT while `step` runs, then wait until Hex reports that run ended (nobody drives the
    /// pipeline in between), then cancel. The reported bug.
    InterruptThenStepEnds(&'static str),
    /// SIGINT while b runs, cancel at once.
    InterruptWhileRunning,
    /// SIGKILL while b runs, then wait for its end, then cancel.
    KillThenStepEnds,
    /// SIGKILL after a random delay.
    KillAfter(Duration),
    /// SIGKILL while paused between a's synced intent and its POST.
    KillAfterIntent,
    /// The driver keeps driving; the cancel comes from another process after a delay.
    CancelBeside(Duration),
    /// No `--wait`: a background hexdash drives; the cancel comes after a delay.
    CancelBackground(Duration),
}

/// The emulator, and a home with the config and the pipeline's file (its path).
fn started() -> (Emu, Home, String) {
    let home = Home::with_config(&config());
    let file = home.path().join("sequence.toml");
    std::fs::write(&file, PIPELINE).unwrap();
    (Emu::start(&scenario()), home, file.display().to_string())
}

/// `hexdash ARGS` to its end (killed at the guard).
fn finish(emu: &Emu, home: &Home, args: &[&str]) -> Outcome {
    Outcome::guarded(home.spawn(emu, args), GUARD)
}

/// Runs of iteration `iter` as the emulator recorded them: (step, run id, status).
fn runs_of(emu: &Emu, iter: i64) -> Vec<(String, String, String)> {
    emu.runs()
        .into_iter()
        .filter(|r| r.input_params["iter"].as_i64() == Some(iter))
        .map(|r| {
            let status = serde_json::to_value(&r.status).unwrap();
            (
                r.input_params["step"].as_str().unwrap().to_string(),
                r.run_id,
                status.as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has_run(emu: &Emu, iter: i64, step: &str, status: &str) -> bool {
    runs_of(emu, iter)
        .iter()
        .any(|(s, _, st)| s == step && st == status)
}

/// The newest pipeline run's id, once the journal has one not in `known`.
fn new_pipeline_id(home: &Home, known: &HashSet<String>) -> Option<String> {
    home.events_json().iter().find_map(|e| {
        let id = e["pipeline_run_id"].as_str()?;
        (e["event"] == "pipeline" && e["kind"] == "started" && !known.contains(id))
            .then(|| id.to_string())
    })
}

fn intent_journalled(home: &Home, id: &str, step: &str) -> bool {
    home.events_json().iter().any(|e| {
        e["event"] == "launch_intent"
            && e["origin"]["pipeline_run_id"] == id
            && e["origin"]["step_id"] == step
    })
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {name} failed");
}

/// What the journal and the emulator say about one cancelled pipeline run; panics on a launch
/// after the cancel.
fn check_nothing_launched_after_cancel(
    emu: &Emu,
    home: &Home,
    iter: i64,
    id: &str,
    plan: Plan,
) -> bool {
    let journal = home.events_json();
    let cancel_seq = journal
        .iter()
        .filter(|e| e["event"] == "pipeline" && e["pipeline_run_id"] == id && e["kind"] == "cancel")
        .filter_map(|e| e["seq"].as_u64())
        .min();
    let Some(cancel_seq) = cancel_seq else {
        // The pipeline ended before the cancel reached it: nothing to check beyond its end.
        return false;
    };
    let mut before: HashSet<String> = HashSet::new();
    let mut after: Vec<String> = Vec::new();
    for e in &journal {
        if e["event"] == "launch_intent" && e["origin"]["pipeline_run_id"] == id {
            let seq = e["seq"].as_u64().unwrap();
            let step = e["origin"]["step_id"].as_str().unwrap_or("?");
            if seq > cancel_seq {
                after.push(format!("{step} (seq {seq})"));
            } else {
                before.insert(e["launch_id"].as_str().unwrap().to_string());
            }
        }
    }
    assert!(
        after.is_empty(),
        "iteration {iter} ({plan:?}): launch intents after the cancel (seq {cancel_seq}): {after:?}"
    );
    let mut allowed: HashMap<String, String> = HashMap::new();
    for e in &journal {
        let launched = e["event"] == "launched" || e["event"] == "adopted";
        if let (true, Some(launch)) = (launched, e["launch_id"].as_str())
            && before.contains(launch)
        {
            allowed.insert(e["run_id"].as_str().unwrap().to_string(), launch.into());
        }
    }
    for (step, run_id, status) in runs_of(emu, iter) {
        assert!(
            allowed.contains_key(&run_id),
            "iteration {iter} ({plan:?}): step {step}'s run {run_id} ({status}) was created \
             after the cancel was journalled"
        );
    }
    true
}

#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test pauses")]
#[test]
fn a_cancelled_pipeline_launches_nothing_more_however_its_driver_stopped() {
    let mut rng = Rng(seed("HEXDASH_CANCEL_SEED", DEFAULT_SEED));
    let (emu, home, file) = started();
    let mut plans = vec![
        Plan::InterruptThenStepEnds("b"),
        Plan::InterruptThenStepEnds("a"),
        Plan::InterruptWhileRunning,
        Plan::KillThenStepEnds,
        Plan::KillAfterIntent,
    ];
    for _ in 0..3 {
        plans.push(Plan::KillAfter(rng.delay(4000)));
        plans.push(Plan::CancelBeside(rng.delay(4000)));
    }
    plans.push(Plan::CancelBackground(rng.delay(3000)));
    let mut known: HashSet<String> = HashSet::new();
    let mut cancelled = 0;
    for (iter, plan) in plans.iter().copied().enumerate() {
        let iter = iter as i64;
        let param = format!("iter={iter}");
        let mut run = vec!["pipeline", "run", "--file", &file, "-p", &param];
        if !matches!(plan, Plan::CancelBackground(_)) {
            run.push("--wait");
        }
        let mut cmd = home.spawn_against(&emu, &run);
        if matches!(plan, Plan::KillAfterIntent) {
            cmd.env("HEXDASH_TEST_PAUSE_AT", "after_intent")
                .env("HEXDASH_TEST_PAUSE_MS", "60000");
        }
        let mut child = cmd.spawn().unwrap();
        let mut beside = None;
        match plan {
            Plan::InterruptThenStepEnds(step) => {
                wait_until("the step running", GUARD, || {
                    has_run(&emu, iter, step, "RUNNING")
                });
                signal(&child, "-INT");
                let out = Outcome::guarded(child, GUARD);
                assert_eq!(out.code, 130, "{out:?}");
                wait_until("the step's run to end", GUARD, || {
                    has_run(&emu, iter, step, "COMPLETED")
                });
            }
            Plan::InterruptWhileRunning => {
                wait_until("b running", GUARD, || has_run(&emu, iter, "b", "RUNNING"));
                signal(&child, "-INT");
                Outcome::guarded(child, GUARD);
            }
            Plan::KillThenStepEnds => {
                wait_until("b running", GUARD, || has_run(&emu, iter, "b", "RUNNING"));
                kill_after(&mut child, Duration::ZERO);
                wait_until("b's run to end", GUARD, || {
                    has_run(&emu, iter, "b", "COMPLETED")
                });
            }
            Plan::KillAfter(delay) => kill_after(&mut child, delay),
            Plan::KillAfterIntent => {
                wait_until("a's intent journalled", GUARD, || {
                    new_pipeline_id(&home, &known)
                        .is_some_and(|id| intent_journalled(&home, &id, "a"))
                });
                kill_after(&mut child, Duration::ZERO);
            }
            Plan::CancelBeside(delay) => {
                let start = Instant::now();
                wait_until("the pipeline run journalled", GUARD, || {
                    new_pipeline_id(&home, &known).is_some()
                });
                std::thread::sleep(delay.saturating_sub(start.elapsed()));
                beside = Some(child);
            }
            Plan::CancelBackground(delay) => {
                let out = Outcome::guarded(child, GUARD);
                assert_eq!(out.code, 0, "{out:?}");
                std::thread::sleep(delay);
            }
        }
        let Some(id) = new_pipeline_id(&home, &known) else {
            // Killed before the pipeline run was journalled: nothing may have launched.
            assert!(
                runs_of(&emu, iter).is_empty(),
                "iteration {iter}: runs without a pipeline"
            );
            continue;
        };
        known.insert(id.clone());
        let out = finish(&emu, &home, &["pipeline", "cancel", &id]);
        assert!(
            out.code == 2 || (out.code == 0 && out.stdout.contains("already ended")),
            "iteration {iter} ({plan:?}): cancel exited {}\n{}\n{}",
            out.code,
            out.stdout,
            out.stderr
        );
        if let Some(driver) = beside {
            let out = Outcome::guarded(driver, GUARD);
            assert!(
                matches!(out.code, 0 | 2),
                "iteration {iter}: the driver: {out:?}"
            );
        }
        if check_nothing_launched_after_cancel(&emu, &home, iter, &id, plan) {
            cancelled += 1;
            let status = finish(&emu, &home, &["pipeline", "status", &id, "--json"]);
            assert_eq!(status.json()["status"], "CANCELLED", "{}", status.stdout);
        }
        if let Plan::InterruptThenStepEnds(step) = plan {
            let later: &[&str] = if step == "a" { &["b", "c"] } else { &["c"] };
            let runs = runs_of(&emu, iter);
            assert!(
                !runs.iter().any(|(s, _, _)| later.contains(&s.as_str())),
                "iteration {iter}: launched after the cancel: {runs:?}"
            );
        }
    }
    assert!(cancelled >= 6, "too few cancels landed: {cancelled}");
    println!(
        "{cancelled} of {} cancels landed on an unfinished pipeline",
        plans.len()
    );
}

/// `pipeline run` without `--wait` hands the run to a background `pipeline resume ID --wait`.
/// When that one gets the journal only after a `pipeline cancel` ended the run, it must not
/// resume the cancelled run (which would launch its steps again).
#[test]
fn a_background_driver_arriving_after_the_cancel_does_not_resume_the_run() {
    let (emu, home, file) = started();
    let child = home.spawn(
        &emu,
        &[
            "pipeline", "run", "--file", &file, "-p", "iter=100", "--wait",
        ],
    );
    wait_until("a running", GUARD, || has_run(&emu, 100, "a", "RUNNING"));
    signal(&child, "-INT");
    Outcome::guarded(child, GUARD);
    let id = new_pipeline_id(&home, &HashSet::new()).unwrap();
    finish(&emu, &home, &["pipeline", "cancel", &id]).expect_code(2);
    // What `detach` starts, arriving late.
    let mut late = home.spawn_against(&emu, &["pipeline", "resume", &id, "--wait"]);
    late.env("HEXDASH_PIPELINE_CARRY_ON_ONLY", "1");
    let out = Outcome::guarded(late.spawn().unwrap(), GUARD);
    assert!(out.stdout.contains("already ended"), "{out:?}");
    check_nothing_launched_after_cancel(
        &emu,
        &home,
        100,
        &id,
        Plan::CancelBackground(Duration::ZERO),
    );
    let runs = runs_of(&emu, 100);
    assert!(
        runs.iter().all(|(step, _, _)| step == "a"),
        "launched after the cancel: {runs:?}"
    );
    let status = finish(&emu, &home, &["pipeline", "status", &id, "--json"]);
    assert_eq!(status.json()["status"], "CANCELLED", "{}", status.stdout);
}
