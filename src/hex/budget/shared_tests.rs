//! The shared budget: several `Budget` handles on one ledger file behave as one budget (as
//! several processes do; each handle here has its own connection and pid), and a ledger that
//! cannot be used falls back to the in-process budget with one warning.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use url::Url;

use super::*;

fn limits(rpm: u32, reserve: u32) -> Limits {
    Limits {
        requests_per_minute: rpm,
        launches_per_minute: 2,
        launches_per_hour: 3,
        reserved_for_actions: reserve,
    }
}

thread_local! {
    /// What `told` was handed, per test thread.
    static TOLD: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn told(text: &str) {
    TOLD.with(|t| t.borrow_mut().push(text.to_string()));
}

fn told_so_far() -> Vec<String> {
    TOLD.with(|t| t.borrow().clone())
}

/// Two handles on one ledger file, as processes 101 and 102.
fn pair(dir: &Path, limits: Limits) -> (Budget, Budget) {
    let path = dir.join("budget-test.db");
    let a = Budget::shared(limits, Ledger::open_as(&path, 101), told);
    let b = Budget::shared(limits, Ledger::open_as(&path, 102), told);
    assert_eq!(a.sharing(), Sharing::Shared);
    (a, b)
}

/// Each handle maps `Instant`s to wall-clock ms from its own anchor: they agree to a few ms.
fn about(d: Duration, expected: Duration) -> bool {
    d.abs_diff(expected) <= Duration::from_millis(5)
}

const TOKEN: &str = "hxtp_SECRET_ledger_canary";

fn url() -> Url {
    Url::parse("http://127.0.0.1:1/api/v1").unwrap()
}

fn token() -> SecretString {
    SecretString::from(TOKEN.to_string())
}

#[test]
fn the_second_handle_sees_the_first_ones_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = pair(tmp.path(), limits(3, 0));
    let t0 = Instant::now();
    a.try_acquire(Priority::Action, t0).unwrap();
    a.try_acquire(Priority::Action, t0).unwrap();
    b.try_acquire(Priority::Action, t0).unwrap();
    let wait = b.try_acquire(Priority::Action, t0).unwrap_err();
    assert!(about(wait, MINUTE), "{wait:?}");
    assert!(about(a.wait_time(Priority::Action, t0), MINUTE));
    let snap = b.snapshot_at(t0);
    assert_eq!(snap.requests_left_this_minute, 0);
    assert_eq!(snap.used_this_minute, 3);
    assert_eq!(snap.processes, 2);
    assert_eq!(snap.sharing, Sharing::Shared);
    // The window slides for both: a minute (and the few ms the anchors may differ) later.
    let later = t0 + MINUTE + Duration::from_millis(10);
    a.try_acquire(Priority::Action, later).unwrap();
    assert_eq!(b.snapshot_at(later).used_this_minute, 1);
    assert_eq!(b.snapshot_at(later).processes, 1);
    assert!(told_so_far().is_empty());
}

#[test]
fn launches_count_against_the_shared_launch_windows() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = pair(tmp.path(), limits(100, 0));
    let t0 = Instant::now();
    a.try_acquire(Priority::Launch, t0).unwrap();
    b.try_acquire(Priority::Launch, t0).unwrap();
    assert!(a.try_acquire(Priority::Launch, t0).is_err());
    // Reads are not launches.
    a.try_acquire(Priority::Action, t0).unwrap();
    let t1 = t0 + MINUTE + Duration::from_millis(10);
    b.try_acquire(Priority::Launch, t1).unwrap();
    let wait = a.try_acquire(Priority::Launch, t1).unwrap_err();
    assert!(
        about(wait, HOUR - MINUTE - Duration::from_millis(10)),
        "{wait:?}"
    );
    let snap = a.snapshot_at(t1);
    assert_eq!(snap.launches_left_this_hour, 0);
    assert_eq!(snap.launches_left_this_minute, 1);
}

#[test]
fn polling_leaves_the_shared_reserve_to_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = pair(tmp.path(), limits(5, 2));
    let t0 = Instant::now();
    a.try_acquire(Priority::Poll, t0).unwrap();
    a.try_acquire(Priority::Poll, t0).unwrap();
    b.try_acquire(Priority::Poll, t0).unwrap();
    assert!(b.try_acquire(Priority::Poll, t0).is_err());
    assert!(!a.wait_time(Priority::Poll, t0).is_zero());
    assert!(a.wait_time(Priority::Action, t0).is_zero());
    b.try_acquire(Priority::Action, t0).unwrap();
    a.try_acquire(Priority::Launch, t0).unwrap();
    assert!(b.try_acquire(Priority::Action, t0).is_err());
}

#[test]
fn a_pause_from_one_stops_the_other() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = pair(tmp.path(), limits(100, 0));
    let t0 = Instant::now();
    a.pause(Duration::from_secs(7), t0);
    let wait = b.try_acquire(Priority::Action, t0).unwrap_err();
    assert!(about(wait, Duration::from_secs(7)), "{wait:?}");
    let paused = b.snapshot_at(t0).paused_for.unwrap();
    assert!(about(paused, Duration::from_secs(7)), "{paused:?}");
    // A shorter pause does not shorten it; an absurd one is capped.
    b.pause(Duration::from_secs(1), t0);
    assert!(about(
        a.wait_time(Priority::Poll, t0),
        Duration::from_secs(7)
    ));
    b.try_acquire(Priority::Poll, t0 + Duration::from_millis(7010))
        .unwrap();
    let t1 = t0 + Duration::from_secs(8);
    b.pause(Duration::MAX, t1);
    let wait = a.try_acquire(Priority::Action, t1).unwrap_err();
    assert!(about(wait, MAX_PAUSE), "{wait:?}");
}

#[test]
fn an_answer_moves_the_send_for_every_handle() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = pair(tmp.path(), limits(2, 0));
    let t0 = Instant::now();
    let secs = Duration::from_secs;
    let slow = a.try_slot(Priority::Action, t0).unwrap();
    b.try_acquire(Priority::Action, t0 + secs(1)).unwrap();
    a.answered(slow, t0 + secs(3));
    // b's own send frees at t0 + 61 s; a's, answered at t0 + 3 s, only at t0 + 63 s.
    let wait = b.try_acquire(Priority::Action, t0 + secs(60)).unwrap_err();
    assert!(about(wait, secs(1)), "{wait:?}");
    let later = t0 + secs(61) + Duration::from_millis(10);
    b.try_acquire(Priority::Action, later).unwrap();
    let wait = a.try_acquire(Priority::Action, later).unwrap_err();
    assert!(about(wait, secs(2) - Duration::from_millis(10)), "{wait:?}");
}

#[test]
fn wall_clock_mapping_keeps_distances_exact() {
    let clock = WallClock::new();
    let t0 = Instant::now();
    let ms = clock.ms(t0);
    assert_eq!(clock.ms(t0 + MINUTE) - ms, 60_000);
    assert_eq!(ms - clock.ms(t0 - Duration::from_millis(1500)), 1_500);
    assert!((ms - system_ms()).abs() < 1_000);
}

#[test]
fn opening_in_a_dir_keys_the_file_by_url_and_token() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hexdash");
    let a = Budget::shared(limits(3, 0), Ledger::open(&dir, &url(), &token()), told);
    let b = Budget::shared(limits(3, 0), Ledger::open(&dir, &url(), &token()), told);
    let other = SecretString::from("hxtp_another".to_string());
    let c = Budget::shared(limits(3, 0), Ledger::open(&dir, &url(), &other), told);
    let t0 = Instant::now();
    for _ in 0..3 {
        a.try_acquire(Priority::Action, t0).unwrap();
    }
    assert!(b.try_acquire(Priority::Action, t0).is_err());
    c.try_acquire(Priority::Action, t0).unwrap();
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains("SECRET")), "{names:?}");
    // One file per token (with SQLite's -wal and -shm beside it).
    let dbs = names.iter().filter(|n| n.ends_with(".db")).count();
    assert_eq!(dbs, 2, "{names:?}");
    // The token is in no file either.
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("SECRET"), "{name}");
    }
}

/// The fallback: one warning naming the file and the fix (never the token), then the
/// in-process budget, which still counts.
fn assert_falls_back(budget: &Budget, what: &str, expect: &str) {
    assert_eq!(budget.sharing(), Sharing::Unavailable, "{what}");
    let told = told_so_far();
    assert_eq!(told.len(), 1, "{what}: told {told:?}");
    assert!(told[0].contains(expect), "{what}: {}", told[0]);
    assert!(told[0].contains("not shared"), "{what}: {}", told[0]);
    assert!(!told[0].contains("SECRET"), "{what}: {}", told[0]);
    assert_eq!(budget.problem(), Some(told[0].as_str()));
    let t0 = Instant::now();
    for _ in 0..3 {
        budget.try_acquire(Priority::Action, t0).unwrap();
    }
    assert!(budget.try_acquire(Priority::Action, t0).is_err());
    budget.pause(Duration::from_secs(1), t0);
    let snap = budget.snapshot_at(t0);
    assert_eq!(snap.sharing, Sharing::Unavailable);
    assert_eq!(snap.used_this_minute, 3);
    assert_eq!(told_so_far().len(), 1, "{what}: told more than once");
}

fn ledger_path(dir: &Path) -> PathBuf {
    dir.join(ledger::file_name(&url(), &token()))
}

#[test]
fn a_damaged_ledger_falls_back_with_one_warning() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(ledger_path(tmp.path()), vec![b'x'; 8192]).unwrap();
    let budget = Budget::shared(
        limits(3, 0),
        Ledger::open(tmp.path(), &url(), &token()),
        told,
    );
    assert_falls_back(&budget, "damaged", "remove it");
}

#[test]
fn a_directory_in_place_of_the_ledger_falls_back() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(ledger_path(tmp.path())).unwrap();
    let budget = Budget::shared(
        limits(3, 0),
        Ledger::open(tmp.path(), &url(), &token()),
        told,
    );
    assert_falls_back(&budget, "a directory", "cannot open the request ledger");
}

#[test]
fn an_uncreatable_ledger_dir_falls_back() {
    // A file where the directory should be: refused even for root, unlike a chmod.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("hexdash");
    let budget = Budget::shared(limits(3, 0), Ledger::open(&dir, &url(), &token()), told);
    assert_falls_back(
        &budget,
        "uncreatable",
        "cannot create the request ledger's directory",
    );
}

#[test]
fn a_ledger_failing_later_falls_back_on_what_this_process_sent() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, _b) = pair(tmp.path(), limits(3, 0));
    let t0 = Instant::now();
    a.try_acquire(Priority::Action, t0).unwrap();
    a.try_acquire(Priority::Action, t0).unwrap();
    // Someone breaks the file under the running process.
    let conn = rusqlite::Connection::open(tmp.path().join("budget-test.db")).unwrap();
    conn.execute_batch("DROP TABLE sends").unwrap();
    // The third request is still allowed (in process: two sent), the fourth is not.
    a.try_acquire(Priority::Action, t0).unwrap();
    assert!(a.try_acquire(Priority::Action, t0).is_err());
    assert_eq!(a.sharing(), Sharing::Unavailable);
    let told = told_so_far();
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("budget-test.db"), "{}", told[0]);
}
