//! `hexdash watch [PROJECT...|--all] [--json]`: follow active runs until none is left, or with
//! `--all` the whole workspace until interrupted.
//!
//! Starts the engine, which re-attaches to every run earlier sessions left active and settles
//! their unanswered launches; with PROJECTs it also follows every active run Hex lists for them,
//! and shows only their runs. Prints one line (or one JSON object) per change: a new status, a
//! stale mark (once, until fresh data arrives), a timeout, a cancel outcome, the end. Exits 0 when
//! nothing it follows is active any more, 130 on Ctrl-C/SIGTERM/SIGHUP (runs go on in Hex).

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;

use crate::cli::WatchArgs;
use crate::engine::{Change, Engine, RunKey, RunView, Update};
use crate::hex::types::Project;
use crate::journal::Origin;

use super::output::local_time;
use super::resolve;
use super::view_json::ViewJson;
use crate::session::{Context, Exit, Failure, ProjectList};
use crate::signals;
use crate::time_text::duration_ms;

pub async fn run(ctx: &Context, args: &WatchArgs) -> Result<Exit, Failure> {
    let mut filter = Vec::new();
    for p in &args.projects {
        filter.push(resolve::resolve(ctx, p).await?);
    }
    let engine = ctx.engine()?;
    let mut rx = engine.subscribe();
    for p in &filter {
        engine
            .watch_project(&p.id, Origin::Cli)
            .await
            .map_err(|e| Failure::api(e.to_string()))?;
    }
    if args.all {
        let list = ctx.project_list();
        let projects = live_projects(&list).await?;
        sweep(&engine, &projects).await;
        engine.settled().await;
        let every = sweep_interval(args.every, projects.len());
        let printer = Printer {
            json: args.json,
            printed: HashMap::new(),
        };
        if !args.json {
            crate::errln!(
                "hexdash: following the active runs of {} projects; asking for new ones every \
                 {}s (ctrl-c stops)",
                projects.len(),
                every.as_secs()
            );
        }
        // Sweeps run beside the printing, so a long one (many projects, a busy budget) never
        // holds up the lines or ctrl-c.
        let sweeper = tokio::spawn(keep_sweeping(engine.clone(), list, args.every, every));
        let outcome = follow_workspace(&engine, printer, rx).await;
        sweeper.abort();
        return outcome;
    }
    engine.settled().await;
    let wanted = |key: &RunKey| filter.is_empty() || filter.iter().any(|p| p.id == key.project_id);
    let mut printer = Printer {
        json: args.json,
        printed: HashMap::new(),
    };
    for view in engine.snapshot().iter().filter(|v| wanted(&v.key)) {
        let change = if view.is_active() {
            Change::Watching
        } else {
            Change::Ended
        };
        printer.print(&engine, &change, view)?;
    }
    if !any_followed(&engine, &wanted) {
        if !args.json {
            crate::errln!("no active runs to follow");
        }
        return Ok(Exit::Completed);
    }
    let shutdown = signals::wait_for_shutdown();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(Update::Run { change, view }) if wanted(&view.key) => {
                    printer.print(&engine, &change, &view)?;
                }
                Ok(Update::Launch(notice)) if !args.json => {
                    crate::errln!("{}: {}", notice.project_id, notice.message);
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
            () = &mut shutdown => return Ok(Exit::Interrupted),
        }
        if !any_followed(&engine, &wanted) {
            break;
        }
    }
    Ok(Exit::Completed)
}

/// The projects `watch --all` sweeps: every live one, by id and title.
async fn live_projects(list: &ProjectList) -> Result<Vec<(String, String)>, Failure> {
    Ok(list
        .get()
        .await?
        .into_iter()
        .filter(Project::is_live)
        .map(|p| (p.id, p.title))
        .collect())
}

/// Follows every active run Hex lists for each project; a project that cannot be asked is
/// said on stderr and asked again next time.
async fn sweep(engine: &Engine, projects: &[(String, String)]) {
    for (id, title) in projects {
        if let Err(e) = engine.watch_project(id, Origin::Cli).await {
            crate::errln!("hexdash: could not list the runs of {title:?}: {e}");
        }
    }
}

/// Every `asked` (default a minute), but never more than one project each
/// [`SWEEP_COST_EACH`]: at most about 30 of Hex's 60 requests a minute, the rest for polling,
/// launches and cancels.
fn sweep_interval(asked: Option<u64>, projects: usize) -> Duration {
    let asked = asked.map_or(SWEEP_DEFAULT, Duration::from_secs);
    asked.max(SWEEP_COST_EACH.saturating_mul(u32::try_from(projects).unwrap_or(u32::MAX)))
}

const SWEEP_DEFAULT: Duration = Duration::from_secs(60);
const SWEEP_COST_EACH: Duration = Duration::from_secs(2);

/// Sweeps the workspace again and again, the project list read afresh each time (from the
/// shared cache while it is young), so projects published meanwhile are swept too.
async fn keep_sweeping(engine: Engine, list: ProjectList, asked: Option<u64>, first: Duration) {
    let mut every = first;
    loop {
        tokio::time::sleep(every).await;
        match live_projects(&list).await {
            Ok(projects) => {
                sweep(&engine, &projects).await;
                every = sweep_interval(asked, projects.len());
            }
            Err(e) => crate::errln!("hexdash: could not list the projects: {}", e.message),
        }
    }
}

/// Prints every run of the workspace as it changes until interrupted (the sweeps, beside it,
/// add the runs they find).
async fn follow_workspace(
    engine: &Engine,
    mut printer: Printer,
    mut rx: tokio::sync::broadcast::Receiver<Update>,
) -> Result<Exit, Failure> {
    for view in engine.snapshot().iter().filter(|v| v.is_active()) {
        printer.print(engine, &Change::Watching, view)?;
    }
    let shutdown = signals::wait_for_shutdown();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            msg = rx.recv() => match msg {
                Ok(Update::Run { change, view }) => printer.print(engine, &change, &view)?,
                Ok(Update::Launch(notice)) if !printer.json => {
                    crate::errln!("{}: {}", notice.project_id, notice.message);
                }
                Err(RecvError::Lagged(missed)) => {
                    crate::errln!("hexdash: {missed} updates came faster than they could be shown");
                }
                Ok(_) => {}
                Err(RecvError::Closed) => return Ok(Exit::Completed),
            },
            () = &mut shutdown => return Ok(Exit::Interrupted),
        }
    }
}

fn any_followed(engine: &Engine, wanted: &impl Fn(&RunKey) -> bool) -> bool {
    engine
        .snapshot()
        .iter()
        .any(|v| wanted(&v.key) && engine.is_watched(&v.key))
}

/// Prints a line when what a person would read changed.
struct Printer {
    json: bool,
    /// The last thing printed per run, to skip repeats (e.g. the buffered "watching" of a run
    /// already shown, or a second failure while already stale).
    printed: HashMap<RunKey, String>,
}

impl Printer {
    fn print(&mut self, engine: &Engine, change: &Change, view: &RunView) -> Result<(), Failure> {
        if *change == Change::Refreshed {
            return Ok(());
        }
        let status = view
            .status
            .as_ref()
            .map_or_else(|| "LAUNCHED".to_string(), ToString::to_string);
        let note = note(engine, change, view);
        // Not the note's text: an overdue note counts seconds and would make every line new.
        let signature = format!(
            "{status}|{change:?}|{}|{}",
            view.stale.is_some(),
            engine.overdue(view).is_some()
        );
        if self.printed.get(&view.key) == Some(&signature) {
            return Ok(());
        }
        self.printed.insert(view.key.clone(), signature);
        if self.json {
            let overdue = engine.overdue(view);
            let mut json = ViewJson::new(view);
            json.change = Some(change);
            json.overdue = overdue.as_ref();
            let line = serde_json::to_string(&json)
                .map_err(|e| Failure::api(format!("cannot encode JSON output: {e}")))?;
            println!("{}", crate::safe_text::escape_json(&line));
            return Ok(());
        }
        let when = view
            .observed_at
            .as_ref()
            .map_or_else(|| local_time(&jiff::Timestamp::now()), local_time);
        let project = view
            .project_title
            .as_deref()
            .unwrap_or(view.key.project_id.as_str());
        let elapsed = view.elapsed_ms.map_or_else(|| "-".into(), duration_ms);
        let note = if note.is_empty() {
            String::new()
        } else {
            format!("  {note}")
        };
        crate::outln!(
            "{when}  {project}  {}  {status}  {elapsed}{note}",
            view.key.short()
        );
        Ok(())
    }
}

fn note(engine: &Engine, change: &Change, view: &RunView) -> String {
    let mut parts: Vec<String> = Vec::new();
    match change {
        Change::TimedOut => parts.push("timed out".into()),
        Change::CancelRequested => parts.push("cancel requested".into()),
        Change::CancelConfirmed => parts.push("cancel confirmed".into()),
        Change::CancelNotConfirmed => parts.push("cancel NOT confirmed".into()),
        Change::KillFailed => parts.push("kill on timeout FAILED".into()),
        Change::Lost => parts.push("lost: Hex no longer knows this run".into()),
        _ => {}
    }
    if let Some(reason) = &view.stale
        && *change != Change::Lost
    {
        parts.push(format!("stale: {reason}"));
    }
    if view.adopted && *change == Change::Watching {
        parts.push("adopted after a lost launch answer".into());
    }
    if let Some(o) = engine.overdue(view) {
        parts.push(o.to_string());
    }
    parts.join("; ")
}
