//! A validated [`Pipeline`] as a Dagster job (one Python module), built on Hex's Dagster library
//! `dagster-hex`, so a team can run the pipeline on Dagster and still watch and cancel its runs
//! with hexdash. `dagster job execute -f FILE` runs it.
//!
//! Owns the mapping from a pipeline's meaning to Dagster's and the refusal of what the module
//! cannot do the same way. Pure: a `Pipeline` in, the module's text out. Must not resolve
//! projects, read config or write files.
//!
//! What dagster-hex offers (0.1.10, read from its source): `HexResource(api_key, base_url=
//! "https://app.hex.tech", log, request_max_retries=3, request_retry_delay=0.25)`, a plain class,
//! whose `run_and_poll(project_id, inputs, notifications=[], update_cache=False,
//! use_cached_sql=True, kill_on_timeout=True, poll_interval=3, poll_timeout=3600)` launches on
//! the legacy `POST /api/v1/project/{id}/run`, polls until the run ends, raises `Failure` for
//! any end but COMPLETED (KILLED as "an unexpected status"), cancels on timeout when asked, and
//! returns `HexOutput(run_response, status_response)`. Its endpoints are joined to `base_url`
//! with `urljoin`, so `base_url` must be the host's root, without `/api/v1`. Three habits need
//! working around, in the module's `_HexRuns` subclass: it re-sends a failed launch (HEX_API.md:
//! "can double-launch"), it sends a cancel again after Hex's empty 204 answer, and
//! `run_and_poll` drops `update_published_results`.
//!
//! | pipeline | Dagster |
//! |---|---|
//! | `name`, `description` | the `@job`'s name (a Python name: `daily-etl` → `daily_etl`) and description; tag `hexdash/pipeline` |
//! | `max_parallel` | `multiprocess_executor` with `max_concurrent` |
//! | `[[params]]` | a `Config` class `Params`, the job's run config through a `config_mapping` that hands it to every op that reads it: text → `str`, number → `float` (sent as an int when whole), date → `str` (checked, sent as YYYY-MM-DD), checkbox → `bool`, dropdown → `Literal[...]`, multiselect → `List[str]` (checked against the options); a default as the field's default, none → a required field |
//! | default `today` / `yesterday` | an `Optional[str]` field; empty, the op takes the local date the Dagster run was created (minus a day), the same for every op and retry of the run |
//! | a step | an `@op` (name: the step id as a Python name; tag `hexdash/step`) calling `Hex.run`, which is `HexResource.run_and_poll` |
//! | `depends_on` | an `In(Nothing)` input per upstream step, or `In(dict)` when the step uses its outputs |
//! | `timeout`, `kill_on_timeout` | `poll_timeout` (seconds, `None` without one), `kill_on_timeout` |
//! | `retries`, `retry_backoff` | `RetryPolicy(max_retries, delay)`: a fixed wait, as hexdash's |
//! | (hexdash's poll budget) | `poll_interval` = `POLL_SECONDS`, [`super::export::poll_seconds`] |
//! | literal `params` | `inputs`, as Python literals |
//! | `{{ params.X }}` | `config.X` (typed), inside text as hexdash writes it (`_text`: JSON for what is not a string) |
//! | `{{ steps.ID.run_id / status / end_time / run_url }}` | the upstream op's output `ID["runId" / "status" / "endTime" / "runUrl"]` (`[:10]` of `endTime` for a date) |
//! | `on_failure = "continue"` | the op turns its last failure (after its retries, which it requests itself) into an output marked failed, so the ops after it run; a final op `pipeline_failed` then fails the Dagster run |
//! | `update_published_results`, `use_cached_sql_results` | sent as set (dagster-hex sends Hex's defaults otherwise) |
//!
//! Refused, every problem at once ([`Problem`]): a project known only by title (the op needs an
//! id), a parameter name that cannot be a field of the run config, a step output of an
//! `on_failure = "continue"` step (a failed step has no run outputs), and text around a
//! template where the project's parameter is a number, checkbox or multiselect (hexdash reads
//! such text back as that type; the module would send text).

mod job;
mod names;

use super::model::{Pipeline, ProjectRef, StepValue};
use super::template::Reference;
use crate::hex::ParamKind;

pub use super::export::Export;

/// The releases `scripts/check-exports` runs the exported jobs on, named in their headers. The
/// script pins the same (a test holds them together).
pub const CHECKED_DAGSTER: &str = "1.13.29";
pub const CHECKED_DAGSTER_HEX: &str = "0.1.10";

/// Why a pipeline cannot be exported: every problem found.
pub type Error = super::export::Refused<Problem>;

/// One reason the module would not run the pipeline the way hexdash does; each says the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error(
        "step {step:?}: project {title:?} is not known by id, and the op needs one (name the \
         project by id or by an alias from config.toml, or export without --offline with a \
         token so hexdash can look the title up)"
    )]
    ProjectTitle { step: String, title: String },
    #[error(
        "parameter {name:?} cannot be a field of Dagster's run config ({why}; rename it, e.g. \
         {suggested:?}, in the pipeline and in the steps that use it)"
    )]
    ParamName {
        name: String,
        why: &'static str,
        suggested: String,
    },
    #[error(
        "step {step:?}: {param} uses {reference} but {upstream:?} has on_failure = \
         \"continue\": when it fails, Dagster runs {step:?} without its outputs (set \
         on_failure = \"stop\" on {upstream:?}, or do not use its outputs)"
    )]
    ContinuedOutput {
        step: String,
        param: String,
        reference: String,
        upstream: String,
    },
    #[error(
        "step {step:?}: {param} = {value:?} puts text around a template, which hexdash reads \
         back as the project's {kind} parameter; the Dagster export would send the text (write \
         the value as one {{{{ ... }}}}, or give a literal)"
    )]
    TextAsKind {
        step: String,
        param: String,
        value: String,
        kind: ParamKind,
    },
}

/// Writes the module, or says every reason it would not run the pipeline as hexdash does.
pub fn export(pipeline: &Pipeline) -> Result<Export, Error> {
    let problems = check(pipeline);
    if !problems.is_empty() {
        return Err(Error { problems });
    }
    Ok(job::write(pipeline))
}

fn check(pipeline: &Pipeline) -> Vec<Problem> {
    let mut problems = Vec::new();
    for param in &pipeline.params {
        if let Some(why) = names::field_problem(&param.name) {
            problems.push(Problem::ParamName {
                name: param.name.clone(),
                why,
                suggested: names::suggest_field(&param.name),
            });
        }
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
            let StepValue::Template { template, kind } = value else {
                continue;
            };
            let whole = template.whole_reference().is_some();
            if let Some(kind @ (ParamKind::Number | ParamKind::Checkbox | ParamKind::Multiselect)) =
                kind
                && !whole
            {
                problems.push(Problem::TextAsKind {
                    step: step.id.clone(),
                    param: param.clone(),
                    value: template.source_text(),
                    kind: *kind,
                });
            }
            for (reference, _) in template.references() {
                if let Reference::Step { step: upstream, .. } = reference
                    && continued.contains(upstream.as_str())
                {
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
    problems
}

#[cfg(test)]
mod tests;
