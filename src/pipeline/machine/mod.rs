//! The pipeline run state machine: inputs in (a step's run was created, ended, time passed, a
//! cancel or resume was asked for), commands out (launch this step's attempt, cancel that run,
//! the pipeline finished). No I/O, no clock: time arrives in the inputs.
//!
//! Owns the rules: dependency order, `max_parallel`, retries with backoff, `on_failure`,
//! cancel, resume and `--from`. Every input is journalled by the driver before it is handled
//! here, so replaying the journalled inputs rebuilds the same state after a crash
//! ([`Machine::replay`]). Must not know how launches or cancels are carried out.

#[cfg(test)]
mod cancel_tests;
mod render;
mod schedule;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use schedule::{Graph, Schedule};

use super::{OnFailure, Pipeline, ProjectRef};
use crate::hex::RunStatus;

/// What the driver tells the machine. Each is journalled as it is (`kind` is the tag).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Input {
    Start {
        at: Timestamp,
    },
    /// The attempt's run exists.
    Launched {
        step: String,
        attempt: u32,
        run_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run_url: Option<String>,
        at: Timestamp,
    },
    /// The attempt produced no run (Hex refused it, or it was given up).
    LaunchFailed {
        step: String,
        attempt: u32,
        error: String,
        at: Timestamp,
    },
    /// The attempt's run reached a terminal status.
    RunEnded {
        step: String,
        attempt: u32,
        run_id: String,
        status: RunStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        end_time: Option<Timestamp>,
        at: Timestamp,
    },
    /// The step stopped waiting for the attempt's run, which is left as it is: it passed the
    /// step's timeout without `kill_on_timeout` (with a kill, its end arrives as `RunEnded`
    /// KILLED instead), or Hex no longer knows it.
    GaveUp {
        step: String,
        attempt: u32,
        reason: String,
        at: Timestamp,
    },
    /// Time passed: retries that are due launch.
    Tick {
        at: Timestamp,
    },
    Cancel {
        at: Timestamp,
    },
    /// Carry an ended run on: its failed, skipped and cancelled steps, or `from` a step with
    /// everything downstream of it.
    Resume {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        at: Timestamp,
    },
}

/// What the machine asks the driver to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Launch(StepLaunch),
    Cancel {
        step: String,
        attempt: u32,
        run_id: String,
    },
    /// Sent once per round, when nothing is running or waiting any more.
    Finished(PipelineStatus),
}

/// One attempt of a step, ready to launch.
#[derive(Debug, Clone, PartialEq)]
pub struct StepLaunch {
    pub step: String,
    pub attempt: u32,
    pub project: ProjectRef,
    pub params: IndexMap<String, Value>,
    pub timeout: Option<Duration>,
    pub kill_on_timeout: bool,
    pub use_cached_sql_results: Option<bool>,
    pub update_published_results: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PipelineStatus {
    /// Not started yet.
    Pending,
    Running,
    /// Cancel asked; waiting for running steps to die.
    Cancelling,
    Succeeded,
    Failed,
    Cancelled,
}

impl PipelineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PipelineStatus::Pending => "PENDING",
            PipelineStatus::Running => "RUNNING",
            PipelineStatus::Cancelling => "CANCELLING",
            PipelineStatus::Succeeded => "SUCCEEDED",
            PipelineStatus::Failed => "FAILED",
            PipelineStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn is_ended(self) -> bool {
        matches!(
            self,
            PipelineStatus::Succeeded | PipelineStatus::Failed | PipelineStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    Waiting,
    /// The attempt's launch was asked for; its run is not known yet.
    Launching {
        attempt: u32,
    },
    Running {
        attempt: u32,
    },
    /// The last attempt failed; the next launches at `due`.
    RetryWaiting {
        due: Timestamp,
    },
    Succeeded,
    Failed,
    /// An upstream step failed with `on_failure = "stop"`.
    Skipped,
    Cancelled,
}

impl StepStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            StepStatus::Waiting => "WAITING",
            StepStatus::Launching { .. } => "LAUNCHING",
            StepStatus::Running { .. } => "RUNNING",
            StepStatus::RetryWaiting { .. } => "RETRY_WAIT",
            StepStatus::Succeeded => "SUCCEEDED",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "SKIPPED",
            StepStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn is_succeeded(&self) -> bool {
        matches!(self, StepStatus::Succeeded)
    }

    /// Nothing more will happen to the step in this round.
    pub fn is_done(&self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::Failed
                | StepStatus::Skipped
                | StepStatus::Cancelled
        )
    }
}

/// One attempt of a step: a run, or a launch that made none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attempt {
    pub number: u32,
    pub run_id: Option<String>,
    pub run_url: Option<String>,
    pub launched_at: Option<Timestamp>,
    /// When the machine learned it ended.
    pub ended_at: Option<Timestamp>,
    /// Hex's end time for the run.
    pub end_time: Option<Timestamp>,
    pub status: Option<RunStatus>,
    /// Why it produced no run, or could not be launched.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepState {
    pub status: StepStatus,
    /// Every attempt ever made, across resumes: history is never dropped.
    pub attempts: Vec<Attempt>,
    /// Attempts before this index belong to earlier rounds and do not use this round's retries.
    round_start: usize,
    /// A cancel arrived while the launch was in flight: cancel the run as soon as it exists.
    cancel_on_launch: bool,
}

impl StepState {
    fn new() -> StepState {
        StepState {
            status: StepStatus::Waiting,
            attempts: Vec::new(),
            round_start: 0,
            cancel_on_launch: false,
        }
    }

    fn reset(&mut self) {
        self.status = StepStatus::Waiting;
        self.round_start = self.attempts.len();
        self.cancel_on_launch = false;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MachineError {
    #[error("no step {0:?} in this pipeline")]
    UnknownStep(String),
    #[error("the pipeline run is still {0}; only an ended run can be resumed")]
    NotEnded(&'static str),
    #[error("the pipeline run succeeded: nothing failed to resume (give --from STEP to rerun)")]
    NothingToResume,
    #[error("the pipeline run has not started")]
    NotStarted,
}

/// One pipeline run.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    pipeline: Arc<Pipeline>,
    params: IndexMap<String, Value>,
    /// Same order as `pipeline.steps`.
    steps: Vec<StepState>,
    status: PipelineStatus,
    finished_sent: bool,
    /// Built once from the pipeline; shared by clones.
    graph: Arc<Graph>,
    /// What may launch next, kept up to date with `steps`.
    schedule: Schedule,
}

impl Machine {
    /// A run of `pipeline` with its parameters resolved (defaults filled in).
    pub fn new(pipeline: Arc<Pipeline>, params: IndexMap<String, Value>) -> Machine {
        let steps: Vec<StepState> = pipeline.steps.iter().map(|_| StepState::new()).collect();
        let graph = Arc::new(Graph::new(&pipeline));
        let schedule = Schedule::rebuild(&pipeline, &graph, &steps);
        Machine {
            pipeline,
            params,
            steps,
            status: PipelineStatus::Pending,
            finished_sent: false,
            graph,
            schedule,
        }
    }

    /// The state after `inputs`, as when they were first handled; commands are dropped (the
    /// driver settles launches and runs from the journal instead).
    pub fn replay<'a>(
        pipeline: Arc<Pipeline>,
        params: IndexMap<String, Value>,
        inputs: impl IntoIterator<Item = &'a Input>,
    ) -> Result<Machine, MachineError> {
        let mut machine = Machine::new(pipeline, params);
        for input in inputs {
            machine.handle(input)?;
        }
        Ok(machine)
    }

    pub fn status(&self) -> PipelineStatus {
        self.status
    }

    pub fn is_cancelling(&self) -> bool {
        matches!(
            self.status,
            PipelineStatus::Cancelling | PipelineStatus::Cancelled
        )
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    pub fn params(&self) -> &IndexMap<String, Value> {
        &self.params
    }

    /// Every step with its state, in the pipeline's order.
    pub fn steps(&self) -> impl Iterator<Item = (&super::Step, &StepState)> {
        self.pipeline.steps.iter().zip(&self.steps)
    }

    pub fn step(&self, id: &str) -> Option<&StepState> {
        self.index(id).ok().map(|i| &self.steps[i])
    }

    /// The definition of step `id` (by index, where `Pipeline::step` searches).
    pub fn step_def(&self, id: &str) -> Option<&super::Step> {
        self.index(id).ok().map(|i| &self.pipeline.steps[i])
    }

    /// When the earliest waiting retry is due, so the driver can send a `Tick` then. A retry
    /// already due waits for a free slot, which a step's end brings, not the clock.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.status != PipelineStatus::Running {
            return None;
        }
        self.schedule.next_retry()
    }

    /// Whether the driver may hand this attempt's launch to the engine now: the step is still
    /// launching that attempt and the run is not being cancelled. The driver asks right before
    /// every launch it carries out, because commands queued before a cancel was known (or
    /// before a crash) must not launch after it.
    pub fn may_launch(&self, step: &str, attempt: u32) -> bool {
        self.status == PipelineStatus::Running
            && self.index(step).is_ok_and(|i| {
                let state = &self.steps[i];
                state.status == (StepStatus::Launching { attempt }) && !state.cancel_on_launch
            })
    }

    /// The launch of a step whose attempt is in flight, again: for a driver that finds, after a
    /// restart, that the launch never reached the engine's journal (so was never sent). None
    /// once the run is being cancelled: that attempt is never sent (the driver settles it as a
    /// launch that made no run).
    pub fn launch_command(&self, step: &str) -> Option<Command> {
        let index = self.index(step).ok()?;
        match self.steps[index].status {
            StepStatus::Launching { attempt } if self.may_launch(step, attempt) => {
                self.step_launch(index, attempt).ok()
            }
            _ => None,
        }
    }

    /// Whether [`Machine::handle`] would accept `input`, without changing anything: the driver
    /// checks, journals, then applies, so a refused input is never journalled and nothing has
    /// to be copied to roll back.
    pub fn check(&self, input: &Input) -> Result<(), MachineError> {
        match input {
            Input::Launched { step, .. }
            | Input::LaunchFailed { step, .. }
            | Input::RunEnded { step, .. }
            | Input::GaveUp { step, .. } => self.index(step).map(|_| ()),
            Input::Resume { from, .. } => {
                if self.status == PipelineStatus::Pending {
                    return Err(MachineError::NotStarted);
                }
                if !self.status.is_ended() {
                    return Err(MachineError::NotEnded(self.status.as_str()));
                }
                match from {
                    Some(step) => self.index(step).map(|_| ()),
                    None if self.status == PipelineStatus::Succeeded => {
                        Err(MachineError::NothingToResume)
                    }
                    None => Ok(()),
                }
            }
            Input::Start { .. } | Input::Tick { .. } | Input::Cancel { .. } => Ok(()),
        }
    }

    pub fn handle(&mut self, input: &Input) -> Result<Vec<Command>, MachineError> {
        self.check(input)?;
        Ok(self.apply(input))
    }

    /// Acts on an input [`Machine::check`] accepted.
    pub fn apply(&mut self, input: &Input) -> Vec<Command> {
        match input {
            Input::Start { at } => {
                if self.status != PipelineStatus::Pending {
                    return Vec::new();
                }
                self.status = PipelineStatus::Running;
                self.advance(*at)
            }
            Input::Launched {
                step,
                attempt,
                run_id,
                run_url,
                at,
            } => {
                let Ok(index) = self.index(step) else {
                    return Vec::new();
                };
                let state = &mut self.steps[index];
                if state.status != (StepStatus::Launching { attempt: *attempt }) {
                    return Vec::new();
                }
                if let Some(a) = state.attempts.last_mut() {
                    a.run_id = Some(run_id.clone());
                    a.run_url.clone_from(run_url);
                    a.launched_at.get_or_insert(*at);
                }
                state.status = StepStatus::Running { attempt: *attempt };
                if state.cancel_on_launch {
                    return vec![Command::Cancel {
                        step: step.clone(),
                        attempt: *attempt,
                        run_id: run_id.clone(),
                    }];
                }
                Vec::new()
            }
            Input::LaunchFailed {
                step,
                attempt,
                error,
                at,
            } => {
                let expected = StepStatus::Launching { attempt: *attempt };
                self.fail_attempt(step, &expected, error, *at)
            }
            Input::RunEnded {
                step,
                attempt,
                run_id,
                status,
                end_time,
                at,
            } => {
                let Ok(index) = self.index(step) else {
                    return Vec::new();
                };
                let state = &mut self.steps[index];
                let current = state.status == (StepStatus::Running { attempt: *attempt })
                    && state
                        .attempts
                        .last()
                        .is_some_and(|a| a.run_id.as_deref() == Some(run_id.as_str()));
                if !current || !status.is_terminal() {
                    return Vec::new();
                }
                if let Some(a) = state.attempts.last_mut() {
                    a.status = Some(status.clone());
                    a.end_time = *end_time;
                    a.ended_at = Some(*at);
                }
                self.schedule.stopped();
                if status.is_success() {
                    self.succeed(index);
                } else {
                    self.attempt_failed(index, *at);
                }
                self.advance(*at)
            }
            Input::GaveUp {
                step,
                attempt,
                reason,
                at,
            } => {
                let expected = StepStatus::Running { attempt: *attempt };
                self.fail_attempt(step, &expected, reason, *at)
            }
            Input::Tick { at } => self.advance(*at),
            Input::Cancel { at } => self.cancel(*at),
            Input::Resume { from, at } => self.resume(from.as_deref(), *at),
        }
    }

    /// The step's current attempt ended without a run's end: failed with `why`, if the step is
    /// still `expected` (else the input is stale and changes nothing).
    fn fail_attempt(
        &mut self,
        step: &str,
        expected: &StepStatus,
        why: &str,
        at: Timestamp,
    ) -> Vec<Command> {
        let Ok(index) = self.index(step) else {
            return Vec::new();
        };
        let state = &mut self.steps[index];
        if &state.status != expected {
            return Vec::new();
        }
        if let Some(a) = state.attempts.last_mut() {
            a.error = Some(why.to_string());
            a.ended_at = Some(at);
        }
        self.schedule.stopped();
        self.attempt_failed(index, at);
        self.advance(at)
    }

    fn index(&self, step: &str) -> Result<usize, MachineError> {
        self.graph
            .index
            .get(step)
            .copied()
            .ok_or_else(|| MachineError::UnknownStep(step.to_string()))
    }

    fn succeed(&mut self, index: usize) {
        self.steps[index].status = StepStatus::Succeeded;
        self.schedule.satisfied(&self.graph, &self.steps, index);
    }

    /// The step's latest attempt failed: retry it if this round allows, else fail it.
    fn attempt_failed(&mut self, index: usize, at: Timestamp) {
        let step = &self.pipeline.steps[index];
        let state = &mut self.steps[index];
        if self.status != PipelineStatus::Running {
            // Cancelling: a run that ended (killed or not) is not retried.
            state.status = StepStatus::Cancelled;
            return;
        }
        let used = state.attempts.len() - state.round_start;
        let allowed = 1 + step.retries as usize;
        if used < allowed {
            let backoff =
                SignedDuration::try_from(step.retry_backoff).unwrap_or(SignedDuration::MAX);
            let due = at.checked_add(backoff).unwrap_or(Timestamp::MAX);
            state.status = StepStatus::RetryWaiting { due };
            self.schedule.retry_at(due, index);
            return;
        }
        self.fail(index);
    }

    fn fail(&mut self, index: usize) {
        self.steps[index].status = StepStatus::Failed;
        match self.pipeline.steps[index].on_failure {
            OnFailure::Continue => self.schedule.satisfied(&self.graph, &self.steps, index),
            OnFailure::Stop => {
                for d in self.schedule.downstream_once(&self.graph, index) {
                    if self.steps[d].status == StepStatus::Waiting {
                        self.steps[d].status = StepStatus::Skipped;
                    }
                }
            }
        }
    }

    /// Launches what may launch now, and finishes the round when nothing is left to do.
    fn advance(&mut self, at: Timestamp) -> Vec<Command> {
        let mut commands = Vec::new();
        if self.status == PipelineStatus::Running {
            self.schedule.release_due(at);
            while self.schedule.active() < self.pipeline.max_parallel {
                let Some(index) = self.schedule.take_ready() else {
                    break;
                };
                if !matches!(
                    self.steps[index].status,
                    StepStatus::Waiting | StepStatus::RetryWaiting { .. }
                ) {
                    // Skipped since it became ready.
                    continue;
                }
                let attempt =
                    u32::try_from(self.steps[index].attempts.len() + 1).unwrap_or(u32::MAX);
                match self.step_launch(index, attempt) {
                    Ok(command) => {
                        let state = &mut self.steps[index];
                        state.attempts.push(Attempt {
                            number: attempt,
                            launched_at: Some(at),
                            ..Attempt::default()
                        });
                        state.status = StepStatus::Launching { attempt };
                        self.schedule.started();
                        commands.push(command);
                    }
                    Err(error) => {
                        // A template that cannot be rendered will not render on a retry either.
                        self.steps[index].attempts.push(Attempt {
                            number: attempt,
                            launched_at: Some(at),
                            ended_at: Some(at),
                            error: Some(error),
                            ..Attempt::default()
                        });
                        self.fail(index);
                    }
                }
            }
        }
        commands.extend(self.finish_if_done());
        commands
    }

    fn step_launch(&self, index: usize, attempt: u32) -> Result<Command, String> {
        let step = &self.pipeline.steps[index];
        let params = render::step_params(&self.graph.index, &self.params, &self.steps, step)?;
        Ok(Command::Launch(StepLaunch {
            step: step.id.clone(),
            attempt,
            project: step.project.clone(),
            params,
            timeout: step.timeout,
            kill_on_timeout: step.kill_on_timeout,
            use_cached_sql_results: step.use_cached_sql_results,
            update_published_results: step.update_published_results,
        }))
    }

    fn finish_if_done(&mut self) -> Option<Command> {
        if self.finished_sent
            || !matches!(
                self.status,
                PipelineStatus::Running | PipelineStatus::Cancelling
            )
        {
            return None;
        }
        // After `advance` nothing ready is left while no step is active (a free slot took it),
        // so no step active and no retry waiting means nothing more can happen this round.
        if self.schedule.active() > 0 || self.schedule.next_retry().is_some() {
            return None;
        }
        // Nothing runs: a step still waiting can never become ready (its upstream did not
        // succeed), which `fail` already marked; any left are skipped for the same reason.
        for state in &mut self.steps {
            if state.status == StepStatus::Waiting {
                state.status = if self.status == PipelineStatus::Cancelling {
                    StepStatus::Cancelled
                } else {
                    StepStatus::Skipped
                };
            }
        }
        self.schedule.clear_waiting();
        self.status = if self.status == PipelineStatus::Cancelling {
            PipelineStatus::Cancelled
        } else if self.steps.iter().all(|s| s.status.is_succeeded()) {
            PipelineStatus::Succeeded
        } else {
            PipelineStatus::Failed
        };
        self.finished_sent = true;
        Some(Command::Finished(self.status))
    }

    fn cancel(&mut self, _at: Timestamp) -> Vec<Command> {
        if self.status != PipelineStatus::Running {
            return Vec::new();
        }
        self.status = PipelineStatus::Cancelling;
        self.schedule.clear_waiting();
        let mut commands = Vec::new();
        for (step, state) in self.pipeline.steps.iter().zip(&mut self.steps) {
            match state.status {
                StepStatus::Waiting | StepStatus::RetryWaiting { .. } => {
                    state.status = StepStatus::Cancelled;
                }
                StepStatus::Launching { .. } => state.cancel_on_launch = true,
                StepStatus::Running { attempt } => {
                    if let Some(run_id) = state.attempts.last().and_then(|a| a.run_id.clone()) {
                        commands.push(Command::Cancel {
                            step: step.id.clone(),
                            attempt,
                            run_id,
                        });
                    }
                }
                _ => {}
            }
        }
        commands.extend(self.finish_if_done());
        commands
    }

    /// A resume [`Machine::check`] accepted.
    fn resume(&mut self, from: Option<&str>, at: Timestamp) -> Vec<Command> {
        match from.map(|step| self.index(step)) {
            Some(Ok(index)) => {
                self.steps[index].reset();
                for d in schedule::downstream(&self.graph, index) {
                    self.steps[d].reset();
                }
            }
            Some(Err(_)) => return Vec::new(),
            None => {
                for state in &mut self.steps {
                    if !state.status.is_succeeded() {
                        state.reset();
                    }
                }
            }
        }
        self.status = PipelineStatus::Running;
        self.finished_sent = false;
        self.schedule = Schedule::rebuild(&self.pipeline, &self.graph, &self.steps);
        self.advance(at)
    }
}
