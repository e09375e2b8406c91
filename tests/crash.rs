#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Crash safety of the exactly-once launch (DESIGN.md "Decisions that matter"), end to end with
//! the real binary: a `hexdash run PROJECT -p iter=N --wait` process is killed with SIGKILL at a
//! moment a seeded RNG picks, many times over one data dir and one in-process emulator, and after
//! each kill `hexdash watch` is started and must exit 0.
//!
//! Two moments are forced with the engine's test pauses (`HEXDASH_TEST_PAUSE_AT`): between the
//! synced launch intent and the POST (the run must be recorded `abandoned`, never sent later), and
//! right after Hex's 201, before the run id is journalled (the run must be `adopted`). The rest are
//! random delays (before the launch, while following, after the end).
//!
//! In every iteration a second `run --wait` of the same project starts at the same moment on the
//! same data dir (a rival, never killed), so two processes launch at once.
//!
//! After every restart it proves: (a) no run is lost: every run the emulator created is in the
//! journal as launched or adopted, by the very launch that created it (matched on `iter`); (b) none
//! was launched twice: at most one emulator run per iteration, one more at most per iteration, and
//! as many emulator runs as journal runs with a launch id; (c) `watch` leaves nothing active and no
//! launch pending; (d) each run's final status in the journal is the emulator's.
//!
//! `HEXDASH_CRASH_SEED=<u64>` replays another plan; the seed is printed either way.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use common::scenario::{self as sc, project};
use common::{Emu, Home};
use hexdash::emulator::RunRecord;
use hexdash::journal::{self, Event, JournalState, LaunchEnd};
use jiff::Timestamp;
use serde_json::Value;

const DEFAULT_SEED: u64 = 0x5eed_c4a5;
const ITERATIONS: usize = 24;
/// The rival launch of iteration N carries `iter = N + RIVAL`.
const RIVAL: u64 = 1000;
/// Runs take `duration_secs / SPEED`: 1–3 s of RUNNING after up to 0.4 s PENDING.
const SPEED: f64 = 4.0;

/// (id, alias) of the scenario's projects.
const PROJECTS: [(&str, &str); 3] = [
    ("cccccccc-0000-4000-8000-000000000001", "ingest"),
    ("cccccccc-0000-4000-8000-000000000002", "report"),
    ("cccccccc-0000-4000-8000-000000000003", "flaky"),
];

/// Guards against hangs only; nothing here is a timed assertion.
const WATCH_GUARD: Duration = Duration::from_secs(60);
const PAUSE_GUARD: Duration = Duration::from_secs(30);
/// How long a forced pause lasts: far longer than it takes to notice it and kill.
const PAUSE_MS: &str = "60000";

fn scenario() -> String {
    // Far above what 24 launches and their polls need: this test is about crashes, not 429s.
    let mut scenario = sc::scenario()
        .seed(7)
        .app_url("https://app.hex.tech/crash-test")
        .unlimited();
    for (i, (id, alias)) in PROJECTS.iter().enumerate() {
        let failure_rate = if *alias == "flaky" { 0.5 } else { 0.0 };
        scenario = scenario.project(
            project(id, &format!("Crash {alias} {i}"))
                .param("iter", "number", "0")
                .runs([0.0, 1.6], [4.0, 12.0])
                .run(&format!("failure_rate = {failure_rate:?}")),
        );
    }
    scenario.toml()
}

fn config() -> String {
    // As the emulator's limits: this test is about crashes, not the request budget its
    // processes share (one token, one ledger).
    let mut config = sc::config().unlimited();
    for (id, alias) in PROJECTS {
        config = config.project(id, alias, Some(r#"[{ name = "iter", type = "number" }]"#));
    }
    config.toml()
}

/// Where a kill was aimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// Paused right after the intent is synced; killed once the journal shows it.
    AfterIntent,
    /// Paused right after the 201; killed once the emulator has the run.
    AfterPost,
    /// Killed after a random delay.
    Delay(Duration),
    /// Killed (a no-op) only after the process ended by itself.
    AfterExit,
}

/// Where a kill landed, judged from the journal and the emulator right after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Moment {
    BeforeIntent,
    BetweenIntentAndPost,
    AfterPostBeforeRecord,
    WhileFollowing,
    AfterRunEnded,
    AfterExit,
}

/// A child process that is always killed and reaped, also when the test panics.
struct Reaped {
    child: Child,
}

impl Reaped {
    fn spawn(cmd: &mut Command) -> Reaped {
        Reaped {
            child: cmd.spawn().expect("spawn hexdash"),
        }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// SIGKILL (on unix) and reap.
    fn kill(&mut self) -> ExitStatus {
        // Fails only if it already exited, which is fine: `wait` reaps either way.
        let _ = self.child.kill();
        self.child.wait().expect("wait for a killed child")
    }

    /// Waits for the process to end by itself, killing it if `guard` passes first.
    fn wait_guarded(&mut self, guard: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + guard;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The emulator at `SPEED`, and a home with the config and an `out/` dir for the output of
/// every process.
fn started() -> (Emu, Home) {
    let emu = Emu::start_at_speed(&scenario(), SPEED);
    let home = Home::with_config(&config());
    std::fs::create_dir_all(home.path().join("out")).unwrap();
    (emu, home)
}

fn out_path(home: &Home, name: &str) -> PathBuf {
    home.path().join("out").join(name)
}

/// `hexdash ARGS` with stdout and stderr going to `out/NAME.out` and `out/NAME.err`.
fn command(emu: &Emu, home: &Home, name: &str, args: &[&str]) -> Command {
    let mut cmd = home.spawn_against(emu, args);
    cmd.stdout(File::create(out_path(home, &format!("{name}.out"))).unwrap())
        .stderr(File::create(out_path(home, &format!("{name}.err"))).unwrap());
    cmd
}

fn output_of(home: &Home, name: &str) -> String {
    let read = |ext: &str| {
        std::fs::read_to_string(out_path(home, &format!("{name}.{ext}"))).unwrap_or_default()
    };
    format!(
        "--- {name} stdout:\n{}--- {name} stderr:\n{}",
        read("out"),
        read("err")
    )
}

fn book(home: &Home) -> JournalState {
    let loaded = journal::load(home.store_file()).unwrap();
    JournalState::replay(&loaded.events)
}

/// The store's events, one JSON object per line, for failure messages.
fn journal_text(home: &Home) -> String {
    if !home.store_file().exists() {
        return String::new();
    }
    journal::load(home.store_file())
        .map(|l| {
            l.events
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default() + "\n")
                .collect()
        })
        .unwrap_or_else(|e| format!("(unreadable: {e})"))
}

/// The `iter` parameter a launch or run carries.
fn iter_of(params: &indexmap::IndexMap<String, Value>) -> Option<u64> {
    params.get("iter").and_then(Value::as_u64)
}

fn emulator_runs_of(runs: &[RunRecord], iter: u64) -> usize {
    runs.iter()
        .filter(|r| iter_of(&r.input_params) == Some(iter))
        .count()
}

/// What the journal says about iteration `iter`'s launch.
#[derive(Debug, Default)]
struct LaunchFacts {
    intents: usize,
    pending: usize,
    /// Runs recorded for it: (adopted, active).
    runs: Vec<(bool, bool)>,
    abandoned: usize,
    failed: usize,
}

fn launch_facts(book: &JournalState, iter: u64) -> LaunchFacts {
    let mut f = LaunchFacts::default();
    for p in book.pending_launches() {
        if p.intent.as_ref().and_then(|i| iter_of(&i.params)) == Some(iter) {
            f.pending += 1;
        }
    }
    for r in book.runs() {
        if r.intent.as_ref().and_then(|i| iter_of(&i.params)) == Some(iter) {
            f.runs.push((r.adopted, r.is_active()));
        }
    }
    for e in book.ended_launches() {
        if e.intent.as_ref().and_then(|i| iter_of(&i.params)) == Some(iter) {
            match e.end {
                LaunchEnd::Abandoned { .. } => f.abandoned += 1,
                LaunchEnd::Failed { .. } => f.failed += 1,
            }
        }
    }
    f.intents = f.pending + f.runs.len() + f.abandoned + f.failed;
    f
}

/// When iteration `iter`'s launch was reconciled (recorded `adopted` or `abandoned`), and
/// whether its own process had found its outcome unknown first (then it reconciles the launch
/// itself, alive).
fn reconciled_at(home: &Home, iter: u64) -> Option<(Timestamp, bool)> {
    let events = journal::load(home.store_file()).unwrap().events;
    let launch_id = events.iter().find_map(|e| match &e.event {
        Event::LaunchIntent(i) if iter_of(&i.params) == Some(iter) => Some(i.launch_id.clone()),
        _ => None,
    })?;
    let of_launch = |e: &&journal::Envelope| e.event.launch_id() == Some(launch_id.as_str());
    let unknown = events
        .iter()
        .filter(of_launch)
        .any(|e| matches!(e.event, Event::LaunchOutcomeUnknown { .. }));
    events
        .iter()
        .filter(of_launch)
        .find(|e| matches!(e.event, Event::Adopted { .. } | Event::Abandoned { .. }))
        .map(|e| (e.at, unknown))
}

/// Waits until `ready` holds, the child exits, or the guard passes; true when `ready` held.
fn wait_for(child: &mut Reaped, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PAUSE_GUARD;
    while Instant::now() < deadline {
        if ready() {
            return true;
        }
        if child.exited().is_some() {
            return ready();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

/// The plan: four of each forced moment, two kills only after the process ended by itself, the
/// rest random delays of 0–1500 ms (half of them 0–100 ms); shuffled.
fn plan(rng: &mut fastrand::Rng) -> Vec<(Aim, usize)> {
    let mut aims = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        let aim = match i % 6 {
            0 => Aim::AfterIntent,
            1 => Aim::AfterPost,
            2 if i % 12 == 2 => Aim::AfterExit,
            // Half of the delays are short, to land during start-up, before the intent.
            _ if rng.bool() => Aim::Delay(Duration::from_millis(rng.u64(0..=100))),
            _ => Aim::Delay(Duration::from_millis(rng.u64(0..=1500))),
        };
        aims.push((aim, rng.usize(0..PROJECTS.len())));
    }
    rng.shuffle(&mut aims);
    aims
}

// The forced pauses are debug-build test hooks (`cargo test`); a release binary has none.
#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test pauses")]
#[test]
fn sigkill_at_any_moment_loses_no_run_and_launches_none_twice() {
    let seed = common::seeded::seed("HEXDASH_CRASH_SEED", DEFAULT_SEED);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (emu, home) = started();
    let started = Instant::now();
    let mut moments: BTreeMap<Moment, usize> = BTreeMap::new();
    let mut outcomes: BTreeMap<&str, usize> = BTreeMap::new();

    for (n, (aim, project)) in plan(&mut rng).into_iter().enumerate() {
        let iter = n as u64 + 1;
        let alias = PROJECTS[project].1;
        let runs_before = emu.runs().len();
        let run_name = format!("{iter:02}-run");
        let iter_arg = format!("iter={iter}");
        let mut cmd = command(
            &emu,
            &home,
            &run_name,
            &["run", alias, "-p", &iter_arg, "--wait"],
        );
        match aim {
            Aim::AfterIntent => {
                cmd.env("HEXDASH_TEST_PAUSE_AT", "after_intent")
                    .env("HEXDASH_TEST_PAUSE_MS", PAUSE_MS);
            }
            Aim::AfterPost => {
                cmd.env("HEXDASH_TEST_PAUSE_AT", "after_post")
                    .env("HEXDASH_TEST_PAUSE_MS", PAUSE_MS);
            }
            Aim::Delay(_) | Aim::AfterExit => {}
        }
        let context = |what: &str| {
            format!(
                "iteration {iter} (seed {seed}, {aim:?}, project {alias}): {what}\n{}\n--- \
                 journal:\n{}",
                output_of(&home, &run_name),
                journal_text(&home)
            )
        };

        let mut child = Reaped::spawn(&mut cmd);
        // A second process launches the same project at the same moment, on the same store, and
        // runs to its end: the killed launch must never take its run, nor it the killed one's.
        let rival_iter = format!("iter={}", iter + RIVAL);
        let rival_name = format!("{iter:02}-rival");
        let mut rival = Reaped::spawn(&mut command(
            &emu,
            &home,
            &rival_name,
            &["run", alias, "-p", &rival_iter, "--wait"],
        ));
        let mut exited_by_itself = None;
        match aim {
            Aim::AfterIntent => {
                let seen = wait_for(&mut child, || launch_facts(&book(&home), iter).pending == 1);
                assert!(seen, "{}", context("the intent never showed up"));
            }
            Aim::AfterPost => {
                let seen = wait_for(&mut child, || emulator_runs_of(&emu.runs(), iter) == 1);
                assert!(
                    seen,
                    "{}",
                    context("the run never showed up on the emulator")
                );
                // Paused before it records the run, the child has not settled its launch, and
                // while it lives nobody else may.
                if child.exited().is_none() {
                    assert_eq!(
                        launch_facts(&book(&home), iter).pending,
                        1,
                        "{}",
                        context("the launch of a live, paused hexdash was settled by another")
                    );
                }
            }
            Aim::Delay(d) => std::thread::sleep(d),
            Aim::AfterExit => {
                exited_by_itself = child.wait_guarded(WATCH_GUARD);
                assert!(exited_by_itself.is_some(), "{}", context("run --wait hung"));
            }
        }
        exited_by_itself = exited_by_itself.or_else(|| child.exited());
        let kill_sent = Timestamp::now();
        child.kill();

        // Where did the kill land? A launch still pending is told apart after the restart, by
        // whether Hex has its run: a random kill may land while the POST is in flight. So is one
        // the rival reconciled after the kill: it sees the killed process gone at once (the
        // kernel says so) and adopts or abandons its launch, sometimes before this look (seed
        // 1592640677 under load: adopted 6 ms after the kill, then taken for a kill while
        // following). Only a reconciliation recorded before the kill, while the child lived and
        // had not lost an answer, was another process taking a live process's launch.
        let facts = launch_facts(&book(&home), iter);
        let reconciled = reconciled_at(&home, iter);
        if let Some((at, false)) = reconciled {
            assert!(
                at > kill_sent,
                "{}",
                context(&format!(
                    "the launch was reconciled at {at}, before the kill at {kill_sent}, by a \
                     process other than its live launcher"
                ))
            );
        }
        let landed = if let Some(status) = exited_by_itself {
            // COMPLETED exits 0, ERRORED 1.
            assert!(
                matches!(status.code(), Some(0 | 1)),
                "{}",
                context(&format!("run --wait ended by itself with {status}"))
            );
            Some(Moment::AfterExit)
        } else if facts.intents == 0 {
            Some(Moment::BeforeIntent)
        } else if facts.pending == 1 || reconciled.is_some() {
            None
        } else if facts.runs.iter().any(|&(_, active)| active) {
            Some(Moment::WhileFollowing)
        } else {
            Some(Moment::AfterRunEnded)
        };

        let rival_status = rival.wait_guarded(WATCH_GUARD);
        assert!(
            rival_status.is_some_and(|s| matches!(s.code(), Some(0 | 1))),
            "{}\n{}",
            context(&format!("the rival run ended with {rival_status:?}")),
            output_of(&home, &rival_name)
        );

        // Restart: `watch` re-attaches, settles the launch, follows until nothing is active.
        let watch_name = format!("{iter:02}-watch");
        let mut watch = Reaped::spawn(&mut command(&emu, &home, &watch_name, &["watch"]));
        let status = watch.wait_guarded(WATCH_GUARD);
        let context = |what: &str| {
            format!(
                "{}\n{}",
                context(&format!("after the kill at {landed:?}: {what}")),
                output_of(&home, &watch_name)
            )
        };
        let status = status.unwrap_or_else(|| panic!("{}", context("watch hung")));
        assert_eq!(status.code(), Some(0), "{}", context("watch failed"));

        let book = book(&home);
        let on_hex = emu.runs();
        let launched: Vec<_> = book.runs().filter(|r| r.launch_id.is_some()).collect();
        // (a) No run lost: every emulator run is the journal's, from the launch that made it.
        for run in &on_hex {
            let Some(known) = book.run(&run.project_id, &run.run_id) else {
                panic!("{}", context(&format!("run {} is lost", run.run_id)));
            };
            assert!(
                known.launch_id.is_some(),
                "{}",
                context(&format!("run {} has no launch", run.run_id))
            );
            let intent_iter = known.intent.as_ref().and_then(|i| iter_of(&i.params));
            assert_eq!(
                intent_iter,
                iter_of(&run.input_params),
                "{}",
                context(&format!("run {} is tied to the wrong launch", run.run_id))
            );
            // (d) The journal's final status is Hex's.
            assert!(
                run.status.is_terminal(),
                "{}",
                context(&format!("run {} still active on the emulator", run.run_id))
            );
            assert_eq!(
                known.status.as_ref(),
                Some(&run.status),
                "{}",
                context(&format!("run {} final status differs", run.run_id))
            );
        }
        // (b) Nothing launched twice.
        assert_eq!(
            on_hex.len(),
            launched.len(),
            "{}",
            context("emulator runs and journal runs with a launch id differ")
        );
        assert!(
            on_hex.len() <= runs_before + 2,
            "{}",
            context(&format!(
                "{} runs created by one iteration and its rival",
                on_hex.len() - runs_before
            ))
        );
        let mut iters = HashSet::new();
        for run in &on_hex {
            assert!(
                iters.insert(iter_of(&run.input_params)),
                "{}",
                context(&format!("a second run for {:?}", run.input_params))
            );
        }
        // (c) Everything settled.
        let active: Vec<_> = book.active_runs().map(|r| r.run_id.clone()).collect();
        assert!(
            active.is_empty(),
            "{}",
            context(&format!("active: {active:?}"))
        );
        let pending: Vec<_> = book
            .pending_launches()
            .map(|p| p.launch_id.clone())
            .collect();
        assert!(
            pending.is_empty(),
            "{}",
            context(&format!("pending: {pending:?}"))
        );
        // This iteration's launch ended exactly one way, and the right one for the moment.
        let facts = launch_facts(&book, iter);
        let outcome = match (facts.runs.as_slice(), facts.abandoned, facts.failed) {
            ([], 0, 0) if facts.intents == 0 => "no launch",
            ([(false, _)], 0, 0) => "launched",
            ([(true, _)], 0, 0) => "adopted",
            ([], 1, 0) => "abandoned",
            ([], 0, 1) => "failed",
            _ => panic!("{}", context(&format!("launch settled oddly: {facts:?}"))),
        };
        let rival_facts = launch_facts(&book, iter + RIVAL);
        assert!(
            matches!(
                (
                    rival_facts.runs.as_slice(),
                    rival_facts.abandoned,
                    rival_facts.failed
                ),
                ([(false, false)], 0, 0)
            ),
            "{}",
            context(&format!(
                "the rival's launch settled oddly: {rival_facts:?}"
            ))
        );
        let moment = landed.unwrap_or(if emulator_runs_of(&on_hex, iter) == 1 {
            Moment::AfterPostBeforeRecord
        } else {
            Moment::BetweenIntentAndPost
        });
        let expected = match moment {
            Moment::BeforeIntent => "no launch",
            Moment::BetweenIntentAndPost => "abandoned",
            Moment::AfterPostBeforeRecord => "adopted",
            Moment::WhileFollowing | Moment::AfterRunEnded | Moment::AfterExit => "launched",
        };
        assert_eq!(
            outcome,
            expected,
            "{}",
            context(&format!("the launch settled the wrong way for {moment:?}"))
        );
        match aim {
            Aim::AfterIntent => assert_eq!(
                moment,
                Moment::BetweenIntentAndPost,
                "{}",
                context("the kill missed the pause after the intent")
            ),
            Aim::AfterPost => assert_eq!(
                moment,
                Moment::AfterPostBeforeRecord,
                "{}",
                context("the kill missed the pause after the POST")
            ),
            Aim::Delay(_) | Aim::AfterExit => {}
        }
        *moments.entry(moment).or_default() += 1;
        assert_eq!(
            emulator_runs_of(&on_hex, iter),
            usize::from(matches!(outcome, "launched" | "adopted")),
            "{}",
            context("emulator runs for this iteration")
        );
        *outcomes.entry(outcome).or_default() += 1;
        println!("iteration {iter:2}: {aim:?} on {alias}: killed at {moment:?}, launch {outcome}");
    }

    let elapsed = started.elapsed();
    println!(
        "{ITERATIONS} kills in {:.1} s; moments: {moments:?}; launches: {outcomes:?}; {} runs",
        elapsed.as_secs_f64(),
        emu.runs().len()
    );
    let hit = |m: Moment| moments.get(&m).copied().unwrap_or(0);
    assert!(hit(Moment::BetweenIntentAndPost) >= 3, "{moments:?}");
    assert!(hit(Moment::AfterPostBeforeRecord) >= 3, "{moments:?}");
    let random: usize = [
        Moment::BeforeIntent,
        Moment::WhileFollowing,
        Moment::AfterRunEnded,
        Moment::AfterExit,
    ]
    .into_iter()
    .map(hit)
    .sum();
    assert!(random >= 10, "{moments:?}");
}
