//! `hexdash runs` without a project: the workspace's active runs, whoever started them — Hex's
//! schedules, app refreshes, Airflow, a colleague's script, or hexdash — like `kubectl get pods
//! -A`, oldest first (the likeliest to be stuck at the top).
//!
//! Hex has no workspace-wide runs endpoint, so this asks every published, live project for its
//! newest runs, all triggers (one GetProjectRuns each, a few at a time, within the request
//! budget shared with every other hexdash of the token), and keeps the active ones. What the
//! store knows about a run (who launched it here) names its origin; otherwise its trigger does.
//! A project that could not be asked is named on stderr and makes the exit code 5, after
//! everything that was found is printed.

use std::collections::HashMap;

use futures::StreamExt;
use serde::Serialize;

use crate::hex::RunStatus;
use crate::hex::types::{Project, ProjectRunsQuery, RunStatusResponse};
use crate::journal::{Journal, JournalState, Launcher, RunRecord};

use super::context::Context;
use super::exit::{Exit, Failure};
use super::output::{duration_ms, opt_time, print_table};

/// Runs asked of each project: a run still active after this many newer ones of its project is
/// not found (a project that busy is rare; the dashboard's discovery pages further).
const NEWEST_PER_PROJECT: u32 = 100;

/// Projects asked at once; the shared budget paces them in any case.
const AT_ONCE: usize = 4;

/// Past this many projects the sweep says on stderr what it costs, since it may take a while.
const SAY_COST_FROM: usize = 10;

/// One run found, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundRun {
    pub project_title: String,
    /// `cli`, `tui` or `pipeline` when a hexdash launched it; else from Hex's trigger:
    /// `schedule`, `app refresh`, `api` (another API client), or `unknown`.
    pub started_by: String,
    /// The hexdash process that launched it, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launched_by: Option<Launcher>,
    /// Hex's run status object, as Hex sent it.
    pub run: RunStatusResponse,
}

/// Who started a run: the launch recorded in the store wins over Hex's trigger.
pub fn started_by(record: Option<&RunRecord>, trigger: Option<&str>) -> String {
    if let Some(intent) = record.and_then(|r| r.intent.as_ref()) {
        return intent.origin.word().to_string();
    }
    match trigger {
        Some("SCHEDULED") => "schedule",
        Some("APP_REFRESH") => "app refresh",
        Some("API") => "api",
        _ => "unknown",
    }
    .to_string()
}

pub async fn workspace_runs(
    ctx: &Context,
    trigger: &str,
    status: Option<RunStatus>,
    json: bool,
) -> Result<Exit, Failure> {
    let projects: Vec<Project> = ctx
        .project_list()
        .get()
        .await?
        .into_iter()
        .filter(|p| p.is_published() && p.archived_at.is_none() && p.trashed_at.is_none())
        .collect();
    if projects.len() >= SAY_COST_FROM {
        crate::errln!(
            "hexdash: asking Hex for the runs of {} projects (one request each, within the \
             budget of 60 a minute shared by every hexdash on this token)",
            projects.len()
        );
    }
    let query = ProjectRunsQuery {
        limit: Some(NEWEST_PER_PROJECT),
        status_filter: status.clone(),
        run_trigger_filter: Some(trigger.to_string()),
        ..ProjectRunsQuery::default()
    };
    let client = &ctx.client;
    let answers: Vec<_> = futures::stream::iter(projects.iter())
        .map(|p| {
            let query = &query;
            async move { (p, client.get_project_runs(&p.id, query).await) }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let mut found = Vec::new();
    let mut failed = Vec::new();
    for (project, answer) in answers {
        match answer {
            Ok(page) => found.extend(
                page.runs
                    .into_iter()
                    .filter(|r| match &status {
                        Some(wanted) => &r.status == wanted,
                        None => r.status.is_active(),
                    })
                    .map(|r| (project.title.clone(), r)),
            ),
            Err(e) => failed.push((project.title.clone(), e)),
        }
    }
    // Oldest first: the run that has been going longest is the one to look at; runs still
    // PENDING (no start yet) last. Ties by project, so the order does not depend on which
    // answer came back first.
    found.sort_by(|(ta, a), (tb, b)| {
        (a.start_time.is_none(), a.start_time, ta).cmp(&(b.start_time.is_none(), b.start_time, tb))
    });
    let known = known_runs(ctx, &found);
    let found: Vec<FoundRun> = found
        .into_iter()
        .map(|(title, run)| {
            let record = known.get(&(run.project_id.clone(), run.run_id.clone()));
            FoundRun {
                project_title: title,
                started_by: started_by(record, run.run_trigger.as_deref()),
                launched_by: record
                    .and_then(|r| r.intent.as_ref())
                    .and_then(|i| i.launched_by.clone()),
                run,
            }
        })
        .collect();
    if json {
        super::print_json(&found)?;
    } else if found.is_empty() {
        let what = status.as_ref().map_or("active", RunStatus::as_str);
        crate::outln!(
            "no {what} runs in {} published projects{}",
            projects.len(),
            if trigger == "ALL" {
                String::new()
            } else {
                format!(" (trigger {trigger})")
            }
        );
    } else {
        print_found(&found)?;
    }
    for (title, e) in &failed {
        crate::errln!("hexdash: could not list the runs of {title:?}: {e}");
    }
    match failed.first() {
        Some((_, e)) => Err(Failure::api(format!(
            "{} of {} projects could not be asked; the list above lacks their runs ({e})",
            failed.len(),
            projects.len()
        ))),
        None => Ok(Exit::Completed),
    }
}

fn print_found(found: &[FoundRun]) -> Result<(), Failure> {
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|f| {
            vec![
                f.project_title.clone(),
                f.run.run_id.clone(),
                f.run.status.to_string(),
                f.started_by.clone(),
                opt_time(&f.run.start_time),
                f.run
                    .elapsed_time
                    .map(duration_ms)
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        &[
            "PROJECT",
            "RUN",
            "STATUS",
            "STARTED BY",
            "STARTED",
            "ELAPSED",
        ],
        &rows,
    )
    .map_err(|e| Failure::local(format!("cannot write output: {e}")))
}

/// What the store knows of these runs (those a hexdash launched or watched), by project and run
/// id. A store that is missing or cannot be read knows nothing: the trigger names the origin.
pub fn known_runs(
    ctx: &Context,
    runs: &[(String, RunStatusResponse)],
) -> HashMap<(String, String), RunRecord> {
    let path = ctx.paths.store_file();
    if runs.is_empty() || !path.exists() {
        return HashMap::new();
    }
    let journal = match Journal::attach(&path) {
        Ok((journal, _)) => journal,
        Err(e) => {
            tracing::warn!("cannot read the store for the runs' origins: {e}");
            return HashMap::new();
        }
    };
    let mut book = JournalState::default();
    let mut known = HashMap::new();
    for (_, run) in runs {
        match journal.look_up(&mut book, &run.project_id, &run.run_id) {
            Ok(true) => {
                if let Some(record) = book.take_run(&run.project_id, &run.run_id) {
                    known.insert((run.project_id.clone(), run.run_id.clone()), record);
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!("cannot read the store for the runs' origins: {e}");
                break;
            }
        }
    }
    known
}
