//! Small builders for journal unit tests, so each test reads as the story of a run.

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use super::event::{Envelope, Event, LaunchIntent, LaunchOptions, Origin, StatusChange};
use crate::hex::types::RunStatus;

pub(crate) fn at(minute: i64) -> Timestamp {
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    base.checked_add(SignedDuration::from_mins(minute)).unwrap()
}

/// Numbers events 1.. in order, recorded one minute apart.
pub(crate) fn envelopes(events: Vec<Event>) -> Vec<Envelope> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| Envelope {
            v: 1,
            seq: i as u64 + 1,
            at: at(i as i64),
            event,
        })
        .collect()
}

pub(crate) fn intent(launch: &str, project: &str) -> Event {
    Event::LaunchIntent(LaunchIntent {
        launch_id: launch.into(),
        project_id: project.into(),
        project_title: Some(format!("Project {project}")),
        params: IndexMap::from([("launch".to_string(), json!(launch))]),
        options: LaunchOptions::default(),
        origin: Origin::Tui,
        profile: "default".into(),
        launched_by: None,
    })
}

pub(crate) fn launched(launch: &str, project: &str, run: &str) -> Event {
    Event::Launched {
        launch_id: launch.into(),
        project_id: project.into(),
        run_id: run.into(),
        run_url: Some(format!("https://hex/{run}")),
        trace_id: None,
        project_version: None,
    }
}

pub(crate) fn status(project: &str, run: &str, status: RunStatus, minute: i64) -> Event {
    Event::StatusChanged(StatusChange {
        project_id: project.into(),
        run_id: run.into(),
        start_time: Some(at(minute)),
        end_time: status.is_terminal().then(|| at(minute + 1)),
        elapsed_ms: None,
        status,
        observed_at: at(minute),
    })
}
