//! The request ledger: the file through which every hexdash process of one user shares one
//! request budget per token.
//!
//! Why: Hex counts its limits per token, whatever process sends the request (HEX_API.md
//! "Limits"), so twelve cron `hexdash run --wait` and a `hexdash watch` with one token, each
//! counting only its own requests, together collect 429s. The ledger is a small SQLite database
//! in the user's runtime (or cache) dir, one per base URL and token, named by a hash of the two:
//! the token itself is never in the file, its name, logs or errors. It holds the send times of
//! the last hour (wall-clock milliseconds: `Instant`s mean nothing to another process), who sent
//! them (pid; a send moves to its answer time when that arrives), and a 429 pause. Each decision
//! is one short `BEGIN IMMEDIATE` transaction (prune, read, maybe insert), in WAL mode with a busy
//! timeout, so processes queue for a few milliseconds at most.
//!
//! It owns the file and its SQL only: what a row means for a request (windows, priorities,
//! reserve) stays in `budget`, the same for the shared and the in-process budget. It must not
//! decide anything on failure either: every error goes back to `budget`, which falls back to
//! counting in process and says so once.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use url::Url;

use crate::files::{create_private_dir_all, make_private, private_file_options};

/// How long one process waits for another's transaction before giving up (and falling back).
/// Transactions take well under a millisecond; this only has to outlast a stalled disk.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows older than this are deleted: nothing counts them (RunProject's longest window is an hour).
const KEEP_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;
/// The most rows one decision reads, newest first: far above any sane per-minute or per-hour
/// limit, so a damaged or hostile file cannot make every request read millions of rows.
const MAX_ROWS: i64 = 10_000;
/// Bumped when the tables change; a file from a newer hexdash is refused, not misread.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends (
    at_ms  INTEGER NOT NULL,  -- wall clock, ms since the Unix epoch, when the slot was taken
    launch INTEGER NOT NULL,  -- 1 for RunProject, which also counts against the launch windows
    pid    INTEGER NOT NULL   -- the process that took it
);
CREATE INDEX IF NOT EXISTS sends_at ON sends (at_ms);
CREATE TABLE IF NOT EXISTS pause (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    until_ms INTEGER NOT NULL  -- wall clock: nobody sends before this (a 429's Retry-After)
);
";

/// Why the ledger cannot be used. The messages name the file and the fix; never the token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no directory to keep the request ledger in (neither a runtime nor a cache dir); set \
         HEXDASH_LEDGER_DIR"
    )]
    NoDir,
    #[error("cannot create the request ledger's directory {}: {source}", dir.display())]
    Dir { dir: PathBuf, source: io::Error },
    #[error("cannot open the request ledger {}: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    #[error(
        "the request ledger {} is damaged or not a ledger ({source}); it only holds recent \
         request times: remove it",
        path.display()
    )]
    Damaged {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the request ledger {} was made by a newer hexdash (schema {found})", path.display())]
    Newer { path: PathBuf, found: i64 },
    #[error("the request ledger {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// What one transaction read: every send the windows may count, oldest first, the pause, and
/// how many processes sent in the last minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Record {
    pub sends: Vec<Sent>,
    pub paused_until: Option<i64>,
    pub processes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    pub at_ms: i64,
    pub launch: bool,
}

/// An open ledger. One connection per handle; the mutex only serialises this process's callers.
pub struct Ledger {
    conn: Mutex<Connection>,
    path: PathBuf,
    pid: u32,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// `budget-<16 hex digits>.db`: the first 64 bits of SHA-256 over the base URL and the token.
/// A trailing `/` on the URL names the same API, so it does not make a second ledger.
pub fn file_name(base_url: &Url, token: &SecretString) -> String {
    let mut hash = Sha256::new();
    hash.update(base_url.as_str().trim_end_matches('/').as_bytes());
    // A separator no URL contains, so no other (URL, token) pair hashes the same bytes.
    hash.update([0u8]);
    hash.update(token.expose_secret().as_bytes());
    let digest = hash.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("budget-{hex}.db")
}

impl Ledger {
    /// Opens (creating if needed) the ledger for `base_url` and `token` in `dir`. The dir is
    /// created private (0700), the file too (0600, and made so if an older copy is looser).
    pub fn open(dir: &Path, base_url: &Url, token: &SecretString) -> Result<Ledger, Error> {
        create_private_dir_all(dir).map_err(|source| Error::Dir {
            dir: dir.to_path_buf(),
            source,
        })?;
        Self::open_file(&dir.join(file_name(base_url, token)), std::process::id())
    }

    fn open_file(path: &Path, pid: u32) -> Result<Ledger, Error> {
        // Created here rather than by SQLite, which would give it the umask's mode (often 0644);
        // SQLite gives its -wal and -shm files the mode of the database file.
        private_file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| Error::File {
                path: path.to_path_buf(),
                source,
            })?;
        make_private(path);
        let sqlite = |source| classify(path, source);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sqlite)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
        // The first read of the file: where a damaged one or some other file shows.
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|source| match classify(path, source) {
                // Whatever the first read of an existing file fails with, the file is at fault.
                Error::Sqlite { path, source } => Error::Damaged { path, source },
                e => e,
            })?;
        if found > SCHEMA_VERSION {
            return Err(Error::Newer {
                path: path.to_path_buf(),
                found,
            });
        }
        // WAL: readers (status bars) never wait for a writer. Where WAL is impossible (some
        // network file systems) SQLite keeps its rollback journal, which is slower, not wrong.
        crate::sqlite::enter_wal(&conn, BUSY_TIMEOUT).map_err(sqlite)?;
        // A lost last transaction (power cut) only forgets a request time or two.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        // Every request writes a few pages; the runtime dir is memory, so the WAL is folded back
        // every 200 pages and cut back to 1 MiB, instead of SQLite's 1,000 pages and no limit.
        conn.pragma_update(None, "wal_autocheckpoint", 200)
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_size_limit", 1 << 20)
            .map_err(sqlite)?;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
        ))
        .map_err(|source| {
            // Leave no transaction open on this connection if the batch stopped half way.
            let _ = conn.execute_batch("ROLLBACK");
            classify(path, source)
        })?;
        Ok(Ledger {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            pid,
        })
    }

    /// The same file, as if another process opened it (tests count processes by pid).
    #[cfg(test)]
    pub(crate) fn open_as(path: &Path, pid: u32) -> Result<Ledger, Error> {
        Self::open_file(path, pid)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sqlite(&self, source: rusqlite::Error) -> Error {
        classify(&self.path, source)
    }

    /// One write transaction at `now_ms`: drops rows no window counts, reads the rest, and
    /// records one send (a launch when `Some(true)`) if `decide` asks for it, returning its row.
    pub(crate) fn decide<R>(
        &self,
        now_ms: i64,
        decide: impl FnOnce(&Record) -> (R, Option<bool>),
    ) -> Result<(R, Option<i64>), Error> {
        let mut conn = self.lock();
        let result: rusqlite::Result<(R, Option<i64>)> = (|| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached("DELETE FROM sends WHERE at_ms <= ?1")?
                .execute([now_ms.saturating_sub(KEEP_MS)])?;
            // A wall clock stepped back (or a skewed one) leaves rows in the future, which would
            // hold their slot for longer than a window. Brought back to now, they count a full
            // window from here.
            tx.prepare_cached("UPDATE sends SET at_ms = ?1 WHERE at_ms > ?2")?
                .execute([now_ms, now_ms.saturating_add(MINUTE_MS)])?;
            let cap = now_ms.saturating_add(max_pause_ms());
            tx.prepare_cached("UPDATE pause SET until_ms = ?1 WHERE until_ms > ?1")?
                .execute([cap])?;
            let record = load(&tx, now_ms)?;
            let (result, insert) = decide(&record);
            let mut row = None;
            if let Some(launch) = insert {
                tx.prepare_cached("INSERT INTO sends (at_ms, launch, pid) VALUES (?1, ?2, ?3)")?
                    .execute(params![now_ms, launch, self.pid])?;
                row = Some(tx.last_insert_rowid());
            }
            tx.commit()?;
            Ok((result, row))
        })();
        result.map_err(|e| self.sqlite(e))
    }

    /// What the windows count at `now_ms`, read without taking the write lock.
    pub(crate) fn read(&self, now_ms: i64) -> Result<Record, Error> {
        let mut conn = self.lock();
        let result: rusqlite::Result<Record> = (|| {
            let tx = conn.transaction()?;
            let record = load(&tx, now_ms)?;
            tx.finish()?;
            Ok(record)
        })();
        result.map_err(|e| self.sqlite(e))
    }

    /// The send of `row` was answered at `at_ms`: it counts from then (never earlier).
    pub(crate) fn answered(&self, row: i64, at_ms: i64) -> Result<(), Error> {
        self.lock()
            .prepare_cached("UPDATE sends SET at_ms = max(at_ms, ?2) WHERE rowid = ?1")
            .and_then(|mut st| st.execute([row, at_ms]))
            .map(|_| ())
            .map_err(|e| self.sqlite(e))
    }

    /// Stops every process's requests until `until_ms` (or keeps a later pause in force).
    pub(crate) fn pause_until(&self, until_ms: i64) -> Result<(), Error> {
        self.lock()
            .prepare_cached(
                "INSERT INTO pause (id, until_ms) VALUES (1, ?1)
                 ON CONFLICT (id) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)",
            )
            .and_then(|mut st| st.execute([until_ms]))
            .map(|_| ())
            .map_err(|e| self.sqlite(e))
    }
}

/// A damaged file (or some other file in its place) is told apart, because its fix is to
/// remove it; anything else (a full disk, a lock held too long) is reported as it is.
fn classify(path: &Path, source: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(DatabaseCorrupt | NotADatabase) => Error::Damaged { path, source },
        _ => Error::Sqlite { path, source },
    }
}

fn max_pause_ms() -> i64 {
    i64::try_from(super::retry_after::MAX_PAUSE.as_millis()).unwrap_or(i64::MAX)
}

/// The sends of the last minute and the launches of the last hour (the newest [`MAX_ROWS`]),
/// oldest first; the pause, capped at [`super::retry_after::MAX_PAUSE`] from now whatever the file
/// says; and the distinct senders of the last minute.
fn load(conn: &Connection, now_ms: i64) -> rusqlite::Result<Record> {
    let minute_ago = now_ms.saturating_sub(MINUTE_MS);
    let hour_ago = now_ms.saturating_sub(KEEP_MS);
    let mut sends = conn
        .prepare_cached(
            "SELECT at_ms, launch FROM sends
             WHERE at_ms > ?1 OR (launch = 1 AND at_ms > ?2)
             ORDER BY at_ms DESC LIMIT ?3",
        )?
        .query_map([minute_ago, hour_ago, MAX_ROWS], |r| {
            Ok(Sent {
                at_ms: r.get(0)?,
                launch: r.get::<_, i64>(1)? != 0,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    sends.reverse();
    let processes: i64 = conn
        .prepare_cached("SELECT COUNT(DISTINCT pid) FROM sends WHERE at_ms > ?1")?
        .query_row([minute_ago], |r| r.get(0))?;
    let paused_until: Option<i64> = conn
        .prepare_cached("SELECT until_ms FROM pause WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let cap = now_ms.saturating_add(max_pause_ms());
    Ok(Record {
        sends,
        paused_until: paused_until.map(|u| u.min(cap)),
        processes: u32::try_from(processes).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(t: &str) -> SecretString {
        SecretString::from(t.to_string())
    }

    #[test]
    fn the_file_name_is_a_hash_of_url_and_token_never_the_token() {
        let url = Url::parse("https://app.hex.tech/api/v1").unwrap();
        let name = file_name(&url, &token("hxtp_SECRET_canary"));
        assert!(
            name.starts_with("budget-") && name.ends_with(".db"),
            "{name}"
        );
        assert_eq!(name.len(), "budget-".len() + 16 + ".db".len());
        assert!(!name.contains("SECRET"));
        // The same API with a trailing slash is the same ledger; another token or URL is not.
        let slash = Url::parse("https://app.hex.tech/api/v1/").unwrap();
        assert_eq!(file_name(&slash, &token("hxtp_SECRET_canary")), name);
        assert_ne!(file_name(&url, &token("hxtp_other")), name);
        let other = Url::parse("http://127.0.0.1:9/api/v1").unwrap();
        assert_ne!(file_name(&other, &token("hxtp_SECRET_canary")), name);
    }

    #[cfg(unix)]
    #[test]
    fn dir_and_file_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run/hexdash");
        let url = Url::parse("https://app.hex.tech/api/v1").unwrap();
        let ledger = Ledger::open(&dir, &url, &token("hxtp_x")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(ledger.path()), 0o600);
        ledger.decide(1_000, |_| ((), Some(false))).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }

    #[test]
    fn rows_are_pruned_after_an_hour_and_pauses_are_capped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("budget-test.db");
        let a = Ledger::open_as(&path, 1).unwrap();
        let b = Ledger::open_as(&path, 2).unwrap();
        let t0 = 1_700_000_000_000;
        a.decide(t0, |_| ((), Some(true))).unwrap();
        b.decide(t0 + 1, |_| ((), Some(false))).unwrap();
        let r = a.read(t0 + 2).unwrap();
        assert_eq!(
            r.sends,
            vec![
                Sent {
                    at_ms: t0,
                    launch: true
                },
                Sent {
                    at_ms: t0 + 1,
                    launch: false
                }
            ]
        );
        assert_eq!(r.processes, 2);
        // After a minute only the launch is still counted (by the hour window), by nobody.
        let r = a.read(t0 + MINUTE_MS + 1).unwrap();
        assert_eq!(r.sends.len(), 1);
        assert_eq!(r.processes, 0);
        b.decide(t0 + KEEP_MS, |_| ((), None)).unwrap();
        assert!(a.read(t0 + KEEP_MS).unwrap().sends.is_empty());
        a.pause_until(i64::MAX).unwrap();
        let now = t0 + KEEP_MS;
        assert_eq!(
            b.read(now).unwrap().paused_until,
            Some(now + max_pause_ms())
        );
    }
}
