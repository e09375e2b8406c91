//! Exactly-once launches (DESIGN.md "Exactly-once launch").
//!
//! A launch is journalled (and synced) as an intent before RunProject is sent, and its run id
//! right after the 201. When the answer is lost (timeout, reset, 5xx) the outcome is unknown: the
//! project's recent runs are listed, and a run that appeared after the intent and that the journal
//! does not know is adopted. Only when none appeared is the launch re-sent, as a new intent. The
//! same reconciliation settles intents a crashed hexdash left behind, at the next start. One
//! launch or reconciliation per project runs at a time, so a new run of a concurrent launch is
//! never mistaken for a lost one.

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tokio::time::Instant;

use super::failpoint;
use super::scheduler::RunKey;
use super::shared::Shared;
use super::state::State;
use super::update::{LaunchNotice, Update};
use crate::hex::types::{
    ProjectRunsQuery, RunProjectRequest, RunProjectResponse, RunStatusResponse,
};
use crate::hex::{Client, Error as HexError};
use crate::journal::{self, Event, LaunchIntent, LaunchOptions, Launcher, Origin, PendingLaunch};

/// How many times one launch may be sent when reconciliation proves the earlier sends created
/// nothing.
const MAX_SENDS: u32 = 3;
/// Hex's clock and ours may disagree by this much when judging "created after the intent".
const CLOCK_SKEW: SignedDuration = SignedDuration::from_secs(60);
/// Listing attempts (each with the client's own retries) before a reconciliation gives up.
const LIST_ATTEMPTS: u32 = 4;

/// What to do when the same project with the same parameters is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DuplicatePolicy {
    /// Launch anyway; [`Launched::duplicates`] lists them so the caller can warn.
    #[default]
    Warn,
    Refuse,
}

/// One launch, as a person or a pipeline asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchRequest {
    pub project_id: String,
    pub project_title: Option<String>,
    pub params: IndexMap<String, Value>,
    pub options: LaunchOptions,
    pub origin: Origin,
    pub duplicates: DuplicatePolicy,
    /// Poll the new run at the focused rate (someone is waiting on it).
    pub focused: bool,
}

/// A launch that created (or found) its run.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched {
    pub key: RunKey,
    pub launch_id: String,
    pub run_url: Option<String>,
    pub trace_id: Option<String>,
    /// The answer was lost and the run was found by listing the project's runs.
    pub adopted: bool,
    /// Other active runs of the project with the same parameters, when the launch went ahead.
    pub duplicates: Vec<RunKey>,
    /// A dry run: Hex validated the call and ran nothing; nothing is watched or journalled.
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "{} of this project with the same parameters {} still running ({}); launch again \
         without the duplicate guard to start another",
        plural(runs.len()),
        if runs.len() == 1 { "is" } else { "are" },
        runs.iter().map(|k| k.run_id.as_str()).collect::<Vec<_>>().join(", ")
    )]
    Duplicate { runs: Vec<RunKey> },
    /// The intent could not be made durable, so nothing was sent.
    #[error(transparent)]
    Journal(#[from] journal::Error),
    /// Hex refused, or certainly created nothing; recorded as a failed launch.
    #[error(transparent)]
    Hex(HexError),
    /// The answer was lost and the listing cannot say which new run is this launch's: nothing
    /// was re-sent, and every candidate is watched.
    #[error(
        "{cause}; hexdash cannot tell which run this launch created: {why}. Nothing was \
         re-sent (launch {launch_id})"
    )]
    Ambiguous {
        launch_id: String,
        cause: HexError,
        why: String,
    },
    #[error(
        "{cause}; and the project's runs could not be listed to find out whether a run was \
         created ({list_error}). Nothing will be re-sent: the next hexdash start (or `hexdash \
         watch`) checks again and follows the run if there is one"
    )]
    Unresolved {
        launch_id: String,
        cause: HexError,
        list_error: HexError,
    },
    /// An earlier launch of the project still has no known outcome and Hex could not be asked
    /// about it, so this launch was not sent (see `launch`).
    #[error(
        "an earlier launch of this project ({launch_id}) has no known outcome, and the \
         project's runs could not be listed to settle it ({list_error}). Nothing was sent, so \
         this launch's run cannot be mistaken for that one's; try again once Hex answers"
    )]
    Unsettled {
        launch_id: String,
        list_error: HexError,
    },
}

fn plural(n: usize) -> String {
    if n == 1 {
        "a run".into()
    } else {
        format!("{n} runs")
    }
}

/// Active runs of `project_id` launched with exactly `params`.
pub(crate) fn duplicates(
    st: &State,
    project_id: &str,
    params: &IndexMap<String, Value>,
) -> Vec<RunKey> {
    st.book
        .active_runs()
        .filter(|r| r.project_id == project_id && r.params() == Some(params))
        .map(|r| RunKey::new(&r.project_id, &r.run_id))
        .collect()
}

pub(crate) async fn launch(
    inner: &Arc<Shared>,
    request: LaunchRequest,
) -> Result<Launched, LaunchError> {
    let body = RunProjectRequest {
        input_params: (!request.params.is_empty()).then(|| request.params.clone()),
        dry_run: request.options.dry_run.then_some(true),
        use_cached_sql_results: request.options.use_cached_sql_results,
        update_published_results: request.options.update_published_results,
        ..RunProjectRequest::default()
    };
    if request.options.dry_run {
        return dry_run(inner, &request, &body).await;
    }
    let lock = inner.project_lock(&request.project_id);
    let _guard = lock.lock().await;
    let dups = duplicates(&inner.lock(), &request.project_id, &request.params);
    if request.duplicates == DuplicatePolicy::Refuse && !dups.is_empty() {
        return Err(LaunchError::Duplicate { runs: dups });
    }
    settle_earlier(inner, &request.project_id).await?;
    let mut sends = 0;
    loop {
        sends += 1;
        let launch_id = uuid::Uuid::new_v4().to_string();
        let intent_at = record_intent(inner, &request, &launch_id)?;
        failpoint::pause_at("after_intent").await;
        let cause = match inner.client.run_project(&request.project_id, &body).await {
            Ok(answer) => return Ok(created(inner, &request, launch_id, answer, dups).await),
            Err(HexError::LaunchOutcomeUnknown { cause }) => *cause,
            Err(e) => {
                let mut st = inner.lock();
                st.record(Event::LaunchFailed {
                    launch_id,
                    project_id: request.project_id.clone(),
                    error: e.to_string(),
                })?;
                return Err(LaunchError::Hex(e));
            }
        };
        tracing::warn!(project = %request.project_id, error = %cause, "launch outcome unknown; reconciling");
        inner.lock().record(Event::LaunchOutcomeUnknown {
            launch_id: launch_id.clone(),
            project_id: request.project_id.clone(),
            error: cause.to_string(),
        })?;
        let listed = match list_with_retries(&inner.client, &request.project_id).await {
            Ok(runs) => runs,
            Err(list_error) => {
                return Err(LaunchError::Unresolved {
                    launch_id,
                    cause,
                    list_error,
                });
            }
        };
        match settle(inner, &request.project_id, &listed, Some(&launch_id)) {
            Settled::Adopted(run) => {
                let key = RunKey::new(&request.project_id, &run.run_id);
                return Ok(Launched {
                    key,
                    launch_id,
                    run_url: run.run_url,
                    trace_id: run.trace_id,
                    adopted: true,
                    duplicates: dups,
                    dry_run: false,
                });
            }
            Settled::Undecided(why) => {
                return Err(LaunchError::Ambiguous {
                    launch_id,
                    cause,
                    why,
                });
            }
            Settled::Abandoned => {}
        }
        tracing::info!(project = %request.project_id, %intent_at, "no run appeared after the intent");
        if sends >= MAX_SENDS {
            return Err(LaunchError::Hex(cause));
        }
    }
}

/// A dry run: nothing runs, so there is nothing to launch twice or to follow, and nothing is
/// journalled.
async fn dry_run(
    inner: &Arc<Shared>,
    request: &LaunchRequest,
    body: &RunProjectRequest,
) -> Result<Launched, LaunchError> {
    let answer = inner
        .client
        .run_project(&request.project_id, body)
        .await
        .map_err(LaunchError::Hex)?;
    Ok(Launched {
        key: RunKey::new(&request.project_id, &answer.run_id),
        launch_id: String::new(),
        run_url: answer.run_url,
        trace_id: answer.trace_id,
        adopted: false,
        duplicates: Vec::new(),
        dry_run: true,
    })
}

/// Intents a crashed hexdash (or an unresolved launch) left for this project come first, or
/// their runs could be taken for ours. If they cannot be settled, nothing is sent: should our
/// answer then be lost too, one listing would have to settle both, and it cannot tell whose run
/// is whose. The older intent would take our run, and ours, finding nothing, would be sent
/// again (one launch, two runs, the first journalled with the wrong parameters). Call with the
/// project's launch lock held.
async fn settle_earlier(inner: &Arc<Shared>, project_id: &str) -> Result<(), LaunchError> {
    if let Err(list_error) = settle_project(inner, project_id).await {
        let launch_id = inner
            .lock()
            .book
            .pending_launches()
            .find(|p| p.project_id == project_id)
            .map(|p| p.launch_id.clone())
            .unwrap_or_default();
        return Err(LaunchError::Unsettled {
            launch_id,
            list_error,
        });
    }
    Ok(())
}

/// Journals (and syncs) the intent to send `launch_id`, before anything is sent; returns when,
/// on the engine's clock.
fn record_intent(
    inner: &Arc<Shared>,
    request: &LaunchRequest,
    launch_id: &str,
) -> Result<Timestamp, journal::Error> {
    let mut st = inner.lock();
    st.record(Event::LaunchIntent(LaunchIntent {
        launch_id: launch_id.to_string(),
        project_id: request.project_id.clone(),
        project_title: request.project_title.clone(),
        params: request.params.clone(),
        options: request.options.clone(),
        origin: request.origin.clone(),
        profile: inner.options.profile.clone(),
        launched_by: Some(Launcher::this_process().clone()),
    }))?;
    Ok(st.now_ts())
}

/// Hex answered 201: the run is journalled and followed.
async fn created(
    inner: &Arc<Shared>,
    request: &LaunchRequest,
    launch_id: String,
    answer: RunProjectResponse,
    duplicates: Vec<RunKey>,
) -> Launched {
    failpoint::pause_at("after_post").await;
    let key = RunKey::new(&request.project_id, &answer.run_id);
    let event = Event::Launched {
        launch_id: launch_id.clone(),
        project_id: request.project_id.clone(),
        run_id: answer.run_id.clone(),
        run_url: answer.run_url.clone(),
        trace_id: answer.trace_id.clone(),
        project_version: answer.project_version.clone(),
    };
    follow_new(inner, &key, event, request);
    Launched {
        key,
        launch_id,
        run_url: answer.run_url,
        trace_id: answer.trace_id,
        adopted: false,
        duplicates,
        dry_run: false,
    }
}

/// Records the 201 and starts following the new run.
fn follow_new(inner: &Arc<Shared>, key: &RunKey, launched: Event, request: &LaunchRequest) {
    let mut st = inner.lock();
    if let Err(e) = st.record(launched) {
        // The run exists but the journal does not say so: the intent stays pending and the next
        // start adopts the run by reconciliation. Keep following it now regardless.
        tracing::error!(run = %key.run_id, error = %e, "could not record a launched run");
    }
    let updates = st.follow(key, Instant::now(), true);
    if request.focused {
        st.scheduler.set_focused(key, true);
    }
    drop(st);
    inner.publish(updates);
    inner.wake.notify_one();
}

/// The newest runs of a project (up to 100), newest first: those launched through the API
/// (Hex's default listing), where a launch whose answer was lost must be, or with `every_trigger`
/// also the ones Hex's schedules and app refreshes started.
pub(crate) async fn recent_runs(
    client: &Client,
    project_id: &str,
    every_trigger: bool,
) -> Result<Vec<RunStatusResponse>, HexError> {
    let query = ProjectRunsQuery {
        limit: Some(100),
        run_trigger_filter: every_trigger.then(|| "ALL".to_string()),
        ..ProjectRunsQuery::default()
    };
    Ok(client.get_project_runs(project_id, &query).await?.runs)
}

async fn list_with_retries(
    client: &Client,
    project_id: &str,
) -> Result<Vec<RunStatusResponse>, HexError> {
    let mut attempt = 0;
    loop {
        match recent_runs(client, project_id, false).await {
            Ok(runs) => return Ok(runs),
            Err(e) if e.is_refusal() => return Err(e),
            Err(e) => {
                attempt += 1;
                if attempt >= LIST_ATTEMPTS {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_secs(2u64.pow(attempt))).await;
            }
        }
    }
}

/// What reconciling one launch found.
enum Settled {
    /// This run, which nobody else claims, appeared inside the launch's window.
    Adopted(Box<RunStatusResponse>),
    /// No run appeared inside the window: Hex created none.
    Abandoned,
    /// It cannot be told yet (the reason): nothing is adopted, nothing re-sent.
    Undecided(String),
}

/// Whether `launch` is this project's to settle here: launched by this process, or by a
/// hexdash that is gone (or by one from before launches named their process). A live other
/// process settles its own launches; reconciling them here would race it for its own run.
pub(crate) fn settles_here(st: &State, launch: &PendingLaunch) -> bool {
    let Some(by) = launch.intent.as_ref().and_then(|i| i.launched_by.as_ref()) else {
        return true;
    };
    by.process == Launcher::this_process().process
        || !st
            .journal
            .is_alive(&by.process, super::shared::ALIVE_GRACE)
            .unwrap_or(true)
}

/// Settles this project's pending launches that are this process's to settle, from a fresh
/// listing (newest first). A run is a candidate for a launch only if no process recorded it
/// (runs other hexdash processes launched are in the store) and it started inside the launch's
/// window (from its intent to when its outcome became unknown, with clock skew either side).
/// One launch, one candidate: adopted; no candidate: abandoned; otherwise (other API clients
/// launched the project meanwhile, or another hexdash's launch of it is still in flight) it
/// cannot be told: every candidate is watched and nothing is adopted or re-sent.
/// Returns what was found for `wanted`. Call with the project's launch lock held.
fn settle(
    inner: &Arc<Shared>,
    project_id: &str,
    listed: &[RunStatusResponse],
    wanted: Option<&str>,
) -> Settled {
    let mut st = inner.lock();
    // Runs other processes launched since this one last looked must not look unclaimed.
    let mut updates = st.sync(Instant::now());
    let now_ts = st.now_ts();
    let (mut pending, in_flight): (Vec<PendingLaunch>, Vec<PendingLaunch>) = st
        .book
        .pending_launches()
        .filter(|p| p.project_id == project_id)
        .cloned()
        .partition(|p| settles_here(&st, p));
    pending.sort_by_key(|p| p.recorded_at);
    let unclaimed = unclaimed(&mut st, project_id, listed);
    let mut taken: Vec<String> = Vec::new();
    let mut outcome_for_wanted = None;
    let now = Instant::now();
    for launch in &pending {
        let Evidence {
            candidates,
            overlapping,
            rivals,
        } = evidence(launch, &pending, &in_flight, &unclaimed, &taken, now_ts);
        let (settled, event) = if candidates.is_empty() {
            let reason = "no run appeared in the project's runs during the launch, so Hex \
                          created none";
            (
                Settled::Abandoned,
                Some(abandoned(launch, project_id, reason.into())),
            )
        } else if overlapping > 0 {
            // Another live hexdash's launch of this project overlaps: its run may be among the
            // candidates and it records it within seconds. Ask again then.
            (
                Settled::Undecided(format!(
                    "another hexdash is launching this project at the same time; its launch \
                     is settled first ({} new run(s) seen)",
                    candidates.len()
                )),
                None,
            )
        } else if candidates.len() == 1 || candidates.len() <= rivals + 1 {
            // Oldest launch, oldest run: the order Hex created them in.
            adopt(launch, project_id, candidates[0], &mut taken)
        } else {
            let reason = watch_all(
                &mut st,
                project_id,
                &candidates,
                now,
                &mut taken,
                &mut updates,
            );
            (
                Settled::Undecided(reason.clone()),
                Some(abandoned(launch, project_id, reason)),
            )
        };
        let message = notice(&settled);
        let announce = event.is_some() || wanted == Some(launch.launch_id.as_str());
        if let Some(event) = event
            && !record_settled(&mut st, project_id, event, now, &mut updates)
        {
            continue;
        }
        if announce {
            updates.push(Update::Launch(LaunchNotice {
                launch_id: launch.launch_id.clone(),
                project_id: project_id.to_string(),
                message,
            }));
        }
        if wanted == Some(launch.launch_id.as_str()) {
            outcome_for_wanted = Some(settled);
        }
    }
    drop(st);
    inner.publish(updates);
    inner.wake.notify_one();
    outcome_for_wanted.unwrap_or(Settled::Abandoned)
}

/// What a listing says about one launch.
struct Evidence<'a> {
    /// Unclaimed runs that started inside its window, not taken by an older launch.
    candidates: Vec<&'a RunStatusResponse>,
    /// Launches another live hexdash has in flight whose windows overlap this one's.
    overlapping: usize,
    /// Other launches settled here whose windows overlap this one's.
    rivals: usize,
}

fn evidence<'a>(
    launch: &PendingLaunch,
    pending: &[PendingLaunch],
    in_flight: &[PendingLaunch],
    unclaimed: &[&'a RunStatusResponse],
    taken: &[String],
    now_ts: Timestamp,
) -> Evidence<'a> {
    let window = |p: &PendingLaunch| launch_window(p, now_ts);
    let inside = |r: &RunStatusResponse, (since, until): (Timestamp, Timestamp)| {
        r.start_time.is_none_or(|t| t >= since && t <= until)
    };
    let w = window(launch);
    let candidates: Vec<&RunStatusResponse> = unclaimed
        .iter()
        .copied()
        .filter(|r| inside(r, w) && !taken.contains(&r.run_id))
        .collect();
    let overlaps = |other: &PendingLaunch| {
        let o = window(other);
        o.0 <= w.1 && w.0 <= o.1
    };
    let overlapping = in_flight.iter().filter(|other| overlaps(other)).count();
    let rivals = pending
        .iter()
        .filter(|p| p.launch_id != launch.launch_id && overlaps(p))
        .count();
    Evidence {
        candidates,
        overlapping,
        rivals,
    }
}

/// When a launch's run may have started: from its intent to when its outcome became unknown
/// (or now), with clock skew either side.
fn launch_window(p: &PendingLaunch, now_ts: Timestamp) -> (Timestamp, Timestamp) {
    let since = p
        .recorded_at
        .checked_sub(CLOCK_SKEW)
        .unwrap_or(p.recorded_at);
    let end = p.unknown_outcome.as_ref().map_or(now_ts, |u| u.at);
    let until = end.checked_add(CLOCK_SKEW).unwrap_or(end);
    (since, until)
}

/// The listed runs no process recorded, oldest first, of those launched through the API: the
/// runs a lost launch may have created.
fn unclaimed<'a>(
    st: &mut State,
    project_id: &str,
    listed: &'a [RunStatusResponse],
) -> Vec<&'a RunStatusResponse> {
    // Known to the store (if the store cannot be read, taken as known: never adopted).
    let known: Vec<bool> = listed
        .iter()
        .map(|r| {
            let st = &mut *st;
            st.journal
                .hydrate(&mut st.book, project_id, &r.run_id)
                .unwrap_or(true)
        })
        .collect();
    listed
        .iter()
        .zip(&known)
        .rev()
        .filter(|(_, known)| !**known)
        .map(|(r, _)| r)
        .filter(|r| r.run_trigger.as_deref().is_none_or(|t| t == "API"))
        .collect()
}

/// A launch proved to have created no run, for `reason`.
fn abandoned(launch: &PendingLaunch, project_id: &str, reason: String) -> Event {
    Event::Abandoned {
        launch_id: launch.launch_id.clone(),
        project_id: project_id.to_string(),
        reason,
    }
}

/// `run` is the launch's: taken, so no later launch of this round adopts it too.
fn adopt(
    launch: &PendingLaunch,
    project_id: &str,
    run: &RunStatusResponse,
    taken: &mut Vec<String>,
) -> (Settled, Option<Event>) {
    taken.push(run.run_id.clone());
    (
        Settled::Adopted(Box::new(run.clone())),
        Some(Event::Adopted {
            launch_id: launch.launch_id.clone(),
            project_id: project_id.to_string(),
            run_id: run.run_id.clone(),
            run_url: run.run_url.clone(),
        }),
    )
}

/// More candidates than launches: which is whose cannot be told, so every one is journalled as
/// watched and followed, and none adopted. Returns why, for the launch's end.
fn watch_all(
    st: &mut State,
    project_id: &str,
    candidates: &[&RunStatusResponse],
    now: Instant,
    taken: &mut Vec<String>,
    updates: &mut Vec<Update>,
) -> String {
    let ids: Vec<&str> = candidates.iter().map(|r| r.run_id.as_str()).collect();
    for run in candidates {
        let key = RunKey::new(project_id, &run.run_id);
        if st
            .record(Event::Watch {
                project_id: project_id.to_string(),
                run_id: run.run_id.clone(),
                origin: Origin::Other,
            })
            .is_ok()
        {
            updates.extend(st.follow(&key, now, false));
        }
        taken.push(run.run_id.clone());
    }
    format!(
        "{} runs of the project started during the launch ({}), launched by other API \
         clients too; hexdash cannot tell which is this launch's, so all are watched \
         and it was not re-sent",
        ids.len(),
        ids.join(", ")
    )
}

/// What the operator is told about a settled launch.
fn notice(settled: &Settled) -> String {
    match settled {
        Settled::Adopted(run) => format!("adopted run {} for an unanswered launch", run.run_id),
        Settled::Abandoned => "an unanswered launch created no run; it was not re-sent".to_string(),
        Settled::Undecided(why) => format!("an unanswered launch is unresolved: {why}"),
    }
}

/// Journals how a launch was settled and follows the run it adopted; false when it could not
/// be recorded.
fn record_settled(
    st: &mut State,
    project_id: &str,
    event: Event,
    now: Instant,
    updates: &mut Vec<Update>,
) -> bool {
    let adopted = match &event {
        Event::Adopted { run_id, .. } => Some(RunKey::new(project_id, run_id)),
        _ => None,
    };
    if let Err(e) = st.record(event) {
        tracing::error!(error = %e, "could not record a reconciled launch");
        return false;
    }
    if let Some(key) = adopted {
        updates.extend(st.follow(&key, now, false));
    }
    true
}

/// Settles a project's pending launches if it has any (lock held by the caller). Fails with
/// the listing error when they could not be settled.
async fn settle_project(inner: &Arc<Shared>, project_id: &str) -> Result<(), HexError> {
    if !has_pending_here(inner, project_id) {
        return Ok(());
    }
    match list_with_retries(&inner.client, project_id).await {
        Ok(listed) => {
            settle(inner, project_id, &listed, None);
            Ok(())
        }
        Err(e) => {
            tracing::warn!(project = %project_id, error = %e, "cannot reconcile yet");
            Err(e)
        }
    }
}

/// Whether `project_id` has a pending launch of this engine's profile that is this process's
/// to settle (see [`settles_here`]).
fn has_pending_here(inner: &Arc<Shared>, project_id: &str) -> bool {
    let st = inner.lock();
    st.book.pending_launches().any(|p| {
        p.project_id == project_id
            && p.intent
                .as_ref()
                .is_none_or(|i| i.profile == inner.options.profile)
            && settles_here(&st, p)
    })
}

/// At start: settles every project's pending launches left by processes that are gone, each
/// under its project lock.
pub(crate) async fn reconcile_pending(inner: &Arc<Shared>) {
    reconcile(inner, true).await;
}

/// Now and then: settles launches of processes that died since (a cron job killed mid-launch),
/// saying nothing when they still cannot be settled (the start-up pass said so once).
pub(crate) async fn reconcile_orphans(inner: &Arc<Shared>) {
    reconcile(inner, false).await;
}

async fn reconcile(inner: &Arc<Shared>, announce: bool) {
    let mut projects: Vec<String> = {
        let st = inner.lock();
        st.book
            .pending_launches()
            .filter(|p| {
                p.intent
                    .as_ref()
                    .is_none_or(|i| i.profile == inner.options.profile)
                    && settles_here(&st, p)
            })
            .map(|p| p.project_id.clone())
            .collect()
    };
    projects.sort();
    projects.dedup();
    for project_id in projects {
        let lock = inner.project_lock(&project_id);
        let _guard = lock.lock().await;
        // A failure is reported below, as whatever is left pending.
        let _ = settle_project(inner, &project_id).await;
        if announce && has_pending_here(inner, &project_id) {
            inner.publish([Update::Launch(LaunchNotice {
                launch_id: String::new(),
                project_id: project_id.clone(),
                message: "a launch from an earlier session is unresolved: Hex could not be \
                          asked for the project's runs; hexdash checks again on its next start"
                    .into(),
            })]);
        }
    }
}
