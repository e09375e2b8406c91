//! One problem found in a pipeline file, pointing at `file:line:col`, with the fix.
//!
//! Owns the report type and its display. Pure; finding problems is `definition` and `validate`.

use std::fmt;
use std::ops::Range;
use std::path::Path;

use crate::config::Location;

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
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub origin: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    pub fn location(&self, offset: usize) -> Location {
        Location::from_offset(self.origin, self.text, offset)
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
            message: message.into(),
            fix: fix.into(),
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
        let src = Source {
            origin: Path::new("p.toml"),
            text: "a = 1\nb = \"x {{ y }}\"\n",
        };
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
