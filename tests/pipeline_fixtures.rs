#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pipeline files on disk and what hexdash says about them, checked against the demo config:
//! every file in `fixtures/pipelines/valid` and both shipped examples must validate; every file
//! in `fixtures/pipelines/invalid` must fail, and each `# expect: ...` fragment must appear in
//! one of the diagnostics (a fragment starting with ':' must follow the file's path, i.e. it pins
//! line and column).

mod common;

use std::path::Path;

use common::fixtures::{expected, shows, toml_files as files};
use hexdash::config::Config;
use hexdash::pipeline::exec::{self, PrepareError};
use hexdash::pipeline::{OnFailure, Pipeline, ProjectRef, StepValue};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo_config() -> Config {
    Config::load_file(&root().join("assets/demo-config.toml")).unwrap()
}

fn load(path: &Path) -> Result<Pipeline, PrepareError> {
    exec::prepare_offline(path, &demo_config()).map(|p| p.pipeline)
}

#[test]
fn valid_pipelines_validate() {
    for path in files(&root().join("tests/fixtures/pipelines/valid")) {
        load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
    }
}

#[test]
fn shipped_examples_validate_against_the_demo_config() {
    for path in files(&root().join("assets/pipelines")) {
        let p = load(&path).unwrap_or_else(|e| panic!("{}:\n{e}", path.display()));
        assert!(
            p.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            p.warnings
        );
        assert!(
            p.steps
                .iter()
                .all(|s| matches!(s.project, ProjectRef::Id(_))),
            "{}: every demo project resolves to an id",
            path.display()
        );
    }
}

#[test]
fn daily_etl_passes_the_date_to_every_step_in_sequence() {
    let p = load(&root().join("assets/pipelines/daily-etl.toml")).unwrap();
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["extract", "transform", "load"]);
    assert_eq!(p.max_parallel, 4);
    assert_eq!(p.steps[2].depends_on, ["transform"]);
    for step in &p.steps {
        match &step.params["run_date"] {
            StepValue::Template { template, .. } => {
                assert_eq!(
                    template.whole_reference().unwrap().to_string(),
                    "{{ params.date }}"
                );
            }
            other => panic!("{}: {other:?}", step.id),
        }
    }
}

#[test]
fn fan_out_has_its_dag_and_the_flaky_step_continues() {
    let p = load(&root().join("assets/pipelines/fan-out.toml")).unwrap();
    assert_eq!(p.max_parallel, 2);
    assert_eq!(p.steps[0].id, "extract");
    let kpi = p.step("kpi").unwrap();
    assert_eq!(kpi.depends_on, ["transform", "attribution"]);
    let sync = p.step("attribution").unwrap();
    assert_eq!(sync.on_failure, OnFailure::Continue);
    assert_eq!(sync.retries, 3);
    assert_eq!(sync.retry_backoff.as_secs(), 60);
    assert_eq!(sync.timeout.map(|t| t.as_secs()), Some(1200));
    assert!(sync.kill_on_timeout);
    // kpi comes after both of its dependencies.
    let pos = |id: &str| p.steps.iter().position(|s| s.id == id).unwrap();
    assert!(pos("kpi") > pos("transform") && pos("kpi") > pos("attribution"));
}

#[test]
fn invalid_pipelines_fail_with_the_expected_message() {
    let mut failures = Vec::new();
    for path in files(&root().join("tests/fixtures/pipelines/invalid")) {
        let expected = expected(&path);
        let diagnostics = match load(&path) {
            Ok(_) => {
                failures.push(format!(
                    "{}: validated, but should have failed",
                    path.display()
                ));
                continue;
            }
            Err(PrepareError::Invalid { diagnostics, .. }) => diagnostics,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        let prefix = format!("{}:", path.display());
        for line in &lines {
            if !line.starts_with(&prefix) {
                failures.push(format!("{}: no file:line:col in {line:?}", path.display()));
            }
        }
        for fragment in expected {
            let found = lines.iter().any(|l| shows(l, &path, &fragment));
            if !found {
                failures.push(format!(
                    "{}:\n  expected: {fragment}\n  got:      {}",
                    path.display(),
                    lines.join("\n            ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn uuid_projects_pass_values_through_and_titles_resolve_from_config() {
    let p = load(&root().join("tests/fixtures/pipelines/valid/by_id_and_title.toml")).unwrap();
    assert_eq!(
        p.step("by-title").unwrap().project,
        ProjectRef::Id("5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0005".into())
    );
    let elsewhere = p.step("elsewhere").unwrap();
    assert_eq!(
        elsewhere.project,
        ProjectRef::Id("0d7e5f4a-8c1b-4a2e-9a57-3c2b1d0e9f11".into())
    );
    assert_eq!(
        elsewhere.params["count"],
        StepValue::Literal(serde_json::json!(3))
    );
}
