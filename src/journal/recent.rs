//! The newest part of the store, folded without reading the rest: what `history --limit N`
//! shows, in time that does not grow with years of history.
//!
//! The `runs` table says which runs are newest (its rows are inserted when a run first appears,
//! so `rowid` order is first-appearance order); only their events, and the events of launches
//! that created no run or are unresolved (rare), are read and folded. The result is a
//! [`JournalState`] holding just those runs and launches, which the caller shows as it would a
//! full fold.

use std::path::Path;

use super::error::Error;
use super::replay::JournalState;
use super::store::Journal;
use super::working::Picked;

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
    let mut picked = Picked::default();
    {
        let mut runs = conn
            .prepare("SELECT project_id, run_id, project_title FROM runs ORDER BY rowid DESC")
            .map_err(Error::store("read", path))?;
        let mut rows = runs.query([]).map_err(Error::store("read", path))?;
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
            picked.add_run(conn, path, &project, &run, i64::MAX)?;
        }
    }
    picked.add_launches_without_run(conn, path)?;
    picked.add_launches(conn, path, i64::MAX)?;
    let mut state = JournalState::default();
    warnings.extend(picked.fold(conn, path, &mut state)?);
    Ok((state, warnings))
}
