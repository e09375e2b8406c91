//! Which events survive compaction: a pure choice over the loaded events, no I/O.
//!
//! Events are grouped by what they are about: one launch (its intent, outcome and the run it
//! created) or one run hexdash did not launch (watched, or only seen in a status). A group is
//! *ended* when every run in it reached a terminal status, or when it is a launch that certainly
//! created nothing. Then:
//! - every event of every group that has not ended is kept, so active runs and launches awaiting
//!   reconciliation replay exactly as before;
//! - the newest `keep_ended` ended groups are kept collapsed: all their events except the status
//!   observations that led up to the final status (those are the bulk of a long run's lines);
//! - each project's newest launch is kept the same way, so "last parameters used" survives;
//! - pipeline events are kept for the newest `keep_pipeline_runs` pipeline runs and for any
//!   pipeline run a kept launch, watch or cancel came from.
//!
//! "Final status" follows the replay rule (a run's first terminal status is final), so replaying
//! the compacted journal gives every kept run the same last status as replaying the whole one.

use std::collections::{HashMap, HashSet};

use super::event::{Envelope, Event, Origin};

/// How much finished history compaction keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactPolicy {
    /// Ended launches and runs kept, newest first.
    pub keep_ended: usize,
    /// Pipeline runs whose events are kept, newest first (besides those a kept run refers to).
    pub keep_pipeline_runs: usize,
}

impl Default for CompactPolicy {
    fn default() -> Self {
        CompactPolicy {
            keep_ended: 1000,
            keep_pipeline_runs: 100,
        }
    }
}

/// Groups joined by a launch that names a run already seen in another group.
struct Groups {
    parent: Vec<usize>,
}

impl Groups {
    fn add(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.parent.len() - 1
    }

    fn root(&mut self, mut g: usize) -> usize {
        while self.parent[g] != g {
            self.parent[g] = self.parent[self.parent[g]];
            g = self.parent[g];
        }
        g
    }

    fn join(&mut self, a: usize, b: usize) -> usize {
        let (a, b) = (self.root(a), self.root(b));
        self.parent[b] = a;
        a
    }
}

#[derive(Default)]
struct GroupFacts<'a> {
    runs: HashSet<(&'a str, &'a str)>,
    resolved_without_run: bool,
    last_index: usize,
    origins: Vec<&'a Origin>,
}

/// Returns, for each event, whether compaction keeps it.
pub fn select(events: &[Envelope], policy: &CompactPolicy) -> Vec<bool> {
    let mut groups = Groups { parent: Vec::new() };
    let mut by_launch: HashMap<&str, usize> = HashMap::new();
    let mut by_run: HashMap<(&str, &str), usize> = HashMap::new();
    // Pass 1: give every run-or-launch event a group, joining groups a launch links together.
    let mut group_of: Vec<Option<usize>> = Vec::with_capacity(events.len());
    for env in events {
        let launch = env
            .event
            .launch_id()
            .map(|id| *by_launch.entry(id).or_insert_with(|| groups.add()));
        let run = env
            .event
            .run()
            .map(|key| *by_run.entry(key).or_insert_with(|| groups.add()));
        group_of.push(match (launch, run) {
            (Some(l), Some(r)) => Some(groups.join(l, r)),
            (l, r) => l.or(r),
        });
    }

    // Pass 2: facts per final group, and which status line each run's replay ends on.
    let mut facts: HashMap<usize, GroupFacts> = HashMap::new();
    let mut terminal: HashSet<(&str, &str)> = HashSet::new();
    let mut final_status: HashMap<(&str, &str), usize> = HashMap::new();
    let mut newest_launch: HashMap<&str, usize> = HashMap::new();
    let mut pipelines_last: HashMap<&str, usize> = HashMap::new();
    for (i, env) in events.iter().enumerate() {
        if let Event::Pipeline {
            pipeline_run_id, ..
        } = &env.event
        {
            pipelines_last.insert(pipeline_run_id, i);
        }
        let Some(g) = group_of[i] else { continue };
        let g = groups.root(g);
        group_of[i] = Some(g);
        let f = facts.entry(g).or_default();
        f.last_index = i;
        if let Some(key) = env.event.run() {
            f.runs.insert(key);
        }
        match &env.event {
            Event::LaunchIntent(intent) => {
                f.origins.push(&intent.origin);
                newest_launch.insert(&intent.project_id, g);
            }
            Event::LaunchFailed { .. } | Event::Abandoned { .. } => f.resolved_without_run = true,
            Event::Watch { origin, .. } | Event::CancelRequested { origin, .. } => {
                f.origins.push(origin)
            }
            Event::StatusChanged(s) => {
                let key = (s.project_id.as_str(), s.run_id.as_str());
                if !terminal.contains(&key) {
                    final_status.insert(key, i);
                    if s.status.is_terminal() {
                        terminal.insert(key);
                    }
                }
            }
            Event::CancelConfirmed {
                project_id,
                run_id,
                status,
            } if status.is_terminal() => {
                let key = (project_id.as_str(), run_id.as_str());
                if terminal.insert(key) {
                    // The run ended by this line, not by a status line; it is kept anyway.
                    final_status.remove(&key);
                }
            }
            _ => {}
        }
    }
    let ended = |f: &GroupFacts| {
        if f.runs.is_empty() {
            f.resolved_without_run
        } else {
            f.runs.iter().all(|r| terminal.contains(r))
        }
    };
    let mut ended_groups: Vec<(usize, usize)> = facts
        .iter()
        .filter(|(_, f)| ended(f))
        .map(|(&g, f)| (f.last_index, g))
        .collect();
    ended_groups.sort_unstable_by(|a, b| b.cmp(a));
    let mut kept_ended: HashSet<usize> = ended_groups
        .iter()
        .take(policy.keep_ended)
        .map(|&(_, g)| g)
        .collect();
    kept_ended.extend(newest_launch.values().copied());

    let mut kept_pipelines: Vec<(usize, &str)> =
        pipelines_last.iter().map(|(&p, &i)| (i, p)).collect();
    kept_pipelines.sort_unstable_by(|a, b| b.cmp(a));
    let mut kept_pipelines: HashSet<&str> = kept_pipelines
        .into_iter()
        .take(policy.keep_pipeline_runs)
        .map(|(_, p)| p)
        .collect();

    let mut keep = vec![false; events.len()];
    for (i, env) in events.iter().enumerate() {
        let Some(g) = group_of[i] else { continue };
        let Some(f) = facts.get(&g) else { continue };
        keep[i] = if !ended(f) {
            true
        } else if kept_ended.contains(&g) {
            match &env.event {
                Event::StatusChanged(s) => {
                    final_status.get(&(s.project_id.as_str(), s.run_id.as_str())) == Some(&i)
                }
                _ => true,
            }
        } else {
            false
        };
        if keep[i] {
            for origin in &f.origins {
                if let Origin::Pipeline {
                    pipeline_run_id, ..
                } = origin
                {
                    kept_pipelines.insert(pipeline_run_id);
                }
            }
        }
    }
    for (i, env) in events.iter().enumerate() {
        if let Event::Pipeline {
            pipeline_run_id, ..
        } = &env.event
        {
            keep[i] = kept_pipelines.contains(pipeline_run_id.as_str());
        }
    }
    keep
}
