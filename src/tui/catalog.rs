//! Project rows for the projects screen: Hex's project list joined with the config (aliases,
//! declared parameters) and the journal (last run, duration trend, last parameters used), and
//! the same list as workspace discovery sweeps it.
//!
//! Pure: the effect runner fetches the projects and hands them here with a copy of the journal
//! state.

use std::collections::HashMap;

use crate::config::{Config, Scope};
use crate::engine::WorkspaceProject;
use crate::hex::RunStatus;
use crate::hex::types::Project;
use crate::journal::JournalState;

use super::model::ProjectRow;

/// The projects workspace discovery lists: live ones, minus those `[workspace] ignore` names,
/// with those `[workspace] follow` names marked.
pub fn workspace_projects(projects: &[Project], config: &Config) -> Vec<WorkspaceProject> {
    projects
        .iter()
        .filter(|p| p.is_live())
        .filter_map(|p| {
            let alias = config.project(&p.id).and_then(|c| c.alias.as_deref());
            let scope = config.workspace.scope(&p.id, &p.title, alias);
            (scope != Scope::Ignored).then(|| WorkspaceProject {
                id: p.id.clone(),
                followed: scope == Scope::Followed,
                schedules: p.schedules.clone(),
                results_updated_at: p
                    .analytics
                    .as_ref()
                    .and_then(|a| a.published_results_updated_at),
            })
        })
        .collect()
}

/// How many completed runs the sparkline shows.
const TREND: usize = 20;

pub fn project_rows(
    projects: Vec<Project>,
    config: &Config,
    journal: &JournalState,
) -> Vec<ProjectRow> {
    let mut last: HashMap<&str, &crate::journal::RunRecord> = HashMap::new();
    for run in journal.runs() {
        // Later records win: `runs()` is in order of first appearance.
        last.insert(run.project_id.as_str(), run);
    }
    projects
        .into_iter()
        .filter(|p| p.archived_at.is_none() && p.trashed_at.is_none())
        .map(|project| {
            let declared = config.project(&project.id);
            let recent = last.get(project.id.as_str());
            let mut trend: Vec<u64> = journal
                .durations(&project.id)
                .into_iter()
                .filter(|d| d.status == RunStatus::Completed)
                .take(TREND)
                .filter_map(|d| u64::try_from(d.duration.as_secs()).ok())
                .collect();
            trend.reverse();
            let last_launch = journal.last_launch(&project.id);
            ProjectRow {
                alias: declared.and_then(|c| c.alias.clone()),
                specs: declared.map(|c| c.params.clone()).unwrap_or_default(),
                last_status: recent.and_then(|r| r.status.clone()),
                last_run_at: recent.map(|r| r.start_time.unwrap_or(r.first_at)),
                last_duration_secs: recent.and_then(|r| r.elapsed_ms).map(|ms| ms / 1000.0),
                trend,
                last_params: last_launch.map(|l| l.params.clone()),
                last_options: last_launch.map(|l| l.options.clone()),
                project,
            }
        })
        .collect()
}
