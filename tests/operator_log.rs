#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `hexdash log`: the operator's log, end to end with the real binary — a run launched from the
//! command line with a parameter and then cancelled shows up as two entries, newest first, with
//! who did it (user@host, pid), the profile, the parameters and how each ended; as a table, JSON
//! and CSV; `--since` filters by time and explains what it takes; a data dir with no store says
//! so without creating one.

mod common;

use common::scenario::{self as sc, project};
use common::{Emu, Home, TOKEN, wait_until};

const LOAD: &str = "e0000000-0000-4000-8000-000000000001";

fn scenario() -> String {
    sc::scenario()
        .seed(5)
        .project(project(LOAD, "Load warehouse").published(3.0).hangs(0.0))
        .toml()
}

fn config() -> String {
    sc::config()
        .project(LOAD, "load", Some(r#"[{ name = "day", type = "date" }]"#))
        .toml()
}

#[test]
fn a_launch_and_its_cancel_are_logged_with_who_profile_params_and_outcome() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());

    let empty = home.hexdash(&emu, &["log"]);
    empty.expect_code(0);
    assert!(
        empty.stderr.contains("nothing recorded yet"),
        "{}",
        empty.stderr
    );
    assert!(
        !home.data_dir().join(hexdash::journal::FILE_NAME).exists(),
        "reading the log creates no store"
    );

    let launched = home.hexdash(&emu, &["run", "load", "-p", "day=2026-11-30"]);
    launched.expect_code(0);
    let run_id = emu.runs()[0].run_id.clone();
    let cancelled = home.hexdash(&emu, &["cancel", "load", &run_id[..8]]);
    cancelled.expect_code(0);
    wait_until(
        "the run killed at the emulator",
        std::time::Duration::from_secs(30),
        || emu.runs()[0].status == hexdash::hex::RunStatus::Killed,
    );

    let json = home.hexdash(&emu, &["log", "--json"]);
    json.expect_code(0);
    let entries: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2, "{entries:#?}");
    let (cancel, launch) = (&entries[0], &entries[1]);
    assert_eq!(cancel["action"], "cancel", "newest first");
    assert_eq!(launch["action"], "launch");
    assert_eq!(launch["params"]["day"], "2026-11-30");
    assert_eq!(launch["profile"], "default");
    assert_eq!(launch["origin"], "cli");
    assert_eq!(launch["outcome"], "launched");
    assert_eq!(launch["runId"], run_id.as_str());
    assert_eq!(
        launch["projectAlias"], "load",
        "run by alias from the command line: the alias names it"
    );
    assert_eq!(cancel["runId"], run_id.as_str());
    let by = launch["by"].as_str().unwrap();
    assert!(by.contains('@') && by.contains("(pid "), "{by}");
    assert!(cancel["by"].as_str().unwrap().contains("(pid "), "{cancel}");
    assert!(
        cancel["outcome"].as_str().unwrap().contains("KILLED") || cancel["outcome"] == "sent",
        "{cancel}"
    );
    let token_free = format!("{}{}", json.stdout, json.stderr);
    assert!(!token_free.contains(TOKEN), "the token is never shown");

    let table = home.hexdash(&emu, &["log"]);
    table.expect_code(0);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[0].contains("WHO") && lines[0].contains("OUTCOME"),
        "{}",
        table.stdout
    );
    assert!(
        lines[1].contains("cancel") && lines[2].contains("launch"),
        "{}",
        table.stdout
    );
    assert!(lines[2].contains("day=2026-11-30"), "{}", table.stdout);

    let csv = home.hexdash(&emu, &["log", "--csv"]);
    csv.expect_code(0);
    let mut rows = csv.stdout.split("\r\n");
    assert_eq!(
        rows.next().unwrap(),
        "WHEN,WHO,DID,FROM,PROJECT,RUN,PROFILE,OUTCOME,PARAMS"
    );
    assert_eq!(
        csv.stdout.split("\r\n").filter(|l| !l.is_empty()).count(),
        3
    );

    let recent = home.hexdash(&emu, &["log", "--since", "1h", "--json"]);
    recent.expect_code(0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&recent.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let future = home.hexdash(&emu, &["log", "--since", "2099-01-01"]);
    future.expect_code(0);
    assert!(
        future
            .stderr
            .contains("no launch or cancel recorded since 2099-01-01"),
        "{}",
        future.stderr
    );
    let bad = home.hexdash(&emu, &["log", "--since", "last tuesday"]);
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("7d") && bad.stderr.contains("2026-12-01"),
        "{}",
        bad.stderr
    );
}
