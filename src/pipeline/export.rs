//! What the Airflow and Dagster exports share: the result type, Python source text
//! ([`python`]), how many steps can run at once (which sets the poll interval within Hex's rate
//! limit), and how a generated file names a step's project in its `hexdash` commands.
//!
//! Pure. Must not decide how a pipeline maps to either engine; [`super::airflow`] and
//! [`super::dagster`] do.

pub(crate) mod python;
#[cfg(test)]
pub(crate) mod test_kit;

use std::collections::{HashMap, HashSet};

use super::model::{Pipeline, ProjectRef, Step};

/// A generated file, and what of the pipeline it could not express (also commented in the
/// file), for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub text: String,
    pub notes: Vec<String>,
}

/// Why a pipeline cannot be exported: every problem found, one per line. Each exporter has its
/// own problem type; this is the error both return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused<P> {
    pub problems: Vec<P>,
}

impl<P: std::fmt::Display> std::fmt::Display for Refused<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl<P: std::fmt::Display + std::fmt::Debug> std::error::Error for Refused<P> {}

/// Seconds between two status polls of one running step: 2 s × the steps that can run at once,
/// at least 3 s (what Hex's own integrations use). With Hex's 60 requests a minute per user
/// (HEX_API.md, Limits) that keeps polling under 30 a minute, leaving the rest for launches,
/// cancels and hexdash.
/// The steps whose failure lets the pipeline go on: their outputs may never come, so an export
/// refuses a step that reads one.
pub(crate) fn continued_steps(p: &Pipeline) -> HashSet<&str> {
    p.steps
        .iter()
        .filter(|s| s.on_failure == super::model::OnFailure::Continue)
        .map(|s| s.id.as_str())
        .collect()
}

pub(crate) fn poll_seconds(p: &Pipeline) -> usize {
    (at_once(p) * 2).max(3)
}

/// Past this many steps the graph's width is not worked out: its cost grows with the square of
/// the steps (a chain of 4,000 took 20 s), and max_parallel alone still bounds how many steps
/// run at once, so the poll interval only errs on the slow side.
const WIDTH_STEPS_MAX: usize = 1000;

/// The most steps that can run at once: max_parallel, or fewer when the graph is narrower.
pub(crate) fn at_once(p: &Pipeline) -> usize {
    if p.steps.len() > WIDTH_STEPS_MAX {
        return p.max_parallel.max(1);
    }
    p.max_parallel.min(width(p)).max(1)
}

/// The largest set of steps none of which depends on another, directly or not. By Dilworth's
/// theorem it is the number of steps minus a maximum matching of "runs before" pairs, found
/// here with augmenting paths (Kuhn) over the transitive "runs before" sets, quadratic in the
/// steps at least, hence [`WIDTH_STEPS_MAX`].
fn width(p: &Pipeline) -> usize {
    let index: HashMap<&str, usize> = p
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let n = p.steps.len();
    // after[u]: every step that runs after u (steps are in topological order).
    let mut after: Vec<HashSet<usize>> = vec![HashSet::new(); n];
    for (i, step) in p.steps.iter().enumerate().rev() {
        for dep in &step.depends_on {
            if let Some(&u) = index.get(dep.as_str()) {
                let reach = after[i].clone();
                after[u].insert(i);
                after[u].extend(reach);
            }
        }
    }
    let mut matched: Vec<Option<usize>> = vec![None; n];
    fn augment(
        u: usize,
        after: &[HashSet<usize>],
        seen: &mut [bool],
        matched: &mut [Option<usize>],
    ) -> bool {
        let mut next: Vec<usize> = after[u].iter().copied().collect();
        next.sort_unstable();
        for v in next {
            if seen[v] {
                continue;
            }
            seen[v] = true;
            if matched[v].is_none_or(|w| augment(w, after, seen, matched)) {
                matched[v] = Some(u);
                return true;
            }
        }
        false
    }
    let mut matching = 0;
    for u in 0..n {
        let mut seen = vec![false; n];
        if augment(u, &after, &mut seen, &mut matched) {
            matching += 1;
        }
    }
    n - matching
}

/// The `hexdash watch` / `runs` / `cancel` lines of a generated file's header: each project
/// named as written when that is one plain word (an alias or an id), else by its id.
pub(crate) fn watch_commands(p: &Pipeline) -> Vec<String> {
    let mut projects: Vec<String> = Vec::new();
    for s in &p.steps {
        let shown = shell_word(s);
        if !projects.contains(&shown) {
            projects.push(shown);
        }
    }
    let first = projects.first().cloned().unwrap_or_default();
    vec![
        format!("hexdash watch {}", projects.join(" ")),
        format!("hexdash runs {first} --status RUNNING"),
        format!("hexdash cancel {first} RUN_ID"),
    ]
}

fn shell_word(step: &Step) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    match &step.project {
        _ if plain(&step.project_name) => step.project_name.clone(),
        ProjectRef::Id(id) if plain(id) => id.clone(),
        ProjectRef::Id(id) | ProjectRef::Title(id) => format!("'{}'", id.replace('\'', "'\\''")),
    }
}
