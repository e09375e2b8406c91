use std::path::Path;

use serde_json::json;

use super::*;
use crate::config::Config;
use crate::pipeline::{Projects, validate};

const A: &str = "00000000-0000-4000-8000-00000000000a";

/// A pipeline over undeclared projects (ids as written), from TOML steps.
fn pipeline(steps: &str) -> Arc<Pipeline> {
    pipeline_with("", steps)
}

/// As [`pipeline`], with pipeline-level keys (`top`) before the tables.
pub(super) fn pipeline_with(top: &str, steps: &str) -> Arc<Pipeline> {
    let config = Config::default();
    let text = format!(
        "name = \"t\"\n{top}\n[[params]]\nname = \"date\"\ntype = \"date\"\ndefault = \"2026-03-01\"\n{steps}"
    );
    let p = validate(
        &text,
        Path::new("t.toml"),
        &Projects {
            config: &config,
            workspace: None,
        },
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    Arc::new(p)
}

pub(super) fn step(id: &str, extra: &str) -> String {
    format!("[[steps]]\nid = \"{id}\"\nproject = \"{A}\"\n{extra}\n")
}

pub(super) fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

pub(super) fn params() -> IndexMap<String, Value> {
    IndexMap::from([("date".to_string(), json!("2026-03-01"))])
}

/// Drives a machine and checks what it asks for.
struct Run {
    m: Machine,
}

impl Run {
    fn start(p: Arc<Pipeline>) -> (Run, Vec<Command>) {
        let mut m = Machine::new(p, params());
        let c = m.handle(&Input::Start { at: t(0) }).unwrap();
        (Run { m }, c)
    }

    fn feed(&mut self, input: Input) -> Vec<Command> {
        self.m.handle(&input).unwrap()
    }

    fn launched(&mut self, step: &str, attempt: u32, at: i64) -> Vec<Command> {
        self.feed(Input::Launched {
            step: step.into(),
            attempt,
            run_id: format!("{step}-{attempt}"),
            run_url: Some(format!("https://hex/{step}-{attempt}")),
            at: t(at),
        })
    }

    fn ended(&mut self, step: &str, attempt: u32, status: RunStatus, at: i64) -> Vec<Command> {
        self.feed(Input::RunEnded {
            step: step.into(),
            attempt,
            run_id: format!("{step}-{attempt}"),
            status,
            end_time: Some(t(at)),
            at: t(at),
        })
    }

    /// Launch and finish a step's attempt in one go.
    fn runs(&mut self, step: &str, attempt: u32, status: RunStatus, at: i64) -> Vec<Command> {
        self.launched(step, attempt, at);
        self.ended(step, attempt, status, at + 1)
    }

    fn status(&self, step: &str) -> StepStatus {
        self.m.step(step).unwrap().status.clone()
    }
}

fn launches(commands: &[Command]) -> Vec<(String, u32)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Launch(l) => Some((l.step.clone(), l.attempt)),
            _ => None,
        })
        .collect()
}

fn l(step: &str, attempt: u32) -> (String, u32) {
    (step.to_string(), attempt)
}

fn finished(commands: &[Command]) -> Option<PipelineStatus> {
    commands.iter().find_map(|c| match c {
        Command::Finished(s) => Some(*s),
        _ => None,
    })
}

#[test]
fn a_plain_list_runs_in_sequence() {
    let p = pipeline(&[step("a", ""), step("b", ""), step("c", "")].concat());
    let (mut r, c) = Run::start(p);
    assert_eq!(launches(&c), [l("a", 1)]);
    assert_eq!(r.status("b"), StepStatus::Waiting);
    assert!(r.launched("a", 1, 1).is_empty());
    assert_eq!(
        launches(&r.ended("a", 1, RunStatus::Completed, 2)),
        [l("b", 1)]
    );
    assert_eq!(
        launches(&r.runs("b", 1, RunStatus::Completed, 3)),
        [l("c", 1)]
    );
    let c = r.runs("c", 1, RunStatus::Completed, 5);
    assert_eq!(finished(&c), Some(PipelineStatus::Succeeded));
    assert_eq!(r.m.status(), PipelineStatus::Succeeded);
    // Nothing more happens after the end, and Finished is sent once.
    assert!(r.feed(Input::Tick { at: t(99) }).is_empty());
}

#[test]
fn fan_out_runs_in_parallel_and_fan_in_waits_for_all() {
    let p = pipeline(
        &[
            step("root", ""),
            step("x", "depends_on = [\"root\"]"),
            step("y", "depends_on = [\"root\"]"),
            step("z", "depends_on = [\"root\"]"),
            step("join", "depends_on = [\"x\", \"y\", \"z\"]"),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    let c = r.runs("root", 1, RunStatus::Completed, 1);
    assert_eq!(launches(&c), [l("x", 1), l("y", 1), l("z", 1)]);
    r.runs("x", 1, RunStatus::Completed, 3);
    assert!(launches(&r.runs("z", 1, RunStatus::Completed, 4)).is_empty());
    assert_eq!(r.status("join"), StepStatus::Waiting);
    assert_eq!(
        launches(&r.runs("y", 1, RunStatus::Completed, 5)),
        [l("join", 1)]
    );
}

#[test]
fn max_parallel_caps_running_steps_and_fills_freed_slots_in_file_order() {
    let mut text = String::new();
    for id in ["a", "b", "c", "d"] {
        text.push_str(&step(id, "depends_on = []"));
    }
    let (mut r, c) = Run::start(pipeline_with("max_parallel = 2", &text));
    assert_eq!(launches(&c), [l("a", 1), l("b", 1)]);
    r.launched("a", 1, 1);
    assert!(r.launched("b", 1, 1).is_empty());
    assert_eq!(
        launches(&r.ended("b", 1, RunStatus::Completed, 2)),
        [l("c", 1)]
    );
    assert_eq!(
        launches(&r.ended("a", 1, RunStatus::Errored, 3)),
        [l("d", 1)]
    );
}

#[test]
fn a_failure_with_stop_skips_downstream_but_independent_branches_finish() {
    let p = pipeline(
        &[
            step("a", "depends_on = []"),
            step("a2", "depends_on = [\"a\"]"),
            step("a3", "depends_on = [\"a2\"]"),
            step("b", "depends_on = []"),
        ]
        .concat(),
    );
    let (mut r, c) = Run::start(p);
    assert_eq!(launches(&c), [l("a", 1), l("b", 1)]);
    r.launched("b", 1, 1);
    let c = r.runs("a", 1, RunStatus::Errored, 1);
    assert!(launches(&c).is_empty() && finished(&c).is_none());
    assert_eq!(r.status("a"), StepStatus::Failed);
    assert_eq!(r.status("a2"), StepStatus::Skipped);
    assert_eq!(r.status("a3"), StepStatus::Skipped);
    let c = r.ended("b", 1, RunStatus::Completed, 5);
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
    assert_eq!(r.status("b"), StepStatus::Succeeded);
}

#[test]
fn a_failure_with_continue_runs_downstream_and_the_pipeline_still_fails() {
    let p = pipeline(
        &[
            step("a", "on_failure = \"continue\""),
            step("b", "params = { upstream = \"{{ steps.a.status }}\" }"),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    let c = r.runs("a", 1, RunStatus::Killed, 1);
    let Some(Command::Launch(b)) = c.first() else {
        panic!("{c:?}")
    };
    assert_eq!(b.params["upstream"], "KILLED");
    let c = r.runs("b", 1, RunStatus::Completed, 3);
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
}

#[test]
fn retries_wait_their_backoff_launch_new_runs_and_keep_history() {
    let p = pipeline(&step("a", "retries = 2\nretry_backoff = \"30s\""));
    let (mut r, _) = Run::start(p);
    assert!(r.runs("a", 1, RunStatus::Errored, 10).is_empty());
    assert_eq!(r.status("a"), StepStatus::RetryWaiting { due: t(41) });
    assert_eq!(r.m.next_deadline(), Some(t(41)));
    assert!(r.feed(Input::Tick { at: t(40) }).is_empty(), "not due yet");
    assert_eq!(launches(&r.feed(Input::Tick { at: t(41) })), [l("a", 2)]);
    // A launch that makes no run is a failed attempt too.
    let c = r.feed(Input::LaunchFailed {
        step: "a".into(),
        attempt: 2,
        error: "422".into(),
        at: t(42),
    });
    assert!(c.is_empty());
    assert_eq!(launches(&r.feed(Input::Tick { at: t(72) })), [l("a", 3)]);
    let c = r.runs("a", 3, RunStatus::Completed, 80);
    assert_eq!(finished(&c), Some(PipelineStatus::Succeeded));
    let attempts = &r.m.step("a").unwrap().attempts;
    let runs: Vec<_> = attempts.iter().map(|a| a.run_id.clone()).collect();
    assert_eq!(runs, [Some("a-1".into()), None, Some("a-3".into())]);
    assert_eq!(attempts[1].error.as_deref(), Some("422"));
}

#[test]
fn retries_run_out_and_the_step_fails() {
    let p = pipeline(&step("a", "retries = 1\nretry_backoff = \"1s\""));
    let (mut r, _) = Run::start(p);
    r.runs("a", 1, RunStatus::Errored, 0);
    r.feed(Input::Tick { at: t(5) });
    let c = r.runs("a", 2, RunStatus::UnableToAllocateKernel, 6);
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
    assert_eq!(r.m.step("a").unwrap().attempts.len(), 2);
}

#[test]
fn cancel_kills_running_steps_launches_nothing_and_waits_for_in_flight_launches() {
    let p = pipeline(
        &[
            step("a", "depends_on = []"),
            step("b", "depends_on = []"),
            step("c", "depends_on = [\"a\"]"),
            step("d", "depends_on = []\nretries = 3"),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    r.launched("a", 1, 1);
    r.runs("d", 1, RunStatus::Errored, 1);
    // b's launch is in flight when the cancel arrives.
    let c = r.feed(Input::Cancel { at: t(2) });
    assert_eq!(
        c,
        [Command::Cancel {
            step: "a".into(),
            attempt: 1,
            run_id: "a-1".into()
        }]
    );
    assert_eq!(r.m.status(), PipelineStatus::Cancelling);
    assert_eq!(r.status("c"), StepStatus::Cancelled);
    assert_eq!(
        r.status("d"),
        StepStatus::Cancelled,
        "no retry after cancel"
    );
    assert_eq!(
        r.launched("b", 1, 3),
        [Command::Cancel {
            step: "b".into(),
            attempt: 1,
            run_id: "b-1".into()
        }]
    );
    assert!(finished(&r.ended("a", 1, RunStatus::Killed, 4)).is_none());
    // A run that completed before the cancel reached it still counts as done.
    let c = r.ended("b", 1, RunStatus::Completed, 5);
    assert_eq!(finished(&c), Some(PipelineStatus::Cancelled));
    assert_eq!(r.status("a"), StepStatus::Cancelled);
    assert_eq!(r.status("b"), StepStatus::Succeeded);
    assert!(r.feed(Input::Tick { at: t(100) }).is_empty());
    assert!(r.feed(Input::Cancel { at: t(101) }).is_empty());
}

#[test]
fn a_launch_that_fails_while_cancelling_is_just_cancelled() {
    let (mut r, _) = Run::start(pipeline(&step("a", "retries = 2")));
    r.feed(Input::Cancel { at: t(1) });
    let c = r.feed(Input::LaunchFailed {
        step: "a".into(),
        attempt: 1,
        error: "503".into(),
        at: t(2),
    });
    assert_eq!(finished(&c), Some(PipelineStatus::Cancelled));
}

#[test]
fn resume_reruns_failed_and_skipped_steps_only_with_fresh_retries() {
    let p = pipeline(
        &[
            step("a", ""),
            step("b", "retries = 1\nretry_backoff = \"1s\""),
            step("c", ""),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    r.runs("a", 1, RunStatus::Completed, 1);
    r.runs("b", 1, RunStatus::Errored, 2);
    r.feed(Input::Tick { at: t(10) });
    let c = r.runs("b", 2, RunStatus::Errored, 11);
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
    assert_eq!(r.status("c"), StepStatus::Skipped);

    let c = r.feed(Input::Resume {
        from: None,
        at: t(20),
    });
    assert_eq!(
        launches(&c),
        [l("b", 3)],
        "a succeeded: never launched again"
    );
    assert_eq!(r.m.status(), PipelineStatus::Running);
    // The new round has its own retry.
    r.runs("b", 3, RunStatus::Errored, 21);
    assert!(matches!(r.status("b"), StepStatus::RetryWaiting { .. }));
    r.feed(Input::Tick { at: t(30) });
    assert_eq!(
        launches(&r.runs("b", 4, RunStatus::Completed, 31)),
        [l("c", 1)]
    );
    let c = r.runs("c", 1, RunStatus::Completed, 33);
    assert_eq!(finished(&c), Some(PipelineStatus::Succeeded));
    assert_eq!(r.m.step("b").unwrap().attempts.len(), 4, "history kept");
}

#[test]
fn resume_from_a_step_reruns_it_and_its_downstream_even_when_they_succeeded() {
    let p = pipeline(
        &[
            step("a", ""),
            step("b", ""),
            step("c", ""),
            step("side", "depends_on = [\"a\"]"),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    r.runs("a", 1, RunStatus::Completed, 1);
    r.runs("b", 1, RunStatus::Completed, 2);
    r.runs("side", 1, RunStatus::Completed, 2);
    let c = r.runs("c", 1, RunStatus::Completed, 3);
    assert_eq!(finished(&c), Some(PipelineStatus::Succeeded));
    assert_eq!(
        r.m.clone().handle(&Input::Resume {
            from: None,
            at: t(4)
        }),
        Err(MachineError::NothingToResume)
    );
    let c = r.feed(Input::Resume {
        from: Some("b".into()),
        at: t(5),
    });
    assert_eq!(launches(&c), [l("b", 2)]);
    assert_eq!(r.status("c"), StepStatus::Waiting);
    assert_eq!(r.status("side"), StepStatus::Succeeded);
    assert_eq!(r.status("a"), StepStatus::Succeeded);
    assert_eq!(
        r.m.clone().handle(&Input::Resume {
            from: Some("nope".into()),
            at: t(6)
        }),
        Err(MachineError::NotEnded("RUNNING"))
    );
}

#[test]
fn resume_refuses_unknown_steps_and_running_pipelines() {
    let (mut r, _) = Run::start(pipeline(&step("a", "")));
    assert_eq!(
        r.m.handle(&Input::Resume {
            from: None,
            at: t(1)
        }),
        Err(MachineError::NotEnded("RUNNING"))
    );
    r.runs("a", 1, RunStatus::Errored, 1);
    assert_eq!(
        r.m.handle(&Input::Resume {
            from: Some("zzz".into()),
            at: t(2)
        }),
        Err(MachineError::UnknownStep("zzz".into()))
    );
}

#[test]
fn templates_take_params_and_upstream_outputs_with_their_types() {
    let p = pipeline(
        &[
            step("extract", ""),
            step(
                "load",
                "params = { day = \"{{ params.date }}\", source = \"{{ steps.extract.run_id }}\", \
                 note = \"{{ steps.extract.status }} at {{ steps.extract.end_time }}\", url = \
                 \"{{ steps.extract.run_url }}\", fixed = 3 }",
            ),
        ]
        .concat(),
    );
    let (mut r, c) = Run::start(p);
    let Some(Command::Launch(first)) = c.first() else {
        panic!("{c:?}")
    };
    assert_eq!(first.project, ProjectRef::Id(A.into()));
    let c = r.runs("extract", 1, RunStatus::Completed, 60);
    let Some(Command::Launch(load)) = c.first() else {
        panic!("{c:?}")
    };
    assert_eq!(load.params["day"], "2026-03-01");
    assert_eq!(load.params["source"], "extract-1");
    assert_eq!(load.params["note"], format!("COMPLETED at {}", t(61)));
    assert_eq!(load.params["url"], "https://hex/extract-1");
    assert_eq!(load.params["fixed"], 3);
}

#[test]
fn a_template_without_a_value_fails_the_step_without_launching() {
    let p = pipeline(
        &[
            step("a", ""),
            step(
                "b",
                "params = { url = \"{{ steps.a.run_url }}\" }\nretries = 3",
            ),
        ]
        .concat(),
    );
    let (mut r, _) = Run::start(p);
    r.feed(Input::Launched {
        step: "a".into(),
        attempt: 1,
        run_id: "a-1".into(),
        run_url: None,
        at: t(1),
    });
    let c = r.ended("a", 1, RunStatus::Completed, 2);
    assert!(launches(&c).is_empty());
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
    let b = r.m.step("b").unwrap();
    assert_eq!(b.status, StepStatus::Failed);
    assert!(b.attempts[0].error.as_deref().unwrap().contains("run_url"));
}

#[test]
fn stale_and_duplicate_inputs_change_nothing() {
    let (mut r, _) = Run::start(pipeline(
        &[step("a", "retries = 1"), step("b", "")].concat(),
    ));
    r.launched("a", 1, 1);
    let before = r.m.clone();
    assert!(r.launched("a", 1, 2).is_empty(), "duplicate Launched");
    assert!(
        r.ended("a", 7, RunStatus::Completed, 2).is_empty(),
        "other attempt"
    );
    assert!(
        r.feed(Input::RunEnded {
            step: "a".into(),
            attempt: 1,
            run_id: "someone-else".into(),
            status: RunStatus::Completed,
            end_time: None,
            at: t(3)
        })
        .is_empty()
    );
    assert!(
        r.ended("a", 1, RunStatus::Running, 3).is_empty(),
        "not terminal"
    );
    assert!(r.feed(Input::Start { at: t(4) }).is_empty(), "second start");
    assert_eq!(r.m, before);
    assert_eq!(
        r.m.handle(&Input::Tick { at: t(5) }).map(|c| c.len()),
        Ok(0)
    );
    assert_eq!(
        r.m.handle(&Input::Launched {
            step: "ghost".into(),
            attempt: 1,
            run_id: "x".into(),
            run_url: None,
            at: t(6)
        }),
        Err(MachineError::UnknownStep("ghost".into()))
    );
}

#[test]
fn replaying_the_inputs_rebuilds_the_same_state() {
    let p = pipeline(
        &[
            step("a", "retries = 1\nretry_backoff = \"5s\""),
            step("b", ""),
        ]
        .concat(),
    );
    let inputs = vec![
        Input::Start { at: t(0) },
        Input::Launched {
            step: "a".into(),
            attempt: 1,
            run_id: "a-1".into(),
            run_url: None,
            at: t(1),
        },
        Input::RunEnded {
            step: "a".into(),
            attempt: 1,
            run_id: "a-1".into(),
            status: RunStatus::Errored,
            end_time: None,
            at: t(2),
        },
        Input::Tick { at: t(8) },
    ];
    let mut live = Machine::new(Arc::clone(&p), params());
    for i in &inputs {
        live.handle(i).unwrap();
    }
    let replayed = Machine::replay(p, params(), &inputs).unwrap();
    assert_eq!(replayed, live);
    assert_eq!(
        replayed.step("a").unwrap().status,
        StepStatus::Launching { attempt: 2 }
    );
    let Some(Command::Launch(again)) = replayed.launch_command("a") else {
        panic!("a's second attempt is in flight")
    };
    assert_eq!(again.attempt, 2);
    assert!(replayed.launch_command("b").is_none());
}

#[test]
fn every_input_round_trips_through_json() {
    let inputs = [
        Input::Start { at: t(0) },
        Input::Launched {
            step: "s".into(),
            attempt: 2,
            run_id: "r".into(),
            run_url: Some("u".into()),
            at: t(1),
        },
        Input::LaunchFailed {
            step: "s".into(),
            attempt: 1,
            error: "e".into(),
            at: t(2),
        },
        Input::RunEnded {
            step: "s".into(),
            attempt: 1,
            run_id: "r".into(),
            status: RunStatus::Unknown("PAUSED".into()),
            end_time: Some(t(3)),
            at: t(3),
        },
        Input::Tick { at: t(4) },
        Input::GaveUp {
            step: "s".into(),
            attempt: 1,
            reason: "timed out".into(),
            at: t(4),
        },
        Input::Cancel { at: t(5) },
        Input::Resume {
            from: Some("s".into()),
            at: t(6),
        },
        Input::Resume {
            from: None,
            at: t(7),
        },
    ];
    for input in inputs {
        let json = serde_json::to_value(&input).unwrap();
        assert!(json["kind"].is_string(), "{json}");
        let back: Input = serde_json::from_value(json).unwrap();
        assert_eq!(back, input);
    }
}

#[test]
fn a_timeout_without_kill_fails_the_attempt_and_leaves_the_run() {
    let p = pipeline(
        &[
            step(
                "a",
                "timeout = \"1m\"\nkill_on_timeout = false\nretries = 1\nretry_backoff = \"1s\"",
            ),
            step("b", ""),
        ]
        .concat(),
    );
    let (mut r, c) = Run::start(p);
    let Some(Command::Launch(a)) = c.first() else {
        panic!("{c:?}")
    };
    assert_eq!(a.timeout, Some(Duration::from_secs(60)));
    assert!(!a.kill_on_timeout);
    r.launched("a", 1, 1);
    let c = r.feed(Input::GaveUp {
        step: "a".into(),
        attempt: 1,
        reason: "timed out; the run was left running".into(),
        at: t(61),
    });
    assert!(c.is_empty());
    assert!(matches!(r.status("a"), StepStatus::RetryWaiting { .. }));
    // The old run ending later changes nothing.
    assert!(r.ended("a", 1, RunStatus::Completed, 70).is_empty());
    assert_eq!(launches(&r.feed(Input::Tick { at: t(70) })), [l("a", 2)]);
    r.launched("a", 2, 71);
    let c = r.feed(Input::GaveUp {
        step: "a".into(),
        attempt: 2,
        reason: "timed out; the run was left running".into(),
        at: t(131),
    });
    assert_eq!(finished(&c), Some(PipelineStatus::Failed));
    assert_eq!(r.status("b"), StepStatus::Skipped);
    let attempts = &r.m.step("a").unwrap().attempts;
    assert!(attempts[0].error.as_deref().unwrap().contains("timed out"));
}
