//! `enter` on a project reads Hex's history of it a page at a time: merged with what the store
//! knows, the next page read when the cursor reaches the end, never twice at once, and a late
//! page of a project the operator left moves nothing.

use crossterm::event::{KeyCode, KeyModifiers};

use super::test_kit::*;
use super::update;
use crate::engine::RunKey;
use crate::hex::RunStatus;
use crate::hex::types::RunStatusResponse;
use crate::tui::model::{Load, Model, Screen};
use crate::tui::msg::{Effect, HistoryPage, Msg};

fn listed(run: &str, status: &str, trigger: &str) -> RunStatusResponse {
    serde_json::from_value(serde_json::json!({
        "projectId": "p1", "runId": run, "status": status, "runTrigger": trigger,
        "startTime": "2026-03-01T10:00:00Z", "endTime": "2026-03-01T10:05:00Z",
        "elapsedTime": 300000.0
    }))
    .unwrap()
}

/// `n` ended runs of p1, named from `first` on.
fn ended(first: usize, n: usize) -> Vec<RunStatusResponse> {
    (first..first + n)
        .map(|i| listed(&format!("old-{i:04}"), "COMPLETED", "SCHEDULED"))
        .collect()
}

fn page(m: &mut Model, offset: u32, runs: Vec<RunStatusResponse>, more: bool) -> Vec<Effect> {
    let keys = crate::tui::keymap::KeyMap::defaults();
    update(
        m,
        Msg::ProjectHistory {
            project_id: "p1".into(),
            offset,
            result: Ok(HistoryPage { runs, more }),
        },
        &keys,
    )
}

fn fetch(offset: u32) -> Effect {
    Effect::FetchProjectHistory {
        project_id: "p1".into(),
        offset,
    }
}

/// The model on p1's runs after `enter` on it (the projects screen's first row).
fn opened() -> (Model, crate::tui::keymap::KeyMap) {
    let (mut m, keys) = model();
    update(
        &mut m,
        Msg::ProjectsLoaded(Ok(vec![project("p1", "Daily ETL", Vec::new())])),
        &keys,
    );
    let effects = enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs);
    assert!(effects.contains(&fetch(0)), "{effects:?}");
    (m, keys)
}

#[test]
fn enter_on_a_project_shows_hexs_history_of_it_merged_with_the_stores() {
    let (mut m, keys) = opened();
    let before = m.runs.rows.len();
    page(
        &mut m,
        0,
        vec![
            // Known to the store (launched here): kept as the store has it.
            listed("run-aaaa-1", "COMPLETED", "API"),
            // Active: the engine's to follow, not a history row.
            listed("run-live", "RUNNING", "SCHEDULED"),
            listed("run-old", "COMPLETED", "SCHEDULED"),
        ],
        false,
    );
    assert_eq!(m.runs.rows.len(), before + 1);
    let old = &m.runs.rows[&RunKey::new("p1", "run-old")];
    assert!(!old.followed);
    assert_eq!(old.view.status, Some(RunStatus::Completed));
    assert_eq!(old.view.project_title.as_deref(), Some("Daily ETL"));
    assert_eq!(
        old.view.origin.as_ref().map(crate::journal::Origin::word),
        Some("schedule")
    );
    assert!(old.view.params.is_none());
    assert_ne!(
        m.runs.rows[&RunKey::new("p1", "run-aaaa-1")].view.status,
        Some(RunStatus::Completed),
        "the store's run is not overwritten by the listing"
    );
    assert!(said(&m).contains("1 earlier run from Hex"), "{}", said(&m));
    assert!(said(&m).contains("all 3 read"), "{}", said(&m));

    // Hex has no more: moving to the end asks nothing.
    let effects = code(&mut m, &keys, KeyCode::PageDown, KeyModifiers::NONE);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchProjectHistory { .. })),
        "{effects:?}"
    );
}

#[test]
fn the_next_page_is_read_when_the_cursor_reaches_the_end_and_only_once() {
    let (mut m, keys) = opened();
    let effects = page(&mut m, 0, ended(0, 100), true);
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchProjectHistory { .. })),
        "the cursor is at the top: {effects:?}"
    );
    assert!(said(&m).contains("100 read; more"), "{}", said(&m));

    // Down to the row before the last: nothing yet.
    let shown = m.visible_runs().len();
    assert!(shown >= 100, "{shown}");
    for _ in 0..shown - 2 {
        let effects = code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
        assert!(
            effects
                .iter()
                .all(|e| !matches!(e, Effect::FetchProjectHistory { .. }))
        );
    }
    // The last row: the next page, from the 100th run back.
    let effects = code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    assert!(effects.contains(&fetch(100)), "{effects:?}");
    // Pressed again while it is on its way: not asked twice.
    let effects = code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    assert!(!effects.contains(&fetch(100)), "{effects:?}");

    // A page of runs all already shown (the seam of a shifted history) reads on at once, as
    // the cursor is still at the end.
    let effects = page(&mut m, 100, ended(99, 1), true);
    assert!(effects.contains(&fetch(101)), "{effects:?}");
    let effects = page(&mut m, 101, ended(100, 30), false);
    assert!(!effects.contains(&fetch(131)), "{effects:?}");
    assert!(said(&m).contains("30 earlier runs"), "{}", said(&m));
    assert!(said(&m).contains("all 131 read"), "{}", said(&m));
    assert!(m.runs.rows.contains(&RunKey::new("p1", "old-0129")));
}

#[test]
fn a_failed_page_is_asked_again_from_the_end_and_a_page_for_another_list_reads_no_further() {
    let (mut m, keys) = opened();
    page(&mut m, 0, ended(0, 5), true);
    for _ in 0..10 {
        code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    }
    update(
        &mut m,
        Msg::ProjectHistory {
            project_id: "p1".into(),
            offset: 5,
            result: Err("GetProjectRuns: 503".into()),
        },
        &keys,
    );
    assert!(
        said(&m).contains("could not read the project's history"),
        "{}",
        said(&m)
    );
    let effects = code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    assert!(effects.contains(&fetch(5)), "asked again: {effects:?}");

    // The operator filters something else: a page arriving now adds its runs but the reading
    // does not go on under another list.
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "churn");
    enter(&mut m, &keys);
    let effects = page(&mut m, 5, ended(5, 5), true);
    assert!(m.runs.rows.contains(&RunKey::new("p1", "old-0009")));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchProjectHistory { .. })),
        "{effects:?}"
    );
    // A page for an offset nobody asked for (a duplicate answer) does not move the place, and
    // leaves the status line to what is on screen.
    let read = m.runs.history.as_ref().map(|p| p.read);
    let before = said(&m);
    page(&mut m, 0, ended(0, 5), true);
    assert_eq!(m.runs.history.as_ref().map(|p| p.read), read);
    assert_eq!(said(&m), before);
    assert!(matches!(m.projects.load, Load::Loaded(_)));
}

#[test]
fn pages_that_add_nothing_are_read_on_without_a_key_only_twice() {
    let (mut m, keys) = opened();
    page(&mut m, 0, ended(0, 3), true);
    for _ in 0..5 {
        code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    }
    // At the end: the key asks for the page at 3. Every page from here on only repeats runs the
    // list already has (as when the store holds the history): two more are read without a key,
    // then the reading waits for the next one.
    let fetches = |e: &[Effect]| {
        e.iter()
            .filter(|e| matches!(e, Effect::FetchProjectHistory { .. }))
            .count()
    };
    assert_eq!(fetches(&page(&mut m, 3, ended(0, 3), true)), 1);
    assert_eq!(fetches(&page(&mut m, 6, ended(0, 3), true)), 1);
    assert_eq!(fetches(&page(&mut m, 9, ended(0, 3), true)), 0);
    let effects = code(&mut m, &keys, KeyCode::Down, KeyModifiers::NONE);
    assert!(effects.contains(&fetch(12)), "{effects:?}");
}

#[test]
fn the_mouse_wheel_at_the_end_reads_the_next_page_and_leaves_it_not_stuck_loading() {
    use crossterm::event::{MouseEvent, MouseEventKind};
    let (mut m, keys) = opened();
    page(&mut m, 0, ended(0, 100), true);
    let wheel = |m: &mut Model| {
        let event = MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 5,
            row: 5,
            modifiers: KeyModifiers::NONE,
        };
        update(m, Msg::Mouse { event, at_ms: 0 }, &keys)
    };
    let mut asked = Vec::new();
    for _ in 0..60 {
        asked.extend(wheel(&mut m));
    }
    assert_eq!(
        asked
            .iter()
            .filter(|e| matches!(e, Effect::FetchProjectHistory { .. }))
            .count(),
        1,
        "the wheel reaching the end asks for the next page once: {asked:?}"
    );
    assert!(asked.contains(&fetch(100)), "{asked:?}");
}
