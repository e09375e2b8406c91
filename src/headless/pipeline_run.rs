//! `hexdash pipeline run|list|status|resume|cancel`: pipeline runs from the command line, on the
//! same engine and journal as the dashboard.
//!
//! A pipeline needs a hexdash to drive it. With `--wait` it is this one; without, a background
//! hexdash (`pipeline resume ID --wait`, detached from the terminal) is started to carry it on
//! and this one returns at once with the pipeline run's id. Ctrl-C while waiting stops driving
//! but leaves the steps running; `pipeline resume ID` carries on.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::{mpsc, watch};

use crate::cli::{
    Cli, PipelineCancelArgs, PipelineListArgs, PipelineResumeArgs, PipelineRunArgs,
    PipelineStatusArgs,
};
use crate::config::Paths;
use crate::engine::Engine;
use crate::hex::ParamSpec;
use crate::pipeline::Projects;
use crate::pipeline::exec::{self, Conductor, Progress, Rebuilt, StartRefusal, control};
use crate::pipeline::machine::{Machine, PipelineStatus};
use crate::signals;

use super::params;
use super::pipeline_source;
use crate::hex::short_id;
use crate::session::{Context, Exit, Failure};

pub async fn run(cli: &Cli, args: &PipelineRunArgs) -> Result<Exit, Failure> {
    let ctx = Context::load(cli)?;
    refuse_read_only(&ctx)?;
    let prepared = pipeline_source::load_in(&ctx, &args.source).await?;
    let pipeline = &prepared.pipeline;
    let specs: Vec<ParamSpec> = pipeline.params.iter().map(|p| p.spec()).collect();
    let label = format!("pipeline {}", pipeline.name);
    let given = if specs.is_empty() && !args.params.is_empty() {
        return Err(Failure::usage(format!(
            "{label} has no parameters; remove the -p options"
        )));
    } else {
        params::build(&label, &specs, &args.params, None)?
    };
    let today = jiff::Zoned::now().date();
    let (pipeline, header) =
        prepared
            .start(given, &ctx.profile.name, today)
            .map_err(|refusal| match refusal {
                StartRefusal::UncheckedProject { .. } => Failure::api(refusal.to_string()),
                StartRefusal::Params(why) => Failure::usage(why),
            })?;
    let engine = ctx.engine()?;
    let conductor = Conductor::begin(engine.clone(), pipeline, &header).map_err(conduct_failure)?;
    let id = conductor.id().to_string();
    crate::errln!("pipeline {}: run {id} started", header.name);
    if args.wait {
        claim(&engine, &id)?;
        drive(&ctx, conductor, args.json).await
    } else {
        detach(cli, &engine, &id, args.json)
    }
}

/// Set by [`detach`] for the background hexdash it starts: that one only carries an unfinished
/// run on. Without it, a background hexdash that got the journal only after a `pipeline cancel`
/// had ended the run would resume the cancelled run, launching its steps again.
const CARRY_ON_ONLY: &str = "HEXDASH_PIPELINE_CARRY_ON_ONLY";

pub async fn resume(cli: &Cli, args: &PipelineResumeArgs) -> Result<Exit, Failure> {
    let ctx = Context::load(cli)?;
    refuse_read_only(&ctx)?;
    let engine = ctx.engine()?;
    let workspace = ctx
        .project_list()
        .for_recorded_pipelines(&engine, &ctx.config, |run_id, _| {
            run_id.starts_with(&args.id)
        })
        .await;
    let projects = Projects {
        config: &ctx.config,
        workspace: workspace.as_deref(),
    };
    let loaded = engine
        .with_journal(|j| exec::load(j, &args.id, &projects))
        .map_err(|e| Failure::usage(e.to_string()))?;
    let id = loaded.id.clone();
    let status = loaded.machine.status();
    if status.is_ended() && std::env::var_os(CARRY_ON_ONLY).is_some() {
        crate::outln!(
            "pipeline run {id} already ended: {}; nothing to carry on",
            status.as_str()
        );
        return Ok(exit_for(status));
    }
    claim(&engine, &id)?;
    let mut conductor = Conductor::reopened(engine.clone(), &loaded)
        .await
        .map_err(conduct_failure)?;
    match (status.is_ended(), &args.from) {
        (true, from) => {
            if status == PipelineStatus::Succeeded && from.is_none() {
                crate::outln!(
                    "pipeline run {id} already succeeded; give --from STEP to rerun a step and \
                     everything downstream of it"
                );
                return Ok(Exit::Completed);
            }
            conductor
                .resume(from.clone())
                .map_err(|e| Failure::usage(e.to_string()))?;
            crate::errln!("pipeline {}: run {id} resumed", loaded.pipeline.name);
        }
        (false, Some(_)) => {
            return Err(Failure::usage(format!(
                "pipeline run {id} is still running; --from applies to an ended run (cancel it \
                 first with `hexdash pipeline cancel {id}`)"
            )));
        }
        (false, None) => {
            crate::errln!(
                "pipeline {}: carrying on run {id} where it stopped",
                loaded.pipeline.name
            );
        }
    }
    if args.wait {
        drive(&ctx, conductor, args.json).await
    } else {
        detach(cli, &engine, &id, args.json)
    }
}

pub async fn cancel(cli: &Cli, args: &PipelineCancelArgs) -> Result<Exit, Failure> {
    let ctx = Context::load(cli)?;
    refuse_read_only(&ctx)?;
    let engine = ctx.engine()?;
    let projects = Projects {
        config: &ctx.config,
        workspace: None,
    };
    let loaded = engine
        .with_journal(|j| exec::load(j, &args.id, &projects))
        .map_err(|e| Failure::usage(e.to_string()))?;
    let id = loaded.id.clone();
    if loaded.machine.status().is_ended() {
        crate::outln!(
            "pipeline run {id} already ended: {}",
            loaded.machine.status().as_str()
        );
        return Ok(Exit::Completed);
    }
    if let Some(by) = engine.pipeline_driver(&id) {
        // Another hexdash drives it: leave it a request and watch the store for the end.
        let data_dir = data_dir(&ctx.paths);
        control::request_cancel(&data_dir, &id).map_err(|e| {
            Failure::local(format!(
                "cannot write a cancel request in {}: {e}",
                data_dir.display()
            ))
        })?;
        crate::errln!(
            "pipeline run {id} is driven by another hexdash ({}); asked it to cancel, waiting \
             for the steps to stop",
            by.describe()
        );
        return wait_for_end_elsewhere(&ctx, &id).await;
    }
    claim(&engine, &id)?;
    // The cancel is journalled before the steps the last driver left are settled: a step that
    // ended meanwhile must not start the next one (hardening item 6).
    let mut conductor = Conductor::reopen(
        engine.clone(),
        &loaded.id,
        Arc::clone(&loaded.pipeline),
        loaded.recorded.header.params.clone(),
        &loaded.recorded.inputs,
    )
    .map_err(conduct_failure)?;
    conductor.cancel().map_err(conduct_failure)?;
    conductor.reattach().await.map_err(conduct_failure)?;
    crate::errln!("pipeline run {id}: cancelling its running steps");
    drive(&ctx, conductor, false).await
}

/// The config and the store's state, without a token (for `list` and `status`); the store's
/// warnings on stderr.
fn offline_journal(
    cli: &Cli,
) -> Result<(crate::config::Config, crate::journal::JournalState), Failure> {
    let (paths, config) = crate::session::offline(cli)?;
    let (journal, warnings) = crate::journal::load_state(paths.store_file())
        .map_err(|e| Failure::local(format!("cannot read the journal: {e}")))?;
    for w in &warnings {
        crate::errln!("hexdash: warning: journal: {w}");
    }
    Ok((config, journal))
}

pub fn list(cli: &Cli, args: &PipelineListArgs) -> Result<Exit, Failure> {
    let (config, journal) = offline_journal(cli)?;
    let projects = Projects {
        config: &config,
        workspace: None,
    };
    let mut all = exec::load_all(&journal, &projects);
    all.reverse();
    if args.limit > 0 {
        all.truncate(args.limit);
    }
    if args.json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|r| match r {
                Ok(l) => serde_json::to_value(Report::of(l)).unwrap_or_default(),
                Err(e) => serde_json::json!({ "error": e.to_string() }),
            })
            .collect();
        super::print_json(&rows)?;
        return Ok(Exit::Completed);
    }
    if all.is_empty() {
        crate::outln!(
            "no pipeline runs in the journal yet (start one with `hexdash pipeline run NAME`)"
        );
        return Ok(Exit::Completed);
    }
    crate::outln!(
        "{:<10} {:<20} {:<10} {:<22} STEPS",
        "ID",
        "PIPELINE",
        "STATUS",
        "STARTED"
    );
    for r in &all {
        match r {
            Ok(l) => {
                let done = l
                    .machine
                    .steps()
                    .filter(|(_, s)| s.status.is_succeeded())
                    .count();
                crate::outln!(
                    "{:<10} {:<20} {:<10} {:<22} {done}/{} succeeded",
                    short_id(&l.id),
                    l.pipeline.name,
                    l.machine.status().as_str(),
                    l.recorded.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    l.pipeline.steps.len()
                );
            }
            Err(e) => crate::outln!("{:<10} {e}", "?"),
        }
    }
    Ok(Exit::Completed)
}

pub fn status(cli: &Cli, args: &PipelineStatusArgs) -> Result<Exit, Failure> {
    let (config, journal) = offline_journal(cli)?;
    let projects = Projects {
        config: &config,
        workspace: None,
    };
    let loaded =
        exec::load(&journal, &args.id, &projects).map_err(|e| Failure::usage(e.to_string()))?;
    if args.json {
        super::print_json(&Report::of(&loaded))?;
    } else {
        print_summary(&loaded.id, &loaded.pipeline.name, &loaded.machine);
    }
    Ok(Exit::Completed)
}

/// Drives to the end, printing progress to stderr and the outcome to stdout.
async fn drive(ctx: &Context, mut conductor: Conductor, json: bool) -> Result<Exit, Failure> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    conductor.report_to(tx);
    let printer = tokio::spawn(async move {
        while let Some(p) = rx.recv().await {
            crate::errln!("{}", progress_line(&p));
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        signals::wait_for_shutdown().await;
        stop_tx.send_replace(true);
    });
    let data_dir = data_dir(&ctx.paths);
    let mut control = control::Control::new(&data_dir, stop_rx);
    let outcome = conductor.drive(&mut control).await;
    let id = conductor.id().to_string();
    // Another process may carry it on at once if this one stopped before its end.
    conductor.engine().release_pipeline(&id);
    drop(conductor.take_reporter());
    let _ = printer.await;
    let machine = conductor.machine();
    let name = conductor.pipeline_name().to_string();
    match outcome {
        Ok(Some(status)) => {
            control::clear_request(&data_dir, &id);
            if json {
                let report = Report::from_machine(&id, &name, machine);
                super::print_json(&report)?;
            } else {
                print_summary(&id, &name, machine);
            }
            Ok(exit_for(status))
        }
        Ok(None) => {
            crate::errln!(
                "stopped driving pipeline run {id}; its running steps go on. Carry it on with \
                 `hexdash pipeline resume {id} --wait`"
            );
            Ok(Exit::Interrupted)
        }
        Err(e) => Err(conduct_failure(e)),
    }
}

/// Exit codes for a pipeline that could not be started or driven: the journal and this machine
/// are the operator's to fix (4), like a project named by title; an unsettled launch waits on Hex
/// (5); a state-machine refusal is a bug's or a damaged journal's, reported as a local problem.
fn conduct_failure(e: exec::ConductError) -> Failure {
    use crate::engine::PipelineRecordError as R;
    use exec::ConductError as C;
    match e {
        C::Record(R::Journal(_)) | C::Machine(_) => Failure::local(e.to_string()),
        C::Unresolved { .. } => Failure::usage(e.to_string()),
        C::Unsettled { .. } => Failure::api(e.to_string()),
    }
}

/// Hands the pipeline to a background hexdash and returns.
fn detach(cli: &Cli, engine: &Engine, id: &str, json: bool) -> Result<Exit, Failure> {
    // The background hexdash needs the journal this process holds.
    engine.close();
    let exe = std::env::current_exe()
        .map_err(|e| Failure::local(format!("cannot find the hexdash executable: {e}")))?;
    let mut command = std::process::Command::new(exe);
    if let Some(config) = &cli.config {
        command.arg("--config").arg(config);
    }
    if let Some(profile) = &cli.profile {
        command.arg("--profile").arg(profile);
    }
    command
        .args(["pipeline", "resume", id, "--wait"])
        .env(CARRY_ON_ONLY, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: Ctrl-C in this terminal must not stop it.
        command.process_group(0);
    }
    let child = command.spawn().map_err(|e| {
        Failure::local(format!(
            "cannot start a background hexdash to carry pipeline run {id} on ({e}); run \
             `hexdash pipeline resume {id} --wait` yourself"
        ))
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "pipelineRunId": id, "driverPid": child.id() })
        );
    } else {
        crate::outln!("{id}");
        crate::errln!(
            "a background hexdash (pid {}) carries it on; follow it with `hexdash pipeline \
             status {id}` or the dashboard",
            child.id()
        );
    }
    Ok(Exit::Completed)
}

/// Waits (up to two minutes) for the journal to show pipeline run `id` ended.
async fn wait_for_end_elsewhere(ctx: &Context, id: &str) -> Result<Exit, Failure> {
    let projects = Projects {
        config: &ctx.config,
        workspace: None,
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (journal, _) = crate::journal::load_state(ctx.paths.store_file())
            .map_err(|e| Failure::local(format!("cannot read the journal: {e}")))?;
        let loaded =
            exec::load(&journal, id, &projects).map_err(|e| Failure::usage(e.to_string()))?;
        if loaded.machine.status().is_ended() {
            print_summary(id, &loaded.pipeline.name, &loaded.machine);
            return Ok(exit_for(loaded.machine.status()));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::api(format!(
                "pipeline run {id} has not ended after 2 minutes; the hexdash driving it has the \
                 request (see `hexdash pipeline status {id}`)"
            )));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

fn exit_for(status: PipelineStatus) -> Exit {
    match status {
        PipelineStatus::Succeeded => Exit::Completed,
        PipelineStatus::Cancelled => Exit::Killed,
        _ => Exit::Errored,
    }
}

fn refuse_read_only(ctx: &Context) -> Result<(), Failure> {
    if ctx.profile.read_only {
        return Err(Failure::usage(format!(
            "profile {:?} is read-only: pipelines cannot launch or cancel (set read_only = false \
             in the config, or use another --profile)",
            ctx.profile.name
        )));
    }
    Ok(())
}

/// Makes this process the one that drives pipeline run `id`; refused while another live
/// hexdash drives it (two drivers would launch its steps twice).
fn claim(engine: &Engine, id: &str) -> Result<(), Failure> {
    match engine.claim_pipeline(id) {
        Ok(None) => Ok(()),
        Ok(Some(by)) => Err(Failure::usage(format!(
            "pipeline run {id} is driven by another hexdash ({}); watch it with `hexdash \
             pipeline status {id}`, or cancel it with `hexdash pipeline cancel {id}`",
            by.describe()
        ))),
        Err(e) => Err(Failure::local(e.to_string())),
    }
}

fn data_dir(paths: &Paths) -> std::path::PathBuf {
    paths
        .store_file()
        .parent()
        .map_or_else(|| Path::new(".").to_path_buf(), Path::to_path_buf)
}

fn progress_line(p: &Progress) -> String {
    match p {
        Progress::StepLaunched {
            step, attempt, key, ..
        } => format!(
            "{step}: launched run {}{}",
            key.short(),
            retry_note(*attempt)
        ),
        Progress::StepLaunchFailed {
            step,
            attempt,
            error,
        } => format!("{step}: launch failed{}: {error}", retry_note(*attempt)),
        Progress::StepEnded {
            step,
            attempt,
            key,
            status,
        } => format!(
            "{step}: run {} {}{}",
            key.short(),
            status.as_str(),
            retry_note(*attempt)
        ),
    }
}

fn retry_note(attempt: u32) -> String {
    if attempt > 1 {
        format!(" (attempt {attempt})")
    } else {
        String::new()
    }
}

fn print_summary(id: &str, name: &str, machine: &Machine) {
    crate::outln!("pipeline {name} · run {id}: {}", machine.status().as_str());
    for (step, state) in machine.steps() {
        let last = state.attempts.last();
        let run = last
            .and_then(|a| a.run_id.as_deref())
            .map_or_else(|| "-".to_string(), |r| short_id(r).to_string());
        let detail = last
            .and_then(|a| a.error.clone())
            .map(|e| format!("  {e}"))
            .unwrap_or_default();
        crate::outln!(
            "  {:<16} {:<12} run {run:<8} attempts {}{detail}",
            step.id,
            state.status.as_str(),
            state.attempts.len()
        );
    }
}

/// The JSON shape of a pipeline run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    pipeline_run_id: &'a str,
    name: &'a str,
    status: &'static str,
    steps: Vec<StepReport<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StepReport<'a> {
    id: &'a str,
    status: &'static str,
    attempts: Vec<AttemptReport<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AttemptReport<'a> {
    attempt: u32,
    run_id: Option<&'a str>,
    run_url: Option<&'a str>,
    status: Option<&'a str>,
    error: Option<&'a str>,
}

impl<'a> Report<'a> {
    fn of(loaded: &'a Rebuilt) -> Report<'a> {
        Report::from_machine(&loaded.id, &loaded.pipeline.name, &loaded.machine)
    }

    fn from_machine(id: &'a str, name: &'a str, machine: &'a Machine) -> Report<'a> {
        Report {
            pipeline_run_id: id,
            name,
            status: machine.status().as_str(),
            steps: machine
                .steps()
                .map(|(step, state)| StepReport {
                    id: &step.id,
                    status: state.status.as_str(),
                    attempts: state
                        .attempts
                        .iter()
                        .map(|a| AttemptReport {
                            attempt: a.number,
                            run_id: a.run_id.as_deref(),
                            run_url: a.run_url.as_deref(),
                            status: a.status.as_ref().map(|s| s.as_str()),
                            error: a.error.as_deref(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
