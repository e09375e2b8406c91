//! Bulk actions on marked runs, as data: the plan a preview shows before anything is sent
//! (which runs, of which projects and triggers, what will happen to each), and the outcome of
//! each once the answers are in, for the summary after it.
//!
//! The plan is frozen when the preview opens, like the single-run dialogs: `y` acts on exactly
//! what was shown, and a run that ended meanwhile is reported "already ended", not cancelled.

use crate::engine::{LaunchRequest, RunKey};
use crate::hex::RunStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    Cancel,
    Rerun,
}

impl BulkAction {
    pub fn verb(self) -> &'static str {
        match self {
            BulkAction::Cancel => "cancel",
            BulkAction::Rerun => "rerun",
        }
    }
}

/// What `y` will do to one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Will {
    Cancel,
    /// Launch its project again with exactly this.
    Relaunch(Box<LaunchRequest>),
    /// Nothing, and why (already ended, parameters unknown…).
    Skip(String),
}

/// One marked run in a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkItem {
    pub key: RunKey,
    pub project: String,
    /// Hex's trigger as the runs list shows it (`api`, `scheduled`…).
    pub trigger: String,
    pub status: Option<RunStatus>,
    pub will: Will,
}

/// What the preview shows and `y` carries out.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPlan {
    pub action: BulkAction,
    pub items: Vec<BulkItem>,
    /// Marked runs the filter hides now: left out, and the preview says so.
    pub hidden: usize,
}

impl BulkPlan {
    /// How many runs `y` acts on (the others are skipped).
    pub fn acting(&self) -> usize {
        self.items
            .iter()
            .filter(|i| !matches!(i.will, Will::Skip(_)))
            .count()
    }

    /// `Daily ETL (2), Inventory (1)`: each project with how many of its runs, most first.
    pub fn projects(&self) -> Vec<(String, usize)> {
        tally(self.items.iter().map(|i| i.project.as_str()))
    }

    /// `scheduled 2, api 1`.
    pub fn triggers(&self) -> Vec<(String, usize)> {
        tally(self.items.iter().map(|i| i.trigger.as_str()))
    }
}

/// Counts of each name, most first, then in order of first appearance.
fn tally<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for name in names {
        match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, count)) => *count += 1,
            None => out.push((name.to_string(), 1)),
        }
    }
    // Stable: equal counts keep their first-seen order.
    out.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    out
}

/// What happened to one run of a bulk action.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Sent; the answer has not come.
    Waiting,
    /// Hex took the cancel; its row turns KILLED when Hex confirms.
    Cancelled,
    AlreadyEnded,
    /// Launched again: the new run's id.
    Launched(String),
    Skipped(String),
    Failed(String),
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Waiting => "waiting",
            Outcome::Cancelled => "cancelled",
            Outcome::AlreadyEnded => "already ended",
            Outcome::Launched(_) => "launched",
            Outcome::Skipped(_) => "skipped",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// A bulk action carried out: each run with what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkProgress {
    pub action: BulkAction,
    pub runs: Vec<(RunKey, String, Outcome)>,
}

impl BulkProgress {
    pub fn done(&self) -> bool {
        !self.runs.iter().any(|(_, _, o)| *o == Outcome::Waiting)
    }

    /// `3 cancelled, 1 already ended, 1 failed`: each outcome with its count, in a fixed order.
    pub fn counts(&self) -> String {
        let order = [
            "cancelled",
            "launched",
            "already ended",
            "skipped",
            "failed",
            "waiting",
        ];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|word| {
                let n = self
                    .runs
                    .iter()
                    .filter(|(_, _, o)| o.word() == *word)
                    .count();
                (n > 0).then(|| format!("{n} {word}"))
            })
            .collect();
        parts.join(", ")
    }

    /// Records a cancel's answer about `key`, if this action is waiting for it.
    pub fn record(&mut self, key: &RunKey, outcome: Outcome) -> bool {
        if self.action != BulkAction::Cancel {
            return false;
        }
        match self
            .runs
            .iter_mut()
            .find(|(k, _, o)| k == key && *o == Outcome::Waiting)
        {
            Some((_, _, o)) => {
                *o = outcome;
                true
            }
            None => false,
        }
    }

    /// Records the answer to the launch of item `item` (its place in `runs`), if waiting.
    pub fn record_item(&mut self, item: usize, outcome: Outcome) -> bool {
        match self.runs.get_mut(item) {
            Some((_, _, o)) if *o == Outcome::Waiting => {
                *o = outcome;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str, r: &str) -> RunKey {
        RunKey {
            project_id: p.into(),
            run_id: r.into(),
        }
    }

    fn item(p: &str, trigger: &str, will: Will) -> BulkItem {
        BulkItem {
            key: key(p, "r"),
            project: p.to_uppercase(),
            trigger: trigger.into(),
            status: Some(RunStatus::Running),
            will,
        }
    }

    #[test]
    fn a_plan_counts_projects_triggers_and_what_it_acts_on() {
        let plan = BulkPlan {
            action: BulkAction::Cancel,
            items: vec![
                item("b", "api", Will::Cancel),
                item("a", "scheduled", Will::Cancel),
                item("a", "scheduled", Will::Skip("already ended".into())),
            ],
            hidden: 0,
        };
        assert_eq!(plan.acting(), 2);
        assert_eq!(
            plan.projects(),
            vec![("A".to_string(), 2), ("B".to_string(), 1)]
        );
        assert_eq!(
            plan.triggers(),
            vec![("scheduled".to_string(), 2), ("api".to_string(), 1)]
        );
    }

    #[test]
    fn progress_records_each_answer_once_and_counts_them() {
        let mut p = BulkProgress {
            action: BulkAction::Cancel,
            runs: vec![
                (key("a", "1"), "A".into(), Outcome::Waiting),
                (key("a", "2"), "A".into(), Outcome::Waiting),
                (key("b", "3"), "B".into(), Outcome::AlreadyEnded),
            ],
        };
        assert!(!p.done());
        assert!(p.record(&key("a", "2"), Outcome::Cancelled));
        assert!(!p.record(&key("a", "2"), Outcome::Failed("again".into())));
        assert!(
            !p.record(&key("c", "9"), Outcome::Cancelled),
            "not part of it"
        );
        assert!(p.record(&key("a", "1"), Outcome::Failed("503".into())));
        assert!(p.done());
        assert_eq!(p.counts(), "1 cancelled, 1 already ended, 1 failed");
    }

    #[test]
    fn a_rerun_answer_is_matched_by_its_item_not_its_project() {
        let mut p = BulkProgress {
            action: BulkAction::Rerun,
            runs: vec![
                (key("a", "1"), "A".into(), Outcome::Waiting),
                (key("a", "2"), "A".into(), Outcome::Waiting),
            ],
        };
        assert!(
            !p.record(&key("a", "1"), Outcome::Cancelled),
            "a rerun takes no cancel"
        );
        assert!(p.record_item(1, Outcome::Launched("new-2".into())));
        assert_eq!(p.runs[0].2, Outcome::Waiting);
        assert_eq!(p.runs[1].2, Outcome::Launched("new-2".into()));
        assert!(
            !p.record_item(1, Outcome::Failed("again".into())),
            "answered once"
        );
        assert!(!p.record_item(7, Outcome::Failed("none".into())));
    }
}
