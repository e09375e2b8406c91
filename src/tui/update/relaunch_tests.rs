//! `r` on a run: it asks first, showing what will be launched, and only `y` launches; the
//! same on the runs list and in the run's detail.

use serde_json::json;

use crate::engine::RunKey;
use crate::journal::Origin;
use crate::tui::model::Screen;
use crate::tui::msg::Effect;

use super::test_kit::*;

fn launches(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Launch(_)))
        .count()
}

#[test]
fn r_on_a_run_asks_first_and_every_answer_but_yes_launches_nothing() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    let effects = press(&mut m, &keys, 'r');
    assert_eq!(launches(&effects), 0, "r alone launched: {effects:?}");
    assert!(m.overlay.is_some(), "r asks first");
    // Any other key leaves the question open.
    assert!(press(&mut m, &keys, 'j').is_empty());
    assert!(m.overlay.is_some());
    for no in ["n", "esc", "enter"] {
        let effects = match no {
            "n" => press(&mut m, &keys, 'n'),
            "esc" => esc(&mut m, &keys),
            _ => enter(&mut m, &keys),
        };
        assert_eq!(launches(&effects), 0, "{no} launched: {effects:?}");
        assert!(m.overlay.is_none(), "{no} answers no");
        assert_eq!(m.screen, Screen::Runs, "{no}");
        press(&mut m, &keys, 'r');
    }
    let effects = press(&mut m, &keys, 'y');
    let [Effect::Launch(req)] = effects.as_slice() else {
        panic!("y relaunches: {effects:?}");
    };
    assert_eq!(req.project_id, "p1");
    assert_eq!(req.params["day"], json!("2026-11-27"));
    assert_eq!(req.origin, Origin::Tui);
    assert!(!req.options.dry_run);
    assert!(m.overlay.is_none());
}

#[test]
fn r_in_the_runs_detail_asks_the_same_way() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Detail);
    assert_eq!(launches(&press(&mut m, &keys, 'r')), 0);
    assert!(m.overlay.is_some());
    esc(&mut m, &keys);
    assert_eq!(
        m.screen,
        Screen::Detail,
        "esc closed the dialog, not the detail"
    );
    press(&mut m, &keys, 'r');
    let effects = press(&mut m, &keys, 'y');
    assert!(
        matches!(effects.as_slice(), [Effect::Launch(r)] if r.project_id == "p1"),
        "{effects:?}"
    );
}

#[test]
fn r_on_a_run_whose_parameters_are_unknown_opens_the_form_instead() {
    let (mut m, keys) = model();
    let mut foreign = view("p2", "run-sched-9", crate::hex::RunStatus::Completed, 6);
    foreign.params = None;
    foreign.origin = None;
    foreign.first_seen = t(9);
    run_update(&mut m, &keys, crate::engine::Change::Watching, foreign);
    press(&mut m, &keys, '2');
    // Below the running one: active runs come first.
    press(&mut m, &keys, 'j');
    assert_eq!(
        m.selected_run().map(|r| r.view.key.clone()),
        Some(RunKey::new("p2", "run-sched-9"))
    );
    assert_eq!(launches(&press(&mut m, &keys, 'r')), 0);
    assert_eq!(m.screen, Screen::Form);
    assert!(said(&m).contains("parameters are unknown"), "{}", said(&m));
}

#[test]
fn r_on_a_run_a_schedule_started_says_why_its_parameters_are_unknown() {
    let (mut m, keys) = model();
    let mut found = view("p2", "run-sched-7", crate::hex::RunStatus::Running, 6);
    found.params = None;
    found.origin = Some(Origin::Hex {
        profile: None,
        trigger: Some("SCHEDULED".into()),
    });
    run_update(&mut m, &keys, crate::engine::Change::Watching, found);
    press(&mut m, &keys, '2');
    press(&mut m, &keys, '/');
    for c in "sched-7".chars() {
        press(&mut m, &keys, c);
    }
    enter(&mut m, &keys);
    assert_eq!(
        m.selected_run().map(|r| r.view.key.clone()),
        Some(RunKey::new("p2", "run-sched-7"))
    );
    assert_eq!(launches(&press(&mut m, &keys, 'r')), 0);
    assert_eq!(m.screen, Screen::Form);
    let said = said(&m);
    assert!(said.contains("Hex's scheduler"), "{said}");
    assert!(
        said.contains("Hex does not return the parameters"),
        "{said}"
    );
}

#[test]
fn read_only_refuses_a_relaunch_before_asking() {
    let (mut m, keys) = model();
    m.status.read_only = true;
    press(&mut m, &keys, '2');
    assert!(press(&mut m, &keys, 'r').is_empty());
    assert!(m.overlay.is_none());
    assert!(said(&m).contains("read-only"));
}

#[test]
fn enter_bound_to_confirm_answers_yes_and_the_dialog_says_so() {
    let mut config = crate::config::Config::default();
    config.keys.insert(
        "confirm".into(),
        crate::config::KeyBindingValue::One("enter".into()),
    );
    let (keys, warnings) = crate::tui::keymap::KeyMap::from_config(&config);
    assert!(warnings.is_empty(), "{warnings:?}");
    let (mut m, _) = model();
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'r');
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 24)).unwrap();
    t.draw(|f| crate::tui::view::draw(f, &m, &keys)).unwrap();
    let screen = format!("{}", t.backend());
    assert!(
        screen.contains("enter = launch it again, n/esc = do nothing (default)"),
        "{screen}"
    );
    assert_eq!(launches(&enter(&mut m, &keys)), 1);
}
