#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `hexdash` binary end to end, against an emulator served in-process: exit codes, text and
//! `--json` output, what the emulator recorded, config commands, the demo, and that the API token
//! never leaks into output or files.

mod common;

use common::scenario::{self as sc, project};
use common::{Emu, Home, Outcome, TOKEN, files_under};
use hexdash::emulator::RunRecord;
use serde_json::{Value, json};

const WRONG_TOKEN: &str = "hxtp_WRONG_canary_456";

const LOAD: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const FLAKY: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const STUCK: &str = "aaaaaaaa-0000-4000-8000-000000000003";

fn scenario() -> String {
    sc::scenario()
        .seed(42)
        .app_url("https://app.hex.tech/cli-test")
        .project(
            project(LOAD, "Nightly Load")
                .param("day", "date", "\"2026-01-01\"")
                .param("rows", "number", "1")
                .runs([0.0, 0.0], [1.0, 1.0]),
        )
        .project(
            project(FLAKY, "Flaky Sync")
                .runs([0.0, 0.0], [1.0, 1.0])
                .run("failure_rate = 1.0"),
        )
        .project(project(STUCK, "Stuck Job").hangs(0.0))
        .toml()
}

fn config() -> String {
    sc::config()
        .project(
            LOAD,
            "load",
            Some(r#"[{ name = "day", type = "date", required = true }, { name = "rows", type = "number" }]"#),
        )
        .project(FLAKY, "flaky", None)
        .project(STUCK, "stuck", None)
        .toml()
}

/// The emulator serving the scenario, and a home with the config.
fn started() -> (Emu, Home) {
    (Emu::start(&scenario()), Home::with_config(&config()))
}

/// `hexdash ARGS` against `emu` with a token it refuses.
fn with_wrong_token(emu: &Emu, home: &Home, args: &[&str]) -> Outcome {
    Outcome::run(home.against(&emu.base_url(), WRONG_TOKEN, args))
}

fn status_of(r: &RunRecord) -> String {
    r.status.as_str().to_string()
}

#[test]
fn run_with_typed_params_waits_and_sends_typed_values() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &[
            "run",
            "load",
            "-p",
            "day=2026-01-31",
            "-p",
            "rows=5",
            "--wait",
        ],
    );
    out.expect_code(0);
    assert!(out.stdout.contains("COMPLETED"), "stdout: {}", out.stdout);

    let runs = emu.runs();
    assert_eq!(runs.len(), 1, "exactly one launch expected: {runs:?}");
    let run = &runs[0];
    assert_eq!(run.project_id, LOAD);
    assert_eq!(run.run_trigger, "API");
    assert_eq!(status_of(run), "COMPLETED");
    assert_eq!(
        serde_json::to_value(&run.input_params).unwrap(),
        json!({"day": "2026-01-31", "rows": 5}),
        "rows must be sent as a JSON number"
    );
    assert!(run.input_params["rows"].is_number());
    assert!(
        out.stdout.contains(&run.run_id),
        "stdout names the run: {}",
        out.stdout
    );
    let seen: Vec<&str> = run.transitions.iter().map(|t| t.status.as_str()).collect();
    assert_eq!(seen.last(), Some(&"COMPLETED"), "transitions: {seen:?}");
}

#[test]
fn an_errored_run_exits_1() {
    let (emu, home) = started();
    let out = home.hexdash(&emu, &["run", "flaky", "--wait"]);
    out.expect_code(1);
    assert!(out.stdout.contains("ERRORED"), "stdout: {}", out.stdout);
    let runs = emu.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].project_id, FLAKY);
    assert_eq!(status_of(&runs[0]), "ERRORED");
}

#[test]
fn a_timeout_with_kill_exits_3_and_kills_the_run() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &[
            "run",
            "stuck",
            "--wait",
            "--timeout",
            "2s",
            "--kill-on-timeout",
            "--json",
        ],
    );
    out.expect_code(3);
    let report = out.json();
    assert_eq!(report["timedOut"], json!(true));
    assert_eq!(report["cancelSent"], json!(true));
    assert_eq!(report["exitCode"], json!(3));
    let run_id = report["runId"].as_str().unwrap();
    let run = emu.run(run_id);
    assert_eq!(run.project_id, STUCK);
    assert_eq!(status_of(&run), "KILLED");
    assert_eq!(emu.runs().len(), 1);
}

#[test]
fn an_unknown_project_is_a_usage_error_naming_it() {
    let (emu, home) = started();
    let out = home.hexdash(&emu, &["run", "no such project", "--wait"]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("no such project"),
        "stderr: {}",
        out.stderr
    );
    assert!(emu.runs().is_empty());
}

#[test]
fn a_bad_parameter_value_is_refused_before_anything_is_sent() {
    let (emu, home) = started();
    let out = home.hexdash(
        &emu,
        &[
            "run",
            "load",
            "-p",
            "day=2026-01-31",
            "-p",
            "rows=ten",
            "--wait",
        ],
    );
    out.expect_code(4);
    assert!(out.stderr.contains("rows"), "stderr: {}", out.stderr);
    let out = home.hexdash(&emu, &["run", "load", "-p", "rows=1"]);
    out.expect_code(4);
    assert!(out.stderr.contains("needs day"), "stderr: {}", out.stderr);
    let out = home.hexdash(
        &emu,
        &["run", "load", "-p", "day=2026-01-31", "-p", "colour=red"],
    );
    out.expect_code(4);
    assert!(
        out.stderr.contains("declared: day, rows"),
        "stderr: {}",
        out.stderr
    );
    let out = home.hexdash(&emu, &["runs", "load", "--status", "DONE"]);
    out.expect_code(4);
    assert!(out.stderr.contains("COMPLETED"), "stderr: {}", out.stderr);
    assert!(
        emu.runs().is_empty(),
        "no RunProject may reach the emulator: {:?}",
        emu.runs()
    );
}

#[test]
fn a_rejected_token_exits_5_and_names_hex_api_token() {
    let (emu, home) = started();
    let out = with_wrong_token(&emu, &home, &["projects"]);
    out.expect_code(5);
    assert!(
        out.stderr.contains("HEX_API_TOKEN"),
        "stderr: {}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
}

#[test]
fn json_outputs_parse_and_carry_the_fields() {
    let (emu, home) = started();

    let launched = home.hexdash(
        &emu,
        &["run", "load", "-p", "day=2026-02-02", "--wait", "--json"],
    );
    launched.expect_code(0);
    let report = launched.json();
    let run_id = report["runId"].as_str().unwrap().to_string();
    assert_eq!(report["projectId"], json!(LOAD));
    assert_eq!(report["exitCode"], json!(0));
    assert_eq!(report["timedOut"], json!(false));
    assert_eq!(report["inputParams"], json!({"day": "2026-02-02"}));
    assert_eq!(report["run"]["status"], json!("COMPLETED"));
    assert_eq!(report["run"]["runId"], json!(run_id));
    assert_eq!(emu.run(&run_id).project_id, LOAD);

    let projects = home
        .hexdash(&emu, &["projects", "--json"])
        .expect_code(0)
        .json();
    let projects = projects.as_array().expect("projects --json is an array");
    let mut ids: Vec<&str> = projects.iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, [LOAD, FLAKY, STUCK]);
    assert!(projects.iter().any(|p| p["title"] == json!("Nightly Load")));

    let status = home
        .hexdash(&emu, &["status", "load", &run_id, "--json"])
        .expect_code(0)
        .json();
    assert_eq!(status["runId"], json!(run_id));
    assert_eq!(status["projectId"], json!(LOAD));
    assert_eq!(status["status"], json!("COMPLETED"));

    let runs = home
        .hexdash(&emu, &["runs", "load", "--json"])
        .expect_code(0)
        .json();
    let runs = runs.as_array().expect("runs --json is an array");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["runId"], json!(run_id));
    assert_eq!(runs[0]["status"], json!("COMPLETED"));
}

#[test]
fn cancel_kills_a_running_run() {
    let (emu, home) = started();
    let launched = home
        .hexdash(&emu, &["run", "stuck", "--json"])
        .expect_code(0)
        .json();
    let run_id = launched["runId"].as_str().unwrap().to_string();
    assert!(
        !emu.run(&run_id).status.is_terminal(),
        "a hanging run is still alive before the cancel"
    );

    let out = home.hexdash(&emu, &["cancel", "stuck", &run_id]);
    out.expect_code(0);
    assert!(out.stdout.contains("KILLED"), "stdout: {}", out.stdout);
    assert_eq!(status_of(&emu.run(&run_id)), "KILLED");
}

#[test]
fn the_token_never_leaks_into_output_or_files() {
    let (emu, home) = started();
    let mut outputs = Vec::new();

    let launched = home.hexdash(
        &emu,
        &[
            "-vv",
            "run",
            "load",
            "-p",
            "day=2026-01-31",
            "-p",
            "rows=2",
            "--wait",
            "--json",
        ],
    );
    launched.expect_code(0);
    let run_id = launched.json()["runId"].as_str().unwrap().to_string();
    outputs.push(launched);
    outputs.push(home.hexdash(&emu, &["-vv", "projects"]));
    outputs.push(home.hexdash(&emu, &["-vv", "status", "load", &run_id]));
    outputs.push(home.hexdash(&emu, &["-vv", "runs", "load"]));
    outputs.push(home.hexdash(&emu, &["-vv", "config", "check"]));
    for o in &outputs {
        o.expect_code(0);
    }
    let rejected = [
        with_wrong_token(&emu, &home, &["-vv", "projects"]),
        with_wrong_token(
            &emu,
            &home,
            &["-vv", "run", "load", "-p", "day=2026-01-31", "--wait"],
        ),
        with_wrong_token(&emu, &home, &["-vv", "status", "load", &run_id]),
    ];
    for o in &rejected {
        o.expect_code(5);
    }
    outputs.extend(rejected);

    for o in &outputs {
        for canary in [TOKEN, WRONG_TOKEN] {
            assert!(!o.stdout.contains(canary), "token on stdout: {}", o.stdout);
            assert!(!o.stderr.contains(canary), "token on stderr: {}", o.stderr);
        }
    }

    let files = files_under(&home.data_dir());
    let log = home.data_dir().join("logs").join("hexdash.log");
    assert!(files.contains(&log), "no log file was written: {files:?}");
    assert!(
        std::fs::metadata(&log).unwrap().len() > 0,
        "the -vv log is empty, so the check below would prove nothing"
    );
    for file in files_under(home.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for canary in [TOKEN, WRONG_TOKEN] {
            assert!(!text.contains(canary), "token found in {}", file.display());
        }
    }
}

#[test]
fn config_path_init_and_check() {
    let home = Home::new();
    let config_dir = home.config_dir();

    let path = home.offline(&["config", "path"]);
    path.expect_code(0);
    assert!(
        path.stdout.contains(&config_dir.display().to_string()),
        "config path must print HEXDASH_CONFIG_DIR: {}",
        path.stdout
    );
    assert!(
        path.stdout
            .contains(&home.path().join("data").display().to_string()),
        "config path must print HEXDASH_DATA_DIR: {}",
        path.stdout
    );
    assert!(
        path.stdout
            .contains(&home.path().join("ledger").display().to_string()),
        "config path must print HEXDASH_LEDGER_DIR: {}",
        path.stdout
    );

    home.offline(&["config", "init"]).expect_code(0);
    assert!(config_dir.join("config.toml").is_file());
    let again = home.offline(&["config", "init"]);
    again.expect_code(4);
    assert!(
        again.stderr.contains("--force"),
        "init must not overwrite: {}",
        again.stderr
    );
    home.offline(&["config", "check"]).expect_code(0);
}

#[test]
fn an_unknown_config_key_points_at_file_line_and_column() {
    let home = Home::new();
    home.write_config(&format!(
        "[[projects]]\nid = \"{LOAD}\"\naliass = \"load\"\n"
    ));

    let check = home.offline(&["config", "check"]);
    check.expect_code(4);
    assert!(
        check.stderr.contains("config.toml:3:1"),
        "stderr: {}",
        check.stderr
    );

    // Commands that load the config refuse the same way, before any request.
    let projects = home.offline(&["projects"]);
    projects.expect_code(4);
    assert!(
        projects.stderr.contains("config.toml:3:1"),
        "{}",
        projects.stderr
    );
}

#[test]
fn usage_errors_exit_4_and_help_exits_0() {
    let home = Home::new();
    let missing = home.offline(&["run"]);
    missing.expect_code(4);
    assert!(!missing.stderr.is_empty());

    home.offline(&["run", "p", "--kill-on-timeout"])
        .expect_code(4);
    home.offline(&["no-such-command"]).expect_code(4);

    let help = home.offline(&["--help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("Exit codes"), "{}", help.stdout);
}

#[test]
fn the_demo_lists_its_projects() {
    let home = Home::new();
    let out = home.offline(&["demo", "projects"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Daily ETL"), "stdout: {}", out.stdout);

    home.offline(&["demo", "--speed", "0", "projects"])
        .expect_code(4);
}

/// Launches a run straight through the API, as another tool would: hexdash does not know it.
fn launch_elsewhere(emu: &Emu, project: &str) -> String {
    let client = hexdash::hex::Client::new(common::settings(&emu.base_url())).unwrap();
    let body = hexdash::hex::types::RunProjectRequest::default();
    emu.runtime()
        .block_on(client.run_project(project, &body))
        .unwrap()
        .run_id
}

fn journal_kinds(home: &Home) -> Vec<String> {
    hexdash::journal::load(home.store_file())
        .unwrap()
        .events
        .iter()
        .map(|e| e.event.kind().to_string())
        .collect()
}

#[test]
fn watch_follows_runs_left_active_and_history_lists_them_newest_first() {
    let (emu, home) = started();
    let first = home.hexdash(&emu, &["run", "load", "-p", "day=2026-03-01", "--json"]);
    first.expect_code(0);
    let first_id = first.json()["runId"].as_str().unwrap().to_string();
    let second = home.hexdash(&emu, &["run", "flaky", "--json"]);
    second.expect_code(0);
    let second_id = second.json()["runId"].as_str().unwrap().to_string();

    // Both were launched without --wait: the journal says they may still run, and watch
    // re-attaches to them and follows them to their ends.
    let watched = home.hexdash(&emu, &["watch", "--json"]);
    watched.expect_code(0);
    let lines: Vec<Value> = watched
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (id, end) in [(&first_id, "COMPLETED"), (&second_id, "ERRORED")] {
        let last = lines
            .iter()
            .rev()
            .find(|l| l["runId"] == json!(id))
            .unwrap_or_else(|| panic!("watch printed nothing for {id}:\n{}", watched.stdout));
        assert_eq!(last["status"], json!(end), "{}", watched.stdout);
        assert_eq!(last["change"], json!("ended"));
        assert!(last["observedAt"].is_string());
    }
    // Nothing is active any more: a second watch has nothing to do.
    let again = home.hexdash(&emu, &["watch"]);
    again.expect_code(0);
    assert!(again.stderr.contains("no active runs"), "{}", again.stderr);

    // History needs no token and no network: it reads the journal.
    let mut cmd = home.command(&["history", "--json"]);
    cmd.env("HEX_API_URL", "http://127.0.0.1:9");
    let history = Outcome::run(cmd);
    history.expect_code(0);
    let entries = history.json();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{}", history.stdout);
    assert_eq!(entries[0]["runId"], json!(second_id), "newest first");
    assert_eq!(entries[0]["status"], json!("ERRORED"));
    assert_eq!(entries[1]["runId"], json!(first_id));
    assert_eq!(entries[1]["status"], json!("COMPLETED"));
    assert_eq!(entries[1]["inputParams"]["day"], json!("2026-03-01"));
    assert_eq!(entries[1]["origin"], json!("cli"));

    let only_load = home.hexdash(&emu, &["history", "--project", "load"]);
    only_load.expect_code(0);
    assert!(
        only_load.stdout.contains(&first_id[..8]),
        "{}",
        only_load.stdout
    );
    assert!(
        !only_load.stdout.contains(&second_id[..8]),
        "{}",
        only_load.stdout
    );
    assert!(only_load.stdout.contains("COMPLETED"));
}

#[test]
fn watch_project_follows_runs_hexdash_did_not_launch() {
    let (emu, home) = started();
    let run_id = launch_elsewhere(&emu, LOAD);
    let watched = home.hexdash(&emu, &["watch", "load"]);
    watched.expect_code(0);
    assert!(watched.stdout.contains(&run_id[..8]), "{}", watched.stdout);
    assert!(watched.stdout.contains("COMPLETED"), "{}", watched.stdout);
    // Recorded as watched (not launched), so a restart would follow it too.
    let kinds = journal_kinds(&home);
    assert!(kinds.contains(&"watch".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"launch_intent".to_string()), "{kinds:?}");
    assert_eq!(emu.runs().len(), 1, "watching launched nothing");
}

#[test]
fn the_duplicate_guard_warns_by_default_and_refuses_when_asked() {
    let (emu, home) = started();
    home.hexdash(&emu, &["run", "stuck"]).expect_code(0);
    let warned = home.hexdash(&emu, &["run", "stuck"]);
    warned.expect_code(0);
    assert!(
        warned.stderr.contains("same parameters still active"),
        "{}",
        warned.stderr
    );
    let refused = home.hexdash(&emu, &["run", "stuck", "--no-duplicate"]);
    refused.expect_code(4);
    assert!(
        refused.stderr.contains("still running"),
        "{}",
        refused.stderr
    );
    assert_eq!(emu.runs().len(), 2, "the refused launch sent nothing");
    // Clean up: the stuck runs would otherwise hang around in the emulator.
    for r in emu.runs() {
        home.hexdash(&emu, &["cancel", "stuck", &r.run_id])
            .expect_code(0);
    }
    assert!(emu.runs().iter().all(|r| status_of(r) == "KILLED"));
}

#[test]
fn pipeline_validate_accepts_the_examples_and_points_at_errors() {
    let home = Home::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let config = format!("{root}/assets/demo-config.toml");
    for example in ["daily-etl", "fan-out"] {
        let file = format!("{root}/assets/pipelines/{example}.toml");
        let out = home.offline(&[
            "--config",
            &config,
            "pipeline",
            "validate",
            "--file",
            &file,
            "--offline",
        ]);
        out.expect_code(0);
        assert!(out.stdout.contains("is valid"), "{}", out.stdout);
    }
    let bad = format!("{root}/tests/fixtures/pipelines/invalid/cycle.toml");
    let out = home.offline(&[
        "--config",
        &config,
        "pipeline",
        "validate",
        "--file",
        &bad,
        "--offline",
    ]);
    out.expect_code(4);
    assert!(out.stderr.contains("cycle.toml:8:15:"), "{}", out.stderr);
    assert!(out.stderr.contains("a → c → b → a"), "{}", out.stderr);
}
