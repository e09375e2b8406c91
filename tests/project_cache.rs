#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The project list shared by hexdash processes through the data dir's store (issue 12): what
//! the emulator's request log shows when several commands resolve titles one after another on
//! one data dir, with the TTL in force, lapsed, or a title the cached list does not know yet;
//! and that a damaged store costs a warning, never the command.

mod common;

use common::scenario::{self as sc, project};
use common::{Emu, Home, TOKEN, files_under};
use hexdash::hex::types::{Operation, Project};
use hexdash::journal::{CacheScope, ProjectCache};

const LOAD: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const SYNC: &str = "aaaaaaaa-0000-4000-8000-000000000002";

fn scenario() -> String {
    sc::scenario()
        .seed(3)
        .project(project(LOAD, "Nightly Load").runs([0.0, 0.0], [1.0, 1.0]))
        .project(project(SYNC, "Attribution Sync").runs([0.0, 0.0], [1.0, 1.0]))
        .toml()
}

/// No aliases: every command below names its project by title, so each needs the list.
fn setup(config: &str) -> (Emu, Home) {
    (Emu::start(&scenario()), Home::with_config(config))
}

/// ListProjects requests the emulator answered. Two projects fit one page, so this is also the
/// number of walks through the list.
fn walks(emu: &Emu) -> usize {
    emu.emu
        .control()
        .requests()
        .iter()
        .filter(|r| r.operation == Some(Operation::ListProjects))
        .count()
}

/// What another hexdash on this data dir would have cached, `age_secs` ago.
fn seed(emu: &Emu, home: &Home, projects: serde_json::Value, age_secs: i64) {
    let data = home.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let list: Vec<Project> = serde_json::from_value(projects).unwrap();
    // The client's base URL as hexdash normalises it (a trailing slash is added to the path).
    let client = hexdash::hex::Client::new(common::settings(&emu.base_url())).unwrap();
    let scope = CacheScope::new(client.base_url().as_str(), TOKEN);
    let at = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(age_secs);
    ProjectCache::open(&data.join("hexdash.db"))
        .unwrap()
        .store(&scope, &list, at)
        .unwrap();
}

#[test]
fn two_runs_by_title_on_one_data_dir_list_the_projects_once() {
    let (emu, home) = setup("");
    for _ in 0..2 {
        let out = home.hexdash(&emu, &["run", "Nightly Load", "--wait"]);
        out.expect_code(0);
        assert!(out.all().contains("COMPLETED"), "{}", out.all());
    }
    assert_eq!(emu.runs().len(), 2, "{:?}", emu.runs());
    assert_eq!(
        walks(&emu),
        1,
        "the second hexdash used the list the first one cached"
    );
    // `runs`, `status`, `cancel`, `watch` resolve through the same list.
    home.hexdash(&emu, &["runs", "attribution sync"])
        .expect_code(0);
    assert_eq!(walks(&emu), 1);
    // The cache holds a hash of URL and token, never the token.
    for file in files_under(&home.data_dir()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "{} holds the token",
            file.display()
        );
    }
}

#[test]
fn with_a_ttl_of_zero_every_process_lists_again() {
    let (emu, home) = setup("[cache]\nprojects_ttl = 0\n");
    for _ in 0..2 {
        home.hexdash(&emu, &["run", "Nightly Load", "--wait"])
            .expect_code(0);
    }
    assert_eq!(walks(&emu), 2);
}

#[test]
fn a_list_older_than_the_ttl_is_listed_again_and_stored() {
    let (emu, home) = setup("[cache]\nprojects_ttl = \"5m\"\n");
    seed(
        &emu,
        &home,
        serde_json::json!([{"id": LOAD, "title": "Nightly Load"}]),
        600,
    );
    home.hexdash(&emu, &["runs", "Nightly Load"]).expect_code(0);
    assert_eq!(walks(&emu), 1, "ten minutes old is stale at a 5m TTL");
    home.hexdash(&emu, &["runs", "Nightly Load"]).expect_code(0);
    assert_eq!(walks(&emu), 1, "the new list was stored");
}

#[test]
fn a_title_a_fresh_cached_list_lacks_is_listed_once_then_resolves() {
    let (emu, home) = setup("");
    // Cached a minute ago, before "Attribution Sync" existed.
    seed(
        &emu,
        &home,
        serde_json::json!([{"id": LOAD, "title": "Nightly Load"}]),
        60,
    );
    home.hexdash(&emu, &["runs", "Nightly Load"]).expect_code(0);
    assert_eq!(walks(&emu), 0, "a fresh list that knows the title");
    let out = home.hexdash(&emu, &["run", "Attribution Sync", "--wait"]);
    out.expect_code(0);
    assert_eq!(walks(&emu), 1);
    assert_eq!(emu.runs()[0].project_id, SYNC);
    home.hexdash(&emu, &["runs", "Attribution Sync"])
        .expect_code(0);
    assert_eq!(walks(&emu), 1, "the refreshed list was stored");
    // A title no project has: one more walk, then the usual answer.
    let out = home.hexdash(&emu, &["runs", "No Such Project"]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("no project with id, alias or title"),
        "{}",
        out.stderr
    );
    assert_eq!(walks(&emu), 2);
}

#[test]
fn hexdash_projects_always_lists_and_leaves_the_list_for_the_next_command() {
    let (emu, home) = setup("");
    home.hexdash(&emu, &["projects"]).expect_code(0);
    home.hexdash(&emu, &["projects"]).expect_code(0);
    assert_eq!(
        walks(&emu),
        2,
        "an explicit listing is never from the cache"
    );
    home.hexdash(&emu, &["runs", "Nightly Load"]).expect_code(0);
    assert_eq!(walks(&emu), 2);
}

#[test]
fn a_damaged_store_is_a_warning_in_the_log_and_a_direct_listing() {
    let (emu, home) = setup("");
    let data = home.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    std::fs::write(data.join("hexdash.db"), vec![0x5a; 8192]).unwrap();
    for _ in 0..2 {
        let out = home.hexdash(&emu, &["runs", "Nightly Load"]);
        out.expect_code(0);
        assert!(!out.stderr.contains("panic"), "{}", out.stderr);
    }
    assert_eq!(walks(&emu), 2, "nothing could be cached");
    let log = std::fs::read_to_string(data.join("logs/hexdash.log")).unwrap();
    assert!(
        log.contains("WARN") && log.contains("cannot read the cached project list"),
        "{log}"
    );
}

#[test]
fn pipeline_steps_named_by_title_use_the_cached_list() {
    let (emu, home) = setup("");
    let file = home.path().join("titled.toml");
    std::fs::write(
        &file,
        "name = \"titled\"\n[[steps]]\nid = \"load\"\nproject = \"Nightly Load\"\n\
         [[steps]]\nid = \"sync\"\nproject = \"Attribution Sync\"\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    seed(
        &emu,
        &home,
        serde_json::json!([{"id": LOAD, "title": "Nightly Load"}]),
        60,
    );
    // The cached list lacks one step's title: listed once, and valid.
    home.hexdash(&emu, &["pipeline", "validate", "--file", file])
        .expect_code(0);
    assert_eq!(walks(&emu), 1);
    let out = home.hexdash(&emu, &["pipeline", "run", "--file", file, "--wait"]);
    out.expect_code(0);
    assert_eq!(
        walks(&emu),
        1,
        "the pipeline run found both titles in the cache"
    );
    let mut launched: Vec<String> = emu.runs().into_iter().map(|r| r.project_id).collect();
    launched.sort();
    assert_eq!(launched, [LOAD, SYNC]);
}
