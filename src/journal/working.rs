//! The part of the store a running hexdash works from, folded without reading the rest: what
//! keeps the dashboard's memory and start-up flat with years of history.
//!
//! A process needs the runs it may follow or act on, not every run ever recorded. The working
//! set is:
//! - every active run (they are re-attached and polled);
//! - per project, the newest few runs of any status (the projects screen's last run) and the
//!   newest [`RECENT_COMPLETED`] completed ones (the duration statistics that flag a stuck run);
//! - every run a pipeline launched, and every pipeline entry (a pipeline's state is its steps'
//!   runs);
//! - every launch that created no run or is still unresolved (reconciliation, `history`), and
//!   each project's newest launch (the form's prefill).
//!
//! Each run comes with all its events, including its launch's, so its record is the one a full
//! fold would give. A run outside the set that comes up later (another process cancels an old
//! run, the operator opens one) is read in on demand by [`hydrate`] before anything is folded
//! into it, so the record is never a partial one. Older runs are read for display by
//! [`each_ended_run`], one at a time, never all held.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use rusqlite::{Connection, params};

use super::error::Error;
use super::replay::{JournalState, RunRecord};
use super::store::read_query;

/// Completed runs kept per project: at least what the duration statistics look at.
pub const RECENT_COMPLETED: i64 = 50;
/// Newest runs of any status kept per project.
const NEWEST_PER_PROJECT: i64 = 5;

/// The runs of the working set (see the module comment), by the `runs` table.
const WORKING_RUNS: &str = "
SELECT project_id, run_id FROM runs WHERE active = 1
UNION
SELECT project_id, run_id FROM (
    SELECT project_id, run_id, status,
           row_number() OVER (PARTITION BY project_id ORDER BY rowid DESC) AS newest,
           row_number() OVER (PARTITION BY project_id, status = 'COMPLETED'
                              ORDER BY rowid DESC) AS newest_of_status
    FROM runs)
WHERE newest <= ?1 OR (status = 'COMPLETED' AND newest_of_status <= ?2)
UNION
SELECT project_id, run_id FROM runs WHERE origin LIKE '{\"kind\":\"pipeline\"%'";

/// Launches that created no run, or are unresolved, and each project's newest launch.
const WORKING_LAUNCHES: &str = "
SELECT launch_id FROM events WHERE kind IN ('launch_failed', 'abandoned')
UNION
SELECT i.launch_id FROM events i WHERE i.kind = 'launch_intent' AND NOT EXISTS
  (SELECT 1 FROM events f WHERE f.launch_id = i.launch_id
   AND f.kind IN ('launched', 'adopted', 'launch_failed', 'abandoned'))
UNION
SELECT launch_id FROM events WHERE seq IN
  (SELECT max(seq) FROM events WHERE kind = 'launch_intent' GROUP BY project_id)";

/// Events picked to be folded: by sequence number, so they are folded in the order written.
#[derive(Default)]
pub(super) struct Picked {
    seqs: BTreeSet<i64>,
    launches: HashSet<String>,
}

impl Picked {
    /// Every event of run `project`/`run` written before `before`, and (by
    /// [`Picked::add_launches`]) its launch's.
    pub fn add_run(
        &mut self,
        conn: &Connection,
        path: &Path,
        project: &str,
        run: &str,
        before: i64,
    ) -> Result<(), Error> {
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, launch_id FROM events
                 WHERE project_id = ?1 AND run_id = ?2 AND seq < ?3",
            )
            .map_err(Error::store("read", path))?;
        let found = stmt
            .query_map(params![project, run, before], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(Error::store("read", path))?;
        for found in found {
            let (seq, launch) = found.map_err(Error::store("read", path))?;
            self.seqs.insert(seq);
            self.launches.extend(launch);
        }
        Ok(())
    }

    /// The launches [`WORKING_LAUNCHES`] names (see there).
    pub fn add_launches_without_run(
        &mut self,
        conn: &Connection,
        path: &Path,
    ) -> Result<(), Error> {
        let mut stmt = conn
            .prepare(WORKING_LAUNCHES)
            .map_err(Error::store("read", path))?;
        let ids = stmt
            .query_map([], |r| r.get::<_, Option<String>>(0))
            .map_err(Error::store("read", path))?;
        for id in ids {
            self.launches
                .extend(id.map_err(Error::store("read", path))?);
        }
        Ok(())
    }

    /// Every event of the launches picked so far, and of the runs they created, written before
    /// `before`: a launch is never folded without its run's statuses (nor a run without its
    /// launch, see [`Picked::add_run`]).
    pub fn add_launches(
        &mut self,
        conn: &Connection,
        path: &Path,
        before: i64,
    ) -> Result<(), Error> {
        let mut done: HashSet<String> = HashSet::new();
        let mut runs_done: HashSet<(String, String)> = HashSet::new();
        loop {
            let todo: Vec<String> = self.launches.difference(&done).cloned().collect();
            if todo.is_empty() {
                return Ok(());
            }
            let mut runs = Vec::new();
            {
                let mut stmt = conn
                    .prepare_cached(
                        "SELECT seq, project_id, run_id FROM events
                         WHERE launch_id = ?1 AND seq < ?2",
                    )
                    .map_err(Error::store("read", path))?;
                for launch in &todo {
                    let found = stmt
                        .query_map(params![launch, before], |r| {
                            Ok((
                                r.get::<_, i64>(0)?,
                                r.get::<_, Option<String>>(1)?,
                                r.get::<_, Option<String>>(2)?,
                            ))
                        })
                        .map_err(Error::store("read", path))?;
                    for found in found {
                        let (seq, project, run) = found.map_err(Error::store("read", path))?;
                        self.seqs.insert(seq);
                        if let (Some(project), Some(run)) = (project, run) {
                            runs.push((project, run));
                        }
                    }
                }
            }
            done.extend(todo);
            for (project, run) in runs {
                if runs_done.insert((project.clone(), run.clone())) {
                    self.add_run(conn, path, &project, &run, before)?;
                }
            }
        }
    }

    /// Folds the picked events into `state`, oldest first; the warnings of what was skipped.
    pub fn fold(
        &self,
        conn: &Connection,
        path: &Path,
        state: &mut JournalState,
    ) -> Result<Vec<String>, Error> {
        let mut warnings = Vec::new();
        for &seq in &self.seqs {
            let read = read_query(
                conn,
                path,
                "SELECT seq, v, at, kind, body FROM events WHERE seq = ?1",
                [seq],
                |env| state.apply(&env),
            )?;
            warnings.extend(read.warnings);
        }
        Ok(warnings)
    }
}

/// The working set of the store, folded (see the module comment).
pub(super) fn fold_working(
    conn: &Connection,
    path: &Path,
) -> Result<(JournalState, Vec<String>), Error> {
    let last: i64 = conn
        .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
        .map_err(Error::store("read", path))?;
    let everything = last.saturating_add(1);
    let mut picked = Picked::default();
    {
        let mut runs = conn
            .prepare(WORKING_RUNS)
            .map_err(Error::store("read", path))?;
        let keys = runs
            .query_map(params![NEWEST_PER_PROJECT, RECENT_COMPLETED], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(Error::store("read", path))?;
        for key in keys {
            let (project, run) = key.map_err(Error::store("read", path))?;
            picked.add_run(conn, path, &project, &run, everything)?;
        }
    }
    picked.add_launches_without_run(conn, path)?;
    picked.add_launches(conn, path, everything)?;
    let mut pipelines = conn
        .prepare("SELECT seq FROM events WHERE kind = 'pipeline'")
        .map_err(Error::store("read", path))?;
    let found = pipelines
        .query_map([], |r| r.get::<_, i64>(0))
        .map_err(Error::store("read", path))?;
    for seq in found {
        picked.seqs.insert(seq.map_err(Error::store("read", path))?);
    }
    let mut state = JournalState::default();
    let warnings = picked.fold(conn, path, &mut state)?;
    state.note_seq(u64::try_from(last).unwrap_or(0));
    Ok((state, warnings))
}

/// Reads run `project`/`run` into `book` from the store, if the book does not hold it: every
/// event about it (and its launch) written before `before`. Whether the book holds it after.
pub(super) fn hydrate(
    conn: &Connection,
    path: &Path,
    book: &mut JournalState,
    project: &str,
    run: &str,
    before: u64,
) -> Result<bool, Error> {
    if book.run(project, run).is_some() {
        return Ok(true);
    }
    let before = i64::try_from(before).unwrap_or(i64::MAX);
    let mut picked = Picked::default();
    picked.add_run(conn, path, project, run, before)?;
    picked.add_launches(conn, path, before)?;
    for w in picked.fold(conn, path, book)? {
        tracing::warn!("{w}");
    }
    Ok(book.run(project, run).is_some())
}

/// Hands `each` the newest `limit` ended runs of the store that `skip` does not reject, newest
/// first (by first appearance), each folded from its own events: any amount of history is shown
/// holding one run at a time. `each` answers whether to go on.
pub(super) fn each_ended_run(
    conn: &Connection,
    path: &Path,
    limit: usize,
    skip: &dyn Fn(&str, &str) -> bool,
    each: &mut dyn FnMut(RunRecord) -> bool,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    let mut runs = conn
        .prepare("SELECT project_id, run_id FROM runs WHERE active = 0 ORDER BY rowid DESC")
        .map_err(Error::store("read", path))?;
    let mut rows = runs.query([]).map_err(Error::store("read", path))?;
    let mut given = 0;
    while given < limit {
        let Some(row) = rows.next().map_err(Error::store("read", path))? else {
            break;
        };
        let project: String = row.get(0).map_err(Error::store("read", path))?;
        let run: String = row.get(1).map_err(Error::store("read", path))?;
        if skip(&project, &run) {
            continue;
        }
        let mut picked = Picked::default();
        picked.add_run(conn, path, &project, &run, i64::MAX)?;
        picked.add_launches(conn, path, i64::MAX)?;
        let mut state = JournalState::default();
        warnings.extend(picked.fold(conn, path, &mut state)?);
        let Some(record) = state.take_run(&project, &run) else {
            continue;
        };
        given += 1;
        if !each(record) {
            break;
        }
    }
    Ok(warnings)
}
