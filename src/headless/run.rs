//! `hexdash run PROJECT ...`: launch a run with checked parameters, optionally wait for its end.

use std::time::Duration;

use serde::Serialize;

use crate::cli::RunArgs;
use crate::config::parse_duration;
use crate::hex::types::{RunProjectRequest, RunProjectResponse, RunStatusResponse};

use super::context::Context;
use super::exit::{Exit, Failure};
use super::output::duration_ms;
use super::{params, resolve, wait};

/// The `--json` result of `run`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RunReport<'a> {
    project_id: &'a str,
    project_title: Option<&'a str>,
    run_id: &'a str,
    run_url: Option<&'a str>,
    trace_id: Option<&'a str>,
    dry_run: bool,
    input_params: &'a indexmap::IndexMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<&'a RunStatusResponse>,
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
    let timeout: Option<Duration> = match &args.timeout {
        Some(t) => {
            Some(parse_duration(t).map_err(|e| Failure::usage(format!("--timeout {t:?}: {e}")))?)
        }
        None => None,
    };
    let project = resolve::resolve(ctx, &args.project).await?;
    let label = project.title.clone().unwrap_or_else(|| project.id.clone());
    let specs = ctx
        .config
        .project(&project.id)
        .map(|p| p.params.as_slice())
        .unwrap_or_default();
    let input = params::build(&label, specs, &args.params, args.params_file.as_deref())?;
    let body = RunProjectRequest {
        input_params: (!input.is_empty()).then(|| input.clone()),
        dry_run: args.dry_run.then_some(true),
        use_cached_sql_results: args.no_sql_cache.then_some(false),
        update_published_results: args.update_published.then_some(true),
        ..RunProjectRequest::default()
    };
    let launched: RunProjectResponse = ctx.client.run_project(&project.id, &body).await?;
    tracing::info!(project = %project.id, run = %launched.run_id, "launched");

    let mut progress = wait::Progress::new(label.clone(), !args.json);
    let outcome = if args.wait && !args.dry_run {
        Some(
            wait::follow(
                &ctx.client,
                &project.id,
                &launched.run_id,
                timeout,
                args.kill_on_timeout,
                &mut progress,
            )
            .await?,
        )
    } else {
        None
    };
    let exit = match &outcome {
        None => Exit::Completed,
        Some(o) if o.interrupted => Exit::Interrupted,
        Some(o) if o.timed_out => Exit::TimedOut,
        Some(o) => Exit::for_status(&o.last.status),
    };
    if args.json {
        super::print_json(&RunReport {
            project_id: &project.id,
            project_title: project.title.as_deref(),
            run_id: &launched.run_id,
            run_url: launched.run_url.as_deref(),
            trace_id: launched.trace_id.as_deref(),
            dry_run: args.dry_run,
            input_params: &input,
            run: outcome.as_ref().map(|o| &o.last),
            timed_out: outcome.as_ref().is_some_and(|o| o.timed_out),
            cancel_sent: outcome.as_ref().is_some_and(|o| o.cancel_sent),
            exit_code: exit.code(),
        })?;
        return Ok(exit);
    }
    match &outcome {
        None if args.dry_run => println!("dry run of {label} accepted (nothing runs)"),
        None => println!("launched run {} of {label}", launched.run_id),
        Some(o) => {
            let elapsed = o
                .last
                .elapsed_time
                .map(duration_ms)
                .unwrap_or_else(|| "-".into());
            let how = if o.timed_out {
                format!("timed out ({} when last seen)", o.last.status)
            } else {
                o.last.status.to_string()
            };
            println!("run {} of {label}: {how} after {elapsed}", o.last.run_id);
        }
    }
    if let Some(url) = &launched.run_url {
        println!("{url}");
    }
    Ok(exit)
}
