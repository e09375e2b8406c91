//! Step parameter values: literals checked against the project's declared types, templates
//! checked for what they reference (defined parameters, upstream steps) and, when a template is
//! the whole value, for the type it brings. Part of [`super`]; reports through its `Checker`.

use std::ops::Range;

use indexmap::IndexMap;
use serde_json::Value;
use toml::Spanned;

use super::Checker;
use super::graph::Upstream;
use crate::hex::{ParamKind, ParamSpec};
use crate::pipeline::diagnostic::{Quoted, list, suggest};
use crate::pipeline::model::{PipelineParam, StepValue};
use crate::pipeline::template::{Reference, StepField, Template};

pub(super) struct ValueContext<'a> {
    pub step: &'a str,
    /// This step's index and what answers which steps it waits for.
    pub upstream: (usize, &'a Upstream<'a>),
    pub params: &'a [PipelineParam],
    pub ids: &'a IndexMap<String, usize>,
}

impl Checker<'_> {
    /// Checks one step parameter value: its templates' references, and its type against the
    /// project's declaration when there is one.
    pub(super) fn value(
        &mut self,
        ctx: &ValueContext<'_>,
        name: &str,
        value: &Spanned<toml::Value>,
        spec: Option<&ParamSpec>,
    ) -> Option<StepValue> {
        let span = value.span();
        let text = match value.get_ref() {
            toml::Value::String(t) => t,
            other => {
                let json = to_json(other);
                return match spec {
                    None => Some(StepValue::Literal(json)),
                    Some(spec) => match spec.check(&json) {
                        Ok(v) => Some(StepValue::Literal(v)),
                        Err(e) => {
                            self.error(
                                span,
                                format!("step {:?}: {e}", Quoted(ctx.step)),
                                format!("give a {}", kind_example(spec.kind)),
                            );
                            None
                        }
                    },
                };
            }
        };
        let template = match Template::parse(text) {
            Ok(t) => t,
            Err(e) => {
                let at = self.src.offset_in_string(&span, text, e.offset);
                self.error(
                    at..at,
                    format!("step {:?}: {}", Quoted(ctx.step), e.message),
                    "",
                );
                return None;
            }
        };
        if template.is_literal() {
            let Some(spec) = spec else {
                return Some(StepValue::Literal(Value::String(text.clone())));
            };
            let checked = spec
                .check(&Value::String(text.clone()))
                .or_else(|first| spec.parse_text(text).map_err(|_| first));
            return match checked {
                Ok(v) => Some(StepValue::Literal(v)),
                Err(e) => {
                    self.error(
                        span,
                        format!("step {:?}: {e}", Quoted(ctx.step)),
                        format!("give a {}", kind_example(spec.kind)),
                    );
                    None
                }
            };
        }
        let mut ok = true;
        for (reference, offset) in template.references() {
            let at = self.src.offset_in_string(&span, text, offset);
            ok &= self.reference(ctx, reference, at..at);
        }
        if let (true, Some(spec), Some(reference)) = (ok, spec, template.whole_reference()) {
            let at = self.src.offset_in_string(&span, text, 0);
            ok &= self.fits(ctx, name, reference, spec, at..at);
        }
        ok.then(|| StepValue::Template {
            template,
            kind: spec.map(|s| s.kind),
        })
    }

    fn reference(
        &mut self,
        ctx: &ValueContext<'_>,
        reference: &Reference,
        at: Range<usize>,
    ) -> bool {
        match reference {
            Reference::Param(p) => {
                self.used.insert(p.clone());
                if ctx.params.iter().any(|q| &q.name == p) {
                    return true;
                }
                let hint = suggest(p, ctx.params.iter().map(|q| q.name.as_str()))
                    .map(|h| format!("{h} or "))
                    .unwrap_or_default();
                self.error(
                    at,
                    format!(
                        "step {:?}: {reference} names no pipeline parameter",
                        Quoted(ctx.step)
                    ),
                    format!(
                        "{hint}declare it in a [[params]] table with name = {:?} and its type",
                        Quoted(p)
                    ),
                );
                false
            }
            Reference::Step { step, .. } => {
                if step == ctx.step {
                    self.error(
                        at,
                        format!(
                            "step {:?}: {reference} uses the step's own output",
                            Quoted(ctx.step)
                        ),
                        "a step can only use outputs of steps that run before it",
                    );
                    return false;
                }
                let Some(&index) = ctx.ids.get(step) else {
                    let hint = suggest(step, ctx.ids.keys().map(String::as_str))
                        .map(|h| format!("{h} "))
                        .unwrap_or_default();
                    self.error(
                        at,
                        format!("step {:?}: {reference} names no step", Quoted(ctx.step)),
                        format!("{hint}steps: {}", list(ctx.ids.keys().map(String::as_str))),
                    );
                    return false;
                };
                let (this, upstream) = ctx.upstream;
                if upstream.contains(this, index) {
                    return true;
                }
                self.error(
                    at,
                    format!(
                        "step {:?}: {reference} uses step {:?}, which does not run before it",
                        Quoted(ctx.step),
                        Quoted(step)
                    ),
                    format!(
                        "add {:?} to the depends_on of {:?}",
                        Quoted(step),
                        Quoted(ctx.step)
                    ),
                );
                false
            }
        }
    }

    /// Whether a whole-value reference fits the declared parameter's type.
    fn fits(
        &mut self,
        ctx: &ValueContext<'_>,
        name: &str,
        reference: &Reference,
        spec: &ParamSpec,
        at: Range<usize>,
    ) -> bool {
        let (source, what) = match reference {
            Reference::Param(p) => match ctx.params.iter().find(|q| &q.name == p) {
                Some(q) => (
                    q.kind,
                    format!("pipeline parameter {:?} is a {}", Quoted(p), q.kind),
                ),
                None => return false,
            },
            Reference::Step { field, .. } => {
                let kind = if *field == StepField::EndTime {
                    // A timestamp: a date parameter takes its date part.
                    ParamKind::Date
                } else {
                    ParamKind::Text
                };
                (kind, format!("{reference} is a {kind}"))
            }
        };
        let target = spec.kind;
        let fits = source == target
            || (target == ParamKind::Text
                && matches!(source, ParamKind::Date | ParamKind::Dropdown));
        if !fits {
            self.error(
                at,
                format!(
                    "step {:?}: {name} is a {target} parameter but {reference} is not: {what}",
                    Quoted(ctx.step)
                ),
                match reference {
                    Reference::Param(p) => format!(
                        "declare {:?} with type = \"{target}\", or pass a {} instead",
                        Quoted(p),
                        kind_example(target)
                    ),
                    Reference::Step { .. } => format!("pass a {}", kind_example(target)),
                },
            );
            return false;
        }
        // A dropdown fed by a dropdown: every option it can pass must be accepted.
        if let Reference::Param(p) = reference
            && target.has_options()
            && !spec.options.is_empty()
            && let Some(q) = ctx.params.iter().find(|q| &q.name == p)
        {
            let missing: Vec<&str> = q
                .options
                .iter()
                .filter(|o| !spec.options.contains(o))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                self.error(
                    at,
                    format!(
                        "step {:?}: pipeline parameter {:?} allows {} that {name} does not accept",
                        Quoted(ctx.step),
                        Quoted(p),
                        missing.join(", ")
                    ),
                    format!("limit its options to {}", spec.options.join(", ")),
                );
                return false;
            }
        }
        true
    }
}

pub(super) fn kind_example(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Text => "text value, e.g. \"weekly\"",
        ParamKind::Number => "number, e.g. 7",
        ParamKind::Date => "date as YYYY-MM-DD, e.g. \"2026-01-31\"",
        ParamKind::Checkbox => "checkbox value: true or false",
        ParamKind::Dropdown => "string that is one of its options",
        ParamKind::Multiselect => "list of its options, e.g. [\"a\", \"b\"]",
    }
}

/// TOML to the JSON Hex takes; a TOML date becomes its text.
pub(super) fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(n) => Value::from(*n),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}
