//! Pipelines driven in the background of a long-lived hexdash (the dashboard): unfinished runs
//! of this profile are carried on at start, and new runs, resumes and cancels are started here
//! without blocking the caller. Each run is driven by its own task.
//!
//! Owns the set of driving tasks. Must not be used by a read-only engine (it refuses): only the
//! journal's writer may drive pipelines.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::control::{self, Control};
use super::{ConductError, Conductor, Header, LoadError};
use crate::engine::Engine;
use crate::pipeline::{Pipeline, Projects};

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Conduct(#[from] ConductError),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("pipeline run {0} is already being driven here")]
    Busy(String),
    #[error(
        "pipeline run {id} is driven by another hexdash ({by}); cancel it from anywhere, it stops there"
    )]
    DrivenElsewhere { id: String, by: String },
    #[error(transparent)]
    Journal(#[from] crate::journal::Error),
    #[error("cannot leave a cancel request for pipeline run {id}: {source}")]
    Request {
        id: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
pub struct Runner {
    engine: Engine,
    data_dir: PathBuf,
    stop: watch::Receiver<bool>,
    tasks: Arc<Mutex<HashMap<String, JoinHandle<()>>>>,
}

impl Runner {
    /// `stop` turning true ends every driving task (the pipelines go on; the next hexdash
    /// carries them on).
    pub fn new(engine: Engine, stop: watch::Receiver<bool>) -> Runner {
        let data_dir = engine
            .journal_path()
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        Runner {
            engine,
            data_dir,
            stop,
            tasks: Arc::default(),
        }
    }

    fn tasks(&self) -> std::sync::MutexGuard<'_, HashMap<String, JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a task here is driving `id`.
    pub fn is_driving(&self, id: &str) -> bool {
        self.tasks().get(id).is_some_and(|t| !t.is_finished())
    }

    /// Starts driving every unfinished pipeline run of this profile. Returns one message per
    /// run it could not carry on.
    pub async fn carry_on_unfinished(&self, projects: &Projects<'_>) -> Vec<String> {
        let profile = self.engine.profile().to_string();
        let loaded = self.engine.with_journal(|j| super::load_all(j, projects));
        let mut problems = Vec::new();
        for result in loaded {
            match result {
                Ok(l) if !l.machine.status().is_ended() && l.recorded.header.profile == profile => {
                    match self.reopen_and_drive(&l, None).await {
                        // Its driver is alive in another process: it carries it on.
                        Ok(()) | Err(RunnerError::DrivenElsewhere { .. }) => {}
                        Err(e) => problems.push(e.to_string()),
                    }
                }
                Ok(_) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        problems
    }

    /// Starts a new run of `pipeline` and drives it in the background; its id.
    pub fn start(&self, pipeline: Arc<Pipeline>, header: &Header) -> Result<String, RunnerError> {
        let conductor = Conductor::begin(self.engine.clone(), pipeline, header)?;
        let id = conductor.id().to_string();
        // A new id: nobody else can hold it.
        self.claim(&id)?;
        self.spawn(conductor);
        Ok(id)
    }

    /// Resumes an ended run (failed steps, or `from` a step), or carries on an interrupted one.
    pub async fn resume(
        &self,
        id: &str,
        from: Option<String>,
        projects: &Projects<'_>,
    ) -> Result<(), RunnerError> {
        if self.is_driving(id) {
            return Err(RunnerError::Busy(id.to_string()));
        }
        let loaded = self.engine.with_journal(|j| super::load(j, id, projects))?;
        let from = if loaded.machine.status().is_ended() {
            Some(from)
        } else {
            None
        };
        self.reopen_and_drive(&loaded, from).await
    }

    /// Drives `id` if it has not ended and nothing here drives it already; an ended run is left
    /// as it is (never resumed by this).
    pub async fn carry_on(&self, id: &str, projects: &Projects<'_>) -> Result<(), RunnerError> {
        if self.is_driving(id) {
            return Ok(());
        }
        let loaded = self.engine.with_journal(|j| super::load(j, id, projects))?;
        if loaded.machine.status().is_ended() {
            return Ok(());
        }
        self.reopen_and_drive(&loaded, None).await
    }

    /// Asks whoever drives `id` (a task here or another hexdash) to cancel it.
    pub fn cancel(&self, id: &str) -> Result<(), RunnerError> {
        control::request_cancel(&self.data_dir, id).map_err(|source| RunnerError::Request {
            id: id.to_string(),
            source,
        })?;
        Ok(())
    }

    /// `resume`: `Some(from)` feeds a Resume input first (the run had ended).
    async fn reopen_and_drive(
        &self,
        loaded: &super::Rebuilt,
        resume: Option<Option<String>>,
    ) -> Result<(), RunnerError> {
        self.claim(&loaded.id)?;
        let mut conductor = match Conductor::reopened(self.engine.clone(), loaded).await {
            Ok(c) => c,
            Err(e) => {
                self.engine.release_pipeline(&loaded.id);
                return Err(e.into());
            }
        };
        if let Some(from) = resume {
            // A cancel asked as the run ended was never carried out; it must not cancel this
            // new round.
            control::clear_request(&self.data_dir, &loaded.id);
            conductor.resume(from)?;
        }
        self.spawn(conductor);
        Ok(())
    }

    /// Becomes the one process that drives `id`, or says which live process does.
    fn claim(&self, id: &str) -> Result<(), RunnerError> {
        match self.engine.claim_pipeline(id)? {
            None => Ok(()),
            Some(by) => Err(RunnerError::DrivenElsewhere {
                id: id.to_string(),
                by: by.describe(),
            }),
        }
    }

    fn spawn(&self, mut conductor: Conductor) {
        let id = conductor.id().to_string();
        let mut control = Control::new(&self.data_dir, self.stop.clone());
        let data_dir = self.data_dir.clone();
        let task_id = id.clone();
        let engine = self.engine.clone();
        let task = tokio::spawn(async move {
            let driven = conductor.drive(&mut control).await;
            engine.release_pipeline(&task_id);
            match driven {
                Ok(Some(status)) => {
                    control::clear_request(&data_dir, &task_id);
                    tracing::info!(pipeline_run = %task_id, status = status.as_str(), "pipeline ended");
                }
                Ok(None) => tracing::info!(pipeline_run = %task_id, "stopped driving"),
                Err(e) => {
                    tracing::warn!(pipeline_run = %task_id, error = %e, "pipeline driver stopped")
                }
            }
        });
        self.tasks().insert(id, task);
    }
}
