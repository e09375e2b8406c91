//! The runs screen's rows, in arrival order and found by run key.
//!
//! A map from `RunKey` to row would hold every key twice (the map's and the row's own
//! `view.key`); with ten thousand runs of history that copy was 1.5 MB of the dashboard's
//! memory. Here each row is its own key: a set hashed by `view.key`, looked up with a borrowed
//! `RunKey`.
//!
//! Every change takes a new revision number (unique across all lists), so the runs screen's
//! cached order (`run_order`) knows when to work itself out again.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use indexmap::set::MutableValues;
use indexmap::{Equivalent, IndexSet};

use super::model::RunRow;
use crate::engine::RunKey;

/// A row as a set member: equal and hashed by its run key only, so the set holds one row per
/// run and a `RunKey` finds it (see the `Equivalent` impl below).
#[derive(Debug, Clone)]
struct Keyed(RunRow);

impl Hash for Keyed {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The same hash as the `RunKey` itself: lookups hash the borrowed key.
        self.0.view.key.hash(state);
    }
}

impl PartialEq for Keyed {
    fn eq(&self, other: &Self) -> bool {
        self.0.view.key == other.0.view.key
    }
}

impl Eq for Keyed {}

impl Equivalent<Keyed> for RunKey {
    fn equivalent(&self, row: &Keyed) -> bool {
        *self == row.0.view.key
    }
}

#[derive(Debug, Clone, Default)]
pub struct RunRows {
    set: IndexSet<Keyed>,
    revision: u64,
}

/// The next revision of any list: 0 is an empty list's, so they start at 1.
static REVISIONS: AtomicU64 = AtomicU64::new(1);

impl PartialEq for RunRows {
    /// Same rows (every field), in the same order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.values().zip(other.values()).all(|(a, b)| a == b)
    }
}

impl RunRows {
    pub fn get(&self, key: &RunKey) -> Option<&RunRow> {
        self.set.get(key).map(|k| &k.0)
    }

    /// Which version of the list this is: any change gives a new one.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    fn changed(&mut self) {
        self.revision = REVISIONS.fetch_add(1, Ordering::Relaxed);
    }

    /// The row at `index` in arrival order.
    pub fn get_index(&self, index: usize) -> Option<&RunRow> {
        self.set.get_index(index).map(|k| &k.0)
    }

    /// The arrival index of the run's row.
    pub fn index_of(&self, key: &RunKey) -> Option<usize> {
        self.set.get_index_of(key)
    }

    /// The row to change in place. Its key must stay as it is: the set found it by that hash.
    pub fn get_mut(&mut self, key: &RunKey) -> Option<&mut RunRow> {
        self.changed();
        self.set.get_full_mut2(key).map(|(_, k)| &mut k.0)
    }

    /// Adds a row at the end, or replaces the row of the same run where it stands.
    pub fn insert(&mut self, row: RunRow) {
        self.changed();
        match self.set.get_index_of(&row.view.key) {
            Some(index) => {
                if let Some(slot) = self.set.get_index_mut2(index) {
                    *slot = Keyed(row);
                }
            }
            None => {
                self.set.insert(Keyed(row));
            }
        }
    }

    pub fn contains(&self, key: &RunKey) -> bool {
        self.set.contains(key)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &RunRow> + ExactSizeIterator {
        self.set.iter().map(|k| &k.0)
    }

    /// Changes every row in place (their keys must stay as they are).
    pub fn for_each_mut(&mut self, mut change: impl FnMut(&mut RunRow)) {
        self.changed();
        self.set.retain2(|k| {
            if cfg!(debug_assertions) {
                let key = k.0.view.key.clone();
                change(&mut k.0);
                assert_eq!(key, k.0.view.key, "a row's key changed in place");
            } else {
                change(&mut k.0);
            }
            true
        });
    }

    pub fn keys(&self) -> impl Iterator<Item = &RunKey> {
        self.values().map(|r| &r.view.key)
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }

    pub fn reserve_exact(&mut self, more: usize) {
        self.set.reserve_exact(more);
    }

    pub fn shrink_to_fit(&mut self) {
        self.set.shrink_to_fit();
    }
}

#[cfg(test)]
impl std::ops::Index<&RunKey> for RunRows {
    type Output = RunRow;

    /// Tests' shorthand; panics when the run has no row, as a map's index does.
    fn index(&self, key: &RunKey) -> &RunRow {
        match self.get(key) {
            Some(row) => row,
            None => panic!("no row for run {}/{}", key.project_id, key.run_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::RunStatus;
    use crate::tui::view::fixtures::run;

    fn row(project: usize, n: u32, status: RunStatus) -> RunRow {
        RunRow {
            view: run(project, n, Some(status)),
            overdue: None,
            followed: false,
        }
    }

    #[test]
    fn a_row_is_found_by_its_key_and_replaced_where_it_stands() {
        let mut rows = RunRows::default();
        rows.insert(row(0, 1, RunStatus::Running));
        rows.insert(row(1, 2, RunStatus::Running));
        rows.insert(row(0, 3, RunStatus::Pending));
        let second = row(1, 2, RunStatus::Running).view.key;
        assert_eq!(rows[&second].view.status, Some(RunStatus::Running));

        rows.insert(row(1, 2, RunStatus::Completed));
        assert_eq!(rows.len(), 3, "replaced, not added");
        let order: Vec<_> = rows.keys().map(|k| k.run_id.clone()).collect();
        let again: Vec<_> = [row(0, 1, RunStatus::Running), row(1, 2, RunStatus::Running)]
            .into_iter()
            .chain([row(0, 3, RunStatus::Pending)])
            .map(|r| r.view.key.run_id)
            .collect();
        assert_eq!(order, again, "arrival order kept");
        assert_eq!(rows[&second].view.status, Some(RunStatus::Completed));

        if let Some(r) = rows.get_mut(&second) {
            r.followed = true;
        }
        assert!(rows.get(&second).is_some_and(|r| r.followed));
        let absent = row(2, 9, RunStatus::Running).view.key;
        assert!(rows.get(&absent).is_none() && !rows.contains(&absent));
    }

    #[test]
    fn every_row_can_be_changed_in_place_and_stays_findable() {
        let mut rows = RunRows::default();
        for n in 0..50 {
            rows.insert(row((n % 3) as usize, n, RunStatus::Running));
        }
        rows.for_each_mut(|r| r.view.project_title = Some("T".into()));
        assert!(
            rows.values()
                .all(|r| r.view.project_title.as_deref() == Some("T"))
        );
        for n in 0..50 {
            let key = row((n % 3) as usize, n, RunStatus::Running).view.key;
            assert!(rows.contains(&key), "{key:?}");
        }
        let copy = rows.clone();
        assert_eq!(copy, rows);
        rows.insert(row(0, 0, RunStatus::Killed));
        assert_ne!(copy, rows, "a changed row makes the lists differ");
    }
}
