//! A validated [`Pipeline`] as an Airflow DAG (Python), so a team can schedule the pipeline on
//! Airflow and still watch and cancel its runs with hexdash. Two flavours ([`Version`]):
//!
//! - **Airflow 3** (the default): each step is a `HexRunOperator` written into the file
//!   (`hex_operator.py` beside this module, standard library only). Hex's provider cannot be
//!   used there: its 0.1.9, the last release (2023), imports `airflow.models.dag.Context`, which
//!   Airflow 3 removed. The operator reads the provider's connection (`hex_default`: host = the
//!   Hex URL, password = the token), launches on the plural endpoints with every run option,
//!   polls every `POLL_SECONDS`, waits out a 429's `Retry-After`, honours `timeout` and
//!   `kill_on_timeout` (cancelling until the run is dead), cancels its run in `on_kill`, and
//!   fails the task with Hex's error.
//! - **Airflow 2** (`--airflow-version 2`): each step is a `HexRunProjectOperator` of Hex's
//!   provider (`pip install airflow-provider-hex`).
//!
//! Owns the mapping from a pipeline's meaning to Airflow's, the refusal of what Airflow cannot
//! do the same way, and the comments in the generated file where the two differ. Pure: a
//! `Pipeline` in, the file's text out. Must not resolve projects, read config or write files.
//!
//! What the provider offers (0.1.9, read from its source):
//! `HexRunProjectOperator(project_id, hex_conn_id="hex_default", synchronous=True,
//! wait_seconds=3, timeout=3600, kill_on_timeout=True, input_parameters=None,
//! update_cache=False, notifications=[])`, with `template_fields = ["project_id",
//! "input_parameters"]`: Airflow renders every string inside the inputs with Jinja, to text
//! (numbers and booleans pass through untouched). In synchronous mode the operator polls until
//! the run ends and returns Hex's run status object (`runId`, `status`, `runUrl`, `endTime`, ...),
//! which Airflow pushes to XCom; it does so only for a COMPLETED run, any other end raises. A
//! `timeout` of `None` means no timeout (it tests `if poll_timeout and ...`). The request it sends
//! carries only Hex's deprecated `updateCache` flag, never `updatePublishedResults` or
//! `useCachedSqlResults` (HEX_API.md, RunProject body). Its hook takes the connection's host as
//! the URL's root (no scheme: `https://`), so there the host must not end in `/api/v1`. The
//! operator of Airflow 3 keeps the same template fields and XCom, so the mapping below holds for
//! both, except where marked.
//!
//! | pipeline | Airflow |
//! |---|---|
//! | `name`, `description` | `dag_id`, `description`; `schedule=None`, `catchup=False`, a fixed past `start_date` |
//! | `max_parallel` | `max_active_tasks`, with `max_active_runs=1` (Airflow counts tasks across all active runs) |
//! | `[[params]]` | DAG `params` of `Param`s: text → string, number → number, date → string/date, checkbox → boolean, dropdown → string/enum, multiselect → array of enum |
//! | default `today` / `yesterday` | an empty `Param`; steps use `params['x'] or ds` / `or macros.ds_add(ds, -1)` (the run's logical date); on Airflow 3, where a run may have no logical date, `(dag_run.logical_date or dag_run.run_after) \| ds` instead of `ds` |
//! | a step | a `HexRunOperator` (3) or `HexRunProjectOperator` (2), `task_id` = step id, `project_id` = the resolved id |
//! | `depends_on` | `>>` |
//! | `timeout`, `kill_on_timeout` | `timeout` (seconds, `None` without one), `kill_on_timeout` |
//! | `retries`, `retry_backoff` | `retries` (always written: Airflow's default is a config setting), `retry_delay` (a fixed wait, as hexdash's) |
//! | (hexdash's poll budget) | `poll_seconds` (3) / `wait_seconds` (2) = `POLL_SECONDS`, [`super::export::poll_seconds`] |
//! | literal `params` | `input_parameters`, as Python literals (strings escaped for Jinja too) |
//! | `{{ params.X }}` | `{{ params['X'] }}` |
//! | `{{ steps.ID.run_id / status / end_time / run_url }}` | `{{ ti.xcom_pull(task_ids='ID')['runId' / 'status' / 'endTime' / 'runUrl'] }}` (`[:10]` of `endTime` for a date) |
//! | `on_failure = "continue"` | an `all_done` bridge task `ID.done` that downstream steps wait for instead, plus the failure-propagating upstreams of the step; a `one_failed` task `pipeline.failed` fails the DAG run at the end |
//! | `update_published_results`, `use_cached_sql_results` | (3) the operator's arguments of the same names; (2) `update_cache=True` when both are set (true, false) and there are no inputs (Hex's deprecated flag means both) |
//!
//! Refused, every problem at once ([`Problem`]): a project known only by title (the operator
//! needs an id), a name that is no DAG id, a number, checkbox or multiselect pipeline parameter
//! where Airflow's text rendering would change its value, and a step output of an
//! `on_failure = "continue"` step (a failed run pushes no XCom). Not expressible on Airflow 2, so
//! written as a comment and returned as a note: either cache flag alone, or both with inputs
//! (Hex refuses `updateCache` with input parameters). Said in the file's comments:
//! `today`/`yesterday` follow the run's logical date in UTC rather than the local date, and on
//! Airflow 2 a task Airflow kills leaves its Hex run going (the provider has no `on_kill`;
//! hexdash can cancel it).

mod dag;
mod plan;

use super::model::{ParamDefault, Pipeline, ProjectRef, StepValue};
use super::template::Reference;
use crate::hex::ParamKind;

pub use super::export::Export;

/// The Airflow a DAG is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// Airflow 2, with Hex's provider.
    Two,
    /// Airflow 3, with the operator written into the file.
    #[default]
    Three,
}

/// The releases `scripts/check-exports` runs the exported DAGs on, named in their headers. The
/// script pins the same (a test holds them together); change both when moving to newer ones.
pub const CHECKED_AIRFLOW_2: &str = "2.11.2";
pub const CHECKED_PROVIDER: &str = "0.1.9";
pub const CHECKED_AIRFLOW_3: &str = "3.3.2";

/// Why a pipeline cannot be exported: every problem found.
pub type Error = super::export::Refused<Problem>;

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
pub fn export(pipeline: &Pipeline, version: Version) -> Result<Export, Error> {
    let problems = check(pipeline);
    if !problems.is_empty() {
        return Err(Error { problems });
    }
    Ok(dag::write(pipeline, version))
}

fn check(pipeline: &Pipeline) -> Vec<Problem> {
    let mut problems = Vec::new();
    if !is_dag_id(&pipeline.name) {
        problems.push(Problem::DagId {
            name: pipeline.name.clone(),
        });
    }
    let continued = super::export::continued_steps(pipeline);
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
                                reference: template.source_text(),
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

/// Airflow's rule for DAG and task ids: `^[\w.-]+$`, at most 250 characters.
fn is_dag_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= 250
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The Jinja that reads a pipeline parameter in a step, with the date a `today` or `yesterday`
/// default stands for when the run gives none.
fn param_expr(name: &str, default: Option<&ParamDefault>, version: Version) -> String {
    // Subscript, not `params.name`: Jinja's dot looks up attributes first, and a parameter
    // named `items` or `values` would find the dict's method.
    let read = format!("params[{}]", jinja_string(name));
    match default {
        Some(ParamDefault::Today) => format!("{read} or {}", run_day(version)),
        Some(ParamDefault::Yesterday) => {
            format!("{read} or macros.ds_add({}, -1)", run_day(version))
        }
        _ => read,
    }
}

/// The run's date as Jinja: its logical date. Airflow 3 leaves that out of a run triggered
/// without one (and `ds` with it: the template would fail), so there it falls back to when the
/// run was triggered; Airflow's `ds` filter formats either as YYYY-MM-DD (UTC).
fn run_day(version: Version) -> &'static str {
    match version {
        Version::Two => "ds",
        Version::Three => "(dag_run.logical_date or dag_run.run_after) | ds",
    }
}

/// A single-quoted Jinja string literal. Names are `[A-Za-z0-9_-]` (template::is_name), so
/// nothing needs escaping; the quotes keep them apart from the Python string around them.
fn jinja_string(s: &str) -> String {
    format!("'{s}'")
}

#[cfg(test)]
mod tests;
