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
