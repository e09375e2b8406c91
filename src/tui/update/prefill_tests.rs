//! A launch form prefilled from history (a project's last launch, a run's own values) must be
//! one the form accepts as it opens: here from what a pipeline step journals, read back the way
//! the dashboard reads it.

use indexmap::IndexMap;
use serde_json::json;

use crate::config::Config;
use crate::engine::RunView;
use crate::journal::{Envelope, Event, JournalState, LaunchIntent, LaunchOptions, Origin};
use crate::tui::catalog::project_rows;
use crate::tui::model::{Load, Screen};
use crate::tui::msg::Effect;

use super::test_kit::*;
use crossterm::event::{KeyCode, KeyModifiers};

/// A journal holding one launch of `p1` by the `load` step of a pipeline that sets no timeout:
/// the conductor writes `kill_on_timeout = true` (its default) and no timeout.
fn journal_of_a_step_launch() -> JournalState {
    let intent = LaunchIntent {
        launch_id: "l-step".into(),
        project_id: "p1".into(),
        project_title: Some("load".into()),
        params: IndexMap::from([("day".to_string(), json!("2026-11-27"))]),
        options: LaunchOptions {
            dry_run: false,
            use_cached_sql_results: None,
            update_published_results: None,
            timeout_secs: None,
            kill_on_timeout: true,
        },
        origin: Origin::Pipeline {
            pipeline_run_id: "pr-1".into(),
            step_id: "load".into(),
            attempt: 1,
        },
        profile: "default".into(),
        launched_by: None,
    };
    let launched = Event::Launched {
        launch_id: "l-step".into(),
        project_id: "p1".into(),
        run_id: "run-step-1".into(),
        run_url: None,
        trace_id: None,
        project_version: None,
    };
    let envelopes: Vec<Envelope> = [Event::LaunchIntent(intent), launched]
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope {
            v: crate::journal::FORMAT_VERSION,
            seq: u64::try_from(i).unwrap_or(0) + 1,
            at: t(0),
            event,
        })
        .collect();
    JournalState::replay(&envelopes)
}

fn ctrl_s(m: &mut crate::tui::model::Model, keys: &crate::tui::keymap::KeyMap) -> Vec<Effect> {
    code(m, keys, KeyCode::Char('s'), KeyModifiers::CONTROL)
}

#[test]
fn the_form_of_a_project_a_pipeline_step_launched_last_can_be_launched_as_prefilled() {
    let (mut m, keys) = model();
    let journal = journal_of_a_step_launch();
    let Some(rows) = m.projects.load.data().cloned() else {
        panic!("loaded")
    };
    let projects = rows.into_iter().map(|r| r.project).collect();
    let config = Config::from_toml_str(
        "[[projects]]\nid = \"p1\"\nparams = [{ name = \"day\", type = \"date\", required = true }]\n",
        std::path::Path::new("prefill.toml"),
    )
    .unwrap();
    m.projects.load = Load::Loaded(project_rows(projects, &config, &journal));
    // Title order: Churn model, then Load warehouse (p1).
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    assert_eq!(m.screen, Screen::Form);
    let form = m.form.as_ref().unwrap();
    assert_eq!(
        form.fields[0].text.value(),
        "2026-11-27",
        "prefilled from the step"
    );
    let effects = ctrl_s(&mut m, &keys);
    let [Effect::Launch(req)] = effects.as_slice() else {
        panic!(
            "the prefilled form was refused: {:?} / {:?}",
            m.form.as_ref().map(|f| (&f.error, &f.timeout_error)),
            effects
        );
    };
    assert_eq!(req.options.timeout_secs, None);
    assert!(
        !req.options.kill_on_timeout,
        "no timeout, nothing to kill on"
    );
}

#[test]
fn edit_and_rerun_of_a_pipeline_steps_run_opens_a_form_that_can_be_launched() {
    let (mut m, keys) = model();
    let journal = journal_of_a_step_launch();
    let Some(record) = journal.run("p1", "run-step-1") else {
        panic!("the step's run is journalled")
    };
    let step_run = RunView::from(record);
    run_update(
        &mut m,
        &keys,
        crate::engine::Change::Watching,
        step_run.clone(),
    );
    press(&mut m, &keys, '2');
    for _ in 0..m.runs.rows.len() {
        if m.selected_run().map(|r| &r.view.key) == Some(&step_run.key) {
            break;
        }
        press(&mut m, &keys, 'j');
    }
    assert_eq!(m.selected_run().map(|r| &r.view.key), Some(&step_run.key));
    press(&mut m, &keys, 'e');
    assert_eq!(m.screen, Screen::Form);
    let effects = ctrl_s(&mut m, &keys);
    assert!(
        matches!(effects.as_slice(), [Effect::Launch(_)]),
        "refused: {:?}",
        m.form.as_ref().map(|f| (&f.error, &f.timeout_error))
    );
}

#[test]
fn a_last_value_the_form_would_refuse_is_left_out_and_the_form_says_so() {
    let (mut m, keys) = model();
    if let Load::Loaded(rows) = &mut m.projects.load
        && let Some(row) = rows.iter_mut().find(|r| r.project.id == "p1")
    {
        row.last_params = Some(IndexMap::from([("day".to_string(), json!("31/01/2026"))]));
    }
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'r');
    let form = m.form.as_ref().unwrap();
    assert_eq!(
        form.fields[0].text.value(),
        "",
        "not the value the form refuses"
    );
    assert!(
        form.fields[0].error.is_none(),
        "nothing marked before a launch"
    );
    let msg = m.status.message.as_ref().unwrap();
    assert_eq!(msg.level, crate::tui::model::Level::Warning);
    assert!(
        msg.text.contains("day") && msg.text.contains("31/01/2026"),
        "{}",
        msg.text
    );
}
