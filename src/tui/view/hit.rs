//! What is under a point of the screen, for the mouse: a tab of the header, or a row of the
//! projects, runs or pipelines list. Views keep no state, so this works the layout out again from the model
//! the same way `draw` does (the same areas, the same scroll window), and a click lands on the
//! row that was drawn there.

use ratatui::layout::{Constraint, Layout, Rect};

use super::{chrome, style, table};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Load, Model, Screen};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A tab of the header: the action its key does.
    Tab(Action),
    /// The row at this position of the current list (as the list shows them, from the top).
    Row(usize),
}

/// What is at column `x`, row `y` of a `width`×`height` screen.
pub fn hit(model: &Model, keys: &KeyMap, width: u16, height: u16, x: u16, y: u16) -> Option<Hit> {
    if model.overlay.is_some() {
        return None;
    }
    let area = Rect::new(0, 0, width, height);
    let filter = chrome::active_filter(model).is_some();
    let message = model.status.message.is_some();
    let [header, _, body, _, _, _] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(filter)),
        Constraint::Min(0),
        Constraint::Length(u16::from(message)),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if y == header.y {
        return tab_at(keys, x);
    }
    if y < body.y || y >= body.bottom() {
        return None;
    }
    match model.screen {
        Screen::Runs => {
            let shown = model.shown_runs();
            let cursor = model.run_cursor().unwrap_or(0);
            row_at(body, shown.len(), cursor, y)
        }
        Screen::Projects => {
            // A stale list has a banner above it (see `projects::draw`).
            let banner = matches!(
                model.projects.load,
                Load::Failed {
                    previous: Some(_),
                    ..
                }
            );
            let body = Rect {
                y: body.y + u16::from(banner),
                height: body.height.saturating_sub(u16::from(banner)),
                ..body
            };
            let shown = model.visible_projects();
            let cursor = model.projects.pick(&shown).unwrap_or(0);
            row_at(body, shown.len(), cursor, y)
        }
        Screen::Pipelines => {
            let defs = model.pipelines.rows().len();
            if defs == 0 {
                return None;
            }
            let [list, _] = super::pipelines::areas(body, defs);
            let cursor = model.pipelines.selected_index().unwrap_or(0);
            if y >= list.bottom() {
                return None;
            }
            row_at(list, defs, cursor, y)
        }
        _ => None,
    }
}

/// The tab whose label spans column `x`: the header reads " hexdash ", then " KEY Name " for
/// each tab with a space between (see `chrome::header`).
fn tab_at(keys: &KeyMap, x: u16) -> Option<Hit> {
    let mut left = style::width(" hexdash ");
    let tabs = [
        (Action::ShowProjects, "Projects"),
        (Action::ShowRuns, "Runs"),
        (Action::ShowPipelines, "Pipelines"),
    ];
    for (action, name) in tabs {
        let w = style::width(&format!(" {} {name} ", keys.label(action)));
        if (left..left + w).contains(&usize::from(x)) {
            return Some(Hit::Tab(action));
        }
        left += w + 1;
    }
    None
}

/// The list row drawn at screen row `y` of a table in `body` (its header on the first line).
fn row_at(body: Rect, len: usize, cursor: usize, y: u16) -> Option<Hit> {
    let first = body.y + 1;
    if y < first {
        return None;
    }
    let height = usize::from(body.height.saturating_sub(1));
    let top = table::window(len, cursor, height);
    let at = top + usize::from(y - first);
    (at < len && usize::from(y - first) < height).then_some(Hit::Row(at))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{many_runs, render, runs_model};
    use super::*;

    /// The screen row whose text has `needle`.
    fn line_of(model: &Model, w: u16, h: u16, needle: &str) -> u16 {
        let text = render(model, w, h).backend().to_string();
        let at = text
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not on screen:\n{text}"));
        u16::try_from(at).unwrap()
    }

    #[test]
    fn a_point_on_a_row_finds_the_row_drawn_there_also_when_scrolled() {
        let keys = KeyMap::defaults();
        let m = many_runs(500);
        let shown = m.visible_runs();
        let at = m.run_cursor().unwrap();
        let cursor_id = shown[at].view.key.short().to_string();
        let next_id = shown[at + 1].view.key.short().to_string();
        let y = line_of(&m, 120, 16, &next_id);
        assert_eq!(hit(&m, &keys, 120, 16, 5, y), Some(Hit::Row(at + 1)));
        let y = line_of(&m, 120, 16, &cursor_id);
        assert_eq!(hit(&m, &keys, 120, 16, 50, y), Some(Hit::Row(at)));
        // The table's header and the status bar are no row.
        assert_eq!(hit(&m, &keys, 120, 16, 5, 1), None);
        assert_eq!(hit(&m, &keys, 120, 16, 5, 15), None);
    }

    #[test]
    fn a_point_on_a_tab_finds_its_action_and_overlays_take_no_clicks() {
        let keys = KeyMap::defaults();
        let mut m = runs_model();
        // " hexdash  1 Projects   2 Runs   3 Pipelines"
        let text = render(&m, 120, 16).backend().to_string();
        let header = text.lines().next().unwrap();
        let col = |word: &str| u16::try_from(header.find(word).unwrap() - 1).unwrap();
        assert_eq!(
            hit(&m, &keys, 120, 16, col("Projects"), 0),
            Some(Hit::Tab(Action::ShowProjects))
        );
        assert_eq!(
            hit(&m, &keys, 120, 16, col("Runs"), 0),
            Some(Hit::Tab(Action::ShowRuns))
        );
        assert_eq!(
            hit(&m, &keys, 120, 16, col("Pipelines") + 4, 0),
            Some(Hit::Tab(Action::ShowPipelines))
        );
        assert_eq!(hit(&m, &keys, 120, 16, 2, 0), None, "the name is no tab");
        m.overlay = Some(crate::tui::model::Overlay::Help);
        assert_eq!(hit(&m, &keys, 120, 16, col("Runs"), 0), None);
    }

    #[test]
    fn a_point_on_a_pipeline_finds_its_row() {
        let keys = KeyMap::defaults();
        let mut m = runs_model();
        m.pipelines = crate::tui::pipeline_fixtures::state();
        m.screen = Screen::Pipelines;
        let names: Vec<String> = m.pipelines.rows().iter().map(|d| d.name.clone()).collect();
        assert!(names.len() >= 2, "{names:?}");
        let y = line_of(&m, 120, 30, &names[1]);
        assert_eq!(hit(&m, &keys, 120, 30, 3, y), Some(Hit::Row(1)));
        // The recent runs below the table are no row of it.
        assert_eq!(hit(&m, &keys, 120, 30, 3, 26), None);
    }
}
