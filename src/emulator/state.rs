//! The live workspace: projects as the API shows them, every run, and each run's lifecycle.
//!
//! A run's whole timeline (PENDING → RUNNING → terminal) is planned when it is created, from the
//! project's behaviour, the seeded RNG and the speed; its status at any moment is *derived* from
//! the clock, so a `ManualClock` moves runs forward and every status change has its true time.
//! A cancel cuts the timeline at the moment of the cancel. This module knows nothing of HTTP,
//! tokens, limits or faults; `routes` maps its outcomes to answers.

mod background;
mod published;
mod scheduled;

use indexmap::IndexMap;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::scenario::{ProjectSpec, RunBehaviour, Scenario};
use crate::hex::types::{
    Analytics, InvalidParam, NamedStatus, Person, Project, ProjectVersion, Reviews,
    RunProjectRequest, RunStatusResponse, hex_time,
};
use crate::hex::{ParamKind, RunStatus};

/// One status change, at the (emulated) time it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub status: RunStatus,
    #[serde(serialize_with = "ts")]
    pub at: Timestamp,
}

fn ts<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex_time::format(t))
}

/// A run, as the emulator remembers it.
#[derive(Debug, Clone)]
pub struct Run {
    pub run_id: String,
    pub project_id: String,
    pub project_version: i64,
    pub trigger: String,
    /// `inputParams` exactly as received (unknown keys included).
    pub input_params: IndexMap<String, Value>,
    /// What the run used: project defaults overlaid with the received values it knows.
    pub effective_params: IndexMap<String, Value>,
    /// The rest of the RunProject body (dryRun, cache flags, notifications ...), as JSON.
    pub options: Value,
    pub created_at: Timestamp,
    planned: Vec<Transition>,
    killed_at: Option<Timestamp>,
}

impl Run {
    /// The timeline as it stands, including changes still in the future.
    fn timeline(&self) -> Vec<Transition> {
        match self.killed_at {
            None => self.planned.clone(),
            Some(k) => {
                let mut t: Vec<Transition> = self
                    .planned
                    .iter()
                    .filter(|t| t.at <= k && !t.status.is_terminal())
                    .cloned()
                    .collect();
                t.push(Transition {
                    status: RunStatus::Killed,
                    at: k,
                });
                t
            }
        }
    }

    /// Status changes that have happened by `now`.
    pub fn transitions_at(&self, now: Timestamp) -> Vec<Transition> {
        self.timeline()
            .into_iter()
            .filter(|t| t.at <= now)
            .collect()
    }

    pub fn status_at(&self, now: Timestamp) -> RunStatus {
        self.transitions_at(now)
            .pop()
            .map_or(RunStatus::Pending, |t| t.status)
    }

    /// The run-status object of HEX_API.md at `now`.
    pub fn to_wire(&self, now: Timestamp, run_url: String, trace_id: &str) -> RunStatusResponse {
        let seen = self.transitions_at(now);
        let start = seen
            .iter()
            .find(|t| t.status == RunStatus::Running)
            .map(|t| t.at);
        let end = seen.iter().find(|t| t.status.is_terminal()).map(|t| t.at);
        let status = seen.last().map_or(RunStatus::Pending, |t| t.status.clone());
        let elapsed = start.map(|s| {
            let until = end.unwrap_or(now);
            // Whole milliseconds, as Hex reports them.
            until.duration_since(s).as_millis_f64().round()
        });
        RunStatusResponse {
            project_id: self.project_id.clone(),
            run_id: self.run_id.clone(),
            run_url: Some(run_url),
            status,
            start_time: start,
            end_time: end,
            elapsed_time: elapsed,
            trace_id: Some(trace_id.to_string()),
            project_version: Some(ProjectVersion::Number(self.project_version)),
            notifications: None,
            run_trigger: Some(self.trigger.clone()),
        }
    }
}

/// Why a launch was refused (routes turn these into 404 / 422 / 400 / 503).
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchError {
    ProjectNotFound,
    NotPublished,
    ViewWithParams,
    InvalidParams(Vec<InvalidParam>),
    KernelLimit { active: usize, max: u32 },
}

/// Why a cancel was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum CancelError {
    NotFound,
    AlreadyEnded(RunStatus),
}

/// A project as served: its scenario entry and its API shape (timestamps fixed at build time).
#[derive(Debug, Clone)]
pub struct ProjectEntry {
    pub spec: ProjectSpec,
    pub wire: Project,
}

/// What a successful launch produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Launched {
    pub run_id: String,
    pub project_version: i64,
    pub dry_run: bool,
}

#[derive(Debug)]
pub struct Workspace {
    projects: Vec<ProjectEntry>,
    runs: Vec<Run>,
    rng: fastrand::Rng,
    speed: f64,
    max_kernels: u32,
    /// Hex's scheduler: starts SCHEDULED runs at the projects' fire times.
    schedules: scheduled::Clocks,
    /// Other clients: runs started at random at each project's `activity` rate.
    activity: background::Activity,
}

impl Workspace {
    /// Builds the scenario's initial state as of `now`: projects, then seeded history.
    pub fn new(scenario: &Scenario, speed: f64, now: Timestamp) -> Workspace {
        let projects: Vec<ProjectEntry> = scenario
            .projects()
            .map(|spec| ProjectEntry {
                spec: spec.clone(),
                wire: wire_project(spec, now),
            })
            .collect();
        let schedules = scheduled::Clocks::new(&projects, now, speed, scenario.seed);
        let activity = background::Activity::new(&projects, now, speed, scenario.seed);
        let mut ws = Workspace {
            projects,
            runs: Vec::new(),
            rng: fastrand::Rng::with_seed(scenario.seed),
            speed,
            max_kernels: scenario.limits.max_concurrent_kernels,
            schedules,
            activity,
        };
        ws.seed_history(now);
        ws.seed_stuck(now);
        ws
    }

    pub fn project(&self, id: &str) -> Option<&ProjectEntry> {
        self.projects.iter().find(|p| p.wire.id == id)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    pub fn run(&self, project_id: &str, run_id: &str) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.run_id == run_id && r.project_id == project_id)
    }

    /// PENDING and RUNNING runs hold a kernel (HEX_API.md "Limits").
    pub fn active_kernels(&self, now: Timestamp) -> usize {
        self.runs
            .iter()
            .filter(|r| r.status_at(now).is_active())
            .count()
    }

    /// RunProject's effect. Checks come in the order Hex's answers suggest: project, published,
    /// body consistency, parameter values, then capacity; a refused launch creates nothing.
    pub fn launch(
        &mut self,
        project_id: &str,
        request: &RunProjectRequest,
        now: Timestamp,
    ) -> Result<Launched, LaunchError> {
        self.launch_as(project_id, request, "API", now)
    }

    /// A launch as `trigger` (`API`, `SCHEDULED`, `APP_REFRESH`): what another client, Hex's
    /// scheduler or an app refresh would start, through the same checks as RunProject.
    pub fn launch_as(
        &mut self,
        project_id: &str,
        request: &RunProjectRequest,
        trigger: &str,
        now: Timestamp,
    ) -> Result<Launched, LaunchError> {
        let entry = self
            .project(project_id)
            .ok_or(LaunchError::ProjectNotFound)?;
        if !entry.wire.is_published() {
            return Err(LaunchError::NotPublished);
        }
        if request.view_id.is_some() && request.input_params.is_some() {
            return Err(LaunchError::ViewWithParams);
        }
        let received = request.input_params.clone().unwrap_or_default();
        let effective = check_params(&entry.spec, &received)?;
        let version = entry.spec.version;
        if request.dry_run == Some(true) {
            // A dry run is validated like a real one but is not stored and does not touch the
            // seeded RNG, so it cannot change the outcomes of later real runs. Its id is a fresh
            // v4 UUID that GetRunStatus answers 404 for.
            return Ok(Launched {
                run_id: uuid::Uuid::new_v4().to_string(),
                project_version: version,
                dry_run: true,
            });
        }
        let active = self.active_kernels(now);
        if active >= self.max_kernels as usize {
            return Err(LaunchError::KernelLimit {
                active,
                max: self.max_kernels,
            });
        }
        let behaviour = entry.spec.run.clone();
        let mut options = serde_json::to_value(request).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut options {
            map.remove("inputParams");
        }
        let run_id = self.next_id();
        let planned = plan(&behaviour, now, self.speed, &mut self.rng);
        self.runs.push(Run {
            run_id: run_id.clone(),
            project_id: project_id.to_string(),
            project_version: version,
            trigger: trigger.to_string(),
            input_params: received,
            effective_params: effective,
            options,
            created_at: now,
            planned,
            killed_at: None,
        });
        Ok(Launched {
            run_id,
            project_version: version,
            dry_run: false,
        })
    }

    /// CancelRun's effect: an active run becomes KILLED at `now`.
    pub fn cancel(
        &mut self,
        project_id: &str,
        run_id: &str,
        now: Timestamp,
    ) -> Result<(), CancelError> {
        let run = self
            .runs
            .iter_mut()
            .find(|r| r.run_id == run_id && r.project_id == project_id)
            .ok_or(CancelError::NotFound)?;
        match run.status_at(now) {
            s if s.is_terminal() => Err(CancelError::AlreadyEnded(s)),
            _ => {
                run.killed_at = Some(now);
                Ok(())
            }
        }
    }

    /// Run ids are fresh v4 UUIDs, not drawn from the seeded generator: a client's journal
    /// outlives an emulator restart, and a repeated id would look like the same run.
    fn next_id(&mut self) -> String {
        // Still advance the seeded generator so outcomes drawn after an id stay as seeded.
        let _ = self.rng.u128(..);
        uuid::Uuid::new_v4().to_string()
    }

    /// Past runs per the scenario's `history`, at real (unscaled) durations: they happened
    /// before the emulator started, so `speed` does not apply to them.
    fn seed_history(&mut self, now: Timestamp) {
        let specs: Vec<ProjectSpec> = self.projects.iter().map(|p| p.spec.clone()).collect();
        for spec in specs {
            let Some(history) = &spec.history else {
                continue;
            };
            for i in 0..history.count {
                let ago = f64::from(history.count - i) * history.every_hours * 3600.0;
                let created = after(now, -ago);
                let planned = plan(&spec.run, created, 1.0, &mut self.rng);
                let run_id = self.next_id();
                // Date parameters of a history run carry the business date it processed.
                let mut run = Run::unasked(
                    &spec,
                    run_id,
                    &history.trigger,
                    created,
                    Some(created),
                    planned,
                );
                // A hanging project's past runs were cancelled by someone after a while.
                run.killed_at = spec.run.hangs.then(|| after(created, 600.0));
                self.runs.push(run);
            }
        }
    }
}

impl Workspace {
    /// The runs the scenario says were left RUNNING by someone else before the start: they
    /// hang until cancelled. Drawn from the workspace's RNG after the history, so a scenario
    /// without them gives the same outcomes as before.
    fn seed_stuck(&mut self, now: Timestamp) {
        let stuck: Vec<(ProjectSpec, super::scenario::StuckSpec)> = self
            .projects
            .iter()
            .filter_map(|p| p.spec.stuck.clone().map(|s| (p.spec.clone(), s)))
            .collect();
        for (spec, stuck) in stuck {
            let created = after(now, -stuck.started_minutes_ago * 60.0);
            let behaviour = RunBehaviour {
                hangs: true,
                cannot_allocate_kernel: false,
                ..spec.run.clone()
            };
            let planned = plan(&behaviour, created, 1.0, &mut self.rng);
            let run_id = self.next_id();
            let run = Run::unasked(&spec, run_id, &stuck.trigger, created, None, planned);
            self.runs.push(run);
        }
    }
}

impl Run {
    /// A run nobody sent parameters for (history, a schedule, a colleague's run): the project's
    /// defaults, with date parameters set to the day before `business_day_of` when given (what
    /// a scheduled run processes).
    fn unasked(
        spec: &ProjectSpec,
        run_id: String,
        trigger: &str,
        created_at: Timestamp,
        business_day_of: Option<Timestamp>,
        planned: Vec<Transition>,
    ) -> Run {
        let mut params: IndexMap<String, Value> = spec
            .params()
            .filter_map(|p| p.default.clone().map(|d| (p.name.clone(), d)))
            .collect();
        if let Some(day) =
            business_day_of.and_then(|at| at.to_zoned(TimeZone::UTC).date().yesterday().ok())
        {
            for p in spec.params().filter(|p| p.kind == ParamKind::Date) {
                params.insert(p.name.clone(), Value::String(day.to_string()));
            }
        }
        Run {
            run_id,
            project_id: spec.id.clone(),
            project_version: spec.version,
            trigger: trigger.to_string(),
            input_params: params.clone(),
            effective_params: params,
            options: Value::Object(serde_json::Map::new()),
            created_at,
            planned,
            killed_at: None,
        }
    }
}

/// `at + secs`, saturating; durations come from validated scenario numbers.
fn after(at: Timestamp, secs: f64) -> Timestamp {
    let d = SignedDuration::try_from_secs_f64(secs).unwrap_or(SignedDuration::ZERO);
    at.saturating_add(d).unwrap_or(at)
}

fn draw(range: [f64; 2], roll: f64) -> f64 {
    range[0] + (range[1] - range[0]) * roll
}

/// Plans a run's timeline. Always draws three numbers so every project consumes the RNG alike
/// and one project's behaviour cannot shift another's outcomes for the same seed.
fn plan(
    b: &RunBehaviour,
    created: Timestamp,
    speed: f64,
    rng: &mut fastrand::Rng,
) -> Vec<Transition> {
    let (pending_roll, duration_roll, outcome_roll) = (rng.f64(), rng.f64(), rng.f64());
    let pending = draw(b.pending_secs, pending_roll) / speed;
    let duration = draw(b.duration_secs, duration_roll) / speed;
    let mut t = vec![Transition {
        status: RunStatus::Pending,
        at: created,
    }];
    let start = after(created, pending);
    if b.cannot_allocate_kernel {
        t.push(Transition {
            status: RunStatus::UnableToAllocateKernel,
            at: start,
        });
        return t;
    }
    t.push(Transition {
        status: RunStatus::Running,
        at: start,
    });
    if !b.hangs {
        let outcome = if outcome_roll < b.failure_rate {
            RunStatus::Errored
        } else {
            RunStatus::Completed
        };
        t.push(Transition {
            status: outcome,
            at: after(start, duration),
        });
    }
    t
}

/// Checks received values against the project's declared parameters (the same
/// `ParamSpec::check` the client uses). Unknown names are ignored, as Hex documents.
fn check_params(
    spec: &ProjectSpec,
    received: &IndexMap<String, Value>,
) -> Result<IndexMap<String, Value>, LaunchError> {
    let mut effective: IndexMap<String, Value> = spec
        .params()
        .filter_map(|p| p.default.clone().map(|d| (p.name.clone(), d)))
        .collect();
    let mut invalid = Vec::new();
    for (name, value) in received {
        let Some(param) = spec.param(name) else {
            continue;
        };
        match param.check(value) {
            Ok(canonical) => {
                effective.insert(name.clone(), canonical);
            }
            Err(_) => invalid.push(InvalidParam {
                param_name: name.clone(),
                param_value: Some(value.to_string()),
                data_type: Some(param.kind.data_type().to_string()),
                input_cell_type: Some(param.kind.input_cell_type().to_string()),
            }),
        }
    }
    if invalid.is_empty() {
        Ok(effective)
    } else {
        Err(LaunchError::InvalidParams(invalid))
    }
}

fn wire_project(spec: &ProjectSpec, now: Timestamp) -> Project {
    let hours_ago = |h: f64| after(now, -h * 3600.0);
    let days_ago = |d: f64| hours_ago(d * 24.0);
    let published = spec.published_hours_ago.map(hours_ago);
    Project {
        id: spec.id.clone(),
        title: spec.title.clone(),
        description: spec.description.clone(),
        kind: spec.kind.clone(),
        creator: Some(Person {
            email: spec.creator.clone().unwrap_or_else(|| spec.owner.clone()),
        }),
        owner: Some(Person {
            email: spec.owner.clone(),
        }),
        status: spec.status.clone().map(|name| NamedStatus { name }),
        categories: spec.categories.clone(),
        reviews: Some(Reviews {
            required: spec.reviews_required,
        }),
        analytics: Some(Analytics {
            published_results_updated_at: published,
            last_viewed_at: (spec.app_views.all_time > 0).then(|| hours_ago(3.0)),
            app_views: spec.app_views.clone(),
        }),
        last_edited_at: Some(hours_ago(spec.edited_hours_ago)),
        created_at: Some(days_ago(spec.created_days_ago)),
        last_published_at: published,
        archived_at: spec.archived_days_ago.map(days_ago),
        trashed_at: spec.trashed_days_ago.map(days_ago),
        schedules: spec.schedules.clone(),
        sharing: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const P: &str = "00000000-0000-4000-8000-000000000001";

    fn scenario(run: &str) -> Scenario {
        let text = format!(
            "tokens = [\"t\"]\nseed = 3\n[limits]\nmax_concurrent_kernels = 2\n\
             [[projects]]\nid = \"{P}\"\ntitle = \"P\"\nowner = \"a@b.c\"\n\
             published_hours_ago = 1\n\
             [[projects.params]]\nname = \"n\"\ntype = \"number\"\ndefault = 1\n\
             [projects.run]\n{run}"
        );
        Scenario::from_toml_str(&text, "test").unwrap()
    }

    fn t0() -> Timestamp {
        "2026-03-01T12:00:00Z".parse().unwrap()
    }

    fn secs(n: f64) -> Timestamp {
        after(t0(), n)
    }

    #[test]
    fn a_stuck_run_is_running_since_before_the_start_until_cancelled() {
        let text = format!(
            "tokens = [\"t\"]\n[[projects]]\nid = \"{P}\"\ntitle = \"P\"\nowner = \"a@b.c\"\n\
             published_hours_ago = 1\n[projects.run]\npending_secs = [5, 5]\n\
             duration_secs = [30, 30]\n[projects.stuck]\nstarted_minutes_ago = 50\n"
        );
        let s = Scenario::from_toml_str(&text, "test").unwrap();
        let mut ws = Workspace::new(&s, 10.0, t0());
        let run = ws.runs()[0].clone();
        assert_eq!(run.trigger, "API");
        assert_eq!(run.created_at, secs(-3000.0));
        // Its pending time is real seconds (it began before the emulator), and it never ends.
        assert_eq!(
            run.transitions_at(secs(86_400.0))
                .iter()
                .map(|t| (t.status.clone(), t.at))
                .collect::<Vec<_>>(),
            vec![
                (RunStatus::Pending, secs(-3000.0)),
                (RunStatus::Running, secs(-2995.0))
            ]
        );
        assert_eq!(ws.active_kernels(t0()), 1);
        ws.cancel(P, &run.run_id, secs(10.0)).unwrap();
        assert_eq!(
            ws.run(P, &run.run_id).unwrap().status_at(secs(11.0)),
            RunStatus::Killed
        );
    }

    #[test]
    fn a_run_moves_pending_running_completed_at_planned_times() {
        let s = scenario("pending_secs = [5, 5]\nduration_secs = [30, 30]\n");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let run = ws.launch(P, &RunProjectRequest::default(), t0()).unwrap();
        let r = ws.run(P, &run.run_id).unwrap();
        assert_eq!(r.status_at(secs(4.9)), RunStatus::Pending);
        let pending = r.to_wire(secs(4.9), String::new(), "t");
        assert!(pending.start_time.is_none() && pending.elapsed_time.is_none());
        assert_eq!(r.status_at(secs(5.0)), RunStatus::Running);
        assert_eq!(
            r.to_wire(secs(15.0), String::new(), "t").elapsed_time,
            Some(10_000.0)
        );
        assert_eq!(r.status_at(secs(34.9)), RunStatus::Running);
        assert_eq!(r.status_at(secs(35.0)), RunStatus::Completed);
        let done = r.to_wire(secs(99.0), String::new(), "t");
        assert_eq!(done.end_time, Some(secs(35.0)));
        assert_eq!(done.elapsed_time, Some(30_000.0));
        let statuses: Vec<_> = r
            .transitions_at(secs(99.0))
            .into_iter()
            .map(|t| t.status)
            .collect();
        assert_eq!(
            statuses,
            [RunStatus::Pending, RunStatus::Running, RunStatus::Completed]
        );
    }

    #[test]
    fn speed_divides_durations_and_failure_rate_one_errors() {
        let s =
            scenario("pending_secs = [10, 10]\nduration_secs = [100, 100]\nfailure_rate = 1.0\n");
        let mut ws = Workspace::new(&s, 10.0, t0());
        let run = ws.launch(P, &RunProjectRequest::default(), t0()).unwrap();
        let r = ws.run(P, &run.run_id).unwrap();
        assert_eq!(r.status_at(secs(1.0)), RunStatus::Running);
        assert_eq!(r.status_at(secs(11.0)), RunStatus::Errored);
    }

    #[test]
    fn a_hanging_run_stays_running_until_cancelled() {
        let s = scenario("pending_secs = [1, 1]\nhangs = true\n");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let run = ws.launch(P, &RunProjectRequest::default(), t0()).unwrap();
        let later = secs(86_400.0);
        assert_eq!(
            ws.run(P, &run.run_id).unwrap().status_at(later),
            RunStatus::Running
        );
        ws.cancel(P, &run.run_id, later).unwrap();
        let r = ws.run(P, &run.run_id).unwrap();
        assert_eq!(r.status_at(later), RunStatus::Killed);
        assert_eq!(r.to_wire(later, String::new(), "t").end_time, Some(later));
        assert_eq!(
            ws.cancel(P, &run.run_id, later),
            Err(CancelError::AlreadyEnded(RunStatus::Killed))
        );
        assert_eq!(ws.cancel(P, "nope", later), Err(CancelError::NotFound));
    }

    #[test]
    fn a_pending_cancel_never_starts_and_no_kernel_ends_unable() {
        let s = scenario("pending_secs = [10, 10]\n");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let run = ws.launch(P, &RunProjectRequest::default(), t0()).unwrap();
        ws.cancel(P, &run.run_id, secs(3.0)).unwrap();
        let wire = ws
            .run(P, &run.run_id)
            .unwrap()
            .to_wire(secs(50.0), String::new(), "t");
        assert_eq!(wire.status, RunStatus::Killed);
        assert!(wire.start_time.is_none());

        let s = scenario("pending_secs = [10, 10]\ncannot_allocate_kernel = true\n");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let run = ws.launch(P, &RunProjectRequest::default(), t0()).unwrap();
        let r = ws.run(P, &run.run_id).unwrap();
        assert_eq!(r.status_at(secs(9.0)), RunStatus::Pending);
        assert_eq!(r.status_at(secs(10.0)), RunStatus::UnableToAllocateKernel);
    }

    #[test]
    fn the_kernel_limit_refuses_and_creates_nothing() {
        let s = scenario("pending_secs = [1, 1]\nduration_secs = [60, 60]\n");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let req = RunProjectRequest::default();
        ws.launch(P, &req, t0()).unwrap();
        ws.launch(P, &req, t0()).unwrap();
        assert_eq!(
            ws.launch(P, &req, t0()),
            Err(LaunchError::KernelLimit { active: 2, max: 2 })
        );
        assert_eq!(ws.runs().len(), 2);
        // Once the runs end their kernels are free again.
        assert!(ws.launch(P, &req, secs(61.0)).is_ok());
    }

    #[test]
    fn wrong_types_are_listed_and_unknown_names_ignored() {
        let s = scenario("");
        let mut ws = Workspace::new(&s, 1.0, t0());
        let req: RunProjectRequest =
            serde_json::from_value(json!({"inputParams": {"n": "ten", "zzz": 1}})).unwrap();
        let Err(LaunchError::InvalidParams(invalid)) = ws.launch(P, &req, t0()) else {
            panic!("expected invalid params");
        };
        assert_eq!(invalid.len(), 1);
        assert_eq!(invalid[0].param_value.as_deref(), Some("\"ten\""));
        assert_eq!(invalid[0].data_type.as_deref(), Some("NUMBER"));
        let req: RunProjectRequest =
            serde_json::from_value(json!({"inputParams": {"n": 5, "zzz": 1}})).unwrap();
        let run = ws.launch(P, &req, t0()).unwrap();
        let r = ws.run(P, &run.run_id).unwrap();
        assert_eq!(r.input_params.get("zzz"), Some(&json!(1)));
        assert_eq!(r.effective_params.get("n"), Some(&json!(5)));
        assert!(!r.effective_params.contains_key("zzz"));
    }

    #[test]
    fn outcomes_are_seeded_but_run_ids_are_unique_across_restarts() {
        let s = scenario("failure_rate = 0.5\n");
        let launch = || {
            let mut ws = Workspace::new(&s, 1.0, t0());
            (0..2)
                .map(|_| {
                    let id = ws
                        .launch(P, &RunProjectRequest::default(), t0())
                        .unwrap()
                        .run_id;
                    let outcome = ws
                        .run(P, &id)
                        .unwrap()
                        .status_at(t0() + SignedDuration::from_hours(10));
                    (id, outcome)
                })
                .collect::<Vec<_>>()
        };
        let (a, b) = (launch(), launch());
        let outcomes =
            |v: &[(String, RunStatus)]| v.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
        assert_eq!(outcomes(&a), outcomes(&b));
        assert!(a.iter().zip(&b).all(|(x, y)| x.0 != y.0));
    }

    #[test]
    fn demo_history_is_seeded_and_in_the_past() {
        let demo = Scenario::demo().unwrap();
        let ws = Workspace::new(&demo, 1.0, t0());
        assert!(ws.runs().len() > 20);
        assert!(ws.runs().iter().all(|r| r.created_at < t0()));
        assert!(ws.runs().iter().any(|r| r.trigger == "SCHEDULED"));
    }
}
