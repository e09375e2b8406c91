//! One problem found in a pipeline file, pointing at `file:line:col`, with the fix.
//!
//! Owns the report type and its display. Pure; finding problems is `definition` and `validate`.

use std::cell::OnceCell;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use crate::config::Location;

/// The longest piece of a pipeline file a message quotes, in characters.
pub const QUOTE_MAX: usize = 200;
/// The most names a message lists ("steps: a, b, …").
const LIST_MAX: usize = 10;
/// Longest name `suggest` looks for near misses of.
const SUGGEST_MAX: usize = 100;
/// A message or fix longer than this (a long list, a value quoted by a type check) is cut.
const MESSAGE_MAX: usize = 1_000;

/// A value from the file as a message quotes it: in quotes and escaped like `{:?}`, only its
/// first line, at most [`QUOTE_MAX`] characters, with `…` where it was cut. A pipeline file can
/// hold a megabyte on one line; a message must stay one readable line.
#[derive(Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Debug for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.0.lines().next().unwrap_or("");
        let mut shown: String = line.chars().take(QUOTE_MAX).collect();
        if shown.len() < self.0.len() {
            shown.push('…');
        }
        write!(f, "{shown:?}")
    }
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Names as a message lists them: the first few, then how many more.
pub fn list<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = names.len();
    let mut out: Vec<String> = names
        .take(LIST_MAX)
        .map(|n| {
            let q = format!("{:?}", Quoted(n));
            // Plain names read better bare, as the lists always showed them.
            if q.len() == n.len() + 2 {
                n.to_string()
            } else {
                q
            }
        })
        .collect();
    if total > LIST_MAX {
        out.push(format!("… ({} more)", total - LIST_MAX));
    }
    out.join(", ")
}

/// "did you mean …?" for a name of a sane length; a name longer than any a person types has no
/// near miss worth the comparison (each is quadratic in the lengths), and quoting candidates
/// for it would not fit a line.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    if word.chars().count() > SUGGEST_MAX {
        return None;
    }
    crate::config::did_you_mean(
        word,
        candidates
            .into_iter()
            .filter(|c| c.chars().count() <= SUGGEST_MAX),
    )
}

/// One line of at most [`MESSAGE_MAX`] characters.
fn one_line(text: String) -> String {
    if text.len() <= MESSAGE_MAX && !text.contains(['\n', '\r']) {
        return text;
    }
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .take(MESSAGE_MAX)
        .collect();
    if flat.len() < text.len() {
        format!("{flat}…")
    } else {
        flat
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The pipeline cannot run until this is fixed.
    Error,
    /// Something that could not be checked, or looks wrong but may run.
    Warning,
}

/// Shown as `file:line:col: message (fix)`; a warning says so after the location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    pub fix: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)?;
        if !self.fix.is_empty() {
            write!(f, " ({})", self.fix)?;
        }
        Ok(())
    }
}

/// The file's name and text, to turn byte spans into line and column.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub origin: &'a Path,
    pub text: &'a str,
    /// Where each line starts, built at the first location asked for: counting lines from the
    /// start of the file for each of thousands of diagnostics was quadratic.
    line_starts: OnceCell<Vec<usize>>,
}

impl<'a> Source<'a> {
    pub fn new(origin: &'a Path, text: &'a str) -> Source<'a> {
        Source {
            origin,
            text,
            line_starts: OnceCell::new(),
        }
    }

    pub fn location(&self, offset: usize) -> Location {
        let text = self.text;
        let mut offset = offset.min(text.len());
        // A span may start inside a multi-byte character only if the parser is broken; take the
        // previous boundary rather than panic on a slice.
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts.get(line - 1).copied().unwrap_or(0);
        Location {
            file: self.origin.to_path_buf(),
            line,
            col: text[line_start..offset].chars().count() + 1,
        }
    }

    pub fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            location: self.location(span.start),
            message: one_line(message.into()),
            fix: one_line(fix.into()),
        }
    }

    pub fn warning(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..self.error(span, message, fix)
        }
    }

    /// Where byte `offset` of a string value starts, given the value's span. Exact for a
    /// one-line string written without escapes; otherwise the start of the value.
    pub fn offset_in_string(&self, span: &Range<usize>, value: &str, offset: usize) -> usize {
        let raw = self.text.get(span.clone()).unwrap_or("");
        let quoted = |q: &str| {
            raw.strip_prefix(q)
                .and_then(|r| r.strip_suffix(q))
                .is_some_and(|inner| inner == value)
        };
        let simple =
            !raw.starts_with("\"\"\"") && !raw.starts_with("'''") && (quoted("\"") || quoted("'"));
        if simple {
            span.start + 1 + offset
        } else {
            span.start
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_location_message_and_fix() {
        let src = Source::new(Path::new("p.toml"), "a = 1\nb = \"x {{ y }}\"\n");
        let d = src.error(6..7, "bad b", "fix b");
        assert_eq!(d.to_string(), "p.toml:2:1: bad b (fix b)");
        let w = src.warning(0..1, "odd a", "");
        assert_eq!(w.to_string(), "p.toml:1:1: warning: odd a");
        let span = 10..21;
        assert_eq!(&src.text[span.clone()], "\"x {{ y }}\"");
        let at = src.offset_in_string(&span, "x {{ y }}", 2);
        assert_eq!(src.location(at).col, 8);
    }
}
