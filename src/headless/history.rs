//! `hexdash history [--project P] [--limit N] [--json]`: the store's history, newest first.
//!
//! Reads the journal without locking it (works while another hexdash writes) and without asking
//! Hex anything, so it answers offline. Shows runs (launched, adopted or watched) with their last
//! known status, and launches that created no run (refused, abandoned) or are still unresolved.
//! PROJECT matches a config alias or id, a project id, or a title recorded in the journal.

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::cli::HistoryArgs;
use crate::config::{Config, Paths};
use crate::engine::RunView;
use crate::journal::{self, JournalState, LaunchEnd};

use super::output::{local_time, print_table};
use super::resolve;
use super::view_json::ViewJson;
use crate::hex::short_id;
use crate::session::{Exit, Failure};
use crate::time_text::duration_ms;

/// One line of history.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    /// `run`, `launch_failed`, `abandoned` or `unresolved`.
    kind: &'static str,
    at: Timestamp,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    run: Option<ViewJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_title: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    launch_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_params: Option<&'a IndexMap<String, Value>>,
    /// Why a launch created no run.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

pub fn run(paths: &Paths, config: &Config, args: &HistoryArgs) -> Result<Exit, Failure> {
    let project = args
        .project
        .as_deref()
        .map(|q| ProjectFilter::new(config, q));
    let keep =
        |id: &str, title: Option<&str>| project.as_ref().is_none_or(|p| p.matches(id, title));
    // With a limit only the newest runs are read: years of history cost nothing here.
    let loaded = if args.limit > 0 {
        journal::load_recent(paths.store_file(), args.limit, &keep)
    } else {
        journal::load_state(paths.store_file())
    };
    let (state, warnings) =
        loaded.map_err(|e| Failure::local(format!("cannot read the journal: {e}")))?;
    for w in &warnings {
        crate::errln!("hexdash: warning: journal: {w}");
    }
    let views: Vec<RunView> = state.history().map(RunView::from).collect();
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for v in views
        .iter()
        .filter(|v| keep(&v.key.project_id, v.project_title.as_deref()))
    {
        entries.push(Entry {
            kind: "run",
            at: v.first_seen,
            run: Some(ViewJson::new(v)),
            project_id: None,
            project_title: None,
            launch_id: None,
            input_params: None,
            error: None,
        });
    }
    launch_entries(&state, &keep, &mut entries);
    // Newest first; a stable sort keeps the journal's order among equal times.
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    if args.limit > 0 {
        entries.truncate(args.limit);
    }
    if args.json {
        super::print_json(&entries)?;
        return Ok(Exit::Completed);
    }
    if entries.is_empty() {
        crate::errln!(
            "nothing in the journal{} yet ({})",
            args.project
                .as_deref()
                .map(|p| format!(" for {p:?}"))
                .unwrap_or_default(),
            paths.store_file().display()
        );
        return Ok(Exit::Completed);
    }
    let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
    print_table(
        &[
            "WHEN", "PROJECT", "RUN", "STATUS", "DURATION", "ORIGIN", "PARAMS",
        ],
        &rows,
    )
    .map_err(|e| Failure::local(format!("cannot write output: {e}")))?;
    Ok(Exit::Completed)
}

fn launch_entries<'a>(
    state: &'a JournalState,
    keep: &impl Fn(&str, Option<&str>) -> bool,
    entries: &mut Vec<Entry<'a>>,
) {
    for ended in state.ended_launches() {
        let title = ended
            .intent
            .as_ref()
            .and_then(|i| i.project_title.as_deref());
        if !keep(&ended.project_id, title) {
            continue;
        }
        let (kind, error) = match &ended.end {
            LaunchEnd::Failed { error } => ("launch_failed", error.as_str()),
            LaunchEnd::Abandoned { reason } => ("abandoned", reason.as_str()),
        };
        entries.push(Entry {
            kind,
            at: ended.at,
            run: None,
            project_id: Some(&ended.project_id),
            project_title: title,
            launch_id: Some(&ended.launch_id),
            input_params: ended.intent.as_ref().map(|i| &i.params),
            error: Some(error),
        });
    }
    for pending in state.pending_launches() {
        let title = pending
            .intent
            .as_ref()
            .and_then(|i| i.project_title.as_deref());
        if !keep(&pending.project_id, title) {
            continue;
        }
        entries.push(Entry {
            kind: "unresolved",
            at: pending.recorded_at,
            run: None,
            project_id: Some(&pending.project_id),
            project_title: title,
            launch_id: Some(&pending.launch_id),
            input_params: pending.intent.as_ref().map(|i| &i.params),
            error: pending.unknown_outcome.as_ref().map(|u| u.error.as_str()),
        });
    }
}

fn row(e: &Entry<'_>) -> Vec<String> {
    let params = |p: Option<&IndexMap<String, Value>>| {
        p.map(|p| {
            p.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
    };
    match &e.run {
        Some(r) => vec![
            local_time(&e.at),
            r.project_title.unwrap_or(r.project_id).to_string(),
            short_id(r.run_id).to_string(),
            r.status
                .map_or_else(|| "LAUNCHED".to_string(), ToString::to_string),
            r.elapsed_time.map_or_else(|| "-".into(), duration_ms),
            r.origin.unwrap_or("-").to_string(),
            params(r.input_params),
        ],
        None => vec![
            local_time(&e.at),
            e.project_title.or(e.project_id).unwrap_or("-").to_string(),
            "-".into(),
            match e.kind {
                "launch_failed" => "LAUNCH FAILED".into(),
                "abandoned" => "NOT CREATED".into(),
                _ => "UNRESOLVED".into(),
            },
            "-".into(),
            "-".into(),
            params(e.input_params),
        ],
    }
}

/// `--project` without asking Hex: a config alias or id, a full id, or a recorded title.
struct ProjectFilter {
    id: Option<String>,
    query: String,
}

impl ProjectFilter {
    fn new(config: &Config, query: &str) -> ProjectFilter {
        let id = resolve::match_config(config, query)
            .map(|r| r.id)
            .or_else(|| resolve::looks_like_id(query).then(|| query.trim().to_string()));
        ProjectFilter {
            id,
            query: query.trim().to_lowercase(),
        }
    }

    fn matches(&self, id: &str, title: Option<&str>) -> bool {
        match &self.id {
            Some(want) => want == id,
            None => title.is_some_and(|t| t.to_lowercase() == self.query),
        }
    }
}
