//! Pure tests of the Pipelines screens' keys and results.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use indexmap::IndexMap;
use serde_json::json;

use super::update;
use crate::engine::RunKey;
use crate::hex::RunStatus;
use crate::journal::Origin;
use crate::pipeline::machine::PipelineStatus;
use crate::tui::fixtures::run_view;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Confirm, Level, Load, Model, Overlay, RunRow, Screen};
use crate::tui::msg::{Effect, Msg};
use crate::tui::pipeline_fixtures::{self as fx, etl_running};

fn model() -> (Model, KeyMap) {
    let mut m = Model::new("default", false, fx::now(), jiff::tz::TimeZone::UTC);
    m.pipelines = fx::state();
    m.screen = Screen::Pipelines;
    (m, KeyMap::defaults())
}

fn press(m: &mut Model, keys: &KeyMap, c: char) -> Vec<Effect> {
    key(m, keys, KeyCode::Char(c), KeyModifiers::NONE)
}

fn key(m: &mut Model, keys: &KeyMap, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    update(m, Msg::Key(KeyEvent::new(code, mods)), keys)
}

fn message(m: &Model) -> (Level, String) {
    let msg = m.status.message.clone().expect("a message");
    (msg.level, msg.text)
}

const RUNNING: &str = "7f3c9d2e-0000-4000-8000-000000000002";
const FAILED: &str = "c4d5e6f7-0000-4000-8000-000000000003";

#[test]
fn three_opens_the_list_once_then_rereads_it() {
    let mut m = Model::new("default", false, fx::now(), jiff::tz::TimeZone::UTC);
    let keys = KeyMap::defaults();
    assert_eq!(press(&mut m, &keys, '3'), vec![Effect::LoadPipelines]);
    assert_eq!(m.screen, Screen::Pipelines);
    assert_eq!(m.pipelines.defs, Load::Loading);
    // Pressed again on the list: read the files again (an edited definition shows).
    assert_eq!(press(&mut m, &keys, '3'), vec![Effect::LoadPipelines]);
    update(&mut m, Msg::PipelinesLoaded(Ok(fx::defs())), &keys);
    press(&mut m, &keys, '1');
    // Back later: definitions stay, the runs are read again for fresh outcomes.
    assert_eq!(press(&mut m, &keys, '3'), vec![Effect::LoadPipelineRuns]);
    // :pipelines goes there too.
    press(&mut m, &keys, '1');
    press(&mut m, &keys, ':');
    for c in "pipelines".chars() {
        press(&mut m, &keys, c);
    }
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Pipelines);
}

#[test]
fn enter_opens_the_newest_run_on_the_step_to_look_at() {
    let (mut m, keys) = model();
    let effects = key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::PipelineRun);
    assert_eq!(m.pipelines.open.as_deref(), Some(RUNNING));
    // extract succeeded (after a retry); transform is the one running.
    assert_eq!(m.pipelines.selected_step_index(), Some(1));
    assert!(effects.contains(&Effect::LoadPipelineRuns));
    // Steps move and clamp.
    for _ in 0..5 {
        press(&mut m, &keys, 'j');
    }
    assert_eq!(m.pipelines.selected_step_index(), Some(2));
    press(&mut m, &keys, 'k');
    assert_eq!(m.pipelines.selected_step_index(), Some(1));
    key(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Pipelines);
    // A pipeline that never ran says so.
    m.pipelines.runs = Some(Vec::new());
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Pipelines);
    assert!(message(&m).1.contains("r launches it"), "{:?}", message(&m));
}

#[test]
fn r_opens_the_pipeline_form_and_ctrl_s_starts_it() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'r');
    assert_eq!(m.screen, Screen::Form);
    let form = m.form.as_ref().unwrap();
    assert_eq!(
        form.pipeline.as_deref(),
        Some(PathBuf::from("/cfg/pipelines/daily-etl.toml").as_path())
    );
    assert_eq!(
        form.fields[0].text.value(),
        "2026-11-27",
        "prefilled with the default"
    );
    // No run options: tab stays on the one parameter.
    press(&mut m, &keys, '\t');
    key(&mut m, &keys, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(m.form.as_ref().unwrap().focus, 0);
    let effects = key(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(
        effects,
        vec![Effect::StartPipeline {
            file: PathBuf::from("/cfg/pipelines/daily-etl.toml"),
            params: IndexMap::from([("date".to_string(), json!("2026-11-27"))]),
        }]
    );
    assert!(m.pipelines.starting && m.pipelines.live());
    // Started: the run view of the new run, a bell when it ends.
    let effects = update(&mut m, Msg::PipelineStarted(Ok("new-run-id".into())), &keys);
    assert_eq!(m.screen, Screen::PipelineRun);
    assert_eq!(m.pipelines.open.as_deref(), Some("new-run-id"));
    assert!(m.form.is_none() && !m.pipelines.starting);
    assert!(m.pipelines.session.contains("new-run-id"));
    assert!(effects.contains(&Effect::LoadPipelineRuns));
    assert!(m.pipelines.live(), "the new run is not read yet");
    // Once read, the cursor goes to the step that is running.
    let mut new = etl_running();
    new.id = "new-run-id".into();
    let mut runs = m.pipelines.runs.clone().unwrap();
    runs.push(new);
    update(&mut m, Msg::PipelineRunsLoaded(runs.clone()), &keys);
    assert_eq!(m.pipelines.selected_step_index(), Some(1));
    // Later reads leave the cursor where the person put it.
    press(&mut m, &keys, 'k');
    update(&mut m, Msg::PipelineRunsLoaded(runs), &keys);
    assert_eq!(m.pipelines.selected_step_index(), Some(0));
}

#[test]
fn a_start_answered_after_leaving_the_form_does_not_pull_the_person_away() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'r');
    key(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    key(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Pipelines);
    press(&mut m, &keys, '1');
    update(&mut m, Msg::PipelineStarted(Ok("new-run-id".into())), &keys);
    assert_eq!(m.screen, Screen::Projects);
    assert!(
        message(&m).1.contains("run new-run- started"),
        "{:?}",
        message(&m)
    );
}

#[test]
fn a_refused_start_stays_on_the_form_with_the_reason() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'r');
    key(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    update(
        &mut m,
        Msg::PipelineStarted(Err("pipeline daily-etl has no parameter \"dat\"".into())),
        &keys,
    );
    assert_eq!(m.screen, Screen::Form);
    let form = m.form.as_ref().unwrap();
    assert!(!form.submitting);
    assert!(form.error.as_deref().unwrap().contains("no parameter"));
}

#[test]
fn an_invalid_definition_cannot_be_launched_and_says_why() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    press(&mut m, &keys, 'j');
    assert_eq!(m.pipelines.selected().unwrap().name, "broken");
    assert!(press(&mut m, &keys, 'r').is_empty());
    assert_eq!(m.screen, Screen::Pipelines);
    let (level, text) = message(&m);
    assert_eq!(level, Level::Error);
    assert!(text.contains("broken.toml:9:14"), "{text}");
}

#[test]
fn rerun_from_the_run_view_prefills_that_runs_values() {
    let (mut m, keys) = model();
    m.pipelines.open = Some(FAILED.into());
    m.screen = Screen::PipelineRun;
    press(&mut m, &keys, 'r');
    let form = m.form.as_ref().unwrap();
    assert_eq!(form.project_title.as_deref(), Some("fan-out"));
    let texts: Vec<&str> = form.fields.iter().map(|f| f.text.value()).collect();
    assert_eq!(texts[0], "2026-11-28");
    let quarter = &form.fields[1];
    assert_eq!(quarter.spec.name, "quarter");
}

#[test]
fn x_asks_first_and_y_cancels_exactly_that_run() {
    let (mut m, keys) = model();
    // On the list, x acts on the selected pipeline's newest run.
    assert!(press(&mut m, &keys, 'x').is_empty());
    let Some(Overlay::Confirm(Confirm::CancelPipeline { id, running, .. })) = &m.overlay else {
        panic!("no dialog: {:?}", m.overlay);
    };
    assert_eq!((id.as_str(), *running), (RUNNING, 1));
    // Any other key leaves the question open; n closes it.
    press(&mut m, &keys, 'j');
    assert!(m.overlay.is_some());
    press(&mut m, &keys, 'n');
    assert!(m.overlay.is_none());
    press(&mut m, &keys, 'x');
    let effects = press(&mut m, &keys, 'y');
    assert_eq!(
        effects,
        vec![
            Effect::CancelPipeline(RUNNING.into()),
            Effect::LoadPipelineRuns
        ]
    );
}

#[test]
fn x_on_the_list_finds_a_run_still_going_behind_a_newer_ended_one() {
    let (mut m, keys) = model();
    let mut newer = fx::etl_succeeded();
    newer.id = "ffffffff-0000-4000-8000-000000000009".into();
    newer.started_at = fx::now();
    m.pipelines.runs.as_mut().unwrap().push(newer);
    press(&mut m, &keys, 'x');
    let Some(Overlay::Confirm(Confirm::CancelPipeline { id, .. })) = &m.overlay else {
        panic!("no dialog: {:?} {:?}", m.overlay, m.status.message);
    };
    assert_eq!(id, RUNNING);
}

#[test]
fn cancel_is_refused_for_an_ended_run_even_if_it_ended_while_asking() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'x');
    let mut runs = m.pipelines.runs.clone().unwrap();
    runs.last_mut().unwrap().status = PipelineStatus::Succeeded;
    update(&mut m, Msg::PipelineRunsLoaded(runs), &keys);
    assert!(press(&mut m, &keys, 'y').is_empty());
    assert!(message(&m).1.contains("already ended"));
    // And x on an ended run asks nothing.
    assert!(press(&mut m, &keys, 'x').is_empty());
    assert!(m.overlay.is_none());
}

#[test]
fn capital_r_resumes_only_a_failed_or_cancelled_run() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'j');
    assert_eq!(
        press(&mut m, &keys, 'R'),
        vec![Effect::ResumePipeline(FAILED.into())]
    );
    assert!(m.pipelines.session.contains(FAILED));
    // A refused resume is shown, and forgets the bell.
    update(
        &mut m,
        Msg::PipelineResumed {
            id: FAILED.into(),
            result: Err("pipeline run c4d5e6f7 is already being driven here".into()),
        },
        &keys,
    );
    assert_eq!(message(&m).0, Level::Error);
    assert!(!m.pipelines.session.contains(FAILED));
    // The running ETL cannot be resumed; a succeeded one points at --from.
    press(&mut m, &keys, 'k');
    assert!(press(&mut m, &keys, 'R').is_empty());
    assert!(message(&m).1.contains("only an ended one"));
    m.pipelines.runs = Some(vec![fx::etl_succeeded()]);
    assert!(press(&mut m, &keys, 'R').is_empty());
    assert!(message(&m).1.contains("--from STEP"));
}

#[test]
fn read_only_refuses_launch_cancel_and_resume() {
    let (mut m, keys) = model();
    m.status.read_only = true;
    for c in ['r', 'x', 'R'] {
        assert!(press(&mut m, &keys, c).is_empty());
        assert!(m.overlay.is_none() && m.form.is_none());
        assert!(message(&m).1.starts_with("read-only"), "{c}");
    }
}

#[test]
fn enter_on_a_step_opens_its_runs_detail_when_the_dashboard_has_it() {
    let (mut m, keys) = model();
    m.pipelines.open = Some(RUNNING.into());
    m.pipelines.step = crate::tui::cursor::Cursor::at(1);
    m.screen = Screen::PipelineRun;
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::PipelineRun);
    assert!(message(&m).1.contains("hexdash status bb000003-t"));
    let key_ = RunKey::new("p-transform", "bb000003-t");
    let view = run_view("p-transform", "bb000003-t", fx::now())
        .title("ETL transform")
        .origin(Origin::Tui)
        .status(Some(RunStatus::Running))
        .started(fx::now())
        .observed(fx::now())
        .build();
    m.runs.rows.insert(RunRow {
        view,
        overdue: None,
        followed: true,
    });
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::Detail);
    assert_eq!(m.detail, Some(key_));
    // Back from the detail returns to the run view.
    key(&mut m, &keys, KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::PipelineRun);
    // A step with no run yet says so.
    press(&mut m, &keys, 'j');
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert!(message(&m).1.contains("step load has no run yet"));
}

#[test]
fn ticks_reread_runs_only_while_a_pipelines_screen_shows_something_live() {
    let (mut m, keys) = model();
    let tick = |m: &mut Model| update(m, Msg::Tick(fx::now()), &keys);
    assert!(tick(&mut m).contains(&Effect::LoadPipelineRuns));
    m.pipelines.runs = Some(vec![fx::etl_succeeded(), fx::fanout_failed()]);
    assert!(!tick(&mut m).contains(&Effect::LoadPipelineRuns));
    m.pipelines.runs = Some(vec![etl_running()]);
    m.screen = Screen::Runs;
    assert!(!tick(&mut m).contains(&Effect::LoadPipelineRuns));
}

#[test]
fn a_run_started_here_rings_when_it_ends() {
    let (mut m, keys) = model();
    m.pipelines.session.insert(RUNNING.into());
    let mut runs = m.pipelines.runs.clone().unwrap();
    runs.last_mut().unwrap().status = PipelineStatus::Failed;
    let effects = update(&mut m, Msg::PipelineRunsLoaded(runs.clone()), &keys);
    assert_eq!(
        effects,
        vec![Effect::Notify(
            "pipeline daily-etl (7f3c9d2e) ended: FAILED".into()
        )]
    );
    assert_eq!(message(&m).0, Level::Warning);
    // Read again, it rings no more.
    assert!(update(&mut m, Msg::PipelineRunsLoaded(runs), &keys).is_empty());
}

#[test]
fn pipeline_ids_open_from_the_command_line() {
    let (mut m, keys) = model();
    m.screen = Screen::Runs;
    press(&mut m, &keys, ':');
    for c in "pipeline c4d5".chars() {
        press(&mut m, &keys, c);
    }
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(m.screen, Screen::PipelineRun);
    assert_eq!(m.pipelines.open.as_deref(), Some(FAILED));
    // The failed step is where the cursor lands.
    assert_eq!(m.pipelines.selected_step_index(), Some(2));
    press(&mut m, &keys, ':');
    for c in "pipeline zzz".chars() {
        press(&mut m, &keys, c);
    }
    key(&mut m, &keys, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(message(&m).0, Level::Error);
}

#[test]
fn a_preset_loaded_into_a_pipeline_form_keeps_it_a_pipeline_form() {
    let (mut m, keys) = model();
    press(&mut m, &keys, 'r');
    let type_line = |m: &mut Model, text: &str| {
        key(m, &keys, KeyCode::Char('p'), KeyModifiers::CONTROL);
        for c in text.chars() {
            press(m, &keys, c);
        }
        key(m, &keys, KeyCode::Enter, KeyModifiers::NONE)
    };
    type_line(&mut m, "save eom");
    // Change the date, then load the preset back.
    key(&mut m, &keys, KeyCode::Char('u'), KeyModifiers::CONTROL);
    for c in "2026-11-30".chars() {
        press(&mut m, &keys, c);
    }
    type_line(&mut m, "eom");
    let form = m.form.as_ref().unwrap();
    assert_eq!(form.fields[0].text.value(), "2026-11-27");
    assert_eq!(
        form.pipeline.as_deref(),
        Some(PathBuf::from("/cfg/pipelines/daily-etl.toml").as_path()),
        "still the pipeline's form"
    );
    let effects = key(&mut m, &keys, KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert!(
        matches!(effects.as_slice(), [Effect::StartPipeline { .. }]),
        "ctrl-s starts the pipeline, not a project: {effects:?}"
    );
}
