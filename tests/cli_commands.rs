#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `hexdash` binary against an in-process emulator, as a script or cron job would use it:
//! exit codes, stdout and `--json`, what the emulator received, and that the token never shows.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hexdash::emulator::{EmulatorOptions, RunningEmulator, Scenario, start};
use serde_json::{Value, json};

const TOKEN: &str = "hxtp_SECRET_canary_123";
const WRONG: &str = "hxtp_WRONG_canary_456";
const ETL: &str = "11111111-1111-4111-8111-111111111111";
const FLAKY: &str = "22222222-2222-4222-8222-222222222222";
const HANGS: &str = "33333333-3333-4333-8333-333333333333";

const SCENARIO: &str = r#"
tokens = ["hxtp_SECRET_canary_123"]
seed = 3
app_url = "https://app.hex.tech/cli"

[[projects]]
id = "11111111-1111-4111-8111-111111111111"
title = "Daily ETL"
owner = "a@acme.example"
published_hours_ago = 3
[[projects.params]]
name = "day"
type = "date"
default = "2026-01-01"
[[projects.params]]
name = "rows"
type = "number"
default = 1
[projects.run]
pending_secs = [1, 1]
duration_secs = [1, 1]

[[projects]]
id = "22222222-2222-4222-8222-222222222222"
title = "Flaky sync"
owner = "a@acme.example"
published_hours_ago = 3
[projects.run]
pending_secs = [0, 0]
duration_secs = [1, 1]
failure_rate = 1.0

[[projects]]
id = "33333333-3333-4333-8333-333333333333"
title = "Hangs"
owner = "a@acme.example"
published_hours_ago = 3
[projects.run]
pending_secs = [0, 0]
hangs = true
"#;

const CONFIG: &str = r#"
[[projects]]
id = "11111111-1111-4111-8111-111111111111"
alias = "etl"
params = [
  { name = "day", type = "date", required = true },
  { name = "rows", type = "number" },
]
"#;

/// An emulator on its own runtime (it keeps serving while the blocking child runs) and a home.
struct World {
    _rt: tokio::runtime::Runtime,
    emu: Option<RunningEmulator>,
    home: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let scenario = Scenario::from_toml_str(SCENARIO, "cli.toml").unwrap();
        let emu = rt
            .block_on(start(
                "127.0.0.1:0".parse().unwrap(),
                EmulatorOptions::new(scenario),
            ))
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join("config")).unwrap();
        std::fs::write(home.path().join("config/config.toml"), CONFIG).unwrap();
        World {
            _rt: rt,
            emu: Some(emu),
            home,
        }
    }

    fn emu(&self) -> &RunningEmulator {
        self.emu.as_ref().unwrap()
    }

    fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    fn cmd_with_token(&self, token: &str, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("hexdash").unwrap();
        c.args(args)
            .env("HEX_API_URL", self.emu().base_url())
            .env("HEX_API_TOKEN", token)
            .env("HEXDASH_CONFIG_DIR", self.home.path().join("config"))
            .env("HEXDASH_DATA_DIR", self.data_dir())
            .env_remove("HEXDASH_PROFILE")
            .env_remove("HEXDASH_CONFIG")
            .timeout(std::time::Duration::from_secs(60));
        c
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_with_token(TOKEN, args)
    }

    fn runs(&self) -> Vec<Value> {
        self.emu()
            .control()
            .runs()
            .iter()
            .map(|r| serde_json::to_value(r).unwrap())
            .collect()
    }
}

fn out(o: &std::process::Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn run_with_typed_parameters_waits_for_completion() {
    let w = World::new();
    let o = w
        .cmd(&[
            "run",
            "etl",
            "-p",
            "day=2026-01-31",
            "-p",
            "rows=5",
            "--wait",
        ])
        .output()
        .unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("COMPLETED"), "{stdout}");
    let runs = w.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0]["inputParams"],
        json!({"day": "2026-01-31", "rows": 5})
    );
}

#[test]
fn exit_codes_follow_the_run() {
    let w = World::new();
    let o = w.cmd(&["run", FLAKY, "--wait"]).output().unwrap();
    assert_eq!(out(&o).0, 1, "{:?}", out(&o));

    let o = w
        .cmd(&[
            "run",
            HANGS,
            "--wait",
            "--timeout",
            "2s",
            "--kill-on-timeout",
        ])
        .output()
        .unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_eq!(code, 3, "{stdout}{stderr}");
    let runs = w.runs();
    let hung = runs.iter().find(|r| r["projectId"] == HANGS).unwrap();
    assert_eq!(hung["status"], "KILLED");
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let w = World::new();
    let o = w.cmd(&["run", "no such project"]).output().unwrap();
    let (code, _, stderr) = out(&o);
    assert_eq!(code, 4);
    assert!(stderr.contains("\"no such project\""), "{stderr}");

    let o = w
        .cmd(&["run", "etl", "-p", "day=2026-01-31", "-p", "rows=ten"])
        .output()
        .unwrap();
    let (code, _, stderr) = out(&o);
    assert_eq!(code, 4);
    assert!(stderr.contains("rows"), "{stderr}");
    let o = w.cmd(&["run", "etl"]).output().unwrap();
    let (code, _, stderr) = out(&o);
    assert_eq!(code, 4);
    assert!(stderr.contains("needs day"), "{stderr}");
    assert!(w.runs().is_empty(), "no launch may reach Hex");

    let o = w.cmd(&["run"]).output().unwrap();
    assert_eq!(out(&o).0, 4);
    let o = w.cmd(&["--help"]).output().unwrap();
    assert_eq!(out(&o).0, 0);
}

#[test]
fn a_rejected_token_is_an_api_error_that_names_the_fix() {
    let w = World::new();
    let o = w.cmd_with_token(WRONG, &["projects"]).output().unwrap();
    let (code, _, stderr) = out(&o);
    assert_eq!(code, 5);
    assert!(stderr.contains("HEX_API_TOKEN"), "{stderr}");
}

#[test]
fn json_output_parses() {
    let w = World::new();
    let o = w
        .cmd(&["run", "etl", "-p", "day=2026-01-31", "--wait", "--json"])
        .output()
        .unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["run"]["status"], "COMPLETED");
    assert_eq!(report["exitCode"], 0);
    let run_id = report["runId"].as_str().unwrap().to_string();

    let o = w.cmd(&["projects", "--json"]).output().unwrap();
    let projects: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(projects.as_array().unwrap().len(), 3);

    let o = w
        .cmd(&["status", "etl", &run_id, "--json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(status["runId"], run_id.as_str());
    assert_eq!(status["status"], "COMPLETED");

    let o = w.cmd(&["runs", ETL, "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(runs[0]["runId"], run_id.as_str());

    let o = w
        .cmd(&["runs", "etl", "--status", "DONE"])
        .output()
        .unwrap();
    let (code, _, stderr) = out(&o);
    assert_eq!(code, 4);
    assert!(stderr.contains("COMPLETED"), "{stderr}");
}

#[test]
fn cancel_kills_a_running_run() {
    let w = World::new();
    let o = w.cmd(&["run", "Hangs", "--json"]).output().unwrap();
    let launched: Value = serde_json::from_slice(&o.stdout).unwrap();
    let run_id = launched["runId"].as_str().unwrap().to_string();
    let o = w.cmd(&["cancel", "hangs", &run_id]).output().unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("KILLED"), "{stdout}");
    assert_eq!(w.runs()[0]["status"], "KILLED");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_token_never_appears_in_output_logs_or_errors() {
    let w = World::new();
    let mut seen = String::new();
    let mut record = |o: std::process::Output| {
        seen.push_str(&String::from_utf8_lossy(&o.stdout));
        seen.push_str(&String::from_utf8_lossy(&o.stderr));
    };
    record(w.cmd(&["-vv", "projects"]).output().unwrap());
    record(
        w.cmd(&[
            "-vv",
            "run",
            "etl",
            "-p",
            "day=2026-01-31",
            "--wait",
            "--json",
        ])
        .output()
        .unwrap(),
    );
    record(w.cmd(&["-vv", "runs", "etl"]).output().unwrap());
    record(w.cmd(&["-vv", "config", "check"]).output().unwrap());
    record(
        w.cmd_with_token(WRONG, &["-vv", "projects"])
            .output()
            .unwrap(),
    );
    record(
        w.cmd_with_token(WRONG, &["-vv", "run", "etl", "-p", "day=2026-01-31"])
            .output()
            .unwrap(),
    );
    assert!(seen.contains("COMPLETED"), "the commands ran: {seen}");
    assert!(!seen.contains(TOKEN), "token in output: {seen}");
    assert!(!seen.contains(WRONG), "rejected token in output: {seen}");
    let files = files_under(&w.data_dir());
    assert!(!files.is_empty(), "a log file is written");
    for f in files {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(!text.contains(TOKEN), "token in {}", f.display());
        assert!(!text.contains(WRONG), "token in {}", f.display());
    }
}

#[test]
fn config_commands() {
    let w = World::new();
    let o = w.cmd(&["config", "path"]).output().unwrap();
    let (code, stdout, _) = out(&o);
    assert_eq!(code, 0);
    assert!(
        stdout.contains(&w.home.path().join("config").display().to_string()),
        "{stdout}"
    );
    let o = w.cmd(&["config", "check"]).output().unwrap();
    assert_eq!(out(&o).0, 0, "{:?}", out(&o));

    let fresh = tempfile::tempdir().unwrap();
    let mut init = w.cmd(&["config", "init"]);
    init.env("HEXDASH_CONFIG_DIR", fresh.path());
    assert_eq!(out(&init.output().unwrap()).0, 0);
    let mut again = w.cmd(&["config", "init"]);
    again.env("HEXDASH_CONFIG_DIR", fresh.path());
    assert_eq!(
        out(&again.output().unwrap()).0,
        4,
        "init refuses to overwrite"
    );

    std::fs::write(
        fresh.path().join("config.toml"),
        "[limits]\nrequests_per_minut = 5\n",
    )
    .unwrap();
    let mut bad = w.cmd(&["config", "check"]);
    bad.env("HEXDASH_CONFIG_DIR", fresh.path());
    let (code, _, stderr) = out(&bad.output().unwrap());
    assert_eq!(code, 4);
    assert!(stderr.contains("config.toml:2:"), "{stderr}");
    assert!(stderr.contains("requests_per_minute"), "{stderr}");
}

#[test]
fn the_demo_lists_its_workspace() {
    let o = Command::cargo_bin("hexdash")
        .unwrap()
        .args(["demo", "projects"])
        .env_remove("HEX_API_TOKEN")
        .env_remove("HEX_API_URL")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let (code, stdout, stderr) = out(&o);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Daily ETL"), "{stdout}");
}
