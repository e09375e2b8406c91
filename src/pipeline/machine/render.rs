//! A step's parameter values at launch: literals as validated, templates rendered from the run's
//! parameters and the outputs of upstream steps' last attempts, then checked against the
//! project's declared type.
//!
//! Pure. Must not decide whether a step may launch; the machine does.

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use super::{Attempt, StepState};
use crate::hex::{ParamKind, ParamSpec};
use crate::pipeline::template::{Reference, StepField, Template};
use crate::pipeline::{Step, StepValue};

/// Every parameter of `step`, or why one cannot be given a value.
pub(super) fn step_params(
    index: &HashMap<String, usize>,
    params: &IndexMap<String, Value>,
    states: &[StepState],
    step: &Step,
) -> Result<IndexMap<String, Value>, String> {
    let lookup = |reference: &Reference| -> Option<Value> {
        match reference {
            Reference::Param(name) => params.get(name).cloned(),
            Reference::Step { step, field } => {
                let attempt = states.get(*index.get(step)?)?.attempts.last()?;
                field_value(attempt, *field)
            }
        }
    };
    let mut out = IndexMap::new();
    for (name, value) in &step.params {
        let rendered = match value {
            StepValue::Literal(v) => v.clone(),
            StepValue::Template { template, kind } => {
                let value = render(template, &lookup).map_err(|r| {
                    format!("parameter {name:?}: {r} has no value (the step it names has none)")
                })?;
                match kind {
                    Some(kind) => coerce(name, *kind, value)?,
                    None => value,
                }
            }
        };
        out.insert(name.clone(), rendered);
    }
    Ok(out)
}

fn render(
    template: &Template,
    lookup: &impl Fn(&Reference) -> Option<Value>,
) -> Result<Value, Reference> {
    if let Some(reference) = template.whole_reference() {
        return lookup(reference).ok_or_else(|| reference.clone());
    }
    template
        .render(|r| lookup(r).map(|v| text(&v)))
        .map(Value::String)
}

/// How a value reads inside text: strings bare, everything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn field_value(attempt: &Attempt, field: StepField) -> Option<Value> {
    match field {
        StepField::RunId => attempt.run_id.clone().map(Value::String),
        StepField::Status => attempt
            .status
            .as_ref()
            .map(|s| Value::String(s.as_str().to_string())),
        StepField::EndTime => attempt
            .end_time
            .or(attempt.ended_at)
            .map(|t| Value::String(t.to_string())),
        StepField::RunUrl => attempt.run_url.clone().map(Value::String),
    }
}

/// A rendered value checked against the declared type; text is parsed as that type.
fn coerce(name: &str, kind: ParamKind, value: Value) -> Result<Value, String> {
    let spec = ParamSpec::new(name, kind);
    let checked = match (&value, kind) {
        (Value::String(s), k) if k != ParamKind::Text => spec.parse_text(s),
        _ => spec.check(&value),
    };
    checked.map_err(|e| format!("parameter {name:?}: {e}"))
}
