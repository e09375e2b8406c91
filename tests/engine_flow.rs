#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The async engine end to end: `hexdash::engine::Engine` against an in-process emulator over
//! HTTP, with a journal in a temp dir. Launch and watch, exactly-once under injected faults
//! (5xx, 429, dropped connections before and after the effect, latency, cut-off bodies),
//! adoption of lost answers, re-sending only what provably created nothing, re-attach after a
//! restart, reconciliation of intents a crash left behind, cancel until dead (and not
//! confirmed), kill on timeout, the duplicate guard, the read-only second engine, and 429
//! pauses of polling.
//!
//! Every assertion is on what a user or Hex would see: the updates the engine publishes, the
//! journal on disk, and the runs and requests the emulator recorded. Runs last a few seconds at
//! most and the poll policy is sped up, so the whole target runs in well under a minute;
//! timeouts only guard against hangs and never judge speed. Randomness is seeded (the scenario
//! seed drives the emulator's run outcomes and its fault draws); where several requests race,
//! timing decides which request meets which draw, so those tests assert invariants, not one
//! exact sequence.
//!
//! This file holds the harness and the launch/watch tests; `engine_flow/` holds the fault,
//! restart and cancel tests.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::scenario::{self as sc, project};
use common::serve;
use hexdash::clock::{ManualClock, SharedClock};
use hexdash::emulator::{Faults, RequestRecord, RunningEmulator};
use hexdash::engine::{
    Change, DuplicatePolicy, Engine, EngineOptions, LaunchError, LaunchRequest, PollPolicy, RunKey,
    RunView, Started, Update,
};
use hexdash::hex::types::RunProjectRequest;
use hexdash::hex::{Client, Limits, Operation, RunStatus};
use hexdash::journal::{
    self, CancelState, Envelope, Event, Journal, JournalState, LaunchIntent, LaunchOptions, Origin,
};
use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::sync::broadcast::{self, error::RecvError};

// Cargo builds no test targets of their own from files in a subdirectory without a main.rs, so
// these are modules of this target and share its harness.
#[path = "engine_flow/cancel.rs"]
mod cancel;
#[path = "engine_flow/discovery.rs"]
mod discovery;
#[path = "engine_flow/faults.rs"]
mod faults;
#[path = "engine_flow/restart.rs"]
mod restart;

/// PENDING briefly, then RUNNING for 1.5 s (several polls), then COMPLETED.
const FAST: &str = "e0000000-0000-4000-8000-000000000001";
/// RUNNING for three seconds: still active across an engine restart.
const SLOW: &str = "e0000000-0000-4000-8000-000000000002";
/// RUNNING until cancelled.
const HANG: &str = "e0000000-0000-4000-8000-000000000003";
/// Three projects for the fault test.
const ALPHA: &str = "e0000000-0000-4000-8000-00000000000a";
const BETA: &str = "e0000000-0000-4000-8000-00000000000b";
const GAMMA: &str = "e0000000-0000-4000-8000-00000000000c";

/// Only guards against hangs: every wait in this file normally ends within a few seconds.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn scenario(seed: u64) -> String {
    let numbered = |id, title| project(id, title).published(2.0).param("n", "number", "0");
    let quick = |id, title| numbered(id, title).runs([0.0, 0.5], [0.5, 2.0]);
    sc::scenario()
        .seed(seed)
        .limits("requests_per_minute = 100000\nrun_per_minute = 10000\nrun_per_hour = 10000")
        .project(numbered(FAST, "Fast").runs([0.3, 0.3], [1.5, 1.5]))
        .project(numbered(SLOW, "Slow").runs([0.0, 0.0], [3.0, 3.0]))
        .project(numbered(HANG, "Hangs").hangs(0.0))
        .project(quick(ALPHA, "Alpha"))
        .project(quick(BETA, "Beta"))
        .project(quick(GAMMA, "Gamma"))
        .toml()
}

/// One emulator and one journal path per test.
struct Env {
    emu: RunningEmulator,
    dir: tempfile::TempDir,
}

async fn env(seed: u64) -> Env {
    env_with_clock(seed, hexdash::clock::system()).await
}

async fn env_with_clock(seed: u64, clock: SharedClock) -> Env {
    let emu = serve(&scenario(seed), clock).await;
    Env {
        emu,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    fn journal_path(&self) -> PathBuf {
        self.dir.path().join("data").join(journal::FILE_NAME)
    }

    fn client(&self) -> Client {
        let mut s = common::settings(&self.emu.base_url());
        // The emulator's limits are raised to match, so the budget never holds a test back.
        s.limits = Limits {
            requests_per_minute: 6000,
            launches_per_minute: 1000,
            launches_per_hour: 1000,
            reserved_for_actions: 60,
        };
        s.max_backoff = Duration::from_millis(300);
        s.connect_timeout = Duration::from_secs(5);
        s.request_timeout = Duration::from_secs(5);
        Client::new(s).unwrap()
    }

    fn options(&self) -> EngineOptions {
        let mut o = EngineOptions::new("test", self.journal_path());
        o.policy = PollPolicy {
            young_interval: Duration::from_millis(200),
            max_interval: Duration::from_millis(500),
            focused_interval: Duration::from_millis(200),
            cancel_interval: Duration::from_millis(100),
            near_end_interval: Duration::from_millis(200),
            far_from_end_interval: Duration::from_millis(500),
            near_end_slack: Duration::from_millis(500),
            error_backoff: Duration::from_millis(100),
            error_backoff_cap: Duration::from_secs(1),
            rate_limit_fallback: Duration::from_millis(500),
            ..PollPolicy::default()
        };
        o.cancel_deadline = Duration::from_secs(20);
        o
    }

    fn start_with(&self, options: EngineOptions) -> Started {
        Engine::start(self.client(), options).unwrap()
    }

    fn engine(&self) -> Engine {
        self.start_with(self.options()).engine
    }

    fn set_faults(&self, faults: Value) {
        let faults: Faults = serde_json::from_value(faults).unwrap();
        self.emu.control().set_faults(faults).unwrap();
    }

    fn clear_faults(&self) {
        self.emu.control().set_faults(Faults::default()).unwrap();
    }

    fn requests(&self, op: Operation) -> Vec<RequestRecord> {
        self.emu
            .control()
            .requests()
            .into_iter()
            .filter(|r| r.operation == Some(op))
            .collect()
    }

    fn envelopes(&self) -> Vec<Envelope> {
        let loaded = journal::load(self.journal_path()).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        loaded.events
    }

    fn journal(&self) -> JournalState {
        JournalState::replay(&self.envelopes())
    }

    /// The kinds of the journal events about `key`, in order.
    fn run_kinds(&self, key: &RunKey) -> Vec<&'static str> {
        self.envelopes()
            .iter()
            .filter(|e| e.event.run() == Some((&key.project_id, &key.run_id)))
            .map(|e| e.event.kind())
            .collect()
    }

    /// The kinds of the journal events of one launch (intent to resolution), in order.
    fn launch_kinds(&self, launch_id: &str) -> Vec<&'static str> {
        self.envelopes()
            .iter()
            .filter(|e| e.event.launch_id() == Some(launch_id))
            .map(|e| e.event.kind())
            .collect()
    }
}

fn params(n: i64) -> IndexMap<String, Value> {
    IndexMap::from([("n".to_string(), json!(n))])
}

fn request(project_id: &str, n: i64) -> LaunchRequest {
    LaunchRequest {
        project_id: project_id.to_string(),
        project_title: None,
        params: params(n),
        options: LaunchOptions::default(),
        origin: Origin::Cli,
        duplicates: DuplicatePolicy::Warn,
        focused: false,
    }
}

async fn guard<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(HANG_GUARD, f).await {
        Ok(out) => out,
        Err(_) => panic!("gave up after {HANG_GUARD:?} waiting for {what}"),
    }
}

/// Receives updates until `pick` returns something.
async fn until<T>(
    rx: &mut broadcast::Receiver<Update>,
    what: &str,
    mut pick: impl FnMut(&Update) -> Option<T>,
) -> T {
    guard(what, async {
        loop {
            match rx.recv().await {
                Ok(update) => {
                    if let Some(found) = pick(&update) {
                        return found;
                    }
                }
                Err(RecvError::Lagged(n)) => panic!("subscriber lagged by {n} updates"),
                Err(RecvError::Closed) => panic!("engine stopped while waiting for {what}"),
            }
        }
    })
    .await
}

/// Every change to `key`, in order, up to and including the first `last`.
async fn changes_until(
    rx: &mut broadcast::Receiver<Update>,
    key: &RunKey,
    last: Change,
) -> Vec<(Change, RunView)> {
    let mut seen = Vec::new();
    until(rx, &format!("{last:?} of run {}", key.run_id), |u| {
        if let Update::Run { change, view } = u
            && view.key == *key
        {
            seen.push((change.clone(), (**view).clone()));
            if *change == last {
                return Some(());
            }
        }
        None
    })
    .await;
    seen
}

fn changes(seen: &[(Change, RunView)]) -> Vec<Change> {
    seen.iter().map(|(c, _)| c.clone()).collect()
}

/// Where each of `wanted` first appears in `items`, asserting that all appear, in that order.
fn in_order<T: PartialEq + std::fmt::Debug, const N: usize>(
    items: &[T],
    wanted: [T; N],
) -> [usize; N] {
    let at = wanted.each_ref().map(|w| items.iter().position(|i| i == w));
    assert!(
        at.iter().all(Option::is_some) && at.windows(2).all(|p| p[0] < p[1]),
        "expected {wanted:?} in this order in {items:?}"
    );
    at.map(|p| p.unwrap_or_default())
}

async fn wait_ended(engine: &Engine, key: &RunKey) -> RunView {
    guard(
        &format!("the end of run {}", key.run_id),
        engine.wait_ended(key),
    )
    .await
    .expect("the engine follows the run")
}

/// Launches on the hanging project and waits until Hex reports it RUNNING.
async fn launch_running(
    engine: &Engine,
    rx: &mut broadcast::Receiver<Update>,
    request: LaunchRequest,
) -> RunKey {
    let key = guard("launch", engine.launch(request)).await.unwrap().key;
    until(rx, "RUNNING", |u| match u {
        Update::Run { view, .. } if view.key == key && view.status == Some(RunStatus::Running) => {
            Some(())
        }
        _ => None,
    })
    .await;
    key
}

/// Starts an engine again on the same store, as a restarted hexdash would. (Any number of
/// engines may share a store, so there is nothing to wait for.)
async fn start_writer(env: &Env, options: &EngineOptions) -> Started {
    env.start_with(options.clone())
}

/// The happy path, and what it leaves behind in the journal and on Hex's side.
#[tokio::test]
async fn a_launch_is_watched_until_it_completes_and_journalled() {
    let env = env(1).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();

    let launched = guard("launch", engine.launch(request(FAST, 1)))
        .await
        .unwrap();
    assert!(!launched.adopted && !launched.dry_run);
    assert!(launched.duplicates.is_empty());
    assert!(launched.run_url.is_some());
    let key = launched.key.clone();
    assert_eq!(key.project_id, FAST);

    let seen = changes_until(&mut rx, &key, Change::Ended).await;
    let kinds = changes(&seen);
    assert_eq!(kinds.first(), Some(&Change::Watching), "{kinds:?}");
    assert!(kinds.contains(&Change::Status), "{kinds:?}");
    assert!(
        !kinds.contains(&Change::Stale),
        "no fault, nothing stale: {kinds:?}"
    );
    for (change, view) in &seen {
        assert_eq!(view.launch_id.as_deref(), Some(launched.launch_id.as_str()));
        if *change != Change::Watching {
            assert!(view.observed_at.is_some(), "{change:?} without observed_at");
        }
    }
    let (_, last) = seen.last().unwrap();
    assert_eq!(last.status, Some(RunStatus::Completed));
    assert!(last.start_time.is_some() && last.end_time.is_some());
    assert!(
        last.timeline
            .iter()
            .any(|(s, _)| *s == RunStatus::Completed)
    );
    assert_eq!(engine.active_count(), 0);
    assert_eq!(
        engine.view(&key).unwrap().status,
        Some(RunStatus::Completed)
    );
    assert!(engine.data_age(&key).is_some());

    // The journal, read back from disk as a restarted hexdash would.
    let book = env.journal();
    assert_eq!(book.pending_launches().count(), 0);
    let record = book.run(FAST, &key.run_id).expect("the run is journalled");
    assert_eq!(
        record.launch_id.as_deref(),
        Some(launched.launch_id.as_str())
    );
    assert_eq!(record.params(), Some(&params(1)));
    assert_eq!(record.status, Some(RunStatus::Completed));
    assert_eq!(
        env.launch_kinds(&launched.launch_id),
        ["launch_intent", "launched"]
    );
    let run_kinds = env.run_kinds(&key);
    assert_eq!(run_kinds.first(), Some(&"launched"));
    assert!(run_kinds[1..].iter().all(|k| *k == "status_changed"));
    assert!(run_kinds.len() >= 3, "at least one status before COMPLETED");

    // Hex's side: one run, with our parameter, and exactly one RunProject.
    let runs = env.emu.control().runs();
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].run_id, key.run_id);
    assert_eq!(runs[0].status, RunStatus::Completed);
    assert_eq!(runs[0].input_params.get("n"), Some(&json!(1)));
    assert_eq!(env.requests(Operation::RunProject).len(), 1);
}

/// A dry run is validated by Hex and runs nothing: nothing is journalled or watched.
#[tokio::test]
async fn a_dry_run_is_sent_but_neither_journalled_nor_watched() {
    let env = env(13).await;
    let engine = env.engine();
    let mut req = request(FAST, 13);
    req.options.dry_run = true;
    let launched = guard("dry run", engine.launch(req)).await.unwrap();
    assert!(launched.dry_run);
    assert!(engine.snapshot().is_empty());
    assert_eq!(engine.active_count(), 0);
    assert!(env.envelopes().is_empty(), "{:?}", env.envelopes());
    let posts = env.requests(Operation::RunProject);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].status, Some(201));
    assert!(env.emu.control().runs().is_empty());
}

/// A followed run Hex does not know (404 again and again) is given up as lost, not polled
/// forever.
#[tokio::test]
async fn a_run_hex_does_not_know_is_given_up_as_lost() {
    let env = env(14).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let key = RunKey::new(FAST, "0badc0de-0000-4000-8000-000000000000");
    engine.watch(&key, Origin::Cli).unwrap();
    let seen = changes_until(&mut rx, &key, Change::Lost).await;
    let kinds = changes(&seen);
    assert_eq!(kinds.first(), Some(&Change::Watching), "{kinds:?}");
    assert!(kinds.contains(&Change::Stale), "{kinds:?}");
    let (_, last) = seen.last().unwrap();
    assert!(
        last.stale.as_deref().unwrap().contains("no longer knows"),
        "{last:?}"
    );
    assert_eq!(engine.active_count(), 0, "no longer polled");
    let polls: Vec<Option<u16>> = env
        .requests(Operation::GetRunStatus)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(polls, [Some(404); 3]);
    assert_eq!(env.run_kinds(&key), ["watch"]);
}

/// Hex refusing a launch (422: a parameter of the wrong type) is final: journalled as failed,
/// sent once, nothing left to reconcile.
#[tokio::test]
async fn a_refused_launch_is_journalled_as_failed_and_not_resent() {
    let env = env(16).await;
    let engine = env.engine();
    let mut req = request(FAST, 0);
    req.params = IndexMap::from([("n".to_string(), json!("ten"))]);
    let err = match guard("refused launch", engine.launch(req)).await {
        Err(LaunchError::Hex(e)) => e,
        other => panic!("expected Hex's refusal, got {other:?}"),
    };
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(err.to_string().contains("\"ten\""), "{err}");
    assert_eq!(env.requests(Operation::RunProject).len(), 1);
    assert!(env.emu.control().runs().is_empty());
    let book = env.journal();
    assert_eq!(book.pending_launches().count(), 0);
    let ended = book.ended_launches();
    assert_eq!(ended.len(), 1);
    assert_eq!(
        env.launch_kinds(&ended[0].launch_id),
        ["launch_intent", "launch_failed"]
    );
    assert!(engine.snapshot().is_empty());
}

/// Runs hexdash did not launch can be followed: `watch_project` finds the project's active
/// runs, journals them as watched, and follows them to their end.
#[tokio::test]
async fn runs_started_elsewhere_are_followed_by_watching_their_project() {
    let env = env(18).await;
    let body = RunProjectRequest {
        input_params: Some(params(99)),
        ..RunProjectRequest::default()
    };
    let foreign = env.client().run_project(FAST, &body).await.unwrap();
    let key = RunKey::new(FAST, &foreign.run_id);
    let engine = env.engine();
    let found = guard("watch_project", engine.watch_project(FAST, Origin::Tui))
        .await
        .unwrap();
    assert_eq!(found, 1);
    assert_eq!(env.run_kinds(&key).first(), Some(&"watch"));
    let view = wait_ended(&engine, &key).await;
    assert_eq!(view.status, Some(RunStatus::Completed));
    assert_eq!(view.launch_id, None, "not launched by hexdash");
    assert_eq!(view.origin, Some(Origin::Tui));
    let record = env.journal();
    let record = record.run(FAST, &foreign.run_id).unwrap();
    assert_eq!(record.status, Some(RunStatus::Completed));
    assert_eq!(
        env.requests(Operation::RunProject).len(),
        1,
        "only the foreign one"
    );
}

/// The duplicate guard: same project and parameters while the first is active.
#[tokio::test]
async fn the_duplicate_guard_refuses_or_warns() {
    let env = env(10).await;
    let engine = env.engine();
    let first = guard("launch", engine.launch(request(HANG, 10)))
        .await
        .unwrap();
    assert!(first.duplicates.is_empty());

    let mut refuse = request(HANG, 10);
    refuse.duplicates = DuplicatePolicy::Refuse;
    match guard("refused launch", engine.launch(refuse.clone())).await {
        Err(LaunchError::Duplicate { runs }) => assert_eq!(runs, std::slice::from_ref(&first.key)),
        other => panic!("expected a duplicate refusal, got {other:?}"),
    }
    assert_eq!(env.emu.control().runs().len(), 1, "nothing sent");
    assert_eq!(
        env.journal().pending_launches().count(),
        0,
        "nothing journalled"
    );

    // Other parameters are not a duplicate.
    let mut other = request(HANG, 11);
    other.duplicates = DuplicatePolicy::Refuse;
    let other = guard("other params", engine.launch(other)).await.unwrap();
    assert!(other.duplicates.is_empty());

    let warned = guard("warned launch", engine.launch(request(HANG, 10)))
        .await
        .unwrap();
    assert_eq!(warned.duplicates, std::slice::from_ref(&first.key));
    assert_ne!(warned.key, first.key);
    assert_eq!(env.emu.control().runs().len(), 3);
    let dups: BTreeSet<RunKey> = engine
        .duplicates_of(HANG, &params(10))
        .into_iter()
        .collect();
    assert_eq!(
        dups,
        BTreeSet::from([first.key.clone(), warned.key.clone()])
    );

    // Once the first is dead, only the second blocks a refusing launch.
    guard("cancel", engine.cancel(&first.key, Origin::Cli))
        .await
        .unwrap();
    wait_ended(&engine, &first.key).await;
    match guard("refused launch", engine.launch(refuse)).await {
        Err(LaunchError::Duplicate { runs }) => assert_eq!(runs, std::slice::from_ref(&warned.key)),
        other => panic!("expected a duplicate refusal, got {other:?}"),
    }
}

/// Two engines on one store (two hexdash processes on one data dir) both launch and cancel,
/// and each follows what the other did, through the store.
#[tokio::test]
async fn two_engines_on_one_store_launch_cancel_and_see_each_other() {
    let env = env(11).await;
    let first = env.engine();
    let launched = guard("launch", first.launch(request(SLOW, 11)))
        .await
        .unwrap();

    let second = env.start_with(env.options());
    assert_eq!(second.reattached, 1);
    let second = second.engine;
    let snapshot = second.snapshot();
    assert_eq!(snapshot.len(), 1);
    assert_eq!(snapshot[0].key, launched.key);
    assert_eq!(
        snapshot[0].launched_by.as_ref().map(|l| l.pid),
        Some(std::process::id())
    );

    // The second launches too; the first follows that run without being told.
    let mut first_rx = first.subscribe();
    let other = guard("second launch", second.launch(request(FAST, 12)))
        .await
        .unwrap();
    until(
        &mut first_rx,
        "the first engine to follow the second's run",
        |u| match u {
            Update::Run { view, .. } if view.key == other.key => Some(()),
            _ => None,
        },
    )
    .await;

    // The second cancels the first's run; the first sees the cancel and the end.
    guard("cancel", second.cancel(&launched.key, Origin::Cli))
        .await
        .unwrap();
    let seen_by_first = wait_ended(&first, &launched.key).await;
    assert_eq!(seen_by_first.status, Some(RunStatus::Killed));
    assert!(
        !matches!(seen_by_first.cancel, CancelState::None),
        "the first engine saw the cancel: {:?}",
        seen_by_first.cancel
    );
    let seen_by_second = wait_ended(&second, &launched.key).await;
    assert_eq!(seen_by_second.status, Some(RunStatus::Killed));

    assert_eq!(env.requests(Operation::RunProject).len(), 2);
    assert_eq!(env.requests(Operation::CancelRun).len(), 1);
    let intents = env
        .envelopes()
        .iter()
        .filter(|e| matches!(e.event, Event::LaunchIntent(_)))
        .count();
    assert_eq!(intents, 2);
}

/// 429s on the status polls pause polling (shown in the health update), and polling
/// resumes afterwards until the run ends.
#[tokio::test]
async fn rate_limited_polls_pause_and_then_resume() {
    let env = env(12).await;
    let limited = json!({"error_rate": 1.0, "error_statuses": [429]});
    env.set_faults(json!({"GetRunStatus": limited, "GetProjectRuns": limited}));
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let launched = guard("launch", engine.launch(request(FAST, 12)))
        .await
        .unwrap();

    until(&mut rx, "a 429 pause", |u| match u {
        Update::Health(h) => h.paused_until.map(|_| ()),
        _ => None,
    })
    .await;
    let limited_polls = env
        .emu
        .control()
        .requests()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(limited_polls >= 1);
    assert_eq!(env.requests(Operation::RunProject).len(), 1);

    env.clear_faults();
    let mut resumed = false;
    let mut ended = None;
    until(&mut rx, "resume and end", |u| {
        match u {
            Update::Health(h) if h.paused_until.is_none() => resumed = true,
            Update::Run { change, view }
                if view.key == launched.key && *change == Change::Ended =>
            {
                ended = Some((**view).clone());
            }
            _ => {}
        }
        ended.is_some().then_some(())
    })
    .await;
    assert!(resumed, "the pause was lifted before polls went on");
    let ended = ended.unwrap();
    assert_eq!(ended.status, Some(RunStatus::Completed));
    assert!(ended.observed_at.is_some());
    assert!(engine.health().paused_until.is_none());
    // Polls went on after the 429s, and it was a poll that saw the end.
    let polls: Vec<Option<u16>> = env
        .emu
        .control()
        .requests()
        .iter()
        .filter(|r| r.operation != Some(Operation::RunProject))
        .map(|r| r.status)
        .collect();
    let first_ok = polls.iter().position(|s| *s == Some(200));
    let last_limited = polls.iter().rposition(|s| *s == Some(429));
    assert!(
        matches!((last_limited, first_ok), (Some(l), Some(o)) if l < o),
        "{polls:?}"
    );
}

/// `close` stops this engine's polling at once (the dashboard switching profile relies on
/// it); the next engine on the store re-attaches to the run.
#[tokio::test]
async fn close_stops_polling_and_the_next_engine_reattaches() {
    let env = env(13).await;
    let first = env.engine();
    let launched = guard("launch", first.launch(request(SLOW, 13)))
        .await
        .unwrap();
    first.close();
    let second = env.start_with(env.options());
    assert_eq!(second.reattached, 1);
    let ended = wait_ended(&second.engine, &launched.key).await;
    assert_eq!(ended.status, Some(RunStatus::Completed));
}
