//! The Hex API as the emulator serves it: the six operations of HEX_API.md under `/api/v1`, in
//! the plural spelling and the legacy singular one.
//!
//! Owns each operation's query parsing, status codes and bodies. Auth, limits, faults and the
//! request log are the `pipeline`'s; run behaviour is `state`'s. This module maps outcomes to
//! HTTP and must not keep state of its own.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::app::{App, Inner};
use super::pipeline::{Ctx, Reply, incoming, json_response, pipeline};
use super::state::{CancelError, LaunchError};
use crate::hex::types::{
    ApiErrorBody, Pagination, Project, ProjectRunsResponse, ProjectVersion, ProjectsPage,
    RunProjectRequest, RunProjectResponse,
};
use crate::hex::{Operation, RunStatus};

type AppState = State<Arc<App>>;

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/v1/projects", get(list_projects))
        .route("/api/v1/projects/{project_id}", get(get_project))
        .route(
            "/api/v1/projects/{project_id}/runs",
            get(get_project_runs).post(run_project),
        )
        .route(
            "/api/v1/projects/{project_id}/runs/{run_id}",
            get(get_run_status).delete(cancel_run),
        )
        // Legacy singular spelling, still called by Hex's Airflow and Dagster integrations.
        .route(
            "/api/v1/project/{project_id}/run",
            axum::routing::post(run_project),
        )
        .route(
            "/api/v1/project/{project_id}/run/{run_id}",
            get(get_run_status).delete(cancel_run),
        )
        .route("/api/v1/project/{project_id}/runs", get(get_project_runs))
        .with_state(app)
}

fn project_not_found(id: &str, ctx: &Ctx) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        "Project not found",
        Some(format!("no project with id {id} is visible to this token")),
        ctx,
    )
}

// ----- ListProjects -------------------------------------------------------------------------------

fn encode_cursor(index: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("projects:{index}"))
}

fn decode_cursor(raw: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("projects:")?
        .parse()
        .ok()
}

async fn list_projects(
    State(app): AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    pipeline(
        &app,
        Operation::ListProjects,
        incoming(method, uri, headers),
        |inner, ctx| list_projects_op(inner, ctx).unwrap_or_else(|m| Reply::bad_request(m, ctx)),
    )
    .await
}

fn list_projects_op(inner: &Inner, ctx: &Ctx) -> Result<Reply, String> {
    let limit = ctx.limit()?;
    let archived = ctx.flag("includeArchived")?;
    let trashed = ctx.flag("includeTrashed")?;
    let sharing = ctx.flag("includeSharing")?;
    let components = ctx.flag("includeComponents")?;
    let statuses: Vec<&str> = ctx.params("statuses").collect();
    let categories: Vec<&str> = ctx.params("categories").collect();
    let owner = ctx.param("ownerEmail");
    let creator = ctx.param("creatorEmail");
    let mut projects: Vec<_> = inner
        .workspace
        .projects_at(ctx.now)
        .into_iter()
        .filter(|p| archived || p.archived_at.is_none())
        .filter(|p| trashed || p.trashed_at.is_none())
        .filter(|p| components || p.kind != "COMPONENT")
        .filter(|p| {
            statuses.is_empty()
                || p.status
                    .as_ref()
                    .is_some_and(|s| statuses.iter().any(|x| x.eq_ignore_ascii_case(&s.name)))
        })
        .filter(|p| {
            categories.is_empty()
                || p.categories
                    .iter()
                    .any(|c| categories.iter().any(|x| x.eq_ignore_ascii_case(&c.name)))
        })
        .filter(|p| {
            owner.is_none_or(|o| {
                p.owner
                    .as_ref()
                    .is_some_and(|x| x.email.eq_ignore_ascii_case(o))
            })
        })
        .filter(|p| {
            creator.is_none_or(|o| {
                p.creator
                    .as_ref()
                    .is_some_and(|x| x.email.eq_ignore_ascii_case(o))
            })
        })
        .collect();
    sort_projects(&mut projects, ctx)?;
    let total = projects.len();
    let (start, end) = page_window(ctx, total, limit)?;
    let mut values: Vec<_> = projects.get(start..end).unwrap_or_default().to_vec();
    if sharing {
        for p in &mut values {
            p.sharing = Some(sharing_of(p));
        }
    }
    let page = ProjectsPage {
        values,
        pagination: Pagination {
            after: (end < total).then(|| encode_cursor(end)),
            before: (start > 0).then(|| encode_cursor(start)),
        },
    };
    Ok(Reply::json(StatusCode::OK, &page))
}

/// `sortBy` and `sortDirection`: without sortBy the scenario's order is kept.
fn sort_projects(projects: &mut [Project], ctx: &Ctx) -> Result<(), String> {
    let ascending = match ctx.param("sortDirection") {
        None | Some("DESC") => false,
        Some("ASC") => true,
        Some(other) => {
            return Err(format!(
                "sortDirection={other:?} is invalid; use ASC or DESC"
            ));
        }
    };
    type SortKey = fn(&Project) -> Option<Timestamp>;
    let key: Option<SortKey> = match ctx.param("sortBy") {
        None => None,
        Some("CREATED_AT") => Some(|p| p.created_at),
        Some("LAST_EDITED_AT") => Some(|p| p.last_edited_at),
        Some("LAST_PUBLISHED_AT") => Some(|p| p.last_published_at),
        Some(other) => {
            return Err(format!(
                "sortBy={other:?} is invalid; use CREATED_AT, LAST_EDITED_AT or LAST_PUBLISHED_AT"
            ));
        }
    };
    // Without sortBy the scenario's order is kept, so a demo lists projects as written.
    if let Some(key) = key {
        projects.sort_by_key(key);
        if !ascending {
            projects.reverse();
        }
    }
    Ok(())
}

/// The indices of the page `after` or `before` asks for (the first page without either).
fn page_window(ctx: &Ctx, total: usize, limit: usize) -> Result<(usize, usize), String> {
    let window = match (ctx.param("after"), ctx.param("before")) {
        (Some(after), _) => {
            let start = decode_cursor(after)
                .filter(|i| *i <= total)
                .ok_or_else(|| format!("after={after:?} is not a cursor this server issued"))?;
            (start, (start + limit).min(total))
        }
        (None, Some(before)) => {
            let end = decode_cursor(before)
                .filter(|i| *i <= total)
                .ok_or_else(|| format!("before={before:?} is not a cursor this server issued"))?;
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(total)),
    };
    Ok(window)
}

/// A plausible `sharing` object (only sent when asked): the owner can edit, the workspace can view.
fn sharing_of(p: &Project) -> Value {
    let owner = p
        .owner
        .as_ref()
        .map(|o| o.email.clone())
        .unwrap_or_default();
    json!({
        "users": [{"user": {"email": owner}, "access": "FULL_ACCESS"}],
        "collections": [],
        "groups": [],
        "workspace": {"access": "CAN_VIEW"},
        "publicWeb": {"access": "NONE"},
        "support": {"access": "NONE"}
    })
}

// ----- GetProject ---------------------------------------------------------------------------------

async fn get_project(
    State(app): AppState,
    Path(project_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    pipeline(
        &app,
        Operation::GetProject,
        incoming(method, uri, headers),
        |inner, ctx| {
            let Some(mut project) = inner.workspace.project_at(&project_id, ctx.now) else {
                return project_not_found(&project_id, ctx);
            };
            match ctx.flag("includeSharing") {
                Ok(true) => project.sharing = Some(sharing_of(&project)),
                Ok(false) => {}
                Err(m) => return Reply::bad_request(m, ctx),
            }
            Reply::json(StatusCode::OK, &project)
        },
    )
    .await
}

// ----- RunProject ---------------------------------------------------------------------------------

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

async fn run_project(
    State(app): AppState,
    Path(project_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let app2 = Arc::clone(&app);
    pipeline(&app, Operation::RunProject, incoming(method, uri, headers), move |inner, ctx| {
        // The body is optional (HEX_API.md); an empty one means "all defaults".
        let request = if body.iter().all(u8::is_ascii_whitespace) {
            RunProjectRequest::default()
        } else {
            // Hex's schema wants an object. serde alone would also take `[]` (a struct may be
            // read from a sequence) and launch with every default. Read from the bytes, not a
            // `Value`, so a duplicate key stays an error rather than the last one winning.
            let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
            let object = if first == Some(b'{') {
                serde_json::from_slice::<RunProjectRequest>(&body)
            } else {
                let kind = serde_json::from_slice::<serde_json::Value>(&body)
                    .map_or("not JSON", |v| json_kind(&v));
                Err(serde::de::Error::custom(format!(
                    "the body must be a JSON object, got {kind}"
                )))
            };
            match object {
                Ok(r) => r,
                Err(e) => {
                    return Reply::error(
                        StatusCode::BAD_REQUEST,
                        "Invalid request body",
                        Some(e.to_string()),
                        ctx,
                    );
                }
            }
        };
        match inner.workspace.launch(&project_id, &request, ctx.now) {
            Ok(launched) => Reply::json(
                StatusCode::CREATED,
                &RunProjectResponse {
                    project_id: project_id.clone(),
                    run_id: launched.run_id.clone(),
                    run_url: Some(app2.run_url(&project_id, &launched.run_id)),
                    run_status_url: Some(format!(
                        "{}/api/v1/projects/{project_id}/runs/{}",
                        ctx.root, launched.run_id
                    )),
                    trace_id: Some(ctx.trace_id.clone()),
                    project_version: Some(ProjectVersion::Number(launched.project_version)),
                    notifications: None,
                },
            ),
            Err(LaunchError::ProjectNotFound) => project_not_found(&project_id, ctx),
            Err(LaunchError::NotPublished) => Reply::error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Project not published",
                Some("publish the project's app in Hex before running it through the API".into()),
                ctx,
            ),
            Err(LaunchError::ViewWithParams) => Reply::bad_request(
                "viewId cannot be combined with inputParams; send one or the other".into(),
                ctx,
            ),
            Err(LaunchError::InvalidParams(invalid)) => Reply::json(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ApiErrorBody {
                    reason: Some("Invalid input parameters".into()),
                    details: None,
                    trace_id: Some(ctx.trace_id.clone()),
                    invalid: Some(invalid),
                    not_found: Some(Vec::new()),
                },
            ),
            Err(LaunchError::KernelLimit { active, max }) => Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Kernel limit reached",
                Some(format!(
                    "{active} of {max} kernels are in use; no run was created. Wait for a run to \
                     finish or cancel one"
                )),
                ctx,
            ),
        }
    })
    .await
}

// ----- GetRunStatus -------------------------------------------------------------------------------

async fn get_run_status(
    State(app): AppState,
    Path((project_id, run_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let app2 = Arc::clone(&app);
    pipeline(
        &app,
        Operation::GetRunStatus,
        incoming(method, uri, headers),
        move |inner, ctx| {
            if inner.workspace.project(&project_id).is_none() {
                return project_not_found(&project_id, ctx);
            }
            match inner.workspace.run(&project_id, &run_id) {
                Some(run) => Reply::json(
                    StatusCode::OK,
                    &run.to_wire(ctx.now, app2.run_url(&project_id, &run_id), &ctx.trace_id),
                ),
                None => run_not_found(&project_id, &run_id, ctx),
            }
        },
    )
    .await
}

fn run_not_found(project_id: &str, run_id: &str, ctx: &Ctx) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        "Run not found",
        Some(format!("project {project_id} has no run {run_id}")),
        ctx,
    )
}

// ----- GetProjectRuns -----------------------------------------------------------------------------

async fn get_project_runs(
    State(app): AppState,
    Path(project_id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let app2 = Arc::clone(&app);
    pipeline(
        &app,
        Operation::GetProjectRuns,
        incoming(method, uri, headers),
        move |inner, ctx| {
            if inner.workspace.project(&project_id).is_none() {
                return project_not_found(&project_id, ctx);
            }
            project_runs_op(&app2, inner, ctx, &project_id)
                .unwrap_or_else(|m| Reply::bad_request(m, ctx))
        },
    )
    .await
}

fn project_runs_op(app: &App, inner: &Inner, ctx: &Ctx, project_id: &str) -> Result<Reply, String> {
    let limit = ctx.limit()?;
    let offset = match ctx.param("offset") {
        None => 0,
        Some(raw) => raw
            .parse::<usize>()
            .map_err(|_| format!("offset={raw:?} is invalid; use an integer of 0 or more"))?,
    };
    let status = match ctx.param("statusFilter") {
        None => None,
        Some(raw) => Some(RunStatus::parse_known(raw).ok_or_else(|| {
            format!(
                "statusFilter={raw:?} is not a run status; use one of {}",
                RunStatus::KNOWN.map(|s| s.to_string()).join(", ")
            )
        })?),
    };
    // Older docs say only API-triggered runs are listed; that stays the default (HEX_API.md).
    let trigger = match ctx.param("runTriggerFilter") {
        None => Some("API"),
        Some("ALL") => None,
        Some(t @ ("API" | "SCHEDULED" | "APP_REFRESH")) => Some(t),
        Some(other) => {
            return Err(format!(
                "runTriggerFilter={other:?} is invalid; use API, SCHEDULED, APP_REFRESH or ALL"
            ));
        }
    };
    let mut runs: Vec<_> = inner
        .workspace
        .runs()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.project_id == project_id)
        .filter(|(_, r)| trigger.is_none_or(|t| r.trigger == t))
        .filter(|(_, r)| status.as_ref().is_none_or(|s| r.status_at(ctx.now) == *s))
        .collect();
    // Newest first; creation order breaks ties between runs created at the same instant.
    runs.sort_by(|(ia, a), (ib, b)| b.created_at.cmp(&a.created_at).then(ib.cmp(ia)));
    let total = runs.len();
    let page: Vec<_> = runs
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, r)| r.to_wire(ctx.now, app.run_url(project_id, &r.run_id), &ctx.trace_id))
        .collect();
    let link = |offset: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("limit", &limit.to_string());
        q.append_pair("offset", &offset.to_string());
        if let Some(s) = ctx.param("statusFilter") {
            q.append_pair("statusFilter", s);
        }
        if let Some(t) = ctx.param("runTriggerFilter") {
            q.append_pair("runTriggerFilter", t);
        }
        format!("{}{}?{}", ctx.root, ctx.path, q.finish())
    };
    let body = ProjectRunsResponse {
        runs: page,
        next_page: (offset + limit < total).then(|| link(offset + limit)),
        previous_page: (offset > 0).then(|| link(offset.saturating_sub(limit))),
        trace_id: Some(ctx.trace_id.clone()),
    };
    Ok(Reply::json(StatusCode::OK, &body))
}

// ----- CancelRun ----------------------------------------------------------------------------------

async fn cancel_run(
    State(app): AppState,
    Path((project_id, run_id)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    pipeline(
        &app,
        Operation::CancelRun,
        incoming(method, uri, headers),
        move |inner, ctx| {
            if inner.workspace.project(&project_id).is_none() {
                return project_not_found(&project_id, ctx);
            }
            match inner.workspace.cancel(&project_id, &run_id, ctx.now) {
                // HEX_API.md: 204 with an empty body.
                Ok(()) => Reply {
                    status: StatusCode::NO_CONTENT,
                    body: None,
                },
                Err(CancelError::NotFound) => run_not_found(&project_id, &run_id, ctx),
                // Undocumented on Hex's side; HEX_API.md's decision is 422 with a reason.
                Err(CancelError::AlreadyEnded(status)) => Reply::error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Run already ended",
                    Some(format!(
                        "run {run_id} ended with status {status}; nothing to cancel"
                    )),
                    ctx,
                ),
            }
        },
    )
    .await
}

/// Any other path: a JSON 404 that names what was asked for.
pub(crate) async fn fallback(method: Method, uri: Uri) -> Response {
    let body = ApiErrorBody {
        reason: Some("Not found".into()),
        details: Some(format!("no such endpoint: {method} {}", uri.path())),
        trace_id: Some(uuid::Uuid::new_v4().to_string()),
        invalid: None,
        not_found: None,
    };
    json_response(
        StatusCode::NOT_FOUND,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        assert_eq!(decode_cursor(&encode_cursor(25)), Some(25));
        assert_eq!(decode_cursor("bm9wZQ"), None);
        assert_eq!(decode_cursor("!!"), None);
    }
}
