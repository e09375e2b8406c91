//! Which row a key acts on, on each list: exactly the row drawn under the cursor, or nothing
//! (and then it says so). Filters, refreshes, re-sorts and runs that end must never leave a key
//! aimed at a row the operator cannot see.

use std::path::PathBuf;

use crate::engine::{Change, RunKey};
use crate::hex::RunStatus;
use crate::journal::CancelState;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Confirm, Load, Model, Overlay, Screen};
use crate::tui::msg::{Effect, Msg};
use crate::tui::pipeline_fixtures as fx;

use super::test_kit::*;
use super::update;

/// Two running runs whose titles match their projects: A of "Load warehouse" (newer, so first
/// on the list) and B of "Churn model"; the runs screen with the cursor on A.
fn two_runs() -> (Model, KeyMap, RunKey, RunKey) {
    let (mut m, keys) = model();
    let mut a = view("p1", "run-aaaa-1", RunStatus::Running, 5);
    a.project_title = Some("Load warehouse".into());
    a.first_seen = t(2);
    let mut b = view("p2", "run-bbbb-2", RunStatus::Running, 5);
    b.project_title = Some("Churn model".into());
    b.first_seen = t(1);
    run_update(&mut m, &keys, Change::Watching, a.clone());
    run_update(&mut m, &keys, Change::Watching, b.clone());
    press(&mut m, &keys, '2');
    assert_eq!(m.selected_run().map(|r| &r.view.key), Some(&a.key));
    (m, keys, a.key, b.key)
}

fn cancel_target(m: &Model) -> Option<&RunKey> {
    match &m.overlay {
        Some(Overlay::Confirm(Confirm::CancelRun { key, .. })) => Some(key),
        _ => None,
    }
}

/// The runs screen as the operator sees it: the run ids, the one drawn with the cursor marked.
fn drawn(m: &Model) -> String {
    let keys = KeyMap::defaults();
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 12)).unwrap();
    t.draw(|f| crate::tui::view::draw(f, m, &keys)).unwrap();
    format!("{}", t.backend())
}

#[test]
fn runs_a_filter_that_hides_the_selected_run_moves_the_cursor_to_a_shown_one() {
    let (mut m, keys, a, b) = two_runs();
    // The steps: 1, /churn, enter, enter on the project: its runs, A hidden.
    press(&mut m, &keys, '1');
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "churn");
    enter(&mut m, &keys);
    enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs);
    assert!(m.visible_runs().iter().all(|r| r.view.key != a));
    assert_eq!(
        m.selected_run().map(|r| &r.view.key),
        Some(&b),
        "the cursor is on the one row shown"
    );
    let screen = drawn(&m);
    let cursor_line = screen.lines().find(|l| l.contains('›')).unwrap_or("");
    assert!(cursor_line.contains("run-bbbb"), "{screen}");
    // Every key acts on B, the row under the cursor; none on the hidden A.
    press(&mut m, &keys, 'x');
    assert_eq!(cancel_target(&m), Some(&b));
    esc(&mut m, &keys);
    let effects = press(&mut m, &keys, 'r');
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::Launch(req) if req.project_id == a.project_id)),
        "{effects:?}"
    );
    esc(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs);
    enter(&mut m, &keys);
    assert_eq!(m.detail.as_ref(), Some(&b));
}

#[test]
fn runs_with_nothing_shown_keys_say_no_run_selected() {
    let (mut m, keys, _, _) = two_runs();
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "zzz");
    enter(&mut m, &keys);
    assert!(m.visible_runs().is_empty());
    assert!(m.selected_run().is_none());
    assert!(!drawn(&m).contains('›'));
    for key in ['x', 'r', 'e', 'o', 'c', 'p'] {
        m.status.message = None;
        let effects = press(&mut m, &keys, key);
        assert!(effects.is_empty(), "{key}: {effects:?}");
        assert!(m.overlay.is_none(), "{key}: {:?}", m.overlay);
        assert_eq!(m.screen, Screen::Runs, "{key}");
        assert_eq!(said(&m), "no run selected", "{key}");
    }
    assert!(m.pinned.is_empty());
    m.status.message = None;
    enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs, "enter opens nothing");
    assert!(m.detail.is_none());
    assert_eq!(said(&m), "no run selected");
}

#[test]
fn runs_a_cancelled_run_that_leaves_the_filter_is_no_longer_the_target() {
    let (mut m, keys, a, b) = two_runs();
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "running");
    enter(&mut m, &keys);
    press(&mut m, &keys, 'x');
    assert_eq!(cancel_target(&m), Some(&a));
    assert_eq!(press(&mut m, &keys, 'y'), vec![Effect::Cancel(a.clone())]);
    let mut killed = view("p1", "run-aaaa-1", RunStatus::Killed, 9);
    killed.project_title = Some("Load warehouse".into());
    killed.first_seen = t(2);
    killed.cancel = CancelState::Confirmed {
        at: t(9),
        status: RunStatus::Killed,
    };
    run_update(&mut m, &keys, Change::CancelConfirmed, killed);
    // A left the "running" filter: the cursor is on the row that took its place.
    assert!(m.visible_runs().iter().all(|r| r.view.key != a));
    assert_eq!(m.selected_run().map(|r| &r.view.key), Some(&b));
    press(&mut m, &keys, 'x');
    assert_eq!(cancel_target(&m), Some(&b));
    esc(&mut m, &keys);
    enter(&mut m, &keys);
    assert_eq!(m.detail.as_ref(), Some(&b));
}

#[test]
fn runs_the_cursor_stays_on_its_run_when_the_list_resorts() {
    let (mut m, keys, a, _) = two_runs();
    press(&mut m, &keys, 'j');
    let on = m.selected_run().map(|r| r.view.key.clone());
    assert_ne!(on.as_ref(), Some(&a));
    // Pinning A moves it above: the cursor stays on the run it was on, not on the row.
    m.pinned.insert(a.clone());
    update(&mut m, Msg::Tick(t(20)), &keys);
    assert_eq!(m.selected_run().map(|r| r.view.key.clone()), on);
}

/// Three projects match "model"; the cursor on the last, "Zebra model".
fn projects_filtered() -> (Model, KeyMap) {
    let (mut m, keys) = model();
    m.projects.load = Load::Loaded(vec![
        project("p1", "Load warehouse", vec![date_spec()]),
        project("p2", "Churn model", Vec::new()),
        project("p3", "Revenue model", Vec::new()),
        project("p4", "Zebra model", Vec::new()),
    ]);
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "model");
    enter(&mut m, &keys);
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'j');
    assert_eq!(selected_project(&m), Some("p4"));
    (m, keys)
}

fn selected_project(m: &Model) -> Option<&str> {
    m.selected_project().map(|p| p.project.id.as_str())
}

#[test]
fn projects_a_refresh_that_drops_a_row_keeps_keys_on_the_row_drawn() {
    let (mut m, keys) = projects_filtered();
    let Some(rows) = m.projects.load.data().cloned() else {
        panic!("loaded")
    };
    let without_revenue = rows.into_iter().filter(|r| r.project.id != "p3").collect();
    update(&mut m, Msg::ProjectsLoaded(Ok(without_revenue)), &keys);
    assert_eq!(selected_project(&m), Some("p4"), "still on Zebra model");
    let screen = drawn(&m);
    let cursor_line = screen.lines().find(|l| l.contains('›')).unwrap_or("");
    assert!(cursor_line.contains("Zebra"), "{screen}");
    press(&mut m, &keys, 'r');
    assert_eq!(m.form.as_ref().map(|f| f.project_id.as_str()), Some("p4"));
}

#[test]
fn projects_the_cursor_stays_on_its_project_through_refreshes_and_sorts() {
    let (mut m, keys) = projects_filtered();
    let Some(mut rows) = m.projects.load.data().cloned() else {
        panic!("loaded")
    };
    // A new project sorts above Zebra.
    rows.push(project("p5", "Alpha model", Vec::new()));
    update(&mut m, Msg::ProjectsLoaded(Ok(rows)), &keys);
    assert_eq!(selected_project(&m), Some("p4"));
    press(&mut m, &keys, 's');
    assert_eq!(
        selected_project(&m),
        Some("p4"),
        "a new order, the same project"
    );
}

#[test]
fn projects_with_nothing_shown_keys_say_no_project_selected() {
    let (mut m, keys) = projects_filtered();
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "zzz");
    enter(&mut m, &keys);
    assert!(m.selected_project().is_none());
    for key in ['r', '\n'] {
        m.status.message = None;
        let effects = if key == '\n' {
            enter(&mut m, &keys)
        } else {
            press(&mut m, &keys, key)
        };
        assert!(effects.is_empty(), "{effects:?}");
        assert_eq!(m.screen, Screen::Projects);
        assert_eq!(said(&m), "no project selected");
    }
}

fn pipelines() -> (Model, KeyMap) {
    let mut m = Model::new("default", false, fx::now(), jiff::tz::TimeZone::UTC);
    m.pipelines = fx::state();
    m.screen = Screen::Pipelines;
    (m, KeyMap::defaults())
}

#[test]
fn pipelines_a_reread_that_adds_a_definition_above_keeps_the_cursor_on_its_pipeline() {
    let (mut m, keys) = pipelines();
    press(&mut m, &keys, 'j');
    assert_eq!(
        m.pipelines.selected().map(|d| d.name.as_str()),
        Some("fan-out")
    );
    let mut defs = fx::defs();
    let mut added = defs[0].clone();
    added.name = "alpha".into();
    added.file = Some(PathBuf::from("/cfg/pipelines/alpha.toml"));
    defs.insert(0, added);
    update(&mut m, Msg::PipelinesLoaded(Ok(defs)), &keys);
    assert_eq!(
        m.pipelines.selected().map(|d| d.name.as_str()),
        Some("fan-out")
    );
    press(&mut m, &keys, 'r');
    assert_eq!(
        m.form.as_ref().and_then(|f| f.project_title.as_deref()),
        Some("fan-out")
    );
}

#[test]
fn pipelines_with_nothing_listed_keys_say_no_pipeline_selected() {
    let (mut m, keys) = pipelines();
    update(&mut m, Msg::PipelinesLoaded(Ok(Vec::new())), &keys);
    for key in ['\n', 'r', 'x', 'R'] {
        m.status.message = None;
        let effects = if key == '\n' {
            enter(&mut m, &keys)
        } else {
            press(&mut m, &keys, key)
        };
        assert!(effects.is_empty(), "{key:?}: {effects:?}");
        assert!(m.overlay.is_none());
        assert_eq!(m.screen, Screen::Pipelines);
        assert_eq!(said(&m), "no pipeline selected", "{key:?}");
    }
}

#[test]
fn enter_on_a_project_lists_its_runs_even_those_journalled_without_a_title() {
    let (mut m, keys) = model();
    // `hexdash run ALIAS` journals no title; the dashboard knows it from the projects list.
    let mut untitled = view("p2", "run-cli-7", RunStatus::Running, 5);
    untitled.project_title = None;
    run_update(&mut m, &keys, Change::Watching, untitled);
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "churn");
    enter(&mut m, &keys);
    enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs);
    assert_eq!(
        m.selected_run().map(|r| r.view.key.run_id.as_str()),
        Some("run-cli-7")
    );
    assert!(drawn(&m).contains("Churn model"), "{}", drawn(&m));
    // Runs known before the projects (the journal is read first) get it when they load.
    let key = RunKey::new("p1", "run-early-8");
    let mut early = view("p1", "run-early-8", RunStatus::Running, 5);
    early.project_title = None;
    m.runs.rows.insert(crate::tui::model::RunRow {
        view: early,
        overdue: None,
        followed: true,
    });
    let Some(rows) = m.projects.load.data().cloned() else {
        panic!("loaded")
    };
    update(&mut m, Msg::ProjectsLoaded(Ok(rows)), &keys);
    assert_eq!(
        m.runs.rows[&key].view.project_title.as_deref(),
        Some("Load warehouse")
    );
}
