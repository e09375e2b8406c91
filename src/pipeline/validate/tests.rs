use std::path::Path;

use serde_json::Value;

use super::*;
use crate::pipeline::StepValue;

const CONFIG: &str = include_str!("../../../assets/demo-config.toml");

fn check(text: &str) -> Result<Pipeline, Vec<Diagnostic>> {
    let config = Config::from_toml_str(CONFIG, Path::new("demo-config.toml")).unwrap();
    validate(
        text,
        Path::new("p.toml"),
        &Projects {
            config: &config,
            workspace: None,
        },
    )
}

fn errors(text: &str) -> Vec<String> {
    check(text)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_plain_list_runs_in_sequence_and_resolves_projects() {
    let p = check(
        r#"name = "etl"
[[params]]
name = "date"
type = "date"
default = "yesterday"
[[steps]]
id = "extract"
project = "etl-extract"
params = { run_date = "{{ params.date }}" }
[[steps]]
id = "transform"
project = "Daily ETL · Transform"
params = { run_date = "{{ params.date }}", full_refresh = "yes" }
"#,
    )
    .unwrap();
    assert_eq!(p.max_parallel, DEFAULT_MAX_PARALLEL);
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["extract", "transform"]);
    assert_eq!(p.steps[1].depends_on, ["extract"]);
    assert_eq!(
        p.steps[1].project,
        ProjectRef::Id("5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0002".into())
    );
    assert_eq!(
        p.steps[1].params["full_refresh"],
        StepValue::Literal(Value::Bool(true))
    );
    assert_eq!(p.params[0].default, Some(ParamDefault::Yesterday));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}

#[test]
fn steps_come_out_in_topological_order() {
    let p = check(
        r#"name = "dag"
[[steps]]
id = "c"
project = "board-kpi"
depends_on = ["a", "b"]
[[steps]]
id = "a"
project = "etl-load"
depends_on = []
[[steps]]
id = "b"
project = "etl-load"
depends_on = ["a"]
"#,
    )
    .unwrap();
    let ids: Vec<&str> = p.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let e = errors(
        r#"name = "bad"
max_parallel = 0
[[steps]]
id = "a"
project = "etl-extrac"
retries = 11
[[steps]]
id = "a"
project = "etl-load"
on_failure = "ignore"
timeout = "10 minutes"
"#,
    );
    let joined = e.join("\n");
    for fragment in [
        "p.toml:2:16: max_parallel = 0",
        "p.toml:5:11: step \"a\": unknown project \"etl-extrac\"",
        "did you mean \"etl-extract\"?",
        "p.toml:6:11: step \"a\": retries = 11 is out of range",
        "p.toml:8:6: step id \"a\" is used twice (first at line 4)",
        "p.toml:10:14: step \"a\": on_failure = \"ignore\" is not valid",
        "p.toml:11:11: step \"a\": timeout = \"10 minutes\" has unknown unit \"minutes\" (write a number",
    ] {
        assert!(
            joined.contains(fragment),
            "missing {fragment:?} in\n{joined}"
        );
    }
    // A self-dependency through the implicit "previous step" rule would be a cycle: duplicates
    // are reported once, not as a cycle too.
    assert_eq!(e.len(), 6, "{joined}");
}

#[test]
fn cycles_are_named_in_order() {
    let e = errors(
        r#"name = "loop"
[[steps]]
id = "a"
project = "etl-load"
depends_on = ["b"]
[[steps]]
id = "b"
project = "etl-load"
"#,
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("p.toml:5:15: steps depend on each other in a cycle: a → b → a"),
        "{}",
        e[0]
    );
}

#[test]
fn unknown_titles_are_warnings_without_the_project_list() {
    let p = check(
        r#"name = "t"
[[steps]]
id = "a"
project = "Some Other Project Title"
"#,
    )
    .unwrap();
    assert_eq!(
        p.steps[0].project,
        ProjectRef::Title("Some Other Project Title".into())
    );
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0]
            .to_string()
            .contains("warning: step \"a\": project \"Some Other Project Title\""),
        "{}",
        p.warnings[0]
    );
}

#[test]
fn titles_are_checked_against_the_workspace_list_when_given() {
    let config = Config::from_toml_str(CONFIG, Path::new("demo-config.toml")).unwrap();
    let workspace: Vec<Project> = serde_json::from_value(serde_json::json!([
        {"id": "p-1", "title": "Revenue"},
    ]))
    .unwrap();
    let projects = Projects {
        config: &config,
        workspace: Some(&workspace),
    };
    let text = "name = \"t\"\n[[steps]]\nid = \"a\"\nproject = \"Revenue\"\n[[steps]]\nid = \"b\"\nproject = \"Revenu\"\n";
    let e = validate(text, Path::new("p.toml"), &projects).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].to_string().contains("did you mean \"Revenue\"?"),
        "{}",
        e[0]
    );
    let ok = validate(
        &text[..text.find("[[steps]]\nid = \"b\"").unwrap()],
        Path::new("p.toml"),
        &projects,
    )
    .unwrap();
    assert_eq!(ok.steps[0].project, ProjectRef::Id("p-1".into()));
}

#[test]
fn a_list_lacks_a_project_only_when_validation_would_call_it_unknown() {
    let config = Config::from_toml_str(CONFIG, Path::new("demo-config.toml")).unwrap();
    let workspace: Vec<Project> = serde_json::from_value(serde_json::json!([
        {"id": "p-1", "title": "Revenue"},
    ]))
    .unwrap();
    let lacks = |project: &str, workspace: Option<&[Project]>| {
        let text = format!("name = \"t\"\n[[steps]]\nid = \"a\"\nproject = {project:?}\n");
        let projects = Projects {
            config: &config,
            workspace,
        };
        let lacks = lacks_project(&text, Path::new("p.toml"), &projects);
        let unknown = validate(&text, Path::new("p.toml"), &projects)
            .is_err_and(|e| e.iter().any(|d| d.to_string().contains("unknown project")));
        if workspace.is_some() {
            assert_eq!(lacks, unknown, "{project}: the validator disagrees");
        }
        lacks
    };
    let list = Some(workspace.as_slice());
    // Config alias, config title, list title, list id, a UUID: nothing to ask Hex for.
    for known in [
        "etl-extract",
        "Daily ETL · Transform",
        " Revenue ",
        "p-1",
        "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0999",
    ] {
        assert!(!lacks(known, list), "{known}");
    }
    assert!(lacks("Revenue (new)", list));
    assert!(lacks("Revenue", Some(&[])), "an empty list knows no title");
    assert!(lacks("Revenue", None), "no list knows no title");
    assert!(
        !lacks_project(
            "not toml [",
            Path::new("p.toml"),
            &Projects {
                config: &config,
                workspace: list
            }
        ),
        "a file that does not parse needs no list"
    );
}

#[test]
fn templates_must_name_params_and_upstream_steps() {
    let e = errors(
        r#"name = "t"
[[params]]
name = "date"
type = "date"
default = "today"
[[steps]]
id = "a"
project = "etl-extract"
params = { run_date = "{{ params.dat }}" }
depends_on = []
[[steps]]
id = "b"
project = "churn-retrain"
params = { model_note = "after {{ steps.c.run_id }}" }
depends_on = []
[[steps]]
id = "c"
project = "etl-load"
params = { run_date = "{{ params.date }}" }
depends_on = ["a"]
"#,
    );
    let joined = e.join("\n");
    assert!(
        joined.contains(
            "p.toml:9:24: step \"a\": {{ params.dat }} names no pipeline parameter (did you mean \"date\"?"
        ),
        "{joined}"
    );
    assert!(
        joined.contains(
            "p.toml:14:32: step \"b\": {{ steps.c.run_id }} uses step \"c\", which does not run before it (add \"c\" to the depends_on of \"b\")"
        ),
        "{joined}"
    );
    assert_eq!(e.len(), 2, "{joined}");
}

#[test]
fn whole_value_templates_take_the_referenced_type() {
    let e = errors(
        r#"name = "t"
[[params]]
name = "date"
type = "date"
[[steps]]
id = "a"
project = "churn-retrain"
params = { training_window_days = "{{ params.date }}", model_note = "{{ params.date }}" }
"#,
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("training_window_days is a number parameter but {{ params.date }} is not"),
        "{}",
        e[0]
    );
}

#[test]
fn step_params_must_be_declared_and_fit() {
    let e = errors(
        r#"name = "t"
[[steps]]
id = "a"
project = "etl-load"
params = { rundate = "2026-01-01", target_schema = "prod" }
"#,
    );
    let joined = e.join("\n");
    assert!(
        joined.contains(
            "project \"etl-load\" has no parameter \"rundate\" (did you mean \"run_date\"?"
        ),
        "{joined}"
    );
    assert!(
        joined.contains("\"prod\" is not an option of target_schema"),
        "{joined}"
    );
}

#[test]
fn unused_params_are_warned_about_at_their_own_name() {
    let p = check(
        r#"name = "t"
[[params]]
name = "bad"
type = "nope"
[[params]]
name = "spare"
type = "text"
[[steps]]
id = "a"
project = "board-kpi"
"#,
    );
    let e = p.unwrap_err();
    let joined: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert!(
        joined[1].starts_with("p.toml:6:8: warning: pipeline parameter \"spare\""),
        "{joined:?}"
    );
}

#[test]
fn a_pipeline_name_must_be_a_plain_name_except_in_a_recorded_run() {
    let text =
        |name: &str| format!("name = {name:?}\n[[steps]]\nid = \"a\"\nproject = \"etl-extract\"\n");
    for bad in ["../../etc/evil", "a b", "x.toml", &"n".repeat(65)] {
        let found = errors(&text(bad));
        assert!(
            found
                .iter()
                .any(|e| e.starts_with("p.toml:1:8: pipeline name") && e.contains("not a plain")),
            "{bad}: {found:?}"
        );
    }
    check(&text(&"n".repeat(64))).unwrap();
    check(&text("daily_etl-2")).unwrap();
    // A run journalled before the rule, under such a name, still loads.
    let config = Config::from_toml_str(CONFIG, Path::new("demo-config.toml")).unwrap();
    let projects = Projects {
        config: &config,
        workspace: None,
    };
    let old = validate_recorded(&text("Daily ETL (old)"), Path::new("p.toml"), &projects);
    assert_eq!(old.unwrap().name, "Daily ETL (old)");
}

#[test]
fn messages_quote_one_line_of_the_file_at_most() {
    let long = "x".repeat(5_000);
    // A long bad step id, a long unknown dependency, a template spread over lines.
    let text = format!(
        "name = \"t\"\n[[steps]]\nid = \"{long}!\"\nproject = \"etl-extract\"\n\
         [[steps]]\nid = \"b\"\nproject = \"etl-extract\"\ndepends_on = [\"{long}\"]\n\
         params = {{ run_date = \"\"\"{{{{ params.\n{long}\nmore }}}}\"\"\" }}\n"
    );
    let found = errors(&text);
    assert!(found.len() >= 3, "{found:?}");
    for e in &found {
        assert!(!e.contains('\n'), "more than one line: {e}");
        assert!(
            e.chars().count() < 1_200,
            "{} characters: {e:.300}",
            e.len()
        );
    }
    let id = found
        .iter()
        .find(|e| e.contains("cannot be used in depends_on"))
        .unwrap();
    assert!(
        id.contains(&format!("\"{}…\"", "x".repeat(200))),
        "{id:.400}"
    );
    let unknown = found.iter().find(|e| e.contains("not a step")).unwrap();
    assert!(unknown.contains('…'), "{unknown:.400}");
}

#[test]
fn more_steps_than_the_limit_are_refused_naming_the_file_and_the_limit() {
    let config = Config::from_toml_str(CONFIG, Path::new("demo-config.toml")).unwrap();
    let projects = Projects {
        config: &config,
        workspace: None,
    };
    let mut text = String::from("name = \"long\"\n");
    for i in 0..4 {
        text.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\nproject = \"etl-extract\"\n"
        ));
    }
    let found = super::check(&text, Path::new("long.toml"), &projects, true, 3).unwrap_err();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "long.toml:11:1: the pipeline has 4 steps, more than 3, the most one pipeline may have \
         (split it into several pipelines)"
    );
    super::check(&text, Path::new("long.toml"), &projects, true, 4).unwrap();
    assert_eq!(MAX_STEPS, 50_000);
}

#[test]
fn a_long_unknown_key_is_cut_too() {
    let key = "k".repeat(3_000);
    let found = errors(&format!("name = \"t\"\n{key} = 1\n"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].chars().count() < 1_200, "{:.300}", found[0]);
    assert!(found[0].contains('…'), "{:.300}", found[0]);
}

/// The cycle search used to recurse once per step of a chain: a long chain overflowed the
/// stack (this one, a 256 KiB stack, in a debug build). Validated on a thread with a small
/// stack; figures for size and time are in BENCHMARKS.md, not asserted.
#[test]
fn a_long_sequence_validates_on_a_small_stack() {
    // Written last step first: each step waits for the one written after it, so a search from
    // the first step goes the whole chain deep.
    let mut text = String::from("name = \"long\"\n");
    for i in 0..10_000 {
        let after = if i < 9_999 {
            format!("\"s{}\"", i + 1)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "[[steps]]\nid = \"s{i}\"\nproject = \"etl-extract\"\ndepends_on = [{after}]\n\
             params = {{ run_date = \"2026-01-01\" }}\n"
        ));
    }
    let steps = std::thread::Builder::new()
        .stack_size(256 << 10)
        .spawn(move || check(&text).map(|p| p.steps.len()).map_err(|d| d.len()))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(steps, Ok(10_000));
}

#[test]
fn kill_on_timeout_is_only_set_with_a_timeout() {
    let p = check(
        r#"name = "etl"
[[steps]]
id = "a"
project = "etl-extract"
[[steps]]
id = "b"
project = "etl-extract"
timeout = "30m"
"#,
    )
    .unwrap();
    // Journalled launch options are what a relaunch form is prefilled with: kill-on-timeout
    // without a timeout made a form that refused itself.
    assert!(
        !p.steps[0].kill_on_timeout,
        "no timeout, nothing to kill on"
    );
    assert!(p.steps[1].kill_on_timeout, "the default with a timeout");
}

#[test]
fn durations_past_thirty_days_are_refused_as_integers_too() {
    for (key, value) in [
        ("timeout", "9223372036854775807"),
        ("timeout", "2592001"),
        ("retry_backoff", "2592001"),
        ("timeout", "\"721h\""),
    ] {
        let text = format!(
            "name = \"etl\"\n[[steps]]\nid = \"a\"\nproject = \"etl-extract\"\nretries = 1\n{key} = {value}\n"
        );
        let errs = errors(&text);
        assert!(
            errs.iter()
                .any(|e| e.contains("too large") && e.contains("30 days")),
            "{key} = {value}: {errs:?}"
        );
    }
}

#[test]
fn a_step_id_past_a_hundred_characters_is_refused_and_not_quoted_whole() {
    let long = "s".repeat(500_000);
    let text = format!("name = \"etl\"\n[[steps]]\nid = \"{long}\"\nproject = \"etl-extract\"\n");
    let errs = errors(&text);
    assert!(errs.iter().any(|e| e.contains("more than 100")), "{errs:?}");
    assert!(errs.iter().all(|e| e.len() < 2_000), "messages stay short");
}
