#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The journal file on a real disk: damage on load, the single-writer lock (also across
//! processes), sequence numbers across reopen, and compaction.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use hexdash::clock::ManualClock;
use hexdash::hex::RunStatus;
use hexdash::journal::{
    self, CompactPolicy, Event, Journal, JournalState, LaunchIntent, LaunchOptions, Opened, Origin,
    StatusChange,
};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::json;

fn journal_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join(journal::FILE_NAME)
}

fn writer(path: &Path) -> Journal {
    let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let opened = Journal::open_with_clock(path, Arc::new(ManualClock::new(start))).unwrap();
    assert!(opened.journal.is_writer(), "expected to get the lock");
    opened.journal
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

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
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
    assert_eq!(journal.next_seq(), 3);
    assert_eq!(journal.append(watch("r3")).unwrap().seq, 3);
    assert_eq!(seqs(&path), [1, 2, 3]);
    let text = fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(text.ends_with('\n'));
}

#[test]
fn torn_last_line_is_ignored_and_cut_off_before_the_next_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    j.append(watch("r1")).unwrap();
    drop(j);
    // What SIGKILL in the middle of write_all leaves: a prefix without its newline.
    append_raw(
        &path,
        br#"{"v":1,"seq":2,"at":"2026-01-01T00:00:00Z","event":"wat"#,
    );

    let loaded = journal::load(&path).unwrap();
    assert_eq!(loaded.events.len(), 1);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].contains("line 2: ignored an incomplete last line"),
        "{:?}",
        loaded.warnings
    );

    let Opened {
        mut journal,
        loaded,
    } = Journal::open(&path).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "the writer reports it too");
    assert_eq!(journal.append(watch("r2")).unwrap().seq, 2);
    let loaded = journal::load(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    assert_eq!(seqs(&path), [1, 2]);
}

#[test]
fn complete_but_unterminated_last_line_does_not_come_back_with_a_reused_seq() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    j.append(watch("r1")).unwrap();
    drop(j);
    append_raw(
        &path,
        br#"{"v":1,"seq":2,"at":"2026-01-01T00:00:00Z","event":"watch","project_id":"p","run_id":"ghost","origin":{"kind":"cli"}}"#,
    );
    let mut j = writer(&path);
    j.append(watch("r2")).unwrap();
    let loaded = journal::load(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let state = JournalState::replay(&loaded.events);
    assert!(state.run("p", "ghost").is_none());
    assert_eq!(seqs(&path), [1, 2]);
}

#[test]
fn damaged_middle_line_is_skipped_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    j.append(watch("r1")).unwrap();
    drop(j);
    append_raw(&path, b"\x00\x00garbage{{\n");
    let mut j = writer(&path);
    j.append(watch("r3")).unwrap();

    let loaded = journal::load(&path).unwrap();
    assert_eq!(loaded.events.len(), 2);
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].starts_with("line 2: skipped a damaged line"),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn unknown_kind_is_skipped_its_seq_respected_and_compaction_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    j.append(watch("r1")).unwrap();
    drop(j);
    let newer = r#"{"v":1,"seq":7,"at":"2026-01-01T00:00:00Z","event":"run_pinned","run_id":"r1"}"#;
    append_raw(&path, format!("{newer}\n").as_bytes());

    let Opened {
        mut journal,
        loaded,
    } = Journal::open(&path).unwrap();
    assert_eq!(loaded.events.len(), 1);
    assert_eq!(
        loaded.warnings,
        ["line 2: skipped a \"run_pinned\" event (seq 7) written by a newer hexdash"]
    );
    assert_eq!(journal.append(watch("r2")).unwrap().seq, 8);
    journal.compact(&CompactPolicy::default()).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(newer), "{text}");
}

#[test]
fn a_second_open_in_this_process_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut first = writer(&path);
    first.append(watch("r1")).unwrap();

    let Opened {
        journal: mut second,
        loaded,
    } = Journal::open(&path).unwrap();
    assert!(!second.is_writer());
    assert_eq!(
        loaded.events.len(),
        1,
        "a read-only view still sees the runs"
    );
    assert_eq!(second.holder().unwrap().pid, std::process::id());
    let err = second.append(watch("r2")).unwrap_err();
    assert!(matches!(err, journal::Error::ReadOnly { .. }));
    let message = err.to_string();
    assert!(message.contains("in use by another hexdash"), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert_eq!(seqs(&path), [1], "the refused event was not written");

    drop(second);
    drop(first);
    assert!(Journal::open(&path).unwrap().journal.is_writer());
}

const CHILD_ENV: &str = "HEXDASH_TEST_JOURNAL_LOCK_CHILD";
const CHILD_READY: &str = "journal-lock-held-by-child";

/// Not a test on its own: the body of the child process in the test below. Holds the lock until
/// its stdin closes.
#[test]
fn lock_holder_child() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let opened = Journal::open(PathBuf::from(path)).unwrap();
    assert!(opened.journal.is_writer());
    println!("{CHILD_READY}");
    std::io::stdout().flush().unwrap();
    let mut sink = Vec::new();
    std::io::stdin().read_to_end(&mut sink).unwrap();
}

#[test]
fn lock_is_exclusive_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "lock_holder_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let ready = stdout
        .by_ref()
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains(CHILD_READY));
    assert!(ready, "the child never reported holding the lock");

    let opened = Journal::open(&path).unwrap();
    assert!(!opened.journal.is_writer());
    assert_eq!(opened.journal.holder().unwrap().pid, child.id());
    drop(opened);

    drop(child.stdin.take());
    // Keep reading so the child's test harness can report without a broken pipe.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");
    // The kernel released the lock with the process; no stale lock file blocks us.
    assert!(Journal::open(&path).unwrap().journal.is_writer());
}

#[test]
fn compaction_keeps_active_runs_and_pending_launches_and_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let path = journal_path(&dir);
    let mut j = writer(&path);
    for i in 0..20 {
        let run = format!("done{i}");
        j.append(watch(&run)).unwrap();
        j.append(status(&run, RunStatus::Running)).unwrap();
        j.append(status(&run, RunStatus::Completed)).unwrap();
    }
    j.append(watch("live")).unwrap();
    j.append(status("live", RunStatus::Running)).unwrap();
    j.append(intent("waiting")).unwrap();
    j.append(Event::LaunchOutcomeUnknown {
        launch_id: "waiting".into(),
        project_id: "p".into(),
        error: "timeout".into(),
    })
    .unwrap();
    let before = JournalState::replay(&journal::load(&path).unwrap().events);
    let last = j.next_seq() - 1;

    let report = j
        .compact(&CompactPolicy {
            keep_ended: 5,
            keep_pipeline_runs: 0,
        })
        .unwrap();
    assert_eq!(report.kept + report.dropped, last);
    assert!(report.bytes_after < report.bytes_before);
    assert!(!dir.path().join("data/journal.jsonl.compact").exists());

    // Still the writer: a second open is refused even though the file was replaced.
    assert!(!Journal::open(&path).unwrap().journal.is_writer());
    let appended = j.append(watch("after")).unwrap();
    assert_eq!(
        appended.seq,
        last + 2,
        "one seq went to the compaction marker"
    );
    drop(j);

    let loaded = journal::load(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let numbers: Vec<u64> = loaded.events.iter().map(|e| e.seq).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let after = JournalState::replay(&loaded.events);
    let live = after.run("p", "live").unwrap();
    assert_eq!(Some(live), before.run("p", "live"));
    assert_eq!(
        after.pending_launches().collect::<Vec<_>>(),
        before.pending_launches().collect::<Vec<_>>()
    );
    let ended = after.runs().filter(|r| !r.is_active()).count();
    assert_eq!(ended, 5);
    assert_eq!(after.last_launch("p"), before.last_launch("p"));

    // Reopening continues above the marker.
    let mut j = writer(&path);
    assert_eq!(j.append(watch("later")).unwrap().seq, last + 3);
}

/// Run with `cargo test --release --test journal_file -- --ignored`: a year of heavy use must
/// load and replay fast enough not to be noticed at start-up.
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
    fs::write(&path, &text).unwrap();

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
    assert!(warnings.is_empty());
    assert!(streamed.runs().count() > 20_000);
    println!(
        "{} bytes: load {load:?}, load + replay {total:?}; streamed fold on one thread {fold:?}",
        text.len()
    );
}
