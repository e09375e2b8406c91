//! The emulator's shared state and the in-process control handle.
//!
//! Owns the one lock around everything mutable (workspace, rate windows, faults and their RNG,
//! request log) and the records the control surface reports. Every HTTP handler and
//! [`EmulatorControl`] go through here, so `/_emulator/*` and in-process tests see the same
//! thing. It holds no HTTP types; `routes` and `control` do the talking.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::Value;

use super::faults::Faults;
use super::limits::RateLimiter;
use super::scenario::Scenario;
use super::scenario::TRIGGERS;
use super::state::{LaunchError, Run, Transition, Workspace};
use crate::clock::{Clock, SharedClock};
use crate::hex::types::{RunProjectRequest, hex_time};
use crate::hex::{Operation, RunStatus};

/// The request log keeps this many entries; older ones are dropped so a long demo stays small.
const LOG_CAPACITY: usize = 10_000;

/// Distinguishes the fault RNG from the workspace RNG, so injecting faults never changes which
/// runs fail for a given seed.
const FAULT_SEED_SALT: u64 = 0x6661_756c_7473;

/// One request as the emulator saw it. The Authorization header is never recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Emulated time of arrival.
    pub at: String,
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub operation: Option<Operation>,
    /// None when the connection was dropped on purpose.
    pub status: Option<u16>,
    /// `drop_before`, `error`, `drop_after` or `malformed` when a fault was injected.
    pub fault: Option<String>,
    pub trace_id: Option<String>,
}

/// One run with everything a test wants to assert on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub project_id: String,
    pub run_id: String,
    pub status: RunStatus,
    pub run_trigger: String,
    pub project_version: i64,
    /// As received, unknown names included.
    pub input_params: IndexMap<String, Value>,
    /// Defaults overlaid with the accepted values: what the run used.
    pub effective_params: IndexMap<String, Value>,
    /// The rest of the RunProject body.
    pub options: Value,
    pub created_at: String,
    /// Every status change so far with its true (emulated) time.
    pub transitions: Vec<Transition>,
}

fn record(r: &Run, now: Timestamp) -> RunRecord {
    RunRecord {
        project_id: r.project_id.clone(),
        run_id: r.run_id.clone(),
        status: r.status_at(now),
        run_trigger: r.trigger.clone(),
        project_version: r.project_version,
        input_params: r.input_params.clone(),
        effective_params: r.effective_params.clone(),
        options: r.options.clone(),
        created_at: hex_time::format(&r.created_at),
        transitions: r.transitions_at(now),
    }
}

/// Why [`EmulatorControl::start_run`] started nothing.
#[derive(Debug, Clone, PartialEq)]
pub enum StartRefused {
    /// No such project.
    NotFound(String),
    /// A bad trigger, an unpublished project or parameters the project would refuse.
    Invalid(String),
    /// Every kernel is busy.
    Busy(String),
}

impl StartRefused {
    fn from_launch(project_id: &str, e: LaunchError) -> StartRefused {
        match e {
            LaunchError::ProjectNotFound => {
                StartRefused::NotFound(format!("no project {project_id} in this workspace"))
            }
            LaunchError::NotPublished => StartRefused::Invalid(format!(
                "project {project_id} is not published; only published projects run"
            )),
            LaunchError::ViewWithParams => {
                StartRefused::Invalid("viewId cannot be combined with inputParams".to_string())
            }
            LaunchError::InvalidParams(invalid) => StartRefused::Invalid(format!(
                "invalid input parameters: {}",
                invalid
                    .iter()
                    .map(|p| match (&p.param_value, &p.data_type) {
                        (Some(v), Some(t)) => format!("{} = {v} is not a valid {t}", p.param_name),
                        _ => format!("{} is not valid", p.param_name),
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            LaunchError::KernelLimit { active, max } => StartRefused::Busy(format!(
                "{active} of {max} kernels are running; wait for one to end"
            )),
        }
    }
}

pub(crate) struct Inner {
    pub workspace: Workspace,
    pub limiter: RateLimiter,
    pub faults: Faults,
    pub fault_rng: fastrand::Rng,
    pub log: VecDeque<RequestRecord>,
}

pub(crate) struct App {
    pub scenario: Scenario,
    pub speed: f64,
    pub tokens: Vec<String>,
    pub clock: SharedClock,
    pub addr: SocketAddr,
    inner: Mutex<Inner>,
}

impl App {
    pub fn new(
        scenario: Scenario,
        speed: f64,
        extra_tokens: Vec<String>,
        clock: SharedClock,
        addr: SocketAddr,
    ) -> App {
        let mut tokens = scenario.tokens().to_vec();
        tokens.extend(extra_tokens);
        tokens.retain(|t| !t.trim().is_empty());
        let inner = fresh(&scenario, speed, clock.now());
        App {
            scenario,
            speed,
            tokens,
            clock,
            addr,
            inner: Mutex::new(inner),
        }
    }

    /// A panic while holding the lock leaves consistent-enough data (each change is one small
    /// step), so a poisoned lock is used anyway rather than taking the whole emulator down.
    /// Scheduled runs due by now are started first, so whoever holds the lock sees them.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.workspace.fire_due(self.now());
        inner
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn accepts(&self, token: &str) -> bool {
        self.tokens.iter().any(|t| t == token)
    }

    /// The Hex UI link of a run (`runUrl`).
    pub fn run_url(&self, project_id: &str, run_id: &str) -> String {
        format!(
            "{}/app/{project_id}/latest?runId={run_id}",
            self.scenario.app_url.trim_end_matches('/')
        )
    }

    pub fn record(&self, record: RequestRecord) {
        let mut inner = self.lock();
        if inner.log.len() >= LOG_CAPACITY {
            inner.log.pop_front();
        }
        inner.log.push_back(record);
    }
}

fn fresh(scenario: &Scenario, speed: f64, now: Timestamp) -> Inner {
    Inner {
        workspace: Workspace::new(scenario, speed, now),
        limiter: RateLimiter::new(scenario.limits),
        faults: scenario.faults.clone(),
        fault_rng: fastrand::Rng::with_seed(scenario.seed ^ FAULT_SEED_SALT),
        log: VecDeque::new(),
    }
}

/// In-process control of a running emulator; everything here is also served under `/_emulator/`.
#[derive(Clone)]
pub struct EmulatorControl {
    pub(crate) app: Arc<App>,
}

impl std::fmt::Debug for EmulatorControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorControl")
            .field("addr", &self.app.addr)
            .finish_non_exhaustive()
    }
}

impl EmulatorControl {
    /// Every run (seeded history, live, killed), oldest first, as of the clock's now.
    pub fn runs(&self) -> Vec<RunRecord> {
        let now = self.app.now();
        let inner = self.app.lock();
        inner
            .workspace
            .runs()
            .iter()
            .map(|r| record(r, now))
            .collect()
    }

    /// Starts a run as someone other than the caller would: another API client (`API`), Hex's
    /// scheduler (`SCHEDULED`) or an app refresh (`APP_REFRESH`). The same checks as RunProject
    /// (project, published, parameters, kernels), but neither counted in the rate windows nor
    /// logged as a request: nobody sent it to Hex's API.
    pub fn start_run(
        &self,
        project_id: &str,
        trigger: &str,
        input_params: Option<IndexMap<String, Value>>,
    ) -> Result<RunRecord, StartRefused> {
        if !TRIGGERS.contains(&trigger) {
            return Err(StartRefused::Invalid(format!(
                "trigger {:?} is not one of {}",
                crate::safe_text::one_line(trigger, 40),
                TRIGGERS.join(", ")
            )));
        }
        let now = self.app.now();
        let request = RunProjectRequest {
            input_params,
            ..RunProjectRequest::default()
        };
        let mut inner = self.app.lock();
        let launched = inner
            .workspace
            .launch_as(project_id, &request, trigger, now)
            .map_err(|e| StartRefused::from_launch(project_id, e))?;
        inner
            .workspace
            .run(project_id, &launched.run_id)
            .map(|r| record(r, now))
            .ok_or_else(|| StartRefused::Invalid("the new run vanished".to_string()))
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.app.lock().log.iter().cloned().collect()
    }

    pub fn faults(&self) -> Faults {
        self.app.lock().faults.clone()
    }

    /// Replaces the active faults; refuses (and keeps the old ones) if they do not validate.
    pub fn set_faults(&self, faults: Faults) -> Result<(), String> {
        faults.validate()?;
        self.app.lock().faults = faults;
        Ok(())
    }

    /// Back to the scenario's initial state as of the clock's now: runs, request log, rate
    /// windows, faults and RNGs.
    pub fn reset(&self) {
        let now = self.app.now();
        *self.app.lock() = fresh(&self.app.scenario, self.app.speed, now);
    }

    pub fn now(&self) -> Timestamp {
        self.app.now()
    }

    /// Moves a manual clock forward; refused when the emulator runs on the real clock.
    pub fn advance_clock(&self, seconds: f64) -> Result<Timestamp, String> {
        let Some(manual) = self.app.clock.as_manual() else {
            return Err(
                "the emulator runs on the system clock; only a manual clock can be advanced"
                    .to_string(),
            );
        };
        let by = SignedDuration::try_from_secs_f64(seconds)
            .map_err(|e| format!("seconds = {seconds} is not a usable duration: {e}"))?;
        manual.advance(by);
        Ok(manual.now())
    }
}
