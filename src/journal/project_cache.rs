//! The workspace's project list, cached in the data dir's SQLite store (`hexdash.db`) so that
//! every hexdash process on this machine shares one ListProjects walk instead of spending Hex's
//! 60 requests a minute on one each (HEX_API.md "Limits").
//!
//! Owns the `project_cache` table only: one row per API scope (a SHA-256 of base URL and token,
//! so the token itself is never stored), holding the list as JSON and the wall-clock time it was
//! fetched. The rest of the store's schema, and its `user_version`, belong to `schema`: nothing
//! here creates other tables or sets the version, so either may create the file first. Must not talk to Hex or decide when a
//! list is too old to use beyond [`CachedProjects::is_fresh`]; callers fetch and store.
//!
//! Every failure is an [`Error`] for the caller to log and go around (fetch directly); a row that
//! cannot be read back (damaged JSON, wrong types, absurd size) is a miss, not an error.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::hex::types::Project;

/// How long a connection waits for another process's write to finish before giving up. Writes
/// here are one small transaction, so seconds are plenty; a store locked longer is a miss.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// The largest cached list read back. The client reads at most 32 MiB of ListProjects bodies
/// for one walk; the same projects re-encoded fit well within this.
pub const MAX_ENTRY_BYTES: usize = 48 << 20;

/// How much newer than ours a stored list may be and still be kept over ours: more than the
/// longest walk two processes could race with, less than any clock correction worth keeping.
const RACE_WINDOW_MS: i64 = 60_000;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS project_cache (
    scope TEXT PRIMARY KEY NOT NULL,
    fetched_at_ms INTEGER NOT NULL,
    projects TEXT NOT NULL
)";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the data dir {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("project cache in {}: {source}", path.display())]
    Sql {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot encode the project list: {0}")]
    Encode(#[from] serde_json::Error),
    #[error(
        "the project list is {bytes} bytes encoded, more than the cache keeps ({MAX_ENTRY_BYTES})"
    )]
    TooLarge { bytes: usize },
}

/// Which API a list belongs to: the hex SHA-256 of the base URL and the token. Two profiles on
/// the same workspace with different tokens may see different projects, so the token is part of
/// it; only the hash is ever kept.
#[derive(Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    pub fn new(base_url: &str, token: &str) -> Scope {
        let mut hash = Sha256::new();
        hash.update(b"hexdash project cache v1\0");
        hash.update(base_url.as_bytes());
        // A separator that cannot occur in a URL, so ("a", "bc") and ("ab", "c") differ.
        hash.update(b"\0");
        hash.update(token.as_bytes());
        let digest = hash.finalize();
        Scope(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A hash, but short to read in logs; it is all the scope ever shows.
impl std::fmt::Debug for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scope({})", self.0.get(..12).unwrap_or(&self.0))
    }
}

/// A list read back from the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedProjects {
    pub projects: Vec<Project>,
    /// Wall-clock time of the ListProjects walk that produced it.
    pub fetched_at: Timestamp,
}

impl CachedProjects {
    /// Younger than `ttl` at `now`. A fetch time in the future (the clock was set back) is not
    /// fresh: its age is unknown. A `ttl` of zero is never fresh.
    pub fn is_fresh(&self, ttl: Duration, now: Timestamp) -> bool {
        self.age(now).is_some_and(|age| age < ttl)
    }

    /// How long ago it was fetched; `None` when that is in the future.
    pub fn age(&self, now: Timestamp) -> Option<Duration> {
        let span = now.duration_since(self.fetched_at);
        Duration::try_from(span).ok()
    }
}

/// One connection to the store's project cache.
#[derive(Debug)]
pub struct ProjectCache {
    conn: Connection,
    path: PathBuf,
}

impl ProjectCache {
    /// Opens (creating, private to the user) the store at `path` and makes sure the table is
    /// there. WAL mode, so readers in other processes never wait for a writer.
    pub fn open(path: &Path) -> Result<ProjectCache, Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(dir).map_err(|source| Error::Dir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // Created here, empty (a valid empty database), so that it is 0600 from its first byte;
        // SQLite would create it 0644. Its -wal and -shm files take the database's mode.
        crate::files::private_file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| Error::Create {
                path: path.to_path_buf(),
                source,
            })?;
        crate::files::make_private(path);
        let sql = |source| Error::Sql {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sql)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql)?;
        crate::sqlite::enter_wal(&conn, BUSY_TIMEOUT).map_err(sql)?;
        conn.execute(SCHEMA, []).map_err(sql)?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            crate::files::make_private(Path::new(&side));
        }
        Ok(ProjectCache {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn sql(&self, source: rusqlite::Error) -> Error {
        Error::Sql {
            path: self.path.clone(),
            source,
        }
    }

    /// The list cached for `scope`, whatever its age. `Ok(None)` on a miss, and on a row that
    /// cannot be read back (logged: it is overwritten by the next store).
    pub fn load(&self, scope: &Scope) -> Result<Option<CachedProjects>, Error> {
        // The size is asked first, so a runaway row is never read into memory.
        let row = self
            .conn
            .query_row(
                "SELECT fetched_at_ms, length(CAST(projects AS BLOB)),
                        CASE WHEN length(CAST(projects AS BLOB)) <= ?2 THEN projects END
                 FROM project_cache WHERE scope = ?1",
                params![scope.as_str(), MAX_ENTRY_BYTES as i64],
                |row| {
                    Ok((
                        row.get::<_, rusqlite::types::Value>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, rusqlite::types::Value>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some((fetched_at, bytes, projects)) = row else {
            return Ok(None);
        };
        let decoded = decode(fetched_at, projects);
        if decoded.is_none() {
            tracing::warn!(
                store = %self.path.display(),
                ?scope,
                bytes,
                "the cached project list cannot be read back; it is taken as a miss"
            );
        }
        Ok(decoded)
    }

    /// Stores `projects` as fetched at `fetched_at` for `scope`. A list fetched a little
    /// earlier than the one already there does not replace it: two processes that refreshed at
    /// once leave the newer list, whichever finished writing last. One from far in the future
    /// (a clock set back since, or a damaged row) is replaced, or it would block every store.
    pub fn store(
        &self,
        scope: &Scope,
        projects: &[Project],
        fetched_at: Timestamp,
    ) -> Result<(), Error> {
        let json = serde_json::to_string(projects)?;
        if json.len() > MAX_ENTRY_BYTES {
            return Err(Error::TooLarge { bytes: json.len() });
        }
        self.conn
            .execute(
                "INSERT INTO project_cache (scope, fetched_at_ms, projects) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope) DO UPDATE SET
                     fetched_at_ms = excluded.fetched_at_ms,
                     projects = excluded.projects
                 WHERE typeof(project_cache.fetched_at_ms) != 'integer'
                    OR project_cache.fetched_at_ms <= excluded.fetched_at_ms
                    OR project_cache.fetched_at_ms > excluded.fetched_at_ms + ?4",
                params![
                    scope.as_str(),
                    fetched_at.as_millisecond(),
                    json,
                    RACE_WINDOW_MS
                ],
            )
            .map_err(|e| self.sql(e))?;
        Ok(())
    }
}

/// A row's columns as values; `None` for anything but an integer time and a JSON array of
/// projects.
fn decode(
    fetched_at: rusqlite::types::Value,
    projects: rusqlite::types::Value,
) -> Option<CachedProjects> {
    use rusqlite::types::Value;
    let Value::Integer(ms) = fetched_at else {
        return None;
    };
    let Value::Text(json) = projects else {
        return None;
    };
    let fetched_at = Timestamp::from_millisecond(ms).ok()?;
    let projects: Vec<Project> = serde_json::from_str(&json).ok()?;
    Some(CachedProjects {
        projects,
        fetched_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, title: &str) -> Project {
        serde_json::from_value(serde_json::json!({"id": id, "title": title})).unwrap()
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + secs).unwrap()
    }

    fn scope() -> Scope {
        Scope::new("https://app.hex.tech/api/v1", "hxtp_one")
    }

    const TTL: Duration = Duration::from_secs(600);

    #[test]
    fn a_stored_list_comes_back_fresh_then_stale() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ProjectCache::open(&dir.path().join("data/hexdash.db")).unwrap();
        let list = vec![project("1", "Daily ETL"), project("2", "Revenue")];
        cache.store(&scope(), &list, at(0)).unwrap();
        let got = cache.load(&scope()).unwrap().unwrap();
        assert_eq!(got.projects, list);
        assert_eq!(got.fetched_at, at(0));
        assert!(got.is_fresh(TTL, at(599)));
        assert!(!got.is_fresh(TTL, at(600)), "stale at the TTL");
        assert!(!got.is_fresh(TTL, at(-1)), "a fetch time in the future");
        assert!(!got.is_fresh(Duration::ZERO, at(0)), "TTL 0 is never fresh");
    }

    #[test]
    fn nothing_stored_is_a_miss_and_another_scope_is_not_seen() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ProjectCache::open(&dir.path().join("hexdash.db")).unwrap();
        assert_eq!(cache.load(&scope()).unwrap(), None);
        cache
            .store(&scope(), &[project("1", "Daily ETL")], at(0))
            .unwrap();
        let other_token = Scope::new("https://app.hex.tech/api/v1", "hxtp_two");
        let other_url = Scope::new("https://eu.hex.tech/api/v1", "hxtp_one");
        assert_eq!(cache.load(&other_token).unwrap(), None);
        assert_eq!(cache.load(&other_url).unwrap(), None);
        assert!(cache.load(&scope()).unwrap().is_some());
    }

    #[test]
    fn the_scope_is_a_hash_and_the_token_is_nowhere_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hexdash.db");
        let token = "hxtp_SECRET_cache_canary";
        let scope = Scope::new("http://127.0.0.1:1/api/v1", token);
        assert_eq!(scope.as_str().len(), 64);
        assert!(scope.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert!(!format!("{scope:?}").contains(token));
        let cache = ProjectCache::open(&path).unwrap();
        cache.store(&scope, &[project("1", "A")], at(0)).unwrap();
        drop(cache);
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(token));
        assert!(text.contains(scope.as_str()), "the hash is the key");
    }

    #[test]
    fn a_damaged_row_is_a_miss_and_the_next_store_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hexdash.db");
        let cache = ProjectCache::open(&path).unwrap();
        let raw = Connection::open(&path).unwrap();
        for (time, projects) in [
            ("0", "'{not json'"),
            ("0", "'{\"id\": \"1\"}'"),
            ("0", "X'00ff'"),
            ("'yesterday'", "'[]'"),
            ("99999999999999999", "'[]'"),
        ] {
            raw.execute(
                &format!(
                    "INSERT OR REPLACE INTO project_cache VALUES ('{}', {time}, {projects})",
                    scope().as_str()
                ),
                [],
            )
            .unwrap();
            assert_eq!(cache.load(&scope()).unwrap(), None, "{time} {projects}");
        }
        cache.store(&scope(), &[project("1", "A")], at(0)).unwrap();
        assert_eq!(cache.load(&scope()).unwrap().unwrap().projects.len(), 1);
    }

    #[test]
    fn two_handles_on_one_file_share_and_an_older_fetch_never_replaces_a_newer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hexdash.db");
        let a = ProjectCache::open(&path).unwrap();
        let b = ProjectCache::open(&path).unwrap();
        a.store(&scope(), &[project("1", "A")], at(10)).unwrap();
        assert_eq!(b.load(&scope()).unwrap().unwrap().fetched_at, at(10));
        b.store(&scope(), &[project("1", "A"), project("2", "B")], at(20))
            .unwrap();
        assert_eq!(a.load(&scope()).unwrap().unwrap().projects.len(), 2);
        // A walk that started earlier but finished writing later.
        a.store(&scope(), &[], at(15)).unwrap();
        let kept = b.load(&scope()).unwrap().unwrap();
        assert_eq!((kept.fetched_at, kept.projects.len()), (at(20), 2));
        // One from an hour ahead (the clock was set back since) does not block every store.
        b.store(&scope(), &[project("1", "A")], at(3600)).unwrap();
        a.store(&scope(), &[], at(30)).unwrap();
        assert_eq!(b.load(&scope()).unwrap().unwrap().fetched_at, at(30));
    }

    #[test]
    fn a_store_locked_by_another_writer_is_an_error_after_the_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hexdash.db");
        let cache = ProjectCache::open(&path).unwrap();
        cache.store(&scope(), &[project("1", "A")], at(0)).unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = std::time::Instant::now();
        let err = cache.store(&scope(), &[], at(10)).unwrap_err();
        assert!(matches!(err, Error::Sql { .. }), "{err}");
        assert!(started.elapsed() >= BUSY_TIMEOUT / 2, "it waited first");
        // Readers are not blocked by a writer (WAL): the list is still there.
        assert_eq!(cache.load(&scope()).unwrap().unwrap().fetched_at, at(0));
        other.execute_batch("ROLLBACK").unwrap();
    }

    #[test]
    fn a_file_that_is_no_database_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hexdash.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = ProjectCache::open(&path).unwrap_err();
        assert!(err.to_string().contains("hexdash.db"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_store_and_its_dir_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = data.join("hexdash.db");
        let cache = ProjectCache::open(&path).unwrap();
        cache.store(&scope(), &[project("1", "A")], at(0)).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&path), 0o600);
        let wal = data.join("hexdash.db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600);
        }
    }

    #[test]
    fn a_list_past_the_cap_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ProjectCache::open(&dir.path().join("hexdash.db")).unwrap();
        let big = "x".repeat(MAX_ENTRY_BYTES);
        let err = cache
            .store(&scope(), &[project("1", &big)], at(0))
            .unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }), "{err}");
        assert_eq!(cache.load(&scope()).unwrap(), None);
    }
}
