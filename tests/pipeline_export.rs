#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash pipeline export --airflow | --dagster` end to end: the example pipelines, exported
//! offline with the demo config, match the reviewed files in `tests/golden/airflow3/` (the
//! default), `tests/golden/airflow2/` (`--airflow-version 2`) and `tests/golden/dagster/`, and are
//! valid Python (`python3 -m py_compile`); `--output` writes the same file; what cannot be
//! exported fails with exit 4 and says why, as reviewed in `tests/golden/refused-*.txt`.
//! Whether the files run is `scripts/check-exports`' job: it runs them on the real engines.
//!
//! After a deliberate change to a generator, `HEXDASH_BLESS=1 cargo test --test
//! pipeline_export` rewrites the golden files; review their diff before committing it.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::{Home, Outcome};

const EXAMPLES: [&str; 2] = ["daily-etl", "fan-out"];

/// Each export, by its golden directory and its flags.
const FORMATS: [(&str, &[&str]); 3] = [
    ("airflow3", &["--airflow"]),
    ("airflow2", &["--airflow", "--airflow-version", "2"]),
    ("dagster", &["--dagster"]),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs hexdash from the repository root (so the golden files' header shows the relative path
/// given on the command line), with a scratch config and data dir and no way to reach Hex.
fn hexdash(home: &Home, args: &[&str]) -> Outcome {
    let mut cmd = home.command(args);
    cmd.current_dir(root());
    Outcome::run(cmd)
}

/// `extra` holds the format's flags and any more.
fn export_example(home: &Home, example: &str, extra: &[&str]) -> Outcome {
    export_file(home, &format!("assets/pipelines/{example}.toml"), extra)
}

/// `pipeline export --file FILE` offline with the demo config; `extra` as above.
fn export_file(home: &Home, file: &str, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "--config",
        "assets/demo-config.toml",
        "pipeline",
        "export",
        "--file",
        file,
        "--offline",
    ];
    args.extend_from_slice(extra);
    hexdash(home, &args)
}

fn golden_path(format: &str, example: &str) -> PathBuf {
    root().join(format!("tests/golden/{format}/{example}.py"))
}

/// Writes `got` to `path` when blessing; else fails with a diff unless they are the same.
fn compare_golden(path: &Path, got: &str, what: &str) {
    if std::env::var_os("HEXDASH_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; create it with HEXDASH_BLESS=1 cargo test --test \
             pipeline_export, then review it",
            path.display()
        )
    });
    assert!(
        want == got,
        "{what} differs from {} (- golden, + now, by line):\n{}\n\
         If the change is intended, run HEXDASH_BLESS=1 cargo test --test pipeline_export \
         and review the golden file's diff.",
        path.display(),
        diff(&want, got)
    );
}

/// Compiles `source` with `python3 -m py_compile`, failing the test with Python's message.
fn py_compile(dir: &Path, name: &str, source: &str) {
    let file = dir.join(format!("{name}.py"));
    std::fs::write(&file, source).unwrap();
    let out = match Process::new("python3")
        .args(["-m", "py_compile"])
        .arg(&file)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "python3 is needed to check that the exported DAGs are valid Python, and it is not on \
             PATH: install Python 3 (any 3.8+) and run the test again"
        ),
        Err(e) => panic!("cannot run python3: {e}"),
    };
    assert!(
        out.status.success(),
        "the export {name} is not valid Python:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A line diff (longest common subsequence) of `want` against `got`, with a few lines of
/// context around each change, for a failure message a reviewer can read.
fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i + 1, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i + 1, a[i]));
            i += 1;
        } else {
            ops.push(('+', j + 1, b[j]));
            j += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(3)..(k + 4).min(ops.len())]
            .iter()
            .any(|(op, _, _)| *op != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (op, line, text)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("   ...\n");
                skipped = false;
            }
            out.push_str(&format!("{op}{line:>4} {text}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn examples_match_the_golden_files_and_compile() {
    let home = Home::new();
    for (format, flags) in FORMATS {
        for example in EXAMPLES {
            let out = export_example(&home, example, flags);
            out.expect_code(0);
            py_compile(home.path(), &format!("{format}-{example}"), &out.stdout);
            compare_golden(
                &golden_path(format, example),
                &out.stdout,
                &format!("the {format} export of {example}"),
            );
        }
    }
}

#[test]
fn golden_files_are_valid_python() {
    // The reviewed files themselves, so a hand edit to one cannot slip through unchecked.
    let dir = tempfile::tempdir().unwrap();
    for (format, _) in FORMATS {
        for example in EXAMPLES {
            let text = std::fs::read_to_string(golden_path(format, example)).unwrap();
            py_compile(dir.path(), &format!("golden-{format}-{example}"), &text);
        }
    }
}

#[test]
fn what_airflow_2_cannot_express_is_a_note_on_stderr() {
    let home = Home::new();
    let out = export_example(&home, "daily-etl", &["--airflow", "--airflow-version", "2"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains(
            "note: step \"load\": not exported: update_published_results = true. The operator \
             sends only Hex's deprecated updateCache"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout
            .contains("# Not exported: update_published_results = true."),
        "{}",
        out.stdout
    );
}

#[test]
fn airflow_3_and_dagster_send_every_run_option() {
    let home = Home::new();
    for flags in [&["--airflow"][..], &["--dagster"]] {
        let out = export_example(&home, "daily-etl", flags);
        out.expect_code(0);
        assert!(out.stderr.is_empty(), "{flags:?}: {}", out.stderr);
        assert!(
            out.stdout.contains("update_published_results=True,"),
            "{flags:?}: {}",
            out.stdout
        );
    }
}

#[test]
fn output_replaces_the_file_with_the_same_dag() {
    let home = Home::new();
    let dags = home.path().join("dags");
    std::fs::create_dir_all(&dags).unwrap();
    let target = dags.join("fan_out.py");
    std::fs::write(&target, "# an older export\n").unwrap();
    let shown = export_example(&home, "fan-out", &["--airflow"]);
    let written = export_example(
        &home,
        "fan-out",
        &["--airflow", "--output", target.to_str().unwrap()],
    );
    written.expect_code(0);
    assert!(
        written.stdout.starts_with(&format!(
            "wrote {}: Airflow DAG \"fan-out\" with 5 step(s)",
            target.display()
        )),
        "{}",
        written.stdout
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), shown.stdout);
    let names: Vec<_> = std::fs::read_dir(&dags)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["fan_out.py"], "no temporary file is left beside it");
}

#[test]
fn a_pipeline_is_found_by_name_in_the_config_dir() {
    let home = Home::new();
    let pipelines = home.path().join("config/pipelines");
    std::fs::create_dir_all(&pipelines).unwrap();
    std::fs::copy(
        root().join("assets/demo-config.toml"),
        home.path().join("config/config.toml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("assets/pipelines/daily-etl.toml"),
        pipelines.join("daily-etl.toml"),
    )
    .unwrap();
    let out = hexdash(
        &home,
        &["pipeline", "export", "daily-etl", "--airflow", "--offline"],
    );
    out.expect_code(0);
    let from = pipelines.join("daily-etl.toml");
    assert!(
        out.stdout.contains(&from.display().to_string()),
        "the header names the file it came from ({}):\n{}",
        from.display(),
        out.stdout
    );
    assert!(
        out.stdout.contains("dag_id=\"daily-etl\","),
        "{}",
        out.stdout
    );
}

/// `extra` holds the format's flags and any more.
fn export_text(home: &Home, pipeline: &str, extra: &[&str]) -> Outcome {
    let file = home.path().join("p.toml");
    std::fs::write(&file, pipeline).unwrap();
    export_file(home, file.to_str().unwrap(), extra)
}

#[test]
fn a_title_that_cannot_be_resolved_offline_is_refused() {
    let home = Home::new();
    let target = home.path().join("dag.py");
    let out = export_text(
        &home,
        r#"name = "by-title"
[[steps]]
id = "report"
project = "Quarterly revenue report"
"#,
        &["--airflow", "--output", target.to_str().unwrap()],
    );
    out.expect_code(4);
    assert!(
        out.stderr.contains(
            "p.toml: step \"report\": project \"Quarterly revenue report\" is not known by id, \
             and the operator needs one (name the project by id or by an alias from config.toml"
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("p.toml cannot be exported to Airflow: 1 problem(s)"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(!target.exists(), "nothing is written when the export fails");
}

#[test]
fn an_output_airflow_cannot_provide_is_refused() {
    let home = Home::new();
    let out = export_text(
        &home,
        r#"name = "flaky-then-report"
[[steps]]
id = "sync"
project = "attribution-sync"
on_failure = "continue"
[[steps]]
id = "note"
project = "churn-retrain"
params = { model_note = "after sync run {{ steps.sync.run_id }}" }
"#,
        &["--airflow"],
    );
    out.expect_code(4);
    assert!(
        out.stderr.contains(
            "step \"note\": model_note uses {{ steps.sync.run_id }} but \"sync\" has on_failure \
             = \"continue\""
        ),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn the_format_flag_is_required() {
    let home = Home::new();
    let out = hexdash(
        &home,
        &[
            "--config",
            "assets/demo-config.toml",
            "pipeline",
            "export",
            "--file",
            "assets/pipelines/daily-etl.toml",
        ],
    );
    out.expect_code(4);
    assert!(
        out.stderr.contains("--airflow") && out.stderr.contains("--dagster"),
        "{}",
        out.stderr
    );
}

/// A pipeline with every problem either export refuses, and what each says, reviewed in
/// `tests/golden/refused-airflow.txt` and `refused-dagster.txt`.
#[test]
fn refusals_match_the_golden_messages() {
    let home = Home::new();
    for (format, flags) in [("airflow", &["--airflow"][..]), ("dagster", &["--dagster"])] {
        let mut args = vec![
            "--config",
            "assets/demo-config.toml",
            "pipeline",
            "export",
            "--file",
            "tests/golden/refused.toml",
            "--offline",
        ];
        args.extend_from_slice(flags);
        let out = hexdash(&home, &args);
        out.expect_code(4);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        compare_golden(
            &root().join(format!("tests/golden/refused-{format}.txt")),
            &out.stderr,
            &format!("what the {format} export refuses"),
        );
    }
}

/// The headers say which releases the exports were run on; scripts/check-exports must install
/// those same releases, or the headers would claim runs that never happened.
#[test]
fn the_check_script_pins_the_releases_the_headers_name() {
    use hexdash::pipeline::{airflow, dagster};
    let script = std::fs::read_to_string(root().join("scripts/check-exports")).unwrap();
    for pin in [
        format!("apache-airflow=={}", airflow::CHECKED_AIRFLOW_2),
        format!("airflow-provider-hex=={}", airflow::CHECKED_PROVIDER),
        format!("apache-airflow=={}", airflow::CHECKED_AIRFLOW_3),
        format!("dagster=={}", dagster::CHECKED_DAGSTER),
        format!("dagster-hex=={}", dagster::CHECKED_DAGSTER_HEX),
    ] {
        assert!(
            script.contains(&format!("\"{pin}\"")),
            "scripts/check-exports does not pin {pin}"
        );
        let constraints = if pin.starts_with("dagster") {
            "dagster"
        } else if pin.contains("==2.") || pin.starts_with("airflow-provider") {
            "airflow2"
        } else {
            "airflow3"
        };
        let file = root().join(format!(
            "scripts/check-exports.constraints/{constraints}.txt"
        ));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.lines().any(|l| l == pin),
            "{} does not hold {pin}",
            file.display()
        );
    }
}
