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
//! - pipeline events are kept for the newest `keep_pipeline_runs` pipeline runs, for any
//!   pipeline run a kept launch, watch or cancel came from, and for every pipeline run whose last
//!   entry is not [`PIPELINE_FINISHED`](super::PIPELINE_FINISHED): it may still be carried on.
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
    let mut pipelines_open: HashMap<&str, bool> = HashMap::new();
    for (i, env) in events.iter().enumerate() {
        if let Event::Pipeline {
            pipeline_run_id,
            kind,
            ..
        } = &env.event
        {
            pipelines_last.insert(pipeline_run_id, i);
            pipelines_open.insert(pipeline_run_id, kind != super::PIPELINE_FINISHED);
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
    kept_pipelines.extend(
        pipelines_open
            .iter()
            .filter(|(_, open)| **open)
            .map(|(p, _)| *p),
    );

    let kept = |g: &usize, f: &GroupFacts| !ended(f) || kept_ended.contains(g);
    for (g, f) in &facts {
        if kept(g, f) {
            kept_pipelines.extend(f.origins.iter().filter_map(|origin| match origin {
                Origin::Pipeline {
                    pipeline_run_id, ..
                } => Some(pipeline_run_id.as_str()),
                _ => None,
            }));
        }
    }

    events
        .iter()
        .zip(group_of)
        .enumerate()
        .map(|(i, (env, group))| {
            if let Event::Pipeline {
                pipeline_run_id, ..
            } = &env.event
            {
                return kept_pipelines.contains(pipeline_run_id.as_str());
            }
            let Some((g, f)) = group.and_then(|g| facts.get_key_value(&g)) else {
                return false;
            };
            match &env.event {
                _ if !kept(g, f) => false,
                // An ended run keeps only the status line its replay ends on.
                Event::StatusChanged(s) if ended(f) => {
                    final_status.get(&(s.project_id.as_str(), s.run_id.as_str())) == Some(&i)
                }
                _ => true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::types::RunStatus::*;
    use crate::journal::replay::JournalState;
    use crate::journal::testing::{envelopes, intent, launched, status};
    use serde_json::json;

    fn kept(events: &[Envelope], policy: &CompactPolicy) -> Vec<Envelope> {
        events
            .iter()
            .zip(select(events, policy))
            .filter(|(_, keep)| *keep)
            .map(|(e, _)| e.clone())
            .collect()
    }

    fn kinds(events: &[Envelope]) -> Vec<(u64, &'static str)> {
        events.iter().map(|e| (e.seq, e.event.kind())).collect()
    }

    #[test]
    fn active_and_pending_are_kept_whole_ended_are_collapsed() {
        let events = envelopes(vec![
            intent("l1", "p"),               // 1 ended run r1
            launched("l1", "p", "r1"),       // 2
            status("p", "r1", Pending, 1),   // 3 dropped: not final
            status("p", "r1", Running, 2),   // 4 dropped
            status("p", "r1", Completed, 3), // 5 final
            status("p", "r1", Completed, 4), // 6 dropped: after final
            intent("l2", "q"),               // 7 active run r2
            launched("l2", "q", "r2"),       // 8
            status("q", "r2", Pending, 5),   // 9
            status("q", "r2", Running, 6),   // 10
            intent("l3", "q"),               // 11 pending, unknown outcome
            Event::LaunchOutcomeUnknown {
                launch_id: "l3".into(),
                project_id: "q".into(),
                error: "timeout".into(),
            }, // 12
        ]);
        let out = kept(&events, &CompactPolicy::default());
        assert_eq!(
            kinds(&out),
            [
                (1, "launch_intent"),
                (2, "launched"),
                (5, "status_changed"),
                (7, "launch_intent"),
                (8, "launched"),
                (9, "status_changed"),
                (10, "status_changed"),
                (11, "launch_intent"),
                (12, "launch_outcome_unknown"),
            ]
        );
        let (all, compacted) = (JournalState::replay(&events), JournalState::replay(&out));
        assert_eq!(
            compacted.active_runs().collect::<Vec<_>>(),
            all.active_runs().collect::<Vec<_>>()
        );
        assert_eq!(
            compacted.pending_launches().collect::<Vec<_>>(),
            all.pending_launches().collect::<Vec<_>>()
        );
        assert_eq!(compacted.run("p", "r1").unwrap().status, Some(Completed));
    }

    #[test]
    fn keeps_only_the_newest_ended_but_each_projects_last_launch() {
        let mut story = Vec::new();
        for (i, project) in ["a", "b", "b", "b"].iter().enumerate() {
            let (l, r) = (format!("l{i}"), format!("r{i}"));
            story.push(intent(&l, project));
            story.push(launched(&l, project, &r));
            story.push(status(project, &r, Completed, i as i64));
        }
        story.push(intent("l9", "b"));
        story.push(Event::LaunchFailed {
            launch_id: "l9".into(),
            project_id: "b".into(),
            error: "422".into(),
        });
        let events = envelopes(story);
        let policy = CompactPolicy {
            keep_ended: 1,
            keep_pipeline_runs: 0,
        };
        let out = kept(&events, &policy);
        let state = JournalState::replay(&out);
        // r0 is project a's newest launch; the failed l9 is the newest ended group overall and
        // project b's newest launch. r1..r3 go.
        let runs: Vec<_> = state.runs().map(|r| r.run_id.as_str()).collect();
        assert_eq!(runs, ["r0"]);
        assert_eq!(state.ended_launches().len(), 1);
        assert_eq!(state.last_launch("b").unwrap().launch_id, "l9");
        assert_eq!(state.last_launch("a").unwrap().launch_id, "l0");
    }

    #[test]
    fn a_run_that_was_watched_before_its_launch_was_recorded_stays_one_group() {
        // The engine may observe a run before the `launched` line (a poll racing the 201).
        let events = envelopes(vec![
            status("p", "r1", Running, 1),
            intent("l1", "p"),
            launched("l1", "p", "r1"),
        ]);
        let out = kept(
            &events,
            &CompactPolicy {
                keep_ended: 0,
                keep_pipeline_runs: 0,
            },
        );
        assert_eq!(out.len(), 3, "the run is active, so all of it stays");
    }

    #[test]
    fn pipeline_events_follow_their_runs_the_newest_pipelines_and_unfinished_ones() {
        let from_old = Origin::Pipeline {
            pipeline_run_id: "old".into(),
            step_id: "s".into(),
            attempt: 1,
        };
        let entry = |id: &str, kind: &str| Event::Pipeline {
            pipeline_run_id: id.into(),
            kind: kind.into(),
            data: json!({}),
        };
        let mut launch = intent("l1", "p");
        if let Event::LaunchIntent(i) = &mut launch {
            i.origin = from_old;
        }
        let events = envelopes(vec![
            entry("old", "started"),
            entry("dropped", "started"),
            entry("dropped", crate::journal::PIPELINE_FINISHED),
            entry("waiting", "started"),
            launch,
            launched("l1", "p", "r1"),
            entry("new", "started"),
            entry("new", crate::journal::PIPELINE_FINISHED),
            Event::Compacted {
                kept: 1,
                dropped: 1,
            },
        ]);
        let policy = CompactPolicy {
            keep_ended: 0,
            keep_pipeline_runs: 1,
        };
        let keep = select(&events, &policy);
        assert_eq!(
            keep,
            [true, false, false, true, true, true, true, true, false]
        );
    }
}
