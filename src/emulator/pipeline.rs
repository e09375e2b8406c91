//! The request pipeline every Hex API operation goes through: bearer auth (plain-text 401), the
//! rate windows (429 with Retry-After and X-RateLimit-*), the injected faults (latency, drops,
//! errors, malformed bodies) at their documented points, then the operation itself, the
//! X-RateLimit-* headers on the answer and one request-log entry.
//!
//! Owns the HTTP framing shared by all operations (`Reply`, `Ctx`). It must not know what any
//! operation does; `routes` supplies that as a closure run under the state lock.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::app::{App, Inner, RequestRecord};
use super::faults::FaultPlan;
use super::limits::{RateInfo, Verdict};
use crate::hex::Operation;
use crate::hex::types::{ApiErrorBody, hex_time};

/// Marks a response whose connection must be closed without an answer (an injected drop).
/// The accept loop in `mod.rs` turns it into a service error, which makes hyper abort the
/// connection before writing a byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// What an operation answers before the pipeline adds headers, faults and the log entry.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Reply {
        Reply {
            status,
            body: Some(serde_json::to_value(body).unwrap_or(Value::Null)),
        }
    }

    pub fn error(
        status: StatusCode,
        reason: impl Into<String>,
        details: Option<String>,
        ctx: &Ctx,
    ) -> Reply {
        Reply::json(
            status,
            &ApiErrorBody {
                reason: Some(reason.into()),
                details,
                trace_id: Some(ctx.trace_id.clone()),
                invalid: None,
                not_found: None,
            },
        )
    }

    pub fn bad_request(message: String, ctx: &Ctx) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, "Bad request", Some(message), ctx)
    }
}

/// Facts about the request an operation may use.
pub(crate) struct Ctx {
    pub trace_id: String,
    pub now: Timestamp,
    /// `http://host:port`, from the Host header so links work however the emulator was reached.
    pub root: String,
    /// The path as requested (plural or legacy), for the page links of GetProjectRuns.
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Ctx {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn flag(&self, name: &str) -> Result<bool, String> {
        match self.param(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(format!(
                "{name}={other:?} is not a boolean; use true or false"
            )),
        }
    }

    pub fn limit(&self) -> Result<usize, String> {
        match self.param("limit") {
            None => Ok(25),
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(format!(
                    "limit={raw:?} is invalid; use an integer from 1 to 100"
                )),
            },
        }
    }
}

/// The request parts the pipeline needs.
pub(crate) struct Incoming {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn rate_headers(response: &mut Response, info: &RateInfo) {
    let reset = info.reset.as_second() + i64::from(info.reset.subsec_nanosecond() > 0);
    let h = response.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(info.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(info.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(reset));
}

pub(crate) fn json_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut r = (status, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn dropped() -> Response {
    let mut r = Response::new(Body::empty());
    r.extensions_mut().insert(DropConnection);
    r
}

/// Runs one Hex API request through auth, limits, faults and the operation `f`.
pub(crate) async fn pipeline<F>(app: &App, op: Operation, req: Incoming, f: F) -> Response
where
    F: FnOnce(&mut Inner, &Ctx) -> Reply,
{
    let trace_id = uuid::Uuid::new_v4().to_string();
    let arrived = app.now();
    let path = req
        .uri
        .path_and_query()
        .map_or_else(|| req.uri.path().to_string(), |p| p.as_str().to_string());
    let log = |status: Option<u16>, fault: Option<&str>| {
        app.record(RequestRecord {
            at: hex_time::format(&arrived),
            method: req.method.to_string(),
            path: path.clone(),
            operation: Some(op),
            status,
            fault: fault.map(str::to_string),
            trace_id: Some(trace_id.clone()),
        });
    };

    let Some(token) = bearer(&req.headers).filter(|t| app.accepts(t)) else {
        log(Some(401), None);
        return unauthorized();
    };

    let (verdict, plan) = admit(app, token, op, arrived);
    let info = match verdict {
        Verdict::Allowed(info) => info,
        Verdict::Limited { info, window } => {
            log(Some(429), None);
            return rate_limited(&info, window, arrived, &trace_id);
        }
    };

    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    if plan.drop_before {
        log(None, Some("drop_before"));
        return dropped();
    }
    if let Some(code) = plan.error_status {
        log(Some(code), Some("error"));
        return injected_error(code, op, &trace_id, &info);
    }

    let ctx = context(app, &req, &trace_id);
    let reply = {
        let mut inner = app.lock();
        f(&mut inner, &ctx)
    };

    if plan.drop_after {
        log(None, Some("drop_after"));
        return dropped();
    }
    let mut response = match reply.body {
        None => reply.status.into_response(),
        Some(body) => {
            let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
            let malformed = plan.malformed && reply.status.is_success();
            if malformed {
                // Cut the JSON in half: the status and headers look fine, the body cannot be
                // decoded (a proxy truncating a response looks like this).
                bytes.truncate(bytes.len() / 2);
            }
            log(
                Some(reply.status.as_u16()),
                malformed.then_some("malformed"),
            );
            let mut r = json_response(reply.status, bytes);
            rate_headers(&mut r, &info);
            return r;
        }
    };
    log(Some(reply.status.as_u16()), None);
    rate_headers(&mut response, &info);
    response
}

/// HEX_API.md: some edges answer plain text; 401 is one, so clients must cope with it.
fn unauthorized() -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// The rate limiter's verdict on `token`'s request, and the faults it gets when admitted.
fn admit(app: &App, token: &str, op: Operation, arrived: Timestamp) -> (Verdict, FaultPlan) {
    let mut inner = app.lock();
    let verdict = inner.limiter.admit(token, op, arrived);
    let plan = match verdict {
        Verdict::Allowed(_) => {
            let spec = inner.faults.for_op(op).cloned();
            FaultPlan::draw(spec.as_ref(), &mut inner.fault_rng)
        }
        Verdict::Limited { .. } => FaultPlan::default(),
    };
    (verdict, plan)
}

/// The 429: which limit, when to retry (Retry-After), and the X-RateLimit-* headers.
fn rate_limited(info: &RateInfo, window: &str, arrived: Timestamp, trace_id: &str) -> Response {
    let body = ApiErrorBody {
        reason: Some(format!(
            "Rate limit exceeded: at most {} {window}",
            info.limit
        )),
        details: Some(format!("retry after {} s", info.retry_after_secs(arrived))),
        trace_id: Some(trace_id.to_string()),
        invalid: None,
        not_found: None,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut r = json_response(StatusCode::TOO_MANY_REQUESTS, bytes);
    rate_headers(&mut r, info);
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(info.retry_after_secs(arrived)),
    );
    r
}

/// An injected error answer with status `code`, before the operation did anything.
fn injected_error(code: u16, op: Operation, trace_id: &str, info: &RateInfo) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = ApiErrorBody {
        reason: Some(
            status
                .canonical_reason()
                .unwrap_or("Injected error")
                .to_string(),
        ),
        details: Some(format!("injected fault for {op}; nothing was done")),
        trace_id: Some(trace_id.to_string()),
        invalid: None,
        not_found: None,
    };
    let mut r = json_response(status, serde_json::to_vec(&body).unwrap_or_default());
    rate_headers(&mut r, info);
    r
}

fn context(app: &App, req: &Incoming, trace_id: &str) -> Ctx {
    let host = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| app.addr.to_string(), str::to_string);
    Ctx {
        trace_id: trace_id.to_string(),
        now: app.now(),
        root: format!("http://{host}"),
        path: req.uri.path().to_string(),
        query: req
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(crate) fn incoming(method: Method, uri: Uri, headers: HeaderMap) -> Incoming {
    Incoming {
        method,
        uri,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
