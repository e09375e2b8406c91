#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The store on a real disk: numbering across reopen, many writers at once (handles in one
//! process and whole processes), the one-time import of an old `journal.jsonl` (damage and all),
//! and clear refusals of a store hexdash cannot use.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use hexdash::clock::ManualClock;
use hexdash::hex::RunStatus;
use hexdash::journal::{
    self, Event, Journal, JournalState, LaunchIntent, LaunchOptions, Opened, Origin, StatusChange,
};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::json;

fn journal_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join(journal::FILE_NAME)
}

fn writer(path: &Path) -> Journal {
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    Journal::open_with_clock(path, Arc::new(ManualClock::new(start)))
        .unwrap()
        .journal
}

fn watch(run: &str) -> Event {
    Event::Watch {
        project_id: "p".into(),
        run_id: run.into(),
        origin: Origin::Cli,
    }
}

fn intent(launch: &str) -> Event {
    Event::LaunchIntent(LaunchIntent {
        launch_id: launch.into(),
        project_id: "p".into(),
        project_title: None,
        params: IndexMap::from([("day".to_string(), json!("2026-01-01"))]),
        options: LaunchOptions::default(),
        origin: Origin::Tui,
        profile: "default".into(),
        launched_by: None,
    })
}

fn status(run: &str, status: RunStatus) -> Event {
    Event::StatusChanged(StatusChange {
        project_id: "p".into(),
        run_id: run.into(),
        status,
        start_time: None,
        end_time: None,
        elapsed_ms: None,
        observed_at: "2026-01-01T00:00:00Z".parse().unwrap(),
    })
}

fn seqs(path: &Path) -> Vec<u64> {
    journal::load(path)
        .unwrap()
        .events
        .iter()
        .map(|e| e.seq)
        .collect()
}

/// An old-format journal line.
fn legacy_line(seq: u64, event: &Event) -> String {
    let env = journal::Envelope {
        v: 1,
        seq,
        at: "2026-01-01T00:00:00Z".parse().unwrap(),
        event: event.clone(),
    };
    serde_json::to_string(&env).unwrap()
}

#[test]
fn creates_its_directory_and_continues_numbering_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    assert_eq!(j.append(watch("r1")).unwrap().seq, 1);
    assert_eq!(j.append(watch("r2")).unwrap().seq, 2);
    drop(j);

    let Opened {
        mut journal,
        loaded,
    } = Journal::open(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(loaded.last_seq, 2);
    assert_eq!(journal.append(watch("r3")).unwrap().seq, 3);
    assert_eq!(seqs(&path), [1, 2, 3]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the store holds run parameters");
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
}

/// What a data dir from a hexdash before the store holds: the old journal, with a damaged line,
/// an event kind from a newer version and a torn last line. It is imported once, in order, with
/// the same warnings the old loader gave, and kept as a backup.
#[test]
fn an_old_journal_is_imported_once_damage_and_all_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    hexdash::files::create_private_dir_all(path.parent().unwrap()).unwrap();
    let legacy = path.with_file_name(journal::LEGACY_FILE_NAME);
    let newer = r#"{"v":2,"seq":4,"at":"2026-01-01T00:00:00Z","event":"run_pinned","run_id":"r"}"#;
    let text = format!(
        "{}\n{}\n{{\"v\":1,\"se\n{newer}\n{}\n{}",
        legacy_line(1, &intent("l1")),
        legacy_line(2, &watch("r1")),
        legacy_line(5, &status("r1", RunStatus::Running)),
        &legacy_line(6, &watch("torn"))[..30],
    );
    fs::write(&legacy, &text).unwrap();

    let opened = Journal::open(&path).unwrap();
    let w = &opened.loaded.warnings;
    assert!(
        w.iter()
            .any(|w| w.contains("line 3: skipped a damaged line")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.contains("\"run_pinned\" event (seq 4)")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains("line 6: ignored an incomplete last line")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.contains("imported 3 events")), "{w:?}");
    let state = JournalState::replay(&opened.loaded.events);
    assert_eq!(state.pending_launches().count(), 1);
    assert_eq!(
        state.run("p", "r1").unwrap().status,
        Some(RunStatus::Running)
    );
    drop(opened);

    // Kept, byte for byte, and never imported twice.
    assert_eq!(fs::read_to_string(&legacy).unwrap(), text);
    let again = Journal::open(&path).unwrap();
    assert_eq!(again.loaded.events.len(), 3);
    assert!(
        again.loaded.warnings.is_empty(),
        "{:?}",
        again.loaded.warnings
    );
}

/// Two handles on one store (as two processes have): both write, each catches up with the
/// other, numbering is shared, and a check runs against what the other wrote.
#[test]
fn two_writers_share_one_numbering_and_see_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut a = writer(&path);
    let mut b = writer(&path);
    let (mut book_a, mut book_b) = (JournalState::default(), JournalState::default());
    assert_eq!(a.record(&mut book_a, watch("r1")).unwrap().envelope.seq, 1);
    let second = b.record(&mut book_b, watch("r2")).unwrap();
    assert_eq!(second.envelope.seq, 2);
    assert_eq!(second.foreign.len(), 1, "b folded a's event first");
    // A pipeline cancelled by one writer refuses the other's step launch.
    b.record(
        &mut book_b,
        Event::Pipeline {
            pipeline_run_id: "pl".into(),
            kind: journal::PIPELINE_CANCEL.into(),
            data: json!({}),
        },
    )
    .unwrap();
    let mut step = intent("l9");
    if let Event::LaunchIntent(i) = &mut step {
        i.origin = Origin::Pipeline {
            pipeline_run_id: "pl".into(),
            step_id: "s".into(),
            attempt: 1,
        };
    }
    let refused = a.record(&mut book_a, step).unwrap_err();
    assert!(
        matches!(refused, journal::Error::PipelineCancelled { .. }),
        "{refused}"
    );
    b.catch_up(&mut book_b).unwrap();
    assert_eq!(book_a, book_b);
    assert_eq!(seqs(&path), [1, 2, 3]);
}

const CHILD_ENV: &str = "HEXDASH_TEST_STORE_WRITER";
const CHILD_EVENTS: usize = 200;

/// Not a test on its own: the body of the child processes in the test below. Records
/// `CHILD_EVENTS` events as fast as it can.
#[test]
fn store_writer_child() {
    let Some(spec) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let spec = spec.into_string().unwrap();
    let (path, name) = spec.split_once('|').unwrap();
    let mut j = Journal::open(PathBuf::from(path)).unwrap().journal;
    let mut book = JournalState::default();
    for i in 0..CHILD_EVENTS {
        j.record(&mut book, watch(&format!("{name}-{i}"))).unwrap();
    }
}

/// Processes writing one store at once: nobody is refused, nothing is lost or numbered twice.
#[test]
fn four_processes_write_one_store_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    drop(writer(&path));
    let children: Vec<_> = (0..4)
        .map(|n| {
            Command::new(std::env::current_exe().unwrap())
                .args(["store_writer_child", "--exact", "--test-threads=1"])
                .env(CHILD_ENV, format!("{}|c{n}", path.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let loaded = journal::load(&path).unwrap();
    assert_eq!(loaded.events.len(), 4 * CHILD_EVENTS);
    let numbers = seqs(&path);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]));
    let state = JournalState::replay(&loaded.events);
    for n in 0..4 {
        for i in 0..CHILD_EVENTS {
            assert!(
                state.run("p", &format!("c{n}-{i}")).is_some(),
                "c{n}-{i} lost"
            );
        }
    }
}

#[test]
fn a_store_from_a_newer_hexdash_or_not_a_store_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    drop(writer(&path));
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(e.contains("written by a newer hexdash (schema 99"), "{e}");
    assert!(e.contains(&path.display().to_string()), "{e}");

    let other = dir.path().join("other").join(journal::FILE_NAME);
    hexdash::files::create_private_dir_all(other.parent().unwrap()).unwrap();
    fs::write(
        &other,
        "this is not a database, but it is long enough to look like a header.....",
    )
    .unwrap();
    let e = Journal::open(&other).unwrap_err().to_string();
    assert!(
        e.contains("not a hexdash store or is damaged: move it away"),
        "{e}"
    );

    // A link to nothing is refused, and nothing is created where it points.
    #[cfg(unix)]
    {
        let linked = dir.path().join("linked").join(journal::FILE_NAME);
        hexdash::files::create_private_dir_all(linked.parent().unwrap()).unwrap();
        let target = dir.path().join("elsewhere.db");
        std::os::unix::fs::symlink(&target, &linked).unwrap();
        let e = Journal::open(&linked).unwrap_err().to_string();
        assert!(
            e.contains("symbolic link to a file that does not exist"),
            "{e}"
        );
        assert!(!target.exists());
    }
}

/// Run with `cargo test --release --test journal_file -- --ignored`: a year of heavy use, from
/// an old journal, must import once and then load and replay fast enough not to be noticed.
#[test]
#[ignore = "timing; meaningful in release builds only"]
fn loads_and_replays_100k_events_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    // Private, as hexdash makes its data dir: load_state warns about a looser one.
    hexdash::files::create_private_dir_all(path.parent().unwrap()).unwrap();
    let mut text = Vec::new();
    let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    for seq in 1..=100_000u64 {
        let run = format!("run-{}", seq / 4);
        let event = match seq % 4 {
            0 => intent(&format!("launch-{seq}")),
            1 => Event::Launched {
                launch_id: format!("launch-{}", seq - 1),
                project_id: "p".into(),
                run_id: run,
                run_url: Some(format!("https://app.hex.tech/p/app/runs/{seq}")),
                trace_id: Some("0af7651916cd43dd8448eb211c80319c".into()),
                project_version: None,
            },
            2 => status(&run, RunStatus::Running),
            _ => status(&run, RunStatus::Completed),
        };
        let env = journal::Envelope {
            v: 1,
            seq,
            at,
            event,
        };
        serde_json::to_writer(&mut text, &env).unwrap();
        text.push(b'\n');
    }
    fs::write(path.with_file_name(journal::LEGACY_FILE_NAME), &text).unwrap();

    let started = std::time::Instant::now();
    let imported = Journal::open(&path).unwrap();
    let import = started.elapsed();
    assert_eq!(imported.loaded.events.len(), 100_000);
    drop(imported);
    let started = std::time::Instant::now();
    let loaded = journal::load(&path).unwrap();
    let load = started.elapsed();
    let state = JournalState::replay(&loaded.events);
    let total = started.elapsed();
    assert_eq!(loaded.events.len(), 100_000);
    assert!(state.runs().count() > 20_000);
    drop((loaded, state));
    let started = std::time::Instant::now();
    let (streamed, warnings) = journal::load_state(&path).unwrap();
    let fold = started.elapsed();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(streamed.runs().count() > 20_000);
    println!(
        "{} bytes of old journal: import {import:?}; load {load:?}, load + replay {total:?}; \
         streamed fold {fold:?}",
        text.len()
    );
}

const CLAIM_CHILD_ENV: &str = "HEXDASH_TEST_STORE_CLAIMER";

/// Not a test on its own: the other process of the test below. Claims a poll of run `r` and the
/// driving of pipeline run `pl`, says so, and stays alive until its stdin closes.
#[test]
fn store_claimer_child() {
    let Some(path) = std::env::var_os(CLAIM_CHILD_ENV) else {
        return;
    };
    let mut j = Journal::open(PathBuf::from(path)).unwrap().journal;
    assert!(
        j.claim_poll(&[("p", "r")], std::time::Duration::from_secs(60))
            .unwrap()
    );
    assert!(
        j.claim_pipeline("pl", std::time::Duration::from_secs(60))
            .unwrap()
            .is_none()
    );
    println!("claimed");
    let mut sink = String::new();
    std::io::stdin().read_line(&mut sink).unwrap();
}

/// Across processes: a run another process just asked Hex about is not asked again here (until
/// the window passes), and a pipeline run a live process drives is not driven here until that
/// process is gone.
#[test]
fn another_process_holds_a_fresh_poll_and_its_pipeline_until_it_is_gone() {
    use std::io::{BufRead, BufReader, Read};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    drop(writer(&path));
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "store_claimer_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CLAIM_CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let claimed = out
        .by_ref()
        .lines()
        .map_while(Result::ok)
        .any(|l| l.contains("claimed"));
    assert!(claimed, "the other process never claimed");

    let mut j = Journal::open(&path).unwrap().journal;
    let grace = Duration::from_secs(60);
    assert!(!j.claim_poll(&[("p", "r")], grace).unwrap(), "polled twice");
    assert!(j.claim_poll(&[("p", "other")], grace).unwrap());
    assert!(
        j.claim_poll(&[("p", "r")], Duration::ZERO).unwrap(),
        "window passed"
    );
    // This process's own claim never holds it back.
    assert!(j.claim_poll(&[("p", "r")], grace).unwrap());
    let driver = j.claim_pipeline("pl", grace).unwrap();
    assert_eq!(driver.map(|d| d.pid), Some(child.id()), "driven twice");
    assert_eq!(
        j.pipeline_driver("pl", grace).unwrap().map(|d| d.pid),
        Some(child.id())
    );

    drop(child.stdin.take());
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    // Gone (and reaped): its pipeline run is free at once, without waiting out the grace.
    if std::path::Path::new("/proc/self").exists() {
        assert!(j.claim_pipeline("pl", grace).unwrap().is_none());
    }
}

/// Processes starting at the same moment on a data dir with no store yet: the first ones
/// turn the new file to WAL while the others read it, which SQLite answers with "database is
/// locked" at once (a reader is never made to wait for a writer's upgrade). Nobody may fail.
#[test]
fn many_first_opens_at_once_all_succeed() {
    for round in 0..40 {
        let dir = tempfile::tempdir().unwrap();
        let path = journal_path(&dir);
        let gate = Arc::new(std::sync::Barrier::new(8));
        let openers: Vec<_> = (0..8)
            .map(|_| {
                let (path, gate) = (path.clone(), gate.clone());
                std::thread::spawn(move || {
                    gate.wait();
                    Journal::open(path).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for opener in openers {
            let opened = opener.join().unwrap();
            assert!(opened.is_ok(), "round {round}: {opened:?}");
        }
    }
}

/// The store holds run parameters: it and the -wal and -shm files SQLite makes beside it are
/// private while it is open, also in a data dir an older hexdash left open to others, and so is
/// the old journal kept as a backup. (That the store is created 0600 rather than chmodded after
/// SQLite made it is not visible here: the moment in between is too short to catch.)
#[cfg(unix)]
#[test]
fn the_open_store_its_sidecars_and_the_old_journal_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let data = path.parent().unwrap();
    fs::create_dir_all(data).unwrap();
    fs::set_permissions(data, fs::Permissions::from_mode(0o755)).unwrap();
    let legacy = path.with_file_name(journal::LEGACY_FILE_NAME);
    fs::write(&legacy, format!("{}\n", legacy_line(1, &watch("r1")))).unwrap();
    fs::set_permissions(&legacy, fs::Permissions::from_mode(0o644)).unwrap();

    let mut journal = writer(&path);
    journal
        .record(&mut JournalState::default(), watch("r2"))
        .unwrap();
    let reader = writer(&path);
    for name in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(name);
        let side = PathBuf::from(side);
        assert!(side.exists(), "{} while the store is open", side.display());
        assert_eq!(mode(&side), 0o600, "{}", side.display());
    }
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&legacy), 0o600, "the old journal kept as a backup");
    drop((journal, reader));
}
