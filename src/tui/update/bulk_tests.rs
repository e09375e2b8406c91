//! The runs screen's sort, filter terms, marks and bulk actions, through `update` as keys: the
//! sort keeps the cursor on its run, `space`/`v`/`*` mark, `x` and `r` with marks open a preview
//! that sends nothing until `y`, and the answers end in a summary of each run.

use crossterm::event::{KeyCode, KeyModifiers};

use super::test_kit::*;
use crate::engine::{CancelSent, Change, RunKey};
use crate::hex::RunStatus;
use crate::journal::Origin;
use crate::tui::bulk::{BulkAction, Outcome, Will};
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Confirm, Model, Overlay};
use crate::tui::msg::{Effect, Msg};
use crate::tui::run_order::RunColumn;

fn selected(m: &Model) -> Option<String> {
    m.selected_run().map(|r| r.view.key.run_id.clone())
}

fn order(m: &Model) -> Vec<String> {
    m.visible_runs()
        .iter()
        .map(|r| r.view.key.run_id.clone())
        .collect()
}

/// Four active runs of two projects (run-1 … run-4, newest last) and one ended, on the runs
/// screen; run-3 was started by a Hex schedule.
fn runs() -> (Model, KeyMap) {
    let (mut m, keys) = model();
    for i in 1..=4 {
        let project = if i % 2 == 0 { "p2" } else { "p1" };
        let mut v = view(project, &format!("run-{i}"), RunStatus::Running, 5);
        v.first_seen = t(i);
        v.start_time = Some(t(i * 2));
        if i == 3 {
            v.origin = Some(Origin::Hex {
                trigger: Some("SCHEDULED".into()),
                profile: None,
            });
            v.params = None;
        }
        run_update(&mut m, &keys, Change::Watching, v);
    }
    let mut ended = view("p2", "run-old", RunStatus::Completed, 5);
    ended.first_seen = t(-100);
    run_update(&mut m, &keys, Change::Ended, ended);
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'g');
    (m, keys)
}

fn cancels(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Cancel(k) => Some(k.run_id.clone()),
            _ => None,
        })
        .collect()
}

fn launches(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Launch(_) | Effect::BulkLaunch { .. }))
        .count()
}

fn cancel_answer(m: &mut Model, keys: &KeyMap, run: &str, result: Result<CancelSent, String>) {
    let project = m
        .runs
        .rows
        .keys()
        .find(|k| k.run_id == run)
        .map(|k| k.project_id.clone())
        .unwrap();
    super::update(
        m,
        Msg::CancelFinished {
            key: RunKey::new(&project, run),
            result,
        },
        keys,
    );
}

fn sent() -> Result<CancelSent, String> {
    Ok(CancelSent {
        already_ended: false,
        deadline: std::time::Duration::from_secs(30),
    })
}

#[test]
fn s_sorts_by_each_column_in_turn_and_capital_s_reverses_keeping_the_cursor_on_its_run() {
    let (mut m, keys) = runs();
    // The workspace's order: active newest first, the ended last.
    assert_eq!(
        order(&m),
        ["run-4", "run-3", "run-2", "run-1", "run-aaaa-1", "run-old"]
    );
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'j');
    assert_eq!(selected(&m).as_deref(), Some("run-2"));
    press(&mut m, &keys, 's');
    assert_eq!(m.runs.sort.by, RunColumn::Project);
    assert_eq!(
        selected(&m).as_deref(),
        Some("run-2"),
        "the cursor keeps its run"
    );
    let by_project = order(&m);
    let titles: Vec<String> = m
        .visible_runs()
        .iter()
        .map(|r| r.view.project_title.clone().unwrap_or_default())
        .collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted, "{by_project:?}");
    press(&mut m, &keys, 'S');
    assert!(m.runs.sort.reversed);
    let mut back = order(&m);
    back.reverse();
    let titles_rev: Vec<String> = m
        .visible_runs()
        .iter()
        .map(|r| r.view.project_title.clone().unwrap_or_default())
        .collect();
    let mut sorted_rev = titles_rev.clone();
    sorted_rev.sort();
    sorted_rev.reverse();
    assert_eq!(titles_rev, sorted_rev, "S turns it round");
    assert_eq!(selected(&m).as_deref(), Some("run-2"));
    assert!(
        m.status
            .message
            .as_ref()
            .is_some_and(|msg| msg.text.contains("reversed"))
    );
    // On through the columns and back to the workspace's order.
    for _ in 0..8 {
        press(&mut m, &keys, 's');
    }
    assert_eq!(m.runs.sort.by, RunColumn::Workspace);
    assert!(
        !m.runs.sort.reversed,
        "a new column starts in its natural direction"
    );
    assert_eq!(selected(&m).as_deref(), Some("run-2"));
}

#[test]
fn started_sort_puts_the_newest_start_first_and_pins_stay_on_top() {
    let (mut m, keys) = runs();
    // Pin the ended one: it stays on top whatever the sort.
    press(&mut m, &keys, 'G');
    press(&mut m, &keys, 'p');
    while m.runs.sort.by != RunColumn::Started {
        press(&mut m, &keys, 's');
    }
    assert_eq!(
        order(&m),
        ["run-old", "run-4", "run-3", "run-2", "run-1", "run-aaaa-1"]
    );
}

#[test]
fn the_filter_takes_field_terms_fuzzy_words_and_negation() {
    let (mut m, keys) = runs();
    let filter = |m: &mut Model, text: &str| {
        press(m, &keys, '/');
        for c in text.chars() {
            press(m, &keys, c);
        }
        enter(m, &keys);
        order(m)
    };
    assert_eq!(filter(&mut m, "trigger:scheduled"), ["run-3"]);
    assert_eq!(filter(&mut m, "status:compl"), ["run-old"]);
    assert_eq!(
        filter(&mut m, "chrn !status:completed"),
        ["run-4", "run-2"],
        "letters in order find 'Churn model' (p2)"
    );
    assert_eq!(filter(&mut m, "param:2026-11-27 origin:tui").len(), 5);
    assert!(filter(&mut m, "owner:nobody").is_empty());
}

#[test]
fn space_marks_and_moves_on_v_marks_a_range_star_marks_all_and_esc_unmarks() {
    let (mut m, keys) = runs();
    press(&mut m, &keys, ' ');
    assert_eq!(selected(&m).as_deref(), Some("run-3"), "moved on");
    press(&mut m, &keys, ' ');
    assert_eq!(m.runs.marked.len(), 2);
    // From the last marked (run-3) to the cursor, two rows down.
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'v');
    let marked = |m: &Model| {
        let mut v: Vec<String> = m.runs.marked.iter().map(|k| k.run_id.clone()).collect();
        v.sort();
        v
    };
    assert_eq!(
        marked(&m),
        ["run-1", "run-2", "run-3", "run-4", "run-aaaa-1"]
    );
    // space on a marked run unmarks it.
    press(&mut m, &keys, 'k');
    assert_eq!(selected(&m).as_deref(), Some("run-1"));
    press(&mut m, &keys, ' ');
    assert_eq!(marked(&m), ["run-2", "run-3", "run-4", "run-aaaa-1"]);
    press(&mut m, &keys, '*');
    assert_eq!(m.runs.marked.len(), 6, "all shown");
    press(&mut m, &keys, '*');
    assert!(m.runs.marked.is_empty(), "again: none");
    press(&mut m, &keys, ' ');
    esc(&mut m, &keys);
    assert!(m.runs.marked.is_empty());
    assert_eq!(
        m.screen,
        crate::tui::model::Screen::Runs,
        "esc unmarked, nothing else"
    );
}

#[test]
fn x_with_marks_previews_then_cancels_the_active_ones_and_sums_up() {
    let (mut m, keys) = runs();
    press(&mut m, &keys, '*');
    let effects = press(&mut m, &keys, 'x');
    assert!(
        cancels(&effects).is_empty(),
        "nothing sent before the answer"
    );
    let Some(Overlay::Confirm(Confirm::Bulk(plan))) = &m.overlay else {
        panic!("no preview: {:?}", m.overlay);
    };
    assert_eq!(plan.action, BulkAction::Cancel);
    assert_eq!(plan.items.len(), 6);
    assert_eq!(plan.acting(), 5);
    let old = plan
        .items
        .iter()
        .find(|i| i.key.run_id == "run-old")
        .unwrap();
    assert_eq!(old.will, Will::Skip("already ended".into()));
    assert_eq!(plan.triggers()[0], ("api".to_string(), 5));
    // Enter takes the default, no.
    enter(&mut m, &keys);
    assert!(m.overlay.is_none());
    assert_eq!(m.runs.marked.len(), 6, "marks kept after a no");

    press(&mut m, &keys, 'x');
    // run-2 ends while the preview is open: it is not cancelled.
    let mut ended = view("p2", "run-2", RunStatus::Completed, 9);
    ended.first_seen = t(2);
    run_update(&mut m, &keys, Change::Ended, ended);
    let mut sent_to = cancels(&press(&mut m, &keys, 'y'));
    sent_to.sort();
    assert_eq!(sent_to, ["run-1", "run-3", "run-4", "run-aaaa-1"]);
    assert!(m.runs.marked.is_empty(), "the marks are spent");
    cancel_answer(&mut m, &keys, "run-1", sent());
    cancel_answer(&mut m, &keys, "run-3", sent());
    cancel_answer(
        &mut m,
        &keys,
        "run-4",
        Ok(CancelSent {
            already_ended: true,
            deadline: std::time::Duration::from_secs(30),
        }),
    );
    assert!(m.overlay.is_none(), "no summary before the last answer");
    cancel_answer(
        &mut m,
        &keys,
        "run-aaaa-1",
        Err("CancelRun: 503 Service Unavailable".into()),
    );
    let Some(Overlay::BulkReport(report)) = &m.overlay else {
        panic!("no summary: {:?}", m.overlay);
    };
    assert_eq!(
        report.counts(),
        "2 cancelled, 2 already ended, 1 skipped, 1 failed"
    );
    let failed = report
        .runs
        .iter()
        .find(|(k, _, _)| k.run_id == "run-aaaa-1")
        .unwrap();
    assert_eq!(
        failed.2,
        Outcome::Failed("CancelRun: 503 Service Unavailable".into())
    );
    // The failed cancel stays on its row; any key closes the summary.
    assert!(
        m.runs
            .cancel_failed
            .contains_key(&RunKey::new("p1", "run-aaaa-1"))
    );
    press(&mut m, &keys, 'j');
    assert!(m.overlay.is_none());
}

#[test]
fn r_with_marks_relaunches_those_with_known_parameters_and_skips_the_others() {
    let (mut m, keys) = runs();
    press(&mut m, &keys, ' '); // run-4
    press(&mut m, &keys, ' '); // run-3, a schedule's: no parameters
    let effects = press(&mut m, &keys, 'r');
    assert_eq!(launches(&effects), 0);
    let Some(Overlay::Confirm(Confirm::Bulk(plan))) = &m.overlay else {
        panic!("no preview: {:?}", m.overlay);
    };
    assert_eq!(plan.acting(), 1);
    assert!(
        plan.items
            .iter()
            .any(|i| matches!(&i.will, Will::Skip(why) if why.contains("Hex's scheduler")))
    );
    let effects = press(&mut m, &keys, 'y');
    assert_eq!(launches(&effects), 1);
    let [Effect::BulkLaunch { item, .. }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let item = *item;
    let launched = |run: &str| crate::engine::Launched {
        key: RunKey::new("p2", run),
        launch_id: "l".into(),
        run_url: None,
        trace_id: None,
        adopted: false,
        duplicates: Vec::new(),
        dry_run: false,
    };
    // A plain launch of the same project meanwhile is not the bulk's answer.
    super::update(
        &mut m,
        Msg::LaunchFinished {
            project_id: "p2".into(),
            result: Ok(launched("run-other")),
        },
        &keys,
    );
    assert!(m.runs.bulk.is_some(), "still waiting for its own answer");
    // A second bulk action waits for the first's summary.
    press(&mut m, &keys, '*');
    press(&mut m, &keys, 'x');
    assert!(
        !matches!(m.overlay, Some(Overlay::Confirm(Confirm::Bulk(_)))),
        "{:?}",
        m.overlay
    );
    assert!(
        m.status
            .message
            .as_ref()
            .is_some_and(|msg| msg.text.contains("under way"))
    );
    press(&mut m, &keys, '*');
    super::update(
        &mut m,
        Msg::BulkLaunchFinished {
            item,
            result: Ok(launched("run-new")),
        },
        &keys,
    );
    let Some(Overlay::BulkReport(report)) = &m.overlay else {
        panic!("no summary: {:?}", m.overlay);
    };
    assert_eq!(report.counts(), "1 launched, 1 skipped");
}

#[test]
fn p_with_marks_pins_them_all_and_again_unpins() {
    let (mut m, keys) = runs();
    press(&mut m, &keys, ' ');
    press(&mut m, &keys, ' ');
    press(&mut m, &keys, 'p');
    assert_eq!(m.pinned.len(), 2);
    press(&mut m, &keys, 'p');
    assert!(m.pinned.is_empty());
}

#[test]
fn marks_the_filter_hides_are_left_out_of_a_bulk_action() {
    let (mut m, keys) = runs();
    press(&mut m, &keys, '*');
    press(&mut m, &keys, '/');
    for c in "trigger:scheduled".chars() {
        press(&mut m, &keys, c);
    }
    code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    press(&mut m, &keys, 'x');
    let Some(Overlay::Confirm(Confirm::Bulk(plan))) = &m.overlay else {
        panic!("no preview: {:?}", m.overlay);
    };
    assert_eq!(plan.items.len(), 1);
    assert_eq!(plan.hidden, 5);
    press(&mut m, &keys, 'y');
    assert_eq!(
        m.runs.marked.len(),
        5,
        "the hidden marks stay, as the preview said"
    );
}

#[test]
fn a_failed_single_cancel_is_marked_on_its_row_until_a_cancel_goes_through() {
    let (mut m, keys) = runs();
    let key = m.selected_run().unwrap().view.key.clone();
    press(&mut m, &keys, 'x');
    let effects = press(&mut m, &keys, 'y');
    assert_eq!(cancels(&effects), vec![key.run_id.clone()]);
    cancel_answer(&mut m, &keys, &key.run_id, Err("connection refused".into()));
    assert_eq!(
        m.runs.cancel_failed.get(&key).map(String::as_str),
        Some("connection refused")
    );
    assert!(
        m.status
            .message
            .as_ref()
            .is_some_and(|msg| msg.text.contains("press x to try again"))
    );
    press(&mut m, &keys, 'x');
    press(&mut m, &keys, 'y');
    cancel_answer(&mut m, &keys, &key.run_id, sent());
    assert!(!m.runs.cancel_failed.contains_key(&key));
}
