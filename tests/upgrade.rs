#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Upgrading: a data dir written by hexdash before the shared store (its `journal.jsonl`, made by
//! the last JSON-lines release against the emulator: a run still RUNNING, a completed one, one
//! killed by a confirmed cancel, a refused launch, a three-step pipeline) opens in this hexdash
//! with all of it there, imported once, the old file kept untouched.
//! (`tests/fixtures/upgrade/history.json` and `pipeline-list.txt` are what that release printed.)

mod common;

use common::Home;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/upgrade";

/// What must survive of a history entry: who, what, and how it stands.
fn essence(entries: &Value) -> Vec<Value> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let keep = [
                "kind",
                "at",
                "projectId",
                "runId",
                "status",
                "launchId",
                "inputParams",
                "cancel",
                "origin",
                "error",
            ];
            Value::Object(
                keep.iter()
                    .filter_map(|k| e.get(*k).map(|v| (k.to_string(), v.clone())))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn a_data_dir_from_the_json_lines_journal_opens_with_everything_in_it() {
    let home = Home::new();
    hexdash::files::create_private_dir_all(&home.data_dir()).unwrap();
    let old = std::fs::read(format!("{FIXTURE}/journal.jsonl")).unwrap();
    let legacy = home.data_dir().join(hexdash::journal::LEGACY_FILE_NAME);
    std::fs::write(&legacy, &old).unwrap();

    let first = home.offline(&["history", "--json"]);
    first.expect_code(0);
    assert!(
        first.stderr.contains("imported 35 events"),
        "{}",
        first.stderr
    );
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURE}/history.json")).unwrap())
            .unwrap();
    assert_eq!(essence(&first.json()), essence(&expected));
    let statuses: Vec<&str> = expected
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["status"].as_str())
        .collect();
    assert!(
        statuses.contains(&"RUNNING"),
        "the fixture has an active run"
    );

    let pipelines = home.offline(&["pipeline", "list"]);
    pipelines.expect_code(0);
    assert_eq!(
        pipelines.stdout,
        std::fs::read_to_string(format!("{FIXTURE}/pipeline-list.txt")).unwrap()
    );

    // Imported once; the old file kept byte for byte as a backup.
    let second = home.offline(&["history", "--json"]);
    second.expect_code(0);
    assert!(!second.stderr.contains("imported"), "{}", second.stderr);
    assert_eq!(essence(&second.json()), essence(&expected));
    assert_eq!(std::fs::read(&legacy).unwrap(), old);
    assert_eq!(home.events_json().len(), 35);
}

/// `history --limit N` reads only the newest runs (and the launches without a run), yet shows
/// exactly the first N entries of the whole history, unresolved launches included.
#[test]
fn a_limited_history_is_the_head_of_the_whole_one() {
    let home = Home::new();
    hexdash::files::create_private_dir_all(&home.data_dir()).unwrap();
    std::fs::copy(
        format!("{FIXTURE}/journal.jsonl"),
        home.data_dir().join(hexdash::journal::LEGACY_FILE_NAME),
    )
    .unwrap();
    // An unresolved launch and a watched run on top of the imported history.
    let mut store = hexdash::journal::Journal::open(home.store_file())
        .unwrap()
        .journal;
    let intent = serde_json::json!({
        "event": "launch_intent", "launch_id": "l-unresolved",
        "project_id": "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0005", "project_title": "Marketing",
        "params": {"day": "2026-12-02"}, "profile": "default", "origin": {"kind": "cli"},
        "options": {"dry_run": false, "use_cached_sql_results": null,
                    "update_published_results": null, "timeout_secs": null,
                    "kill_on_timeout": false}
    });
    store
        .append(serde_json::from_value(intent).unwrap())
        .unwrap();
    let watch = serde_json::json!({
        "event": "watch", "project_id": "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0002",
        "run_id": "watched-run", "origin": {"kind": "cli"}
    });
    store
        .append(serde_json::from_value(watch).unwrap())
        .unwrap();
    drop(store);

    let whole = home.offline(&["history", "--json", "--limit", "0"]);
    whole.expect_code(0);
    let whole = whole.json();
    let all = whole.as_array().unwrap();
    assert_eq!(all.len(), 9, "{whole}");
    for limit in 1..=10 {
        let head = home.offline(&["history", "--json", "--limit", &limit.to_string()]);
        head.expect_code(0);
        let expected: Vec<_> = all.iter().take(limit).cloned().collect();
        assert_eq!(
            head.json(),
            serde_json::Value::Array(expected),
            "--limit {limit}"
        );
    }
    let only = home.offline(&[
        "history",
        "--json",
        "--limit",
        "3",
        "--project",
        "Marketing",
    ]);
    only.expect_code(0);
    assert_eq!(only.json().as_array().unwrap().len(), 1, "{}", only.stdout);
}
