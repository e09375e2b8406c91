#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `hexdash` binary end to end, against an emulator served in-process: exit codes, text and
//! `--json` output, what the emulator recorded, config commands, the demo, and that the API token
//! never leaks into output or files.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use hexdash::emulator::{EmulatorOptions, RunRecord, RunningEmulator, Scenario, start};
use serde_json::{Value, json};

const TOKEN: &str = "hxtp_SECRET_canary_123";
const WRONG_TOKEN: &str = "hxtp_WRONG_canary_456";

const LOAD: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const FLAKY: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const STUCK: &str = "aaaaaaaa-0000-4000-8000-000000000003";

fn scenario_text() -> String {
    format!(
        r#"
tokens = ["{TOKEN}"]
seed = 42
app_url = "https://app.hex.tech/cli-test"

[[projects]]
id = "{LOAD}"
title = "Nightly Load"
owner = "ops@acme.example"
published_hours_ago = 5
[[projects.params]]
name = "day"
type = "date"
default = "2026-01-01"
[[projects.params]]
name = "rows"
type = "number"
default = 1
[projects.run]
pending_secs = [0, 0]
duration_secs = [1, 1]

[[projects]]
id = "{FLAKY}"
title = "Flaky Sync"
owner = "ops@acme.example"
published_hours_ago = 5
[projects.run]
pending_secs = [0, 0]
duration_secs = [1, 1]
failure_rate = 1.0

[[projects]]
id = "{STUCK}"
title = "Stuck Job"
owner = "ops@acme.example"
published_hours_ago = 5
[projects.run]
pending_secs = [0, 0]
hangs = true
"#
    )
}

fn config_text() -> String {
    format!(
        r#"
[[projects]]
id = "{LOAD}"
alias = "load"
params = [{{ name = "day", type = "date", required = true }}, {{ name = "rows", type = "number" }}]

[[projects]]
id = "{FLAKY}"
alias = "flaky"

[[projects]]
id = "{STUCK}"
alias = "stuck"
"#
    )
}

/// An emulator on a runtime this struct owns (so it keeps serving while a blocking child
/// process runs), plus a scratch home with a config and a data dir.
struct Harness {
    emu: RunningEmulator,
    home: tempfile::TempDir,
    // Declared last: dropped after the emulator, which needs the runtime to shut down.
    _rt: tokio::runtime::Runtime,
}

impl Harness {
    fn new() -> Harness {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let scenario = Scenario::from_toml_str(&scenario_text(), "cli-test.toml").unwrap();
        let emu = rt
            .block_on(start(
                "127.0.0.1:0".parse().unwrap(),
                EmulatorOptions::new(scenario),
            ))
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let config_dir = home.path().join("config");
        std::fs::create_dir_all(&config_dir).unwrap();
        std::fs::write(config_dir.join("config.toml"), config_text()).unwrap();
        Harness { emu, home, _rt: rt }
    }

    fn config_dir(&self) -> PathBuf {
        self.home.path().join("config")
    }

    fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("hexdash").unwrap();
        cmd.args(args)
            .env("HEX_API_URL", self.emu.base_url())
            .env("HEX_API_TOKEN", token)
            .env("HEXDASH_CONFIG_DIR", self.config_dir())
            .env("HEXDASH_DATA_DIR", self.data_dir())
            .env("HEXDASH_LEDGER_DIR", self.home.path().join("ledger"))
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .env_remove("HEXDASH_LOG")
            .timeout(Duration::from_secs(90));
        cmd
    }

    fn hexdash(&self, args: &[&str]) -> Outcome {
        Outcome::of(self.command(TOKEN, args).output().unwrap())
    }

    fn hexdash_with_token(&self, token: &str, args: &[&str]) -> Outcome {
        Outcome::of(self.command(token, args).output().unwrap())
    }

    fn runs(&self) -> Vec<RunRecord> {
        self.emu.control().runs()
    }

    fn run(&self, run_id: &str) -> RunRecord {
        self.runs()
            .into_iter()
            .find(|r| r.run_id == run_id)
            .unwrap_or_else(|| panic!("the emulator has no run {run_id}"))
    }
}

/// A finished child process, decoded.
struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn of(o: Output) -> Outcome {
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout:\n{}\n--- stderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A hexdash command with no emulator behind it (config, usage, demo).
fn offline(home: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::cargo_bin("hexdash").unwrap();
    cmd.args(args)
        .env("HEX_API_TOKEN", TOKEN)
        .env("HEXDASH_CONFIG_DIR", home.join("config"))
        .env("HEXDASH_DATA_DIR", home.join("data"))
        .env("HEXDASH_LEDGER_DIR", home.join("ledger"))
        .env_remove("HEX_API_URL")
        .env_remove("HEXDASH_PROFILE")
        .env_remove("HEXDASH_CONFIG")
        .env_remove("HEXDASH_LOG")
        .timeout(Duration::from_secs(90));
    Outcome::of(cmd.output().unwrap())
}

fn status_of(r: &RunRecord) -> String {
    r.status.as_str().to_string()
}

#[test]
fn run_with_typed_params_waits_and_sends_typed_values() {
    let h = Harness::new();
    let out = h.hexdash(&[
        "run",
        "load",
        "-p",
        "day=2026-01-31",
        "-p",
        "rows=5",
        "--wait",
    ]);
    out.expect_code(0);
    assert!(out.stdout.contains("COMPLETED"), "stdout: {}", out.stdout);

    let runs = h.runs();
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
    let h = Harness::new();
    let out = h.hexdash(&["run", "flaky", "--wait"]);
    out.expect_code(1);
    assert!(out.stdout.contains("ERRORED"), "stdout: {}", out.stdout);
    let runs = h.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].project_id, FLAKY);
    assert_eq!(status_of(&runs[0]), "ERRORED");
}

#[test]
fn a_timeout_with_kill_exits_3_and_kills_the_run() {
    let h = Harness::new();
    let out = h.hexdash(&[
        "run",
        "stuck",
        "--wait",
        "--timeout",
        "2s",
        "--kill-on-timeout",
        "--json",
    ]);
    out.expect_code(3);
    let report = out.json();
    assert_eq!(report["timedOut"], json!(true));
    assert_eq!(report["cancelSent"], json!(true));
    assert_eq!(report["exitCode"], json!(3));
    let run_id = report["runId"].as_str().unwrap();
    let run = h.run(run_id);
    assert_eq!(run.project_id, STUCK);
    assert_eq!(status_of(&run), "KILLED");
    assert_eq!(h.runs().len(), 1);
}

#[test]
fn an_unknown_project_is_a_usage_error_naming_it() {
    let h = Harness::new();
    let out = h.hexdash(&["run", "no such project", "--wait"]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("no such project"),
        "stderr: {}",
        out.stderr
    );
    assert!(h.runs().is_empty());
}

#[test]
fn a_bad_parameter_value_is_refused_before_anything_is_sent() {
    let h = Harness::new();
    let out = h.hexdash(&[
        "run",
        "load",
        "-p",
        "day=2026-01-31",
        "-p",
        "rows=ten",
        "--wait",
    ]);
    out.expect_code(4);
    assert!(out.stderr.contains("rows"), "stderr: {}", out.stderr);
    let out = h.hexdash(&["run", "load", "-p", "rows=1"]);
    out.expect_code(4);
    assert!(out.stderr.contains("needs day"), "stderr: {}", out.stderr);
    let out = h.hexdash(&["run", "load", "-p", "day=2026-01-31", "-p", "colour=red"]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("declared: day, rows"),
        "stderr: {}",
        out.stderr
    );
    let out = h.hexdash(&["runs", "load", "--status", "DONE"]);
    out.expect_code(4);
    assert!(out.stderr.contains("COMPLETED"), "stderr: {}", out.stderr);
    assert!(
        h.runs().is_empty(),
        "no RunProject may reach the emulator: {:?}",
        h.runs()
    );
}

#[test]
fn a_rejected_token_exits_5_and_names_hex_api_token() {
    let h = Harness::new();
    let out = h.hexdash_with_token(WRONG_TOKEN, &["projects"]);
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
    let h = Harness::new();

    let launched = h.hexdash(&["run", "load", "-p", "day=2026-02-02", "--wait", "--json"]);
    launched.expect_code(0);
    let report = launched.json();
    let run_id = report["runId"].as_str().unwrap().to_string();
    assert_eq!(report["projectId"], json!(LOAD));
    assert_eq!(report["exitCode"], json!(0));
    assert_eq!(report["timedOut"], json!(false));
    assert_eq!(report["inputParams"], json!({"day": "2026-02-02"}));
    assert_eq!(report["run"]["status"], json!("COMPLETED"));
    assert_eq!(report["run"]["runId"], json!(run_id));
    assert_eq!(h.run(&run_id).project_id, LOAD);

    let projects = h.hexdash(&["projects", "--json"]).expect_code(0).json();
    let projects = projects.as_array().expect("projects --json is an array");
    let mut ids: Vec<&str> = projects.iter().map(|p| p["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, [LOAD, FLAKY, STUCK]);
    assert!(projects.iter().any(|p| p["title"] == json!("Nightly Load")));

    let status = h
        .hexdash(&["status", "load", &run_id, "--json"])
        .expect_code(0)
        .json();
    assert_eq!(status["runId"], json!(run_id));
    assert_eq!(status["projectId"], json!(LOAD));
    assert_eq!(status["status"], json!("COMPLETED"));

    let runs = h.hexdash(&["runs", "load", "--json"]).expect_code(0).json();
    let runs = runs.as_array().expect("runs --json is an array");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["runId"], json!(run_id));
    assert_eq!(runs[0]["status"], json!("COMPLETED"));
}

#[test]
fn cancel_kills_a_running_run() {
    let h = Harness::new();
    let launched = h.hexdash(&["run", "stuck", "--json"]).expect_code(0).json();
    let run_id = launched["runId"].as_str().unwrap().to_string();
    assert!(
        !h.run(&run_id).status.is_terminal(),
        "a hanging run is still alive before the cancel"
    );

    let out = h.hexdash(&["cancel", "stuck", &run_id]);
    out.expect_code(0);
    assert!(out.stdout.contains("KILLED"), "stdout: {}", out.stdout);
    assert_eq!(status_of(&h.run(&run_id)), "KILLED");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn the_token_never_leaks_into_output_or_files() {
    let h = Harness::new();
    let mut outputs = Vec::new();

    let launched = h.hexdash(&[
        "-vv",
        "run",
        "load",
        "-p",
        "day=2026-01-31",
        "-p",
        "rows=2",
        "--wait",
        "--json",
    ]);
    launched.expect_code(0);
    let run_id = launched.json()["runId"].as_str().unwrap().to_string();
    outputs.push(launched);
    outputs.push(h.hexdash(&["-vv", "projects"]));
    outputs.push(h.hexdash(&["-vv", "status", "load", &run_id]));
    outputs.push(h.hexdash(&["-vv", "runs", "load"]));
    outputs.push(h.hexdash(&["-vv", "config", "check"]));
    for o in &outputs {
        o.expect_code(0);
    }
    let rejected = [
        h.hexdash_with_token(WRONG_TOKEN, &["-vv", "projects"]),
        h.hexdash_with_token(
            WRONG_TOKEN,
            &["-vv", "run", "load", "-p", "day=2026-01-31", "--wait"],
        ),
        h.hexdash_with_token(WRONG_TOKEN, &["-vv", "status", "load", &run_id]),
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

    let files = files_under(&h.data_dir());
    let log = h.data_dir().join("logs").join("hexdash.log");
    assert!(files.contains(&log), "no log file was written: {files:?}");
    assert!(
        std::fs::metadata(&log).unwrap().len() > 0,
        "the -vv log is empty, so the check below would prove nothing"
    );
    for file in files_under(h.home.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for canary in [TOKEN, WRONG_TOKEN] {
            assert!(!text.contains(canary), "token found in {}", file.display());
        }
    }
}

#[test]
fn config_path_init_and_check() {
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config");

    let path = offline(home.path(), &["config", "path"]);
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

    offline(home.path(), &["config", "init"]).expect_code(0);
    assert!(config_dir.join("config.toml").is_file());
    let again = offline(home.path(), &["config", "init"]);
    again.expect_code(4);
    assert!(
        again.stderr.contains("--force"),
        "init must not overwrite: {}",
        again.stderr
    );
    offline(home.path(), &["config", "check"]).expect_code(0);
}

#[test]
fn an_unknown_config_key_points_at_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let config_dir = home.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.toml"),
        format!("[[projects]]\nid = \"{LOAD}\"\naliass = \"load\"\n"),
    )
    .unwrap();

    let check = offline(home.path(), &["config", "check"]);
    check.expect_code(4);
    assert!(
        check.stderr.contains("config.toml:3:1"),
        "stderr: {}",
        check.stderr
    );

    // Commands that load the config refuse the same way, before any request.
    let projects = offline(home.path(), &["projects"]);
    projects.expect_code(4);
    assert!(
        projects.stderr.contains("config.toml:3:1"),
        "{}",
        projects.stderr
    );
}

#[test]
fn usage_errors_exit_4_and_help_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let missing = offline(home.path(), &["run"]);
    missing.expect_code(4);
    assert!(!missing.stderr.is_empty());

    offline(home.path(), &["run", "p", "--kill-on-timeout"]).expect_code(4);
    offline(home.path(), &["no-such-command"]).expect_code(4);

    let help = offline(home.path(), &["--help"]);
    help.expect_code(0);
    assert!(help.stdout.contains("Exit codes"), "{}", help.stdout);
}

#[test]
fn the_demo_lists_its_projects() {
    let home = tempfile::tempdir().unwrap();
    let out = offline(home.path(), &["demo", "projects"]);
    out.expect_code(0);
    assert!(out.stdout.contains("Daily ETL"), "stdout: {}", out.stdout);

    offline(home.path(), &["demo", "--speed", "0", "projects"]).expect_code(4);
}

impl Harness {
    /// Launches a run straight through the API, as another tool would: hexdash does not know it.
    fn launch_elsewhere(&self, project: &str) -> String {
        let settings = hexdash::hex::ClientSettings::new(
            url::Url::parse(&self.emu.base_url()).unwrap(),
            secrecy::SecretString::from(TOKEN.to_string()),
        );
        let client = hexdash::hex::Client::new(settings).unwrap();
        let body = hexdash::hex::types::RunProjectRequest::default();
        self._rt
            .block_on(client.run_project(project, &body))
            .unwrap()
            .run_id
    }

    fn journal_kinds(&self) -> Vec<String> {
        let store = self.data_dir().join(hexdash::journal::FILE_NAME);
        hexdash::journal::load(store)
            .unwrap()
            .events
            .iter()
            .map(|e| e.event.kind().to_string())
            .collect()
    }
}

#[test]
fn watch_follows_runs_left_active_and_history_lists_them_newest_first() {
    let h = Harness::new();
    let first = h.hexdash(&["run", "load", "-p", "day=2026-03-01", "--json"]);
    first.expect_code(0);
    let first_id = first.json()["runId"].as_str().unwrap().to_string();
    let second = h.hexdash(&["run", "flaky", "--json"]);
    second.expect_code(0);
    let second_id = second.json()["runId"].as_str().unwrap().to_string();

    // Both were launched without --wait: the journal says they may still run, and watch
    // re-attaches to them and follows them to their ends.
    let watched = h.hexdash(&["watch", "--json"]);
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
    let again = h.hexdash(&["watch"]);
    again.expect_code(0);
    assert!(again.stderr.contains("no active runs"), "{}", again.stderr);

    // History needs no token and no network: it reads the journal.
    let mut cmd = h.command(TOKEN, &["history", "--json"]);
    cmd.env_remove("HEX_API_TOKEN")
        .env("HEX_API_URL", "http://127.0.0.1:9");
    let history = Outcome::of(cmd.output().unwrap());
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

    let only_load = h.hexdash(&["history", "--project", "load"]);
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
    let h = Harness::new();
    let run_id = h.launch_elsewhere(LOAD);
    let watched = h.hexdash(&["watch", "load"]);
    watched.expect_code(0);
    assert!(watched.stdout.contains(&run_id[..8]), "{}", watched.stdout);
    assert!(watched.stdout.contains("COMPLETED"), "{}", watched.stdout);
    // Recorded as watched (not launched), so a restart would follow it too.
    let kinds = h.journal_kinds();
    assert!(kinds.contains(&"watch".to_string()), "{kinds:?}");
    assert!(!kinds.contains(&"launch_intent".to_string()), "{kinds:?}");
    assert_eq!(h.runs().len(), 1, "watching launched nothing");
}

#[test]
fn the_duplicate_guard_warns_by_default_and_refuses_when_asked() {
    let h = Harness::new();
    h.hexdash(&["run", "stuck"]).expect_code(0);
    let warned = h.hexdash(&["run", "stuck"]);
    warned.expect_code(0);
    assert!(
        warned.stderr.contains("same parameters still active"),
        "{}",
        warned.stderr
    );
    let refused = h.hexdash(&["run", "stuck", "--no-duplicate"]);
    refused.expect_code(4);
    assert!(
        refused.stderr.contains("still running"),
        "{}",
        refused.stderr
    );
    assert_eq!(h.runs().len(), 2, "the refused launch sent nothing");
    // Clean up: the stuck runs would otherwise hang around in the emulator.
    for r in h.runs() {
        h.hexdash(&["cancel", "stuck", &r.run_id]).expect_code(0);
    }
    assert!(h.runs().iter().all(|r| status_of(r) == "KILLED"));
}

#[test]
fn pipeline_validate_accepts_the_examples_and_points_at_errors() {
    let home = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let config = format!("{root}/assets/demo-config.toml");
    for example in ["daily-etl", "fan-out"] {
        let file = format!("{root}/assets/pipelines/{example}.toml");
        let out = offline(
            home.path(),
            &[
                "--config",
                &config,
                "pipeline",
                "validate",
                "--file",
                &file,
                "--offline",
            ],
        );
        out.expect_code(0);
        assert!(out.stdout.contains("is valid"), "{}", out.stdout);
    }
    let bad = format!("{root}/tests/fixtures/pipelines/invalid/cycle.toml");
    let out = offline(
        home.path(),
        &[
            "--config",
            &config,
            "pipeline",
            "validate",
            "--file",
            &bad,
            "--offline",
        ],
    );
    out.expect_code(4);
    assert!(out.stderr.contains("cycle.toml:8:15:"), "{}", out.stderr);
    assert!(out.stderr.contains("a → c → b → a"), "{}", out.stderr);
}
