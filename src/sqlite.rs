//! What every SQLite file of hexdash (the store, the request ledger, the project cache) does
//! the same way when it is opened.

use std::time::{Duration, Instant};

use rusqlite::{Connection, ErrorCode};

/// Asks for WAL mode and answers the mode in force (anything but `wal` means the medium
/// refused it: a read-only or network file system).
///
/// Turning a new file to WAL upgrades a read lock to a write lock, and SQLite answers a busy
/// upgrade at once, without its busy handler (two upgraders waiting on each other would never
/// end). So several processes opening a new file together see "database is locked" here even
/// with a busy timeout: retry, with growing pauses, for up to `patience`.
pub fn enter_wal(conn: &Connection, patience: Duration) -> rusqlite::Result<String> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::DatabaseBusy && started.elapsed() < patience =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            answer => return answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_is_turned_to_wal() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("x.db")).unwrap();
        assert_eq!(enter_wal(&conn, Duration::from_secs(1)).unwrap(), "wal");
    }

    #[test]
    fn a_lock_held_past_the_patience_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("CREATE TABLE t (x); BEGIN EXCLUSIVE;")
            .unwrap();
        let other = Connection::open(&path).unwrap();
        other.busy_timeout(Duration::from_millis(50)).unwrap();
        let started = Instant::now();
        let answer = enter_wal(&other, Duration::from_millis(200));
        assert!(answer.is_err(), "{answer:?}");
        assert!(started.elapsed() >= Duration::from_millis(200));
    }
}
