//! A validated [`Pipeline`] as an Airflow DAG (Python) that runs each step with
//! `HexRunProjectOperator` from Hex's Airflow provider (`pip install airflow-provider-hex`), so a
//! team can schedule the pipeline on Airflow and still watch and cancel its runs with hexdash.
//!
//! Owns the mapping from a pipeline's meaning to Airflow's, the refusal of what Airflow cannot
//! do the same way, and the comments in the generated file where the two differ. Pure: a
//! `Pipeline` in, the file's text out. Must not resolve projects, read config or write files.
//!
//! What the provider offers (0.1.9, the current release, read from its source):
//! `HexRunProjectOperator(project_id, hex_conn_id="hex_default", synchronous=True,
//! wait_seconds=3, timeout=3600, kill_on_timeout=True, input_parameters=None,
//! update_cache=False, notifications=[])`, with `template_fields = ["project_id",
//! "input_parameters"]`: Airflow renders every string inside the inputs with Jinja, to text
//! (numbers and booleans pass through untouched). In synchronous mode the operator polls until
//! the run ends and returns Hex's run status object (`runId`, `status`, `runUrl`, `endTime`, ...),
//! which Airflow pushes to XCom; it does so only for a COMPLETED run, any other end raises. A
//! `timeout` of `None` means no timeout (it tests `if poll_timeout and ...`). The request it sends
//! carries only Hex's deprecated `updateCache` flag, never `updatePublishedResults` or
//! `useCachedSqlResults` (HEX_API.md, RunProject body).
//!
//! | pipeline | Airflow |
//! |---|---|
//! | `name`, `description` | `dag_id`, `description`; `schedule=None`, `catchup=False`, a fixed past `start_date` |
//! | `max_parallel` | `max_active_tasks`, with `max_active_runs=1` (Airflow counts tasks across all active runs) |
//! | `[[params]]` | DAG `params` of `Param`s: text → string, number → number, date → string/date, checkbox → boolean, dropdown → string/enum, multiselect → array of enum |
//! | default `today` / `yesterday` | an empty `Param`; steps use `params['x'] or ds` / `or macros.ds_add(ds, -1)` (the run's logical date) |
//! | a step | a `HexRunProjectOperator`, `task_id` = step id, `project_id` = the resolved id |
//! | `depends_on` | `>>` |
//! | `timeout`, `kill_on_timeout` | `timeout` (seconds, `None` without one), `kill_on_timeout` |
//! | `retries`, `retry_backoff` | `retries` (always written: Airflow's default is a config setting), `retry_delay` |
//! | (hexdash's poll budget) | `wait_seconds` = 2 s × the steps that can run at once, at least the provider's 3 s: under 30 of Hex's 60 requests a minute, as the provider fails a task on a 429 |
//! | literal `params` | `input_parameters`, as Python literals (strings escaped for Jinja too) |
//! | `{{ params.X }}` | `{{ params['X'] }}` |
//! | `{{ steps.ID.run_id / status / end_time / run_url }}` | `{{ ti.xcom_pull(task_ids='ID')['runId' / 'status' / 'endTime' / 'runUrl'] }}` (`[:10]` of `endTime` for a date) |
//! | `on_failure = "continue"` | an `all_done` bridge task `ID.done` that downstream steps wait for instead, plus the failure-propagating upstreams of the step; a `one_failed` task `pipeline.failed` fails the DAG run at the end |
//! | `update_published_results = true` with `use_cached_sql_results = false`, no inputs | `update_cache=True` (Hex's deprecated flag means both) |
//!
//! Refused, every problem at once ([`Problem`]): a project known only by title (the operator
//! needs an id), a name that is no DAG id, a number, checkbox or multiselect pipeline parameter
//! where Airflow's text rendering would change its value, and a step output of an
//! `on_failure = "continue"` step (a failed run pushes no XCom). Not expressible, so written as a
//! comment and returned as a note: either cache flag alone, or both with inputs (Hex refuses
//! `updateCache` with input parameters). Said in the file's comments: `today`/`yesterday` follow
//! the run's logical date in UTC rather than the local date, and the operator has no `on_kill`,
//! so a task Airflow kills leaves its Hex run going (hexdash can cancel it).

mod dag;
mod plan;

use std::collections::HashSet;

use super::model::{OnFailure, ParamDefault, Pipeline, ProjectRef, StepValue};
use super::template::Reference;
use crate::hex::ParamKind;

pub use super::export::Export;

/// Why a pipeline cannot be exported: every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", lines(problems))]
pub struct Error {
    pub problems: Vec<Problem>,
}

fn lines(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One reason the export would not run the pipeline the way hexdash does; each says the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "pipeline name {name:?} cannot be an Airflow DAG id (use at most 250 letters, digits, \
         _, - and ., e.g. name = \"daily-etl\")"
    )]
    DagId { name: String },
    #[error(
        "step {step:?}: project {title:?} is not known by id, and the operator needs one (name \
         the project by id or by an alias from config.toml, or export without --offline with a \
         token so hexdash can look the title up)"
    )]
    ProjectTitle { step: String, title: String },
    #[error(
        "step {step:?}: {param} = {reference:?} cannot be exported: Airflow renders templated \
         inputs as text, so the {kind} pipeline parameter {name:?} would reach Hex as {shown} \
         (give the step a literal value instead)"
    )]
    RenderedAsText {
        step: String,
        param: String,
        reference: String,
        name: String,
        kind: ParamKind,
        shown: &'static str,
    },
    #[error(
        "step {step:?}: {param} uses {reference} but {upstream:?} has on_failure = \
         \"continue\": when it fails, Airflow runs {step:?} without its outputs (the operator \
         pushes them to XCom only for a COMPLETED run) (set on_failure = \"stop\" on \
         {upstream:?}, or do not use its outputs)"
    )]
    ContinuedOutput {
        step: String,
        param: String,
        reference: String,
        upstream: String,
    },
}

/// Writes the DAG, or says every reason it would not run the pipeline as hexdash does.
pub fn export(pipeline: &Pipeline) -> Result<Export, Error> {
    let problems = check(pipeline);
    if !problems.is_empty() {
        return Err(Error { problems });
    }
    Ok(dag::write(pipeline))
}

fn check(pipeline: &Pipeline) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !is_dag_id(&pipeline.name) {
        problems.push(Problem::DagId {
            name: pipeline.name.clone(),
        });
    }
    let continued: HashSet<&str> = pipeline
        .steps
        .iter()
        .filter(|s| s.on_failure == OnFailure::Continue)
        .map(|s| s.id.as_str())
        .collect();
    for step in &pipeline.steps {
        if let ProjectRef::Title(title) = &step.project {
            problems.push(Problem::ProjectTitle {
                step: step.id.clone(),
                title: title.clone(),
            });
        }
        for (param, value) in &step.params {
            let StepValue::Template { template, .. } = value else {
                continue;
            };
            let whole = template.whole_reference().is_some();
            for (reference, _) in template.references() {
                match reference {
                    Reference::Param(name) => {
                        let Some(p) = pipeline.param(name) else {
                            continue;
                        };
                        if let Some(shown) = changed_by_text(p.kind, whole) {
                            problems.push(Problem::RenderedAsText {
                                step: step.id.clone(),
                                param: param.clone(),
                                reference: source_text(template),
                                name: name.clone(),
                                kind: p.kind,
                                shown,
                            });
                        }
                    }
                    Reference::Step { step: upstream, .. } => {
                        if continued.contains(upstream.as_str()) {
                            problems.push(Problem::ContinuedOutput {
                                step: step.id.clone(),
                                param: param.clone(),
                                reference: reference.to_string(),
                                upstream: upstream.clone(),
                            });
                        }
                    }
                }
            }
        }
    }
    problems
}

/// How Airflow's text rendering would show a parameter of `kind`, when that differs from what
/// hexdash passes: the value itself for a whole-value reference, its JSON text inside a string.
fn changed_by_text(kind: ParamKind, whole: bool) -> Option<&'static str> {
    match kind {
        ParamKind::Text | ParamKind::Date | ParamKind::Dropdown => None,
        // str() of a Python number is its JSON text, so only a whole value changes.
        ParamKind::Number => whole.then_some("the text \"7\" instead of the number 7"),
        ParamKind::Checkbox => Some("\"True\" instead of true"),
        ParamKind::Multiselect => Some("\"['a', 'b']\" instead of a list"),
    }
}

/// The template as it was written, for messages.
fn source_text(template: &super::template::Template) -> String {
    use super::template::Part;
    template
        .parts
        .iter()
        .map(|p| match p {
            Part::Literal(s) => s.clone(),
            Part::Ref { reference, .. } => reference.to_string(),
        })
        .collect()
}

/// Airflow's rule for DAG and task ids: `^[\w.-]+$`, at most 250 characters.
fn is_dag_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 250
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The default of a pipeline parameter as Airflow can hold it, and the Jinja that reads the
/// parameter in a step.
fn param_expr(name: &str, default: Option<&ParamDefault>) -> String {
    // Subscript, not `params.name`: Jinja's dot looks up attributes first, and a parameter
    // named `items` or `values` would find the dict's method.
    let read = format!("params[{}]", jinja_string(name));
    match default {
        Some(ParamDefault::Today) => format!("{read} or ds"),
        Some(ParamDefault::Yesterday) => format!("{read} or macros.ds_add(ds, -1)"),
        _ => read,
    }
}

/// A single-quoted Jinja string literal. Names are `[A-Za-z0-9_-]` (template::is_name), so
/// nothing needs escaping; the quotes keep them apart from the Python string around them.
fn jinja_string(s: &str) -> String {
    format!("'{s}'")
}

#[cfg(test)]
mod tests;
