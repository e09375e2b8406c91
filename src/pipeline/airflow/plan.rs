//! The shape of the generated DAG, worked out before any text is written: what each step waits
//! for (with the bridges `on_failure = "continue"` needs), the Python name of every task, and how
//! many steps can run at once. Part of [`super`].
//!
//! Owns the translation of hexdash's failure semantics into Airflow trigger rules. Must not write
//! text; `dag` does.

use std::collections::{HashMap, HashSet};

use crate::pipeline::export::{at_once, python};
use crate::pipeline::model::{OnFailure, Pipeline, Step};

/// Task ids of the generated helpers. Step ids cannot hold a `.` (template::is_name), so these
/// never collide with one.
pub(super) const DONE_SUFFIX: &str = ".done";
pub(super) const FAILED_TASK: &str = "pipeline.failed";

/// A task of the generated DAG, by step index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Node {
    Step(usize),
    /// The `all_done` bridge after an `on_failure = "continue"` step.
    Done(usize),
}

/// The graph and names, worked out before any text is written.
pub(super) struct Plan {
    /// Python variable of each step, and of its bridge when it has one.
    pub names: Vec<String>,
    pub done_names: Vec<Option<String>>,
    /// The tasks each step waits for (all must succeed: Airflow's default `all_success`).
    pub gates: Vec<Vec<Node>>,
    /// `on_failure = "continue"` steps with steps after them: these get a bridge, and their
    /// failure is reported by the `pipeline.failed` task.
    pub bridged: Vec<usize>,
    /// The most steps that can run at once: max_parallel, or fewer when the graph is narrower.
    pub at_once: usize,
}

impl Plan {
    pub fn new(p: &Pipeline) -> Plan {
        let index: HashMap<&str, usize> = p
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let has_downstream: HashSet<usize> = p
            .steps
            .iter()
            .flat_map(|s| s.depends_on.iter())
            .filter_map(|d| index.get(d.as_str()).copied())
            .collect();
        let bridged: Vec<usize> = (0..p.steps.len())
            .filter(|i| continues(&p.steps[*i]) && has_downstream.contains(i))
            .collect();

        // A downstream step of a "continue" step X must run when X ran, however X ended, and
        // not when X never ran because something before it failed. Airflow has no trigger rule
        // telling "failed" from "upstream_failed", so the step waits, with all_success, for
        // X.done (all_done after X) and for what X itself waited for. `fails[i]`: the tasks
        // whose failure fails step i in turn; `before[i]`: every task before step i.
        let n = p.steps.len();
        let mut gates: Vec<Vec<Node>> = vec![Vec::new(); n];
        let mut fails: Vec<HashSet<Node>> = vec![HashSet::new(); n];
        let mut before: Vec<HashSet<Node>> = vec![HashSet::new(); n];
        for (i, step) in p.steps.iter().enumerate() {
            let mut gate: Vec<Node> = Vec::new();
            for dep in &step.depends_on {
                let Some(&u) = index.get(dep.as_str()) else {
                    continue;
                };
                if continues(&p.steps[u]) {
                    gate.push(Node::Done(u));
                    gate.extend(gates[u].iter().copied());
                } else {
                    gate.push(Node::Step(u));
                }
            }
            let mut seen = HashSet::new();
            gate.retain(|node| seen.insert(*node));
            // Drop what another member already implies, so the graph shows no needless edges:
            // a step whose failure reaches another member through all_success edges, or a
            // bridge that comes before another member.
            let implied = |t: &Node, m: &Node| match (t, m) {
                (Node::Step(_), Node::Step(y)) => fails[*y].contains(t),
                (Node::Step(_), Node::Done(_)) => false,
                (Node::Done(_), Node::Step(y)) => before[*y].contains(t),
                (Node::Done(_), Node::Done(y)) => before[*y].contains(t),
            };
            let kept: Vec<Node> = gate
                .iter()
                .filter(|t| !gate.iter().any(|m| m != *t && implied(t, m)))
                .copied()
                .collect();
            for g in &kept {
                fails[i].insert(*g);
                before[i].insert(*g);
                match g {
                    Node::Step(y) => {
                        let (f, b) = (fails[*y].clone(), before[*y].clone());
                        fails[i].extend(f);
                        before[i].extend(b);
                    }
                    Node::Done(y) => {
                        let b = before[*y].clone();
                        before[i].insert(Node::Step(*y));
                        before[i].extend(b);
                    }
                }
            }
            gates[i] = kept;
        }

        let mut taken = python::UniqueNames::new(RESERVED.iter().copied());
        let mut unique = |base: String| taken.unique(base);
        let names: Vec<String> = p
            .steps
            .iter()
            .map(|s| unique(python::identifier(&s.id)))
            .collect();
        let done_names = (0..n)
            .map(|i| {
                bridged
                    .contains(&i)
                    .then(|| unique(format!("{}_done", names[i])))
            })
            .collect();
        let at_once = at_once(p);
        Plan {
            names,
            done_names,
            gates,
            bridged,
            at_once,
        }
    }

    pub fn var(&self, node: Node) -> &str {
        match node {
            Node::Step(i) => &self.names[i],
            Node::Done(i) => self.done_names[i].as_deref().unwrap_or(&self.names[i]),
        }
    }
}

/// Names the generated file defines or imports itself, on either Airflow.
pub(super) const RESERVED: [&str; 26] = [
    "DAG",
    "HexRunProjectOperator",
    "HexRunOperator",
    "BaseOperator",
    "BaseHook",
    "Param",
    "EmptyOperator",
    "AirflowException",
    "AirflowFailException",
    "task",
    "timedelta",
    "pendulum",
    "json",
    "random",
    "time",
    "urllib",
    "dag",
    "HEX_CONN_ID",
    "POLL_SECONDS",
    "pipeline_failed",
    "_ENDED_FAILED",
    "_HexApi",
    "_api_root",
    "_problem",
    "_quote",
    "_retry_after",
];

fn continues(step: &Step) -> bool {
    step.on_failure == OnFailure::Continue
}
