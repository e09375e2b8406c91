//! `hexdash runs` without a project: the workspace's active runs, whoever started them — Hex's
//! schedules, app refreshes, Airflow, a colleague's script, or hexdash — like `kubectl get pods
//! -A`, oldest first (the likeliest to be stuck at the top).
//!
//! Hex has no workspace-wide runs endpoint, so this asks every published, live project for its
//! newest runs, all triggers (one GetProjectRuns each, a few at a time, within the request
//! budget shared with every other hexdash of the token), and keeps the active ones. What the
//! store knows about a run (who launched it here) names its origin; otherwise its trigger does.
//! A project that could not be asked is named on stderr and makes the exit code 5, after
//! everything that was found is printed. A run is flagged overdue by the dashboard's rule, with
//! the project's usual time taken from the COMPLETED runs in the same answer (no extra request).

use std::collections::HashMap;

use futures::StreamExt;
use serde::Serialize;

use crate::engine::stats::{self, DurationStats, Overdue};
use crate::hex::types::{self, Project, ProjectRunsQuery, ProjectRunsResponse, RunStatusResponse};
use crate::hex::{Error as HexError, RunStatus};
use crate::journal::{Journal, JournalState, Launcher, RunRecord};

use super::output::{opt_time, print_table};
use crate::session::{Context, Exit, Failure};
use crate::time_text::duration_ms;

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
    /// Why it looks stuck: running well past its project's usual time (judged by the project's
    /// recent completed runs in the same answer), or PENDING too long since hexdash first saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<Overdue>,
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

/// What `hexdash runs` without a project was asked for.
#[derive(Debug, Clone)]
pub struct Ask {
    /// Hex's `runTriggerFilter` value.
    pub trigger: String,
    /// Only runs in this status; `None`: active runs.
    pub status: Option<RunStatus>,
    /// Only runs that look stuck.
    pub overdue_only: bool,
    pub json: bool,
}

pub async fn workspace_runs(ctx: &Context, ask: Ask) -> Result<Exit, Failure> {
    let Ask {
        trigger,
        status,
        overdue_only,
        json,
    } = ask;
    let trigger = trigger.as_str();
    let projects: Vec<Project> = ctx
        .project_list()
        .get()
        .await?
        .into_iter()
        .filter(Project::is_live)
        .collect();
    if projects.len() >= SAY_COST_FROM {
        crate::errln!(
            "hexdash: asking Hex for the runs of {} projects (one request each, within the \
             request budget shared by every hexdash on this token)",
            projects.len()
        );
    }
    let answers = ask_each(ctx, &projects, trigger).await;
    let Sweep {
        found,
        usual,
        failed,
        says_triggers,
    } = sweep(answers, status.as_ref());
    let found = found_runs(ctx, found, &usual, overdue_only);
    if json {
        super::print_json(&found)?;
    } else if found.is_empty() {
        let what = match (&status, overdue_only) {
            (_, true) => "overdue",
            (Some(s), false) => s.as_str(),
            (None, false) => "active",
        };
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
    if says_triggers == Some(false) && trigger != "API" {
        crate::errln!("hexdash: warning: {}", types::API_RUNS_ONLY);
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

/// Each project's newest runs of `trigger`, a few projects at a time, in the order they answer.
async fn ask_each<'p>(
    ctx: &Context,
    projects: &'p [Project],
    trigger: &str,
) -> Vec<(&'p Project, Result<ProjectRunsResponse, HexError>)> {
    // The status is filtered here, not by Hex: the same answer's COMPLETED runs give each
    // project's usual time, which the overdue flag needs.
    let query = ProjectRunsQuery {
        limit: Some(NEWEST_PER_PROJECT),
        run_trigger_filter: Some(trigger.to_string()),
        ..ProjectRunsQuery::default()
    };
    let client = &ctx.client;
    futures::stream::iter(projects.iter())
        .map(|p| {
            let query = &query;
            async move { (p, client.get_project_runs(&p.id, query).await) }
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await
}

/// What the projects' answers hold, folded.
struct Sweep {
    /// Runs in the wanted status, with their project's title.
    found: Vec<(String, RunStatusResponse)>,
    /// Each project's usual time, from its completed runs.
    usual: HashMap<String, DurationStats>,
    /// Projects that could not be asked, and why.
    failed: Vec<(String, HexError)>,
    /// Whether the listings say who started their runs (see `types::says_triggers`).
    says_triggers: Option<bool>,
}

/// Keeps the runs in `status` (`None`: active ones) and each project's usual time.
fn sweep(
    answers: Vec<(&Project, Result<ProjectRunsResponse, HexError>)>,
    status: Option<&RunStatus>,
) -> Sweep {
    let mut found = Vec::new();
    let mut usual: HashMap<String, DurationStats> = HashMap::new();
    let mut failed = Vec::new();
    let mut says_triggers = None;
    for (project, answer) in answers {
        match answer {
            Ok(page) => {
                says_triggers = types::says_triggers(says_triggers, &page.runs);
                if let Some(stats) = stats::from_listing(&page.runs) {
                    usual.insert(project.id.clone(), stats);
                }
                found.extend(
                    page.runs
                        .into_iter()
                        .filter(|r| match status {
                            Some(wanted) => &r.status == wanted,
                            None => r.status.is_active(),
                        })
                        .map(|r| (project.title.clone(), r)),
                );
            }
            Err(e) => failed.push((project.title.clone(), e)),
        }
    }
    Sweep {
        found,
        usual,
        failed,
        says_triggers,
    }
}

/// The runs found, oldest first, with who started them and whether they look stuck (with
/// `overdue_only`, only those).
fn found_runs(
    ctx: &Context,
    mut found: Vec<(String, RunStatusResponse)>,
    usual: &HashMap<String, DurationStats>,
    overdue_only: bool,
) -> Vec<FoundRun> {
    // Oldest first: the run that has been going longest is the one to look at; runs still
    // PENDING (no start yet) last. Ties by project, so the order does not depend on which
    // answer came back first.
    found.sort_by(|(ta, a), (tb, b)| {
        (a.start_time.is_none(), a.start_time, ta).cmp(&(b.start_time.is_none(), b.start_time, tb))
    });
    let known = known_runs(ctx, found.iter().map(|(_, run)| run));
    let now = jiff::Timestamp::now();
    found
        .into_iter()
        .map(|(title, run)| {
            let record = known.get(&(run.project_id.clone(), run.run_id.clone()));
            let overdue = judge(&run, record, usual.get(&run.project_id), now);
            FoundRun {
                project_title: title,
                started_by: started_by(record, run.run_trigger.as_deref()),
                launched_by: record
                    .and_then(|r| r.intent.as_ref())
                    .and_then(|i| i.launched_by.clone()),
                overdue,
                run,
            }
        })
        .filter(|f| !overdue_only || f.overdue.is_some())
        .collect()
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
                f.overdue.as_ref().map(short_why).unwrap_or_default(),
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
            "OVERDUE",
        ],
        &rows,
    )
    .map_err(|e| Failure::local(format!("cannot write output: {e}")))
}

/// Whether `run` looks stuck at `now`, by the dashboard's rule. Hex gives no creation time, so a
/// PENDING run's wait is known only from when a hexdash first saw it (`record`).
fn judge(
    run: &RunStatusResponse,
    record: Option<&RunRecord>,
    usual: Option<&DurationStats>,
    now: jiff::Timestamp,
) -> Option<Overdue> {
    if record.is_none() && run.status == RunStatus::Pending {
        return None;
    }
    stats::overdue(
        Some(&run.status),
        run.start_time,
        record.map_or(now, |r| r.first_at),
        usual,
        stats::PENDING_LIMIT,
        now,
    )
}

/// `running 45m (usually ≤ 12m)`, `pending 6m`.
fn short_why(o: &Overdue) -> String {
    let span = |d: &std::time::Duration| duration_ms(d.as_secs_f64() * 1000.0);
    match o {
        Overdue::PastUsual { running, p95 } => {
            format!("running {} (usually ≤ {})", span(running), span(p95))
        }
        Overdue::PendingTooLong { pending } => format!("pending {}", span(pending)),
    }
}

/// What the store knows of these runs (those a hexdash launched or watched), by project and run
/// id. A store that is missing or cannot be read knows nothing: the trigger names the origin.
pub fn known_runs<'a>(
    ctx: &Context,
    runs: impl ExactSizeIterator<Item = &'a RunStatusResponse>,
) -> HashMap<(String, String), RunRecord> {
    let path = ctx.paths.store_file();
    if runs.len() == 0 || !path.exists() {
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
    for run in runs {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{Envelope, Event, Origin};
    use jiff::{SignedDuration, Timestamp};

    fn at(minutes: i64) -> Timestamp {
        "2026-12-03T12:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .checked_add(SignedDuration::from_mins(minutes))
            .unwrap()
    }

    fn run(
        status: RunStatus,
        started: Option<i64>,
        elapsed_secs: Option<f64>,
    ) -> RunStatusResponse {
        serde_json::from_value(serde_json::json!({
            "projectId": "p",
            "runId": format!("r{}", fastrand::u32(..)),
            "status": status.as_str(),
            "startTime": started.map(|m| crate::hex::types::hex_time::format(&at(m))),
            "endTime": null,
            "elapsedTime": elapsed_secs.map(|s| s * 1000.0),
        }))
        .unwrap()
    }

    /// A record as the store holds a run a hexdash watched since `minutes`.
    fn seen_since(minutes: i64) -> RunRecord {
        let mut book = JournalState::default();
        book.apply(&Envelope {
            v: 1,
            seq: 1,
            at: at(minutes),
            event: Event::Watch {
                project_id: "p".into(),
                run_id: "r".into(),
                origin: Origin::Cli,
            },
        });
        book.take_run("p", "r").unwrap()
    }

    #[test]
    fn the_usual_time_comes_from_completed_runs_only() {
        let page = [
            run(RunStatus::Completed, Some(-100), Some(60.0)),
            run(RunStatus::Completed, Some(-90), Some(70.0)),
            run(RunStatus::Errored, Some(-80), Some(5.0)),
            run(RunStatus::Killed, Some(-70), Some(3000.0)),
        ];
        assert_eq!(
            stats::from_listing(&page),
            None,
            "two completed runs say too little"
        );
        let mut page = page.to_vec();
        page.push(run(RunStatus::Completed, Some(-60), Some(80.0)));
        let usual = stats::from_listing(&page).unwrap();
        assert_eq!(usual.count, 3);
        assert_eq!(usual.p95.as_secs(), 80);
        // Numbers no run takes are left out, not a panic.
        for absurd in [1e23, 1.5e22, f64::MAX, -5.0, f64::NAN, f64::INFINITY] {
            page.push(run(RunStatus::Completed, Some(-50), Some(absurd)));
        }
        assert_eq!(stats::from_listing(&page).unwrap().p95.as_secs(), 80);
    }

    #[test]
    fn a_run_far_past_its_usual_time_or_long_pending_is_overdue() {
        let page: Vec<_> = [60.0, 60.0, 60.0]
            .into_iter()
            .map(|s| run(RunStatus::Completed, Some(-100), Some(s)))
            .collect();
        let usual = stats::from_listing(&page);
        // Usually 60 s: past max(1.5 x 60 s, 60 s + 1 min) = 2 min it is overdue.
        let stuck = run(RunStatus::Running, Some(-10), None);
        let why = judge(&stuck, None, usual.as_ref(), at(0)).unwrap();
        assert_eq!(short_why(&why), "running 10m00s (usually ≤ 1m00s)");
        let fine = run(RunStatus::Running, Some(-1), None);
        assert_eq!(judge(&fine, None, usual.as_ref(), at(0)), None);
        // No history: nothing is called overdue while it runs.
        assert_eq!(judge(&stuck, None, None, at(0)), None);
        // PENDING: only a run a hexdash saw waiting has a known wait.
        let waiting = run(RunStatus::Pending, None, None);
        assert_eq!(judge(&waiting, None, usual.as_ref(), at(0)), None);
        let record = seen_since(-6);
        let why = judge(&waiting, Some(&record), usual.as_ref(), at(0)).unwrap();
        assert_eq!(short_why(&why), "pending 6m00s");
        let record = seen_since(-2);
        assert_eq!(judge(&waiting, Some(&record), usual.as_ref(), at(0)), None);
    }
}
