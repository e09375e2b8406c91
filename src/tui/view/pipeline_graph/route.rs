//! The wires in one gap between two columns of the pipeline graph: which vertical trunks it
//! needs, in which order, and drawing them.
//!
//! Every edge crosses exactly one gap (longer edges were cut by dummy nodes), leaving its
//! source's middle row on the left and entering its target's middle row on the right. The
//! gap's edges are grouped into connected components (union-find). A complete bipartite
//! component (a fan-out, a fan-in) shares one trunk. Any other gives each target fed by
//! several sources a fan-in trunk of its own and each source feeding several targets a
//! fan-out trunk of its own, joined by a horizontal jog where both ends have one. A wire
//! meets trunks only at its two ends, so a reader following lines left to right never finds
//! an edge that does not exist; where a wire passes a trunk it does not belong to, the trunk
//! is drawn unbroken (`│`), a crossing rather than a `┼`.
//!
//! Two wires on one row must not overlap either, so the trunks are ordered under the
//! constraints that makes (a source's trunk left of the trunk of a target on its row, a jog's
//! start left of its end), greedily for the fewest crossings. A cycle of constraints (edges
//! crossing like an X) is broken by cutting a trunk in two, its source half leftmost and its
//! target half rightmost, joined by a jog on a row left free. Pure: plans from rows, draws
//! into a [`Canvas`].

use std::collections::HashMap;

use ratatui::style::Style;

use super::canvas::{Canvas, E, N, S, W};

/// More trunks than this share the last column, which can join lines that should not meet;
/// random DAGs of up to 30 steps never needed more than 12.
const MAX_TRUNKS: usize = 16;
/// Columns of a gap besides its trunks: two for the source leads, two for the arrow.
const LEADS: usize = 4;

#[derive(Debug, Clone, Default)]
struct Trunk {
    /// Nodes whose wires end here (left column) and start here (right column).
    sources: Vec<usize>,
    targets: Vec<usize>,
    slot: usize,
    lo: usize,
    hi: usize,
}

/// A horizontal from one trunk to another, on a row of its own.
#[derive(Debug, Clone)]
struct Jog {
    row: usize,
    from: usize,
    to: usize,
}

/// One gap's wiring, planned before the canvas exists because the gap's width depends on it.
#[derive(Debug, Clone, Default)]
pub struct Gap {
    trunks: Vec<Trunk>,
    jogs: Vec<Jog>,
    /// `(node, row)` of every source and every target, each with one wire.
    sources: Vec<(usize, usize)>,
    targets: Vec<(usize, usize)>,
    slots: usize,
}

impl Gap {
    pub fn width(&self) -> usize {
        self.slots + LEADS
    }
}

/// Plans the wires for `edges` (source node, target node), with `row[node]` the middle row
/// of each node and `height` the rows available.
pub fn plan(edges: &[(usize, usize)], row: &[usize], height: usize) -> Gap {
    let mut edges = edges.to_vec();
    edges.sort_unstable();
    edges.dedup();
    let row_of = |n: usize| row.get(n).copied().unwrap_or(0);
    let (mut trunks, mut links) = trunks(&edges, &row_of);

    let mut sources: Vec<(usize, usize)> = edges.iter().map(|&(s, _)| (s, row_of(s))).collect();
    let mut targets: Vec<(usize, usize)> = edges.iter().map(|&(_, t)| (t, row_of(t))).collect();
    for list in [&mut sources, &mut targets] {
        list.sort_unstable();
        list.dedup();
    }

    let (order, split) = order(&trunks, &links, &sources, &targets, &row_of);
    // A cut trunk keeps its source wires and outgoing jogs; its target half takes the target
    // wires and incoming jogs, and a jog joins the two when something flows between them.
    let mut halves = Vec::new();
    for &k in &split {
        let targets = std::mem::take(&mut trunks[k].targets);
        trunks.push(Trunk {
            targets,
            ..Trunk::default()
        });
        let half = trunks.len() - 1;
        for link in links.iter_mut().filter(|l| l.1 == k) {
            link.1 = half;
        }
        if !trunks[k].sources.is_empty() && !trunks[half].targets.is_empty() {
            links.push((k, half));
        }
        halves.push(half);
    }
    let used: Vec<bool> = (0..trunks.len())
        .map(|k| {
            let t = &trunks[k];
            !t.sources.is_empty()
                || !t.targets.is_empty()
                || links.iter().any(|&(a, b)| a == k || b == k)
        })
        .collect();
    let layout: Vec<usize> = split
        .iter()
        .chain(&order)
        .chain(&halves)
        .copied()
        .filter(|&k| used[k])
        .collect();
    let mut pos = vec![0; trunks.len()];
    for (i, &k) in layout.iter().enumerate() {
        pos[k] = i;
        trunks[k].slot = i.min(MAX_TRUNKS - 1);
    }

    let jogs = jogs(&trunks, &links, &pos, &sources, &targets, height, &row_of);
    for (k, trunk) in trunks.iter_mut().enumerate() {
        let rows: Vec<usize> = trunk
            .sources
            .iter()
            .chain(&trunk.targets)
            .map(|&n| row_of(n))
            .chain(
                jogs.iter()
                    .filter(|j| j.from == k || j.to == k)
                    .map(|j| j.row),
            )
            .collect();
        trunk.lo = rows.iter().copied().min().unwrap_or(0);
        trunk.hi = rows.iter().copied().max().unwrap_or(0);
    }
    Gap {
        trunks,
        jogs,
        sources,
        targets,
        slots: layout.len().min(MAX_TRUNKS),
    }
}

/// The gap's trunks, and the jogs (from trunk, to trunk) joining fan-outs to fan-ins.
fn trunks(
    edges: &[(usize, usize)],
    row_of: &dyn Fn(usize) -> usize,
) -> (Vec<Trunk>, Vec<(usize, usize)>) {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    fn find(parent: &mut HashMap<usize, usize>, x: usize) -> usize {
        let mut root = x;
        while let Some(&p) = parent.get(&root).filter(|&&p| p != root) {
            root = p;
        }
        parent.insert(x, root);
        root
    }
    for &(s, t) in edges {
        let (a, b) = (find(&mut parent, s), find(&mut parent, t));
        parent.insert(a, b);
    }
    let mut groups: Vec<(usize, Vec<(usize, usize)>)> = Vec::new();
    for &e in edges {
        let root = find(&mut parent, e.0);
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, list)) => list.push(e),
            None => groups.push((root, vec![e])),
        }
    }
    let sorted = |mut list: Vec<usize>| {
        list.sort_unstable_by_key(|&n| (row_of(n), n));
        list.dedup();
        list
    };
    let mut trunks = Vec::new();
    let mut links = Vec::new();
    for (_, group) in groups {
        let sources = sorted(group.iter().map(|e| e.0).collect());
        let targets = sorted(group.iter().map(|e| e.1).collect());
        if group.len() == sources.len() * targets.len() {
            trunks.push(Trunk {
                sources,
                targets,
                ..Trunk::default()
            });
            continue;
        }
        let outs = |s: usize| group.iter().filter(|e| e.0 == s).count();
        let ins = |t: usize| group.iter().filter(|e| e.1 == t).count();
        // Not complete, so every edge has a source with several targets or a target with
        // several sources (a lone pair would be a component of its own).
        let mut fan_out = HashMap::new();
        for &s in sources.iter().filter(|&&s| outs(s) > 1) {
            let direct = group
                .iter()
                .filter(|e| e.0 == s && ins(e.1) == 1)
                .map(|e| e.1);
            trunks.push(Trunk {
                sources: vec![s],
                targets: sorted(direct.collect()),
                ..Trunk::default()
            });
            fan_out.insert(s, trunks.len() - 1);
        }
        for &t in targets.iter().filter(|&&t| ins(t) > 1) {
            let direct = group
                .iter()
                .filter(|e| e.1 == t && outs(e.0) == 1)
                .map(|e| e.0);
            trunks.push(Trunk {
                sources: sorted(direct.collect()),
                targets: vec![t],
                ..Trunk::default()
            });
            let fan_in = trunks.len() - 1;
            for e in group.iter().filter(|e| e.1 == t) {
                if let Some(&from) = fan_out.get(&e.0) {
                    links.push((from, fan_in));
                }
            }
        }
    }
    (trunks, links)
}

/// Left-to-right order of the trunks kept whole, and the trunks to cut in two.
fn order(
    trunks: &[Trunk],
    links: &[(usize, usize)],
    sources: &[(usize, usize)],
    targets: &[(usize, usize)],
    row_of: &dyn Fn(usize) -> usize,
) -> (Vec<usize>, Vec<usize>) {
    let count = trunks.len();
    let of_source = |s: usize| trunks.iter().position(|k| k.sources.contains(&s));
    let of_target = |t: usize| trunks.iter().position(|k| k.targets.contains(&t));
    // after[k]: trunks that must stand left of trunk k.
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); count];
    for &(s, r) in sources {
        let Some(&(t, _)) = targets.iter().find(|&&(_, tr)| tr == r) else {
            continue;
        };
        // Sharing a trunk, the two wires meet at it: one straight line through a junction.
        if let (Some(ks), Some(kt)) = (of_source(s), of_target(t))
            && ks != kt
        {
            after[kt].push(ks);
        }
    }
    for &(from, to) in links {
        after[to].push(from);
    }

    let mut placed = vec![false; count];
    let mut split = Vec::new();
    let mut whole = Vec::new();
    loop {
        let remaining: Vec<usize> = (0..count).filter(|&k| !placed[k]).collect();
        if remaining.is_empty() {
            break;
        }
        let waiting = |k: usize| after[k].iter().filter(|&&m| !placed[m]).count();
        let ready: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&k| waiting(k) == 0)
            .collect();
        if ready.is_empty() {
            // A cycle (edges crossing like an X): cut the most constrained trunk in two. Its
            // halves stand outside all others, so its constraints hold: count it placed.
            let Some(next) = remaining
                .iter()
                .copied()
                .max_by_key(|&k| (waiting(k), std::cmp::Reverse(k)))
            else {
                break;
            };
            split.push(next);
            placed[next] = true;
            continue;
        }
        // Greedy: the ready trunk whose wires cross the fewest trunks of those still to come.
        let cost = |k: usize| -> usize {
            remaining
                .iter()
                .filter(|&&m| m != k)
                .map(|&m| crossings(&trunks[k], &trunks[m], row_of))
                .sum()
        };
        if let Some(k) = ready.iter().copied().min_by_key(|&k| (cost(k), k)) {
            whole.push(k);
            placed[k] = true;
        }
    }
    (whole, split)
}

/// About how many crossings placing trunk `a` left of trunk `b` costs: `a`'s target wires
/// pass `b`, and `b`'s source wires pass `a`.
fn crossings(a: &Trunk, b: &Trunk, row_of: &dyn Fn(usize) -> usize) -> usize {
    let span = |k: &Trunk| {
        let rows = k.sources.iter().chain(&k.targets).map(|&x| row_of(x));
        rows.clone().min().unwrap_or(0)..=rows.max().unwrap_or(0)
    };
    let (a_span, b_span) = (span(a), span(b));
    let targets = a
        .targets
        .iter()
        .filter(|&&t| b_span.contains(&row_of(t)))
        .count();
    let sources = b
        .sources
        .iter()
        .filter(|&&s| a_span.contains(&row_of(s)))
        .count();
    targets + sources
}

/// A horizontal wire in layout positions (`from..=to`), with the trunks it ends at.
#[derive(Debug, Clone, Copy)]
struct Run {
    from: usize,
    to: usize,
    start: Option<usize>,
    end: Option<usize>,
}

impl Run {
    /// Whether `self` may share a row with `other`: apart, or meeting end to start at a trunk
    /// both belong to (one straight line through a junction, which reads true).
    fn fits(&self, other: &Run) -> bool {
        let apart = self.to < other.from || other.to < self.from;
        let meet = |a: &Run, b: &Run| a.to == b.from && a.end.is_some() && a.end == b.start;
        apart || meet(self, other) || meet(other, self)
    }
}

/// A row for each jog: on a row of the wires it continues if it fits there (no extra bend),
/// else the free row that keeps its trunks shortest.
fn jogs(
    trunks: &[Trunk],
    links: &[(usize, usize)],
    pos: &[usize],
    sources: &[(usize, usize)],
    targets: &[(usize, usize)],
    height: usize,
    row_of: &dyn Fn(usize) -> usize,
) -> Vec<Jog> {
    let right = pos.len() + 1;
    let mut runs: HashMap<usize, Vec<Run>> = HashMap::new();
    for &(s, r) in sources {
        if let Some(k) = trunks.iter().position(|k| k.sources.contains(&s)) {
            runs.entry(r).or_default().push(Run {
                from: 0,
                to: pos[k] + 1,
                start: None,
                end: Some(k),
            });
        }
    }
    for &(t, r) in targets {
        if let Some(k) = trunks.iter().position(|k| k.targets.contains(&t)) {
            runs.entry(r).or_default().push(Run {
                from: pos[k] + 1,
                to: right,
                start: Some(k),
                end: None,
            });
        }
    }
    let rows_of = |k: usize| -> Vec<usize> {
        let t = &trunks[k];
        t.sources
            .iter()
            .chain(&t.targets)
            .map(|&n| row_of(n))
            .collect()
    };
    let extent = |rows: &[usize], r: usize| {
        let lo = rows.iter().copied().fold(r, usize::min);
        rows.iter().copied().fold(r, usize::max) - lo
    };
    let mut jogs = Vec::new();
    for &(from, to) in links {
        let run = Run {
            from: pos[from] + 1,
            to: pos[to] + 1,
            start: Some(from),
            end: Some(to),
        };
        let (a, b) = (rows_of(from), rows_of(to));
        let mut free: Vec<usize> = (0..height).collect();
        free.sort_by_key(|&r| (extent(&a, r) + extent(&b, r), r));
        let fits = |r: &usize| {
            runs.get(r)
                .is_none_or(|list| list.iter().all(|o| run.fits(o)))
        };
        let row = b
            .iter()
            .chain(&a)
            .copied()
            .find(fits)
            .or_else(|| free.iter().copied().find(fits))
            // No row fits: the jog may touch another wire, but is still drawn.
            .or_else(|| free.first().copied())
            .unwrap_or(0);
        runs.entry(row).or_default().push(run);
        jogs.push(Jog { row, from, to });
    }
    jogs
}

impl Gap {
    /// Draws the gap from column `x0`; `arrow(node)` says whether a target is a box (gets
    /// `▶`) or a dummy (the line runs on into it).
    pub fn draw(
        &self,
        canvas: &mut Canvas,
        x0: usize,
        arrow: &dyn Fn(usize) -> bool,
        style: Style,
    ) {
        let x_of = |k: usize| x0 + 2 + self.trunks.get(k).map_or(0, |t| t.slot);
        // Trunks first: a wire then knows a trunk it passes is a crossing.
        for (k, t) in self.trunks.iter().enumerate() {
            for y in t.lo..=t.hi {
                let mut bits = 0;
                if y > t.lo {
                    bits |= N;
                }
                if y < t.hi {
                    bits |= S;
                }
                canvas.wire(x_of(k), y, bits, style);
            }
        }
        // A wire joins trunks only at its ends; inside, a trunk it meets is a crossing.
        let line = |canvas: &mut Canvas, y: usize, from: usize, to: usize, open: (bool, bool)| {
            for x in from..=to {
                if x != from && x != to && canvas.bits(x, y) & (N | S) != 0 {
                    continue;
                }
                let mut bits = 0;
                if x > from || open.0 {
                    bits |= W;
                }
                if x < to || open.1 {
                    bits |= E;
                }
                canvas.wire(x, y, bits, style);
            }
        };
        let trunk_of = |n: usize, side: fn(&Trunk) -> &Vec<usize>| {
            self.trunks.iter().position(|t| side(t).contains(&n))
        };
        for &(s, y) in &self.sources {
            if let Some(k) = trunk_of(s, |t| &t.sources) {
                line(canvas, y, x0, x_of(k), (true, false));
            }
        }
        let end = x0 + self.width() - 1;
        for &(n, y) in &self.targets {
            let Some(k) = trunk_of(n, |t| &t.targets) else {
                continue;
            };
            if arrow(n) {
                line(canvas, y, x_of(k), end - 1, (false, true));
                canvas.put(end, y, '▶', style);
            } else {
                line(canvas, y, x_of(k), end, (false, true));
            }
        }
        for j in &self.jogs {
            line(canvas, j.row, x_of(j.from), x_of(j.to), (false, false));
        }
    }
}
