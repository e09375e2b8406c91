//! Performs the effects `update` asks for and reports their results as messages.
//!
//! Owns every piece of I/O the dashboard does besides drawing: engine calls (launch, bulk
//! launches, cancel, focus, pinned projects), the project listing and a project's Hex history,
//! the operator's log, presets on disk, pipelines (reading definitions and runs, start, cancel,
//! resume), a profile switch, the browser, the clipboard and notifications. Slow work runs in a
//! task and answers on the message channel, so the loop never waits on the network. Browser and
//! terminal escapes go through [`Io`] so tests can record them instead.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::catalog;
use super::model::LastRun;
use super::msg::{Effect, HistoryPage, LaunchFailure, Msg};
use super::terminal;
use crate::config::Config;
use crate::engine::{Engine, LaunchError, RunKey};
use crate::hex::Error as HexError;
use crate::hex::short_id;
use crate::hex::types::ProjectRunsQuery;
use crate::journal::Origin;
use crate::pipeline::Projects;
use crate::pipeline::exec::{self, Runner as PipelineRunner};
use crate::session::ProjectList;

use super::pipeline_catalog::{self, SharedRunCache};
use std::path::PathBuf;

type EscapeFn = dyn Fn(&str) + Send + Sync;
type OpenFn = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// The side channels to the person: terminal escapes and the browser.
#[derive(Clone)]
pub struct Io {
    pub escape: Arc<EscapeFn>,
    pub open_url: Arc<OpenFn>,
}

impl Io {
    /// The real terminal and the system's browser opener.
    pub fn system() -> Io {
        Io {
            escape: Arc::new(terminal::write_escape),
            open_url: Arc::new(|url| open::that_detached(url).map_err(|e| e.to_string())),
        }
    }
}

/// How many of the newest operator actions `:log` shows (`hexdash log` has them all).
const LOG_ENTRIES: usize = 200;

pub struct EffectRunner {
    pub engine: Engine,
    /// Where `SavePresets` writes; `None` keeps presets for this session only.
    pub presets_path: Option<std::path::PathBuf>,
    pub config: Arc<Config>,
    pub tx: UnboundedSender<Msg>,
    pub io: Io,
    /// Drives pipeline runs started, resumed or cancelled here; `None` when read-only.
    pub pipelines: Option<PipelineRunner>,
    /// Where pipeline definitions are read from; `None` lists none.
    pub pipelines_dir: Option<PathBuf>,
    pub pipeline_runs: SharedRunCache,
    /// The project list, through the data dir's shared cache.
    pub projects: ProjectList,
}

impl EffectRunner {
    /// Starts `effect`. Returns the profile to switch to for `SwitchProfile`.
    pub fn run(&self, effect: Effect) -> Option<String> {
        match effect {
            Effect::FetchProjects => self.list_projects(Listing::Kept),
            Effect::LoadOperatorLog => self.load_operator_log(),
            Effect::RefreshProjects => self.list_projects(Listing::Anew),
            Effect::RelistProjects => self.list_projects(Listing::Quietly),
            Effect::FetchLastRun(project_id) => self.fetch_last_run(project_id),
            Effect::FetchProjectHistory { project_id, offset } => {
                self.fetch_project_history(project_id, offset);
            }
            Effect::Launch(request) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let project_id = request.project_id.clone();
                    let result = engine.launch(request).await.map_err(failure);
                    let _ = tx.send(Msg::LaunchFinished { project_id, result });
                });
            }
            Effect::BulkLaunch { item, request } => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = engine.launch(request).await.map_err(failure);
                    let _ = tx.send(Msg::BulkLaunchFinished { item, result });
                });
            }
            Effect::Cancel(key) => self.cancel(key),
            Effect::Focus(key, focused) => self.engine.focus(&key, focused),
            Effect::FocusProject(id) => self.engine.focus_project(id.as_deref()),
            Effect::PinProjects(ids) => self.engine.pin_projects(ids),
            Effect::OpenUrl(url) => {
                if let Err(error) = (self.io.open_url)(&url) {
                    let _ = self.tx.send(Msg::OpenFailed { url, error });
                }
            }
            Effect::Copy(text) => (self.io.escape)(&terminal::osc52(&text)),
            Effect::Notify(text) => (self.io.escape)(&terminal::notification(&text)),
            Effect::SavePresets(presets) => {
                if let Some(path) = &self.presets_path
                    && let Err(e) = super::presets::save(path, &presets)
                {
                    let _ = self.tx.send(Msg::EffectFailed(e));
                }
            }
            Effect::LoadPipelines => self.load_pipelines(true),
            Effect::LoadPipelineRuns => self.load_pipelines(false),
            Effect::StartPipeline { file, params } => self.pipeline_task(
                move |engine, config, runner, list| async move {
                    start_pipeline(&engine, &config, &runner, &list, &file, params)
                        .await
                        .map_err(|e| format!("{}: {e}", file.display()))
                },
                |result| Some(Msg::PipelineStarted(result)),
            ),
            Effect::CancelPipeline(id) => self.cancel_pipeline_run(id),
            Effect::ResumePipeline(id) => self.resume_pipeline_run(id),
            Effect::SwitchProfile(name) => return Some(name),
        }
        None
    }
}

/// A page of Hex's history of a project (`enter` on it, then more as the cursor reaches the
/// end): GetProjectRuns' largest page.
const PROJECT_HISTORY: u32 = 100;

/// How the project list is got.
#[derive(Debug, Clone, Copy)]
enum Listing {
    /// The cached list at once (any age), then Hex's when it was stale or missing (stored for
    /// the next hexdash): the list on opening the dashboard.
    Kept,
    /// Hex's, whatever the cache holds: the explicit refresh.
    Anew,
    /// The cached list while it is fresh (another hexdash may have listed it), Hex's when it is
    /// not and this process has not walked it within the TTL; nothing (no message) otherwise:
    /// the background re-read every minute.
    Quietly,
}

const READ_ONLY: &str = "read-only: pipelines cannot be started, resumed or cancelled here";

impl EffectRunner {
    /// Reads the newest of the operator's actions off the loop.
    fn load_operator_log(&self) {
        let (path, tx) = (self.engine.journal_path().to_path_buf(), self.tx.clone());
        tokio::task::spawn_blocking(move || {
            let read = crate::journal::Journal::attach(path)
                .and_then(|(journal, _)| journal.operator_actions(None, LOG_ENTRIES))
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::OperatorLog(read));
        });
    }

    /// Asks Hex for the project's newest run, for its LAST RUN column.
    fn fetch_last_run(&self, project_id: String) {
        let (engine, tx) = (self.engine.clone(), self.tx.clone());
        tokio::spawn(async move {
            // Scheduled and app-refresh runs count: the question is "when did this
            // project last run", not "when did an API client last run it".
            let query = ProjectRunsQuery::every_trigger(1);
            let result = engine
                .client()
                .get_project_runs(&project_id, &query)
                .await
                .map(|page| {
                    page.runs.into_iter().next().map(|run| LastRun {
                        at: run.start_time.or(run.end_time),
                        duration_secs: run.elapsed_time.map(|ms| ms / 1000.0),
                        status: run.status,
                    })
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::LastRunFetched { project_id, result });
        });
    }

    /// Asks Hex for a page of the project's history, from `offset`.
    fn fetch_project_history(&self, project_id: String, offset: u32) {
        let (engine, tx) = (self.engine.clone(), self.tx.clone());
        tokio::spawn(async move {
            let query = ProjectRunsQuery {
                offset: Some(offset),
                ..ProjectRunsQuery::every_trigger(PROJECT_HISTORY)
            };
            let result = engine
                .client()
                .get_project_runs(&project_id, &query)
                .await
                .map(|page| HistoryPage {
                    // Hex's `nextPage` says so; a full page is read as "maybe more"
                    // too, for a Hex that leaves the link out (one extra page at most).
                    more: page.next_page.is_some() || page.runs.len() >= PROJECT_HISTORY as usize,
                    runs: page.runs,
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::ProjectHistory {
                project_id,
                offset,
                result,
            });
        });
    }

    fn cancel(&self, key: RunKey) {
        let (engine, tx) = (self.engine.clone(), self.tx.clone());
        tokio::spawn(async move {
            let result = engine
                .cancel(&key, Origin::Tui)
                .await
                .map_err(|e| e.to_string());
            let _ = tx.send(Msg::CancelFinished { key, result });
        });
    }

    /// Cancels pipeline run `id`; only a failure is reported.
    fn cancel_pipeline_run(&self, id: String) {
        let short = short_id(&id).to_string();
        self.pipeline_task(
            move |engine, config, runner, list| async move {
                cancel_pipeline(&engine, &config, &runner, &list, &id).await
            },
            move |result| {
                let e = result.err()?;
                Some(Msg::EffectFailed(format!(
                    "cannot cancel pipeline run {short}: {e}"
                )))
            },
        );
    }

    fn resume_pipeline_run(&self, id: String) {
        let answer_id = id.clone();
        self.pipeline_task(
            move |engine, config, runner, list| async move {
                resume_pipeline(&engine, &config, &runner, &list, &id).await
            },
            move |result| {
                Some(Msg::PipelineResumed {
                    id: answer_id,
                    result,
                })
            },
        );
    }

    /// Sends the project rows, got as `how` says (see [`Listing`]).
    fn list_projects(&self, how: Listing) {
        let (engine, config, tx, list) = (
            self.engine.clone(),
            Arc::clone(&self.config),
            self.tx.clone(),
            self.projects.clone(),
        );
        tokio::spawn(async move {
            let send = |projects: Result<_, crate::hex::Error>| {
                let rows = projects
                    .map(|projects| rows_of(&engine, &config, projects))
                    .map_err(|e| e.to_string());
                let _ = tx.send(Msg::ProjectsLoaded(rows));
            };
            let kept = match how {
                Listing::Anew => None,
                Listing::Kept | Listing::Quietly => list.kept().await,
            };
            match (how, kept) {
                (_, Some(kept)) if kept.fresh => send(Ok(kept.projects)),
                (Listing::Quietly, _) => {
                    if let Some(walked) = list.refresh_if_due().await {
                        send(walked);
                    }
                }
                (_, kept) => {
                    if let Some(kept) = kept {
                        send(Ok(kept.projects));
                    }
                    send(list.refresh().await);
                }
            }
        });
    }

    /// Runs `work` on the pipeline runner in a task and sends what `answer` makes of its
    /// result. A read-only dashboard has no runner: `work` is not run and the answer is
    /// [`READ_ONLY`].
    fn pipeline_task<T, Fut>(
        &self,
        work: impl FnOnce(Engine, Arc<Config>, PipelineRunner, ProjectList) -> Fut + Send + 'static,
        answer: impl FnOnce(Result<T, String>) -> Option<Msg> + Send + 'static,
    ) where
        Fut: std::future::Future<Output = Result<T, String>> + Send + 'static,
        T: Send + 'static,
    {
        let (engine, config, tx) = (
            self.engine.clone(),
            Arc::clone(&self.config),
            self.tx.clone(),
        );
        let (runner, list) = (self.pipelines.clone(), self.projects.clone());
        tokio::spawn(async move {
            let result = match runner {
                Some(runner) => work(engine, config, runner, list).await,
                None => Err(READ_ONLY.into()),
            };
            if let Some(msg) = answer(result) {
                let _ = tx.send(msg);
            }
        });
    }

    /// Reads the runs (and with `definitions`, the definition files) off the loop.
    fn load_pipelines(&self, definitions: bool) {
        let (engine, config, tx) = (
            self.engine.clone(),
            Arc::clone(&self.config),
            self.tx.clone(),
        );
        let (cache, dir) = (Arc::clone(&self.pipeline_runs), self.pipelines_dir.clone());
        tokio::task::spawn_blocking(move || {
            let mut cache = cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let runs = cache.refresh(&engine, &config);
            // Sent under the lock, so a slower earlier refresh never lands after a newer one.
            let _ = tx.send(Msg::PipelineRunsLoaded(runs.clone()));
            drop(cache);
            let defs = definitions.then(|| match &dir {
                Some(dir) => pipeline_catalog::definitions(
                    dir,
                    &config,
                    &pipeline_catalog::journal_names(&runs),
                    jiff::Zoned::now().date(),
                ),
                None => Ok(Vec::new()),
            });
            if let Some(defs) = defs {
                let _ = tx.send(Msg::PipelinesLoaded(defs));
            }
        });
    }
}

/// Leaves the cancel request; if nothing here drives the run (its driver stopped), carries it
/// on, so the request is acted on rather than left waiting.
async fn cancel_pipeline(
    engine: &Engine,
    config: &Config,
    runner: &PipelineRunner,
    list: &ProjectList,
    id: &str,
) -> Result<(), String> {
    runner.cancel(id).map_err(|e| e.to_string())?;
    if runner.is_driving(id) {
        return Ok(());
    }
    let workspace = list
        .for_recorded_pipelines(engine, config, |run_id, _| run_id.starts_with(id))
        .await;
    let projects = Projects {
        config,
        workspace: workspace.as_deref(),
    };
    runner
        .carry_on(id, &projects)
        .await
        .map_err(|e| e.to_string())
}

/// Resumes an ended run from its failed steps. Steps that name their project by title need
/// the project list.
async fn resume_pipeline(
    engine: &Engine,
    config: &Config,
    runner: &PipelineRunner,
    list: &ProjectList,
    id: &str,
) -> Result<(), String> {
    let workspace = list
        .for_recorded_pipelines(engine, config, |run_id, _| run_id.starts_with(id))
        .await;
    let projects = Projects {
        config,
        workspace: workspace.as_deref(),
    };
    runner
        .resume(id, None, &projects)
        .await
        .map_err(|e| e.to_string())
}

/// Reads and validates `file` again (it may have changed since it was listed), fills the
/// parameters left out from their defaults, and starts it; the new run's id.
async fn start_pipeline(
    engine: &Engine,
    config: &Config,
    runner: &PipelineRunner,
    list: &ProjectList,
    file: &std::path::Path,
    params: indexmap::IndexMap<String, serde_json::Value>,
) -> Result<String, String> {
    let prepared = exec::prepare(file, config, list)
        .await
        .map_err(|e| e.errors_on_one_line())?;
    let today = jiff::Zoned::now().date();
    let (pipeline, header) = prepared
        .start(params, engine.profile(), today)
        .map_err(|e| e.to_string())?;
    runner.start(pipeline, &header).map_err(|e| e.to_string())
}

fn failure(e: LaunchError) -> LaunchFailure {
    match e {
        LaunchError::Hex(HexError::Unprocessable {
            message,
            invalid,
            not_found,
            ..
        }) => LaunchFailure::Rejected {
            message,
            invalid,
            not_found,
        },
        other => LaunchFailure::Other(other.to_string()),
    }
}

/// The rows of the projects screen; each list also tells discovery which projects to sweep
/// (live ones the config does not ignore), their schedules and when their results were written.
fn rows_of(
    engine: &Engine,
    config: &Config,
    projects: Vec<crate::hex::types::Project>,
) -> Vec<super::model::ProjectRow> {
    engine.discover(catalog::workspace_projects(&projects, config));
    engine.with_journal(|journal| catalog::project_rows(projects, config, journal))
}
