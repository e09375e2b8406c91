//! Which row of a list is under the cursor: the one answer the keys and the views both ask, so
//! an action only ever targets the row drawn with the cursor, or nothing.
//!
//! A [`Cursor`] keeps the selected row's id, so it stays on that row when rows move (a re-sort,
//! a newer run above, a refresh), and the position it was last settled at. When the selected
//! row is no longer shown the cursor takes the row now at that position (the next one down, or
//! the last): a run that ends and leaves a `running` filter hands the cursor to the row that
//! took its place. When the filter text changed since the last settle it starts from the top
//! instead, as filters do elsewhere (fzf, k9s). With no row shown there is no selection.
//!
//! Pure and generic: callers pass the ids of the rows as shown, in order, and the filter text.
//! `update` settles every cursor after each message ([`Cursor::settle`]), so the id kept is the
//! row drawn; [`Cursor::pick`] gives the same answer before settling, so the views never
//! disagree with the keys.

/// A list's cursor, by row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor<K> {
    id: Option<K>,
    /// Where the selected row was last shown.
    at: usize,
    /// The filter text at the last settle: a different one starts from the top.
    filter: String,
    /// A row to select as soon as it shows (a run just launched, whose row may arrive after the
    /// answer that named it). Until then the cursor is wherever the other rules put it.
    wanted: Option<K>,
}

impl<K> Default for Cursor<K> {
    fn default() -> Self {
        Cursor {
            id: None,
            at: 0,
            filter: String::new(),
            wanted: None,
        }
    }
}

impl<K: PartialEq + Clone> Cursor<K> {
    /// On the row `id`.
    pub fn on(id: K) -> Cursor<K> {
        Cursor {
            id: Some(id),
            ..Cursor::default()
        }
    }

    /// At position `at`, whichever row is there.
    pub fn at(at: usize) -> Cursor<K> {
        Cursor {
            at,
            ..Cursor::default()
        }
    }

    /// The selected row's id as last settled (see [`Cursor::pick`] for what is shown now).
    pub fn id(&self) -> Option<&K> {
        self.id.as_ref()
    }

    /// Lets go of the selected row: the next settle takes the row now at its last position.
    pub fn let_go(&mut self) {
        self.id = None;
    }

    /// Selects `id` now if it is shown, else as soon as it shows.
    pub fn want(&mut self, id: K) {
        self.wanted = Some(id);
    }

    /// The position in `shown` (row ids in the order drawn) of the row under the cursor.
    pub fn pick(&self, shown: &[&K], filter: &str) -> Option<usize> {
        self.pick_by(
            shown.len(),
            |id| shown.iter().position(|k| *k == id),
            filter,
        )
    }

    /// [`Cursor::pick`] for a list of `len` rows where `position` finds a row by id (a long
    /// list keeps an index instead of being scanned).
    pub fn pick_by(
        &self,
        len: usize,
        position: impl Fn(&K) -> Option<usize>,
        filter: &str,
    ) -> Option<usize> {
        let last = len.checked_sub(1)?;
        let find = |id: &Option<K>| id.as_ref().and_then(&position);
        if let Some(i) = find(&self.wanted).or_else(|| find(&self.id)) {
            return Some(i);
        }
        let at = if filter == self.filter { self.at } else { 0 };
        Some(at.min(last))
    }

    /// The position in `shown` of the row `delta` rows from the one under the cursor, stopping
    /// at either end.
    pub fn step(&self, delta: i64, shown: &[&K], filter: &str) -> Option<usize> {
        self.step_by(
            delta,
            shown.len(),
            |id| shown.iter().position(|k| *k == id),
            filter,
        )
    }

    /// [`Cursor::step`] for a list found by id through `position` (see [`Cursor::pick_by`]).
    pub fn step_by(
        &self,
        delta: i64,
        len: usize,
        position: impl Fn(&K) -> Option<usize>,
        filter: &str,
    ) -> Option<usize> {
        let from = self.pick_by(len, position, filter)?;
        let last = i64::try_from(len.saturating_sub(1)).unwrap_or(i64::MAX);
        let to = i64::try_from(from)
            .unwrap_or(0)
            .saturating_add(delta)
            .clamp(0, last);
        Some(usize::try_from(to).unwrap_or(0))
    }

    /// Selects `to` (a position from [`Cursor::pick`] with the id there; `None` when nothing
    /// is shown). True when that changed the selected row.
    pub fn settle(&mut self, to: Option<(usize, K)>, filter: &str) -> bool {
        let (at, id) = match to {
            Some((at, id)) => (at, Some(id)),
            None => (0, None),
        };
        if self.wanted.is_some() && self.wanted == id {
            self.wanted = None;
        }
        let changed = id != self.id;
        self.id = id;
        self.at = at;
        if self.filter != filter {
            self.filter = filter.to_string();
        }
        changed
    }

    /// The person moved the cursor to `to`: that wins over a row still wanted.
    pub fn choose(&mut self, to: Option<(usize, K)>, filter: &str) -> bool {
        self.wanted = None;
        self.settle(to, filter)
    }

    pub fn wanted(&self) -> Option<&K> {
        self.wanted.as_ref()
    }
}

/// `(position, id)` of the row at `at` in `shown`, for [`Cursor::settle`].
pub fn row_at<K: Clone>(shown: &[&K], at: Option<usize>) -> Option<(usize, K)> {
    let at = at?;
    shown.get(at).map(|k| (at, (*k).clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<'a>(v: &'a [&'a str]) -> Vec<&'a &'a str> {
        v.iter().collect()
    }

    /// Settles `c` over `shown` as `update` does; the selected id after.
    fn settle<'a>(c: &mut Cursor<&'a str>, shown: &'a [&'a str], filter: &str) -> Option<&'a str> {
        let shown = ids(shown);
        let to = row_at(&shown, c.pick(&shown, filter));
        c.settle(to, filter);
        c.id().copied()
    }

    fn step<'a>(c: &mut Cursor<&'a str>, delta: i64, shown: &'a [&'a str]) -> Option<&'a str> {
        let shown = ids(shown);
        let to = row_at(&shown, c.step(delta, &shown, ""));
        c.choose(to, "");
        c.id().copied()
    }

    #[test]
    fn stays_on_its_row_when_rows_move() {
        let mut c = Cursor::on("b");
        assert_eq!(c.pick(&ids(&["a", "b", "c"]), ""), Some(1));
        assert_eq!(c.pick(&ids(&["x", "c", "a", "b"]), ""), Some(3));
        assert_eq!(settle(&mut c, &["x", "c", "a", "b"], ""), Some("b"));
    }

    #[test]
    fn a_row_that_leaves_hands_the_cursor_to_the_one_in_its_place() {
        let mut c = Cursor::on("b");
        settle(&mut c, &["a", "b", "c"], "running");
        assert_eq!(c.pick(&ids(&["a", "c"]), "running"), Some(1));
        assert_eq!(settle(&mut c, &["a", "c"], "running"), Some("c"));
        // The last row leaving: the new last one.
        assert_eq!(settle(&mut c, &["a"], "running"), Some("a"));
    }

    #[test]
    fn a_new_filter_that_hides_the_row_starts_from_the_top() {
        let mut c = Cursor::on("c");
        settle(&mut c, &["a", "b", "c"], "");
        assert_eq!(c.pick(&ids(&["a", "b"]), "x"), Some(0));
        // Still shown under the new filter: stays.
        assert_eq!(c.pick(&ids(&["b", "c"]), "x"), Some(1));
    }

    #[test]
    fn nothing_shown_is_no_selection_and_the_first_row_to_show_takes_it() {
        let mut c = Cursor::on("a");
        assert_eq!(c.pick(&[], ""), None);
        assert_eq!(settle(&mut c, &[], ""), None);
        assert_eq!(settle(&mut c, &["z"], ""), Some("z"));
    }

    #[test]
    fn a_wanted_row_is_taken_when_it_shows_and_a_move_forgets_it() {
        let mut c = Cursor::on("a");
        c.want("new");
        assert_eq!(settle(&mut c, &["a", "b"], ""), Some("a"), "not shown yet");
        assert_eq!(settle(&mut c, &["new", "a", "b"], ""), Some("new"));
        assert_eq!(c.wanted(), None);
        c.want("later");
        assert_eq!(step(&mut c, 1, &["new", "a", "b"]), Some("a"));
        assert_eq!(settle(&mut c, &["later", "new", "a", "b"], ""), Some("a"));
    }

    #[test]
    fn moves_stop_at_either_end() {
        let mut c = Cursor::at(1);
        assert_eq!(step(&mut c, -5, &["a", "b", "c"]), Some("a"));
        assert_eq!(step(&mut c, 10, &["a", "b", "c"]), Some("c"));
        assert_eq!(c.step(1, &[], ""), None, "an empty list has nowhere to go");
    }
}
