//! What an answer from Hex means: its body read with a size cap, a redirect refused, a non-2xx
//! status turned into its typed [`Error`], a 2xx body decoded.
//!
//! Everything quoted from the server into a message (error bodies, reasons, trace ids, parameter
//! names, a redirect's target) is shortened and has its control characters escaped here, so no
//! server can write escape sequences onto a person's terminal through an error. Must not retry,
//! sleep or touch the budget: that is the client's.

use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use super::error::Error;
use super::retry_after;
use super::types::{ApiErrorBody, InvalidParam, Operation};

/// The largest body read from one answer. Hex's largest answers are a page of 100 projects or
/// of 100 runs, tens to a few hundred KB; 4 MiB is ten times that, and small enough that a
/// server streaming an endless body cannot grow hexdash's memory past it.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Longest error-body excerpt kept in an error message.
const EXCERPT_CHARS: usize = 160;
/// Longest reason, trace id or parameter field quoted from an error body.
const FIELD_CHARS: usize = 300;

/// A successful HTTP exchange before decoding.
pub struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// Why reading an answer stopped short.
pub enum ReadError {
    /// The connection failed while the body was coming in.
    Transport(reqwest::Error),
    /// A typed answer: a redirect, an oversized body, a non-2xx status.
    Hex(Error),
}

/// Reads `response` into a [`Reply`] (2xx) or its error. Redirects are never followed (the client
/// is built with `Policy::none()`), so a 3xx arrives here and is refused, naming its target.
pub async fn read(op: Operation, response: Response) -> Result<Reply, ReadError> {
    let status = response.status();
    if status.is_redirection() {
        return Err(ReadError::Hex(Error::Redirected {
            op,
            status: status.as_u16(),
            location: location(&response),
        }));
    }
    let headers = response.headers().clone();
    let body = read_capped(op, response).await?;
    if status.is_success() {
        return Ok(Reply { status, body });
    }
    Err(ReadError::Hex(http_error(op, status, &headers, &body)))
}

/// The body, at most [`MAX_BODY_BYTES`]. A 2xx over the cap is an error (it cannot be decoded
/// whole, and announcing it in Content-Length is refused before a byte is read); an error body
/// over the cap is cut there, since only its start is ever quoted.
async fn read_capped(op: Operation, mut response: Response) -> Result<Vec<u8>, ReadError> {
    let status = response.status();
    let too_large = || {
        ReadError::Hex(Error::TooLarge {
            op,
            status: status.as_u16(),
            limit: MAX_BODY_BYTES,
        })
    };
    let announced = response.content_length().unwrap_or(0);
    if status.is_success() && announced > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        let room = MAX_BODY_BYTES - body.len();
        if chunk.len() > room {
            if status.is_success() {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk[..room]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The Location target, absolute when it parses against the request's URL.
fn location(response: &Response) -> String {
    let Some(raw) = response.headers().get(LOCATION) else {
        return "(no Location given)".into();
    };
    let raw = String::from_utf8_lossy(raw.as_bytes());
    let target = response
        .url()
        .join(raw.trim())
        .map_or_else(|_| raw.to_string(), |url| url.to_string());
    // `https://user:secret@elsewhere/` must not print its secret either.
    clean(&super::settings::redact_userinfo(&target), FIELD_CHARS)
}

/// Server text made safe to print: at most `max` characters, control characters (C0, DEL, C1)
/// and the bidirectional-text overrides shown escaped (`\x1b`), never passed through; the same
/// escaping as every other line hexdash prints ([`crate::safe_text`]).
pub fn clean(text: &str, max: usize) -> String {
    let cut: String = text.chars().take(max).collect();
    let mut out = crate::safe_text::escape_line(&cut).into_owned();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

pub fn excerpt(body: &[u8]) -> String {
    clean(String::from_utf8_lossy(body).trim(), EXCERPT_CHARS)
}

fn clean_field(text: &str) -> String {
    clean(text, FIELD_CHARS)
}

/// Maps a non-2xx answer to its typed error. Copes with plain-text bodies (HEX_API.md "Errors").
pub fn http_error(op: Operation, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let parsed: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
    let trace_id = parsed
        .as_ref()
        .and_then(|b| b.trace_id.as_deref())
        .map(clean_field);
    let message = error_message(parsed.as_ref(), status, body);
    match status.as_u16() {
        400 => Error::BadRequest {
            op,
            message,
            trace_id,
        },
        401 => Error::Unauthorized {
            op,
            message,
            trace_id,
        },
        403 => Error::Forbidden {
            op,
            message,
            trace_id,
        },
        404 => Error::NotFound {
            op,
            message,
            trace_id,
        },
        413 => Error::RequestTooLarge {
            op,
            message,
            trace_id,
        },
        422 => {
            let (invalid, not_found) = parsed
                .map(|b| {
                    (
                        b.invalid.unwrap_or_default(),
                        b.not_found.unwrap_or_default(),
                    )
                })
                .unwrap_or_default();
            Error::Unprocessable {
                op,
                message,
                invalid: invalid.iter().map(clean_param).collect(),
                not_found: not_found.iter().map(|n| clean_field(n)).collect(),
                trace_id,
            }
        }
        429 => rate_limited(op, headers, trace_id),
        503 if op == Operation::RunProject => Error::KernelLimit { message, trace_id },
        s if s >= 500 => Error::Server {
            op,
            status: s,
            message,
            trace_id,
        },
        s => Error::UnexpectedStatus {
            op,
            status: s,
            message,
            trace_id,
        },
    }
}

/// What the error says: Hex's reason and details, else an excerpt of the body, else the
/// status's name.
fn error_message(parsed: Option<&ApiErrorBody>, status: StatusCode, body: &[u8]) -> String {
    match parsed {
        Some(b) => match (&b.reason, &b.details) {
            (Some(r), Some(d)) => clean_field(&format!("{r}: {d}")),
            (Some(r), None) => clean_field(r),
            (None, Some(d)) => clean_field(d),
            (None, None) => status.canonical_reason().unwrap_or("").to_string(),
        },
        None => {
            let text = excerpt(body);
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no body").to_string()
            } else {
                text
            }
        }
    }
}

/// A 429, with the wait its Retry-After asks for.
fn rate_limited(op: Operation, headers: &HeaderMap, trace_id: Option<String>) -> Error {
    let asked = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| retry_after::parse(v, jiff::Timestamp::now()));
    Error::RateLimited {
        op,
        retry_after: asked.as_ref().map(|a| a.wait),
        absurd: asked.and_then(|a| a.absurd),
        trace_id,
    }
}

fn clean_param(p: &InvalidParam) -> InvalidParam {
    let field = |f: &Option<String>| f.as_deref().map(clean_field);
    InvalidParam {
        param_name: clean_field(&p.param_name),
        param_value: field(&p.param_value),
        data_type: field(&p.data_type),
        input_cell_type: field(&p.input_cell_type),
    }
}

pub fn decode<T: DeserializeOwned>(op: Operation, reply: Reply) -> Result<T, Error> {
    serde_json::from_slice(&reply.body).map_err(|e| Error::Undecodable {
        op,
        status: reply.status.as_u16(),
        detail: clean_field(&e.to_string()),
        excerpt: excerpt(&reply.body),
        trace_id: serde_json::from_slice::<ApiErrorBody>(&reply.body)
            .ok()
            .and_then(|b| b.trace_id)
            .map(|t| clean_field(&t)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: StatusCode, body: &[u8]) -> Error {
        http_error(Operation::ListProjects, status, &HeaderMap::new(), body)
    }

    #[test]
    fn plain_text_and_json_error_bodies_are_both_read() {
        let e = error(StatusCode::UNAUTHORIZED, b"Unauthorized");
        assert!(matches!(&e, Error::Unauthorized { message, .. } if message == "Unauthorized"));
        let body = br#"{"reason":"Project not published","traceId":"t-1"}"#;
        let e = http_error(
            Operation::RunProject,
            StatusCode::UNPROCESSABLE_ENTITY,
            &HeaderMap::new(),
            body,
        );
        assert_eq!(e.trace_id(), Some("t-1"));
        let e = http_error(
            Operation::RunProject,
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            b"",
        );
        assert!(matches!(e, Error::KernelLimit { .. }));
        let e = http_error(
            Operation::GetRunStatus,
            StatusCode::SERVICE_UNAVAILABLE,
            &HeaderMap::new(),
            b"",
        );
        assert!(matches!(e, Error::Server { status: 503, .. }));
    }

    #[test]
    fn statuses_other_than_400_are_never_called_malformed() {
        let e = error(StatusCode::PAYLOAD_TOO_LARGE, b"Request Entity Too Large");
        assert!(matches!(e, Error::RequestTooLarge { .. }), "{e}");
        assert!(
            e.to_string().contains("too large for the server (413"),
            "{e}"
        );
        assert!(e.is_refusal() && !e.is_transient());
        for status in [405, 409, 410, 418, 499] {
            let e = error(StatusCode::from_u16(status).unwrap(), b"nope");
            let text = e.to_string();
            assert!(!text.contains("malformed"), "{text}");
            assert!(text.contains(&format!("HTTP {status}")), "{text}");
            assert_eq!(e.status(), Some(status));
            assert!(e.is_refusal(), "{text}");
        }
        assert!(
            error(StatusCode::METHOD_NOT_ALLOWED, b"")
                .to_string()
                .contains("405 Method Not Allowed")
        );
        assert!(
            error(StatusCode::BAD_REQUEST, b"x")
                .to_string()
                .contains("malformed (400")
        );
    }

    #[test]
    fn server_text_is_shortened_and_its_control_characters_escaped() {
        let body = "\x1b[2J\x1b]0;pwned\x07 \u{9b}31m \u{202e}evil";
        let e = error(StatusCode::NOT_FOUND, body.as_bytes());
        let text = e.to_string();
        assert!(text.contains(r"\x1b[2J"), "{text}");
        assert!(text.contains(r"\u{202e}evil"), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{text:?}"
        );
        let json = r#"{"reason":"bad\u001b[31m","traceId":"t\u0007","invalid":[{"paramName":"x\u001b","paramValue":"1","dataType":"NUMBER"}],"notFound":["y\u009b"]}"#;
        let e = error(StatusCode::UNPROCESSABLE_ENTITY, json.as_bytes());
        let text = e.to_string();
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert!(
            text.contains(r"bad\x1b[31m") && text.contains(r"x\x1b"),
            "{text}"
        );
        let long = "x".repeat(10_000);
        let e = error(StatusCode::NOT_FOUND, long.as_bytes());
        assert!(e.to_string().len() < 500, "{e}");
        assert_eq!(clean("ab", 1), "a…");
        assert_eq!(clean("line\nnext", 20), r"line\nnext");
    }

    #[test]
    fn retry_after_is_read_capped_and_absurd_values_are_named() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "12".parse().unwrap());
        let e = http_error(
            Operation::ListProjects,
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            b"",
        );
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(12)));
        assert!(!e.asked_absurd_wait());
        assert!(e.to_string().contains("Hex asked to wait 12s"), "{e}");
        h.insert(RETRY_AFTER, "1e30".parse().unwrap());
        let e = http_error(
            Operation::ListProjects,
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            b"",
        );
        assert_eq!(e.retry_after(), Some(super::super::budget::MAX_PAUSE));
        assert!(e.asked_absurd_wait());
        let text = e.to_string();
        assert!(
            text.contains("absurd wait (Retry-After: 1e30)") && text.contains("at most 5 min"),
            "{text}"
        );
    }
}
