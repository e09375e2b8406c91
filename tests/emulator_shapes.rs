#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pins the emulator's HTTP answers to HEX_API.md: exact key sets, null handling, timestamp
//! format, status codes, headers, faults and the /_emulator control surface. Raw HTTP with
//! serde_json::Value on purpose, so a drift in the shared wire types shows up here too.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::scenario::{self as sc, project};
use common::{TOKEN, serve};
use hexdash::clock::ManualClock;
use hexdash::emulator::{EmulatorOptions, RunningEmulator, Scenario, start};
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const P1: &str = "11111111-1111-4111-8111-111111111111";
const UNPUBLISHED: &str = "22222222-2222-4222-8222-222222222222";
const HANGS: &str = "33333333-3333-4333-8333-333333333333";
const ARCHIVED: &str = "44444444-4444-4444-8444-444444444444";
const MISSING: &str = "99999999-9999-4999-8999-999999999999";

fn scenario(limits: &str) -> String {
    let ours = |id, title| project(id, title).owner("a@acme.example");
    let extra = |id, title| project(id, title).owner("b@acme.example").published(1.0);
    sc::scenario()
        .seed(7)
        .app_url("https://app.hex.tech/test-ws")
        .limits(limits)
        .project(
            ours(P1, "ETL")
                .published(2.0)
                .key("version = 12")
                .param("n", "number", "1")
                .param("day", "date", "\"2026-01-01\"")
                .runs([5.0, 5.0], [30.0, 30.0])
                .history(2, 24.0, "SCHEDULED"),
        )
        .project(ours(UNPUBLISHED, "Draft").draft())
        .project(ours(HANGS, "Hangs").published(2.0).hangs(1.0))
        .project(
            ours(ARCHIVED, "Old")
                .published(2000.0)
                .key("archived_days_ago = 10"),
        )
        // Fires at 18:00 UTC, six hours after the tests' clock starts: only the schedule test
        // gets there.
        .project(
            extra("55555555-5555-4555-8555-555555555555", "Extra 1").table(
                "[[projects.schedules]]\ncadence = \"CUSTOM\"\nenabled = true\n\
             custom = { cron = \"0 18 * * *\", timezone = \"UTC\" }",
            ),
        )
        .project(extra("66666666-6666-4666-8666-666666666666", "Extra 2"))
        .toml()
}

/// [`scenario`] as the emulator takes it, for a test that starts one its own way.
fn parsed(limits: &str) -> Scenario {
    Scenario::from_toml_str(&scenario(limits), "test scenario").unwrap()
}

struct Emu {
    emu: RunningEmulator,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

async fn emulator(limits: &str) -> Emu {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let clock = Arc::new(ManualClock::new(
        "2026-03-01T12:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let emu = serve(&scenario(limits), clock.clone()).await;
    Emu {
        emu,
        clock,
        http: reqwest::Client::new(),
    }
}

struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
}

impl Emu {
    fn advance(&self, secs: i64) {
        self.clock.advance(SignedDuration::from_secs(secs));
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
        let url = if path.starts_with("/_emulator") {
            format!("{}{path}", self.emu.root_url())
        } else {
            format!("{}{path}", self.emu.base_url())
        };
        let mut req = self.http.request(method, url).bearer_auth(TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.unwrap();
        Answer {
            status: resp.status(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap(),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    async fn launch(&self, project: &str, body: Value) -> String {
        let a = self.post(&format!("/projects/{project}/runs"), body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.json()["runId"].as_str().unwrap().to_string()
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

const RUN_KEYS: [&str; 10] = [
    "projectId",
    "runId",
    "runUrl",
    "status",
    "startTime",
    "endTime",
    "elapsedTime",
    "traceId",
    "projectVersion",
    "runTrigger",
];

const CREATED_KEYS: [&str; 6] = [
    "projectId",
    "runId",
    "runUrl",
    "runStatusUrl",
    "traceId",
    "projectVersion",
];

fn is_hex_time(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    // YYYY-MM-DDTHH:MM:SS.mmmZ
    s.len() == 24
        && s.as_bytes()[10] == b'T'
        && s.as_bytes()[19] == b'.'
        && s.ends_with('Z')
        && s.parse::<Timestamp>().is_ok()
}

#[tokio::test]
async fn run_project_and_run_status_have_the_documented_shapes() {
    let e = emulator("").await;
    let a = e
        .post(
            &format!("/projects/{P1}/runs"),
            json!({"inputParams": {"n": 3}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let created = a.json();
    assert_eq!(keys(&created), set(&CREATED_KEYS));
    assert_eq!(created["projectVersion"], json!(12));
    let run_id = created["runId"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(run_id).is_ok());
    assert_eq!(
        created["runUrl"],
        json!(format!(
            "https://app.hex.tech/test-ws/app/{P1}/latest?runId={run_id}"
        ))
    );
    let status_url = created["runStatusUrl"].as_str().unwrap();
    assert_eq!(
        status_url,
        format!("{}/projects/{P1}/runs/{run_id}", e.emu.base_url())
    );

    // The runStatusUrl is directly usable.
    let pending: Value = e
        .http
        .get(status_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys(&pending), set(&RUN_KEYS));
    assert_eq!(pending["status"], "PENDING");
    assert_eq!(pending["startTime"], Value::Null);
    assert_eq!(pending["endTime"], Value::Null);
    assert_eq!(pending["elapsedTime"], Value::Null);
    assert_eq!(pending["runTrigger"], "API");
    assert_eq!(pending["projectVersion"], json!(12));
    assert_ne!(
        pending["traceId"], created["traceId"],
        "every response has a fresh traceId"
    );

    e.advance(10);
    let running = e.get(&format!("/projects/{P1}/runs/{run_id}")).await.json();
    assert_eq!(running["status"], "RUNNING");
    assert!(
        is_hex_time(&running["startTime"]),
        "{}",
        running["startTime"]
    );
    assert_eq!(running["startTime"], "2026-03-01T12:00:05.000Z");
    assert_eq!(running["endTime"], Value::Null);
    assert_eq!(running["elapsedTime"], json!(5000.0));

    e.advance(60);
    let done = e.get(&format!("/projects/{P1}/runs/{run_id}")).await.json();
    assert_eq!(keys(&done), set(&RUN_KEYS));
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["endTime"], "2026-03-01T12:00:35.000Z");
    assert_eq!(done["elapsedTime"], json!(30000.0));

    // The legacy singular spelling answers the same run.
    let legacy = e.get(&format!("/project/{P1}/run/{run_id}")).await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(legacy.json()["status"], "COMPLETED");

    // Cancelling an ended run: 422 with a reason.
    let a = e.delete(&format!("/projects/{P1}/runs/{run_id}")).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = a.json();
    assert!(
        body["reason"].is_string() && body["traceId"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn cancel_answers_204_with_an_empty_body_and_the_run_is_killed() {
    let e = emulator("").await;
    let run = e.launch(HANGS, json!({})).await;
    e.advance(3600);
    assert_eq!(
        e.get(&format!("/projects/{HANGS}/runs/{run}")).await.json()["status"],
        "RUNNING"
    );
    let a = e.delete(&format!("/projects/{HANGS}/runs/{run}")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.text.is_empty(), "{:?}", a.text);
    let killed = e.get(&format!("/projects/{HANGS}/runs/{run}")).await.json();
    assert_eq!(killed["status"], "KILLED");
    assert_eq!(killed["endTime"], "2026-03-01T13:00:00.000Z");

    // Legacy DELETE on another hanging run.
    let run2 = e.launch(HANGS, json!({})).await;
    let a = e.delete(&format!("/project/{HANGS}/run/{run2}")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert!(a.text.is_empty());
}

#[tokio::test]
async fn bad_requests_get_the_documented_errors() {
    let e = emulator("").await;
    // Wrong type: 422 with the invalid list; the unknown key is ignored, not reported.
    let a = e
        .post(
            &format!("/projects/{P1}/runs"),
            json!({"inputParams": {"n": "ten", "nope": 1}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let body = a.json();
    assert_eq!(
        keys(&body),
        set(&["reason", "traceId", "invalid", "notFound"])
    );
    assert_eq!(
        body["invalid"],
        json!([{"paramName": "n", "paramValue": "\"ten\"", "dataType": "NUMBER",
                "inputCellType": "NUMBER_INPUT"}])
    );
    assert_eq!(body["notFound"], json!([]));
    // Unknown keys alone are fine.
    e.launch(P1, json!({"inputParams": {"nope": 1}, "dryRun": "false"}))
        .await;

    let a = e
        .post(&format!("/projects/{UNPUBLISHED}/runs"), json!({}))
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.json()["reason"], "Project not published");

    let a = e
        .post(&format!("/projects/{MISSING}/runs"), json!({}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = e.get(&format!("/projects/{MISSING}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["traceId"].is_string());
    let a = e.get(&format!("/projects/{P1}/runs/{MISSING}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // A run of another project is not found either.
    let run = e.launch(HANGS, json!({})).await;
    let a = e.get(&format!("/projects/{P1}/runs/{run}")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    // Unknown body field, malformed JSON, viewId with inputParams: 400.
    let a = e
        .post(&format!("/projects/{P1}/runs"), json!({"dryrun": true}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = e
        .post(
            &format!("/projects/{P1}/runs"),
            json!({"viewId": "v", "inputParams": {"n": 1}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // Hex's schema takes an object: an array, a string or null is not a launch with defaults.
    let before = e.emu.control().runs().len();
    for body in [
        json!([]),
        json!([{"dryRun": true}]),
        json!("x"),
        json!(null),
        json!(7),
    ] {
        let a = e.post(&format!("/projects/{P1}/runs"), body.clone()).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{body}: {}", a.text);
        assert!(
            a.json()["details"]
                .as_str()
                .unwrap()
                .contains("must be a JSON object")
        );
    }
    assert_eq!(e.emu.control().runs().len(), before, "nothing was launched");
    let resp = e
        .http
        .post(format!("{}/projects/{P1}/runs", e.emu.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"inputParams\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    // Bad token: plain-text 401.
    let resp = e
        .http
        .get(format!("{}/projects", e.emu.base_url()))
        .bearer_auth("hxtp_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(resp.text().await.unwrap(), "Unauthorized");
    let resp = e
        .http
        .get(format!("{}/projects", e.emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // Invalid limit: 400.
    assert_eq!(
        e.get("/projects?limit=0").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        e.get("/projects?limit=101").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        e.get(&format!("/projects/{P1}/runs?limit=abc"))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn dry_run_answers_201_and_creates_nothing() {
    let e = emulator("").await;
    let before = e.emu.control().runs().len();
    let a = e
        .post(&format!("/projects/{P1}/runs"), json!({"dryRun": true}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED);
    let body = a.json();
    assert_eq!(keys(&body), set(&CREATED_KEYS));
    assert_eq!(e.emu.control().runs().len(), before);
    let run = body["runId"].as_str().unwrap();
    assert_eq!(
        e.get(&format!("/projects/{P1}/runs/{run}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Validation still applies to a dry run.
    let a = e
        .post(
            &format!("/projects/{P1}/runs"),
            json!({"dryRun": true, "inputParams": {"day": 5}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn list_projects_paginates_with_cursors_and_hides_archived() {
    let e = emulator("").await;
    let first = e.get("/projects?limit=2&someUnknownParam=1").await;
    assert_eq!(first.status, StatusCode::OK);
    let page = first.json();
    assert_eq!(keys(&page), set(&["values", "pagination"]));
    assert_eq!(keys(&page["pagination"]), set(&["after", "before"]));
    assert_eq!(page["pagination"]["before"], Value::Null);
    let project = &page["values"][0];
    for key in [
        "id",
        "title",
        "description",
        "type",
        "creator",
        "owner",
        "status",
        "categories",
        "reviews",
        "analytics",
        "lastEditedAt",
        "createdAt",
        "lastPublishedAt",
        "archivedAt",
        "trashedAt",
        "schedules",
    ] {
        assert!(project.get(key).is_some(), "project lacks {key}: {project}");
    }
    assert!(project.get("sharing").is_none(), "sharing only when asked");
    assert_eq!(project["type"], "PROJECT");
    assert!(is_hex_time(&project["createdAt"]));

    let mut ids = Vec::new();
    let mut next = page;
    let mut pages = 1;
    loop {
        for v in next["values"].as_array().unwrap() {
            ids.push(v["id"].as_str().unwrap().to_string());
        }
        let Some(after) = next["pagination"]["after"].as_str() else {
            break;
        };
        let a = e.get(&format!("/projects?limit=2&after={after}")).await;
        assert_eq!(a.status, StatusCode::OK);
        next = a.json();
        pages += 1;
        assert!(next["pagination"]["before"].is_string());
    }
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 5, "archived project hidden: {ids:?}");
    assert!(!ids.contains(&ARCHIVED.to_string()));
    assert!(ids.contains(&UNPUBLISHED.to_string()));

    // `before` walks back to the previous page.
    let before = next["pagination"]["before"].as_str().unwrap().to_string();
    let back = e
        .get(&format!("/projects?limit=2&before={before}"))
        .await
        .json();
    assert_eq!(back["values"][0]["id"], json!(ids[2]));

    let all = e
        .get("/projects?includeArchived=true&limit=100")
        .await
        .json();
    assert_eq!(all["values"].as_array().unwrap().len(), 6);
    assert_eq!(all["pagination"]["after"], Value::Null);

    let a = e.get(&format!("/projects/{UNPUBLISHED}")).await.json();
    assert_eq!(a["lastPublishedAt"], Value::Null);
}

#[tokio::test]
async fn project_runs_list_newest_first_with_page_links_and_filters() {
    let e = emulator("").await;
    let r1 = e.launch(P1, json!({})).await;
    e.advance(1);
    let r2 = e.launch(P1, json!({})).await;
    e.advance(1);
    let r3 = e.launch(P1, json!({})).await;

    let a = e.get(&format!("/projects/{P1}/runs?limit=2")).await;
    assert_eq!(a.status, StatusCode::OK);
    let body = a.json();
    assert_eq!(
        keys(&body),
        set(&["runs", "nextPage", "previousPage", "traceId"])
    );
    let ids: Vec<_> = body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, [r3.clone(), r2.clone()]);
    assert_eq!(keys(&body["runs"][0]), set(&RUN_KEYS));
    assert_eq!(body["previousPage"], Value::Null);
    let next = body["nextPage"].as_str().unwrap();
    assert!(next.starts_with(&e.emu.base_url()), "{next}");
    let page2: Value = e
        .http
        .get(next)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page2["runs"][0]["runId"], json!(r1));
    assert_eq!(page2["nextPage"], Value::Null, "only API runs by default");
    assert!(page2["previousPage"].is_string());

    // Seeded scheduled history appears with runTriggerFilter.
    let all = e
        .get(&format!(
            "/projects/{P1}/runs?runTriggerFilter=ALL&limit=100"
        ))
        .await
        .json();
    assert_eq!(all["runs"].as_array().unwrap().len(), 5);
    let sched = e
        .get(&format!("/projects/{P1}/runs?runTriggerFilter=SCHEDULED"))
        .await
        .json();
    let sched = sched["runs"].as_array().unwrap();
    assert_eq!(sched.len(), 2);
    assert!(sched.iter().all(|r| r["runTrigger"] == "SCHEDULED"));
    let pending = e
        .get(&format!("/projects/{P1}/runs?statusFilter=PENDING"))
        .await
        .json();
    assert_eq!(pending["runs"].as_array().unwrap().len(), 3);
    let completed = e
        .get(&format!("/projects/{P1}/runs?statusFilter=COMPLETED"))
        .await
        .json();
    assert_eq!(completed["runs"].as_array().unwrap().len(), 0);

    // The legacy list path works too, and so does the legacy launch path.
    let legacy = e.get(&format!("/project/{P1}/runs")).await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(legacy.json()["runs"].as_array().unwrap().len(), 3);
    let a = e.post(&format!("/project/{P1}/run"), json!({})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(keys(&a.json()), set(&CREATED_KEYS));
}

#[tokio::test]
async fn the_minute_window_answers_429_with_retry_after_and_rate_headers() {
    let e = emulator("requests_per_minute = 3").await;
    let a = e.get("/projects").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["x-ratelimit-limit"], "3");
    assert_eq!(a.headers["x-ratelimit-remaining"], "2");
    let reset: i64 = a.headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let t0 = "2026-03-01T12:00:00Z"
        .parse::<Timestamp>()
        .unwrap()
        .as_second();
    assert_eq!(reset, t0 + 60);
    e.advance(20);
    e.get("/projects").await;
    e.get("/projects").await;
    let a = e.get("/projects").await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.headers["retry-after"], "40");
    assert_eq!(a.headers["x-ratelimit-remaining"], "0");
    assert_eq!(
        a.headers["x-ratelimit-reset"].to_str().unwrap(),
        reset.to_string()
    );
    assert!(a.json()["reason"].is_string());
    // Control endpoints are not limited.
    assert_eq!(e.get("/_emulator/runs").await.status, StatusCode::OK);
    // 60 s after the window's first request it resets.
    e.advance(40);
    assert_eq!(e.get("/projects").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_kernel_limit_answers_503_and_creates_nothing() {
    let e = emulator("max_concurrent_kernels = 2").await;
    e.launch(HANGS, json!({})).await;
    e.launch(HANGS, json!({})).await;
    let before = e.emu.control().runs().len();
    let a = e.post(&format!("/projects/{P1}/runs"), json!({})).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(a.json()["reason"].is_string());
    assert_eq!(e.emu.control().runs().len(), before);
}

#[tokio::test]
async fn injected_faults_error_malform_and_drop() {
    let e = emulator("").await;
    let a = e
        .post(
            "/_emulator/faults",
            json!({"GetProject": {"error_rate": 1.0, "error_statuses": [502]}}),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        e.get("/_emulator/faults").await.json()["GetProject"]["error_rate"],
        json!(1.0)
    );
    let a = e.get(&format!("/projects/{P1}")).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert!(a.json()["traceId"].is_string());
    // Other operations are untouched.
    assert_eq!(e.get("/projects").await.status, StatusCode::OK);

    // Injected errors happen before the operation: no run is created.
    let before = e.emu.control().runs().len();
    e.post(
        "/_emulator/faults",
        json!({"RunProject": {"error_rate": 1.0}}),
    )
    .await;
    let a = e.post(&format!("/projects/{P1}/runs"), json!({})).await;
    assert!([500, 502, 503].contains(&a.status.as_u16()), "{}", a.status);
    assert_eq!(e.emu.control().runs().len(), before);

    // Malformed: a 201 whose body does not decode, and the run exists.
    e.post(
        "/_emulator/faults",
        json!({"RunProject": {"malformed_rate": 1.0}}),
    )
    .await;
    let a = e.post(&format!("/projects/{P1}/runs"), json!({})).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert!(
        serde_json::from_str::<Value>(&a.text).is_err(),
        "{}",
        a.text
    );
    assert_eq!(e.emu.control().runs().len(), before + 1);

    // Drop before: a transport error, nothing created.
    e.post(
        "/_emulator/faults",
        json!({"RunProject": {"drop_before_rate": 1.0}}),
    )
    .await;
    let err = e
        .http
        .post(format!("{}/projects/{P1}/runs", e.emu.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await;
    assert!(err.is_err(), "expected a transport error, got {err:?}");
    assert_eq!(e.emu.control().runs().len(), before + 1);

    // Drop after: a transport error, but the run was created.
    e.post(
        "/_emulator/faults",
        json!({"default": {"drop_after_rate": 1.0}}),
    )
    .await;
    let err = e
        .http
        .post(format!("{}/projects/{P1}/runs", e.emu.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await;
    assert!(err.is_err(), "expected a transport error, got {err:?}");
    assert_eq!(e.emu.control().runs().len(), before + 2);

    // Invalid faults are refused; `{}` clears them.
    let a = e
        .post("/_emulator/faults", json!({"default": {"error_rate": 3}}))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    e.post("/_emulator/faults", json!({})).await;
    assert_eq!(
        e.get(&format!("/projects/{P1}")).await.status,
        StatusCode::OK
    );

    let faults: Vec<_> = e
        .emu
        .control()
        .requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert_eq!(
        faults,
        ["error", "error", "malformed", "drop_before", "drop_after"]
    );
}

#[tokio::test]
async fn control_endpoints_show_runs_and_requests_and_reset() {
    let e = emulator("").await;
    let run = e
        .launch(
            P1,
            json!({"inputParams": {"n": 4, "day": "2026-02-03", "extra": true},
                   "useCachedSqlResults": false}),
        )
        .await;
    e.advance(100);
    let runs = e.get("/_emulator/runs").await.json();
    let rec = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runId"] == json!(run))
        .unwrap()
        .clone();
    assert_eq!(rec["projectId"], P1);
    assert_eq!(rec["status"], "COMPLETED");
    assert_eq!(rec["runTrigger"], "API");
    assert_eq!(
        rec["inputParams"],
        json!({"n": 4, "day": "2026-02-03", "extra": true})
    );
    assert_eq!(rec["options"]["useCachedSqlResults"], json!(false));
    assert_eq!(rec["createdAt"], "2026-03-01T12:00:00.000Z");
    assert_eq!(
        rec["transitions"],
        json!([
            {"status": "PENDING", "at": "2026-03-01T12:00:00.000Z"},
            {"status": "RUNNING", "at": "2026-03-01T12:00:05.000Z"},
            {"status": "COMPLETED", "at": "2026-03-01T12:00:35.000Z"}
        ])
    );

    let requests = e.get("/_emulator/requests").await.json();
    let log = requests["requests"].as_array().unwrap();
    assert_eq!(log.len(), 1, "control calls are not logged: {log:?}");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["operation"], "RunProject");
    assert_eq!(log[0]["status"], json!(201));
    assert_eq!(log[0]["path"], json!(format!("/api/v1/projects/{P1}/runs")));
    assert!(
        !requests.to_string().contains(TOKEN),
        "the token is never logged"
    );

    // The clock can be moved over HTTP because it is manual.
    let a = e
        .post("/_emulator/clock/advance", json!({"seconds": 30}))
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["now"], "2026-03-01T12:02:10.000Z");

    let a = e.post("/_emulator/reset", json!({})).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    let runs = e.get("/_emulator/runs").await.json();
    assert!(
        runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["runTrigger"] == "SCHEDULED"),
        "only seeded history is left"
    );
    assert!(e.emu.control().requests().is_empty());
    assert_eq!(
        e.get(&format!("/projects/{P1}/runs/{run}")).await.status,
        StatusCode::NOT_FOUND
    );
    e.emu.shutdown().await;
}

#[tokio::test]
async fn the_clock_cannot_be_advanced_on_the_system_clock_and_the_demo_serves() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorOptions::new(Scenario::demo().unwrap()),
    )
    .await
    .unwrap();
    assert!(emu.base_url().ends_with("/api/v1"));
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/_emulator/clock/advance", emu.root_url()))
        .json(&json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let page: Value = http
        .get(format!("{}/projects?limit=100", emu.base_url()))
        .bearer_auth("hxtp_demo_0000000000000000")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["values"].as_array().unwrap().len(), 8);
    emu.shutdown().await;
}

#[tokio::test]
async fn bind_errors_name_the_address() {
    let e = emulator("").await;
    let err = start(e.emu.addr(), EmulatorOptions::new(parsed("")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&e.emu.addr().to_string()), "{err}");
}

#[tokio::test]
async fn off_loopback_the_control_endpoints_need_a_token() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = start(
        "0.0.0.0:0".parse().unwrap(),
        EmulatorOptions::new(parsed("")),
    )
    .await
    .unwrap();
    let root = format!("http://127.0.0.1:{}", emu.addr().port());
    let http = reqwest::Client::new();
    for (method, path) in [
        (reqwest::Method::GET, "/_emulator/runs"),
        (reqwest::Method::GET, "/_emulator/requests"),
        (reqwest::Method::GET, "/_emulator/faults"),
        (reqwest::Method::POST, "/_emulator/reset"),
        (reqwest::Method::GET, "/_emulator/clock"),
    ] {
        let anonymous = http
            .request(method.clone(), format!("{root}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
        let wrong = http
            .request(method.clone(), format!("{root}{path}"))
            .bearer_auth("hxtp_wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{path}");
        let with_token = http
            .request(method, format!("{root}{path}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert!(
            with_token.status().is_success(),
            "{path}: {}",
            with_token.status()
        );
    }
    emu.shutdown().await;
}

/// `POST /_emulator/runs` starts a run as another client, Hex's scheduler or an app refresh
/// would: it shows in Hex's API under its trigger, runs and can be cancelled like any other,
/// and is neither rate-limited nor logged as a request.
#[tokio::test]
async fn a_run_started_elsewhere_shows_with_its_trigger_and_costs_no_request() {
    // Four starts where Hex's limits allow one launch: none of them is a RunProject request.
    let e = emulator("run_per_minute = 1").await;
    let mut started = Vec::new();
    for (trigger, project) in [
        ("SCHEDULED", P1),
        ("APP_REFRESH", P1),
        ("API", HANGS),
        ("SCHEDULED", P1),
    ] {
        let body = json!({"projectId": project, "trigger": trigger,
                          "inputParams": {"day": "2026-02-28"}});
        let body = if project == HANGS {
            json!({"projectId": project})
        } else {
            body
        };
        let a = e.post("/_emulator/runs", body).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        let run = a.json();
        assert_eq!(run["runTrigger"], trigger);
        assert_eq!(run["projectId"], project);
        assert_eq!(run["status"], "PENDING");
        started.push((project, trigger, run["runId"].as_str().unwrap().to_string()));
    }
    assert!(
        e.get("/_emulator/requests").await.json()["requests"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nobody sent these to Hex's API"
    );

    // Hex's API lists each under its trigger; the default filter shows API runs only.
    let all = e
        .get(&format!(
            "/projects/{P1}/runs?runTriggerFilter=ALL&limit=100"
        ))
        .await
        .json();
    let ids: Vec<&str> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["runId"].as_str().unwrap())
        .collect();
    for (project, trigger, id) in &started {
        if *project == P1 {
            assert!(ids.contains(&id.as_str()), "{trigger} run {id} in {ids:?}");
        }
    }
    let scheduled = e
        .get(&format!(
            "/projects/{P1}/runs?runTriggerFilter=SCHEDULED&limit=100"
        ))
        .await
        .json();
    let scheduled = scheduled["runs"].as_array().unwrap();
    assert!(scheduled.iter().all(|r| r["runTrigger"] == "SCHEDULED"));
    assert_eq!(
        scheduled
            .iter()
            .filter(|r| started.iter().any(|(_, _, id)| r["runId"] == json!(id)))
            .count(),
        2
    );
    let (_, _, first) = &started[0];
    let status = e.get(&format!("/projects/{P1}/runs/{first}")).await.json();
    assert_eq!(status["runTrigger"], "SCHEDULED");

    // It runs on the emulator's clock and can be cancelled through the API.
    e.advance(60);
    let hanging = &started[2].2;
    assert_eq!(
        e.get(&format!("/projects/{HANGS}/runs/{hanging}"))
            .await
            .json()["status"],
        "RUNNING"
    );
    let a = e.delete(&format!("/projects/{HANGS}/runs/{hanging}")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(
        e.get(&format!("/projects/{HANGS}/runs/{hanging}"))
            .await
            .json()["status"],
        "KILLED"
    );
}

#[tokio::test]
async fn a_run_that_cannot_start_elsewhere_is_refused_with_the_reason() {
    let e = emulator("max_concurrent_kernels = 1").await;
    for (body, status, says) in [
        (
            json!({"projectId": MISSING}),
            StatusCode::NOT_FOUND,
            MISSING,
        ),
        (
            json!({"projectId": P1, "trigger": "CRON"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "API, SCHEDULED, APP_REFRESH",
        ),
        (
            json!({"projectId": UNPUBLISHED}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not published",
        ),
        (
            json!({"projectId": P1, "inputParams": {"n": "many"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "n",
        ),
        (json!({"project": P1}), StatusCode::BAD_REQUEST, "projectId"),
        (json!([]), StatusCode::BAD_REQUEST, "projectId"),
    ] {
        let a = e.post("/_emulator/runs", body.clone()).await;
        assert_eq!(a.status, status, "{body}: {}", a.text);
        let details = a.json()["details"].as_str().unwrap().to_string();
        assert!(details.contains(says), "{body}: {details}");
    }
    let a = e.post("/_emulator/runs", json!({"projectId": HANGS})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = e.post("/_emulator/runs", json!({"projectId": HANGS})).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert!(
        a.json()["details"]
            .as_str()
            .unwrap()
            .contains("1 of 1 kernels")
    );
    let runs = e.get("/_emulator/runs").await.json();
    let created: Vec<_> = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["createdAt"] == "2026-03-01T12:00:00.000Z")
        .collect();
    assert_eq!(
        created.len(),
        1,
        "refused starts create nothing: {created:?}"
    );
}

/// Hex's scheduler, emulated: a schedule in the scenario starts a SCHEDULED run at its fire time,
/// which Hex's API then lists and reports like any other (and the request log does not show,
/// since no client asked for it).
#[tokio::test]
async fn a_schedule_starts_its_run_at_the_fire_time() {
    let e = emulator("").await;
    const EXTRA: &str = "55555555-5555-4555-8555-555555555555";
    let scheduled = |answer: Value| -> Vec<Value> {
        answer["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["runTrigger"] == "SCHEDULED")
            .cloned()
            .collect()
    };
    let path = format!("/projects/{EXTRA}/runs?runTriggerFilter=ALL");
    assert!(scheduled(e.get(&path).await.json()).is_empty());
    e.advance(6 * 3600 - 1);
    assert!(scheduled(e.get(&path).await.json()).is_empty(), "17:59:59");
    e.advance(1);
    let runs = scheduled(e.get(&path).await.json());
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["status"], "PENDING");
    let id = runs[0]["runId"].as_str().unwrap();
    e.advance(120);
    let status = e.get(&format!("/projects/{EXTRA}/runs/{id}")).await.json();
    assert_eq!(status["runTrigger"], "SCHEDULED");
    assert_ne!(status["status"], "PENDING", "{status}");
    let runs = e.get("/_emulator/runs").await.json();
    let record = runs["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["runId"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(record["createdAt"], "2026-03-01T18:00:00.000Z");
    let requests = e.get("/_emulator/requests").await.json();
    assert!(
        requests["requests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["operation"] != "RunProject"),
        "nobody launched it through the API"
    );
}
