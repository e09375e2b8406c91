//! A project's run history from Hex: `enter` on a project reads the newest page of it (every
//! trigger, so schedules' and other clients' runs too), and the next page is read when the
//! cursor reaches the end of what the list shows, as a pager reads on. Pages are merged with
//! what the store knows: a run the store has keeps its parameters and who launched it.
//!
//! Pages are read by offset, newest first, so a run started while the operator scrolls shifts
//! the next page by one: the run at the seam is listed twice (the merge keeps one) — never
//! skipped, since a shift only ever moves older runs further back.

use super::events::on_event;
use super::inform;
use crate::engine::{RunKey, RunView};
use crate::tui::model::{HistoryPages, Level, Model, Screen};
use crate::tui::msg::{Effect, HistoryPage, Msg};

/// Starts reading `project_id`'s history for the list now filtered by `filter`.
pub(super) fn open(model: &mut Model, project_id: String, filter: String) -> Effect {
    model.runs.history = Some(HistoryPages {
        project_id: project_id.clone(),
        filter,
        read: 0,
        more: true,
        loading: true,
        empty_in_a_row: 0,
    });
    Effect::FetchProjectHistory {
        project_id,
        offset: 0,
    }
}

/// After a movement key: the next page if the cursor reached the end (see [`read_on`]).
pub(super) fn on_move(model: &mut Model) -> Option<Effect> {
    if let Some(pages) = model.runs.history.as_mut() {
        pages.empty_in_a_row = 0;
    }
    read_on(model)
}

/// The next page, when the cursor rests on the last row of the project's list and Hex has
/// more than was read.
fn read_on(model: &mut Model) -> Option<Effect> {
    if model.screen != Screen::Runs {
        return None;
    }
    let pages = model.runs.history.as_ref()?;
    if pages.loading || !pages.more || pages.filter != model.runs.filter.text.value() {
        return None;
    }
    let len = model.shown_runs().len();
    let at_end = model.run_cursor().is_some_and(|i| i + 1 == len);
    if !at_end {
        return None;
    }
    let pages = model.runs.history.as_mut()?;
    pages.loading = true;
    Some(Effect::FetchProjectHistory {
        project_id: pages.project_id.clone(),
        offset: pages.read,
    })
}

/// A page arrived: its ended runs the list does not have become rows.
pub(super) fn on_page(
    model: &mut Model,
    project_id: String,
    offset: u32,
    result: Result<HistoryPage, String>,
) -> Vec<Effect> {
    // Only the page this list asked for moves the reading on; a late page of a project the
    // operator left still adds its runs (they are true), but not its place.
    let current = model
        .runs
        .history
        .as_mut()
        .filter(|p| p.project_id == project_id && p.read == offset && p.loading);
    let page = match result {
        Ok(page) => page,
        Err(error) => {
            let Some(pages) = current else {
                tracing::debug!(%project_id, offset, %error, "late failed page of a history");
                return Vec::new();
            };
            // Moving to the end again asks again.
            pages.loading = false;
            inform(
                model,
                Level::Warning,
                format!("could not read the project's history from Hex: {error}"),
            );
            return Vec::new();
        }
    };
    let read = page.runs.len();
    let place = current.map(|pages| {
        pages.loading = false;
        pages.read = pages
            .read
            .saturating_add(u32::try_from(read).unwrap_or(u32::MAX));
        // An empty page ends the reading whatever Hex says of a next one.
        pages.more = page.more && read > 0;
        (pages.read, pages.more)
    });
    let (added, views) = merge(model, &project_id, page);
    let mut effects = on_event(model, Msg::RunsKnown(views));
    let Some(place) = place else {
        // A page of a reading that moved on (another project, a duplicate answer): its runs
        // are in, but the status line belongs to what is on screen.
        tracing::debug!(%project_id, offset, added, "late page of a project's history");
        return effects;
    };
    let text = match place {
        (total, true) => format!(
            "{} from Hex's history of the project ({total} read; more as you scroll down)",
            earlier(added)
        ),
        (total, false) => format!(
            "{} from Hex's history of the project (all {total} read)",
            earlier(added)
        ),
    };
    inform(model, Level::Info, text);
    // Nothing new to show (every run of the page already a row, the seam of a shifted
    // history or runs the store had): the key that asked showed nothing, so read on — a few
    // pages at most before waiting for the next key, so a store that already holds a long
    // history does not turn one key into a burst of requests.
    if added == 0 {
        let pages = model.runs.history.as_mut();
        if let Some(pages) = pages.filter(|p| p.empty_in_a_row < MAX_EMPTY_READ_ON) {
            pages.empty_in_a_row += 1;
            effects.extend(read_on(model));
        }
    } else if let Some(pages) = model.runs.history.as_mut() {
        pages.empty_in_a_row = 0;
    }
    effects
}

/// Pages in a row read without a key while each adds nothing new.
const MAX_EMPTY_READ_ON: u8 = 2;

/// The ended runs of `page` the list does not have, as rows, and how many.
fn merge(model: &Model, project_id: &str, page: HistoryPage) -> (usize, Vec<RunView>) {
    let title = model
        .projects
        .load
        .data()
        .and_then(|rows| rows.iter().find(|r| r.project.id == project_id))
        .map(|r| r.project.title.clone());
    let now = model.now;
    // Active runs are the engine's to follow (discovery lists this project often while it is
    // selected); what the store knows (parameters, who launched it) wins over a listing.
    let views: Vec<RunView> = page
        .runs
        .iter()
        .filter(|r| r.status.is_terminal())
        .filter(|r| {
            !model
                .runs
                .rows
                .contains(&RunKey::new(project_id, &r.run_id))
        })
        .map(|r| {
            let mut v = RunView::listed(r, now);
            v.key = RunKey::new(project_id, &r.run_id);
            v.project_title.clone_from(&title);
            v
        })
        .collect();
    (views.len(), views)
}

fn earlier(n: usize) -> String {
    match n {
        0 => "no earlier runs".into(),
        1 => "1 earlier run".into(),
        n => format!("{n} earlier runs"),
    }
}
