//! `analytics.publishedResultsUpdatedAt`, kept true to the runs: a run that completes writes
//! its results into the published app when RunProject asked for it (`updatePublishedResults`)
//! and, as in Hex, when Hex's scheduler or an app refresh started it. ListProjects and
//! GetProject show the newest such completion (or the scenario's publish time, whichever is
//! later), so a client watching the field sees the workspace's activity move it.
//!
//! Derived from the runs' timelines at the moment of the request, like every status here.

use std::collections::HashMap;

use jiff::Timestamp;

use super::{Run, Workspace};
use crate::hex::RunStatus;
use crate::hex::types::Project;

impl Run {
    /// Whether this run writes its results into the published app when it completes.
    fn updates_published_results(&self) -> bool {
        matches!(self.trigger.as_str(), "SCHEDULED" | "APP_REFRESH")
            || self.options.get("updatePublishedResults") == Some(&serde_json::Value::Bool(true))
    }

    /// When it completed, if it has by `now`.
    fn completed_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.transitions_at(now)
            .last()
            .filter(|t| t.status == RunStatus::Completed)
            .map(|t| t.at)
    }
}

impl Workspace {
    /// Each project's newest completion that updated its published results, by `now`.
    fn results_written(&self, now: Timestamp) -> HashMap<&str, Timestamp> {
        let mut newest: HashMap<&str, Timestamp> = HashMap::new();
        for run in self.runs.iter().filter(|r| r.updates_published_results()) {
            if let Some(at) = run.completed_at(now) {
                let slot = newest.entry(run.project_id.as_str()).or_insert(at);
                *slot = (*slot).max(at);
            }
        }
        newest
    }

    /// The projects as served at `now`: their fixed shape with the published results' time
    /// brought up to the newest run that wrote them.
    pub fn projects_at(&self, now: Timestamp) -> Vec<Project> {
        let written = self.results_written(now);
        self.projects
            .iter()
            .map(|entry| {
                let mut p = entry.wire.clone();
                if let (Some(analytics), Some(at)) =
                    (p.analytics.as_mut(), written.get(p.id.as_str()))
                {
                    let was = analytics.published_results_updated_at;
                    analytics.published_results_updated_at = Some(was.map_or(*at, |w| w.max(*at)));
                }
                p
            })
            .collect()
    }

    /// One project as served at `now` (see [`Workspace::projects_at`]).
    pub fn project_at(&self, id: &str, now: Timestamp) -> Option<Project> {
        self.project(id)?;
        self.projects_at(now).into_iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::scenario::Scenario;
    use crate::hex::types::RunProjectRequest;

    const P: &str = "00000000-0000-4000-8000-0000000000b1";

    fn workspace(now: Timestamp) -> Workspace {
        let text = format!(
            "tokens = [\"t\"]\nseed = 3\n[[projects]]\nid = \"{P}\"\ntitle = \"Refreshed\"\n\
             owner = \"a@b.c\"\npublished_hours_ago = 10\n[projects.run]\n\
             pending_secs = [1, 1]\nduration_secs = [10, 10]\nfailure_rate = 0.0\n"
        );
        let scenario = Scenario::from_toml_str(&text, "test").unwrap();
        Workspace::new(&scenario, 1.0, now)
    }

    fn results_at(ws: &Workspace, now: Timestamp) -> Option<Timestamp> {
        ws.project_at(P, now)
            .and_then(|p| p.analytics)
            .and_then(|a| a.published_results_updated_at)
    }

    #[test]
    fn a_completed_run_that_writes_results_moves_the_time_and_others_do_not() {
        let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let mut ws = workspace(t0);
        let published = results_at(&ws, t0).unwrap();
        assert!(published < t0);

        // An API run that does not ask to update the published app leaves it.
        let plain = RunProjectRequest::default();
        ws.launch(P, &plain, t0).unwrap();
        let later = t0 + jiff::SignedDuration::from_secs(60);
        assert_eq!(results_at(&ws, later), Some(published));

        // One that asks moves it to its end, once it has ended.
        let writes = RunProjectRequest {
            update_published_results: Some(true),
            ..RunProjectRequest::default()
        };
        ws.launch(P, &writes, later).unwrap();
        assert_eq!(
            results_at(&ws, later),
            Some(published),
            "not before it ends"
        );
        let end = later + jiff::SignedDuration::from_secs(11);
        assert_eq!(
            results_at(&ws, end + jiff::SignedDuration::from_secs(5)),
            Some(end)
        );
        // The list says the same.
        let listed = ws.projects_at(end).into_iter().find(|p| p.id == P).unwrap();
        assert_eq!(
            listed
                .analytics
                .and_then(|a| a.published_results_updated_at),
            Some(end)
        );
    }
}
