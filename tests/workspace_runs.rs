#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash runs` without a project: every active run of the workspace, whoever started it — a
//! schedule, an app refresh, another API client, or hexdash itself — found with one request per
//! published project, each named by who started it. And `runs PROJECT` lists every trigger.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use common::scenario::{self as sc, project};
use common::{Emu, Home, TOKEN};
use serde_json::Value;

const ETL: &str = "eeeeeeee-0000-4000-8000-000000000001";
const STUCK: &str = "eeeeeeee-0000-4000-8000-000000000002";
const QUIET: &str = "eeeeeeee-0000-4000-8000-000000000003";
const DRAFT: &str = "eeeeeeee-0000-4000-8000-000000000004";
const QUICK: &str = "eeeeeeee-0000-4000-8000-000000000005";

fn scenario() -> String {
    let ours = |id, title| project(id, title).owner("data@acme.example").published(3.0);
    sc::scenario()
        .project(
            ours(ETL, "Nightly ETL")
                .hangs(0.0)
                .history(3, 24.0, "SCHEDULED"),
        )
        .project(ours(STUCK, "Stuck Job").hangs(0.0))
        .project(ours(QUIET, "Quiet One"))
        .project(ours(DRAFT, "Draft").draft())
        .project(ours(QUICK, "Quick One").runs([0.0, 0.0], [8.0, 8.0]))
        .toml()
}

fn config() -> String {
    sc::config().project(ETL, "etl", None).toml()
}

/// Starts a run as someone other than hexdash would.
fn start_elsewhere(emu: &Emu, project: &str, trigger: &str) -> String {
    let run = emu
        .emu
        .control()
        .start_run(project, trigger, None)
        .expect("started");
    run.run_id
}

#[test]
fn every_active_run_is_listed_with_who_started_it() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let scheduled = start_elsewhere(&emu, ETL, "SCHEDULED");
    let refresh = start_elsewhere(&emu, STUCK, "APP_REFRESH");
    let colleague = start_elsewhere(&emu, STUCK, "API");
    let launched = home.hexdash(&emu, &["run", "etl", "--json"]);
    launched.expect_code(0);
    let mine = launched.json()["runId"].as_str().unwrap().to_string();
    // An ended run is not active: started elsewhere and cancelled.
    let ended = start_elsewhere(&emu, ETL, "API");
    home.hexdash(&emu, &["cancel", "etl", &ended])
        .expect_code(0);
    let ctl = emu.emu.control();
    let before = ctl.requests().len();

    let out = home.hexdash(&emu, &["runs", "--json"]);
    out.expect_code(0);
    let found = out.json();
    let found = found.as_array().unwrap();
    let by_id = |id: &str| -> &Value {
        found
            .iter()
            .find(|f| f["run"]["runId"] == id)
            .unwrap_or_else(|| panic!("run {id} missing from {found:#?}"))
    };
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_eq!(by_id(&scheduled)["startedBy"], "schedule");
    assert_eq!(by_id(&scheduled)["projectTitle"], "Nightly ETL");
    assert_eq!(by_id(&refresh)["startedBy"], "app refresh");
    assert_eq!(by_id(&colleague)["startedBy"], "api");
    assert_eq!(by_id(&mine)["startedBy"], "cli");
    assert!(by_id(&mine)["launchedBy"]["pid"].is_u64(), "{found:#?}");
    assert!(by_id(&colleague).get("launchedBy").is_none());
    assert!(found.iter().all(|f| f["run"]["runId"] != ended.as_str()));

    // One GetProjectRuns per published project (not the draft), every trigger asked for; the
    // project list came from the cache `run etl` left.
    let asked: Vec<String> = ctl.requests()[before..]
        .iter()
        .map(|r| r.path.clone())
        .collect();
    let runs_asked: Vec<&String> = asked.iter().filter(|p| p.contains("/runs")).collect();
    assert_eq!(runs_asked.len(), 4, "{asked:#?}");
    assert!(
        runs_asked
            .iter()
            .all(|p| p.contains("runTriggerFilter=ALL")),
        "{asked:#?}"
    );
    assert!(!asked.iter().any(|p| p.contains(DRAFT)), "{asked:#?}");

    // The table: the same runs, oldest first, with the project titles.
    let out = home.hexdash(&emu, &["runs"]);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].contains("STARTED BY"), "{}", out.stdout);
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    assert!(
        lines[4].contains(&mine) && lines[4].contains("cli"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Stuck Job"), "{}", out.stdout);

    // Narrowed by trigger or status.
    let out = home.hexdash(&emu, &["runs", "--trigger", "scheduled", "--json"]);
    out.expect_code(0);
    let only = out.json();
    assert_eq!(only.as_array().unwrap().len(), 1, "{only:#?}");
    assert_eq!(only[0]["run"]["runId"], scheduled.as_str());
    // KILLED: the one cancelled above, and the hanging project's seeded history (Hex's users
    // cancelled those).
    let out = home.hexdash(&emu, &["runs", "--status", "KILLED", "--json"]);
    out.expect_code(0);
    let killed = out.json();
    let killed = killed.as_array().unwrap();
    assert!(
        killed.iter().all(|f| f["run"]["status"] == "KILLED"),
        "{killed:#?}"
    );
    assert!(
        killed.iter().any(|f| f["run"]["runId"] == ended.as_str()),
        "{killed:#?}"
    );
    assert_eq!(killed.len(), 1 + 3, "{killed:#?}");
    let out = home.hexdash(&emu, &["runs", "--trigger", "CRON"]);
    out.expect_code(4);
    assert!(out.stderr.contains("SCHEDULED"), "{}", out.stderr);

    // Nothing here has run long: no project has completed history to judge by (the hanging
    // project's past runs were killed), so nothing is called overdue, and the JSON says none.
    let out = home.hexdash(&emu, &["runs", "--overdue"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("no overdue runs in 4 published projects"),
        "{}",
        out.stdout
    );
    assert!(
        found.iter().all(|f| f.get("overdue").is_none()),
        "{found:#?}"
    );
    let out = home.hexdash(&emu, &["runs", "etl", "--overdue"]);
    out.expect_code(4);
    assert!(out.stderr.contains("leave out PROJECT"), "{}", out.stderr);
}

#[test]
fn a_projects_runs_include_every_trigger_and_who_started_them() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let scheduled = start_elsewhere(&emu, ETL, "SCHEDULED");
    let launched = home.hexdash(&emu, &["run", "etl", "--json"]);
    launched.expect_code(0);
    let mine = launched.json()["runId"].as_str().unwrap().to_string();

    let out = home.hexdash(&emu, &["runs", "etl"]);
    out.expect_code(0);
    let line = |id: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} missing:\n{}", out.stdout))
            .to_string()
    };
    assert!(line(&scheduled).contains("SCHEDULED") && line(&scheduled).contains("schedule"));
    assert!(
        line(&mine).contains("API") && line(&mine).ends_with("cli"),
        "{}",
        line(&mine)
    );
    // The seeded scheduled history is there too: 3 past runs, plus the 2 above.
    assert_eq!(out.stdout.lines().count(), 1 + 5, "{}", out.stdout);

    let out = home.hexdash(&emu, &["runs", "etl", "--trigger", "API", "--json"]);
    out.expect_code(0);
    let api = out.json();
    assert_eq!(api.as_array().unwrap().len(), 1, "{api:#?}");
    assert_eq!(api[0]["runId"], mine.as_str());
}

#[test]
fn an_empty_workspace_says_so_and_a_project_that_cannot_be_asked_fails_the_command() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let out = home.hexdash(&emu, &["runs"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("no active runs in 4 published projects"),
        "{}",
        out.stdout
    );

    // Every GetProjectRuns fails: the command says which projects, and exits 5.
    emu.emu
        .control()
        .set_faults(
            serde_json::from_value(serde_json::json!({
                "GetProjectRuns": {"error_rate": 1.0, "error_statuses": [500]}
            }))
            .unwrap(),
        )
        .unwrap();
    let out = home.hexdash(&emu, &["runs"]);
    out.expect_code(5);
    assert!(out.stderr.contains("\"Stuck Job\""), "{}", out.stderr);
    assert!(
        out.stderr.contains("4 of 4 projects could not be asked"),
        "{}",
        out.stderr
    );
}

/// `watch PROJECT` follows the runs Hex's scheduler started too, to their end.
#[test]
fn watching_a_project_follows_its_scheduled_runs() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let scheduled = start_elsewhere(&emu, QUICK, "SCHEDULED");
    let out = home.hexdash(&emu, &["watch", QUICK, "--json"]);
    out.expect_code(0);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["runId"] == scheduled.as_str() && l["change"] == "watching"),
        "{}",
        out.stdout
    );
    let last = lines.last().unwrap();
    assert_eq!(last["runId"], scheduled.as_str(), "{}", out.stdout);
    assert_eq!(last["status"], "COMPLETED", "{}", out.stdout);
}

/// `watch --all` follows every active run of the workspace, whoever started it, until
/// interrupted: the hanging ones stay followed, the quick one is seen to its end.
#[test]
fn watching_the_workspace_follows_every_active_run_until_interrupted() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let scheduled = start_elsewhere(&emu, ETL, "SCHEDULED");
    let refresh = start_elsewhere(&emu, STUCK, "APP_REFRESH");
    let quick = start_elsewhere(&emu, QUICK, "API");
    let mut child = home
        .std_command(&["watch", "--all", "--every", "1", "--json"])
        .env("HEX_API_URL", emu.base_url())
        .env("HEX_API_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<Value> = Vec::new();
    let ended = |seen: &[Value], id: &str| {
        seen.iter()
            .any(|l| l["runId"] == id && l["status"] == "COMPLETED")
    };
    while !(ended(&seen, &quick)
        && [&scheduled, &refresh]
            .iter()
            .all(|id| seen.iter().any(|l| l["runId"] == id.as_str())))
    {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("{e}: only {seen:#?}"),
        }
    }
    // Still running, whatever it printed: it follows until interrupted, and the next sweep
    // (5 projects, 4 live: every 8 s at the least) finds a run started after the first.
    assert!(child.try_wait().unwrap().is_none(), "{seen:#?}");
    let later = start_elsewhere(&emu, STUCK, "SCHEDULED");
    while !seen.iter().any(|l| l["runId"] == later.as_str()) {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => seen.push(line),
            Err(e) => panic!("{e}: the next sweep did not find {later}: {seen:#?}"),
        }
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(130), "{seen:#?}");
}
