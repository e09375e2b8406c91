//! Typed text is drawn with the terminal's cursor where the text's cursor is — in a form field,
//! a filter being typed and the command line — and a text too long for its line scrolls
//! sideways so that cursor stays on screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::fixtures::{form_model, render, runs_model};
use crate::tui::model::{Model, Overlay};
use crate::tui::text_input::TextInput;

/// The cursor's row, split at the cursor: what is left of it and what is under and after it.
fn around_cursor(t: &mut Terminal<TestBackend>) -> (String, String) {
    assert!(t.backend().cursor_visible(), "no cursor is shown");
    let at = t.get_cursor_position().unwrap();
    let buffer = t.backend().buffer();
    let cell = |x: u16| buffer[(x, at.y)].symbol().to_string();
    let before = (0..at.x).map(cell).collect();
    let after = (at.x..buffer.area.width).map(cell).collect();
    (before, after)
}

fn press(input: &mut TextInput, code: KeyCode, times: usize) {
    for _ in 0..times {
        input.key(&KeyEvent::new(code, KeyModifiers::NONE));
    }
}

const LONG: &str = "backfill after the outage of the 27th, see the incident channel for why";

/// The form with its `note` text field focused, holding `text`; `edit` then moves its cursor.
fn form_note(text: &str, edit: impl Fn(&mut TextInput)) -> Model {
    let mut m = form_model();
    if let Some(f) = m.form.as_mut() {
        f.focus = 5;
        f.fields[5].text.set(text);
        edit(&mut f.fields[5].text);
    }
    m
}

#[test]
fn a_form_field_shows_its_cursor_where_it_is() {
    let m = form_note("nightly run", |t| press(t, KeyCode::Left, 3));
    let (before, after) = around_cursor(&mut render(&m, 120, 22));
    assert!(before.ends_with("  nightly "), "{before:?}");
    assert!(after.starts_with("run  "), "{after:?}");
}

#[test]
fn a_long_form_field_scrolls_to_keep_its_cursor_on_screen() {
    // At the end: the end shows, the cursor just after it; the start has scrolled off.
    let m = form_note(LONG, |_| {});
    let (before, after) = around_cursor(&mut render(&m, 80, 24));
    assert!(before.ends_with("incident channel for why"), "{before:?}");
    assert!(!before.contains("backfill"), "{before:?}");
    assert!(after.starts_with(' '), "{after:?}");
    // At the start: the start shows again, the cursor on its first letter.
    let m = form_note(LONG, |t| press(t, KeyCode::Home, 1));
    let (before, after) = around_cursor(&mut render(&m, 80, 24));
    assert!(before.ends_with("note              "), "{before:?}");
    assert!(after.starts_with("backfill after"), "{after:?}");
    // Just past the first screenful: scrolled only as far as the cursor needs.
    let m = form_note(LONG, |t| {
        press(t, KeyCode::Home, 1);
        press(t, KeyCode::Right, 60);
    });
    let (before, after) = around_cursor(&mut render(&m, 80, 24));
    assert_eq!(before.chars().count(), 79, "the last column: {before:?}");
    assert!(before.ends_with("incident chan"), "{before:?}");
    assert!(after.starts_with('n'), "{after:?}");
}

#[test]
fn a_filter_being_typed_shows_its_cursor_and_scrolls() {
    let mut m = runs_model();
    m.runs.filter.editing = true;
    m.runs.filter.text.set("running");
    press(&mut m.runs.filter.text, KeyCode::Left, 4);
    let (before, after) = around_cursor(&mut render(&m, 100, 12));
    assert!(before.ends_with(" / run"), "{before:?}");
    assert!(after.starts_with("ning   "), "{after:?}");
    m.runs.filter.text.set(LONG);
    let (before, _) = around_cursor(&mut render(&m, 60, 12));
    assert!(before.ends_with("for why"), "{before:?}");
    assert!(before.starts_with(" / "), "{before:?}");
    assert!(!before.contains("backfill"), "{before:?}");
}

#[test]
fn the_command_line_shows_its_cursor_and_scrolls() {
    let mut m = runs_model();
    let mut line = TextInput::from("pipeline 42");
    press(&mut line, KeyCode::Left, 2);
    m.overlay = Some(Overlay::CommandLine(line));
    let (before, after) = around_cursor(&mut render(&m, 100, 12));
    assert_eq!(before, ":pipeline ");
    assert!(after.starts_with("42   "), "{after:?}");
    m.overlay = Some(Overlay::CommandLine(LONG.into()));
    let (before, after) = around_cursor(&mut render(&m, 60, 12));
    assert_eq!(before.chars().count(), 59, "{before:?}");
    assert!(
        before.starts_with(':') && before.ends_with("for why"),
        "{before:?}"
    );
    assert!(after.starts_with(' '), "{after:?}");
}
