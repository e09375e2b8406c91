//! Runs of a project by the start of their id: the short ids the dashboard shows (8
//! characters) name a run on the command line, as git's short hashes name a commit.

use rusqlite::params;

use super::Journal;
use crate::journal::Error;

impl Journal {
    /// Up to `limit` run ids of `project_id` that start with `prefix`, in no set order. A plain
    /// comparison of the id's start: `%` or `_` in what was typed match only themselves.
    pub fn runs_starting_with(
        &self,
        project_id: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, Error> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id FROM runs WHERE project_id = ?1
                 AND substr(run_id, 1, length(?2)) = ?2 LIMIT ?3",
            )
            .map_err(Error::store("read", &self.path))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let ids = stmt
            .query_map(params![project_id, prefix, limit], |r| {
                r.get::<_, String>(0)
            })
            .map_err(Error::store("read", &self.path))?;
        Ok(ids.flatten().collect())
    }
}
