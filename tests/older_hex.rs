#![allow(clippy::unwrap_used, clippy::expect_used)]
//! hexdash against Hex's older API, as its older documents describe it (HEX_API.md,
//! GetProjectRuns): run listings without `runTrigger`, and API-launched runs only whatever
//! `runTriggerFilter` asks. That is a known limit to show, not an empty workspace: the
//! workspace's runs are listed with a warning that runs of schedules and app refreshes may be
//! missing. A scripted server plays the older Hex (`common::hostile`), so the emulator keeps
//! speaking the current API.

mod common;

use common::hostile::{Hostile, Reply, Request};
use common::{Home, Outcome, TOKEN};

const PROJECT: &str = "22222222-2222-4222-8222-222222222222";
const RUN: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/// A Hex with one published project and one RUNNING run, whose listing carries `trigger`
/// (`None`: the field is left out, as the older API does).
fn hex(trigger: Option<&'static str>) -> Hostile {
    let runs_path = format!("/api/v1/projects/{PROJECT}/runs");
    Hostile::start(move |req: &Request| {
        let path = req.path.split('?').next().unwrap_or_default();
        if req.method != "GET" {
            return Reply::http(404, &[], r#"{"reason":"not scripted"}"#);
        }
        if path == "/api/v1/projects" {
            return Reply::json(&format!(
                r#"{{"values":[{{"id":"{PROJECT}","title":"Nightly load","type":"PROJECT",
"lastPublishedAt":"2026-01-01T00:00:00.000Z","schedules":[]}}],
"pagination":{{"after":null,"before":null}}}}"#
            ));
        }
        if path == runs_path {
            let trigger = trigger
                .map(|t| format!(r#","runTrigger":"{t}""#))
                .unwrap_or_default();
            return Reply::json(&format!(
                r#"{{"runs":[{{"projectId":"{PROJECT}","runId":"{RUN}",
"runUrl":"https://app.hex.tech/r/{RUN}","status":"RUNNING",
"startTime":"2026-01-01T00:00:00.000Z","endTime":null,"elapsedTime":1000,
"traceId":"t-2","projectVersion":1{trigger}}}],"nextPage":null,"previousPage":null,"traceId":"t-3"}}"#
            ));
        }
        Reply::http(404, &[], r#"{"reason":"not scripted"}"#)
    })
}

const WARNING: &str = "may list API-launched runs only";

#[test]
fn listings_without_run_triggers_list_the_runs_with_a_warning_of_the_limit() {
    let server = hex(None);
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["runs"]));
    out.expect_code(0);
    assert!(out.stdout.contains("Nightly load"), "{}", out.all());
    assert!(
        out.stderr.contains(WARNING) && out.stderr.contains("schedules"),
        "the limit is named:\n{}",
        out.all()
    );
    // The run is still there for scripts, and the JSON stays clean of the warning.
    let json = Outcome::run(home.against(&server.base_url(), TOKEN, &["runs", "--json"]));
    json.expect_code(0);
    assert_eq!(json.json().as_array().map(Vec::len), Some(1));
}

#[test]
fn listings_that_say_who_started_each_run_give_no_warning() {
    let server = hex(Some("SCHEDULED"));
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["runs"]));
    out.expect_code(0);
    assert!(out.stdout.contains("schedule"), "{}", out.all());
    assert!(!out.stderr.contains(WARNING), "{}", out.all());
}
