//! The pipeline run state machine: inputs in (a step's run was created, ended, time passed, a
//! cancel or resume was asked for), commands out (launch this step's attempt, cancel that run,
//! the pipeline finished). No I/O, no clock: time arrives in the inputs.
//!
//! Owns the rules: dependency order, `max_parallel`, retries with backoff, `on_failure`,
//! cancel, resume and `--from`. Every input is journalled by the driver before it is handled
//! here, so replaying the journalled inputs rebuilds the same state after a crash
//! ([`Machine::replay`]). Must not know how launches or cancels are carried out.

mod render;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

    fn is_active(&self) -> bool {
        matches!(
            self,
            StepStatus::Launching { .. } | StepStatus::Running { .. }
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
}

impl Machine {
    /// A run of `pipeline` with its parameters resolved (defaults filled in).
    pub fn new(pipeline: Arc<Pipeline>, params: IndexMap<String, Value>) -> Machine {
        let steps = pipeline.steps.iter().map(|_| StepState::new()).collect();
        Machine {
            pipeline,
            params,
            steps,
            status: PipelineStatus::Pending,
            finished_sent: false,
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

    /// When the earliest waiting retry is due, so the driver can send a `Tick` then.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        if self.status != PipelineStatus::Running {
            return None;
        }
        self.steps
            .iter()
            .filter_map(|s| match s.status {
                StepStatus::RetryWaiting { due } => Some(due),
                _ => None,
            })
            .min()
    }

    /// The launch of a step whose attempt is in flight, again: for a driver that finds, after a
    /// restart, that the launch never reached the engine's journal (so was never sent).
    pub fn launch_command(&self, step: &str) -> Option<Command> {
        let index = self.index(step).ok()?;
        match self.steps[index].status {
            StepStatus::Launching { attempt } => self.step_launch(index, attempt).ok(),
            _ => None,
        }
    }

    pub fn handle(&mut self, input: &Input) -> Result<Vec<Command>, MachineError> {
        match input {
            Input::Start { at } => {
                if self.status != PipelineStatus::Pending {
                    return Ok(Vec::new());
                }
                self.status = PipelineStatus::Running;
                Ok(self.advance(*at))
            }
            Input::Launched {
                step,
                attempt,
                run_id,
                run_url,
                at,
            } => {
                let index = self.index(step)?;
                let state = &mut self.steps[index];
                if state.status != (StepStatus::Launching { attempt: *attempt }) {
                    return Ok(Vec::new());
                }
                if let Some(a) = state.attempts.last_mut() {
                    a.run_id = Some(run_id.clone());
                    a.run_url.clone_from(run_url);
                    a.launched_at.get_or_insert(*at);
                }
                state.status = StepStatus::Running { attempt: *attempt };
                if state.cancel_on_launch {
                    return Ok(vec![Command::Cancel {
                        step: step.clone(),
                        attempt: *attempt,
                        run_id: run_id.clone(),
                    }]);
                }
                Ok(Vec::new())
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
                let index = self.index(step)?;
                let state = &mut self.steps[index];
                let current = state.status == (StepStatus::Running { attempt: *attempt })
                    && state
                        .attempts
                        .last()
                        .is_some_and(|a| a.run_id.as_deref() == Some(run_id.as_str()));
                if !current || !status.is_terminal() {
                    return Ok(Vec::new());
                }
                if let Some(a) = state.attempts.last_mut() {
                    a.status = Some(status.clone());
                    a.end_time = *end_time;
                    a.ended_at = Some(*at);
                }
                if status.is_success() {
                    state.status = StepStatus::Succeeded;
                } else {
                    self.attempt_failed(index, *at);
                }
                Ok(self.advance(*at))
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
            Input::Tick { at } => Ok(self.advance(*at)),
            Input::Cancel { at } => Ok(self.cancel(*at)),
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
    ) -> Result<Vec<Command>, MachineError> {
        let index = self.index(step)?;
        let state = &mut self.steps[index];
        if &state.status != expected {
            return Ok(Vec::new());
        }
        if let Some(a) = state.attempts.last_mut() {
            a.error = Some(why.to_string());
            a.ended_at = Some(at);
        }
        self.attempt_failed(index, at);
        Ok(self.advance(at))
    }

    fn index(&self, step: &str) -> Result<usize, MachineError> {
        self.pipeline
            .steps
            .iter()
            .position(|s| s.id == step)
            .ok_or_else(|| MachineError::UnknownStep(step.to_string()))
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
            return;
        }
        self.fail(index);
    }

    fn fail(&mut self, index: usize) {
        self.steps[index].status = StepStatus::Failed;
        if self.pipeline.steps[index].on_failure == OnFailure::Stop {
            for d in self.downstream(index) {
                if self.steps[d].status == StepStatus::Waiting {
                    self.steps[d].status = StepStatus::Skipped;
                }
            }
        }
    }

    /// Every step that depends on `index`, directly or not.
    fn downstream(&self, index: usize) -> Vec<usize> {
        let steps = &self.pipeline.steps;
        let mut marked = vec![false; steps.len()];
        marked[index] = true;
        // Topological order: one forward pass sees every dependency before its dependants.
        for (i, step) in steps.iter().enumerate().skip(index + 1) {
            if step
                .depends_on
                .iter()
                .any(|d| self.index(d).is_ok_and(|j| marked[j]))
            {
                marked[i] = true;
            }
        }
        marked[index] = false;
        (0..steps.len()).filter(|&i| marked[i]).collect()
    }

    fn ready(&self, index: usize) -> bool {
        self.pipeline.steps[index].depends_on.iter().all(|d| {
            self.index(d).is_ok_and(|j| match self.steps[j].status {
                StepStatus::Succeeded => true,
                StepStatus::Failed => self.pipeline.steps[j].on_failure == OnFailure::Continue,
                _ => false,
            })
        })
    }

    /// Launches what may launch now, and finishes the round when nothing is left to do.
    fn advance(&mut self, at: Timestamp) -> Vec<Command> {
        let mut commands = Vec::new();
        if self.status == PipelineStatus::Running {
            let mut active = self.steps.iter().filter(|s| s.status.is_active()).count();
            for index in 0..self.steps.len() {
                if active >= self.pipeline.max_parallel {
                    break;
                }
                let launchable = match self.steps[index].status {
                    StepStatus::Waiting => self.ready(index),
                    StepStatus::RetryWaiting { due } => due <= at,
                    _ => false,
                };
                if !launchable {
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
                        active += 1;
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
        let params = render::step_params(&self.pipeline, &self.params, &self.steps, step)?;
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
        if self
            .steps
            .iter()
            .any(|s| s.status.is_active() || matches!(s.status, StepStatus::RetryWaiting { .. }))
        {
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

    fn resume(&mut self, from: Option<&str>, at: Timestamp) -> Result<Vec<Command>, MachineError> {
        if self.status == PipelineStatus::Pending {
            return Err(MachineError::NotStarted);
        }
        if !self.status.is_ended() {
            return Err(MachineError::NotEnded(self.status.as_str()));
        }
        match from {
            Some(step) => {
                let index = self.index(step)?;
                self.steps[index].reset();
                for d in self.downstream(index) {
                    self.steps[d].reset();
                }
            }
            None => {
                if self.status == PipelineStatus::Succeeded {
                    return Err(MachineError::NothingToResume);
                }
                for state in &mut self.steps {
                    if !state.status.is_succeeded() {
                        state.reset();
                    }
                }
            }
        }
        self.status = PipelineStatus::Running;
        self.finished_sent = false;
        Ok(self.advance(at))
    }
}
