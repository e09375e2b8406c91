#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Contract tests: hexdash's Hex client against the in-process emulator, for every operation and
//! every error kind (401, 404, 422 with parameter details, 429 honoured and retried, 503 at the
//! kernel limit, plain-text bodies, malformed JSON, dropped connections, retried 5xx), and against
//! the scripted hostile server for what the emulator never does (redirects, absurd Retry-After,
//! oversized bodies): the error kind and the exactly-once semantics a caller relies on.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::hostile::{Hostile, Reply};
use common::scenario::{self as sc, project};
use common::{TOKEN, serve};
use hexdash::clock::{ManualClock, SharedClock};
use hexdash::emulator::{Faults, RunningEmulator};
use hexdash::hex::budget::MAX_PAUSE;
use hexdash::hex::types::{ListProjectsQuery, ProjectRunsQuery, RunProjectRequest};
use hexdash::hex::{Client, ClientSettings, Error, Limits, MAX_BODY_BYTES, RunStatus};
use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;
use serde_json::json;
use url::Url;

const ETL: &str = "11111111-1111-4111-8111-111111111111";
const HANGS: &str = "33333333-3333-4333-8333-333333333333";
const DRAFT: &str = "22222222-2222-4222-8222-222222222222";
const MISSING: &str = "99999999-9999-4999-8999-999999999999";

fn scenario(limits: &str) -> String {
    let ours = |id, title| project(id, title).owner("a@acme.example");
    let mut scenario = sc::scenario()
        .seed(11)
        .app_url("https://app.hex.tech/contract")
        .limits(limits)
        .project(
            ours(ETL, "Daily ETL")
                .published(3.0)
                .param("day", "date", "\"2026-01-01\"")
                .param("rows", "number", "1")
                .runs([5.0, 5.0], [30.0, 30.0]),
        )
        .project(ours(DRAFT, "Draft").draft())
        .project(ours(HANGS, "Hangs").published(3.0).hangs(1.0));
    for i in 0..5 {
        scenario = scenario.project(
            project(
                &format!("55555555-5555-4555-8555-55555555555{i}"),
                &format!("Extra {i}"),
            )
            .owner("b@acme.example")
            .published(1.0),
        );
    }
    scenario.toml()
}

struct Env {
    emu: RunningEmulator,
    clock: Arc<ManualClock>,
}

async fn emulator(limits: &str) -> Env {
    let clock = Arc::new(ManualClock::new(
        "2026-03-01T08:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let emu = serve(&scenario(limits), clock.clone() as SharedClock).await;
    Env { emu, clock }
}

fn settings(env: &Env, token: &str) -> ClientSettings {
    let mut s = ClientSettings::new(
        Url::parse(&env.emu.base_url()).unwrap(),
        SecretString::from(token.to_string()),
    );
    // The client must not hold itself back in these tests: the emulator's limits are the subject.
    s.limits = Limits {
        requests_per_minute: 10_000,
        launches_per_minute: 10_000,
        launches_per_hour: 10_000,
        reserved_for_actions: 1,
    };
    s.max_backoff = Duration::from_millis(50);
    s.request_timeout = Duration::from_secs(5);
    s
}

fn client(env: &Env) -> Client {
    Client::new(settings(env, TOKEN)).unwrap()
}

fn set_faults(env: &Env, faults: serde_json::Value) {
    let faults: Faults = serde_json::from_value(faults).unwrap();
    env.emu.control().set_faults(faults).unwrap();
}

#[tokio::test]
async fn every_operation_round_trips() {
    let env = emulator("").await;
    let c = client(&env);

    // ListProjects: one page, then every page.
    let page = c
        .list_projects(&ListProjectsQuery {
            limit: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.values.len(), 3);
    assert!(page.pagination.after.is_some());
    let all = c.list_all_projects().await.unwrap();
    assert_eq!(all.len(), 8);
    let draft = all.iter().find(|p| p.id == DRAFT).unwrap();
    assert!(!draft.is_published());

    // GetProject.
    let p = c.get_project(ETL).await.unwrap();
    assert_eq!(p.title, "Daily ETL");
    assert!(p.is_published());

    // RunProject with every body field.
    let mut params = IndexMap::new();
    params.insert("day".to_string(), json!("2026-02-01"));
    params.insert("rows".to_string(), json!(7));
    params.insert("not_a_param".to_string(), json!("ignored"));
    let body = RunProjectRequest {
        input_params: Some(params),
        dry_run: Some(false),
        update_published_results: Some(true),
        use_cached_sql_results: Some(false),
        view_id: None,
        notifications: None,
        update_cache: Some(false),
    };
    let launched = c.run_project(ETL, &body).await.unwrap();
    assert_eq!(launched.project_id, ETL);
    assert!(
        launched
            .run_url
            .as_deref()
            .unwrap()
            .contains(&launched.run_id)
    );
    let recorded = env.emu.control().runs();
    assert_eq!(recorded.len(), 1);

    // GetRunStatus across the lifecycle on the emulator's clock.
    let run = c.get_run_status(ETL, &launched.run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Pending);
    assert!(run.start_time.is_none() && run.elapsed_time.is_none());
    env.clock.advance(SignedDuration::from_secs(6));
    let run = c.get_run_status(ETL, &launched.run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    env.clock.advance(SignedDuration::from_secs(40));
    let run = c.get_run_status(ETL, &launched.run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(run.elapsed_time, Some(30_000.0));

    // GetProjectRuns with limit, offset and status filter.
    let second = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap();
    let runs = c
        .get_project_runs(ETL, &ProjectRunsQuery::default())
        .await
        .unwrap();
    assert_eq!(runs.runs.len(), 2);
    assert_eq!(runs.runs[0].run_id, second.run_id, "newest first");
    let completed = c
        .get_project_runs(
            ETL,
            &ProjectRunsQuery {
                status_filter: Some(RunStatus::Completed),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(completed.runs.len(), 1);
    let offset = c
        .get_project_runs(
            ETL,
            &ProjectRunsQuery {
                limit: Some(1),
                offset: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(offset.runs[0].run_id, launched.run_id);

    // CancelRun: 204, then KILLED; a second cancel of the ended run is a 422.
    c.cancel_run(ETL, &second.run_id).await.unwrap();
    let killed = c.get_run_status(ETL, &second.run_id).await.unwrap();
    assert_eq!(killed.status, RunStatus::Killed);
    let again = c.cancel_run(ETL, &second.run_id).await.unwrap_err();
    assert!(matches!(again, Error::Unprocessable { .. }), "{again}");

    // A dry run is accepted and creates nothing.
    let dry = RunProjectRequest {
        dry_run: Some(true),
        ..Default::default()
    };
    c.run_project(ETL, &dry).await.unwrap();
    assert_eq!(env.emu.control().runs().len(), 2);
}

#[tokio::test]
async fn refusals_are_typed_with_their_details() {
    let env = emulator("").await;
    let c = client(&env);

    // 401 with a plain-text body.
    let bad = Client::new(settings(&env, "hxtp_wrong")).unwrap();
    let e = bad.list_all_projects().await.unwrap_err();
    assert!(matches!(&e, Error::Unauthorized { .. }), "{e}");
    assert!(e.to_string().contains("HEX_API_TOKEN"), "{e}");
    assert!(
        !e.to_string().contains("hxtp_wrong"),
        "the token leaked: {e}"
    );

    // 404 for an unknown project and an unknown run.
    let e = c.get_project(MISSING).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    let e = c.get_run_status(ETL, MISSING).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e}");
    assert!(e.trace_id().is_some(), "404 keeps Hex's trace id");

    // 422 for an unpublished project, and for a wrong-typed parameter with its details.
    let e = c
        .run_project(DRAFT, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unprocessable { .. }), "{e}");
    let mut params = IndexMap::new();
    params.insert("rows".to_string(), json!("seven"));
    let e = c
        .run_project(
            ETL,
            &RunProjectRequest {
                input_params: Some(params),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    match &e {
        Error::Unprocessable { invalid, .. } => {
            assert_eq!(invalid.len(), 1);
            assert_eq!(invalid[0].param_name, "rows");
            assert_eq!(invalid[0].param_value.as_deref(), Some("\"seven\""));
            assert_eq!(invalid[0].data_type.as_deref(), Some("NUMBER"));
        }
        other => panic!("expected a 422, got {other}"),
    }
    assert!(e.to_string().contains("rows"), "{e}");
    assert!(
        env.emu.control().runs().is_empty(),
        "refused launches create nothing"
    );
}

#[tokio::test]
async fn a_429_is_waited_out_and_retried() {
    let env = emulator("requests_per_minute = 2").await;
    let c = client(&env);
    c.get_project(ETL).await.unwrap();
    c.get_project(ETL).await.unwrap();
    // Put the window one second from its reset, so Retry-After is short.
    env.clock.advance(SignedDuration::from_secs(59));
    let control = env.emu.control();
    let clock = env.clock.clone();
    let mover = tokio::spawn(async move {
        // Once the emulator has refused a request, let its window expire.
        loop {
            if control.requests().iter().any(|r| r.status == Some(429)) {
                clock.advance(SignedDuration::from_secs(2));
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let p = tokio::time::timeout(Duration::from_secs(20), c.get_project(ETL))
        .await
        .expect("the client gave up waiting")
        .unwrap();
    assert_eq!(p.id, ETL);
    mover.await.unwrap();
    let statuses: Vec<Option<u16>> = env
        .emu
        .control()
        .requests()
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(200), Some(200), Some(429), Some(200)]);
}

#[tokio::test]
async fn a_429_that_persists_is_reported_with_retry_after() {
    let env = emulator("requests_per_minute = 1").await;
    let mut s = settings(&env, TOKEN);
    s.max_retries = 0;
    let c = Client::new(s).unwrap();
    c.get_project(ETL).await.unwrap();
    let e = c.get_project(ETL).await.unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn the_kernel_limit_is_a_503_that_created_nothing() {
    let env = emulator("max_concurrent_kernels = 1").await;
    let mut s = settings(&env, TOKEN);
    s.max_retries = 0;
    let c = Client::new(s).unwrap();
    c.run_project(HANGS, &RunProjectRequest::default())
        .await
        .unwrap();
    let e = c
        .run_project(HANGS, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::KernelLimit { .. }), "{e}");
    assert!(e.nothing_was_created());
    assert_eq!(env.emu.control().runs().len(), 1);
}

#[tokio::test]
async fn transient_read_failures_are_retried_until_they_pass() {
    let env = emulator("").await;
    let mut s = settings(&env, TOKEN);
    s.max_retries = 12;
    let c = Client::new(s).unwrap();
    set_faults(
        &env,
        json!({"GetProject": {"error_rate": 0.6, "error_statuses": [500, 502, 503]}}),
    );
    for _ in 0..5 {
        assert_eq!(c.get_project(ETL).await.unwrap().id, ETL);
    }
    let log = env.emu.control().requests();
    assert!(log.iter().any(|r| r.fault.as_deref() == Some("error")));
    assert_eq!(log.iter().filter(|r| r.status == Some(200)).count(), 5);
}

#[tokio::test]
async fn malformed_bodies_and_drops_are_typed() {
    let env = emulator("").await;
    let mut s = settings(&env, TOKEN);
    s.max_retries = 0;
    let c = Client::new(s).unwrap();
    let run = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap();

    set_faults(&env, json!({"GetRunStatus": {"malformed_rate": 1.0}}));
    let e = c.get_run_status(ETL, &run.run_id).await.unwrap_err();
    match &e {
        Error::Undecodable {
            status, excerpt, ..
        } => {
            assert_eq!(*status, 200);
            assert!(!excerpt.is_empty());
        }
        other => panic!("expected undecodable, got {other}"),
    }

    // A launch whose answer is unreadable did create a run: the outcome is unknown.
    set_faults(&env, json!({"RunProject": {"malformed_rate": 1.0}}));
    let e = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::LaunchOutcomeUnknown { .. }), "{e}");
    assert_eq!(env.emu.control().runs().len(), 2);

    // A dropped connection after the POST: unknown, never re-sent by the client.
    set_faults(&env, json!({"RunProject": {"drop_after_rate": 1.0}}));
    let e = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::LaunchOutcomeUnknown { .. }), "{e}");
    assert_eq!(env.emu.control().runs().len(), 3);

    // A 502 on the POST may have created a run too: unknown, and not re-sent.
    set_faults(
        &env,
        json!({"RunProject": {"error_rate": 1.0, "error_statuses": [502]}}),
    );
    let mut s = settings(&env, TOKEN);
    s.max_retries = 5;
    let retrying = Client::new(s).unwrap();
    let e = retrying
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::LaunchOutcomeUnknown { .. }), "{e}");
    let posts = env
        .emu
        .control()
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.fault.as_deref() == Some("error"))
        .count();
    assert_eq!(posts, 1, "an ambiguous POST failure must not be re-sent");

    // Dropped reads are transport errors.
    set_faults(&env, json!({"GetProject": {"drop_before_rate": 1.0}}));
    let e = c.get_project(ETL).await.unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e}");
}

#[tokio::test]
async fn a_refused_connection_lets_a_launch_be_resent() {
    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut s = common::settings(&format!("http://127.0.0.1:{port}/api/v1"));
    s.max_retries = 1;
    s.max_backoff = Duration::from_millis(10);
    let c = Client::new(s).unwrap();
    let e = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Transport { refused: true, .. }),
        "a refused connection created nothing: {e}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let s = common::settings("http://hex.example.com/api/v1");
    let e = Client::new(s).unwrap_err();
    assert!(e.to_string().contains("https://"), "{e}");
}

#[tokio::test]
async fn the_budget_makes_the_client_wait_instead_of_collecting_429s() {
    let env = emulator("requests_per_minute = 3").await;
    let mut s = settings(&env, TOKEN);
    s.limits = Limits {
        requests_per_minute: 3,
        launches_per_minute: 3,
        launches_per_hour: 3,
        reserved_for_actions: 1,
    };
    let c = Client::new(s).unwrap();
    for _ in 0..3 {
        c.get_project(ETL).await.unwrap();
    }
    let snap = c.budget_snapshot();
    assert_eq!(snap.requests_left_this_minute, 0);
    // The fourth would wait for the client's own window; it never reached the emulator.
    let fourth = tokio::time::timeout(Duration::from_millis(300), c.get_project(ETL)).await;
    assert!(
        fourth.is_err(),
        "the client should be waiting on its budget"
    );
    assert_eq!(env.emu.control().requests().len(), 3);
}

/// A client of the hostile server, retrying eagerly: whatever it must not retry shows.
fn hostile_client(server: &Hostile) -> Client {
    let mut s = common::settings(&server.base_url());
    s.max_retries = 4;
    s.max_backoff = Duration::from_millis(10);
    s.request_timeout = Duration::from_secs(10);
    Client::new(s).unwrap()
}

#[tokio::test]
async fn a_launch_answered_with_a_redirect_is_sent_once_and_its_outcome_unknown() {
    let elsewhere = Hostile::start(|_| Reply::json("{}"));
    let target = format!("http://{}/api/v1/projects/{ETL}/runs", elsewhere.addr());
    let server = Hostile::start(move |_| Reply::http(307, &[("Location", target.as_str())], ""));
    let e = hostile_client(&server)
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    // Whatever answered may have acted on the POST: unknown, for the engine to reconcile.
    match &e {
        Error::LaunchOutcomeUnknown { cause } => {
            assert!(
                matches!(&**cause, Error::Redirected { status: 307, location, .. }
                    if location.contains(&elsewhere.addr().to_string())),
                "{cause}"
            );
        }
        other => panic!("expected an unknown outcome, got {other}"),
    }
    assert_eq!(server.requests().len(), 1, "the POST was re-sent");
    assert!(
        elsewhere.requests().is_empty(),
        "the POST followed the redirect"
    );
}

#[tokio::test]
async fn a_same_origin_redirect_is_not_followed_either() {
    let server = Hostile::start(|_| Reply::http(308, &[("Location", "/api/v2/projects")], ""));
    let e = hostile_client(&server)
        .list_projects(&ListProjectsQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Redirected { status: 308, location, .. } if location.ends_with("/api/v2/projects")),
        "{e}"
    );
    assert!(!e.is_transient());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_absurd_retry_after_pauses_the_budget_for_the_cap_and_is_not_retried() {
    let server = Hostile::start(|_| Reply::http(429, &[("Retry-After", "1e30")], ""));
    let c = hostile_client(&server);
    let e = c
        .list_projects(&ListProjectsQuery::default())
        .await
        .unwrap_err();
    assert!(e.asked_absurd_wait(), "{e}");
    assert_eq!(e.retry_after(), Some(MAX_PAUSE));
    assert_eq!(server.requests().len(), 1, "an absurd wait is not retried");
    let paused = c.budget_snapshot().paused_for.unwrap();
    assert!(
        paused <= MAX_PAUSE && paused > MAX_PAUSE - Duration::from_secs(30),
        "{paused:?}"
    );
}

#[tokio::test]
async fn an_answer_over_the_size_cap_is_an_error_and_a_launch_with_one_is_unknown() {
    let server = Hostile::start(|_| Reply::Sized {
        status: 201,
        len: MAX_BODY_BYTES + 1,
        fill: b' ',
    });
    let c = hostile_client(&server);
    let e = c
        .list_projects(&ListProjectsQuery::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::TooLarge { limit, .. } if limit == MAX_BODY_BYTES),
        "{e}"
    );
    assert!(
        !e.is_transient(),
        "a second download of the same body cannot help"
    );
    let e = c
        .run_project(ETL, &RunProjectRequest::default())
        .await
        .unwrap_err();
    // A 2xx to a launch created a run whatever its body: unknown, reconciled, never re-sent.
    assert!(
        matches!(&e, Error::LaunchOutcomeUnknown { cause } if matches!(**cause, Error::TooLarge { .. })),
        "{e}"
    );
    assert_eq!(server.requests().len(), 2);
}
