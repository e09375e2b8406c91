//! Names in the generated module: the job's, each op's (also its Python function and the name
//! of its output as an input downstream), the variables of the job's body, and which pipeline
//! parameter names can be fields of the run config. Part of [`super`].
//!
//! Dagster names are `[A-Za-z0-9_]+` and not one of its reserved words
//! (`dagster._core.definitions.utils.DISALLOWED_NAMES`: Python keywords and a few more), so a
//! step id `load-warehouse` becomes the op `load_warehouse`; the step id stays in the op's tags.

use crate::pipeline::export::python;
use crate::pipeline::model::Pipeline;

/// Dagster's reserved names besides Python's keywords (1.13, `DISALLOWED_NAMES`).
const DAGSTER_RESERVED: [&str; 15] = [
    "context",
    "conf",
    "config",
    "meta",
    "arg_dict",
    "dict",
    "input_arg_dict",
    "output_arg_dict",
    "int",
    "str",
    "float",
    "bool",
    "input",
    "output",
    "type",
];

/// What the module defines or imports itself, and the parameters of every op.
const MODULE: [&str; 42] = [
    "datetime",
    "json",
    "requests",
    "List",
    "Literal",
    "Optional",
    "Config",
    "ConfigurableResource",
    "DagsterExecutionInterruptedError",
    "EnvVar",
    "Failure",
    "In",
    "Nothing",
    "OpExecutionContext",
    "RetryPolicy",
    "RetryRequested",
    "RunConfig",
    "config_mapping",
    "job",
    "multiprocess_executor",
    "op",
    "HexResource",
    "Field",
    "POLL_SECONDS",
    "Params",
    "params",
    "Hex",
    "hex",
    "_HexRuns",
    "_base_url",
    "_run_day",
    "_date",
    "_number",
    "_text",
    "_choices",
    "_fail_if_any",
    "pipeline_failed",
    "context",
    "config",
    "self",
    "print",
    "range",
];

/// Attributes of Dagster's `Config` (a pydantic model) that a field would shadow.
const CONFIG_ATTRIBUTES: [&str; 14] = [
    "construct",
    "copy",
    "dict",
    "from_orm",
    "json",
    "parse_file",
    "parse_obj",
    "parse_raw",
    "schema",
    "schema_json",
    "to_config_schema",
    "to_fields_dict",
    "update_forward_refs",
    "validate",
];

/// Why a pipeline parameter's name cannot be a field of the run config, if it cannot.
pub(super) fn field_problem(name: &str) -> Option<&'static str> {
    if name.contains('-') {
        Some("a - cannot be in a Python name")
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        Some("a Python name cannot start with a digit")
    } else if name.starts_with('_') || name.starts_with("model_") {
        Some("pydantic keeps names starting with _ or model_ for itself")
    } else if python::KEYWORDS.contains(&name)
        || DAGSTER_RESERVED.contains(&name)
        || CONFIG_ATTRIBUTES.contains(&name)
    {
        Some("it is a word Python, Dagster or pydantic keeps for itself")
    } else {
        None
    }
}

/// A name that passes [`field_problem`], for the message.
pub(super) fn suggest_field(name: &str) -> String {
    let mut s = name.replace('-', "_").trim_start_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) || s.starts_with("model_") {
        s.insert_str(0, "p_");
    }
    if field_problem(&s).is_some() {
        s.push_str("_value");
    }
    s
}

/// Every name of the generated module that comes from the pipeline.
pub(super) struct Names {
    pub job: String,
    /// Per step: its op (Dagster name, Python function and input name downstream).
    pub ops: Vec<String>,
    /// Per step: the variable holding its output in the job's body.
    pub outputs: Vec<String>,
}

impl Names {
    pub fn new(p: &Pipeline) -> Names {
        let mut names =
            python::UniqueNames::new(MODULE.iter().chain(DAGSTER_RESERVED.iter()).copied());
        let mut unique = |base: String| names.unique(base);
        let job = unique(python::identifier(&p.name));
        let ops: Vec<String> = p
            .steps
            .iter()
            .map(|s| unique(python::identifier(&s.id)))
            .collect();
        let outputs = ops.iter().map(|op| unique(format!("{op}_run"))).collect();
        Names { job, ops, outputs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_that_cannot_be_fields_are_told_why() {
        assert_eq!(field_problem("date"), None);
        assert_eq!(field_problem("run_date"), None);
        assert!(field_problem("run-date").is_some_and(|w| w.contains('-')));
        assert!(field_problem("2nd").is_some());
        assert!(field_problem("_x").is_some());
        assert!(field_problem("model_name").is_some());
        for reserved in ["config", "type", "json", "class", "validate"] {
            assert!(field_problem(reserved).is_some(), "{reserved}");
        }
        assert_eq!(suggest_field("run-date"), "run_date");
        assert_eq!(suggest_field("2nd"), "p_2nd");
        assert_eq!(suggest_field("type"), "type_value");
        assert_eq!(field_problem(&suggest_field("model_x")), None);
    }
}
