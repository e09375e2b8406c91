//! The scenario: everything the emulator starts from, read from TOML and checked before use.
//!
//! Owns the scenario file model (workspace, tokens, limits, faults, projects with their
//! parameters, run behaviour and seeded history) and its validation, with errors that point at
//! file, line and column. `assets/demo-workspace.toml` is the annotated reference of the format.
//! It must not hold run state or know about HTTP: `state` builds the live workspace from it.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::error::{Error, line_col};
use super::faults::Faults;
use crate::hex::types::{AppViews, Category, Schedule};
use crate::hex::{Limits, ParamKind, ParamSpec};

const DEMO_TOML: &str = include_str!("../../assets/demo-workspace.toml");

/// A parsed and validated scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Shown nowhere in the API; helps a person tell scenario files apart.
    #[serde(default)]
    pub name: Option<String>,
    /// Bearer tokens the emulator accepts.
    pub tokens: Vec<String>,
    /// Seed of every random choice (run ids, durations, outcomes, faults).
    #[serde(default)]
    pub seed: u64,
    /// Base of the Hex UI links in `runUrl`: `{app_url}/app/{projectId}/latest?runId={runId}`.
    #[serde(default = "default_app_url")]
    pub app_url: String,
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Faults active from the start; `POST /_emulator/faults` replaces them at run time.
    #[serde(default)]
    pub faults: Faults,
    #[serde(default)]
    pub projects: Vec<Spanned<ProjectSpec>>,
}

fn default_app_url() -> String {
    "https://app.hex.tech/demo-workspace".to_string()
}

/// Hex's limits as the emulator enforces them (HEX_API.md "Limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    #[serde(default = "d60")]
    pub requests_per_minute: u32,
    #[serde(default = "d20")]
    pub run_per_minute: u32,
    #[serde(default = "d60")]
    pub run_per_hour: u32,
    #[serde(default = "d25")]
    pub max_concurrent_kernels: u32,
}

fn d60() -> u32 {
    60
}
fn d20() -> u32 {
    20
}
fn d25() -> u32 {
    25
}

impl Default for LimitsSpec {
    fn default() -> Self {
        LimitsSpec {
            requests_per_minute: 60,
            run_per_minute: 20,
            run_per_hour: 60,
            max_concurrent_kernels: 25,
        }
    }
}

impl LimitsSpec {
    /// The client-side model matching these limits, so a client pointed at this emulator budgets
    /// against what it will really meet.
    pub fn client_limits(&self) -> Limits {
        Limits {
            requests_per_minute: self.requests_per_minute,
            launches_per_minute: self.run_per_minute,
            launches_per_hour: self.run_per_hour,
            ..Limits::default()
        }
    }
}

/// One project of the workspace.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// A UUID, fixed so configs and pipelines can refer to it.
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// `PROJECT` or `COMPONENT`.
    #[serde(rename = "type", default = "project_kind")]
    pub kind: String,
    /// Owner's email.
    pub owner: String,
    /// Creator's email; the owner when absent.
    #[serde(default)]
    pub creator: Option<String>,
    /// Workspace status label, e.g. "Production"; none when absent.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub reviews_required: bool,
    #[serde(default)]
    pub app_views: AppViews,
    /// Times relative to when the emulator starts (or is reset).
    #[serde(default = "default_created_days_ago")]
    pub created_days_ago: f64,
    #[serde(default)]
    pub edited_hours_ago: f64,
    /// Absent = never published: `lastPublishedAt` is null and RunProject answers 422.
    #[serde(default)]
    pub published_hours_ago: Option<f64>,
    #[serde(default)]
    pub archived_days_ago: Option<f64>,
    #[serde(default)]
    pub trashed_days_ago: Option<f64>,
    /// The published version, sent as `projectVersion`.
    #[serde(default = "default_version")]
    pub version: i64,
    #[serde(default)]
    pub schedules: Vec<Schedule>,
    #[serde(default)]
    pub params: Vec<Spanned<ParamSpec>>,
    #[serde(default)]
    pub run: RunBehaviour,
    #[serde(default)]
    pub history: Option<HistorySpec>,
    /// A run somebody else started before the emulator did, still RUNNING and never ending on
    /// its own: the stuck run an operator must find and cancel.
    #[serde(default)]
    pub stuck: Option<StuckSpec>,
    /// Other clients' runs (Airflow, colleagues, app refreshes) started at random.
    #[serde(default)]
    pub activity: Option<ActivitySpec>,
}

/// `[projects.activity]`: runs other clients start, `runs_per_hour` on average (at random
/// times, on the emulator's scaled clock), with Hex's `trigger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitySpec {
    pub runs_per_hour: f64,
    /// `API` (another client, the default), `SCHEDULED` or `APP_REFRESH`.
    #[serde(default = "api_trigger")]
    pub trigger: String,
}

/// `[projects.stuck]`: one run that started `started_minutes_ago` (real minutes, before the
/// emulator started) and hangs until cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StuckSpec {
    pub started_minutes_ago: f64,
    /// `API` (another client, the default), `SCHEDULED` or `APP_REFRESH`.
    #[serde(default = "api_trigger")]
    pub trigger: String,
}

pub(crate) fn api_trigger() -> String {
    "API".to_string()
}

fn project_kind() -> String {
    "PROJECT".to_string()
}
fn default_created_days_ago() -> f64 {
    120.0
}
fn default_version() -> i64 {
    1
}

impl ProjectSpec {
    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params
            .iter()
            .map(Spanned::get_ref)
            .find(|p| p.name == name)
    }

    pub fn params(&self) -> impl Iterator<Item = &ParamSpec> {
        self.params.iter().map(Spanned::get_ref)
    }
}

/// How this project's runs behave. Durations are real seconds; the emulator's `speed` divides them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunBehaviour {
    /// Time spent RUNNING, drawn uniformly from [min, max].
    #[serde(default = "default_duration")]
    pub duration_secs: [f64; 2],
    /// Time spent PENDING before a kernel starts, drawn uniformly from [min, max].
    #[serde(default = "default_pending")]
    pub pending_secs: [f64; 2],
    /// Probability that a run ends ERRORED instead of COMPLETED.
    #[serde(default)]
    pub failure_rate: f64,
    /// Runs stay RUNNING until cancelled.
    #[serde(default)]
    pub hangs: bool,
    /// Runs end UNABLE_TO_ALLOCATE_KERNEL after their pending time, never starting.
    #[serde(default)]
    pub cannot_allocate_kernel: bool,
}

fn default_duration() -> [f64; 2] {
    [30.0, 90.0]
}
fn default_pending() -> [f64; 2] {
    [2.0, 5.0]
}

impl Default for RunBehaviour {
    fn default() -> Self {
        RunBehaviour {
            duration_secs: default_duration(),
            pending_secs: default_pending(),
            failure_rate: 0.0,
            hangs: false,
            cannot_allocate_kernel: false,
        }
    }
}

/// Past runs generated at start so a dashboard has history: `count` runs, one every
/// `every_hours`, the newest ending before the emulator starts, outcomes drawn from `run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    pub count: u32,
    #[serde(default = "default_every")]
    pub every_hours: f64,
    /// `API`, `SCHEDULED` or `APP_REFRESH`.
    #[serde(default = "default_trigger")]
    pub trigger: String,
}

fn default_every() -> f64 {
    24.0
}
fn default_trigger() -> String {
    "SCHEDULED".to_string()
}

pub use crate::hex::types::RUN_TRIGGERS as TRIGGERS;

impl Scenario {
    /// The demo workspace shipped with hexdash (`assets/demo-workspace.toml`).
    pub fn demo() -> Result<Scenario, Error> {
        Scenario::from_toml_str(DEMO_TOML, "assets/demo-workspace.toml")
    }

    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, Error> {
        let text =
            crate::files::read_text(path, crate::files::SCENARIO_MAX_BYTES).map_err(|source| {
                Error::Read {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        Scenario::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses and validates scenario text; `origin` names it in error messages.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Scenario, Error> {
        let at = |offset: usize, message: String| {
            let (line, column) = line_col(text, offset);
            Error::Scenario {
                origin: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let scenario: Scenario = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            // One line: serde's message can quote a whole (huge) value.
            at(offset, crate::safe_text::one_line(e.message().trim(), 200))
        })?;
        scenario
            .validate()
            .map_err(|(offset, message)| at(offset, message))?;
        Ok(scenario)
    }

    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn projects(&self) -> impl Iterator<Item = &ProjectSpec> {
        self.projects.iter().map(Spanned::get_ref)
    }

    pub fn project(&self, id: &str) -> Option<&ProjectSpec> {
        self.projects().find(|p| p.id == id)
    }

    /// Consistency checks serde cannot do; errors carry the byte offset to point at.
    fn validate(&self) -> Result<(), (usize, String)> {
        if self.tokens.iter().all(|t| t.trim().is_empty()) {
            return Err((
                0,
                "tokens is empty; list at least one accepted token, e.g. tokens = \
                 [\"hxtp_demo_0000000000000000\"]"
                    .to_string(),
            ));
        }
        let l = &self.limits;
        for (name, value) in [
            ("requests_per_minute", l.requests_per_minute),
            ("run_per_minute", l.run_per_minute),
            ("run_per_hour", l.run_per_hour),
            ("max_concurrent_kernels", l.max_concurrent_kernels),
        ] {
            if value == 0 {
                return Err((
                    0,
                    format!("limits.{name} = 0 would refuse everything; use 1 or more"),
                ));
            }
        }
        self.faults.validate().map_err(|m| (0, m))?;
        let mut ids = HashSet::new();
        for spanned in &self.projects {
            let offset = spanned.span().start;
            let p = spanned.get_ref();
            if uuid::Uuid::parse_str(&p.id).is_err() {
                return Err((
                    offset,
                    format!(
                        "project id {:?} is not a UUID; use a fixed one such as \
                         \"7f3c1e52-0a4b-4c9e-9a51-3d2f0c6b8e01\"",
                        p.id
                    ),
                ));
            }
            if !ids.insert(p.id.to_ascii_lowercase()) {
                return Err((
                    offset,
                    format!(
                        "duplicate project id {:?} (project {:?}); every project needs its own id",
                        p.id, p.title
                    ),
                ));
            }
            validate_project(p).map_err(|m| (offset, m))?;
            let mut names = HashSet::new();
            for param in &p.params {
                let offset = param.span().start;
                let spec = param.get_ref();
                if !names.insert(spec.name.as_str()) {
                    return Err((
                        offset,
                        format!(
                            "project {:?} declares parameter {:?} twice; keep one",
                            p.title, spec.name
                        ),
                    ));
                }
                validate_param(spec)
                    .map_err(|m| (offset, format!("project {:?}: {m}", p.title)))?;
            }
        }
        Ok(())
    }
}

fn validate_project(p: &ProjectSpec) -> Result<(), String> {
    let who = &p.title;
    if !matches!(p.kind.as_str(), "PROJECT" | "COMPONENT") {
        return Err(format!(
            "project {who:?} has type = {:?}; use \"PROJECT\" or \"COMPONENT\"",
            p.kind
        ));
    }
    let r = &p.run;
    for (name, [min, max]) in [
        ("duration_secs", r.duration_secs),
        ("pending_secs", r.pending_secs),
    ] {
        if !(min.is_finite() && max.is_finite() && min >= 0.0 && min <= max) {
            return Err(format!(
                "project {who:?}: run.{name} = [{min}, {max}] is not a range; use [min, max] \
                 with 0 <= min <= max seconds"
            ));
        }
    }
    if !(0.0..=1.0).contains(&r.failure_rate) {
        return Err(format!(
            "project {who:?}: run.failure_rate = {} is not a probability; use 0.0 to 1.0",
            r.failure_rate
        ));
    }
    if r.hangs && r.cannot_allocate_kernel {
        return Err(format!(
            "project {who:?}: run.hangs and run.cannot_allocate_kernel are both true; a run that \
             never gets a kernel cannot hang, keep one"
        ));
    }
    if let Some(h) = &p.history {
        if !TRIGGERS.contains(&h.trigger.as_str()) {
            return Err(format!(
                "project {who:?}: history.trigger = {:?}; use one of {}",
                h.trigger,
                TRIGGERS.join(", ")
            ));
        }
        if !(h.every_hours.is_finite() && h.every_hours > 0.0) {
            return Err(format!(
                "project {who:?}: history.every_hours = {} must be a positive number of hours",
                h.every_hours
            ));
        }
    }
    if let Some(stuck) = &p.stuck {
        if !TRIGGERS.contains(&stuck.trigger.as_str()) {
            return Err(format!(
                "project {who:?}: stuck.trigger = {:?}; use one of {}",
                stuck.trigger,
                TRIGGERS.join(", ")
            ));
        }
        if !(stuck.started_minutes_ago.is_finite() && stuck.started_minutes_ago > 0.0) {
            return Err(format!(
                "project {who:?}: stuck.started_minutes_ago = {} must be a positive number of \
                 minutes",
                stuck.started_minutes_ago
            ));
        }
        if p.published_hours_ago.is_none() {
            return Err(format!(
                "project {who:?}: has a stuck run but is not published; give it \
                 published_hours_ago"
            ));
        }
    }
    if let Some(a) = &p.activity {
        if !TRIGGERS.contains(&a.trigger.as_str()) {
            return Err(format!(
                "project {who:?}: activity.trigger = {:?}; use one of {}",
                a.trigger,
                TRIGGERS.join(", ")
            ));
        }
        if !(a.runs_per_hour.is_finite() && a.runs_per_hour > 0.0 && a.runs_per_hour <= 3600.0) {
            return Err(format!(
                "project {who:?}: activity.runs_per_hour = {} must be a number above 0 and at \
                 most 3600",
                a.runs_per_hour
            ));
        }
    }
    for (i, s) in p.schedules.iter().enumerate().filter(|(_, s)| s.enabled) {
        validate_schedule(s).map_err(|e| format!("project {who:?}: schedules[{i}]: {e}"))?;
    }
    Ok(())
}

/// An enabled schedule fires scheduled runs, so its next time must be computable.
fn validate_schedule(s: &Schedule) -> Result<(), String> {
    use crate::hex::schedule;
    let Some(t) = schedule::timing(s) else {
        return Err(format!(
            "cadence {} has no timing; add e.g. daily = {{ hour = 2, minute = 0 }}",
            s.cadence
        ));
    };
    if let Some(cron) = &t.cron {
        schedule::check_cron(cron).map_err(|e| {
            format!(
                "cron {:?} does not parse ({e}); use five fields, e.g. \"*/5 * * * *\"",
                crate::safe_text::one_line(cron, 60)
            )
        })?;
    }
    if let Some(name) = &t.timezone
        && !schedule::zone(t).1
    {
        return Err(format!(
            "timezone {:?} is not known here; use an IANA name like \"Europe/Stockholm\"",
            crate::safe_text::one_line(name, 60)
        ));
    }
    // Any fixed instant will do: a schedule that fires at all fires within a year of it.
    let from = jiff::Timestamp::UNIX_EPOCH;
    if schedule::next_fire(s, from).is_none() {
        return Err(format!(
            "cadence {} never fires as given (a weekly schedule needs day_of_week, a cron \
             expression a date that exists)",
            s.cadence
        ));
    }
    Ok(())
}

fn validate_param(spec: &ParamSpec) -> Result<(), String> {
    let name = &spec.name;
    if name.trim().is_empty() {
        return Err("a parameter has an empty name; give it the input cell's name".to_string());
    }
    if spec.kind.has_options() && spec.options.is_empty() {
        return Err(format!(
            "parameter {name:?} is a {} without options; add options = [\"a\", \"b\"]",
            spec.kind
        ));
    }
    if !spec.kind.has_options() && !spec.options.is_empty() {
        return Err(format!(
            "parameter {name:?} is a {} and cannot have options; remove options or make it a \
             dropdown",
            spec.kind
        ));
    }
    if let Some(default) = &spec.default {
        spec.check(default).map_err(|e| {
            format!(
                "default of parameter {name:?} does not fit: {e}; change the default or the type \
                 (one of {})",
                ParamKind::ALL.map(ParamKind::as_str).join(", ")
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "tokens = [\"t\"]\n";

    fn err(text: &str) -> String {
        Scenario::from_toml_str(text, "s.toml")
            .unwrap_err()
            .to_string()
    }

    fn project(extra: &str) -> String {
        format!(
            "{HEAD}[[projects]]\nid = \"00000000-0000-4000-8000-000000000001\"\ntitle = \"P\"\n\
             owner = \"a@b.c\"\n{extra}"
        )
    }

    #[test]
    fn a_stuck_run_needs_a_time_a_trigger_and_a_published_project() {
        let stuck = |published: &str, body: &str| {
            err(&format!(
                "{}{published}[projects.stuck]\n{body}",
                project("")
            ))
        };
        let e = stuck("published_hours_ago = 1\n", "started_minutes_ago = -5");
        assert!(
            e.contains("stuck.started_minutes_ago") && e.contains("positive"),
            "{e}"
        );
        let e = stuck(
            "published_hours_ago = 1\n",
            "started_minutes_ago = 5\ntrigger = \"CRON\"",
        );
        assert!(
            e.contains("stuck.trigger") && e.contains("SCHEDULED"),
            "{e}"
        );
        let e = stuck("", "started_minutes_ago = 5");
        assert!(e.contains("not published"), "{e}");
    }

    #[test]
    fn a_schedule_that_cannot_fire_is_refused_naming_the_project_and_the_fix() {
        let sched = |body: &str| {
            err(&format!(
                "{}published_hours_ago = 1\n[[projects.schedules]]\nenabled = true\n{body}",
                project("")
            ))
        };
        let e = sched("cadence = \"CUSTOM\"\ncustom = { cron = \"every tuesday\" }");
        assert!(e.contains("\"P\"") && e.contains("schedules[0]"), "{e}");
        assert!(
            e.contains("every tuesday") && e.contains("five fields"),
            "{e}"
        );
        let e = sched("cadence = \"DAILY\"\ndaily = { hour = 2, timezone = \"Mars/Olympus\" }");
        assert!(e.contains("Mars/Olympus") && e.contains("IANA"), "{e}");
        let e = sched("cadence = \"WEEKLY\"\nweekly = { hour = 2 }");
        assert!(
            e.contains("never fires") && e.contains("day_of_week"),
            "{e}"
        );
        let e = sched("cadence = \"DAILY\"");
        assert!(e.contains("no timing"), "{e}");
        // Disabled schedules are only shown, never fired: no check.
        let text = format!(
            "{}[[projects.schedules]]\nenabled = false\ncadence = \"CUSTOM\"\n\
             custom = {{ cron = \"nonsense\" }}",
            project("")
        );
        assert!(Scenario::from_toml_str(&text, "s.toml").is_ok());
    }

    #[test]
    fn a_parse_error_quotes_one_short_line_of_a_huge_value() {
        // A 400 KB multi-line string where a list of tokens belongs.
        let text = format!("tokens = \"\"\"{}\"\"\"\n", "secret\nvalue ".repeat(30_000));
        let message = err(&text);
        assert!(message.contains("s.toml"), "{message}");
        assert!(!message.contains('\n'), "one line: {message}");
        assert!(message.len() < 400, "{} bytes: {message}", message.len());
    }

    #[test]
    fn the_demo_scenario_is_valid() {
        let demo = Scenario::demo().unwrap();
        assert!(
            demo.tokens()
                .contains(&"hxtp_demo_0000000000000000".to_string())
        );
        assert!(demo.projects().count() >= 8);
        let kinds: HashSet<_> = demo
            .projects()
            .flat_map(|p| p.params().map(|s| s.kind))
            .collect();
        assert_eq!(
            kinds.len(),
            ParamKind::ALL.len(),
            "every parameter kind appears"
        );
        assert!(demo.projects().any(|p| p.published_hours_ago.is_none()));
        assert!(demo.projects().any(|p| p.run.hangs));
    }

    #[test]
    fn bad_toml_points_at_line_and_column() {
        let e = err("tokens = [\"t\"]\nseed = = 3\n");
        assert!(e.starts_with("s.toml:2:"), "{e}");
        let e = err(&project("colour = \"red\"\n"));
        assert!(e.starts_with("s.toml:6:1:"), "{e}");
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn unknown_param_type_is_refused() {
        let e = err(&project(
            "[[projects.params]]\nname = \"x\"\ntype = \"slider\"\n",
        ));
        assert!(e.starts_with("s.toml:8:"), "{e}");
        assert!(e.contains("slider"), "{e}");
    }

    #[test]
    fn dropdown_without_options_is_refused() {
        let e = err(&project(
            "[[projects.params]]\nname = \"region\"\ntype = \"dropdown\"\n",
        ));
        assert!(e.starts_with("s.toml:6:"), "{e}");
        assert!(e.contains("without options"), "{e}");
    }

    #[test]
    fn default_must_match_the_type() {
        let e = err(&project(
            "[[projects.params]]\nname = \"n\"\ntype = \"number\"\ndefault = \"ten\"\n",
        ));
        assert!(e.contains("default of parameter \"n\" does not fit"), "{e}");
        assert!(e.contains("\"ten\""), "{e}");
    }

    #[test]
    fn duplicate_project_ids_are_refused() {
        let one = project("");
        let twice = format!(
            "{one}[[projects]]\nid = \"00000000-0000-4000-8000-000000000001\"\ntitle = \"Q\"\n\
             owner = \"a@b.c\"\n"
        );
        let e = err(&twice);
        assert!(e.starts_with("s.toml:6:"), "{e}");
        assert!(e.contains("duplicate project id"), "{e}");
    }

    #[test]
    fn ranges_rates_and_ids_are_checked() {
        assert!(err(&project("[projects.run]\nduration_secs = [9, 3]\n")).contains("[9, 3]"));
        assert!(err(&project("[projects.run]\nfailure_rate = 1.5\n")).contains("1.5"));
        let e = err(&format!(
            "{HEAD}[[projects]]\nid = \"etl\"\ntitle = \"P\"\nowner = \"a@b.c\"\n"
        ));
        assert!(e.contains("is not a UUID"), "{e}");
        assert!(err("tokens = []\n").contains("tokens is empty"));
    }
}
