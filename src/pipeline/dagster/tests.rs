use super::*;
use crate::pipeline::export::test_kit::{A, pipeline};

fn module(text: &str) -> String {
    export(&pipeline(text))
        .unwrap_or_else(|e| panic!("export failed: {e}"))
        .text
}

fn problems(text: &str) -> Vec<String> {
    export(&pipeline(text))
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The lines of the job's body, without indentation.
fn job_body(text: &str) -> Vec<&str> {
    let start = text
        .lines()
        .position(|l| l.starts_with("def ") && l.ends_with("():"))
        .unwrap();
    text.lines()
        .skip(start + 1)
        .take_while(|l| l.starts_with("    "))
        .map(str::trim)
        .collect()
}

#[test]
fn dependencies_become_inputs_and_the_job_wires_them() {
    let t = module(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = {A:?}
[[steps]]
id = "b"
project = {A:?}
depends_on = ["a"]
[[steps]]
id = "c"
project = {A:?}
depends_on = ["a"]
[[steps]]
id = "d"
project = {A:?}
depends_on = ["b", "c"]
params = {{ note = "after {{{{ steps.a.run_id }}}}" }}
"#
    ));
    assert_eq!(
        job_body(&t),
        [
            "a_run = a()",
            "b_run = b(a=a_run)",
            "c_run = c(a=a_run)",
            "d(b=b_run, c=c_run, a=a_run)",
        ]
    );
    // d uses a's outputs, though a is further up: a data input beside the two orderings.
    assert!(
        t.contains("    ins={\"b\": In(Nothing), \"c\": In(Nothing), \"a\": In(dict)},\n"),
        "{t}"
    );
    assert!(
        t.contains("def d(context: OpExecutionContext, hex: Hex, a: dict) -> dict:"),
        "{t}"
    );
    assert!(t.contains(r#""note": "after " + a["runId"],"#), "{t}");
    assert!(t.contains("executor_def=multiprocess_executor.configured({\"max_concurrent\": 4}),"));
    assert!(t.contains(
        "\"hex\": Hex(api_url=EnvVar(\"HEX_API_URL\"), api_token=EnvVar(\"HEX_API_TOKEN\")),"
    ));
    assert!(
        !t.contains("class Params"),
        "no parameters, no run config: {t}"
    );
}

#[test]
fn parameters_are_typed_run_config_handed_to_the_ops_that_read_them() {
    let t = module(&format!(
        r#"name = "t"
[[params]]
name = "day"
type = "date"
default = "yesterday"
description = "Business day"
[[params]]
name = "region"
type = "dropdown"
options = ["eu", "us"]
[[params]]
name = "n"
type = "number"
default = 3
[[params]]
name = "on"
type = "checkbox"
default = true
[[params]]
name = "tags"
type = "multiselect"
options = ["a", "b"]
default = ["a"]
[[params]]
name = "note"
type = "text"
[[steps]]
id = "reads"
project = {A:?}
params = {{ day = "{{{{ params.day }}}}", region = "{{{{ params.region }}}}", n = "{{{{ params.n }}}}", on = "{{{{ params.on }}}}", tags = "{{{{ params.tags }}}}", text = "{{{{ params.n }}}}/{{{{ params.on }}}}/{{{{ params.tags }}}}/{{{{ params.note }}}}" }}
[[steps]]
id = "plain"
project = {A:?}
params = {{ fixed = 1 }}
"#
    ));
    for line in [
        "    day: Optional[str] = Field(\n        default=None,\n        description=\"Business day \
         (empty: the day before the Dagster run was created (local date))\",\n    )\n",
        "    region: Literal[\"eu\", \"us\"]\n",
        "    n: float = 3\n",
        "    on: bool = True\n",
        "    tags: List[str] = [\"a\"]\n",
        "    note: str\n",
        r#""day": _date("day", config.day or _run_day(context, -1)),"#,
        r#""region": config.region,"#,
        r#""n": _number(config.n),"#,
        r#""on": config.on,"#,
        r#""tags": _choices("tags", config.tags, ["a", "b"]),"#,
        r#""text": _text(_number(config.n)) + "/" + _text(config.on) + "/" + _text(_choices("tags", config.tags, ["a", "b"])) + "/" + config.note,"#,
        "def reads(context: OpExecutionContext, hex: Hex, config: Params) -> dict:",
        "def plain(context: OpExecutionContext, hex: Hex) -> dict:",
        "    return RunConfig(ops={\"reads\": config})",
        "    config=params,\n",
        "from typing import List, Literal, Optional\n",
        "#   day: \"2026-11-27\"\n#   region: \"eu\"\n#   n: 3\n#   on: true\n#   tags: [\"a\"]\n",
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
}

#[test]
fn step_options_map_to_the_run_call_and_the_retry_policy() {
    let t = module(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = "etl-extract"
timeout = "1h30m"
kill_on_timeout = false
retries = 2
retry_backoff = "90s"
update_published_results = true
use_cached_sql_results = false
[[steps]]
id = "b"
project = {A:?}
"#
    ));
    for line in [
        "    retry_policy=RetryPolicy(max_retries=2, delay=90),\n",
        "        \"5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001\",  # etl-extract\n",
        "        timeout=90 * 60,\n        kill_on_timeout=False,\n        \
         update_published_results=True,\n        use_cached_sql_results=False,\n",
        "        timeout=None,  # no timeout\n    )",
        "    tags={\"hexdash/step\": \"a\"},\n",
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
    assert_eq!(t.matches("retry_policy=").count(), 1, "{t}");
}

#[test]
fn a_continue_step_turns_its_last_failure_into_an_output_and_fails_the_run_at_the_end() {
    let t = module(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = {A:?}
[[steps]]
id = "x"
project = {A:?}
depends_on = ["a"]
on_failure = "continue"
retries = 3
retry_backoff = "1m"
[[steps]]
id = "d"
project = {A:?}
depends_on = ["x"]
[[steps]]
id = "leaf"
project = {A:?}
depends_on = ["a"]
on_failure = "continue"
retries = 1
"#
    ));
    assert!(t.contains("        continue_after=(3, 1 * 60),\n"), "{t}");
    // Retried by the op itself, not by a policy; a last step fails the run as it is.
    assert_eq!(t.matches("        continue_after=(").count(), 1, "{t}");
    assert_eq!(t.matches("retry_policy=").count(), 1, "{t}");
    assert!(
        t.contains(
            "@op(name=\"pipeline_failed\", ins={\"x\": In(dict)})\ndef pipeline_failed(x: dict) \
             -> None:\n    _fail_if_any({\"x\": x})\n"
        ),
        "{t}"
    );
    assert_eq!(
        job_body(&t),
        [
            "a_run = a()",
            "x_run = x(a=a_run)",
            "d(x=x_run)",
            "leaf(a=a_run)",
            "pipeline_failed(x=x_run)",
        ]
    );
}

#[test]
fn names_are_valid_in_python_and_dagster_and_unique() {
    let t = module(&format!(
        r#"name = "2024-report"
[[steps]]
id = "config"
project = {A:?}
[[steps]]
id = "a-b"
project = {A:?}
depends_on = ["config"]
[[steps]]
id = "a_b"
project = {A:?}
depends_on = ["config"]
[[steps]]
id = "import"
project = {A:?}
depends_on = ["a-b", "a_b"]
"#
    ));
    assert_eq!(
        job_body(&t),
        [
            "config_2_run = config_2()",
            "a_b_run = a_b(config_2=config_2_run)",
            "a_b_2_run = a_b_2(config_2=config_2_run)",
            "import_(a_b=a_b_run, a_b_2=a_b_2_run)",
        ]
    );
    assert!(t.contains("    name=\"step_2024_report\",\n"), "{t}");
    assert!(t.contains("def step_2024_report():\n"), "{t}");
    assert!(t.contains("    tags={\"hexdash/step\": \"a-b\"},\n"), "{t}");
    assert!(
        t.contains("    tags={\"hexdash/pipeline\": \"2024-report\"},\n"),
        "{t}"
    );
}

#[test]
fn a_date_takes_the_date_of_an_end_time() {
    let t = module(
        r#"name = "t"
[[steps]]
id = "extract"
project = "etl-extract"
[[steps]]
id = "load"
project = "etl-load"
params = { run_date = "{{ steps.extract.end_time }}", target_schema = "analytics" }
"#,
    );
    assert!(t.contains(r#""run_date": extract["endTime"][:10],"#), "{t}");
}

#[test]
fn every_problem_is_reported_with_its_fix() {
    let found = problems(&format!(
        r#"name = "t"
[[params]]
name = "run-date"
type = "date"
[[params]]
name = "type"
type = "text"
[[params]]
name = "n"
type = "number"
default = 1
[[steps]]
id = "a"
project = "Some Unknown Title"
on_failure = "continue"
[[steps]]
id = "b"
project = "churn-retrain"
params = {{ model_note = "after {{{{ steps.a.run_id }}}}", training_window_days = "1{{{{ params.n }}}}" }}
[[steps]]
id = "c"
project = {A:?}
params = {{ d = "{{{{ params.run-date }}}}", t = "{{{{ params.type }}}}" }}
"#
    ));
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(
        found[0].starts_with("parameter \"run-date\" cannot be a field of Dagster's run config")
            && found[0].contains("e.g. \"run_date\""),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("\"type\"") && found[1].contains("e.g. \"type_value\""),
        "{}",
        found[1]
    );
    assert!(
        found[2].starts_with("step \"a\": project \"Some Unknown Title\" is not known by id")
            && found[2].contains("alias from config.toml"),
        "{}",
        found[2]
    );
    assert!(
        found[3].starts_with(
            "step \"b\": model_note uses {{ steps.a.run_id }} but \"a\" has on_failure"
        ) && found[3].contains("set on_failure = \"stop\" on \"a\""),
        "{}",
        found[3]
    );
    assert!(
        found[4].starts_with(
            "step \"b\": training_window_days = \"1{{ params.n }}\" puts text around a template"
        ) && found[4].contains("number"),
        "{}",
        found[4]
    );
}

#[test]
fn every_name_the_helpers_define_is_kept_from_op_names() {
    let source = include_str!("hex_runs.py");
    for line in source.lines() {
        let Some(rest) = line
            .strip_prefix("class ")
            .or_else(|| line.strip_prefix("def "))
        else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let t = module(&format!(
            "name = \"t\"\n[[steps]]\nid = \"{name}\"\nproject = {A:?}\n"
        ));
        assert!(
            t.contains(&format!("def {name}_2(")),
            "a step named {name} would replace the helper:\n{t}"
        );
    }
}

#[test]
fn a_long_pipeline_polls_as_max_parallel_allows_without_working_out_its_width() {
    let chain = |n: usize| {
        let mut text = String::from("name = \"t\"\n");
        for i in 0..n {
            text.push_str(&format!("[[steps]]\nid = \"s{i}\"\nproject = {A:?}\n"));
        }
        module(&text)
    };
    // A chain runs one step at a time: 3 s. Past 1,000 steps the width is not worked out (it
    // costs the square of the steps), and max_parallel (4) sets the pace: 8 s.
    assert!(chain(3).contains("\nPOLL_SECONDS = 3\n"));
    assert!(chain(1500).contains("\nPOLL_SECONDS = 8\n"));
}
