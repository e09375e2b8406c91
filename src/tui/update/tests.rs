//! Pure tests of `update`: a message in, the model and the effects out.

use crossterm::event::{KeyCode, KeyModifiers};
use serde_json::json;

use super::update;
use crate::engine::{CancelSent, Change, Health, LaunchNotice, Launched, RunKey, Update};
use crate::hex::RunStatus;
use crate::hex::types::InvalidParam;
use crate::journal::{CancelState, Origin};
use crate::tui::keymap::KeyMap;
use crate::tui::model::{
    Confirm, LastRun, LastShown, Level, Load, Model, Overlay, ProjectSort, Screen,
};
use crate::tui::msg::{Effect, LaunchFailure, Msg};

use super::test_kit::*;
use crate::tui::relative_date::RelDate;

#[test]
fn number_keys_switch_screens_and_projects_load_on_demand() {
    let mut m = Model::new("default", false, t(0), jiff::tz::TimeZone::UTC);
    let keys = KeyMap::defaults();
    press(&mut m, &keys, '2');
    assert_eq!(m.screen, Screen::Runs);
    assert_eq!(press(&mut m, &keys, '1'), vec![Effect::FetchProjects]);
    assert_eq!(m.screen, Screen::Projects);
}

/// The run under the cursor.
fn selected(m: &Model) -> Option<RunKey> {
    m.selected_run().map(|r| r.view.key.clone())
}

#[test]
fn moving_clamps_and_the_runs_cursor_follows_the_run_id() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'j');
    let project = |m: &Model| m.selected_project().map(|p| p.project.id.clone());
    assert_eq!(
        project(&m).as_deref(),
        Some("p1"),
        "clamped at the last project"
    );
    press(&mut m, &keys, 'k');
    assert_eq!(project(&m).as_deref(), Some("p2"));

    press(&mut m, &keys, '2');
    assert_eq!(selected(&m), Some(RunKey::new("p1", "run-aaaa-1")));
    // A newer run appears above: the cursor stays on the same run, not the same row.
    let mut newer = view("p2", "run-bbbb-2", RunStatus::Pending, 6);
    newer.first_seen = t(5);
    run_update(&mut m, &keys, Change::Watching, newer);
    assert_eq!(m.visible_runs()[0].view.key.run_id, "run-bbbb-2");
    assert_eq!(selected(&m), Some(RunKey::new("p1", "run-aaaa-1")));
    press(&mut m, &keys, 'k');
    assert_eq!(selected(&m), Some(RunKey::new("p2", "run-bbbb-2")));
}

#[test]
fn focus_follows_the_selected_active_run() {
    let (mut m, keys) = model();
    let effects = press(&mut m, &keys, '2');
    assert_eq!(
        effects,
        vec![
            Effect::FocusProject(Some("p1".into())),
            Effect::Focus(RunKey::new("p1", "run-aaaa-1"), true)
        ]
    );
    let effects = press(&mut m, &keys, '1');
    assert_eq!(
        effects,
        vec![
            Effect::FocusProject(Some("p2".into())),
            Effect::Focus(RunKey::new("p1", "run-aaaa-1"), false)
        ],
        "the project under the cursor is the one discovery lists often"
    );
}

#[test]
fn filter_as_you_type_and_escape_clears_it() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '/');
    for c in "churn".chars() {
        press(&mut m, &keys, c);
    }
    assert_eq!(m.visible_projects().len(), 1);
    assert_eq!(m.visible_projects()[0].project.id, "p2");
    // While typing, letters are text, not actions: 'q' did not quit.
    press(&mut m, &keys, 'q');
    assert!(!m.quit);
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.visible_projects().len(), 2);
}

#[test]
fn sort_cycles() {
    let (mut m, keys) = model();
    assert_eq!(m.projects.sort, ProjectSort::Title);
    assert_eq!(
        m.visible_projects()[0].project.id,
        "p2",
        "Churn before Load"
    );
    press(&mut m, &keys, 's');
    assert_eq!(m.projects.sort, ProjectSort::LastRun);
}

#[test]
fn launch_from_the_form_refuses_bad_fields_and_sends_good_ones() {
    let (mut m, keys) = model();
    // Title order: "Churn model" first; move to "Load warehouse", which declares a date.
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    assert_eq!(m.screen, Screen::Form);
    let effects = code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(effects.is_empty(), "the required date is empty");
    assert!(m.form.as_ref().unwrap().fields[0].error.is_some());
    // 'y' in a date field means yesterday; 'j' would type, not move.
    press(&mut m, &keys, 'y');
    let effects = code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let [Effect::Launch(req)] = effects.as_slice() else {
        panic!("expected one launch, got {effects:?}");
    };
    assert_eq!(req.project_id, "p1");
    assert_eq!(req.origin, Origin::Tui);
    assert!(m.form.as_ref().unwrap().submitting);
    // A second ctrl-s while the first is in flight sends nothing.
    assert!(code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL).is_empty());
}

#[test]
fn a_launch_result_goes_to_the_runs_screen_and_a_422_to_the_fields() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    press(&mut m, &keys, 't');
    code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    update(
        &mut m,
        Msg::LaunchFinished {
            project_id: "p1".into(),
            result: Err(LaunchFailure::Rejected {
                message: "Invalid input parameters".into(),
                invalid: vec![InvalidParam {
                    param_name: "day".into(),
                    param_value: Some("\"2026-13-01\"".into()),
                    data_type: Some("DATE".into()),
                    input_cell_type: None,
                }],
                not_found: vec![],
            }),
        },
        &keys,
    );
    let form = m.form.as_ref().unwrap();
    assert_eq!(m.screen, Screen::Form, "a refusal keeps the form open");
    assert!(!form.submitting);
    assert!(
        form.fields[0]
            .error
            .as_deref()
            .unwrap()
            .contains("2026-13-01")
    );

    code(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    let key = RunKey::new("p1", "run-new-3");
    let effects = update(
        &mut m,
        Msg::LaunchFinished {
            project_id: "p1".into(),
            result: Ok(Launched {
                key: key.clone(),
                launch_id: "l3".into(),
                run_url: None,
                trace_id: None,
                adopted: false,
                duplicates: vec![],
                dry_run: false,
            }),
        },
        &keys,
    );
    assert_eq!(m.screen, Screen::Runs);
    assert!(m.form.is_none());
    assert!(m.session_runs.contains(&key));
    assert!(
        effects
            .iter()
            .all(|e| matches!(e, Effect::Focus(..) | Effect::FocusProject(..)))
    );
    // Its row may come after the answer; the cursor goes to it when it does.
    run_update(
        &mut m,
        &keys,
        Change::Watching,
        view("p1", "run-new-3", RunStatus::Pending, 11),
    );
    assert_eq!(selected(&m), Some(key));
    // The next form for the project starts from what was launched.
    let Load::Loaded(rows) = &m.projects.load else {
        panic!()
    };
    assert!(
        rows.iter()
            .any(|r| r.project.id == "p1" && r.last_params.is_some())
    );
}

#[test]
fn cancel_asks_first_defaults_to_no_and_sends_the_frozen_target() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'x');
    let Some(Overlay::Confirm(Confirm::CancelRun { key, .. })) = &m.overlay else {
        panic!("expected the cancel dialog, got {:?}", m.overlay);
    };
    assert_eq!(key.run_id, "run-aaaa-1");
    // Any other key keeps the question open; 'n' declines.
    press(&mut m, &keys, 'j');
    assert!(m.overlay.is_some());
    assert!(press(&mut m, &keys, 'n').is_empty());
    assert!(m.overlay.is_none());

    press(&mut m, &keys, 'x');
    let effects = press(&mut m, &keys, 'y');
    assert_eq!(
        effects,
        vec![Effect::Cancel(RunKey::new("p1", "run-aaaa-1"))]
    );
}

#[test]
fn the_cancel_dialog_closes_when_its_run_ends_meanwhile() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'x');
    let mut done = view("p1", "run-aaaa-1", RunStatus::Completed, 8);
    done.end_time = Some(t(8));
    run_update(&mut m, &keys, Change::Ended, done);
    assert!(m.overlay.is_none(), "no cancel of a run that ended");
    assert_eq!(m.status.message.as_ref().unwrap().level, Level::Warning);
    assert!(press(&mut m, &keys, 'y').is_empty());
}

#[test]
fn stale_results_that_arrive_after_a_cancel_do_not_revive_the_run() {
    let (mut m, keys) = model();
    let key = RunKey::new("p1", "run-aaaa-1");
    let mut killed = view("p1", "run-aaaa-1", RunStatus::Killed, 20);
    killed.cancel = CancelState::Confirmed {
        at: t(20),
        status: RunStatus::Killed,
    };
    run_update(&mut m, &keys, Change::CancelConfirmed, killed);
    // A poll answered before the cancel took effect arrives late.
    run_update(
        &mut m,
        &keys,
        Change::Refreshed,
        view("p1", "run-aaaa-1", RunStatus::Running, 12),
    );
    let row = &m.runs.rows[&key];
    assert_eq!(row.view.status, Some(RunStatus::Killed));
    assert_eq!(row.view.observed_at, Some(t(20)));
    // And an older observation of an active run never replaces a newer one either.
    run_update(
        &mut m,
        &keys,
        Change::Status,
        view("p2", "r2", RunStatus::Running, 30),
    );
    run_update(
        &mut m,
        &keys,
        Change::Status,
        view("p2", "r2", RunStatus::Pending, 25),
    );
    assert_eq!(
        m.runs.rows[&RunKey::new("p2", "r2")].view.status,
        Some(RunStatus::Running)
    );
}

#[test]
fn a_run_that_turns_overdue_rings_once() {
    let (mut m, keys) = model();
    let key = RunKey::new("p1", "run-aaaa-1");
    let late = Some(crate::engine::Overdue::PendingTooLong {
        pending: std::time::Duration::from_secs(400),
    });
    let rings = |m: &mut Model, flag: Option<crate::engine::Overdue>| {
        let effects = update(m, Msg::OverdueChecked(vec![(key.clone(), flag)]), &keys);
        effects
            .iter()
            .filter(|e| matches!(e, Effect::Notify(t) if t.contains("overdue")))
            .count()
    };
    assert_eq!(rings(&mut m, None), 0);
    assert_eq!(rings(&mut m, late.clone()), 1);
    assert!(m.runs.rows[&key].overdue.is_some());
    assert_eq!(rings(&mut m, late.clone()), 0, "once per run");
    assert_eq!(rings(&mut m, None), 0);
    assert_eq!(rings(&mut m, late), 0, "not again after a blip");
}

#[test]
fn a_session_or_pinned_run_rings_when_it_ends() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'p');
    assert!(m.pinned.contains(&RunKey::new("p1", "run-aaaa-1")));
    let effects = run_update(
        &mut m,
        &keys,
        Change::Ended,
        view("p1", "run-aaaa-1", RunStatus::Errored, 9),
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Notify(t) if t.contains("ERRORED"))),
        "{effects:?}"
    );
    // A run nobody asked about ends quietly.
    run_update(
        &mut m,
        &keys,
        Change::Watching,
        view("p2", "r9", RunStatus::Running, 9),
    );
    let effects = run_update(
        &mut m,
        &keys,
        Change::Ended,
        view("p2", "r9", RunStatus::Completed, 10),
    );
    assert!(!effects.iter().any(|e| matches!(e, Effect::Notify(_))));
}

#[test]
fn rerun_asks_then_relaunches_with_the_same_parameters_and_e_opens_the_form() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    assert!(press(&mut m, &keys, 'r').is_empty(), "r asks first");
    let effects = press(&mut m, &keys, 'y');
    let [Effect::Launch(req)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(req.params["day"], json!("2026-11-27"));
    press(&mut m, &keys, 'e');
    assert_eq!(m.screen, Screen::Form);
    let form = m.form.as_ref().unwrap();
    assert_eq!(form.fields[0].text.value(), "2026-11-27");
    assert_eq!(form.rerun_of, Some(RunKey::new("p1", "run-aaaa-1")));
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Runs);
    assert!(m.form.is_none());
}

#[test]
fn open_detail_open_url_copy_cycle_and_back() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '2');
    code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Detail);
    assert_eq!(
        press(&mut m, &keys, 'o'),
        vec![Effect::OpenUrl("https://app.hex.tech/x/run-aaaa-1".into())]
    );
    assert_eq!(
        press(&mut m, &keys, 'c'),
        vec![Effect::Copy("https://app.hex.tech/x/run-aaaa-1".into())]
    );
    assert_eq!(
        press(&mut m, &keys, 'c'),
        vec![Effect::Copy("run-aaaa-1".into())]
    );
    assert_eq!(
        press(&mut m, &keys, 'c'),
        vec![Effect::Copy("hexdash run p1 -p day=2026-11-27".into())]
    );
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Runs);
}

#[test]
fn quit_asks_while_session_runs_are_active() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'q');
    assert!(m.quit, "no session runs: quits at once");

    let (mut m, keys) = model();
    m.session_runs.insert(RunKey::new("p1", "run-aaaa-1"));
    press(&mut m, &keys, 'q');
    assert!(!m.quit);
    assert!(matches!(
        m.overlay,
        Some(Overlay::Confirm(Confirm::Quit { active: 1 }))
    ));
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert!(!m.quit && m.overlay.is_none());
    press(&mut m, &keys, 'q');
    press(&mut m, &keys, 'y');
    assert!(m.quit);
}

#[test]
fn help_and_command_line() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '?');
    assert_eq!(m.overlay, Some(Overlay::Help));
    press(&mut m, &keys, 'j');
    assert_eq!(m.overlay, Some(Overlay::Help), "help stays until closed");
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert!(m.overlay.is_none());

    press(&mut m, &keys, ':');
    for c in "runs".chars() {
        press(&mut m, &keys, c);
    }
    code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Runs);
    m.status.profiles = Some(vec!["default".into(), "staging".into()]);
    press(&mut m, &keys, ':');
    for c in "profile staging".chars() {
        press(&mut m, &keys, c);
    }
    let effects = code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(effects, vec![Effect::SwitchProfile("staging".into())]);
    press(&mut m, &keys, ':');
    for c in "prjects".chars() {
        press(&mut m, &keys, c);
    }
    code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    let msg = m.status.message.as_ref().unwrap();
    assert_eq!(msg.level, Level::Error);
    assert!(
        msg.text.contains("did you mean \"projects\""),
        "{}",
        msg.text
    );
    // Errors stay until dismissed.
    update(&mut m, Msg::Tick(t(99)), &keys);
    assert!(m.status.message.is_some());
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert!(m.status.message.is_none());
}

#[test]
fn read_only_refuses_launch_and_cancel() {
    let (mut m, keys) = model();
    m.status.read_only = true;
    assert!(press(&mut m, &keys, 'r').is_empty());
    assert_eq!(m.screen, Screen::Projects);
    press(&mut m, &keys, '2');
    press(&mut m, &keys, 'x');
    assert!(m.overlay.is_none());
    assert!(
        m.status
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("read-only")
    );
}

#[test]
fn engine_health_budget_notices_and_cancel_results_reach_the_status_bar() {
    let (mut m, keys) = model();
    let health = Health {
        last_success: Some(t(5)),
        error: Some("GetRunStatus: no answer".into()),
        paused_until: None,
        workspace: None,
    };
    update(&mut m, Msg::Engine(Update::Health(health.clone())), &keys);
    assert_eq!(m.status.health, health);
    update(
        &mut m,
        Msg::Engine(Update::Launch(LaunchNotice {
            launch_id: "l".into(),
            project_id: "p1".into(),
            message: "adopted run r for an unanswered launch".into(),
        })),
        &keys,
    );
    assert!(m.status.message.as_ref().unwrap().text.contains("adopted"));
    update(
        &mut m,
        Msg::CancelFinished {
            key: RunKey::new("p1", "run-aaaa-1"),
            result: Ok(CancelSent {
                already_ended: false,
                deadline: std::time::Duration::from_secs(60),
            }),
        },
        &keys,
    );
    assert!(
        m.status
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("waiting up to 60s")
    );
    update(
        &mut m,
        Msg::ProjectsLoaded(Err("GetProjects: 500".into())),
        &keys,
    );
    let Load::Failed { previous, .. } = &m.projects.load else {
        panic!()
    };
    assert_eq!(previous.as_ref().unwrap().len(), 2, "last good data stays");
    assert_eq!(m.visible_projects().len(), 2);
}

#[test]
fn a_budget_that_stops_being_shared_says_so_once() {
    use crate::hex::{BudgetSnapshot, Limits, Sharing};
    let (mut m, keys) = model();
    m.status.message = None;
    let shared = BudgetSnapshot {
        requests_left_this_minute: 29,
        launches_left_this_minute: 20,
        launches_left_this_hour: 60,
        paused_for: None,
        limits: Limits::default(),
        used_this_minute: 31,
        processes: 4,
        sharing: Sharing::Shared,
    };
    update(&mut m, Msg::Budget(shared), &keys);
    assert_eq!(m.status.message, None);
    let alone = BudgetSnapshot {
        sharing: Sharing::Unavailable,
        processes: 1,
        ..shared
    };
    update(&mut m, Msg::Budget(alone), &keys);
    let message = m.status.message.take().unwrap();
    assert_eq!(message.level, Level::Warning);
    assert!(
        message.text.contains("no longer shared"),
        "{}",
        message.text
    );
    update(&mut m, Msg::Budget(alone), &keys);
    assert_eq!(m.status.message, None);
}

#[test]
fn ctrl_c_quits_from_anywhere_even_the_form() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'r');
    assert_eq!(m.screen, Screen::Form);
    code(&mut m, &keys, KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(m.quit);
}

fn command(m: &mut Model, keys: &KeyMap, text: &str) -> Vec<Effect> {
    press(m, keys, ':');
    for c in text.chars() {
        press(m, keys, c);
    }
    code(m, keys, KeyCode::Enter, KeyModifiers::NONE)
}

/// In the form ':' types into a field; ctrl-p opens the command line at ":preset ".
fn preset(m: &mut Model, keys: &KeyMap, rest: &str) -> Vec<Effect> {
    code(m, keys, KeyCode::Char('p'), KeyModifiers::CONTROL);
    for c in rest.chars() {
        press(m, keys, c);
    }
    code(m, keys, KeyCode::Enter, KeyModifiers::NONE)
}

#[test]
fn presets_save_load_and_delete_from_the_form() {
    let (mut m, keys) = model();
    assert!(command(&mut m, &keys, "preset save x").is_empty());
    assert!(
        m.status
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("launch form")
    );

    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    for c in "2026-11-30".chars() {
        press(&mut m, &keys, c);
    }
    // ctrl-p opens the command line at ":preset ", whatever field has the cursor.
    code(&mut m, &keys, KeyCode::Char('p'), KeyModifiers::CONTROL);
    assert_eq!(m.overlay, Some(Overlay::CommandLine("preset ".into())));
    for c in "save month end".chars() {
        press(&mut m, &keys, c);
    }
    let effects = code(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    let [Effect::SavePresets(saved)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(saved["p1"]["month end"].params["day"], json!("2026-11-30"));

    // Edit the field, then load the preset back.
    press(&mut m, &keys, 't');
    assert_ne!(
        m.form.as_ref().unwrap().fields[0].text.value(),
        "2026-11-30"
    );
    preset(&mut m, &keys, "month end");
    assert_eq!(
        m.form.as_ref().unwrap().fields[0].text.value(),
        "2026-11-30"
    );
    preset(&mut m, &keys, "month nd");
    assert!(
        m.status
            .message
            .as_ref()
            .unwrap()
            .text
            .contains("did you mean")
    );

    let effects = preset(&mut m, &keys, "delete month end");
    assert!(matches!(effects.as_slice(), [Effect::SavePresets(p)] if p["p1"].is_empty()));
}

#[test]
fn a_date_set_with_its_keys_is_saved_relative_and_means_a_new_date_on_a_later_day() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    let today = m.now.to_zoned(m.tz.clone()).date();
    // y, then - : the day before yesterday, kept relative.
    press(&mut m, &keys, 'y');
    press(&mut m, &keys, '-');
    let field = &m.form.as_ref().unwrap().fields[0];
    assert_eq!(field.relative, Some(RelDate::Days(-2)));
    assert_eq!(
        field.text.value(),
        RelDate::Days(-2).resolve(today).to_string()
    );
    let effects = preset(&mut m, &keys, "save two days back");
    let [Effect::SavePresets(saved)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(saved["p1"]["two days back"].params["day"], json!("today-2"));
    // e: last month's end, saved as such.
    press(&mut m, &keys, 'e');
    let effects = preset(&mut m, &keys, "save month close");
    let [Effect::SavePresets(saved)] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(
        saved["p1"]["month close"].params["day"],
        json!("last month end")
    );
    // A typed date is fixed.
    press(&mut m, &keys, 't');
    code(&mut m, &keys, KeyCode::Backspace, KeyModifiers::NONE);
    press(&mut m, &keys, '9');
    assert_eq!(m.form.as_ref().unwrap().fields[0].relative, None);

    // Three days later the preset means three days later's date.
    m.now += jiff::SignedDuration::from_hours(72);
    let later = m.now.to_zoned(m.tz.clone()).date();
    preset(&mut m, &keys, "two days back");
    let field = &m.form.as_ref().unwrap().fields[0];
    assert_eq!(
        field.text.value(),
        RelDate::Days(-2).resolve(later).to_string()
    );
    assert_eq!(field.relative, Some(RelDate::Days(-2)), "still relative");
    let request = m.form.as_mut().unwrap().validate(Origin::Tui).unwrap();
    assert_eq!(
        request.params["day"],
        json!(RelDate::Days(-2).resolve(later).to_string()),
        "what is sent is the date"
    );
}

#[test]
fn a_pipeline_steps_run_named_by_alias_carries_its_projects_title_and_is_among_its_runs() {
    let (mut m, keys) = model();
    let mut step = view("p1", "run-step-1", RunStatus::Running, 6);
    step.project_title = Some("load-alias".into());
    step.origin = Some(Origin::Pipeline {
        pipeline_run_id: "pr-1".into(),
        step_id: "load".into(),
        attempt: 1,
    });
    run_update(&mut m, &keys, Change::Watching, step);
    let key = RunKey::new("p1", "run-step-1");
    assert_eq!(
        m.runs.rows[&key].view.project_title.as_deref(),
        Some("Load warehouse")
    );
    // enter on the project lists it with the project's other runs.
    press(&mut m, &keys, '1');
    press(&mut m, &keys, '/');
    for c in "load".chars() {
        press(&mut m, &keys, c);
    }
    enter(&mut m, &keys);
    assert_eq!(
        m.selected_project()
            .map(|p| p.project.id.clone())
            .as_deref(),
        Some("p1")
    );
    enter(&mut m, &keys);
    assert!(m.visible_runs().iter().any(|r| r.view.key == key));
}

#[test]
fn profile_switches_only_to_a_configured_profile_and_never_in_the_demo() {
    let (mut m, keys) = model();
    let say = |m: &mut Model, text: &str| {
        let effects = command(m, &keys, text);
        let msg = m
            .status
            .message
            .clone()
            .map(|msg| msg.text)
            .unwrap_or_default();
        (effects, msg)
    };
    m.status.profiles = Some(vec!["default".into(), "staging".into()]);
    let (effects, msg) = say(&mut m, "profile stagng");
    assert!(effects.is_empty(), "nothing restarts");
    assert!(
        msg.contains("did you mean") && msg.contains("configured: default, staging"),
        "{msg}"
    );
    let (effects, msg) = say(&mut m, "profile default");
    assert!(effects.is_empty());
    assert!(msg.contains("already on profile"), "{msg}");
    // The demo: switching is not possible, and it says so.
    m.status.profiles = None;
    let (effects, msg) = say(&mut m, "profile staging");
    assert!(effects.is_empty());
    assert!(msg.contains("demo"), "{msg}");
}

#[test]
fn a_preset_is_not_saved_from_a_form_with_bad_fields() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    // The required date is empty.
    assert!(preset(&mut m, &keys, "save broken").is_empty());
    assert!(m.presets.is_empty());
    assert_eq!(m.status.message.as_ref().unwrap().level, Level::Error);
}

#[test]
fn filtering_runs_moves_the_cursor_off_hidden_rows_and_1_again_refreshes_projects() {
    let (mut m, keys) = model();
    run_update(
        &mut m,
        &keys,
        Change::Watching,
        view("p2", "r-other", RunStatus::Running, 6),
    );
    press(&mut m, &keys, '2');
    m.runs.cursor = crate::tui::cursor::Cursor::on(RunKey::new("p1", "run-aaaa-1"));
    press(&mut m, &keys, '/');
    // p2 is "Churn model" in the projects list, whatever its runs recorded.
    for c in "churn".chars() {
        press(&mut m, &keys, c);
    }
    assert_eq!(selected(&m), Some(RunKey::new("p2", "r-other")));
    code(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    press(&mut m, &keys, '1');
    assert_eq!(press(&mut m, &keys, '1'), vec![Effect::RefreshProjects]);
    assert!(
        m.projects.load.data().is_some(),
        "the rows stay while refreshing"
    );
}

#[test]
fn prod_like_profiles_are_flagged_by_name() {
    for (name, flagged) in [
        ("prod", true),
        ("production-eu", true),
        ("live", true),
        ("maintenance", false),
        ("domain", false),
        ("staging", false),
    ] {
        assert_eq!(
            Model::new(name, false, t(0), jiff::tz::TimeZone::UTC)
                .status
                .prod_like,
            flagged,
            "{name}"
        );
    }
}

#[test]
fn hex_is_asked_for_a_projects_newest_run_once_the_cursor_rests_on_it() {
    let (mut m, keys) = model();
    let selected = m.selected_project().unwrap().project.id.clone();
    assert_eq!(
        m.last_run(m.selected_project().unwrap()),
        LastShown::Unknown
    );
    // First tick on it: resting starts. Second: asked. Third: in flight, nothing more.
    assert!(update(&mut m, Msg::Tick(t(11)), &keys).is_empty());
    assert_eq!(
        update(&mut m, Msg::Tick(t(12)), &keys),
        [Effect::FetchLastRun(selected.clone())]
    );
    assert_eq!(m.last_run(m.selected_project().unwrap()), LastShown::Asking);
    assert!(update(&mut m, Msg::Tick(t(13)), &keys).is_empty());
    update(
        &mut m,
        Msg::LastRunFetched {
            project_id: selected.clone(),
            result: Ok(None),
        },
        &keys,
    );
    assert_eq!(m.last_run(m.selected_project().unwrap()), LastShown::NoRuns);
    assert!(
        update(&mut m, Msg::Tick(t(14)), &keys).is_empty(),
        "asked once"
    );
}

#[test]
fn scrolling_past_a_project_asks_nothing_about_it() {
    let (mut m, keys) = model();
    update(&mut m, Msg::Tick(t(11)), &keys);
    press(&mut m, &keys, 'j');
    let next = m.selected_project().unwrap().project.id.clone();
    assert!(
        update(&mut m, Msg::Tick(t(12)), &keys).is_empty(),
        "the cursor moved: resting starts again"
    );
    assert_eq!(
        update(&mut m, Msg::Tick(t(13)), &keys),
        [Effect::FetchLastRun(next)]
    );
    // Not while another screen is shown.
    press(&mut m, &keys, '2');
    assert!(update(&mut m, Msg::Tick(t(14)), &keys).is_empty());
}

#[test]
fn the_newer_of_the_journals_and_hexs_last_run_is_shown_and_failures_are_retried_later() {
    let (mut m, keys) = model();
    let id = m.selected_project().unwrap().project.id.clone();
    if let Load::Loaded(rows) = &mut m.projects.load {
        let row = rows.iter_mut().find(|r| r.project.id == id).unwrap();
        row.last_status = Some(RunStatus::Completed);
        row.last_run_at = Some(t(5));
        row.last_duration_secs = Some(60.0);
    }
    let hex = |at| LastRun {
        status: RunStatus::Errored,
        at: Some(t(at)),
        duration_secs: None,
    };
    let fetched = |m: &mut Model, result| {
        update(
            m,
            Msg::LastRunFetched {
                project_id: id.clone(),
                result,
            },
            &keys,
        )
    };
    fetched(&mut m, Ok(Some(hex(1))));
    let LastShown::Run(shown) = m.last_run(m.selected_project().unwrap()) else {
        panic!()
    };
    assert_eq!(shown.status, RunStatus::Completed, "the journal's is newer");
    fetched(&mut m, Ok(Some(hex(9))));
    let LastShown::Run(shown) = m.last_run(m.selected_project().unwrap()) else {
        panic!()
    };
    assert_eq!(shown.status, RunStatus::Errored, "Hex's is newer");

    fetched(&mut m, Err("429".into()));
    assert!(m.status.message.is_none(), "no error message for this");
    assert!(update(&mut m, Msg::Tick(t(20)), &keys).is_empty());
    assert!(
        update(&mut m, Msg::Tick(t(25)), &keys).is_empty(),
        "backing off"
    );
    update(&mut m, Msg::Tick(t(45)), &keys);
    assert_eq!(
        update(&mut m, Msg::Tick(t(46)), &keys),
        [Effect::FetchLastRun(id.clone())]
    );
}

#[test]
fn the_project_list_is_looked_at_again_every_minute_once_it_has_arrived() {
    let mut m = Model::new("default", false, t(0), jiff::tz::TimeZone::UTC);
    let keys = KeyMap::defaults();
    let relists = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| matches!(e, Effect::RelistProjects))
            .count()
    };
    // Nothing before the first answer (the first ask is the app's, at start).
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(120)), &keys)), 0);
    update(
        &mut m,
        Msg::ProjectsLoaded(Ok(vec![project("p1", "Daily ETL", Vec::new())])),
        &keys,
    );
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(150)), &keys)), 0);
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(180)), &keys)), 1);
    // Asked: not again every tick while the answer is on its way.
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(181)), &keys)), 0);
    // A failed list is tried again a minute later too.
    update(&mut m, Msg::ProjectsLoaded(Err("503".into())), &keys);
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(200)), &keys)), 0);
    assert_eq!(relists(&update(&mut m, Msg::Tick(t(242)), &keys)), 1);
}

#[test]
fn p_on_a_project_pins_it_first_and_tells_discovery() {
    let (mut m, keys) = model();
    press(&mut m, &keys, '1');
    // Sorted by title: Churn model, Load warehouse. Pin the second.
    press(&mut m, &keys, 'j');
    assert_eq!(
        m.selected_project().map(|r| r.project.id.as_str()),
        Some("p1")
    );
    let effects = press(&mut m, &keys, 'p');
    assert_eq!(effects, [Effect::PinProjects(vec!["p1".into()])]);
    assert!(said(&m).contains("pinned Load warehouse"), "{}", said(&m));
    let order: Vec<&str> = m
        .visible_projects()
        .iter()
        .map(|r| r.project.id.as_str())
        .collect();
    assert_eq!(order, ["p1", "p2"], "pinned first");
    // The cursor stays on the project it was on.
    assert_eq!(
        m.selected_project().map(|r| r.project.id.as_str()),
        Some("p1")
    );
    let effects = press(&mut m, &keys, 'p');
    assert_eq!(effects, [Effect::PinProjects(Vec::new())]);
    assert!(said(&m).contains("unpinned"), "{}", said(&m));

    // A draft has no runs to look for, and the message does not promise any.
    if let Load::Loaded(rows) = &mut m.projects.load {
        for r in rows.iter_mut() {
            r.project.last_published_at = None;
        }
    }
    press(&mut m, &keys, 'p');
    assert!(said(&m).contains("not published"), "{}", said(&m));
}
