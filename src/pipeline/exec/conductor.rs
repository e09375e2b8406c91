//! Drives one pipeline run on the engine: the machine's commands become engine calls
//! (exactly-once launches, cancel-until-dead), and what the engine reports becomes machine
//! inputs, each journalled before the machine sees it. A conductor can be built for a new run or
//! rebuilt from the journal after a crash; either way it first settles every step whose launch
//! or run the journal already knows about, so no step is ever launched twice.
//!
//! Owns the loop and the mapping between steps and runs. Must not decide what runs next (the
//! machine does) nor poll Hex itself (the engine's scheduler does, within the budget).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

use super::control::Control;
use super::record::{self, Header, STARTED};
use crate::engine::{
    Change, DuplicatePolicy, Engine, LaunchError, LaunchRequest, Launched, PipelineRecordError,
    RunKey, RunView, Update,
};
use crate::journal::{self, LaunchEnd, LaunchOptions, Origin};
use crate::pipeline::machine::{Command, Input, Machine, MachineError, StepLaunch, StepStatus};
use crate::pipeline::{Pipeline, ProjectRef};

/// Why a step's attempt that was about to launch made no run.
const NOT_LAUNCHED: &str = "not launched: the pipeline run was cancelled first";

/// How often the loop looks for a cancel request from another process and for runs whose end
/// it may have missed.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum ConductError {
    #[error(transparent)]
    Record(#[from] PipelineRecordError),
    #[error("pipeline state machine: {0}")]
    Machine(#[from] MachineError),
    #[error(
        "step {step:?}: the outcome of its launch is unknown and could not be settled yet ({why}); \
         nothing was re-sent. Run `hexdash pipeline resume {pipeline_run_id}` later to carry on"
    )]
    Unsettled {
        pipeline_run_id: String,
        step: String,
        why: String,
    },
    #[error(
        "step {step:?} names project {title:?} by title, which is not resolved to an id; give \
         the project's id or a config alias in the pipeline file"
    )]
    Unresolved { step: String, title: String },
}

/// How a pipeline run is going, for the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    StepLaunched {
        step: String,
        attempt: u32,
        key: RunKey,
        run_url: Option<String>,
    },
    StepLaunchFailed {
        step: String,
        attempt: u32,
        error: String,
    },
    StepEnded {
        step: String,
        attempt: u32,
        key: RunKey,
        status: crate::hex::RunStatus,
    },
}

/// Launch and cancel calls run concurrently; their answers come back here.
enum Done {
    Launch {
        step: String,
        attempt: u32,
        result: Result<Launched, LaunchError>,
    },
}

pub struct Conductor {
    engine: Engine,
    id: String,
    pipeline: Arc<Pipeline>,
    machine: Machine,
    /// Runs of attempts still going, to map engine updates back to steps.
    runs: HashMap<RunKey, (String, u32)>,
    /// Commands to carry out before waiting again.
    queue: Vec<Command>,
    done_tx: mpsc::UnboundedSender<Done>,
    done_rx: mpsc::UnboundedReceiver<Done>,
    progress: Option<mpsc::UnboundedSender<Progress>>,
}

impl Conductor {
    /// Starts a new pipeline run: journals its header, then the machine's first input.
    pub fn begin(
        engine: Engine,
        pipeline: Arc<Pipeline>,
        header: &Header,
    ) -> Result<Conductor, ConductError> {
        let id = uuid::Uuid::new_v4().to_string();
        engine.record_pipeline(&id, STARTED, record::header_data(header))?;
        let machine = Machine::new(Arc::clone(&pipeline), header.params.clone());
        let mut conductor = Conductor::with(engine, id, pipeline, machine);
        let at = conductor.engine.now();
        conductor.feed(Input::Start { at })?;
        Ok(conductor)
    }

    /// Rebuilds a run from its journalled inputs. Call [`Conductor::reattach`] before driving.
    pub fn reopen(
        engine: Engine,
        id: &str,
        pipeline: Arc<Pipeline>,
        params: IndexMap<String, Value>,
        inputs: &[Input],
    ) -> Result<Conductor, ConductError> {
        let machine = Machine::replay(Arc::clone(&pipeline), params, inputs)?;
        Ok(Conductor::with(engine, id.to_string(), pipeline, machine))
    }

    /// [`Conductor::reopen`] then [`Conductor::reattach`]: a journalled run, ready to drive.
    pub async fn reopened(
        engine: Engine,
        loaded: &super::Rebuilt,
    ) -> Result<Conductor, ConductError> {
        let mut conductor = Conductor::reopen(
            engine,
            &loaded.id,
            Arc::clone(&loaded.pipeline),
            loaded.recorded.header.params.clone(),
            &loaded.recorded.inputs,
        )?;
        conductor.reattach().await?;
        Ok(conductor)
    }

    fn with(engine: Engine, id: String, pipeline: Arc<Pipeline>, machine: Machine) -> Conductor {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Conductor {
            engine,
            id,
            pipeline,
            machine,
            runs: HashMap::new(),
            queue: Vec::new(),
            done_tx,
            done_rx,
            progress: None,
        }
    }

    /// The engine this conductor records and launches through.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    pub fn pipeline_name(&self) -> &str {
        &self.pipeline.name
    }

    /// Progress reports go to `tx` as they happen.
    pub fn report_to(&mut self, tx: mpsc::UnboundedSender<Progress>) {
        self.progress = Some(tx);
    }

    /// Stops reporting (dropping the sender ends the receiver's stream).
    pub fn take_reporter(&mut self) -> Option<mpsc::UnboundedSender<Progress>> {
        self.progress.take()
    }

    /// Carries an ended run on: its failed steps again, or `from` a step and everything
    /// downstream of it.
    pub fn resume(&mut self, from: Option<String>) -> Result<(), ConductError> {
        let at = self.engine.now();
        self.feed(Input::Resume { from, at })
    }

    /// Cancels the whole run: running steps until dead, nothing more launched.
    pub fn cancel(&mut self) -> Result<(), ConductError> {
        let at = self.engine.now();
        self.feed(Input::Cancel { at })
    }

    /// Journals `input` and lets the machine act on it; its commands are queued. An input the
    /// machine refuses is not journalled (a replay would refuse it too), and a journal failure
    /// leaves the machine as it was, so state and journal never disagree. The machine checks
    /// first and changes only after the entry is on disk (it used to be copied whole for each
    /// input, which made a long pipeline quadratic).
    fn feed(&mut self, input: Input) -> Result<(), ConductError> {
        self.machine.check(&input)?;
        let (kind, data) = record::encode(&input);
        self.engine.record_pipeline(&self.id, &kind, data)?;
        let commands = self.machine.apply(&input);
        self.queue.extend(commands);
        Ok(())
    }

    /// Settles a launching attempt whose launch is not sent because the run is being cancelled:
    /// the machine ends the step as cancelled.
    fn not_launched(&mut self, step: String, attempt: u32) -> Result<(), ConductError> {
        let at = self.engine.now();
        self.feed(Input::LaunchFailed {
            step,
            attempt,
            error: NOT_LAUNCHED.to_string(),
            at,
        })
    }

    fn report(&self, p: Progress) {
        if let Some(tx) = &self.progress {
            let _ = tx.send(p);
        }
    }

    /// After a restart: settles what the journal says about steps that were launching or
    /// running when the last hexdash stopped, and relaunches only launches that never reached
    /// the journal (so were never sent).
    pub async fn reattach(&mut self) -> Result<(), ConductError> {
        // Intents left unresolved by a crash are reconciled by the engine at start.
        self.engine.settled().await;
        let steps: Vec<(String, StepStatus, Option<String>)> = self
            .machine
            .steps()
            .map(|(step, state)| {
                let run_id = state.attempts.last().and_then(|a| a.run_id.clone());
                (step.id.clone(), state.status.clone(), run_id)
            })
            .collect();
        for (step, status, run_id) in steps {
            match status {
                StepStatus::Launching { attempt } => self.settle_launch(&step, attempt).await?,
                StepStatus::Running { attempt } => {
                    if let Some(run_id) = run_id {
                        let key = RunKey::new(&self.project_id(&step)?, &run_id);
                        self.follow(&step, attempt, key)?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// What the journal knows of a launch the machine was waiting for.
    async fn settle_launch(&mut self, step: &str, attempt: u32) -> Result<(), ConductError> {
        let origin = self.origin(step, attempt);
        let (run, ended, pending) = self.engine.with_journal(|j| {
            let run = j
                .runs()
                .rev()
                .find(|r| r.origin() == Some(&origin))
                .map(|r| (r.run_id.clone(), r.run_url.clone()));
            let ended = j
                .ended_launches()
                .iter()
                .rev()
                .find(|l| l.intent.as_ref().is_some_and(|i| i.origin == origin))
                .and_then(|l| match &l.end {
                    LaunchEnd::Failed { error } => Some(error.clone()),
                    // Reconciliation proved it created nothing: sending again is the first
                    // run, not a retry.
                    LaunchEnd::Abandoned { .. } => None,
                });
            let pending = j
                .pending_launches()
                .any(|p| p.intent.as_ref().is_some_and(|i| i.origin == origin));
            (run, ended, pending)
        });
        let at = self.engine.now();
        if let Some((run_id, run_url)) = run {
            self.feed(Input::Launched {
                step: step.to_string(),
                attempt,
                run_id: run_id.clone(),
                run_url,
                at,
            })?;
            let key = RunKey::new(&self.project_id(step)?, &run_id);
            self.follow(step, attempt, key)?;
        } else if pending {
            return Err(ConductError::Unsettled {
                pipeline_run_id: self.id.clone(),
                step: step.to_string(),
                why: "the launch is still unresolved in the journal".into(),
            });
        } else if let Some(error) = ended {
            self.feed(Input::LaunchFailed {
                step: step.to_string(),
                attempt,
                error,
                at,
            })?;
        } else if let Some(command) = self.machine.launch_command(step) {
            // No intent was ever written, so nothing was sent: launching now is the first send.
            self.queue.push(command);
        } else if self.machine.is_cancelling() {
            // Never sent, and now never will be.
            self.not_launched(step.to_string(), attempt)?;
        }
        Ok(())
    }

    /// Starts following a step's run, or settles it at once if it already ended.
    fn follow(&mut self, step: &str, attempt: u32, key: RunKey) -> Result<(), ConductError> {
        self.runs.insert(key.clone(), (step.to_string(), attempt));
        match self.engine.view(&key) {
            Some(view) if !view.is_active() => self.ended(&view)?,
            Some(_) => {}
            None => {
                let ended = self.engine.with_journal(|j| {
                    j.run(&key.project_id, &key.run_id)
                        .filter(|r| !r.is_active())
                        .map(RunView::from)
                });
                match ended {
                    Some(view) => self.ended(&view)?,
                    None => {
                        // A run this profile's engine did not re-attach: follow it now.
                        let origin = self.origin(step, attempt);
                        self.engine
                            .watch(&key, origin)
                            .map_err(PipelineRecordError::from)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A followed run reached a terminal status.
    fn ended(&mut self, view: &RunView) -> Result<(), ConductError> {
        let Some((step, attempt)) = self.runs.remove(&view.key) else {
            return Ok(());
        };
        let Some(status) = view.status.clone() else {
            return Ok(());
        };
        self.report(Progress::StepEnded {
            step: step.clone(),
            attempt,
            key: view.key.clone(),
            status: status.clone(),
        });
        let at = self.engine.now();
        self.feed(Input::RunEnded {
            step,
            attempt,
            run_id: view.key.run_id.clone(),
            status,
            end_time: view.end_time,
            at,
        })
    }

    fn origin(&self, step: &str, attempt: u32) -> Origin {
        Origin::Pipeline {
            pipeline_run_id: self.id.clone(),
            step_id: step.to_string(),
            attempt,
        }
    }

    fn project_id(&self, step: &str) -> Result<String, ConductError> {
        match self.machine.step_def(step).map(|s| &s.project) {
            Some(ProjectRef::Id(id)) => Ok(id.clone()),
            Some(ProjectRef::Title(title)) => Err(ConductError::Unresolved {
                step: step.to_string(),
                title: title.clone(),
            }),
            None => Err(MachineError::UnknownStep(step.to_string()).into()),
        }
    }

    /// Runs the pipeline until it ends (its final status) or `control` asks to stop driving
    /// (`None`: the pipeline goes on, and a later `resume` carries it on).
    pub async fn drive(
        &mut self,
        control: &mut Control,
    ) -> Result<Option<crate::pipeline::machine::PipelineStatus>, ConductError> {
        let mut updates = self.engine.subscribe();
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // A cancel asked while this hexdash was busy (or down) is known before anything
            // queued is carried out.
            self.cancel_if_asked(control)?;
            for command in std::mem::take(&mut self.queue) {
                if let Some(status) = self.carry_out(command)? {
                    return Ok(Some(status));
                }
            }
            if !self.queue.is_empty() {
                continue;
            }
            if self.machine.status().is_ended() && self.runs.is_empty() {
                return Ok(Some(self.machine.status()));
            }
            let deadline = self.machine.next_deadline().map(|due| {
                let wait = due.duration_since(self.engine.now());
                tokio::time::Instant::now() + Duration::try_from(wait).unwrap_or(Duration::ZERO)
            });
            tokio::select! {
                Some(done) = self.done_rx.recv() => {
                    self.cancel_if_asked(control)?;
                    self.launch_done(done)?;
                }
                update = updates.recv() => match update {
                    Ok(Update::Run { view, change }) if self.runs.contains_key(&view.key) => {
                        // A cancel asked since the last check wins over what this end would
                        // launch next.
                        self.cancel_if_asked(control)?;
                        if !view.is_active() {
                            self.ended(&view)?;
                        } else if change == Change::Lost {
                            self.give_up(&view, "Hex no longer knows this run (404); it is not \
                                followed any more")?;
                        } else if change == Change::KillFailed {
                            // No KILLED end will come: the attempt fails like a timeout
                            // without kill, and the run is left as it is.
                            self.give_up(&view, "timed out, and the kill on timeout failed; the \
                                run may still be running in Hex")?;
                        } else if view.timed_out {
                            self.timed_out(&view)?;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => self.recheck()?,
                    Err(broadcast::error::RecvError::Closed) => return Ok(None),
                },
                () = sleep_until(deadline) => {
                    self.cancel_if_asked(control)?;
                    let at = self.engine.now();
                    self.feed(Input::Tick { at })?;
                }
                _ = check.tick() => {
                    self.recheck()?;
                    self.cancel_if_asked(control)?;
                }
                stop = control.stopped() => if stop { return Ok(None) },
            }
        }
    }

    /// Feeds a cancel left by `hexdash pipeline cancel` or the dashboard, once.
    fn cancel_if_asked(&mut self, control: &Control) -> Result<(), ConductError> {
        if control.cancel_requested(&self.id)
            && !self.machine.is_cancelling()
            && !self.machine.status().is_ended()
        {
            let at = self.engine.now();
            self.feed(Input::Cancel { at })?;
        }
        Ok(())
    }

    /// Looks at every followed run once, for ends an overflowing update channel dropped.
    fn recheck(&mut self) -> Result<(), ConductError> {
        let keys: Vec<RunKey> = self.runs.keys().cloned().collect();
        for key in keys {
            match self.engine.view(&key) {
                Some(view) if !view.is_active() => self.ended(&view)?,
                Some(view) if view.timed_out => self.timed_out(&view)?,
                Some(view) if !self.engine.is_watched(&key) => self.give_up(
                    &view,
                    "the run is no longer followed (Hex stopped knowing it)",
                )?,
                _ => {}
            }
        }
        Ok(())
    }

    /// A followed run passed its step's timeout. With kill on timeout the engine is killing it
    /// and its end will come; without, the step gives up on it and the run is left running.
    fn timed_out(&mut self, view: &RunView) -> Result<(), ConductError> {
        let Some((step, _)) = self.runs.get(&view.key) else {
            return Ok(());
        };
        if self
            .machine
            .step_def(step)
            .is_none_or(|s| s.kill_on_timeout)
        {
            return Ok(());
        }
        self.give_up(
            view,
            "timed out; the run was left running (kill_on_timeout = false)",
        )
    }

    /// Stops waiting for a followed run that will not report an end here.
    fn give_up(&mut self, view: &RunView, reason: &str) -> Result<(), ConductError> {
        let Some((step, attempt)) = self.runs.remove(&view.key) else {
            return Ok(());
        };
        let at = self.engine.now();
        self.feed(Input::GaveUp {
            step,
            attempt,
            reason: reason.to_string(),
            at,
        })
    }

    /// Carries out one command; the final status when it is `Finished`.
    fn carry_out(
        &mut self,
        command: Command,
    ) -> Result<Option<crate::pipeline::machine::PipelineStatus>, ConductError> {
        match command {
            Command::Launch(launch) => self.launch(launch)?,
            Command::Cancel {
                step,
                attempt,
                run_id,
            } => {
                let key = RunKey::new(&self.project_id(&step)?, &run_id);
                if self.engine.view(&key).is_some_and(|v| !v.is_active()) {
                    // Its end is what is being handled (a cancel asked as the run ended): Hex
                    // would only answer that it already ended.
                    return Ok(None);
                }
                let (engine, origin) = (self.engine.clone(), self.origin(&step, attempt));
                tokio::spawn(async move {
                    // The run's end arrives as an update; a failed send is retried by the
                    // engine's cancel-until-dead, and its error is logged there.
                    if let Err(e) = engine.cancel(&key, origin).await {
                        tracing::warn!(run = %key.run_id, error = %e, "pipeline step cancel failed");
                    }
                });
            }
            Command::Finished(status) => {
                self.engine.record_pipeline(
                    &self.id,
                    record::FINISHED,
                    serde_json::json!({ "status": status.as_str() }),
                )?;
                return Ok(Some(status));
            }
        }
        Ok(None)
    }

    /// Hands a launch to the engine, unless the run is being cancelled or the step moved on:
    /// a launch queued before a cancel was known must not be sent after it. (The journal
    /// refuses the intent too, for a launch already handed over: see `launch_done`.)
    fn launch(&mut self, launch: StepLaunch) -> Result<(), ConductError> {
        if !self.machine.may_launch(&launch.step, launch.attempt) {
            if self.machine.step(&launch.step).is_some_and(|s| {
                s.status
                    == (StepStatus::Launching {
                        attempt: launch.attempt,
                    })
            }) {
                return self.not_launched(launch.step, launch.attempt);
            }
            return Ok(());
        }
        let project_id = match launch.project {
            ProjectRef::Id(id) => id,
            ProjectRef::Title(title) => {
                return Err(ConductError::Unresolved {
                    step: launch.step,
                    title,
                });
            }
        };
        // The project as the definition names it (alias or title), so lists show more than
        // an id; Hex's own title is not known here without a request.
        let project_title = self
            .machine
            .step_def(&launch.step)
            .map(|s| s.project_name.clone())
            .filter(|name| *name != project_id);
        let request = LaunchRequest {
            project_id,
            project_title,
            params: launch.params,
            options: LaunchOptions {
                dry_run: false,
                use_cached_sql_results: launch.use_cached_sql_results,
                update_published_results: launch.update_published_results,
                timeout_secs: launch.timeout.map(|t| t.as_secs()),
                kill_on_timeout: launch.kill_on_timeout,
            },
            origin: self.origin(&launch.step, launch.attempt),
            // A pipeline may well run a project with the same inputs as a run already going.
            duplicates: DuplicatePolicy::Warn,
            focused: false,
        };
        let (engine, tx) = (self.engine.clone(), self.done_tx.clone());
        let (step, attempt) = (launch.step, launch.attempt);
        tokio::spawn(async move {
            let result = engine.launch(request).await;
            let _ = tx.send(Done::Launch {
                step,
                attempt,
                result,
            });
        });
        Ok(())
    }

    fn launch_done(&mut self, done: Done) -> Result<(), ConductError> {
        let Done::Launch {
            step,
            attempt,
            result,
        } = done;
        let at = self.engine.now();
        match result {
            Ok(launched) => {
                self.report(Progress::StepLaunched {
                    step: step.clone(),
                    attempt,
                    key: launched.key.clone(),
                    run_url: launched.run_url.clone(),
                });
                self.feed(Input::Launched {
                    step: step.clone(),
                    attempt,
                    run_id: launched.key.run_id.clone(),
                    run_url: launched.run_url,
                    at,
                })?;
                self.follow(&step, attempt, launched.key)?;
            }
            // Not knowing whether a run exists, the step must wait: a new send could run it
            // twice. The engine settles it at the next start.
            Err(e @ (LaunchError::Unresolved { .. } | LaunchError::Unsettled { .. })) => {
                return Err(ConductError::Unsettled {
                    pipeline_run_id: self.id.clone(),
                    step,
                    why: e.to_string(),
                });
            }
            // The cancel was journalled while this launch waited its turn in the engine: the
            // journal refused its intent, so nothing was sent.
            Err(LaunchError::Journal(journal::Error::PipelineCancelled { .. })) => {
                self.report(Progress::StepLaunchFailed {
                    step: step.clone(),
                    attempt,
                    error: NOT_LAUNCHED.to_string(),
                });
                self.not_launched(step, attempt)?;
            }
            Err(LaunchError::Journal(e)) => {
                return Err(PipelineRecordError::Journal(e).into());
            }
            Err(e) => {
                let error = e.to_string();
                self.report(Progress::StepLaunchFailed {
                    step: step.clone(),
                    attempt,
                    error: error.clone(),
                });
                self.feed(Input::LaunchFailed {
                    step,
                    attempt,
                    error,
                    at,
                })?;
            }
        }
        Ok(())
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
