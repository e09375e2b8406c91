//! The wire types of Hex's public API, field for field as `shared/HEX_API.md` describes them.
//!
//! Client and emulator both use these types, so the two cannot drift apart. Deserialisation is
//! lenient where Hex is known to vary (nulls, `projectVersion` as int or string, unknown statuses,
//! unknown fields); serialisation is exact, because the emulator's answers must match the contract.
//! Nothing here does I/O.

use std::fmt;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One of Hex's run statuses (HEX_API.md "Run statuses"). Unknown values are kept, shown, and
/// treated as non-terminal so a new status on Hex's side never makes hexdash drop a run.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Errored,
    Killed,
    UnableToAllocateKernel,
    Unknown(String),
}

impl RunStatus {
    /// Every status Hex documents, in lifecycle order.
    pub const KNOWN: [RunStatus; 6] = [
        RunStatus::Pending,
        RunStatus::Running,
        RunStatus::Completed,
        RunStatus::Errored,
        RunStatus::Killed,
        RunStatus::UnableToAllocateKernel,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            RunStatus::Pending => "PENDING",
            RunStatus::Running => "RUNNING",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Errored => "ERRORED",
            RunStatus::Killed => "KILLED",
            RunStatus::UnableToAllocateKernel => "UNABLE_TO_ALLOCATE_KERNEL",
            RunStatus::Unknown(s) => s,
        }
    }

    /// Parses Hex's spelling; anything else becomes [`RunStatus::Unknown`].
    pub fn parse(s: &str) -> RunStatus {
        match s {
            "PENDING" => RunStatus::Pending,
            "RUNNING" => RunStatus::Running,
            "COMPLETED" => RunStatus::Completed,
            "ERRORED" => RunStatus::Errored,
            "KILLED" => RunStatus::Killed,
            "UNABLE_TO_ALLOCATE_KERNEL" => RunStatus::UnableToAllocateKernel,
            other => RunStatus::Unknown(other.to_string()),
        }
    }

    /// Parses a status typed by a person (any case); only documented statuses are accepted.
    pub fn parse_known(s: &str) -> Option<RunStatus> {
        match RunStatus::parse(&s.trim().to_ascii_uppercase()) {
            RunStatus::Unknown(_) => None,
            known => Some(known),
        }
    }

    /// Terminal statuses never change again. Unknown ones are not terminal (HEX_API.md).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RunStatus::Completed
                | RunStatus::Errored
                | RunStatus::Killed
                | RunStatus::UnableToAllocateKernel
        )
    }

    pub fn is_active(&self) -> bool {
        !self.is_terminal()
    }

    pub fn is_success(&self) -> bool {
        matches!(self, RunStatus::Completed)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RunStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(RunStatus::parse(&s))
    }
}

/// `projectVersion`: an int per the reference, a string in one public sample (HEX_API.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProjectVersion {
    Number(i64),
    Text(String),
}

impl fmt::Display for ProjectVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectVersion::Number(n) => write!(f, "{n}"),
            ProjectVersion::Text(s) => f.write_str(s),
        }
    }
}

/// Timestamps as Hex writes them: RFC 3339 in UTC with milliseconds (`2025-01-01T23:53:31.554Z`).
pub mod hex_time {
    use jiff::{Timestamp, Unit};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn format(ts: &Timestamp) -> String {
        let ms = ts.round(Unit::Millisecond).unwrap_or(*ts);
        ms.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => s.serialize_str(&format(ts)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let raw: Option<String> = Option::deserialize(d)?;
        match raw {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => s
                .parse::<Timestamp>()
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// A run as GetRunStatus returns it, and each element of GetProjectRuns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatusResponse {
    pub project_id: String,
    pub run_id: String,
    #[serde(default)]
    pub run_url: Option<String>,
    pub status: RunStatus,
    #[serde(default, with = "hex_time")]
    pub start_time: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub end_time: Option<Timestamp>,
    /// Milliseconds.
    #[serde(default)]
    pub elapsed_time: Option<f64>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub project_version: Option<ProjectVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_trigger: Option<String>,
}

/// Whether listings say who started their runs, after one more listing `runs`, given what
/// the earlier ones said (`seen`): `None` while no listing had runs, `Some(false)` while none
/// of their runs carried `runTrigger`, `Some(true)` for good once one did. Hex's older API
/// sends no `runTrigger` and, its documents say, lists API-launched runs only whatever
/// `runTriggerFilter` asks (HEX_API.md, GetProjectRuns): runs of schedules and app refreshes
/// may then be missing from every listing.
pub fn says_triggers(seen: Option<bool>, runs: &[RunStatusResponse]) -> Option<bool> {
    if runs.is_empty() {
        return seen;
    }
    Some(seen == Some(true) || runs.iter().any(|r| r.run_trigger.is_some()))
}

/// What hexdash says when listings never say who started runs (see [`says_triggers`]).
pub const API_RUNS_ONLY: &str = "Hex's run listings do not say who started runs (no runTrigger): \
     this Hex may list API-launched runs only, so runs of schedules and app refreshes may be \
     missing";

/// GetProjectRuns' body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRunsResponse {
    #[serde(default)]
    pub runs: Vec<RunStatusResponse>,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub previous_page: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
}

/// A notification request in RunProject's body (HEX_API.md, `notifications`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotificationRequest {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient_bool::deserialize")]
    pub include_success_screenshot: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot_format: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_channel_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// RunProject's body. Every field is optional; unknown fields are rejected, as Hex's schema does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunProjectRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_params: Option<IndexMap<String, Value>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool::deserialize"
    )]
    pub dry_run: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool::deserialize"
    )]
    pub update_published_results: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool::deserialize"
    )]
    pub use_cached_sql_results: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<NotificationRequest>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool::deserialize"
    )]
    pub update_cache: Option<bool>,
}

/// Booleans that may arrive as `true` or as `"true"` (Hex's own examples send strings).
pub mod lenient_bool {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient {
        Bool(bool),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Option::<Lenient>::deserialize(d)? {
            None => Ok(None),
            Some(Lenient::Bool(b)) => Ok(Some(b)),
            Some(Lenient::Text(s)) => match s.to_ascii_lowercase().as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                _ => Err(serde::de::Error::custom(format!(
                    "expected a boolean or \"true\"/\"false\", got {s:?}"
                ))),
            },
        }
    }
}

/// RunProject's 201 body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunProjectResponse {
    pub project_id: String,
    pub run_id: String,
    #[serde(default)]
    pub run_url: Option<String>,
    #[serde(default)]
    pub run_status_url: Option<String>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub project_version: Option<ProjectVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<Vec<Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedStatus {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reviews {
    #[serde(default)]
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppViews {
    #[serde(default)]
    pub last_thirty_days: u64,
    #[serde(default)]
    pub last_fourteen_days: u64,
    #[serde(default)]
    pub last_seven_days: u64,
    #[serde(default)]
    pub all_time: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analytics {
    #[serde(default, with = "hex_time")]
    pub published_results_updated_at: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub last_viewed_at: Option<Timestamp>,
    #[serde(default)]
    pub app_views: AppViews,
}

/// The timing of one schedule. Hex nests a differently shaped object under each cadence
/// (`hourly`, `daily`, ...); one struct with optional fields reads all of them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleTiming {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minute: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_week: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// `HOURLY | DAILY | WEEKLY | MONTHLY | CUSTOM`
    pub cadence: String,
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub hourly: Option<ScheduleTiming>,
    #[serde(default)]
    pub daily: Option<ScheduleTiming>,
    #[serde(default)]
    pub weekly: Option<ScheduleTiming>,
    #[serde(default)]
    pub monthly: Option<ScheduleTiming>,
    #[serde(default)]
    pub custom: Option<ScheduleTiming>,
}

/// A project as ListProjects and GetProject return it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `PROJECT | COMPONENT`
    #[serde(rename = "type", default = "project_type")]
    pub kind: String,
    #[serde(default)]
    pub creator: Option<Person>,
    #[serde(default)]
    pub owner: Option<Person>,
    #[serde(default)]
    pub status: Option<NamedStatus>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub reviews: Option<Reviews>,
    #[serde(default)]
    pub analytics: Option<Analytics>,
    #[serde(default, with = "hex_time")]
    pub last_edited_at: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub created_at: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub last_published_at: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub archived_at: Option<Timestamp>,
    #[serde(default, with = "hex_time")]
    pub trashed_at: Option<Timestamp>,
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharing: Option<Value>,
}

fn project_type() -> String {
    "PROJECT".to_string()
}

impl Project {
    /// HEX_API.md: a project is published when `lastPublishedAt` is not null.
    pub fn is_published(&self) -> bool {
        self.last_published_at.is_some()
    }

    /// Published and neither archived nor trashed: a project whose app can run now.
    pub fn is_live(&self) -> bool {
        self.is_published() && self.archived_at.is_none() && self.trashed_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pagination {
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
}

/// ListProjects' body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectsPage {
    #[serde(default)]
    pub values: Vec<Project>,
    #[serde(default)]
    pub pagination: Pagination,
}

/// One entry of a 422's `invalid` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvalidParam {
    pub param_name: String,
    /// The rejected value as JSON text.
    #[serde(default)]
    pub param_value: Option<String>,
    #[serde(default)]
    pub data_type: Option<String>,
    #[serde(default)]
    pub input_cell_type: Option<String>,
}

/// Hex's error body (HEX_API.md "Errors"). `invalid` and `notFound` appear on a 422 for inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorBody {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<Vec<InvalidParam>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_found: Option<Vec<String>>,
}

/// Query of ListProjects (the subset hexdash sends; the emulator accepts and ignores the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListProjectsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_direction: Option<String>,
}

/// The run triggers Hex documents (HEX_API.md, `runTrigger`); GetProjectRuns'
/// `runTriggerFilter` also takes `ALL`.
pub const RUN_TRIGGERS: [&str; 3] = ["API", "SCHEDULED", "APP_REFRESH"];

/// Query of GetProjectRuns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectRunsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_filter: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_trigger_filter: Option<String>,
}

impl ProjectRunsQuery {
    /// The newest `limit` runs whoever started them (`runTriggerFilter=ALL`; Hex's default
    /// would list API runs only).
    pub fn every_trigger(limit: u32) -> ProjectRunsQuery {
        ProjectRunsQuery {
            limit: Some(limit),
            run_trigger_filter: Some("ALL".to_string()),
            ..ProjectRunsQuery::default()
        }
    }
}

/// The six operations of HEX_API.md. Used for limits, retries, fault injection and request logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operation {
    ListProjects,
    GetProject,
    RunProject,
    GetRunStatus,
    GetProjectRuns,
    CancelRun,
}

impl Operation {
    pub const ALL: [Operation; 6] = [
        Operation::ListProjects,
        Operation::GetProject,
        Operation::RunProject,
        Operation::GetRunStatus,
        Operation::GetProjectRuns,
        Operation::CancelRun,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::ListProjects => "ListProjects",
            Operation::GetProject => "GetProject",
            Operation::RunProject => "RunProject",
            Operation::GetRunStatus => "GetRunStatus",
            Operation::GetProjectRuns => "GetProjectRuns",
            Operation::CancelRun => "CancelRun",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        Operation::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }

    /// Reads are safe to repeat; RunProject creates a run; CancelRun is idempotent in effect.
    pub fn is_idempotent(self) -> bool {
        !matches!(self, Operation::RunProject)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_status_is_kept_and_not_terminal() {
        let s: RunStatus = serde_json::from_value(json!("QUEUED_FOR_GPU")).unwrap();
        assert_eq!(s, RunStatus::Unknown("QUEUED_FOR_GPU".into()));
        assert!(!s.is_terminal());
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("QUEUED_FOR_GPU"));
    }

    #[test]
    fn run_status_tolerates_nulls_strings_and_extra_fields() {
        let body = json!({
            "projectId": "p", "runId": "r", "runUrl": "u", "status": "PENDING",
            "startTime": null, "endTime": null, "elapsedTime": null, "traceId": "t",
            "projectVersion": "7", "somethingNew": {"a": 1}
        });
        let run: RunStatusResponse = serde_json::from_value(body).unwrap();
        assert_eq!(run.project_version, Some(ProjectVersion::Text("7".into())));
        assert!(run.start_time.is_none());
        let body = json!({"projectId": "p", "runId": "r", "status": "COMPLETED",
            "startTime": "2025-01-01T23:53:31.554Z", "endTime": "2025-01-01T23:54:01.000Z",
            "elapsedTime": 29446, "projectVersion": 3});
        let run: RunStatusResponse = serde_json::from_value(body).unwrap();
        assert_eq!(run.project_version, Some(ProjectVersion::Number(3)));
        assert_eq!(run.elapsed_time, Some(29446.0));
    }

    #[test]
    fn timestamps_are_written_with_milliseconds() {
        let ts: Timestamp = "2025-01-01T23:53:31.554321Z".parse().unwrap();
        assert_eq!(hex_time::format(&ts), "2025-01-01T23:53:31.554Z");
        let ts: Timestamp = "2025-01-01T23:53:31Z".parse().unwrap();
        assert_eq!(hex_time::format(&ts), "2025-01-01T23:53:31.000Z");
    }

    #[test]
    fn run_request_accepts_string_booleans_and_rejects_unknown_fields() {
        let req: RunProjectRequest =
            serde_json::from_value(json!({"dryRun": "true", "useCachedSqlResults": false}))
                .unwrap();
        assert_eq!(req.dry_run, Some(true));
        assert_eq!(req.use_cached_sql_results, Some(false));
        assert!(serde_json::from_value::<RunProjectRequest>(json!({"dryrun": true})).is_err());
    }
}
