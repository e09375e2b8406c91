//! The JSON shape of a run as the engine knows it, shared by `run --json`, `watch --json` and
//! `history --json`. Field names follow Hex's run status object (camelCase) where they mean the
//! same thing, so a script that reads `hexdash status --json` reads these too; hexdash's own
//! additions (`observedAt`, `stale`, `cancel`, `origin`, ...) sit beside them.

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::engine::{Change, Overdue, RunView};
use crate::hex::RunStatus;
use crate::hex::types::ProjectVersion;
use crate::journal::{CancelState, Origin};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewJson<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<&'a Change>,
    pub project_id: &'a str,
    pub project_title: Option<&'a str>,
    pub run_id: &'a str,
    pub run_url: Option<&'a str>,
    pub status: Option<&'a RunStatus>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// Milliseconds, as Hex reports it.
    pub elapsed_time: Option<f64>,
    pub trace_id: Option<&'a str>,
    pub project_version: Option<&'a ProjectVersion>,
    /// When hexdash received the status above.
    pub observed_at: Option<Timestamp>,
    /// Why the data may be out of date, when the last poll failed.
    pub stale: Option<&'a str>,
    pub cancel: &'static str,
    pub timed_out: bool,
    pub adopted: bool,
    pub origin: Option<&'a str>,
    pub launch_id: Option<&'a str>,
    pub input_params: Option<&'a IndexMap<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue: Option<&'a Overdue>,
}

impl<'a> ViewJson<'a> {
    pub fn new(view: &'a RunView) -> ViewJson<'a> {
        ViewJson {
            change: None,
            project_id: &view.key.project_id,
            project_title: view.project_title.as_deref(),
            run_id: &view.key.run_id,
            run_url: view.run_url.as_deref(),
            status: view.status.as_ref(),
            start_time: view.start_time,
            end_time: view.end_time,
            elapsed_time: view.elapsed_ms,
            trace_id: view.trace_id.as_deref(),
            project_version: view.project_version.as_ref(),
            observed_at: view.observed_at,
            stale: view.stale.as_deref(),
            cancel: cancel_word(&view.cancel),
            timed_out: view.timed_out,
            adopted: view.adopted,
            origin: view.origin.as_ref().map(origin_word),
            launch_id: view.launch_id.as_deref(),
            input_params: view.params.as_ref(),
            overdue: None,
        }
    }
}

pub fn cancel_word(cancel: &CancelState) -> &'static str {
    match cancel {
        CancelState::None => "none",
        CancelState::Requested { .. } => "requested",
        CancelState::Confirmed { .. } => "confirmed",
        CancelState::NotConfirmed { .. } => "not_confirmed",
    }
}

pub fn origin_word(origin: &Origin) -> &'static str {
    origin.word()
}
