//! Which runs the runs screen shows, in what order: the filter's query (see `query`), then the
//! chosen sort — the workspace's order by default (pinned, then active with the overdue on top,
//! then ended, newest first), or any column, either way round (`s` picks the column, `S` turns
//! it round). Pinned runs stay on top whatever the sort, as on the projects screen.
//!
//! Worked out once per change, not per frame: the order is cached with what it was computed
//! from (the rows' revision, the filter text, the sort, the pins, and the second for the
//! ELAPSED sort, which moves with time), together with each row's position, so a frame of a
//! ten-thousand-run list costs what its fifty visible rows cost and finding the cursor's row is
//! a hash lookup, not a scan.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;

use super::model::RunRow;
use super::query::{Field, Query};
use super::run_rows::RunRows;
use super::view::style;
use crate::engine::RunKey;

/// The column the runs are sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunColumn {
    /// Pinned, active (overdue first), ended; newest first within each.
    #[default]
    Workspace,
    Project,
    Run,
    Status,
    Started,
    Elapsed,
    Updated,
    Trigger,
    Origin,
}

impl RunColumn {
    const CYCLE: [RunColumn; 9] = [
        RunColumn::Workspace,
        RunColumn::Project,
        RunColumn::Run,
        RunColumn::Status,
        RunColumn::Started,
        RunColumn::Elapsed,
        RunColumn::Updated,
        RunColumn::Trigger,
        RunColumn::Origin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            RunColumn::Workspace => "the workspace's order (active first)",
            RunColumn::Project => "project",
            RunColumn::Run => "run id",
            RunColumn::Status => "status",
            RunColumn::Started => "start (newest first)",
            RunColumn::Elapsed => "elapsed (longest first)",
            RunColumn::Updated => "update (freshest first)",
            RunColumn::Trigger => "trigger",
            RunColumn::Origin => "origin",
        }
    }

    /// The runs table's column drawn with the sort mark (its index in the view's columns).
    pub fn table_column(self) -> Option<usize> {
        match self {
            RunColumn::Workspace => None,
            RunColumn::Project => Some(1),
            RunColumn::Run => Some(2),
            RunColumn::Status => Some(3),
            RunColumn::Started => Some(4),
            RunColumn::Elapsed => Some(5),
            RunColumn::Updated => Some(6),
            RunColumn::Trigger => Some(7),
            RunColumn::Origin => Some(8),
        }
    }
}

/// The runs screen's sort: a column and whether it is turned round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunSort {
    pub by: RunColumn,
    pub reversed: bool,
}

impl RunSort {
    /// The next column (`s`), in its natural direction.
    pub fn next(self) -> RunSort {
        let at = RunColumn::CYCLE
            .iter()
            .position(|c| *c == self.by)
            .unwrap_or(0);
        RunSort {
            by: RunColumn::CYCLE[(at + 1) % RunColumn::CYCLE.len()],
            reversed: false,
        }
    }

    /// The same column the other way round (`S`).
    pub fn reverse(self) -> RunSort {
        RunSort {
            reversed: !self.reversed,
            ..self
        }
    }

    /// `sorted by status, reversed`
    pub fn describe(self) -> String {
        let turned = if self.reversed { ", reversed" } else { "" };
        format!("sorted by {}{turned}", self.by.label())
    }
}

/// What the order was worked out from; another value means working it out again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inputs {
    revision: u64,
    rows: usize,
    filter: String,
    sort: RunSort,
    pinned: BTreeSet<RunKey>,
    /// The second, for the ELAPSED sort only (active runs' elapsed grows with time).
    second: Option<i64>,
}

/// The shown rows: indices into [`RunRows`] in the order drawn, and each row's position.
#[derive(Debug, Default)]
pub struct Shown {
    pub order: Vec<usize>,
    /// By row index: its position in `order`, or `u32::MAX` when the filter hides it.
    position: Vec<u32>,
}

impl Shown {
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Where the run is shown, if it is.
    pub fn position_of(&self, rows: &RunRows, key: &RunKey) -> Option<usize> {
        let index = rows.index_of(key)?;
        let at = *self.position.get(index)?;
        (at != u32::MAX).then_some(at as usize)
    }
}

/// The cached order. Cloning gives an empty cache and any two compare equal: it is derived
/// from the model, not part of what the model says.
#[derive(Default)]
pub struct OrderCache(Mutex<Option<(Inputs, Arc<Shown>)>>);

impl Clone for OrderCache {
    fn clone(&self) -> Self {
        OrderCache::default()
    }
}

impl PartialEq for OrderCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for OrderCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrderCache")
    }
}

/// Everything the order depends on, borrowed from the model.
pub struct OrderOf<'a> {
    pub rows: &'a RunRows,
    pub filter: &'a str,
    pub sort: RunSort,
    pub pinned: &'a BTreeSet<RunKey>,
    pub now: Timestamp,
}

impl OrderCache {
    /// The shown rows for `of`, worked out again only when something they depend on changed.
    pub fn get(&self, of: &OrderOf<'_>) -> Arc<Shown> {
        let inputs = Inputs {
            revision: of.rows.revision(),
            rows: of.rows.len(),
            filter: of.filter.to_string(),
            sort: of.sort,
            pinned: of.pinned.clone(),
            second: (of.sort.by == RunColumn::Elapsed).then(|| of.now.as_second()),
        };
        // The model is shared with an observer in tests, so a lock rather than a cell; it is
        // only ever taken here, briefly.
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Some((cached, shown)) if *cached == inputs => Arc::clone(shown),
            _ => {
                let shown = Arc::new(compute(of));
                *slot = Some((inputs, Arc::clone(&shown)));
                shown
            }
        }
    }
}

fn compute(of: &OrderOf<'_>) -> Shown {
    let query = Query::parse(of.filter);
    let rows: Vec<(usize, &RunRow)> = of.rows.values().enumerate().collect();
    let mut order: Vec<usize> = rows
        .iter()
        .filter(|(_, r)| query.is_empty() || query.matches(&values(r)))
        .map(|(i, _)| *i)
        .collect();
    let pinned = |r: &RunRow| of.pinned.contains(&r.view.key);
    order.sort_by(|a, b| {
        let (ra, rb) = (rows[*a].1, rows[*b].1);
        pinned(rb).cmp(&pinned(ra)).then_with(|| {
            let ord = compare(of.sort.by, ra, rb, of.now);
            if of.sort.reversed { ord.reverse() } else { ord }
        })
    });
    let mut position = vec![u32::MAX; rows.len()];
    for (at, index) in order.iter().enumerate() {
        if let Some(slot) = position.get_mut(*index) {
            *slot = u32::try_from(at).unwrap_or(u32::MAX);
        }
    }
    Shown { order, position }
}

/// `a` before `b` in the column's natural direction; ties newest first.
fn compare(by: RunColumn, a: &RunRow, b: &RunRow, now: Timestamp) -> Ordering {
    let (va, vb) = (&a.view, &b.view);
    let newest = || vb.first_seen.cmp(&va.first_seen);
    let text = |f: &dyn Fn(&RunRow) -> String| f(a).to_lowercase().cmp(&f(b).to_lowercase());
    match by {
        RunColumn::Workspace => {
            let overdue = |r: &RunRow| r.view.is_active() && r.overdue.is_some();
            vb.is_active()
                .cmp(&va.is_active())
                .then(overdue(b).cmp(&overdue(a)))
                .then_with(newest)
        }
        RunColumn::Project => text(&|r| title(r).into_owned()).then_with(newest),
        RunColumn::Run => va.key.run_id.cmp(&vb.key.run_id),
        RunColumn::Status => {
            text(&|r| style::status_word(r.view.status.as_ref()).into_owned()).then_with(newest)
        }
        RunColumn::Started => vb
            .start_time
            .unwrap_or(vb.first_seen)
            .cmp(&va.start_time.unwrap_or(va.first_seen)),
        RunColumn::Elapsed => {
            let secs = |r: &RunRow| style::elapsed_secs(&r.view, r.live(), now).unwrap_or(0);
            secs(b).cmp(&secs(a)).then_with(newest)
        }
        RunColumn::Updated => vb.observed_at.cmp(&va.observed_at).then_with(newest),
        RunColumn::Trigger => {
            text(&|r| style::trigger_label(r.view.origin.as_ref())).then_with(newest)
        }
        RunColumn::Origin => {
            text(&|r| style::origin_label(r.view.origin.as_ref()).to_string()).then_with(newest)
        }
    }
}

fn title(row: &RunRow) -> Cow<'_, str> {
    Cow::Borrowed(
        row.view
            .project_title
            .as_deref()
            .unwrap_or(&row.view.key.project_id),
    )
}

/// A run's values for the filter: what its row shows, and who launched it with what.
pub fn values(row: &RunRow) -> Vec<(Field, Cow<'_, str>)> {
    let v = &row.view;
    let mut out = vec![
        (Field::Project, title(row)),
        (Field::Run, Cow::Borrowed(v.key.run_id.as_str())),
        (Field::Status, style::status_word(v.status.as_ref())),
        (
            Field::Trigger,
            Cow::Owned(style::trigger_label(v.origin.as_ref())),
        ),
        (
            Field::Origin,
            Cow::Borrowed(style::origin_label(v.origin.as_ref())),
        ),
    ];
    if let Some(by) = &v.launched_by {
        out.push((Field::Owner, Cow::Borrowed(by.user.as_str())));
        out.push((Field::Origin, Cow::Borrowed(by.host.as_str())));
    }
    for (name, value) in v.params.iter().flatten() {
        let value = crate::hex::params::display_value(value);
        out.push((Field::Param, Cow::Owned(format!("{name}={value}"))));
    }
    for flag in row.flag_words() {
        out.push((Field::Flag, Cow::Borrowed(flag)));
    }
    out
}
