//! Python source text for the exports: string and value literals, identifiers, comments, and
//! (for Airflow) Jinja text that renders to exactly the characters it was given.
//!
//! Owns escaping, so that no value from a pipeline file can break out of a string, a comment or
//! a template. Must not decide what a value means in Airflow or Dagster; the mappings do.

use std::fmt::Write;
use std::time::Duration;

use serde_json::Value;

/// A double-quoted Python `str` literal. Control and line-separator characters are escaped so
/// the literal stays on one line whatever the text holds.
pub(crate) fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let n = u32::from(c);
                // Writing to a String cannot fail.
                let _ = match n {
                    0..=0xff => write!(out, "\\x{n:02x}"),
                    0x100..=0xffff => write!(out, "\\u{n:04x}"),
                    _ => write!(out, "\\U{n:08x}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that are invisible or end a line somewhere (editors, terminals) even where Python
/// would accept them raw.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// A JSON value as a Python literal: null → None, booleans → True/False, numbers as written,
/// lists and dicts recursively. `text` writes each string (keys excepted), so a caller can pass
/// strings through [`jinja_text`] where Airflow will render them.
pub(crate) fn value(v: &Value, text: &dyn Fn(&str) -> String) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        // serde_json writes integers and shortest round-trip floats (`7`, `7.5`, `1e+20`), all
        // of which are Python literals of the same value.
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(&text(s)),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|i| value(i, text)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", string(k), value(v, text)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// Text as it may appear after `# ` on one line.
pub(crate) fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if needs_escape(c) { ' ' } else { c })
        .collect()
}

/// A line longer than this is split: one argument a line, comments wrapped.
pub(crate) const WIDTH: usize = 99;
pub(crate) const INDENT: &str = "    ";

/// `head(a, b)` at `indent`, on one line when it fits, else one argument a line.
pub(crate) fn call(indent: &str, head: &str, args: &[String]) -> String {
    let one = format!("{indent}{head}({})", args.join(", "));
    if one.chars().count() <= WIDTH {
        return one;
    }
    let mut out = format!("{indent}{head}(\n");
    for a in args {
        out.push_str(&format!("{indent}{INDENT}{a},\n"));
    }
    out.push_str(&format!("{indent})"));
    out
}

/// Writing Python source a line at a time: what both exporters' writers share. A writer
/// only says where its text goes.
pub(crate) trait Source {
    fn out(&mut self) -> &mut String;

    fn line(&mut self, text: &str) {
        let out = self.out();
        out.push_str(text);
        out.push('\n');
    }

    /// `# text` lines at `indent`, wrapped.
    fn comment(&mut self, indent: &str, text: &str) {
        for line in comment_lines(indent, text) {
            self.line(&line);
        }
    }
}

/// `# text` lines at `indent`, wrapped at [`WIDTH`].
pub(crate) fn comment_lines(indent: &str, text: &str) -> Vec<String> {
    let room = WIDTH.saturating_sub(indent.len() + 2).max(20);
    wrap(&comment(text), room)
        .into_iter()
        .map(|line| format!("{indent}# {line}").trim_end().to_string())
        .collect()
}

/// Names handed out in one generated module, each unique: a clash (with a name the module
/// defines, or one handed out before) gets `_2`, `_3`, ... appended.
pub(crate) struct UniqueNames {
    taken: std::collections::HashSet<String>,
}

impl UniqueNames {
    /// Never hands out any of `reserved`.
    pub fn new<'a>(reserved: impl IntoIterator<Item = &'a str>) -> UniqueNames {
        UniqueNames {
            taken: reserved.into_iter().map(str::to_string).collect(),
        }
    }

    /// `base`, or `base_K` for the smallest K from 2 that is still free.
    pub fn unique(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut k = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        name
    }
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// Seconds as a Python int expression that reads as the duration: `30 * 60`, `2 * 60 * 60`
/// (a fraction of a second rounds up).
pub(crate) fn seconds(d: Duration) -> String {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    if s >= 3600 && s.is_multiple_of(3600) {
        format!("{} * 60 * 60", s / 3600)
    } else if s >= 60 && s.is_multiple_of(60) {
        format!("{} * 60", s / 60)
    } else {
        s.to_string()
    }
}

/// Python's keywords: no name of the generated code may be one.
pub(crate) const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// A Python variable name for a task id: `-` becomes `_`, a leading digit gets a `step_` prefix
/// and a keyword a trailing `_`. Not unique by itself; the caller dedupes.
pub(crate) fn identifier(name: &str) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert_str(0, "step_");
    }
    if KEYWORDS.contains(&id.as_str()) {
        id.push('_');
    }
    id
}

/// One piece of a string Airflow renders with Jinja.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Text that must come out exactly as it is.
    Text(&'a str),
    /// A Jinja expression, written as `{{ expr }}`.
    Expr(String),
}

/// The Jinja source that renders to the pieces: text verbatim, expressions evaluated.
///
/// Airflow renders every string in a templated field, literals included, with a default Jinja
/// environment. So text is escaped where Jinja would otherwise change it: a `{` that would open
/// `{{`, `{%` or `{#` (also with the `{{` of a following expression), a `\r` (Jinja turns
/// `\r\n` into `\n`), and a final `\n` (Jinja drops one trailing newline). Each is written as an
/// expression printing that character.
pub(crate) fn jinja(pieces: &[Piece<'_>]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let text = match piece {
            Piece::Expr(e) => {
                out.push_str("{{ ");
                out.push_str(e);
                out.push_str(" }}");
                continue;
            }
            Piece::Text(t) => t,
        };
        let after = match pieces.get(i + 1) {
            Some(Piece::Expr(_)) => Some('{'),
            Some(Piece::Text(t)) => t.chars().next(),
            None => None,
        };
        let last_piece = i + 1 == pieces.len();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let next = chars.peek().copied().or(after);
            match c {
                '{' if matches!(next, Some('{' | '%' | '#')) => out.push_str("{{ '{' }}"),
                '\r' => out.push_str("{{ '\\r' }}"),
                '\n' if last_piece && chars.peek().is_none() => out.push_str("{{ '\\n' }}"),
                c => out.push(c),
            }
        }
    }
    out
}

/// Jinja source for plain text (see [`jinja`]).
pub(crate) fn jinja_text(s: &str) -> String {
    jinja(&[Piece::Text(s)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_escaped_onto_one_line() {
        assert_eq!(string("plain"), r#""plain""#);
        assert_eq!(string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(string("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(string("\u{7}\u{85}\u{2028}"), r#""\x07\x85\u2028""#);
        assert_eq!(string("Daily ETL · Extract"), "\"Daily ETL · Extract\"");
    }

    #[test]
    fn json_values_become_python_literals() {
        let plain = |s: &str| s.to_string();
        let v = json!({"a": [1, 2.5, true, false, null, "x"], "b": {"c": -3}});
        assert_eq!(
            value(&v, &plain),
            r#"{"a": [1, 2.5, True, False, None, "x"], "b": {"c": -3}}"#
        );
        assert_eq!(value(&json!(1e20), &plain), "1e+20");
    }

    #[test]
    fn identifiers_are_valid_python_names() {
        assert_eq!(identifier("extract"), "extract");
        assert_eq!(identifier("load-warehouse"), "load_warehouse");
        assert_eq!(identifier("2nd"), "step_2nd");
        assert_eq!(identifier("import"), "import_");
        assert_eq!(identifier("None"), "None_");
    }

    #[test]
    fn comments_stay_on_their_line() {
        assert_eq!(comment("a\nb\rc\u{2028}d"), "a b c d");
    }

    #[test]
    fn jinja_text_renders_back_to_itself() {
        assert_eq!(jinja_text("plain text } }} %}"), "plain text } }} %}");
        assert_eq!(jinja_text("{{x}}"), "{{ '{' }}{x}}");
        assert_eq!(jinja_text("50{% off {#1"), "50{{ '{' }}% off {{ '{' }}#1");
        assert_eq!(jinja_text("{{{"), "{{ '{' }}{{ '{' }}{");
        assert_eq!(jinja_text("a\r\nb\n"), "a{{ '\\r' }}\nb{{ '\\n' }}");
        assert_eq!(jinja_text("a\n\nb"), "a\n\nb");
    }

    #[test]
    fn a_brace_before_an_expression_is_escaped() {
        let pieces = [
            Piece::Text("set {"),
            Piece::Expr("params['x']".into()),
            Piece::Text("}\n"),
        ];
        assert_eq!(jinja(&pieces), "set {{ '{' }}{{ params['x'] }}}{{ '\\n' }}");
    }
}
