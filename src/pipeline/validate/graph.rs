//! The shape of the DAG: step ids, dependencies (written or implied), cycles, what is upstream
//! of what, and the order steps can run in. Part of [`super`]; reports through its `Checker`.

use std::collections::HashSet;
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
            for edge in written {
                match ids.get(&edge.target) {
                    Some(&j) => {
                        if !edges.iter().any(|(k, _)| *k == j) {
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
        pub(super) fn visit(
            n: usize,
            edges: &[Vec<(usize, Edge)>],
            mark: &mut [Mark],
            stack: &mut Vec<usize>,
            cycles: &mut Vec<Vec<usize>>,
        ) {
            mark[n] = Mark::OnStack;
            stack.push(n);
            for (m, _) in &edges[n] {
                match mark[*m] {
                    Mark::New => visit(*m, edges, mark, stack, cycles),
                    Mark::OnStack => {
                        if let Some(pos) = stack.iter().position(|s| s == m) {
                            cycles.push(stack[pos..].to_vec());
                        }
                    }
                    Mark::Done => {}
                }
            }
            stack.pop();
            mark[n] = Mark::Done;
        }
        let mut mark = vec![Mark::New; edges.len()];
        let mut cycles = Vec::new();
        for n in 0..edges.len() {
            if mark[n] == Mark::New {
                visit(n, edges, &mut mark, &mut Vec::new(), &mut cycles);
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

/// For each step, every step it waits for, directly or not.
pub(super) fn ancestors(edges: &[Vec<(usize, Edge)>]) -> Vec<HashSet<usize>> {
    (0..edges.len())
        .map(|start| {
            let mut seen = HashSet::new();
            let mut todo: Vec<usize> = edges[start].iter().map(|(t, _)| *t).collect();
            while let Some(n) = todo.pop() {
                if seen.insert(n) {
                    todo.extend(edges[n].iter().map(|(t, _)| *t));
                }
            }
            seen
        })
        .collect()
}

/// Kahn's algorithm, taking the first ready step in file order each time. Duplicate-id steps
/// (already reported) are left out.
pub(super) fn topological_order(
    edges: &[Vec<(usize, Edge)>],
    ids: &IndexMap<String, usize>,
) -> Vec<usize> {
    let keep: HashSet<usize> = ids.values().copied().collect();
    let mut done: HashSet<usize> = HashSet::new();
    let mut order = Vec::new();
    while order.len() < keep.len() {
        let next = (0..edges.len()).find(|i| {
            keep.contains(i) && !done.contains(i) && edges[*i].iter().all(|(t, _)| done.contains(t))
        });
        let Some(n) = next else { break };
        done.insert(n);
        order.push(n);
    }
    order
}
