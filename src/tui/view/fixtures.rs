//! Hand-built models for the view's snapshot tests: a fixed `now`, fixed ids, UTC clocks, so a
//! snapshot changes only when what the screen shows changes.

use std::time::Duration;

use indexmap::IndexMap;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;

use crate::engine::{Health, Overdue, RunKey, RunView};
use crate::hex::types::{Project, ProjectVersion};
use crate::hex::{BudgetSnapshot, Limits, ParamKind, ParamSpec, RunStatus, Sharing};
use crate::journal::{CancelState, LaunchOptions, Origin};
use crate::tui::cursor::Cursor;
use crate::tui::fixtures::run_view;
use crate::tui::form::Form;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Load, Model, ProjectRow, RunRow, Screen};

/// 2026-11-28 12:00:00 UTC, a Saturday.
pub fn now() -> Timestamp {
    "2026-11-28T12:00:00Z".parse().unwrap()
}

/// `secs` seconds before [`now`].
pub fn ago(secs: i64) -> Timestamp {
    now() - SignedDuration::from_secs(secs)
}

/// A model with healthy polling and a known budget, on a non-prod profile.
pub fn base() -> Model {
    let mut m = Model::new("staging", false, now(), TimeZone::UTC);
    m.status.health = Health {
        last_success: Some(ago(2)),
        error: None,
        paused_until: None,
        workspace: None,
    };
    m.status.budget = Some(BudgetSnapshot {
        requests_left_this_minute: 47,
        launches_left_this_minute: 19,
        launches_left_this_hour: 57,
        paused_for: None,
        limits: Limits::default(),
        used_this_minute: 13,
        processes: 1,
        sharing: Sharing::Shared,
    });
    m
}

pub fn render(model: &Model, width: u16, height: u16) -> Terminal<TestBackend> {
    render_with(model, &KeyMap::defaults(), width, height)
}

pub fn render_with(model: &Model, keys: &KeyMap, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| super::draw(f, model, keys)).unwrap();
    t
}

fn project(id: &str, title: &str, extra: serde_json::Value) -> Project {
    let mut v = json!({"id": id, "title": title});
    if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    serde_json::from_value(v).unwrap()
}

fn hex_time(t: Timestamp) -> String {
    crate::hex::types::hex_time::format(&t)
}

pub fn project_rows() -> Vec<ProjectRow> {
    let row = |p: Project,
               alias: Option<&str>,
               status: Option<RunStatus>,
               last: Option<i64>,
               took: Option<f64>,
               trend: &[u64]| ProjectRow {
        project: p,
        alias: alias.map(str::to_string),
        last_status: status,
        last_run_at: last.map(ago),
        last_duration_secs: took,
        trend: trend.to_vec(),
        specs: Vec::new(),
        last_params: None,
        last_options: None,
    };
    vec![
        row(
            project(
                "a1b2c3d4-0000-4000-8000-000000000001",
                "Daily ETL",
                json!({"lastPublishedAt": hex_time(ago(3 * 86400)),
                       "schedules": [{"cadence": "DAILY", "enabled": true,
                                      "daily": {"hour": 2, "minute": 0}}]}),
            ),
            Some("etl"),
            Some(RunStatus::Completed),
            Some(2 * 3600),
            Some(754.0),
            &[
                700, 720, 690, 810, 754, 760, 1200, 754, 731, 744, 760, 754, 749,
            ],
        ),
        row(
            project(
                "b2c3d4e5-0000-4000-8000-000000000002",
                "Revenue dashboard",
                json!({"lastPublishedAt": hex_time(ago(10 * 86400)),
                       "schedules": [{"cadence": "HOURLY", "enabled": true,
                                      "hourly": {"minute": 15}}]}),
            ),
            Some("rev"),
            Some(RunStatus::Running),
            Some(300),
            Some(95.0),
            &[90, 92, 101, 88, 95],
        ),
        row(
            project(
                "c3d4e5f6-0000-4000-8000-000000000003",
                "Churn model (weekly retrain on the full customer history)",
                json!({"lastPublishedAt": hex_time(ago(40 * 86400)),
                       "schedules": [{"cadence": "WEEKLY", "enabled": true,
                                      "weekly": {"dayOfWeek": "MONDAY", "hour": 6, "minute": 30}}]}),
            ),
            None,
            Some(RunStatus::Errored),
            Some(5 * 86400),
            Some(4380.0),
            &[3900, 4100, 4380],
        ),
        row(
            project(
                "d4e5f6a7-0000-4000-8000-000000000004",
                "Scratch notebook",
                json!({}),
            ),
            None,
            None,
            None,
            None,
            &[],
        ),
        row(
            project(
                "e5f6a7b8-0000-4000-8000-000000000005",
                "Old KPI report",
                json!({"lastPublishedAt": hex_time(ago(400 * 86400)),
                       "archivedAt": hex_time(ago(90 * 86400)),
                       "schedules": [{"cadence": "MONTHLY", "enabled": false,
                                      "monthly": {"day": 1, "hour": 0, "minute": 0}}]}),
            ),
            Some("kpi"),
            Some(RunStatus::Killed),
            Some(95 * 86400),
            Some(61.0),
            &[60, 61],
        ),
        row(
            project(
                "f6a7b8c9-0000-4000-8000-000000000006",
                "Marketing attribution",
                json!({"lastPublishedAt": hex_time(ago(86400)),
                       "schedules": [{"cadence": "CUSTOM", "enabled": true,
                                      "custom": {"cron": "0 */2 * * *"}}]}),
            ),
            Some("mkt"),
            Some(RunStatus::UnableToAllocateKernel),
            Some(40 * 60),
            None,
            &[1500, 1620, 1580, 1710],
        ),
    ]
}

pub fn projects_model() -> Model {
    let mut m = base();
    m.projects.load = Load::Loaded(project_rows());
    m.projects.cursor = Cursor::at(1);
    m
}

/// A run of `project` (by index into [`project_rows`]) with a fixed id.
pub fn run(project: usize, n: u32, status: Option<RunStatus>) -> RunView {
    let rows = project_rows();
    let p = &rows[project].project;
    let run_id = format!("{n:08x}-7b4e-4c1a-9d2e-5a6b7c8d9e0f");
    run_view(&p.id, &run_id, ago(600))
        .title(p.title.clone())
        .run_url(format!(
            "https://app.hex.tech/acme/app/{}/run/{run_id}",
            style_short(&p.id)
        ))
        .status(status)
        .observed(ago(2))
        .build()
}

fn style_short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn add(m: &mut Model, view: RunView, followed: bool) -> RunKey {
    let key = view.key.clone();
    m.runs.rows.insert(RunRow {
        view,
        overdue: None,
        followed,
    });
    key
}

/// The run the runs fixture puts the cursor on: a tui launch of Daily ETL, running 4m12s.
pub fn etl_running() -> RunView {
    let mut v = run(0, 0x3f2a9c1d, Some(RunStatus::Running));
    v.origin = Some(Origin::Tui);
    v.launch_id = Some("5d1c0e7a-2b3f-4e6d-8a9b-1c2d3e4f5a6b".into());
    v.trace_id = Some("b7e3f0c2a9d84e51".into());
    v.project_version = Some(ProjectVersion::Number(42));
    v.params = Some(IndexMap::from([
        ("run_date".to_string(), json!("2026-11-27")),
        ("schema".to_string(), json!("prod")),
        ("sources".to_string(), json!(["shop", "crm"])),
        ("full_refresh".to_string(), json!(false)),
    ]));
    v.options = Some(LaunchOptions {
        dry_run: false,
        use_cached_sql_results: Some(false),
        update_published_results: None,
        timeout_secs: Some(1800),
        kill_on_timeout: true,
    });
    v.start_time = Some(ago(252));
    v.first_seen = ago(260);
    v.timeline = vec![
        (RunStatus::Pending, ago(258)),
        (RunStatus::Running, ago(251)),
    ];
    v
}

/// Runs in every state the list must show.
pub fn runs_model() -> Model {
    let mut m = base();
    m.projects.load = Load::Loaded(project_rows());
    m.screen = Screen::Runs;
    let etl = add(&mut m, etl_running(), true);
    m.session_runs.insert(etl.clone());
    m.pinned.insert(etl.clone());
    m.runs.cursor = Cursor::on(etl);

    let mut pending = run(1, 0x9b8a7c6d, Some(RunStatus::Pending));
    pending.origin = Some(Origin::Cli);
    pending.first_seen = ago(14);
    pending.observed_at = Some(ago(1));
    add(&mut m, pending, true);

    let mut cancelling = run(2, 0x1e2d3c4b, Some(RunStatus::Running));
    cancelling.origin = Some(Origin::Tui);
    cancelling.start_time = Some(ago(3 * 3600 + 125));
    cancelling.first_seen = ago(3 * 3600 + 130);
    cancelling.observed_at = Some(ago(3));
    cancelling.cancel = CancelState::Requested {
        at: ago(20),
        origin: Origin::Tui,
    };
    add(&mut m, cancelling, true);

    let mut stale = run(5, 0x7c6b5a49, Some(RunStatus::Running));
    stale.origin = Some(Origin::Pipeline {
        pipeline_run_id: "nightly-2026-11-28".into(),
        step_id: "attribution".into(),
        attempt: 1,
    });
    stale.start_time = Some(ago(2 * 3600 + 600));
    stale.first_seen = ago(2 * 3600 + 610);
    stale.observed_at = Some(ago(45));
    stale.stale = Some("GetProjectRuns failed: 503 Service Unavailable".into());
    let key = add(&mut m, stale, true);
    if let Some(r) = m.runs.rows.get_mut(&key) {
        r.overdue = Some(Overdue::PastUsual {
            running: Duration::from_secs(2 * 3600 + 600),
            p95: Duration::from_secs(1800),
        });
    }

    let mut submitted = run(0, 0x0a0b0c0d, None);
    submitted.origin = Some(Origin::Tui);
    submitted.first_seen = ago(1);
    submitted.observed_at = None;
    add(&mut m, submitted, true);

    let mut lost = run(4, 0x55aa55aa, Some(RunStatus::Running));
    lost.start_time = Some(ago(26 * 3600));
    lost.first_seen = ago(26 * 3600);
    lost.observed_at = Some(ago(3 * 3600));
    add(&mut m, lost, false);

    let mut done = run(0, 0x2c3d4e5f, Some(RunStatus::Completed));
    done.origin = Some(Origin::Pipeline {
        pipeline_run_id: "nightly-2026-11-28".into(),
        step_id: "etl".into(),
        attempt: 1,
    });
    done.start_time = Some(ago(3600 + 754));
    done.end_time = Some(ago(3600));
    done.elapsed_ms = Some(754_012.0);
    done.first_seen = ago(3600 + 760);
    done.observed_at = Some(ago(3598));
    add(&mut m, done, false);

    let mut errored = run(1, 0x6f5e4d3c, Some(RunStatus::Errored));
    errored.start_time = Some(ago(20 * 3600));
    errored.end_time = Some(ago(20 * 3600 - 97));
    errored.elapsed_ms = Some(97_400.0);
    errored.first_seen = ago(20 * 3600 + 5);
    errored.observed_at = Some(ago(20 * 3600 - 99));
    // Found by discovery: Hex's schedule started it, no hexdash process did.
    errored.origin = Some(Origin::Hex {
        profile: None,
        trigger: Some("SCHEDULED".into()),
    });
    add(&mut m, errored, false);

    let mut killed = run(2, 0x4b3a2918, Some(RunStatus::Killed));
    killed.origin = Some(Origin::Cli);
    killed.start_time = Some(ago(3 * 86400));
    killed.end_time = Some(ago(3 * 86400 - 700));
    killed.elapsed_ms = Some(700_000.0);
    killed.first_seen = ago(3 * 86400 + 10);
    killed.observed_at = Some(ago(3 * 86400 - 702));
    killed.cancel = CancelState::Confirmed {
        at: ago(3 * 86400 - 702),
        status: RunStatus::Killed,
    };
    killed.timed_out = true;
    add(&mut m, killed, false);
    m
}

/// `n` runs across the fixture's projects, a tenth of them active, the cursor in the middle.
pub fn many_runs(n: u32) -> Model {
    let mut m = base();
    m.screen = Screen::Runs;
    for i in 0..n {
        let status = match i % 10 {
            0 => RunStatus::Running,
            1 | 2 => RunStatus::Errored,
            3 => RunStatus::Killed,
            _ => RunStatus::Completed,
        };
        let mut v = run(usize::try_from(i % 6).unwrap(), i, Some(status));
        v.start_time = Some(ago(i64::from(i) * 60 + 30));
        v.first_seen = ago(i64::from(i) * 60 + 40);
        if !v.is_active() {
            v.end_time = Some(ago(i64::from(i) * 60));
            v.elapsed_ms = Some(30_000.0);
        }
        let active = v.is_active();
        add(&mut m, v, active);
    }
    let middle = m.visible_runs()[usize::try_from(n / 2).unwrap()]
        .view
        .key
        .clone();
    m.runs.cursor = Cursor::on(middle);
    m
}

pub fn specs() -> Vec<ParamSpec> {
    let mut date = ParamSpec::new("run_date", ParamKind::Date);
    date.required = true;
    let mut rows = ParamSpec::new("rows", ParamKind::Number);
    rows.description = Some("row limit for sampling".into());
    let mut schema = ParamSpec::new("schema", ParamKind::Dropdown);
    schema.options = vec!["staging".into(), "prod".into(), "sandbox".into()];
    let mut sources = ParamSpec::new("sources", ParamKind::Multiselect);
    sources.options = vec!["shop".into(), "erp".into(), "crm".into()];
    let mut full = ParamSpec::new("full_refresh", ParamKind::Checkbox);
    full.default = Some(json!(false));
    let note = ParamSpec::new("note", ParamKind::Text);
    vec![date, rows, schema, sources, full, note]
}

/// The launch form for Daily ETL, prefilled from its last launch.
pub fn form_model() -> Model {
    let mut m = projects_model();
    let last = IndexMap::from([
        ("run_date".to_string(), json!("2026-11-27")),
        ("rows".to_string(), json!(5000)),
        ("schema".to_string(), json!("prod")),
        ("sources".to_string(), json!(["shop", "crm"])),
    ]);
    let options = LaunchOptions {
        timeout_secs: Some(1800),
        ..LaunchOptions::default()
    };
    let form = Form::new(
        "a1b2c3d4-0000-4000-8000-000000000001",
        Some("Daily ETL"),
        &specs(),
        Some(&last),
        Some(&options),
    );
    m.form = Some(form);
    m.previous = Screen::Projects;
    m.screen = Screen::Form;
    m
}
