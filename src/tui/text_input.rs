//! The one text editor of the dashboard: the launch form's text fields, the list filters and the
//! `:` command line all hold a [`TextInput`] and edit it with the same keys.
//!
//! Owns the key → edit mapping (readline's: left/right, home/end and ctrl-a/ctrl-e, backspace,
//! delete, ctrl-w a word back, ctrl-u to the start, alt-b/alt-f a word back and forward, characters
//! inserted at the cursor) and the window a long text shows so its cursor stays in view. The
//! editing itself is `tui-input`'s. It does not decide when a key is the text's rather than an
//! action's: `update` asks [`request`] and routes the key.
//!
//! tui-input's own crossterm mapping is not used: it reads alt-b/alt-f only as META (crossterm
//! reports the alt key as ALT), and its ctrl-u deletes the whole line, not what is left of the
//! cursor.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui_input::{Input, InputRequest};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// A line of typed text and its cursor.
#[derive(Debug, Clone, Default)]
pub struct TextInput(Input);

/// What a key did to a [`TextInput`] that took it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typed {
    /// The text changed.
    Changed,
    /// The text is as it was; the cursor may have moved.
    Kept,
}

/// The part of a text a view has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window<'a> {
    pub text: &'a str,
    /// Columns from the window's start to the cursor.
    pub cursor: usize,
}

/// The edit a key asks of a text; `None` when the key does not edit text (enter, esc, tab,
/// up/down, ctrl-s, …), so the caller gives it to its action.
pub fn request(key: &KeyEvent) -> Option<InputRequest> {
    use InputRequest::*;
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match (key.code, ctrl, alt) {
        (KeyCode::Left, false, false) => GoToPrevChar,
        (KeyCode::Right, false, false) => GoToNextChar,
        (KeyCode::Home, false, false) | (KeyCode::Char('a'), true, false) => GoToStart,
        (KeyCode::End, false, false) | (KeyCode::Char('e'), true, false) => GoToEnd,
        (KeyCode::Backspace, false, false) => DeletePrevChar,
        (KeyCode::Delete, false, false) => DeleteNextChar,
        (KeyCode::Char('w'), true, false) => DeletePrevWord,
        (KeyCode::Char('u'), true, false) => DeleteFromStart,
        (KeyCode::Char('b'), false, true) => GoToPrevWord,
        (KeyCode::Char('f'), false, true) => GoToNextWord,
        // Shift is part of the character ('R', '?'). Ctrl and alt together is AltGr on
        // Windows, which types '@', '{' and '\' on many European layouts.
        (KeyCode::Char(c), false, false) | (KeyCode::Char(c), true, true) => InsertChar(c),
        _ => return None,
    })
}

impl TextInput {
    pub fn value(&self) -> &str {
        self.0.value()
    }

    pub fn is_empty(&self) -> bool {
        self.0.value().is_empty()
    }

    /// Characters (not bytes, not columns) before the cursor.
    pub fn cursor(&self) -> usize {
        self.0.cursor()
    }

    /// Replaces the text; the cursor goes to its end.
    pub fn set(&mut self, text: impl Into<String>) {
        self.0 = Input::new(text.into());
    }

    pub fn clear(&mut self) {
        self.0.reset();
    }

    /// Applies `key`; `None` when it is not an editing key. A key that edits nothing where the
    /// cursor is (backspace at the start) is still the text's: it says [`Typed::Kept`].
    pub fn key(&mut self, key: &KeyEvent) -> Option<Typed> {
        let changed = self.0.handle(request(key)?).is_some_and(|c| c.value);
        Some(if changed { Typed::Changed } else { Typed::Kept })
    }

    /// What a view shows: while the text is being edited, its [`window`](Self::window) in
    /// `width` columns; otherwise the text from its start, with no cursor to keep in view.
    pub fn shown(&self, editing: bool, width: usize) -> Window<'_> {
        if editing {
            self.window(width)
        } else {
            Window {
                text: self.value(),
                cursor: 0,
            }
        }
    }

    /// What fits in `width` columns with the cursor on one of them: the text from its start
    /// while that leaves the cursor in view, else scrolled left just enough. At the end of the
    /// text the cursor takes a column of its own, after the last character.
    pub fn window(&self, width: usize) -> Window<'_> {
        let value = self.0.value();
        let scroll = self.0.visual_scroll(width.saturating_sub(1));
        let mut start = 0;
        let mut skipped = 0;
        let mut end = value.len();
        let mut taken = 0;
        for (at, grapheme) in value.grapheme_indices(true) {
            let w = grapheme.width();
            if skipped < scroll {
                skipped += w;
                start = at + grapheme.len();
                continue;
            }
            if taken + w > width {
                end = at;
                break;
            }
            taken += w;
        }
        Window {
            text: value.get(start..end).unwrap_or(""),
            cursor: self.0.visual_cursor().saturating_sub(skipped),
        }
    }
}

/// Two inputs are the same when they hold the same text with the cursor at the same place.
impl PartialEq for TextInput {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value() && self.cursor() == other.cursor()
    }
}

impl Eq for TextInput {}

/// The cursor at the end, where typing goes on.
impl From<String> for TextInput {
    fn from(text: String) -> Self {
        TextInput(Input::new(text))
    }
}

impl From<&str> for TextInput {
    fn from(text: &str) -> Self {
        TextInput(Input::new(text.to_string()))
    }
}

#[cfg(test)]
mod tests;
