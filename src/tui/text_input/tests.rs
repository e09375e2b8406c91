use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{TextInput, Typed, Window, request};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn alt(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)
}

/// `text` with the cursor where `|` is.
fn at(text: &str) -> TextInput {
    let cursor = text.find('|').unwrap();
    let mut input = TextInput::from(text.replace('|', ""));
    input.key(&key(KeyCode::Home));
    for _ in 0..text[..cursor].chars().count() {
        input.key(&key(KeyCode::Right));
    }
    input
}

/// The text with `|` where the cursor is.
fn shown(input: &TextInput) -> String {
    let mut s: String = input.value().chars().take(input.cursor()).collect();
    s.push('|');
    s.extend(input.value().chars().skip(input.cursor()));
    s
}

/// Presses `k` on `before`, checks what the text became and what the key said.
fn press(before: &str, k: KeyEvent, after: &str, typed: Typed) {
    let mut input = at(before);
    assert_eq!(input.key(&k), Some(typed), "{k:?} on {before:?}");
    assert_eq!(shown(&input), after, "{k:?} on {before:?}");
}

#[test]
fn a_new_input_has_its_cursor_at_the_end() {
    let input = TextInput::from("daily etl");
    assert_eq!(input.cursor(), 9);
    assert_eq!(shown(&input), "daily etl|");
    let mut input = TextInput::default();
    input.set("2026-11-27");
    assert_eq!(shown(&input), "2026-11-27|");
    input.clear();
    assert_eq!(shown(&input), "|");
}

#[test]
fn left_and_right_move_one_character() {
    press("abc|", key(KeyCode::Left), "ab|c", Typed::Kept);
    press("ab|c", key(KeyCode::Right), "abc|", Typed::Kept);
    press("|abc", key(KeyCode::Left), "|abc", Typed::Kept);
    press("abc|", key(KeyCode::Right), "abc|", Typed::Kept);
    // One step over a character of two bytes, and over one of two columns.
    press("aé|", key(KeyCode::Left), "a|é", Typed::Kept);
    press("a|日b", key(KeyCode::Right), "a日|b", Typed::Kept);
}

#[test]
fn home_end_and_ctrl_a_ctrl_e_go_to_either_end() {
    press("ab|cd", key(KeyCode::Home), "|abcd", Typed::Kept);
    press("ab|cd", ctrl('a'), "|abcd", Typed::Kept);
    press("ab|cd", key(KeyCode::End), "abcd|", Typed::Kept);
    press("ab|cd", ctrl('e'), "abcd|", Typed::Kept);
}

#[test]
fn characters_go_in_at_the_cursor() {
    press("ac|", key(KeyCode::Char('d')), "acd|", Typed::Changed);
    press("a|c", key(KeyCode::Char('b')), "ab|c", Typed::Changed);
    press(
        "|x",
        KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT),
        "R|x",
        Typed::Changed,
    );
    // AltGr arrives as ctrl and alt together.
    press(
        "a|",
        KeyEvent::new(
            KeyCode::Char('@'),
            KeyModifiers::CONTROL | KeyModifiers::ALT,
        ),
        "a@|",
        Typed::Changed,
    );
}

#[test]
fn backspace_and_delete_remove_either_side_of_the_cursor() {
    press("ab|c", key(KeyCode::Backspace), "a|c", Typed::Changed);
    press("ab|c", key(KeyCode::Delete), "ab|", Typed::Changed);
    // Nothing to remove: still the text's key, so it does nothing else.
    press("|abc", key(KeyCode::Backspace), "|abc", Typed::Kept);
    press("abc|", key(KeyCode::Delete), "abc|", Typed::Kept);
}

#[test]
fn ctrl_w_removes_the_word_before_the_cursor() {
    press("region=eu west|", ctrl('w'), "region=eu |", Typed::Changed);
    press("region=eu |", ctrl('w'), "region=|", Typed::Changed);
    press("daily e|tl", ctrl('w'), "daily |tl", Typed::Changed);
    press("|abc", ctrl('w'), "|abc", Typed::Kept);
}

#[test]
fn ctrl_u_removes_everything_before_the_cursor() {
    press("2026-11|-27", ctrl('u'), "|-27", Typed::Changed);
    press("2026-11-27|", ctrl('u'), "|", Typed::Changed);
    press("|abc", ctrl('u'), "|abc", Typed::Kept);
}

#[test]
fn alt_b_and_alt_f_move_a_word() {
    press("pipeline daily|", alt('b'), "pipeline |daily", Typed::Kept);
    press("pipeline |daily", alt('b'), "|pipeline daily", Typed::Kept);
    press("|pipeline daily", alt('f'), "pipeline |daily", Typed::Kept);
    press("pipeline |daily", alt('f'), "pipeline daily|", Typed::Kept);
}

#[test]
fn keys_that_edit_no_text_are_left_to_their_actions() {
    for k in [
        key(KeyCode::Enter),
        key(KeyCode::Esc),
        key(KeyCode::Tab),
        key(KeyCode::BackTab),
        key(KeyCode::Up),
        key(KeyCode::Down),
        key(KeyCode::PageUp),
        key(KeyCode::F(1)),
        ctrl('s'),
        ctrl('p'),
        ctrl('d'),
        alt('x'),
    ] {
        assert_eq!(request(&k), None, "{k:?}");
        let mut input = at("ab|c");
        assert_eq!(input.key(&k), None, "{k:?}");
        assert_eq!(shown(&input), "ab|c", "{k:?}");
    }
}

#[test]
fn the_same_text_with_the_cursor_elsewhere_is_another_input() {
    assert_eq!(at("ab|c"), at("ab|c"));
    assert_ne!(at("ab|c"), at("a|bc"));
    assert_eq!(TextInput::from("abc"), at("abc|"));
}

#[test]
fn a_text_that_fits_shows_whole_from_its_start() {
    let input = at("ab|c");
    assert_eq!(
        input.window(10),
        Window {
            text: "abc",
            cursor: 2
        }
    );
    // The cursor after the last character takes a column too.
    let input = at("abcd|");
    assert_eq!(
        input.window(5),
        Window {
            text: "abcd",
            cursor: 4
        }
    );
    assert_eq!(
        input.window(4),
        Window {
            text: "bcd",
            cursor: 3
        }
    );
}

#[test]
fn a_long_text_scrolls_to_keep_the_cursor_in_view() {
    let text = "0123456789abcdef";
    // At the start: the first columns.
    let input = at(&format!("|{text}"));
    assert_eq!(
        input.window(6),
        Window {
            text: "012345",
            cursor: 0
        }
    );
    // At the end: the last columns, the cursor in the column after them.
    let input = TextInput::from(text);
    assert_eq!(
        input.window(6),
        Window {
            text: "bcdef",
            cursor: 5
        }
    );
    // In the middle, past the first window: scrolled just enough, the character under the
    // cursor in the last column.
    let input = at("01234567|89abcdef");
    assert_eq!(
        input.window(6),
        Window {
            text: "345678",
            cursor: 5
        }
    );
}

#[test]
fn wide_characters_scroll_whole() {
    // Each of these takes two columns; a window never shows half of one.
    let input = TextInput::from("日本語テキスト");
    assert_eq!(
        input.window(5),
        Window {
            text: "スト",
            cursor: 4
        }
    );
    let input = at("|日本語");
    assert_eq!(
        input.window(5),
        Window {
            text: "日本",
            cursor: 0
        }
    );
}
