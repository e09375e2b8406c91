#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Pipeline names and pipeline files from the command line (hardening items 18 and 16): a NAME
//! is a plain name that reads `pipelines/NAME.toml` and nothing else, a definition's `name` is a
//! plain name too, other files go through `--file`, and a pipeline file is read only up to its
//! size cap. Offline: nothing here reaches Hex.

mod common;

use common::Home;

const PROJECT: &str = "aaaaaaaa-0000-4000-8000-000000000001";

fn pipeline(name: &str) -> String {
    format!("name = {name:?}\n[[steps]]\nid = \"a\"\nproject = \"{PROJECT}\"\n")
}

fn home() -> Home {
    let home = Home::new();
    std::fs::create_dir_all(home.config_dir().join("pipelines")).unwrap();
    std::fs::write(
        home.config_dir().join("pipelines/good.toml"),
        pipeline("good"),
    )
    .unwrap();
    home
}

#[test]
fn a_name_that_is_a_path_is_refused_and_reads_nothing_outside_pipelines() {
    let home = home();
    // `pipelines/../../x.toml` is this file, outside the pipelines directory.
    std::fs::write(home.path().join("x.toml"), pipeline("x")).unwrap();
    for command in ["validate", "export"] {
        for name in ["../../x", "../../x.toml", "sub/x", "a b"] {
            let mut args = vec!["pipeline", command, name, "--offline"];
            if command == "export" {
                args.push("--airflow");
            }
            let out = home.offline(&args);
            out.expect_code(4);
            assert!(
                out.stderr.contains("not a pipeline name") && out.stderr.contains("--file"),
                "{command} {name}: {}",
                out.stderr
            );
            assert!(!out.all().contains("is valid"), "{}", out.all());
        }
    }
    let out = home.offline(&["pipeline", "run", "../../x", "--offline", "--wait"]);
    out.expect_code(4);
    assert!(out.stderr.contains("--file"), "{}", out.stderr);
    // The same file through --file, and plain names, are fine.
    let file = home.path().join("x.toml").display().to_string();
    home.offline(&["pipeline", "validate", "--offline", "--file", &file])
        .expect_code(0);
    for name in ["good", "good.toml"] {
        home.offline(&["pipeline", "validate", "--offline", name])
            .expect_code(0);
    }
}

#[test]
fn a_definition_whose_name_is_not_plain_does_not_run() {
    let home = home();
    let evil = home.path().join("evil.toml");
    std::fs::write(&evil, pipeline("../../etc/evil")).unwrap();
    let file = evil.display().to_string();
    for args in [
        vec!["pipeline", "validate", "--offline", "--file", &file],
        vec!["pipeline", "run", "--offline", "--file", &file, "--wait"],
        vec![
            "pipeline",
            "export",
            "--offline",
            "--airflow",
            "--file",
            &file,
        ],
    ] {
        let out = home.offline(&args);
        out.expect_code(4);
        assert!(
            out.stderr
                .contains(":1:8: pipeline name \"../../etc/evil\" is not a plain name"),
            "{args:?}: {}",
            out.stderr
        );
    }
    assert!(
        !String::from_utf8_lossy(&home.store_bytes()).contains("etc/evil"),
        "nothing was journalled"
    );
}

#[test]
fn a_pipeline_file_past_its_size_cap_is_refused_with_the_cap() {
    let home = home();
    let big = home.path().join("big.toml");
    // A valid pipeline followed by 17 MiB of comment.
    let mut text = pipeline("big");
    let line = format!("# {}\n", "x".repeat(1_022));
    text.push_str(&line.repeat(17 * 1024));
    std::fs::write(&big, text).unwrap();
    let file = big.display().to_string();
    let out = home.offline(&["pipeline", "validate", "--offline", "--file", &file]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("larger than 16 MiB") && out.stderr.contains("big.toml"),
        "{}",
        out.stderr
    );
}
