//! `hexdash run PROJECT ...`: launch a run with checked parameters through the engine (journalled
//! intent, exactly once), optionally wait for its end.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::cli::RunArgs;
use crate::config::parse_duration;
use crate::engine::{DuplicatePolicy, LaunchError, LaunchRequest, Launched};
use crate::journal::{LaunchOptions, Origin};

use super::resolve::Resolved;
use super::view_json::ViewJson;
use super::{params, resolve, wait};
use crate::session::{Context, Exit, Failure};
use crate::time_text::duration_ms;

/// The `--json` result of `run`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RunReport<'a> {
    project_id: &'a str,
    project_title: Option<&'a str>,
    run_id: &'a str,
    run_url: Option<&'a str>,
    trace_id: Option<&'a str>,
    launch_id: &'a str,
    dry_run: bool,
    adopted: bool,
    input_params: &'a indexmap::IndexMap<String, serde_json::Value>,
    /// Active runs of the project with the same parameters when this one was launched.
    duplicates: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<ViewJson<'a>>,
    timed_out: bool,
    cancel_sent: bool,
    exit_code: u8,
}

pub async fn run(ctx: &Context, args: &RunArgs) -> Result<Exit, Failure> {
    if ctx.profile.read_only {
        return Err(Failure::usage(format!(
            "profile {:?} is read-only: launching is disabled (set read_only = false in the \
             config, or use another --profile)",
            ctx.profile.name
        )));
    }
    let timeout_secs = timeout_secs(args)?;
    let project = resolve::resolve(ctx, &args.project).await?;
    let label = project.title.clone().unwrap_or_else(|| project.id.clone());
    let specs = ctx
        .config
        .project(&project.id)
        .map(|p| p.params.as_slice())
        .unwrap_or_default();
    let input = params::build(&label, specs, &args.params, args.params_file.as_deref())?;
    let engine = ctx.engine()?;
    let request = launch_request(args, &project, &input, timeout_secs);
    let launched = engine.launch(request).await.map_err(launch_failure)?;
    tracing::info!(project = %project.id, run = %launched.key.run_id, adopted = launched.adopted, "launched");
    let mut progress = wait::Progress::new(label.clone(), !args.json);
    note_launch(&mut progress, &launched, &label);
    let outcome = if args.wait && !launched.dry_run {
        Some(wait::follow(&engine, &launched.key, &mut progress).await.ok_or_else(|| {
            Failure::api(format!(
                "lost track of run {} in this process; it is in the journal: follow it with \
                 hexdash watch",
                launched.key.run_id
            ))
        })?)
    } else {
        None
    };
    let exit = match &outcome {
        None => Exit::Completed,
        Some(o) if o.interrupted => Exit::Interrupted,
        Some(o) if o.timed_out => Exit::TimedOut,
        Some(o) => o.view.status.as_ref().map_or(Exit::Api, Exit::for_status),
    };
    if args.json {
        super::print_json(&RunReport {
            project_id: &project.id,
            project_title: project.title.as_deref(),
            run_id: &launched.key.run_id,
            run_url: launched.run_url.as_deref(),
            trace_id: launched.trace_id.as_deref(),
            launch_id: &launched.launch_id,
            dry_run: launched.dry_run,
            adopted: launched.adopted,
            input_params: &input,
            duplicates: launched
                .duplicates
                .iter()
                .map(|k| k.run_id.as_str())
                .collect(),
            run: outcome.as_ref().map(|o| ViewJson::new(&o.view)),
            timed_out: outcome.as_ref().is_some_and(|o| o.timed_out),
            cancel_sent: outcome.as_ref().is_some_and(|o| o.cancel_sent),
            exit_code: exit.code(),
        })?;
        return Ok(exit);
    }
    print_result(&label, &launched, outcome.as_ref());
    Ok(exit)
}

/// `--timeout`, in the whole seconds the engine counts.
fn timeout_secs(args: &RunArgs) -> Result<Option<u64>, Failure> {
    Ok(match &args.timeout {
        Some(t) => {
            let d =
                parse_duration(t).map_err(|e| Failure::usage(format!("--timeout {t:?}: {e}")))?;
            // The engine counts whole seconds; a sub-second timeout still gets one.
            Some(d.as_secs().max(1))
        }
        None => None,
    })
}

/// The launch the arguments ask for, with the parameters already checked.
fn launch_request(
    args: &RunArgs,
    project: &Resolved,
    input: &IndexMap<String, Value>,
    timeout_secs: Option<u64>,
) -> LaunchRequest {
    LaunchRequest {
        project_id: project.id.clone(),
        project_title: project.title.clone(),
        params: input.clone(),
        options: LaunchOptions {
            dry_run: args.dry_run,
            use_cached_sql_results: args.no_sql_cache.then_some(false),
            update_published_results: args.update_published.then_some(true),
            timeout_secs,
            kill_on_timeout: args.kill_on_timeout,
        },
        origin: Origin::Cli,
        duplicates: if args.no_duplicate {
            DuplicatePolicy::Refuse
        } else {
            DuplicatePolicy::Warn
        },
        focused: args.wait,
    }
}

/// Warns of same-parameter runs still active, and says when the run was found rather than
/// created.
fn note_launch(progress: &mut wait::Progress, launched: &Launched, label: &str) {
    if !launched.duplicates.is_empty() {
        let ids: Vec<&str> = launched.duplicates.iter().map(|k| k.short()).collect();
        progress.note(&format!(
            "warning: {} other run(s) of {label} with the same parameters still active: {} \
             (--no-duplicate refuses instead)",
            ids.len(),
            ids.join(", ")
        ));
    }
    if launched.adopted {
        progress.note(&format!(
            "Hex's answer to the launch was lost; found run {} in the project's runs and \
             adopted it (nothing was launched twice)",
            launched.key.run_id
        ));
    }
}

/// The text result: what was launched, or how the waited-for run ended; then its link.
fn print_result(label: &str, launched: &Launched, outcome: Option<&wait::Outcome>) {
    match outcome {
        None if launched.dry_run => crate::outln!("dry run of {label} accepted (nothing runs)"),
        None => crate::outln!("launched run {} of {label}", launched.key.run_id),
        Some(o) => {
            let elapsed = o.view.elapsed_ms.map_or_else(|| "-".into(), duration_ms);
            let status = o
                .view
                .status
                .as_ref()
                .map_or_else(|| "not yet seen".into(), ToString::to_string);
            let how = if o.timed_out && o.cancel_sent && !o.view.is_active() {
                format!("timed out and was cancelled: {status}")
            } else if o.timed_out {
                format!("timed out ({status} when last seen)")
            } else if o.interrupted {
                format!("still {status} (stopped waiting)")
            } else {
                status
            };
            crate::outln!(
                "run {} of {label}: {how} after {elapsed}",
                o.view.key.run_id
            );
        }
    }
    if let Some(url) = &launched.run_url {
        crate::outln!("{url}");
    }
}

/// Exit codes for launch failures: the caller's or this machine's to fix (4), or Hex's and the
/// network's (5).
fn launch_failure(e: LaunchError) -> Failure {
    match e {
        LaunchError::Hex(h) => h.into(),
        LaunchError::Duplicate { .. } => Failure::usage(e.to_string()),
        LaunchError::Journal(_) => Failure::local(e.to_string()),
        LaunchError::Unresolved { .. }
        | LaunchError::Unsettled { .. }
        | LaunchError::Ambiguous { .. } => Failure::api(e.to_string()),
    }
}
