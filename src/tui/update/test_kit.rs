//! What the pure `update` tests build on: a fixed clock, hand-made projects and runs, a model
//! with two projects and one running run, and keys pressed as the terminal sends them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use indexmap::IndexMap;
use jiff::Timestamp;
use serde_json::json;

use super::update;
use crate::engine::{Change, RunView, Update};
use crate::hex::RunStatus;
use crate::hex::params::{ParamKind, ParamSpec};
use crate::hex::types::Project;
use crate::journal::{LaunchOptions, Origin};
use crate::tui::fixtures::run_view;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Load, Model, ProjectRow};
use crate::tui::msg::{Effect, Msg};

pub fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + secs).unwrap()
}

pub fn project(id: &str, title: &str, specs: Vec<ParamSpec>) -> ProjectRow {
    let project: Project = serde_json::from_value(json!({
        "id": id, "title": title, "type": "PROJECT",
        "lastPublishedAt": "2026-11-01T00:00:00Z"
    }))
    .unwrap();
    ProjectRow {
        project,
        alias: None,
        last_status: None,
        last_run_at: None,
        last_duration_secs: None,
        trend: Vec::new(),
        specs,
        last_params: None,
        last_options: None,
    }
}

pub fn view(project: &str, run: &str, status: RunStatus, observed: i64) -> RunView {
    run_view(project, run, t(0))
        .title(format!("Project {project}"))
        .launch_id(format!("launch-{run}"))
        .origin(Origin::Tui)
        .params(IndexMap::from([("day".to_string(), json!("2026-11-27"))]))
        .options(LaunchOptions::default())
        .run_url(format!("https://app.hex.tech/x/{run}"))
        .status(Some(status))
        .started(t(0))
        .observed(t(observed))
        .build()
}

pub fn date_spec() -> ParamSpec {
    let mut s = ParamSpec::new("day", ParamKind::Date);
    s.required = true;
    s
}

/// A model with two projects loaded and one running run selected on the runs screen.
pub fn model() -> (Model, KeyMap) {
    let mut m = Model::new("default", false, t(10), jiff::tz::TimeZone::UTC);
    m.projects.load = Load::Loaded(vec![
        project("p1", "Load warehouse", vec![date_spec()]),
        project("p2", "Churn model", Vec::new()),
    ]);
    let keys = KeyMap::defaults();
    update(
        &mut m,
        Msg::Engine(Update::Run {
            change: Change::Watching,
            view: Box::new(view("p1", "run-aaaa-1", RunStatus::Running, 5)),
        }),
        &keys,
    );
    (m, keys)
}

pub fn press(m: &mut Model, keys: &KeyMap, c: char) -> Vec<Effect> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        keys,
    )
}

pub fn code(m: &mut Model, keys: &KeyMap, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    update(m, Msg::Key(KeyEvent::new(code, mods)), keys)
}

pub fn run_update(m: &mut Model, keys: &KeyMap, change: Change, v: RunView) -> Vec<Effect> {
    update(
        m,
        Msg::Engine(Update::Run {
            change,
            view: Box::new(v),
        }),
        keys,
    )
}

pub fn enter(m: &mut Model, keys: &KeyMap) -> Vec<Effect> {
    code(m, keys, KeyCode::Enter, KeyModifiers::NONE)
}

pub fn esc(m: &mut Model, keys: &KeyMap) -> Vec<Effect> {
    code(m, keys, KeyCode::Esc, KeyModifiers::NONE)
}

/// Types `text` key by key (into a filter, the command line or a form field).
pub fn type_text(m: &mut Model, keys: &KeyMap, text: &str) {
    for c in text.chars() {
        press(m, keys, c);
    }
}

/// The status line's text, or "" when there is none.
pub fn said(m: &Model) -> String {
    m.status
        .message
        .as_ref()
        .map(|msg| msg.text.clone())
        .unwrap_or_default()
}
