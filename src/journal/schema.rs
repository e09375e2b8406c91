//! The store's tables and their migrations.
//!
//! `PRAGMA user_version` is the schema version. Every process runs the missing migrations at
//! open, inside one `BEGIN IMMEDIATE` transaction, so two processes starting at once on an old
//! store migrate it once. A store from a newer hexdash (a higher version) is refused rather than
//! written in a shape its owner does not expect.
//!
//! Tables (all queryable with `sqlite3 hexdash.db`):
//! - `events`: the append-only log, the source of truth. `body` is the event as JSON (the same
//!   shape as a line of the old `journal.jsonl`, without `v`/`seq`/`at`, which are columns).
//! - `runs`: each run's current state, written in the same transaction as the event that
//!   changed it, for readers that want "what is running" without replaying the log.
//! - `processes`: every hexdash process's heartbeat, so a launch in flight in a live process is
//!   told apart from one a crashed process left behind.
//! - `drivers`: which process drives each pipeline run, so two never drive one.
//! - `polls`: when any process last asked Hex about a run, so the machine polls each run once
//!   per interval, not once per process.
//! - `meta`: one-off facts (the import of `journal.jsonl`).

use rusqlite::{Connection, TransactionBehavior};

/// The newest schema this hexdash knows.
pub const VERSION: u32 = 1;

const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    v          INTEGER NOT NULL,
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    project_id TEXT,
    run_id     TEXT,
    launch_id  TEXT,
    process    TEXT,
    body       TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (project_id, run_id, seq);
CREATE INDEX events_by_launch ON events (launch_id) WHERE launch_id IS NOT NULL;
CREATE INDEX events_by_kind ON events (kind, seq);
CREATE TABLE runs (
    project_id  TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    project_title TEXT,
    status      TEXT,
    active      INTEGER NOT NULL,
    origin      TEXT,
    launched_by TEXT,
    first_at    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    last_seq    INTEGER NOT NULL,
    PRIMARY KEY (project_id, run_id)
);
CREATE INDEX runs_by_project_time ON runs (project_id, first_at);
CREATE INDEX runs_by_time ON runs (first_at);
CREATE INDEX runs_active ON runs (active) WHERE active = 1;
CREATE TABLE processes (
    process      TEXT PRIMARY KEY,
    pid          INTEGER NOT NULL,
    host         TEXT NOT NULL,
    user         TEXT NOT NULL,
    started_ms   INTEGER NOT NULL,
    heartbeat_ms INTEGER NOT NULL
);
CREATE TABLE drivers (
    pipeline_run_id TEXT PRIMARY KEY,
    process         TEXT NOT NULL,
    claimed_ms      INTEGER NOT NULL
);
CREATE TABLE polls (
    project_id TEXT NOT NULL,
    run_id     TEXT NOT NULL,
    polled_ms  INTEGER NOT NULL,
    process    TEXT NOT NULL,
    PRIMARY KEY (project_id, run_id)
);
";

/// Each migration takes the schema from its index to the next version.
const MIGRATIONS: [&str; VERSION as usize] = [V1];

/// What `migrate` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migrated {
    /// The store was already at [`VERSION`].
    Current,
    /// Migrations ran from this version (0: a new store).
    From(u32),
}

/// Brings the store to [`VERSION`]. `Err(Ok(found))` is a store from a newer hexdash.
pub fn migrate(conn: &mut Connection) -> Result<Result<Migrated, u32>, rusqlite::Error> {
    let found = version(conn)?;
    if found == VERSION {
        return Ok(Ok(Migrated::Current));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let found: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Ok(Err(found));
    }
    if found == VERSION {
        return Ok(Ok(Migrated::Current));
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(Ok(Migrated::From(found)))
}

fn version(conn: &Connection) -> Result<u32, rusqlite::Error> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_migrates_once_and_a_newer_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Ok(Migrated::From(0)));
        assert_eq!(migrate(&mut conn).unwrap(), Ok(Migrated::Current));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Err(VERSION + 1));
    }
}
