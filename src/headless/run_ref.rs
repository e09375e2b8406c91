//! A run named on the command line (`status`, `cancel`): its whole id, or the start of it as
//! the dashboard shows it (8 characters), like git's short hashes. Eight characters or more are
//! looked up among the project's runs in the store (what this machine launched or found), then
//! among Hex's newest runs of the project (one GetProjectRuns, every trigger); a shorter start
//! is looked up in both at once. A start that matches two runs is refused with them named, one
//! that matches none is sent as typed (Hex answers it).

use crate::hex::types::ProjectRunsQuery;
use crate::journal::Journal;

use crate::session::{Context, Failure};

/// Hex's run ids are UUIDs: one this long is taken whole, without a lookup.
const WHOLE_ID: usize = 36;
/// The length of the short ids the dashboard shows.
const SHOWN: usize = 8;
/// How many matches are worth naming when a start is ambiguous.
const NAMED: usize = 5;

/// The run id `given` stands for in `project_id`.
pub async fn resolve(ctx: &Context, project_id: &str, given: &str) -> Result<String, Failure> {
    let given = given.trim();
    if given.is_empty() {
        return Err(Failure::usage(
            "the run id is empty: give it whole or its first characters",
        ));
    }
    if given.len() >= WHOLE_ID {
        return Ok(given.to_string());
    }
    let stored = in_store(ctx, project_id, given);
    // The 8 characters the dashboard shows name one run in practice: the store's answer will
    // do. A shorter start may be shared with runs only Hex knows, so Hex is asked too and an
    // ambiguity across both is refused, never settled by what this machine happens to hold.
    if given.len() >= SHOWN
        && let Some(id) = one(given, stored.clone())?
    {
        return Ok(id);
    }
    let query = ProjectRunsQuery::every_trigger(100);
    let mut listed: Vec<String> = match ctx.client.get_project_runs(project_id, &query).await {
        Ok(page) => page
            .runs
            .into_iter()
            .map(|r| r.run_id)
            .filter(|id| id.starts_with(given))
            .collect(),
        // Hex cannot list now: the id goes as typed, and Hex's answer to it says the rest.
        Err(e) => {
            tracing::debug!(error = %e, "cannot list the project's runs to resolve a short id");
            Vec::new()
        }
    };
    listed.extend(stored);
    Ok(one(given, listed)?.unwrap_or_else(|| given.to_string()))
}

/// The one id among `matches`; `None` for none; refused when several.
fn one(given: &str, mut matches: Vec<String>) -> Result<Option<String>, Failure> {
    matches.sort();
    matches.dedup();
    match matches.len() {
        0 => Ok(None),
        1 => Ok(matches.pop()),
        n => Err(Failure::usage(format!(
            "run id {given:?} is ambiguous: {n} runs start with it ({}{}); give more of it",
            matches
                .iter()
                .take(NAMED)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            if n > NAMED { ", …" } else { "" }
        ))),
    }
}

/// The project's runs in the store whose id starts with `given`; none when there is no store
/// or it cannot be read (logged: Hex is asked instead).
fn in_store(ctx: &Context, project_id: &str, given: &str) -> Vec<String> {
    let path = ctx.paths.store_file();
    if !path.exists() {
        return Vec::new();
    }
    let found = Journal::attach(&path)
        .and_then(|(journal, _)| journal.runs_starting_with(project_id, given, NAMED + 1));
    match found {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!("cannot read the store to resolve a short run id: {e}");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_match_is_the_run_several_are_named_and_refused() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
        assert_eq!(one("3f2a", ids(&[])).unwrap(), None);
        assert_eq!(
            one("3f2a", ids(&["3f2a9c1d-x", "3f2a9c1d-x"])).unwrap(),
            Some("3f2a9c1d-x".to_string()),
            "the same run from the store and from Hex"
        );
        let err = one("3f", ids(&["3f2a-1", "3fbb-2"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ambiguous") && err.contains("3f2a-1") && err.contains("3fbb-2"),
            "{err}"
        );
    }
}
