//! The three places text is typed — a list's filter, the `:` command line and a launch form's
//! text field — edit with the same keys and end the same way: one script of cursor moves,
//! insertions and deletions is pressed into each through `update`, and each must show the same
//! text with the cursor in the same place. The keys bound to list actions (home/end, ctrl-u,
//! left/right) are the text's while it is typed, and tab, up/down, ctrl-s and esc still act.

use crossterm::event::{KeyCode, KeyModifiers};

use super::test_kit::*;
use crate::tui::form::Slot;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Model, Overlay, Screen};
use crate::tui::msg::Effect;
use crate::tui::text_input::TextInput;

/// The text with `|` where the cursor is.
fn shown(input: &TextInput) -> String {
    let mut s: String = input.value().chars().take(input.cursor()).collect();
    s.push('|');
    s.extend(input.value().chars().skip(input.cursor()));
    s
}

fn ctrl(m: &mut Model, keys: &KeyMap, c: char) {
    code(m, keys, KeyCode::Char(c), KeyModifiers::CONTROL);
}

fn alt(m: &mut Model, keys: &KeyMap, c: char) {
    code(m, keys, KeyCode::Char(c), KeyModifiers::ALT);
}

fn plain(m: &mut Model, keys: &KeyMap, k: KeyCode) {
    code(m, keys, k, KeyModifiers::NONE);
}

/// Presses the script into whatever text has the keys, checking after each step with `look`
/// (the editor's text with its cursor).
fn script(m: &mut Model, keys: &KeyMap, look: impl Fn(&Model) -> String) {
    type_text(m, keys, "load daily etl");
    assert_eq!(look(m), "load daily etl|");
    alt(m, keys, 'b');
    assert_eq!(look(m), "load daily |etl", "alt-b: a word back");
    alt(m, keys, 'b');
    assert_eq!(look(m), "load |daily etl");
    ctrl(m, keys, 'w');
    assert_eq!(look(m), "|daily etl", "ctrl-w: the word before the cursor");
    alt(m, keys, 'f');
    assert_eq!(look(m), "daily |etl", "alt-f: a word forward");
    type_text(m, keys, "x");
    assert_eq!(look(m), "daily x|etl", "typed at the cursor");
    plain(m, keys, KeyCode::Left);
    plain(m, keys, KeyCode::Left);
    assert_eq!(look(m), "daily| xetl", "left");
    plain(m, keys, KeyCode::Backspace);
    assert_eq!(look(m), "dail| xetl", "backspace: the character before");
    plain(m, keys, KeyCode::Right);
    plain(m, keys, KeyCode::Delete);
    assert_eq!(
        look(m),
        "dail |etl",
        "right, then delete: the character after"
    );
    plain(m, keys, KeyCode::Home);
    type_text(m, keys, "a");
    assert_eq!(look(m), "a|dail etl", "home");
    plain(m, keys, KeyCode::End);
    type_text(m, keys, "s");
    assert_eq!(look(m), "adail etls|", "end");
    ctrl(m, keys, 'a');
    assert_eq!(look(m), "|adail etls", "ctrl-a");
    ctrl(m, keys, 'e');
    assert_eq!(look(m), "adail etls|", "ctrl-e");
    for _ in 0..4 {
        plain(m, keys, KeyCode::Left);
    }
    ctrl(m, keys, 'u');
    assert_eq!(look(m), "|etls", "ctrl-u: everything before the cursor");
}

fn filter(m: &Model) -> String {
    shown(&m.projects.filter.text)
}

fn command_line(m: &Model) -> String {
    match &m.overlay {
        Some(Overlay::CommandLine(line)) => shown(line),
        other => panic!("the command line closed: {other:?}"),
    }
}

fn first_field(m: &Model) -> String {
    let form = m.form.as_ref().expect("the form is open");
    assert_eq!(form.focused(), Slot::Param(0), "the focus stayed");
    shown(&form.fields[0].text)
}

#[test]
fn the_filter_edits_like_every_text() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '/');
    script(&mut m, &keys, filter);
    assert!(m.projects.filter.editing, "still typing");
    assert_eq!(m.screen, Screen::Projects);
    // Enter keeps the filter as typed.
    plain(&mut m, &keys, KeyCode::Enter);
    assert!(!m.projects.filter.editing);
    assert_eq!(m.projects.filter.text.value(), "etls");
    // Kept, not typed: home and end are the list's again.
    esc(&mut m, &keys);
    assert!(m.projects.filter.text.is_empty());
    plain(&mut m, &keys, KeyCode::End);
    let last = m.visible_projects().last().map(|p| p.project.id.clone());
    assert_eq!(m.selected_project().map(|p| p.project.id.clone()), last);
    assert_ne!(
        last,
        m.visible_projects().first().map(|p| p.project.id.clone())
    );
}

#[test]
fn the_command_line_edits_like_every_text() {
    let (mut m, keys) = model();
    press(&mut m, &keys, ':');
    script(&mut m, &keys, command_line);
    // Backspace at the start of a line that is not empty keeps it open; on an empty one it
    // closes it, as before.
    plain(&mut m, &keys, KeyCode::Backspace);
    assert_eq!(command_line(&m), "|etls");
    ctrl(&mut m, &keys, 'e');
    ctrl(&mut m, &keys, 'u');
    plain(&mut m, &keys, KeyCode::Backspace);
    assert!(m.overlay.is_none());
}

#[test]
fn a_form_field_edits_like_every_text_and_the_forms_keys_still_act() {
    let (mut m, keys) = model();
    // "Churn model" declares nothing: its form is free name=value rows.
    press(&mut m, &keys, 'r');
    assert_eq!(m.screen, Screen::Form);
    script(&mut m, &keys, first_field);
    // Mid-text, the keys that edit nothing still act: down and tab move on, up comes back,
    // ctrl-s sends, esc leaves.
    plain(&mut m, &keys, KeyCode::End);
    plain(&mut m, &keys, KeyCode::Left);
    plain(&mut m, &keys, KeyCode::Down);
    assert_eq!(m.form.as_ref().unwrap().focused(), Slot::Param(1));
    plain(&mut m, &keys, KeyCode::Up);
    assert_eq!(first_field(&m), "etl|s", "the cursor stayed where it was");
    plain(&mut m, &keys, KeyCode::Tab);
    assert_eq!(m.form.as_ref().unwrap().focused(), Slot::Param(1));
    code(&mut m, &keys, KeyCode::BackTab, KeyModifiers::SHIFT);
    plain(&mut m, &keys, KeyCode::End);
    type_text(&mut m, &keys, "=eu");
    let effects = code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let [Effect::Launch(request)] = effects.as_slice() else {
        panic!("ctrl-s launches: {effects:?}");
    };
    assert_eq!(request.params.get("etls"), Some(&serde_json::json!("eu")));
    plain(&mut m, &keys, KeyCode::Esc);
    assert_ne!(m.screen, Screen::Form);
}

#[test]
fn the_timeout_and_a_date_take_the_same_keys() {
    let (mut m, keys) = model();
    // "Load warehouse" declares a required date; its options follow.
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    type_text(&mut m, &keys, "2026-11-27");
    plain(&mut m, &keys, KeyCode::Home);
    plain(&mut m, &keys, KeyCode::Delete);
    type_text(&mut m, &keys, "3");
    assert_eq!(first_field(&m), "3|026-11-27");
    plain(&mut m, &keys, KeyCode::Right);
    ctrl(&mut m, &keys, 'w');
    assert_eq!(first_field(&m), "|26-11-27");
    while m.form.as_ref().unwrap().focused() != Slot::Timeout {
        plain(&mut m, &keys, KeyCode::Tab);
    }
    type_text(&mut m, &keys, "30m");
    plain(&mut m, &keys, KeyCode::Left);
    type_text(&mut m, &keys, "0");
    let form = m.form.as_ref().unwrap();
    assert_eq!(shown(&form.timeout), "300|m");
}

#[test]
fn a_mark_stays_while_the_cursor_moves_and_goes_when_the_value_changes() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    type_text(&mut m, &keys, "2026-11-x");
    code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(m.form.as_ref().unwrap().fields[0].error.is_some());
    plain(&mut m, &keys, KeyCode::Left);
    plain(&mut m, &keys, KeyCode::End);
    assert!(m.form.as_ref().unwrap().fields[0].error.is_some());
    plain(&mut m, &keys, KeyCode::Backspace);
    assert!(m.form.as_ref().unwrap().fields[0].error.is_none());
}

#[test]
fn tab_completes_the_whole_line_and_puts_the_cursor_at_its_end() {
    let (mut m, keys) = model();
    press(&mut m, &keys, ':');
    type_text(&mut m, &keys, "pre");
    plain(&mut m, &keys, KeyCode::Left);
    plain(&mut m, &keys, KeyCode::Left);
    plain(&mut m, &keys, KeyCode::Tab);
    assert_eq!(command_line(&m), "preset |");
    type_text(&mut m, &keys, "eom");
    assert_eq!(command_line(&m), "preset eom|");
}

#[test]
fn in_a_text_field_an_editing_key_edits_whatever_it_is_bound_to() {
    // Someone who goes back with left, as in a file manager.
    let mut config = crate::config::Config::default();
    config.keys.insert(
        "back".into(),
        crate::config::KeyBindingValue::Many(vec!["esc".into(), "left".into()]),
    );
    let (keys, warnings) = KeyMap::from_config(&config);
    assert!(warnings.is_empty(), "{warnings:?}");
    let (mut m, _) = model();
    press(&mut m, &keys, 'r');
    type_text(&mut m, &keys, "region=eu");
    plain(&mut m, &keys, KeyCode::Left);
    assert_eq!(
        m.screen,
        Screen::Form,
        "left moved the cursor; the form stays"
    );
    assert_eq!(first_field(&m), "region=e|u");
    // Where nothing is typed, the binding acts: the options' toggles go back on left.
    while m.form.as_ref().unwrap().focused() != Slot::DryRun {
        plain(&mut m, &keys, KeyCode::Tab);
    }
    plain(&mut m, &keys, KeyCode::Left);
    assert_ne!(m.screen, Screen::Form);
}
