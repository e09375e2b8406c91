#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The short run ids the dashboard shows work on the command line, like git's short hashes:
//! `status` and `cancel` take a run's first characters, found among the store's runs or Hex's
//! newest runs of the project; a start two runs share is refused with both named (exit 4).

mod common;

use common::scenario::{self as sc, project};
use common::{Emu, Home};

const STUCK: &str = "5e000000-0000-4000-8000-000000000001";

fn scenario() -> String {
    sc::scenario()
        .seed(11)
        .project(project(STUCK, "Stuck Job").published(2.0).hangs(0.0))
        .toml()
}

#[test]
fn status_and_cancel_take_the_short_id_and_refuse_an_ambiguous_one() {
    let emu = Emu::start(&scenario());
    let home = Home::new();

    // Launched here: found in the store by the 8 characters the dashboard shows.
    let launched = home.hexdash(&emu, &["run", STUCK, "--json"]);
    launched.expect_code(0);
    let mine = launched.json()["runId"].as_str().unwrap().to_string();
    let status = home.hexdash(&emu, &["status", STUCK, &mine[..8], "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["runId"].as_str(), Some(mine.as_str()));

    // Started elsewhere: only Hex knows them. Twenty ids over sixteen first characters: two
    // share one, and that character alone names no single run.
    let control = emu.emu.control();
    for _ in 0..20 {
        control.start_run(STUCK, "API", None).unwrap();
    }
    let ids: Vec<String> = emu.runs().into_iter().map(|r| r.run_id).collect();
    let first = |id: &String| id[..1].to_string();
    let shared = ids
        .iter()
        .map(first)
        .find(|c| ids.iter().filter(|id| id.starts_with(c.as_str())).count() >= 2)
        .unwrap();
    let out = home.hexdash(&emu, &["status", STUCK, &shared]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("ambiguous") && out.stderr.contains("give more of it"),
        "{}",
        out.all()
    );
    let theirs = ids.iter().find(|id| **id != mine).unwrap();
    let status = home.hexdash(&emu, &["status", STUCK, &theirs[..8], "--json"]);
    status.expect_code(0);
    assert_eq!(status.json()["runId"].as_str(), Some(theirs.as_str()));

    // Cancelled by its short id, until Hex reports it dead.
    let out = home.hexdash(&emu, &["cancel", STUCK, &mine[..8]]);
    out.expect_code(0);
    assert!(out.stdout.contains("KILLED"), "{}", out.all());
    let killed = emu.runs().into_iter().find(|r| r.run_id == mine).unwrap();
    assert_eq!(killed.status.to_string(), "KILLED");
}
