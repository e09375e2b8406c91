//! The shape of the DAG: step ids, dependencies (written or implied), cycles, what is upstream
//! of what, and the order steps can run in. Part of [`super`]; reports through its `Checker`.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::ops::Range;

use indexmap::IndexMap;
use toml::Spanned;

use super::Checker;
use crate::pipeline::definition::FileStep;
use crate::pipeline::diagnostic::{Quoted, list, suggest};
use crate::pipeline::template::is_name;

/// A step's dependency as written (or implied), with where to point.
pub(super) struct Edge {
    pub target: String,
    pub span: Range<usize>,
    pub implicit: bool,
}

/// The longest step id (ASCII, so bytes are characters).
const MAX_STEP_ID_LEN: usize = 100;

impl Checker<'_> {
    /// Step id → index of its first declaration; reports bad and duplicate ids.
    pub(super) fn step_ids(&mut self, steps: &[Spanned<FileStep>]) -> IndexMap<String, usize> {
        let mut ids: IndexMap<String, usize> = IndexMap::new();
        for (i, step) in steps.iter().enumerate() {
            let id = step.get_ref().id.get_ref();
            let span = step.get_ref().id.span();
            if !is_name(id) {
                self.error(
                    span.clone(),
                    format!(
                        "step id {:?} cannot be used in depends_on or a template",
                        Quoted(id)
                    ),
                    "use letters, digits, _ and -, e.g. id = \"extract\"",
                );
            } else if id.len() > MAX_STEP_ID_LEN {
                // Ids are printed in every progress line, table and message.
                self.error(
                    span.clone(),
                    format!(
                        "step id {:?} is {} characters long, more than {MAX_STEP_ID_LEN}",
                        Quoted(id),
                        id.len()
                    ),
                    "use a short id, e.g. id = \"extract\"",
                );
            }
            if let Some(&first) = ids.get(id) {
                let line = self
                    .src
                    .location(steps[first].get_ref().id.span().start)
                    .line;
                self.error(
                    span,
                    format!(
                        "step id {:?} is used twice (first at line {line})",
                        Quoted(id)
                    ),
                    "give each step its own id",
                );
            } else {
                ids.insert(id.clone(), i);
            }
        }
        ids
    }

    /// Each step's dependencies (an absent depends_on means the step before); unknown targets
    /// are reported and dropped.
    pub(super) fn edges(
        &mut self,
        steps: &[Spanned<FileStep>],
        ids: &IndexMap<String, usize>,
    ) -> Vec<Vec<(usize, Edge)>> {
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            let s = step.get_ref();
            let written: Vec<Edge> = match &s.depends_on {
                Some(list) => list
                    .get_ref()
                    .iter()
                    .map(|t| Edge {
                        target: t.get_ref().clone(),
                        span: t.span(),
                        implicit: false,
                    })
                    .collect(),
                None => i
                    .checked_sub(1)
                    .and_then(|p| steps.get(p))
                    .map(|prev| Edge {
                        target: prev.get_ref().id.get_ref().clone(),
                        span: s.id.span(),
                        implicit: true,
                    })
                    .into_iter()
                    .collect(),
            };
            let mut edges = Vec::new();
            // A set, not a search of `edges`: a join of 10,000 steps lists 10,000 of them.
            let mut seen = HashSet::new();
            for edge in written {
                match ids.get(&edge.target) {
                    Some(&j) => {
                        if seen.insert(j) {
                            edges.push((j, edge));
                        }
                    }
                    None => {
                        let hint = suggest(&edge.target, ids.keys().map(String::as_str))
                            .map(|h| format!("{h} "))
                            .unwrap_or_default();
                        self.error(
                            edge.span,
                            format!(
                                "step {:?} depends on {:?}, which is not a step of this pipeline",
                                Quoted(s.id.get_ref()),
                                Quoted(&edge.target)
                            ),
                            format!("{hint}steps: {}", list(ids.keys().map(String::as_str))),
                        );
                    }
                }
            }
            out.push(edges);
        }
        out
    }

    /// Reports each dependency cycle once, named in order; true when there is one.
    pub(super) fn cycles(
        &mut self,
        steps: &[Spanned<FileStep>],
        edges: &[Vec<(usize, Edge)>],
    ) -> bool {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            OnStack,
            Done,
        }
        // Depth-first, with an explicit stack: a 50,000-step sequence is 50,000 deep, too deep
        // for recursion on a thread's stack.
        let mut mark = vec![Mark::New; edges.len()];
        let mut depth_of = vec![0usize; edges.len()];
        let mut cycles: Vec<Vec<usize>> = Vec::new();
        for root in 0..edges.len() {
            if mark[root] != Mark::New {
                continue;
            }
            // (step, index of its next edge to follow); `path` holds the steps on the stack.
            let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
            let mut path: Vec<usize> = vec![root];
            mark[root] = Mark::OnStack;
            while let Some(top) = stack.last_mut() {
                let (n, next) = *top;
                let Some((m, _)) = edges[n].get(next) else {
                    mark[n] = Mark::Done;
                    stack.pop();
                    path.pop();
                    continue;
                };
                top.1 += 1;
                let m = *m;
                match mark[m] {
                    Mark::New => {
                        mark[m] = Mark::OnStack;
                        depth_of[m] = path.len();
                        path.push(m);
                        stack.push((m, 0));
                    }
                    Mark::OnStack => cycles.push(path[depth_of[m]..].to_vec()),
                    Mark::Done => {}
                }
            }
        }
        for cycle in &cycles {
            // Start from the step written first, so the message reads the way the file does.
            let start = cycle
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| **s)
                .map_or(0, |(i, _)| i);
            let ordered: Vec<usize> = cycle[start..]
                .iter()
                .chain(&cycle[..start])
                .copied()
                .collect();
            let (first, next) = (ordered[0], ordered.get(1).copied().unwrap_or(ordered[0]));
            let id = |i: usize| steps[i].get_ref().id.get_ref().as_str();
            let mut names: Vec<&str> = ordered.iter().map(|&i| id(i)).collect();
            names.push(id(first));
            let Some((_, edge)) = edges[first].iter().find(|(t, _)| *t == next) else {
                continue;
            };
            let implied = if edge.implicit {
                format!(
                    " ({:?} depends on {:?} because it has no depends_on)",
                    Quoted(id(first)),
                    Quoted(id(next))
                )
            } else {
                String::new()
            };
            self.error(
                edge.span.clone(),
                format!(
                    "steps depend on each other in a cycle: {} (each waits for the next){implied}",
                    names.join(" → ")
                ),
                "remove one of these dependencies so the steps can run in some order",
            );
        }
        !cycles.is_empty()
    }
}

/// Answers "does this step wait for that one, directly or not?" for template references.
///
/// It used to be a set of every ancestor of every step: a 10,000-step sequence made 50 million
/// entries (780 MB). Now each question walks back from the step along its dependencies, never
/// below the other step's place in the run order (nothing there can lead to it), and stops at
/// the first path found: one step back for the usual `{{ steps.<the step before>.run_id }}`.
/// A step referred to more than once (every step reading `{{ steps.setup.run_id }}`) has its
/// downstream steps marked once, by one walk forward, and later questions about it are a lookup:
/// a 10,000-step chain that all refer to its first step went from 3.3 s to linear. What stays
/// slow is a chain where every step refers to a *different* step far upstream.
pub(super) struct Upstream<'a> {
    edges: &'a [Vec<(usize, Edge)>],
    /// Each step's place in the run order; None when there is a cycle (already reported), and
    /// the walk then goes everywhere it can.
    position: Option<Vec<usize>>,
    /// Targets asked about once (walked back), and the downstream marks of those asked again.
    memo: RefCell<Memo>,
}

#[derive(Default)]
struct Memo {
    asked: HashSet<usize>,
    /// Target → one bit per step: whether that step waits for the target.
    downstream: HashMap<usize, Vec<u64>>,
    /// Who waits for whom, built on the first target asked about twice.
    dependents: Option<Vec<Vec<usize>>>,
}

/// At most this many targets keep their marks (each is one bit per step: 6 KB at 50,000 steps).
const MEMO_TARGETS: usize = 1024;

impl<'a> Upstream<'a> {
    pub fn new(edges: &'a [Vec<(usize, Edge)>], order: Option<&[usize]>) -> Upstream<'a> {
        let memo = RefCell::new(Memo::default());
        let position = order.map(|order| {
            let mut position = vec![usize::MAX; edges.len()];
            for (place, &step) in order.iter().enumerate() {
                position[step] = place;
            }
            position
        });
        Upstream {
            edges,
            position,
            memo,
        }
    }

    /// Whether `step` waits for `target`.
    pub fn contains(&self, step: usize, target: usize) -> bool {
        let mut memo = self.memo.borrow_mut();
        if let Some(marks) = memo.downstream.get(&target) {
            return marks
                .get(step / 64)
                .is_some_and(|w| w & (1 << (step % 64)) != 0);
        }
        let again = !memo.asked.insert(target);
        if again && memo.downstream.len() < MEMO_TARGETS {
            let marks = self.mark_downstream(&mut memo, target);
            let found = marks
                .get(step / 64)
                .is_some_and(|w| w & (1 << (step % 64)) != 0);
            memo.downstream.insert(target, marks);
            return found;
        }
        drop(memo);
        self.walk_back(step, target)
    }

    /// One bit per step: set for every step that waits for `target`, directly or not.
    fn mark_downstream(&self, memo: &mut Memo, target: usize) -> Vec<u64> {
        let edges = self.edges;
        let dependents = memo.dependents.get_or_insert_with(|| {
            let mut d = vec![Vec::new(); edges.len()];
            for (n, deps) in edges.iter().enumerate() {
                for (m, _) in deps {
                    if let Some(list) = d.get_mut(*m) {
                        list.push(n);
                    }
                }
            }
            d
        });
        let mut marks = vec![0u64; edges.len().div_ceil(64)];
        let mut todo = vec![target];
        while let Some(n) = todo.pop() {
            for &m in dependents.get(n).map_or(&[][..], Vec::as_slice) {
                let (word, bit) = (m / 64, 1u64 << (m % 64));
                if let Some(w) = marks.get_mut(word)
                    && *w & bit == 0
                {
                    *w |= bit;
                    todo.push(m);
                }
            }
        }
        marks
    }

    fn walk_back(&self, step: usize, target: usize) -> bool {
        let floor = self.position.as_ref().map(|p| p[target]);
        let mut seen: HashSet<usize> = HashSet::new();
        let mut todo = vec![step];
        while let Some(n) = todo.pop() {
            for (m, _) in &self.edges[n] {
                if *m == target {
                    return true;
                }
                if let (Some(position), Some(floor)) = (&self.position, floor)
                    && position[*m] < floor
                {
                    continue;
                }
                if seen.insert(*m) {
                    todo.push(*m);
                }
            }
        }
        false
    }
}

/// Kahn's algorithm, taking the first ready step in file order each time (a heap of ready
/// steps, not a search of every step per step placed). Duplicate-id steps (already reported)
/// are left out.
pub(super) fn topological_order(
    edges: &[Vec<(usize, Edge)>],
    ids: &IndexMap<String, usize>,
) -> Vec<usize> {
    let n = edges.len();
    let mut keep = vec![false; n];
    for &i in ids.values() {
        keep[i] = true;
    }
    let mut waiting_for = vec![0usize; n];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, deps) in edges.iter().enumerate().filter(|(i, _)| keep[*i]) {
        waiting_for[i] = deps.len();
        for (t, _) in deps {
            dependants[*t].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..n)
        .filter(|&i| keep[i] && waiting_for[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(ids.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &d in &dependants[i] {
            waiting_for[d] -= 1;
            if waiting_for[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn edge() -> Edge {
        Edge {
            target: String::new(),
            span: 0..0,
            implicit: false,
        }
    }

    proptest! {
        /// Remembered marks answer exactly as walking back does, however often a target is asked.
        #[test]
        fn remembered_answers_match_walking_back(
            deps in proptest::collection::vec(proptest::collection::vec(0usize..40, 0..4), 1..40),
            queries in proptest::collection::vec((0usize..40, 0usize..40), 1..200),
        ) {
            let n = deps.len();
            // Dependencies only on earlier steps: a DAG, in file order.
            let edges: Vec<Vec<(usize, Edge)>> = deps
                .iter()
                .enumerate()
                .map(|(i, ds)| ds.iter().filter(|&&d| d < i).map(|&d| (d, edge())).collect())
                .collect();
            let order: Vec<usize> = (0..n).collect();
            let remembered = Upstream::new(&edges, Some(&order));
            let walking = Upstream::new(&edges, Some(&order));
            for (a, b) in queries {
                let (step, target) = (a % n, b % n);
                prop_assert_eq!(
                    remembered.contains(step, target),
                    walking.walk_back(step, target),
                    "step {} target {}", step, target
                );
            }
        }
    }

    #[test]
    fn a_chain_that_all_refers_to_its_first_step_is_answered_from_one_walk() {
        let n = 5_000;
        let edges: Vec<Vec<(usize, Edge)>> = (0..n)
            .map(|i| {
                if i == 0 {
                    Vec::new()
                } else {
                    vec![(i - 1, edge())]
                }
            })
            .collect();
        let order: Vec<usize> = (0..n).collect();
        let up = Upstream::new(&edges, Some(&order));
        assert!((1..n).all(|i| up.contains(i, 0)));
        assert!(!up.contains(0, 1));
        assert_eq!(
            up.memo.borrow().downstream.len(),
            1,
            "one walk forward for step 0"
        );
    }
}
