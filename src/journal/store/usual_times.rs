//! Each project's usual running time as Hex's own history tells it, kept in the store.
//!
//! Discovery lists projects with every trigger; the COMPLETED runs in a listing say how long the
//! project usually runs, even when no hexdash ever launched it. Kept here so the next dashboard
//! (on this data dir, after a restart) flags a stuck run from its start instead of after the
//! project's next listing. Read when discovery starts; written at most every ten minutes.
//!
//! Owns the `usual_times` table, created on first use (`IF NOT EXISTS`) rather than by a schema
//! migration: it is a cache, and an older hexdash on the same store neither needs nor minds it.

use jiff::Timestamp;
use rusqlite::params;

use super::{Journal, now_ms};
use crate::journal::Error;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS usual_times (
    project_id TEXT PRIMARY KEY NOT NULL,
    count      INTEGER NOT NULL,
    p50_ms     INTEGER NOT NULL,
    p95_ms     INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
)";

/// A project's usual running time: its completed runs' median and 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsualTime {
    pub count: u32,
    pub p50_ms: u64,
    pub p95_ms: u64,
    /// When it was worked out.
    pub updated_at: Timestamp,
}

impl Journal {
    /// Every project's kept usual time. Rows that cannot be read back are skipped.
    pub fn usual_times(&self) -> Result<Vec<(String, UsualTime)>, Error> {
        self.conn
            .execute(SCHEMA, [])
            .map_err(Error::store("create the usual times in", &self.path))?;
        let mut stmt = self
            .conn
            .prepare("SELECT project_id, count, p50_ms, p95_ms, updated_ms FROM usual_times")
            .map_err(Error::store("read", &self.path))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })
            .map_err(Error::store("read", &self.path))?;
        let mut out = Vec::new();
        for (project, count, p50, p95, at) in rows.flatten() {
            let (Ok(count), Ok(p50_ms), Ok(p95_ms), Ok(updated_at)) = (
                u32::try_from(count),
                u64::try_from(p50),
                u64::try_from(p95),
                Timestamp::from_millisecond(at),
            ) else {
                continue;
            };
            out.push((
                project,
                UsualTime {
                    count,
                    p50_ms,
                    p95_ms,
                    updated_at,
                },
            ));
        }
        Ok(out)
    }

    /// Keeps `usual` as the project's usual time, for every process on the store.
    pub fn keep_usual_time(&mut self, project_id: &str, usual: &UsualTime) -> Result<(), Error> {
        self.conn
            .execute(SCHEMA, [])
            .map_err(Error::store("create the usual times in", &self.path))?;
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.conn
            .execute(
                "INSERT INTO usual_times (project_id, count, p50_ms, p95_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (project_id) DO UPDATE SET count = excluded.count,
                     p50_ms = excluded.p50_ms, p95_ms = excluded.p95_ms,
                     updated_ms = excluded.updated_ms",
                params![
                    project_id,
                    usual.count,
                    clamp(usual.p50_ms),
                    clamp(usual.p95_ms),
                    now_ms(&self.clock)
                ],
            )
            .map_err(Error::store("keep a usual time in", &self.path))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_usual_time_reads_back_and_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path().join("hexdash.db"))
            .unwrap()
            .journal;
        assert!(journal.usual_times().unwrap().is_empty());
        let mut usual = UsualTime {
            count: 7,
            p50_ms: 60_000,
            p95_ms: 90_000,
            updated_at: Timestamp::UNIX_EPOCH,
        };
        journal.keep_usual_time("p1", &usual).unwrap();
        usual.p95_ms = 120_000;
        journal.keep_usual_time("p1", &usual).unwrap();
        let kept = journal.usual_times().unwrap();
        assert_eq!(kept.len(), 1);
        let (project, got) = &kept[0];
        assert_eq!(project, "p1");
        assert_eq!((got.count, got.p50_ms, got.p95_ms), (7, 60_000, 120_000));
        assert!(got.updated_at > Timestamp::UNIX_EPOCH);
    }
}
