//! The control surface under `/_emulator/`: what tests and other Hex clients use to look inside
//! the emulator and steer it over HTTP.
//!
//! `GET|POST runs`, `GET requests`, `GET|POST faults`, `POST reset`, `GET clock`,
//! `POST clock/advance`. Every endpoint is a thin wrapper over [`EmulatorControl`], so in-process
//! and HTTP control cannot disagree. No rate limits here: this is not Hex's API, and it must never
//! be counted in the request log or the rate windows. On a loopback address no auth either (tests
//! and the demo); on any other address these endpoints show every run's input parameters and can
//! reset or steer the emulator, so they need one of the emulator's tokens, like the API.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::app::{App, EmulatorControl, StartRefused};
use super::faults::Faults;
use crate::hex::types::hex_time;

pub(crate) fn router(app: Arc<App>) -> Router {
    let guard = axum::middleware::from_fn_with_state(Arc::clone(&app), require_token_off_loopback);
    Router::new()
        .route("/_emulator/runs", get(runs).post(start_run))
        .route("/_emulator/requests", get(requests))
        .route("/_emulator/faults", get(get_faults).post(set_faults))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/clock", get(clock))
        .route("/_emulator/clock/advance", post(advance))
        .route_layer(guard)
        .with_state(app)
}

async fn require_token_off_loopback(
    State(app): State<Arc<App>>,
    request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if app.addr.ip().is_loopback() || token.is_some_and(|t| app.accepts(t)) {
        return next.run(request).await;
    }
    problem(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "the emulator listens on a non-loopback address, so its control endpoints need one of \
         its API tokens (Authorization: Bearer ...)"
            .to_string(),
    )
}

fn control(app: Arc<App>) -> EmulatorControl {
    EmulatorControl { app }
}

fn problem(status: StatusCode, reason: &str, details: String) -> Response {
    (status, Json(json!({"reason": reason, "details": details}))).into_response()
}

async fn runs(State(app): State<Arc<App>>) -> Response {
    Json(json!({"runs": control(app).runs()})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct StartRun {
    project_id: String,
    #[serde(default = "super::scenario::api_trigger")]
    trigger: String,
    #[serde(default)]
    input_params: Option<indexmap::IndexMap<String, serde_json::Value>>,
}

/// Starts a run as another client, Hex's scheduler or an app refresh would (201 with the run,
/// in `GET runs`'s shape): what hexdash must find without having launched it.
async fn start_run(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let start: StartRun = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid body",
                format!(
                    "{e}; expected e.g. {{\"projectId\": \"...\", \"trigger\": \"SCHEDULED\", \
                     \"inputParams\": {{\"day\": \"2026-01-02\"}}}}"
                ),
            );
        }
    };
    match control(app).start_run(&start.project_id, &start.trigger, start.input_params) {
        Ok(run) => (StatusCode::CREATED, Json(run)).into_response(),
        Err(StartRefused::NotFound(m)) => problem(StatusCode::NOT_FOUND, "Project not found", m),
        Err(StartRefused::Invalid(m)) => problem(StatusCode::UNPROCESSABLE_ENTITY, "Refused", m),
        Err(StartRefused::Busy(m)) => problem(StatusCode::CONFLICT, "Kernel limit", m),
    }
}

async fn requests(State(app): State<Arc<App>>) -> Response {
    Json(json!({"requests": control(app).requests()})).into_response()
}

async fn get_faults(State(app): State<Arc<App>>) -> Response {
    Json(control(app).faults()).into_response()
}

/// Replaces the faults with the body (same shape as the scenario's `[faults]`); `{}` clears them.
async fn set_faults(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let faults: Faults = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid faults",
                format!(
                    "{e}; expected e.g. {{\"RunProject\": {{\"error_rate\": 1.0, \
                     \"error_statuses\": [503]}}}}"
                ),
            );
        }
    };
    let ctl = control(app);
    match ctl.set_faults(faults) {
        Ok(()) => Json(ctl.faults()).into_response(),
        Err(m) => problem(StatusCode::BAD_REQUEST, "Invalid faults", m),
    }
}

async fn reset(State(app): State<Arc<App>>) -> Response {
    control(app).reset();
    StatusCode::NO_CONTENT.into_response()
}

async fn clock(State(app): State<Arc<App>>) -> Response {
    let manual = app.clock.as_manual().is_some();
    Json(json!({"now": hex_time::format(&app.now()), "manual": manual, "speed": app.speed}))
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

async fn advance(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let advance: Advance = match serde_json::from_slice(&body) {
        Ok(a) => a,
        Err(e) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Invalid body",
                format!("{e}; expected {{\"seconds\": 30}}"),
            );
        }
    };
    if app.clock.as_manual().is_none() {
        return problem(
            StatusCode::CONFLICT,
            "Clock is not manual",
            "the emulator runs on the system clock; time moves by itself".to_string(),
        );
    }
    match control(app).advance_clock(advance.seconds) {
        Ok(now) => Json(json!({"now": hex_time::format(&now)})).into_response(),
        Err(m) => problem(StatusCode::BAD_REQUEST, "Invalid duration", m),
    }
}
