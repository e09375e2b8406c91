//! `hexdash status PROJECT RUN_ID` and `hexdash runs [PROJECT]`: what Hex says about runs (the
//! workspace-wide form is `workspace_runs`'s).

use crate::cli::{RunsArgs, StatusArgs};
use crate::hex::RunStatus;
use crate::hex::types::{ProjectRunsQuery, RUN_TRIGGERS, RunStatusResponse};

use super::output::{opt_time, print_table};
use super::{resolve, run_ref, workspace_runs};
use crate::session::{Context, Exit, Failure};
use crate::time_text::duration_ms;

pub async fn status(ctx: &Context, args: &StatusArgs) -> Result<Exit, Failure> {
    let project = resolve::resolve(ctx, &args.project).await?;
    let run_id = run_ref::resolve(ctx, &project.id, &args.run_id).await?;
    let run = ctx.client.get_run_status(&project.id, &run_id).await?;
    if args.json {
        super::print_json(&run)?;
    } else {
        print!(
            "{}",
            crate::safe_text::escape_block(&describe_run(&run, project.title.as_deref()))
        );
    }
    Ok(Exit::Completed)
}

/// A run as `key: value` lines.
pub fn describe_run(run: &RunStatusResponse, title: Option<&str>) -> String {
    let mut lines = vec![
        (
            "project",
            match title {
                Some(t) => format!("{t} ({})", run.project_id),
                None => run.project_id.clone(),
            },
        ),
        ("run", run.run_id.clone()),
        ("status", run.status.to_string()),
        ("started", opt_time(&run.start_time)),
        ("ended", opt_time(&run.end_time)),
        (
            "elapsed",
            run.elapsed_time
                .map(duration_ms)
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    if let Some(v) = &run.project_version {
        lines.push(("version", v.to_string()));
    }
    if let Some(t) = &run.run_trigger {
        lines.push(("trigger", t.clone()));
    }
    if let Some(u) = &run.run_url {
        lines.push(("url", u.clone()));
    }
    if let Some(t) = &run.trace_id {
        lines.push(("trace id", t.clone()));
    }
    lines
        .into_iter()
        .map(|(k, v)| format!("{:<9} {v}\n", format!("{k}:")))
        .collect()
}

pub async fn runs(ctx: &Context, args: &RunsArgs) -> Result<Exit, Failure> {
    let status_filter = match &args.status {
        Some(s) => Some(RunStatus::parse_known(s).ok_or_else(|| {
            Failure::usage(format!(
                "--status {s:?} is not a Hex run status; use one of {}",
                RunStatus::KNOWN
                    .iter()
                    .map(RunStatus::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?),
        None => None,
    };
    let trigger = args.trigger.trim().to_ascii_uppercase();
    if trigger != "ALL" && !RUN_TRIGGERS.contains(&trigger.as_str()) {
        return Err(Failure::usage(format!(
            "--trigger {:?} is not one of ALL, {}",
            crate::safe_text::one_line(&args.trigger, 40),
            RUN_TRIGGERS.join(", ")
        )));
    }
    let Some(project) = &args.project else {
        let ask = workspace_runs::Ask {
            trigger,
            status: status_filter,
            overdue_only: args.overdue,
            json: args.json,
        };
        return workspace_runs::workspace_runs(ctx, ask).await;
    };
    if args.overdue {
        return Err(Failure::usage(
            "--overdue lists the workspace's stuck runs; leave out PROJECT",
        ));
    }
    let project = resolve::resolve(ctx, project).await?;
    // Every trigger unless asked otherwise: Hex lists only API-launched runs by default, which
    // would hide the schedules' runs (HEX_API.md, GetProjectRuns).
    let query = ProjectRunsQuery {
        limit: Some(args.limit),
        status_filter,
        run_trigger_filter: Some(trigger),
        ..ProjectRunsQuery::default()
    };
    let page = ctx.client.get_project_runs(&project.id, &query).await?;
    if args.json {
        super::print_json(&page.runs)?;
        return Ok(Exit::Completed);
    }
    if page.runs.is_empty() {
        crate::outln!("no runs");
        return Ok(Exit::Completed);
    }
    let known = workspace_runs::known_runs(ctx, page.runs.iter());
    let rows: Vec<Vec<String>> = page
        .runs
        .iter()
        .map(|r| {
            let record = known.get(&(r.project_id.clone(), r.run_id.clone()));
            vec![
                r.run_id.clone(),
                r.status.to_string(),
                opt_time(&r.start_time),
                r.elapsed_time
                    .map(duration_ms)
                    .unwrap_or_else(|| "-".into()),
                r.run_trigger.clone().unwrap_or_default(),
                workspace_runs::started_by(record, r.run_trigger.as_deref()),
            ]
        })
        .collect();
    print_table(
        &[
            "RUN",
            "STATUS",
            "STARTED",
            "ELAPSED",
            "TRIGGER",
            "STARTED BY",
        ],
        &rows,
    )
    .map_err(|e| Failure::local(format!("cannot write output: {e}")))?;
    Ok(Exit::Completed)
}
