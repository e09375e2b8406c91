//! The machine's bookkeeping for what may launch next, kept up to date step by step so that each
//! input costs time in proportion to what it changes, never to the number of steps (a
//! 10,000-step pipeline is driven by about 30,000 inputs; a scan of every step per input made
//! that quadratic).
//!
//! Owns the step graph by index (ids, dependencies, dependants) and, for the current round, how
//! many of each step's dependencies are still unmet, the steps ready to launch, the retries
//! waiting for their time, and the number of steps launching or running. Everything here is
//! derived from the step states: rebuilt whole at the start of a round, then changed only
//! through the methods below. Must not decide anything; the machine does.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;

use super::{StepState, StepStatus};
use crate::pipeline::{OnFailure, Pipeline};

/// The pipeline's steps as a graph of indices (the pipeline's step order is topological).
#[derive(Debug, PartialEq)]
pub(super) struct Graph {
    pub index: HashMap<String, usize>,
    /// Direct dependencies; a name that is no step (cannot pass validation) is never met.
    pub deps: Vec<Vec<usize>>,
    pub unknown_deps: Vec<u32>,
    pub dependants: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(pipeline: &Pipeline) -> Graph {
        let mut index = HashMap::with_capacity(pipeline.steps.len());
        for (i, step) in pipeline.steps.iter().enumerate() {
            index.entry(step.id.clone()).or_insert(i);
        }
        let n = pipeline.steps.len();
        let mut deps = Vec::with_capacity(n);
        let mut unknown_deps = vec![0; n];
        let mut dependants = vec![Vec::new(); n];
        for (i, step) in pipeline.steps.iter().enumerate() {
            let mut mine = Vec::with_capacity(step.depends_on.len());
            for d in &step.depends_on {
                match index.get(d) {
                    Some(&j) => {
                        mine.push(j);
                        dependants[j].push(i);
                    }
                    None => unknown_deps[i] += 1,
                }
            }
            deps.push(mine);
        }
        Graph {
            index,
            deps,
            unknown_deps,
            dependants,
        }
    }
}

/// Whether a step in this state lets its dependants run.
pub(super) fn satisfies(pipeline: &Pipeline, index: usize, status: &StepStatus) -> bool {
    match status {
        StepStatus::Succeeded => true,
        StepStatus::Failed => pipeline.steps[index].on_failure == OnFailure::Continue,
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Schedule {
    /// Per step: dependencies not yet satisfied in this round.
    unmet: Vec<u32>,
    /// Steps that may launch now, in pipeline order: waiting ones whose dependencies are all
    /// satisfied, and retries that became due.
    ready: BTreeSet<usize>,
    /// Retries not yet due, by due time.
    retries: BTreeSet<(Timestamp, usize)>,
    /// Steps launching or running.
    active: usize,
    /// Steps a failure's skip already walked through in this round: their downstream was
    /// walked too, so another failure's walk stops there.
    skipped_through: Vec<bool>,
}

impl Schedule {
    /// Everything derived from `states`, as at the start of a round.
    pub fn rebuild(pipeline: &Pipeline, graph: &Graph, states: &[StepState]) -> Schedule {
        let n = states.len();
        let mut s = Schedule {
            unmet: vec![0; n],
            ready: BTreeSet::new(),
            retries: BTreeSet::new(),
            active: 0,
            skipped_through: vec![false; n],
        };
        for (i, state) in states.iter().enumerate() {
            let unmet = graph.deps[i]
                .iter()
                .filter(|&&j| !satisfies(pipeline, j, &states[j].status))
                .count();
            s.unmet[i] = u32::try_from(unmet)
                .unwrap_or(u32::MAX)
                .saturating_add(graph.unknown_deps[i]);
            match state.status {
                StepStatus::Waiting if s.unmet[i] == 0 => {
                    s.ready.insert(i);
                }
                StepStatus::RetryWaiting { due } => {
                    s.retries.insert((due, i));
                }
                StepStatus::Launching { .. } | StepStatus::Running { .. } => s.active += 1,
                _ => {}
            }
        }
        s
    }

    pub fn active(&self) -> usize {
        self.active
    }

    /// The earliest retry not yet due.
    pub fn next_retry(&self) -> Option<Timestamp> {
        self.retries.first().map(|(due, _)| *due)
    }

    /// Moves retries due by `at` among the ready steps.
    pub fn release_due(&mut self, at: Timestamp) {
        while let Some(&(due, i)) = self.retries.first() {
            if due > at {
                break;
            }
            self.retries.pop_first();
            self.ready.insert(i);
        }
    }

    /// The first ready step, taken out.
    pub fn take_ready(&mut self) -> Option<usize> {
        self.ready.pop_first()
    }

    pub fn started(&mut self) {
        self.active += 1;
    }

    /// A launching or running step stopped being so.
    pub fn stopped(&mut self) {
        self.active = self.active.saturating_sub(1);
    }

    pub fn retry_at(&mut self, due: Timestamp, index: usize) {
        self.retries.insert((due, index));
    }

    /// Step `index` satisfied its dependants: those now with every dependency met and waiting
    /// become ready.
    pub fn satisfied(&mut self, graph: &Graph, states: &[StepState], index: usize) {
        for &d in &graph.dependants[index] {
            self.unmet[d] = self.unmet[d].saturating_sub(1);
            if self.unmet[d] == 0 && states[d].status == StepStatus::Waiting {
                self.ready.insert(d);
            }
        }
    }

    /// Every step downstream of `index` not walked through yet in this round, each once.
    pub fn downstream_once(&mut self, graph: &Graph, index: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut todo: Vec<usize> = graph.dependants[index].clone();
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut self.skipped_through[i], true) {
                continue;
            }
            out.push(i);
            todo.extend(&graph.dependants[i]);
        }
        out
    }

    /// Nothing is waiting any more (a cancel, or the round's end): no step is ready or due.
    pub fn clear_waiting(&mut self) {
        self.ready.clear();
        self.retries.clear();
    }
}

/// Every step downstream of `index`, each once.
pub(super) fn downstream(graph: &Graph, index: usize) -> Vec<usize> {
    let mut seen = vec![false; graph.dependants.len()];
    let mut out = Vec::new();
    let mut todo: Vec<usize> = graph.dependants[index].clone();
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(i);
        todo.extend(&graph.dependants[i]);
    }
    out
}
