//! Text from outside (project titles, run ids, statuses, error bodies, parameter values) made safe
//! for a terminal and a log file: control characters are shown escaped (`\x1b`, `\u{202e}`)
//! instead of reaching a terminal that would obey them (clear the screen, retitle the window,
//! write the clipboard through OSC 52, reorder text with bidi overrides).
//!
//! Owns only the escaping. The dashboard draws through ratatui, which strips controls on its own;
//! headless text output, error messages and log lines go through here. `--json` output goes
//! through [`escape_json`] instead, which writes what serde leaves raw as `\uXXXX`: the same JSON.

use std::borrow::Cow;

/// Whether `c` changes what a terminal does or how it orders text, rather than showing a glyph.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidi embeddings, overrides and isolates, and the marks (the "Trojan Source" set).
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c => out.push_str(&format!("\\u{{{:04x}}}", u32::from(c))),
    }
}

fn escape_where(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) && !keep(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One field on one line: every control character escaped, line breaks too.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    escape_where(text, |_| false)
}

/// A block of lines hexdash composed (a table, an error message): line breaks and tabs stay,
/// every other control character is escaped.
pub fn escape_block(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c == '\n' || c == '\t')
}

/// serde_json's output with the controls it leaves raw (DEL, C1, bidi overrides; it escapes only
/// C0) written as `\u009b` escapes: the same JSON values, nothing a terminal would obey. Such
/// characters can only stand inside JSON strings, where `\uXXXX` means the very same character.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| is_unsafe(c) && c != '\n') {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe(c) && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The first line of `text`, at most `max` characters (then `…`): what an error message quotes of
/// something long it did not write itself (a parser's message, a value from a file).
pub fn one_line(text: &str, max: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let mut out: String = first.chars().take(max).collect();
    if first.chars().count() > max || text.trim_end().contains('\n') {
        out.push('…');
    }
    out
}

/// Prints a line on stdout with [`escape_block`] applied: the headless commands' `println!`.
#[macro_export]
macro_rules! outln {
    () => { println!() };
    ($($arg:tt)*) => {
        println!("{}", $crate::safe_text::escape_block(&format!($($arg)*)))
    };
}

/// Prints a line on stderr with [`escape_block`] applied: the headless commands' `eprintln!`.
#[macro_export]
macro_rules! errln {
    () => { eprintln!() };
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::safe_text::escape_block(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_commands_are_shown_not_obeyed() {
        let hostile = "Daily\x1b[2J\x1b]0;pwned\x07 ETL\u{9b}31m";
        assert_eq!(
            escape_line(hostile),
            "Daily\\x1b[2J\\x1b]0;pwned\\x07 ETL\\x9b31m"
        );
        assert_eq!(escape_line("a\nb\rc"), "a\\nb\\rc");
        assert_eq!(escape_line("run \u{202e}fdp.exe"), "run \\u{202e}fdp.exe");
    }

    #[test]
    fn json_keeps_its_values_and_loses_its_raw_controls() {
        let value = serde_json::json!({"title": "a\u{9b}31m\u{202e}b\u{7f}\x1b"});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let safe = escape_json(&text);
        assert!(!safe.chars().any(|c| is_unsafe(c) && c != '\n'), "{safe:?}");
        assert!(safe.contains("\n"), "pretty lines stay");
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn long_or_many_lines_are_cut_to_one() {
        assert_eq!(one_line("short", 10), "short");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("first\nsecond", 80), "first…");
        assert_eq!(
            one_line("x".repeat(400_000).as_str(), 200).chars().count(),
            201
        );
    }

    #[test]
    fn blocks_keep_their_lines_and_plain_text_is_not_copied() {
        assert_eq!(escape_block("a\n\tb\x1bc\n"), "a\n\tb\\x1bc\n");
        assert!(matches!(
            escape_block("Nightly Load · 2026-01-01 — ✓"),
            Cow::Borrowed(_)
        ));
    }
}
