//! Hand-built pipeline definitions and runs for the update and view tests: the daily ETL (one
//! run that succeeded yesterday, one going on with a retried extract), the fan-out with a failed
//! run, and a definition that does not validate. Times are fixed around 2026-11-28 12:00 UTC.

use std::path::PathBuf;

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::pipeline_data::{PipelineDef, PipelineRunView, PipelinesState, StepView};
use crate::hex::{ParamKind, ParamSpec, RunStatus};
use crate::pipeline::machine::{Attempt, PipelineStatus, StepStatus};
use crate::tui::model::Load;

pub fn now() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().expect("a fixed time")
}

fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

pub fn defs() -> Vec<PipelineDef> {
    vec![
        PipelineDef {
            name: "daily-etl".into(),
            file: Some(PathBuf::from("/cfg/pipelines/daily-etl.toml")),
            description: Some("Orders of one business day: extract, transform, load".into()),
            steps: 3,
            specs: vec![ParamSpec::new("date", ParamKind::Date)],
            defaults: IndexMap::from([("date".to_string(), json!("2026-11-27"))]),
            problem: None,
        },
        PipelineDef {
            name: "fan-out".into(),
            file: Some(PathBuf::from("/cfg/pipelines/fan-out.toml")),
            description: Some("Extract once, three in parallel, then the KPI pack".into()),
            steps: 5,
            specs: vec![
                ParamSpec::new("date", ParamKind::Date),
                ParamSpec {
                    options: vec!["Q1".into(), "Q2".into()],
                    ..ParamSpec::new("quarter", ParamKind::Dropdown)
                },
            ],
            defaults: IndexMap::from([
                ("date".to_string(), json!("2026-11-28")),
                ("quarter".to_string(), json!("Q1")),
            ]),
            problem: None,
        },
        PipelineDef {
            name: "broken".into(),
            file: Some(PathBuf::from("/cfg/pipelines/broken.toml")),
            description: None,
            steps: 0,
            specs: Vec::new(),
            defaults: IndexMap::new(),
            problem: Some(
                "/cfg/pipelines/broken.toml:9:14: error: step \"load\" depends on \"transfrom\", \
                 which is not a step; did you mean \"transform\"?"
                    .into(),
            ),
        },
    ]
}

/// `hms` on the fixtures' day, UTC: `at("12:05:00")`.
pub fn at(hms: &str) -> Timestamp {
    format!("2026-11-28T{hms}Z").parse().expect("a time of day")
}

/// An attempt that ran from `from` to `to` (clock times, see [`at`]).
pub fn attempt_at(number: u32, from: &str, to: Option<&str>, status: Option<RunStatus>) -> Attempt {
    Attempt {
        number,
        run_id: Some(format!("run-{number}")),
        launched_at: Some(at(from)),
        ended_at: to.map(at),
        status,
        ..Attempt::default()
    }
}

fn attempt(n: u32, run: &str, from: i64, to: Option<i64>, status: Option<RunStatus>) -> Attempt {
    Attempt {
        number: n,
        run_id: Some(run.into()),
        run_url: Some(format!("https://app.hex.tech/app/runs/{run}")),
        launched_at: Some(ago(from)),
        ended_at: to.map(ago),
        end_time: to.map(ago),
        status,
        error: None,
    }
}

fn step(
    id: &str,
    project: &str,
    after: &[&str],
    status: StepStatus,
    attempts: Vec<Attempt>,
) -> StepView {
    StepView {
        id: id.into(),
        project: project.into(),
        depends_on: after.iter().map(|s| s.to_string()).collect(),
        status,
        attempts,
        retries: 1,
    }
}

/// Yesterday's daily ETL: three steps, all done.
pub fn etl_succeeded() -> PipelineRunView {
    let day = 86_400;
    PipelineRunView {
        id: "0b1e4a7c-0000-4000-8000-000000000001".into(),
        name: "daily-etl".into(),
        file: PathBuf::from("/cfg/pipelines/daily-etl.toml"),
        params: IndexMap::from([("date".to_string(), json!("2026-11-26"))]),
        status: PipelineStatus::Succeeded,
        started_at: ago(day + 600),
        ended_at: Some(ago(day + 300)),
        steps: vec![
            step(
                "extract",
                "etl-extract",
                &[],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "aa000001-e",
                    day + 600,
                    Some(day + 500),
                    Some(RunStatus::Completed),
                )],
            ),
            step(
                "transform",
                "etl-transform",
                &["extract"],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "aa000002-t",
                    day + 500,
                    Some(day + 400),
                    Some(RunStatus::Completed),
                )],
            ),
            step(
                "load",
                "etl-load",
                &["transform"],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "aa000003-l",
                    day + 400,
                    Some(day + 300),
                    Some(RunStatus::Completed),
                )],
            ),
        ],
    }
}

/// Today's daily ETL, going on: extract failed once and was retried, transform runs.
pub fn etl_running() -> PipelineRunView {
    let mut failed = attempt(1, "bb000001-e", 300, Some(240), Some(RunStatus::Errored));
    failed.error = Some("run ERRORED".into());
    PipelineRunView {
        id: "7f3c9d2e-0000-4000-8000-000000000002".into(),
        name: "daily-etl".into(),
        file: PathBuf::from("/cfg/pipelines/daily-etl.toml"),
        params: IndexMap::from([("date".to_string(), json!("2026-11-27"))]),
        status: PipelineStatus::Running,
        started_at: ago(300),
        ended_at: None,
        steps: vec![
            step(
                "extract",
                "etl-extract",
                &[],
                StepStatus::Succeeded,
                vec![
                    failed,
                    attempt(2, "bb000002-e", 180, Some(120), Some(RunStatus::Completed)),
                ],
            ),
            step(
                "transform",
                "etl-transform",
                &["extract"],
                StepStatus::Running { attempt: 1 },
                vec![attempt(
                    1,
                    "bb000003-t",
                    110,
                    None,
                    Some(RunStatus::Running),
                )],
            ),
            step(
                "load",
                "etl-load",
                &["transform"],
                StepStatus::Waiting,
                Vec::new(),
            ),
        ],
    }
}

/// The fan-out, failed: attribution failed its retries, so kpi never ran.
pub fn fanout_failed() -> PipelineRunView {
    let mut bad = attempt(2, "cc000004-a", 1500, Some(1400), Some(RunStatus::Errored));
    bad.error = Some("run ERRORED".into());
    PipelineRunView {
        id: "c4d5e6f7-0000-4000-8000-000000000003".into(),
        name: "fan-out".into(),
        file: PathBuf::from("/cfg/pipelines/fan-out.toml"),
        params: IndexMap::from([
            ("date".to_string(), json!("2026-11-28")),
            ("quarter".to_string(), json!("Q4")),
        ]),
        status: PipelineStatus::Failed,
        started_at: ago(2000),
        ended_at: Some(ago(1300)),
        steps: vec![
            step(
                "extract",
                "etl-extract",
                &[],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "cc000001-e",
                    2000,
                    Some(1900),
                    Some(RunStatus::Completed),
                )],
            ),
            step(
                "transform",
                "etl-transform",
                &["extract"],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "cc000002-t",
                    1900,
                    Some(1600),
                    Some(RunStatus::Completed),
                )],
            ),
            step(
                "attribution",
                "attribution-sync",
                &["extract"],
                StepStatus::Failed,
                vec![
                    attempt(1, "cc000003-a", 1900, Some(1700), Some(RunStatus::Errored)),
                    bad,
                ],
            ),
            step(
                "churn",
                "churn-model",
                &["extract"],
                StepStatus::Succeeded,
                vec![attempt(
                    1,
                    "cc000005-c",
                    1600,
                    Some(1300),
                    Some(RunStatus::Completed),
                )],
            ),
            step(
                "kpi",
                "board-kpi",
                &["transform", "attribution"],
                StepStatus::Skipped,
                Vec::new(),
            ),
        ],
    }
}

/// The three definitions and three runs, oldest run first.
pub fn state() -> PipelinesState {
    PipelinesState {
        defs: Load::Loaded(defs()),
        runs: Some(vec![etl_succeeded(), fanout_failed(), etl_running()]),
        ..PipelinesState::default()
    }
}
