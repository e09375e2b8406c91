//! Templates inside step parameter values: `{{ params.NAME }}` and
//! `{{ steps.ID.run_id|status|end_time|run_url }}`, split into literal text and references.
//!
//! Owns the template syntax and rendering from a lookup. Must not know which parameters or steps
//! exist (that is `validate`) nor fetch anything: a reference is rendered by whoever holds the
//! values. There is no escape for a literal `{{`; a value needing one is not a template use case.

use std::fmt;

/// An output of an upstream step's run that a later step may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepField {
    RunId,
    Status,
    EndTime,
    RunUrl,
}

impl StepField {
    pub const ALL: [StepField; 4] = [
        StepField::RunId,
        StepField::Status,
        StepField::EndTime,
        StepField::RunUrl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepField::RunId => "run_id",
            StepField::Status => "status",
            StepField::EndTime => "end_time",
            StepField::RunUrl => "run_url",
        }
    }

    fn parse(s: &str) -> Option<StepField> {
        StepField::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// What a `{{ ... }}` names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Param(String),
    Step { step: String, field: StepField },
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Param(name) => write!(f, "{{{{ params.{name} }}}}"),
            Reference::Step { step, field } => {
                write!(f, "{{{{ steps.{step}.{} }}}}", field.as_str())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    /// `offset` is the byte offset of the `{{` in the original string, for error locations.
    Ref {
        reference: Reference,
        offset: usize,
    },
}

/// A string value split into parts; a value without `{{` is a single literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub parts: Vec<Part>,
}

/// A syntax error at byte `offset` of the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

const SYNTAX: &str =
    "write {{ params.NAME }} or {{ steps.ID.run_id }} (or .status, .end_time, .run_url)";

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut base = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let offset = base + open;
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    offset,
                    message: format!(
                        "template {:?} is not closed; end it with }}}}",
                        clip(&rest[open..])
                    ),
                });
            };
            let inner = &after[..close];
            let reference = parse_reference(inner.trim())
                .map_err(|message| TemplateError { offset, message })?;
            parts.push(Part::Ref { reference, offset });
            base = offset + 2 + close + 2;
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// The references, in order, with their offsets.
    pub fn references(&self) -> impl Iterator<Item = (&Reference, usize)> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref { reference, offset } => Some((reference, *offset)),
            Part::Literal(_) => None,
        })
    }

    /// The reference when the whole value is one `{{ ... }}` (surrounding spaces count as text):
    /// such a value takes the referenced value's type instead of becoming a string.
    /// The template as it was written (references in `{{ }}`), for messages.
    pub fn source_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(s) => s.clone(),
                Part::Ref { reference, .. } => reference.to_string(),
            })
            .collect()
    }

    pub fn whole_reference(&self) -> Option<&Reference> {
        match self.parts.as_slice() {
            [Part::Ref { reference, .. }] => Some(reference),
            _ => None,
        }
    }

    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// Substitutes each reference with the text `lookup` gives; None from lookup is returned as
    /// the reference that could not be rendered.
    pub fn render<F>(&self, mut lookup: F) -> Result<String, Reference>
    where
        F: FnMut(&Reference) -> Option<String>,
    {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Ref { reference, .. } => match lookup(reference) {
                    Some(v) => out.push_str(&v),
                    None => return Err(reference.clone()),
                },
            }
        }
        Ok(out)
    }
}

fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(30).collect();
    if c.len() < s.len() {
        c.push('…');
    }
    c
}

/// Names usable in a template: parameter names and step ids.
pub(crate) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_reference(inner: &str) -> Result<Reference, String> {
    // Quoted in a message: one line of it at most, cut if long.
    let line = inner.lines().next().unwrap_or("");
    let mut cut: String = line.chars().take(super::diagnostic::QUOTE_MAX).collect();
    if cut.len() < inner.len() {
        cut.push('…');
    }
    let shown = format!("{{{{ {cut} }}}}");
    let segments: Vec<&str> = inner.split('.').map(str::trim).collect();
    match segments.as_slice() {
        ["params", name] if is_name(name) => Ok(Reference::Param((*name).to_string())),
        ["params", ..] => Err(format!(
            "template {shown} is not valid: write {{{{ params.NAME }}}} with the name of a \
             pipeline parameter"
        )),
        ["steps", step, field] if is_name(step) => match StepField::parse(field) {
            Some(field) => Ok(Reference::Step {
                step: (*step).to_string(),
                field,
            }),
            None => {
                let fields = StepField::ALL.map(StepField::as_str);
                let mut m = format!("template {shown} names no output of a step");
                if let Some(hint) = crate::config::did_you_mean(field, fields) {
                    m.push_str(&format!(" ({hint})"));
                }
                m.push_str(&format!("; a step's outputs are {}", fields.join(", ")));
                Err(m)
            }
        },
        ["steps", ..] => Err(format!(
            "template {shown} is not valid: write {{{{ steps.ID.FIELD }}}} where FIELD is \
             run_id, status, end_time or run_url"
        )),
        [""] => Err(format!("template {shown} is empty: {SYNTAX}")),
        _ => Err(format!("template {shown} is not valid: {SYNTAX}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(n: &str) -> Reference {
        Reference::Param(n.into())
    }

    #[test]
    fn plain_text_is_one_literal() {
        let t = Template::parse("hello }} world").unwrap();
        assert!(t.is_literal());
        assert_eq!(t.parts, [Part::Literal("hello }} world".into())]);
        assert!(Template::parse("").unwrap().parts.is_empty());
    }

    #[test]
    fn references_are_split_with_offsets() {
        let t = Template::parse("run {{ params.date }}/{{steps.extract.run_id}}!").unwrap();
        assert_eq!(
            t.parts,
            [
                Part::Literal("run ".into()),
                Part::Ref {
                    reference: param("date"),
                    offset: 4
                },
                Part::Literal("/".into()),
                Part::Ref {
                    reference: Reference::Step {
                        step: "extract".into(),
                        field: StepField::RunId
                    },
                    offset: 22
                },
                Part::Literal("!".into()),
            ]
        );
        assert_eq!(t.whole_reference(), None);
        let whole = Template::parse("{{ params.date }}").unwrap();
        assert_eq!(whole.whole_reference(), Some(&param("date")));
        assert_eq!(whole.references().count(), 1);
    }

    #[test]
    fn syntax_errors_carry_the_offset_and_the_fix() {
        let e = Template::parse("x {{ params.date").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("not closed"), "{}", e.message);
        let e = Template::parse("ab{{ param.date }}").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("{{ params.NAME }}"), "{}", e.message);
        let e = Template::parse("{{ steps.x.runid }}").unwrap_err();
        assert!(
            e.message.contains("did you mean \"run_id\"?"),
            "{}",
            e.message
        );
        let e = Template::parse("{{ steps.x }}").unwrap_err();
        assert!(e.message.contains("steps.ID.FIELD"), "{}", e.message);
        let e = Template::parse("{{  }}").unwrap_err();
        assert!(e.message.contains("empty"), "{}", e.message);
        assert!(Template::parse("{{ params.a b }}").is_err());
    }

    #[test]
    fn rendering_substitutes_or_names_the_missing_reference() {
        let t = Template::parse("d={{ params.date }} r={{ steps.e.status }}").unwrap();
        let out = t.render(|r| match r {
            Reference::Param(_) => Some("2026-01-31".into()),
            Reference::Step { .. } => Some("COMPLETED".into()),
        });
        assert_eq!(out.unwrap(), "d=2026-01-31 r=COMPLETED");
        let missing = t.render(|r| matches!(r, Reference::Param(_)).then(|| "x".into()));
        assert_eq!(missing.unwrap_err().to_string(), "{{ steps.e.status }}");
    }
}
