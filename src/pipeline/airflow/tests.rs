use super::*;
use crate::pipeline::export::test_kit::{A, pipeline, recorded};

/// For Airflow 2, with Hex's provider.
fn dag(text: &str) -> Export {
    export(&pipeline(text), Version::Two).unwrap_or_else(|e| panic!("export failed: {e}"))
}

/// For Airflow 3, with the operator in the file.
fn dag3(text: &str) -> Export {
    export(&pipeline(text), Version::Three).unwrap_or_else(|e| panic!("export failed: {e}"))
}

/// Export problems; the name is not held to the plain-name rule here (as for a pipeline run
/// recorded before it), so the export's own DAG id check is reached.
fn problems(text: &str) -> Vec<String> {
    export(&recorded(text), Version::Three)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The generated `>>` lines, without indentation.
fn edges(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.contains(" >> "))
        .collect()
}

/// Steps on project A, `deps` as written ("-" for none).
fn steps(list: &[(&str, &str, &str)]) -> String {
    let mut out = String::from("name = \"t\"\n");
    for (id, deps, on_failure) in list {
        let deps = if *deps == "-" {
            String::new()
        } else {
            let quoted: Vec<String> = deps.split(',').map(|d| format!("{d:?}")).collect();
            quoted.join(", ")
        };
        out.push_str(&format!(
            "[[steps]]\nid = {id:?}\nproject = {A:?}\ndepends_on = [{deps}]\non_failure = {on_failure:?}\n"
        ));
    }
    out
}

#[test]
fn dependencies_become_shift_lines_in_step_order() {
    let e = dag(&steps(&[
        ("a", "-", "stop"),
        ("b", "a", "stop"),
        ("c", "a", "stop"),
        ("d", "b,c", "stop"),
    ]));
    assert_eq!(edges(&e.text), ["a >> b", "a >> c", "[b, c] >> d"]);
    assert!(!e.text.contains("EmptyOperator"), "{}", e.text);
    assert!(!e.text.contains("pipeline_failed"), "{}", e.text);
    assert!(e.notes.is_empty());
}

#[test]
fn a_continue_step_is_bridged_and_still_fails_the_run() {
    // fan-out's shape: kpi waits for transform (stop) and attribution (continue).
    let e = dag(&steps(&[
        ("extract", "-", "stop"),
        ("transform", "extract", "stop"),
        ("attribution", "extract", "continue"),
        ("kpi", "transform,attribution", "stop"),
    ]));
    assert_eq!(
        edges(&e.text),
        [
            "extract >> transform",
            "extract >> attribution",
            "attribution >> attribution_done",
            "[transform, attribution_done] >> kpi",
            "attribution >> pipeline_failed()",
        ]
    );
    assert!(
        e.text.contains(
            "attribution_done = EmptyOperator(task_id=\"attribution.done\", trigger_rule=\"all_done\")"
        ),
        "{}",
        e.text
    );
    assert!(
        e.text
            .contains("@task(task_id=\"pipeline.failed\", trigger_rule=\"one_failed\", retries=0)"),
        "{}",
        e.text
    );
}

#[test]
fn after_a_continue_step_its_own_upstream_failures_still_stop() {
    // w fails → x never runs (upstream_failed) → x.done still succeeds, so d must also wait
    // for w itself.
    let e = dag(&steps(&[
        ("w", "-", "stop"),
        ("x", "w", "continue"),
        ("d", "x", "stop"),
    ]));
    assert_eq!(
        edges(&e.text),
        [
            "w >> x",
            "x >> x_done",
            "[x_done, w] >> d",
            "x >> pipeline_failed()"
        ]
    );
}

#[test]
fn chained_continue_steps_need_only_the_last_bridge() {
    let e = dag(&steps(&[
        ("a", "-", "stop"),
        ("x", "a", "continue"),
        ("y", "x", "continue"),
        ("d", "y", "stop"),
    ]));
    assert_eq!(
        edges(&e.text),
        [
            "a >> x",
            "x >> x_done",
            "[x_done, a] >> y",
            "y >> y_done",
            "[y_done, a] >> d",
            "[x, y] >> pipeline_failed()",
        ]
    );
}

#[test]
fn a_continue_step_without_successors_needs_no_bridge() {
    // As a leaf its failure already fails the DAG run.
    let e = dag(&steps(&[("a", "-", "stop"), ("x", "a", "continue")]));
    assert_eq!(edges(&e.text), ["a >> x"]);
    assert!(!e.text.contains("pipeline_failed"), "{}", e.text);
}

#[test]
fn step_options_map_to_operator_arguments() {
    let e = dag(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = "etl-extract"
timeout = "1h30m"
kill_on_timeout = false
retries = 2
retry_backoff = "90s"
[[steps]]
id = "b"
project = {A:?}
timeout = "2h"
[[steps]]
id = "c"
project = {A:?}
"#
    ));
    let t = &e.text;
    assert!(
        t.contains("project_id=\"5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001\",  # etl-extract"),
        "{t}"
    );
    assert!(
        t.contains("timeout=90 * 60,\n        kill_on_timeout=False,"),
        "{t}"
    );
    assert!(
        t.contains("retries=2,\n        retry_delay=timedelta(seconds=90),"),
        "{t}"
    );
    assert!(
        t.contains("timeout=2 * 60 * 60,\n        kill_on_timeout=True,"),
        "{t}"
    );
    assert!(
        t.contains("timeout=None,  # no timeout (the operator's default is 1 hour)"),
        "{t}"
    );
    assert!(t.contains(&format!("project_id={A:?},\n")), "{t}");
    assert!(t.contains("retries=0,"), "{t}");
    assert!(t.contains("from datetime import timedelta"), "{t}");
}

#[test]
fn inputs_are_python_literals_and_jinja_safe_text() {
    let e = dag(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = {A:?}
params = {{ n = 7, x = 2.5, on = true, off = false, list = ["a", "{{{{b}}}}"], quote = "say \"hi\"\n", odd = "50{{% off {{#1 {{x" }}
"#
    ));
    let t = &e.text;
    for line in [
        r#""n": 7,"#,
        r#""x": 2.5,"#,
        r#""on": True,"#,
        r#""off": False,"#,
        // Strings in a list are not hexdash templates, but Airflow renders them all the same.
        r#""list": ["a", "{{ '{' }}{b}}"],"#,
        r#""quote": "say \"hi\"{{ '\\n' }}","#,
        r#""odd": "50{{ '{' }}% off {{ '{' }}#1 {x","#,
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
}

#[test]
fn templates_become_params_and_xcom_pulls() {
    let e = dag(&format!(
        r#"name = "t"
[[params]]
name = "day"
type = "date"
default = "today"
[[params]]
name = "since"
type = "date"
default = "yesterday"
[[params]]
name = "region"
type = "dropdown"
options = ["eu", "us"]
[[params]]
name = "n"
type = "number"
default = 3
[[steps]]
id = "extract"
project = {A:?}
params = {{ day = "{{{{ params.day }}}}", since = "{{{{ params.since }}}}", note = "{{{{ params.region }}}}-{{{{ params.n }}}}" }}
[[steps]]
id = "load"
project = "etl-load"
params = {{ run_date = "{{{{ steps.extract.end_time }}}}", target_schema = "analytics" }}
[[steps]]
id = "report"
project = {A:?}
params = {{ text = "run {{{{ steps.extract.run_id }}}} {{{{ steps.extract.status }}}} at {{{{ steps.extract.end_time }}}}: {{{{ steps.load.run_url }}}}" }}
"#
    ));
    let t = &e.text;
    for line in [
        r#""day": "{{ params['day'] or ds }}","#,
        r#""since": "{{ params['since'] or macros.ds_add(ds, -1) }}","#,
        r#""note": "{{ params['region'] }}-{{ params['n'] }}","#,
        r#""run_date": "{{ ti.xcom_pull(task_ids='extract')['endTime'][:10] }}","#,
        r#""text": "run {{ ti.xcom_pull(task_ids='extract')['runId'] }} {{ ti.xcom_pull(task_ids='extract')['status'] }} at {{ ti.xcom_pull(task_ids='extract')['endTime'] }}: {{ ti.xcom_pull(task_ids='load')['runUrl'] }}","#,
        "        \"day\": Param(\n            None,\n            type=[\"null\", \"string\"],\n            \
         format=\"date\",\n            description=\"empty: the run's logical date\",\n        ),\n",
        r#""region": Param(type="string", enum=["eu", "us"]),"#,
        r#""n": Param(3, type="number"),"#,
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
}

#[test]
fn cache_flags_map_to_update_cache_only_when_it_means_both() {
    let e = dag(&format!(
        r#"name = "t"
[[steps]]
id = "both"
project = {A:?}
update_published_results = true
use_cached_sql_results = false
[[steps]]
id = "publish"
project = {A:?}
update_published_results = true
[[steps]]
id = "fresh"
project = {A:?}
use_cached_sql_results = false
params = {{ x = 1 }}
"#
    ));
    let t = &e.text;
    assert_eq!(t.matches("update_cache=True").count(), 1, "{t}");
    assert_eq!(e.notes.len(), 2, "{:?}", e.notes);
    assert!(
        e.notes[0].starts_with("step \"publish\": not exported: update_published_results = true."),
        "{:?}",
        e.notes
    );
    assert!(
        e.notes[1].contains("use_cached_sql_results = false")
            && e.notes[1].contains("input parameters"),
        "{:?}",
        e.notes
    );
    assert!(
        t.contains("# Not exported: update_published_results = true."),
        "{t}"
    );
}

#[test]
fn every_problem_is_reported_with_its_fix() {
    let found = problems(&format!(
        r#"name = "daily etl"
[[params]]
name = "n"
type = "number"
default = 1
[[params]]
name = "flag"
type = "checkbox"
default = true
[[steps]]
id = "a"
project = "Some Unknown Title"
params = {{ count = "{{{{ params.n }}}}", text = "n={{{{ params.n }}}} flag={{{{ params.flag }}}}" }}
on_failure = "continue"
[[steps]]
id = "b"
project = {A:?}
params = {{ after = "{{{{ steps.a.run_id }}}}" }}
"#
    ));
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(found[0].contains("pipeline name \"daily etl\" cannot be an Airflow DAG id"));
    assert!(
        found[1].starts_with("step \"a\": project \"Some Unknown Title\" is not known by id")
            && found[1].contains("alias from config.toml"),
        "{}",
        found[1]
    );
    assert!(
        found[2].contains("count = \"{{ params.n }}\"")
            && found[2].contains("the text \"7\" instead of the number 7"),
        "{}",
        found[2]
    );
    assert!(
        found[3].contains("\"True\" instead of true"),
        "{}",
        found[3]
    );
    assert!(
        found[4]
            .starts_with("step \"b\": after uses {{ steps.a.run_id }} but \"a\" has on_failure")
            && found[4].contains("set on_failure = \"stop\" on \"a\""),
        "{}",
        found[4]
    );
}

#[test]
fn variable_names_are_valid_and_unique() {
    let e = dag(&steps(&[
        ("import", "-", "stop"),
        ("a-b", "import", "stop"),
        ("a_b", "import", "stop"),
        ("2nd", "a-b,a_b", "stop"),
        ("dag", "-", "stop"),
    ]));
    assert_eq!(
        edges(&e.text),
        [
            "import_ >> a_b",
            "import_ >> a_b_2",
            "[a_b, a_b_2] >> step_2nd"
        ]
    );
    assert!(
        e.text
            .contains("dag_2 = HexRunProjectOperator(\n        task_id=\"dag\",")
    );
}

#[test]
fn the_header_names_the_source_and_how_to_watch() {
    let e = dag(&steps(&[("a", "-", "stop")]));
    assert!(
        e.text.starts_with(
            "# Airflow DAG generated by hexdash from the pipeline \"t\" in p.toml. Change the"
        ),
        "{}",
        e.text
    );
    assert!(
        e.text.contains(&format!("#   hexdash watch {A}\n")),
        "{}",
        e.text
    );
    assert!(e.text.contains("POLL_SECONDS = 3\n"), "{}", e.text);
    assert!(e.text.contains("max_active_tasks=4,"), "{}", e.text);
}

#[test]
fn polls_are_spaced_by_how_many_steps_can_run_at_once() {
    let poll = |text: &str| {
        let e = dag(text);
        let line = e
            .text
            .lines()
            .find(|l| l.starts_with("POLL_SECONDS = "))
            .unwrap();
        line["POLL_SECONDS = ".len()..].parse::<u32>().unwrap()
    };
    // A chain runs one step at a time, whatever max_parallel says: the provider's 3 s.
    let chain = steps(&[("a", "-", "stop"), ("b", "a", "stop"), ("c", "b", "stop")]);
    assert_eq!(poll(&chain), 3);
    // Four independent steps, up to max_parallel = 4 at once: 4 × 60/8 = 30 requests a minute.
    let wide = steps(&[
        ("a", "-", "stop"),
        ("b", "-", "stop"),
        ("c", "-", "stop"),
        ("d", "-", "stop"),
    ]);
    assert_eq!(poll(&wide), 8);
    let narrow = wide.replacen("name = \"t\"\n", "name = \"t\"\nmax_parallel = 2\n", 1);
    assert_eq!(poll(&narrow), 4);
    // A diamond with a tail: a → {b, c} → d, and e beside d: at most 2 (b, c) or (d, e).
    let diamond = steps(&[
        ("a", "-", "stop"),
        ("b", "a", "stop"),
        ("c", "a", "stop"),
        ("d", "b,c", "stop"),
        ("e", "b", "stop"),
    ]);
    assert_eq!(poll(&diamond), 4);
}

#[test]
fn airflow_3_runs_steps_on_the_operator_in_the_file() {
    let e = dag3(&format!(
        r#"name = "t"
[[steps]]
id = "a"
project = "etl-extract"
timeout = "10m"
retries = 1
[[steps]]
id = "b"
project = {A:?}
update_published_results = true
use_cached_sql_results = false
params = {{ x = 1 }}
"#
    ));
    let t = &e.text;
    assert!(
        t.contains("Written for Airflow 3 and run on Airflow 3.3.2"),
        "{t}"
    );
    assert!(t.contains("\nclass HexRunOperator(BaseOperator):\n"), "{t}");
    assert!(
        t.contains("from airflow.sdk import DAG, BaseHook, BaseOperator\n"),
        "{t}"
    );
    assert!(
        t.contains("from airflow.sdk.exceptions import AirflowException\n"),
        "{t}"
    );
    assert!(!t.contains("airflow_provider_hex"), "{t}");
    assert!(!t.contains("HexRunProjectOperator"), "{t}");
    assert!(
        t.contains(
            "    a = HexRunOperator(\n        task_id=\"a\",\n        \
             project_id=\"5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001\",  # etl-extract\n        \
             hex_conn_id=HEX_CONN_ID,\n        poll_seconds=POLL_SECONDS,\n        \
             timeout=10 * 60,\n        kill_on_timeout=True,\n        retries=1,\n        \
             retry_delay=timedelta(seconds=30),\n    )"
        ),
        "{t}"
    );
    // The operator sends Hex's run options as they are, so nothing is left out.
    assert!(
        t.contains(
            "        update_published_results=True,\n        use_cached_sql_results=False,\n"
        ),
        "{t}"
    );
    assert!(e.notes.is_empty(), "{:?}", e.notes);
    assert!(
        t.contains(
            "# Airflow stops (marked failed or cleared, or past an execution_timeout) cancels"
        ),
        "{t}"
    );
}

#[test]
fn airflow_3_dates_fall_back_to_when_a_run_without_a_logical_date_was_triggered() {
    let text = format!(
        r#"name = "t"
[[params]]
name = "day"
type = "date"
default = "today"
[[params]]
name = "since"
type = "date"
default = "yesterday"
[[steps]]
id = "a"
project = {A:?}
params = {{ day = "{{{{ params.day }}}}", since = "{{{{ params.since }}}}" }}
"#
    );
    let t = dag3(&text).text;
    for line in [
        r#""day": "{{ params['day'] or (dag_run.logical_date or dag_run.run_after) | ds }}","#,
        r#""since": "{{ params['since'] or macros.ds_add((dag_run.logical_date or dag_run.run_after) | ds, -1) }}","#,
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
    let two = dag(&text).text;
    assert!(
        two.contains(r#""day": "{{ params['day'] or ds }}","#),
        "{two}"
    );
}

#[test]
fn airflow_3_bridges_import_from_the_sdk_and_the_standard_provider() {
    let t = dag3(&steps(&[
        ("a", "-", "stop"),
        ("x", "a", "continue"),
        ("d", "x", "stop"),
    ]))
    .text;
    for line in [
        "from airflow.providers.standard.operators.empty import EmptyOperator\n",
        "from airflow.sdk import DAG, BaseHook, BaseOperator, task\n",
        "from airflow.sdk.exceptions import AirflowException, AirflowFailException\n",
    ] {
        assert!(t.contains(line), "missing {line}\n{t}");
    }
}

#[test]
fn every_name_the_operator_defines_is_kept_from_step_variables() {
    // A step named like a helper of the operator must not replace it.
    let source = include_str!("hex_operator.py");
    let defined: Vec<&str> = source
        .lines()
        .filter_map(|l| {
            let l = l
                .strip_prefix("class ")
                .or_else(|| l.strip_prefix("def "))
                .unwrap_or(l);
            let end = l.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
            (end > 0 && !l.starts_with(' ') && l[end..].starts_with([' ', '(', ':']))
                .then(|| &l[..end])
        })
        .collect();
    assert!(defined.contains(&"HexRunOperator") && defined.contains(&"_HexApi"));
    for name in defined {
        assert!(
            super::plan::RESERVED.contains(&name),
            "{name} is defined by the operator but not reserved"
        );
    }
    let e = dag3(&steps(&[("_quote", "-", "stop"), ("time", "-", "stop")]));
    assert!(e.text.contains("_quote_2 = HexRunOperator("), "{}", e.text);
    assert!(e.text.contains("time_2 = HexRunOperator("), "{}", e.text);
}
