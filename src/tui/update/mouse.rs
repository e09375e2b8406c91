//! The mouse, for those who reach for it: a click on a tab shows its screen, a click on a row of
//! the projects or runs list puts the cursor there, a second click on the same row within
//! [`DOUBLE_CLICK_MS`] opens it (as `enter`), and the wheel moves the cursor. What is under the
//! pointer comes from `view::hit`, which lays the screen out as `draw` does. With an overlay
//! open, clicks do nothing (its keys answer it). `[ui] mouse = false` leaves the mouse to the
//! terminal: the app then never asks for mouse events.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};

use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Model, Screen};
use crate::tui::msg::Effect;
use crate::tui::view::hit::{Hit, hit};

/// Two clicks on one row this close together are a double-click.
pub const DOUBLE_CLICK_MS: u64 = 400;

/// Rows the wheel moves per notch.
const WHEEL_ROWS: i64 = 3;

pub(super) fn on_mouse(
    model: &mut Model,
    event: &MouseEvent,
    at_ms: u64,
    keys: &KeyMap,
) -> Vec<Effect> {
    if model.overlay.is_some() || model.screen == Screen::Form {
        return Vec::new();
    }
    match event.kind {
        MouseEventKind::ScrollDown => wheel(model, Action::MoveDown, WHEEL_ROWS - 1),
        MouseEventKind::ScrollUp => wheel(model, Action::MoveUp, -(WHEEL_ROWS - 1)),
        MouseEventKind::Down(MouseButton::Left) => {
            let (width, height) = model.size;
            match hit(model, keys, width, height, event.column, event.row) {
                Some(Hit::Tab(action)) => {
                    model.last_click = None;
                    super::on_action(model, action).unwrap_or_default()
                }
                Some(Hit::Row(at)) => click_row(model, at, at_ms),
                None => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// One notch: the move key's own effects (a history page at the end of a project's runs), then
/// the rest of the notch's rows.
fn wheel(model: &mut Model, action: Action, more: i64) -> Vec<Effect> {
    let Some(mut effects) = super::screens::on_screen_action(model, action) else {
        return Vec::new();
    };
    super::selection::move_by(model, more);
    effects.extend(super::history::on_move(model));
    effects
}

/// Puts the cursor on row `at` of the current list; opens it on a double-click.
fn click_row(model: &mut Model, at: usize, at_ms: u64) -> Vec<Effect> {
    let double = model.last_click.is_some_and(|(screen, row, when)| {
        screen == model.screen && row == at && at_ms.saturating_sub(when) <= DOUBLE_CLICK_MS
    });
    super::selection::move_to(model, at);
    if double {
        model.last_click = None;
        return super::on_action(model, Action::Open).unwrap_or_default();
    }
    model.last_click = Some((model.screen, at, at_ms));
    Vec::new()
}
