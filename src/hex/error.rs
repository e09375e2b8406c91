//! What can go wrong talking to Hex, as types a caller can react to (re-auth, back off, re-attach).
//!
//! Every message says what happened and what the operator can do, keeps Hex's `traceId` when there
//! was one (support asks for it), and never contains the API token: nothing here ever sees it.

use std::time::Duration;

use super::budget::MAX_PAUSE;
use super::types::{InvalidParam, Operation};

fn trace(trace_id: &Option<String>) -> String {
    match trace_id {
        Some(t) => format!(" [trace id {t}]"),
        None => String::new(),
    }
}

fn asked_wait(retry_after: &Option<Duration>, absurd: &Option<String>) -> String {
    match (retry_after, absurd) {
        (_, Some(raw)) => format!(
            "; the server asked for an absurd wait (Retry-After: {raw}), so hexdash holds its \
             requests for at most {} min instead. If this persists, check that the base URL \
             points at Hex",
            MAX_PAUSE.as_secs() / 60
        ),
        (Some(d), None) => format!(
            "; Hex asked to wait {}s. hexdash waits and retries; if this persists, other clients \
             share this token's budget",
            d.as_secs().max(1)
        ),
        (None, None) => ". hexdash waits and retries; if this persists, other clients share this \
                         token's budget"
            .to_string(),
    }
}

/// `4 MiB`, for the body cap.
fn size(bytes: &usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The status with its standard name when it has one: `405 Method Not Allowed`.
fn named(status: &u16) -> String {
    match reqwest::StatusCode::from_u16(*status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(reason) => format!("{status} {reason}"),
        None => status.to_string(),
    }
}

fn invalid_list(invalid: &[InvalidParam], not_found: &[String]) -> String {
    let mut parts: Vec<String> = invalid
        .iter()
        .map(|p| {
            let ty = p.data_type.as_deref().unwrap_or("?");
            match &p.param_value {
                Some(v) => format!("{} = {v} is not a valid {ty}", p.param_name),
                None => format!("{} is not a valid {ty}", p.param_name),
            }
        })
        .collect();
    if !not_found.is_empty() {
        parts.push(format!("unknown parameters: {}", not_found.join(", ")));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

/// An error from the Hex API client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error(
        "{op}: Hex rejected the API token (401: {message}). Check HEX_API_TOKEN or the profile's \
         token_file; personal tokens start hxtp_, workspace tokens hxtw_{}",
        trace(trace_id)
    )]
    Unauthorized {
        op: Operation,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: access denied (403: {message}). The token lacks access to this project or the \
         scope for this call (workspace tokens need the run-projects scope to launch){}",
        trace(trace_id)
    )]
    Forbidden {
        op: Operation,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: not found (404: {message}). Check the project or run id, and that the token can \
         see it{}",
        trace(trace_id)
    )]
    NotFound {
        op: Operation,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: Hex refused the request as malformed (400: {message}){}",
        trace(trace_id)
    )]
    BadRequest {
        op: Operation,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: Hex could not process the request (422: {message}){}{}",
        invalid_list(invalid, not_found),
        trace(trace_id)
    )]
    Unprocessable {
        op: Operation,
        message: String,
        invalid: Vec<InvalidParam>,
        not_found: Vec<String>,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: rate limited by Hex (429){}{}",
        asked_wait(retry_after, absurd),
        trace(trace_id)
    )]
    RateLimited {
        op: Operation,
        /// The pause to honour: Retry-After, capped at [`MAX_PAUSE`].
        retry_after: Option<Duration>,
        /// Retry-After as sent, when it asked for more than [`MAX_PAUSE`]. A request that gets
        /// such an answer is not retried by the client: waiting the cap out would not satisfy
        /// a server that means hours, and a person should hear of it now.
        absurd: Option<String>,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: the request was too large for the server (413: {message}); send fewer or smaller \
         input parameters{}",
        trace(trace_id)
    )]
    RequestTooLarge {
        op: Operation,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: Hex refused the request with HTTP {} ({message}), a status its API does not \
         document for this call; check the base URL and hexdash's version{}",
        named(status),
        trace(trace_id)
    )]
    UnexpectedStatus {
        op: Operation,
        status: u16,
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: the server answered {}, redirecting to {location}; hexdash never follows \
         redirects (a request and its token stay with the base URL). If Hex moved, set the base \
         URL to the new address",
        named(status)
    )]
    Redirected {
        op: Operation,
        status: u16,
        /// The Location target, resolved against the request's URL and cleaned for printing.
        location: String,
    },
    #[error(
        "{op}: the answer ({}) is larger than the {} hexdash accepts from Hex, whose answers are \
         far smaller; check that the base URL points at Hex's API",
        named(status),
        size(limit)
    )]
    TooLarge {
        op: Operation,
        status: u16,
        limit: usize,
    },
    /// ListProjects kept handing out pages past what any workspace needs: each page is capped,
    /// but a server paging forever would still fill memory.
    #[error(
        "ListProjects: the project list passed {} over {pages} pages, far more than a workspace \
         has; stopped reading it. Check that the base URL points at Hex's API",
        size(limit)
    )]
    ListTooLarge { pages: usize, limit: usize },
    #[error(
        "RunProject: Hex could not start a kernel (503: {message}); no run was created. Too many \
         runs or sessions are open for this user (limit 25): wait for some to finish{}",
        trace(trace_id)
    )]
    KernelLimit {
        message: String,
        trace_id: Option<String>,
    },
    #[error(
        "{op}: Hex answered {status} ({message}); this is on Hex's side, try again{}",
        trace(trace_id)
    )]
    Server {
        op: Operation,
        status: u16,
        message: String,
        trace_id: Option<String>,
    },
    #[error("{op}: no answer from Hex within {}s; check the network or raise the timeout", timeout.as_secs())]
    Timeout { op: Operation, timeout: Duration },
    #[error("{op}: could not reach Hex ({detail}); check the base URL and the network")]
    Transport {
        op: Operation,
        detail: String,
        /// The connection was refused or never established, so the server saw nothing.
        refused: bool,
    },
    #[error(
        "{op}: Hex answered {status} with a body hexdash cannot read ({detail}): \"{excerpt}\"{}",
        trace(trace_id)
    )]
    Undecodable {
        op: Operation,
        status: u16,
        detail: String,
        excerpt: String,
        trace_id: Option<String>,
    },
    #[error(
        "launch outcome unknown: {cause}. The run may or may not have been created; hexdash \
         checks the project's recent runs before launching again"
    )]
    LaunchOutcomeUnknown { cause: Box<Error> },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl Error {
    /// Hex's trace id for this failure, when Hex sent one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Error::Unauthorized { trace_id, .. }
            | Error::Forbidden { trace_id, .. }
            | Error::NotFound { trace_id, .. }
            | Error::BadRequest { trace_id, .. }
            | Error::Unprocessable { trace_id, .. }
            | Error::RateLimited { trace_id, .. }
            | Error::KernelLimit { trace_id, .. }
            | Error::Server { trace_id, .. }
            | Error::RequestTooLarge { trace_id, .. }
            | Error::UnexpectedStatus { trace_id, .. }
            | Error::Undecodable { trace_id, .. } => trace_id.as_deref(),
            Error::LaunchOutcomeUnknown { cause } => cause.trace_id(),
            Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::Redirected { .. }
            | Error::TooLarge { .. }
            | Error::ListTooLarge { .. }
            | Error::Setup(_) => None,
        }
    }

    /// The HTTP status Hex answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::NotFound { .. } => Some(404),
            Error::BadRequest { .. } => Some(400),
            Error::Unprocessable { .. } => Some(422),
            Error::RateLimited { .. } => Some(429),
            Error::KernelLimit { .. } => Some(503),
            Error::RequestTooLarge { .. } => Some(413),
            Error::Server { status, .. }
            | Error::Undecodable { status, .. }
            | Error::UnexpectedStatus { status, .. }
            | Error::Redirected { status, .. }
            | Error::TooLarge { status, .. } => Some(*status),
            Error::LaunchOutcomeUnknown { cause } => cause.status(),
            Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::ListTooLarge { .. }
            | Error::Setup(_) => None,
        }
    }

    /// Worth retrying an idempotent request (GET, DELETE): the failure may be transient.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::KernelLimit { .. }
                | Error::Server { .. }
                | Error::Timeout { .. }
                | Error::Transport { .. }
        ) || matches!(self, Error::Undecodable { status, .. } if *status >= 500)
    }

    /// Hex certainly created nothing, so a RunProject may be re-sent (HEX_API.md: 429, 503, and a
    /// connection that was never established).
    pub fn nothing_was_created(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. }
                | Error::KernelLimit { .. }
                | Error::Transport { refused: true, .. }
        )
    }

    /// Hex understood the request and refused it: repeating the same request cannot help, and
    /// (for RunProject) nothing was created. A redirect or an oversized answer is no refusal:
    /// whatever answered may have acted on a launch first, so its outcome stays unknown.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Unauthorized { .. }
                | Error::Forbidden { .. }
                | Error::NotFound { .. }
                | Error::BadRequest { .. }
                | Error::Unprocessable { .. }
                | Error::RequestTooLarge { .. }
                | Error::UnexpectedStatus { .. }
                | Error::Setup(_)
        )
    }

    /// The server-requested pause (capped), for 429s.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A 429 whose Retry-After asked for more than hexdash ever waits at once.
    pub fn asked_absurd_wait(&self) -> bool {
        matches!(
            self,
            Error::RateLimited {
                absurd: Some(_),
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_fix_and_keep_the_trace_id() {
        let e = Error::Unauthorized {
            op: Operation::ListProjects,
            message: "Unauthorized".into(),
            trace_id: Some("abc".into()),
        };
        let msg = e.to_string();
        assert!(msg.contains("HEX_API_TOKEN"), "{msg}");
        assert!(msg.contains("[trace id abc]"), "{msg}");
        let e = Error::Unprocessable {
            op: Operation::RunProject,
            message: "Invalid input parameters".into(),
            invalid: vec![InvalidParam {
                param_name: "rows".into(),
                param_value: Some("\"ten\"".into()),
                data_type: Some("NUMBER".into()),
                input_cell_type: None,
            }],
            not_found: vec![],
            trace_id: None,
        };
        assert!(
            e.to_string()
                .contains("rows = \"ten\" is not a valid NUMBER"),
            "{e}"
        );
    }

    #[test]
    fn only_certain_failures_allow_resending_a_launch() {
        let refused = Error::Transport {
            op: Operation::RunProject,
            detail: "refused".into(),
            refused: true,
        };
        let reset = Error::Transport {
            op: Operation::RunProject,
            detail: "reset".into(),
            refused: false,
        };
        assert!(refused.nothing_was_created());
        assert!(!reset.nothing_was_created());
        assert!(
            !Error::Server {
                op: Operation::RunProject,
                status: 502,
                message: String::new(),
                trace_id: None
            }
            .nothing_was_created()
        );
    }
}
