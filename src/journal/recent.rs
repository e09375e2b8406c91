//! The newest part of the store, folded without reading the rest: what `history --limit N`
//! shows, in time that does not grow with years of history.
//!
//! The `runs` table says which runs are newest (its rows are inserted when a run first appears,
//! so `rowid` order is first-appearance order); only their events, and the events of launches
//! that created no run or are unresolved (rare), are read and folded. The result is a
//! [`JournalState`] holding just those runs and launches, which the caller shows as it would a
//! full fold.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use rusqlite::params;

use super::error::Error;
use super::replay::JournalState;
use super::store::{Journal, read_query};

/// The newest `limit` runs `keep` accepts (by project id and recorded title), twice as many
/// candidates read to absorb clock skew between processes, and every launch without a run.
pub fn load_recent(
    path: impl AsRef<Path>,
    limit: usize,
    keep: &dyn Fn(&str, Option<&str>) -> bool,
) -> Result<(JournalState, Vec<String>), Error> {
    let (journal, mut warnings) = Journal::attach(path.as_ref().to_path_buf())?;
    let conn = journal.conn();
    let path = journal.path();
    let mut seqs: BTreeSet<i64> = BTreeSet::new();
    let mut launches: HashSet<String> = HashSet::new();
    {
        let mut runs = conn
            .prepare("SELECT project_id, run_id, project_title FROM runs ORDER BY rowid DESC")
            .map_err(Error::store("read", path))?;
        let mut rows = runs.query([]).map_err(Error::store("read", path))?;
        let mut events = conn
            .prepare("SELECT seq, launch_id FROM events WHERE project_id = ?1 AND run_id = ?2")
            .map_err(Error::store("read", path))?;
        let mut taken = 0;
        while taken < limit.saturating_mul(2) {
            let Some(row) = rows.next().map_err(Error::store("read", path))? else {
                break;
            };
            let project: String = row.get(0).map_err(Error::store("read", path))?;
            let run: String = row.get(1).map_err(Error::store("read", path))?;
            let title: Option<String> = row.get(2).map_err(Error::store("read", path))?;
            if !keep(&project, title.as_deref()) {
                continue;
            }
            taken += 1;
            let found = events
                .query_map(params![project, run], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .map_err(Error::store("read", path))?;
            for found in found {
                let (seq, launch) = found.map_err(Error::store("read", path))?;
                seqs.insert(seq);
                launches.extend(launch);
            }
        }
    }
    // Launches that created no run (refused, abandoned) or are still unresolved: few, all read.
    let ended = "SELECT launch_id FROM events WHERE kind IN ('launch_failed', 'abandoned')
                 UNION
                 SELECT i.launch_id FROM events i WHERE i.kind = 'launch_intent' AND NOT EXISTS
                   (SELECT 1 FROM events f WHERE f.launch_id = i.launch_id
                    AND f.kind IN ('launched', 'adopted', 'launch_failed', 'abandoned'))";
    {
        let mut stmt = conn.prepare(ended).map_err(Error::store("read", path))?;
        let ids = stmt
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .map_err(Error::store("read", path))?;
        for id in ids {
            launches.extend(id.map_err(Error::store("read", path))?);
        }
    }
    {
        let mut stmt = conn
            .prepare("SELECT seq FROM events WHERE launch_id = ?1")
            .map_err(Error::store("read", path))?;
        for launch in &launches {
            let found = stmt
                .query_map([launch], |r| r.get::<_, i64>(0))
                .map_err(Error::store("read", path))?;
            for seq in found {
                seqs.insert(seq.map_err(Error::store("read", path))?);
            }
        }
    }
    let mut state = JournalState::default();
    for seq in seqs {
        let read = read_query(
            conn,
            path,
            "SELECT seq, v, at, kind, body FROM events WHERE seq = ?1",
            [seq],
            |env| state.apply(&env),
        )?;
        warnings.extend(read.warnings);
    }
    Ok((state, warnings))
}
