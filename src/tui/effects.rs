//! Performs the effects `update` asks for and reports their results as messages.
//!
//! Owns every piece of I/O the dashboard does besides drawing: engine calls (launch, cancel,
//! focus), the project listing, the browser, the clipboard and notifications. Slow work runs in a
//! task and answers on the message channel, so the loop never waits on the network. Browser and
//! terminal escapes go through [`Io`] so tests can record them instead.

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;

use super::catalog;
use super::model::LastRun;
use super::msg::{Effect, LaunchFailure, Msg};
use super::terminal;
use crate::config::Config;
use crate::engine::{Engine, LaunchError};
use crate::hex::Error as HexError;
use crate::hex::types::ProjectRunsQuery;
use crate::journal::Origin;

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

pub struct Runner {
    pub engine: Engine,
    /// Where `SavePresets` writes; `None` keeps presets for this session only.
    pub presets_path: Option<std::path::PathBuf>,
    pub config: Arc<Config>,
    pub tx: UnboundedSender<Msg>,
    pub io: Io,
}

impl Runner {
    /// Starts `effect`. Returns the profile to switch to for `SwitchProfile`.
    pub fn run(&self, effect: Effect) -> Option<String> {
        match effect {
            Effect::FetchProjects => {
                let (engine, config, tx) = (
                    self.engine.clone(),
                    Arc::clone(&self.config),
                    self.tx.clone(),
                );
                tokio::spawn(async move {
                    let result = match engine.client().list_all_projects().await {
                        Ok(projects) => Ok(engine.with_journal(|journal| {
                            catalog::project_rows(projects, &config, journal)
                        })),
                        Err(e) => Err(e.to_string()),
                    };
                    let _ = tx.send(Msg::ProjectsLoaded(result));
                });
            }
            Effect::FetchLastRun(project_id) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let query = ProjectRunsQuery {
                        limit: Some(1),
                        // Scheduled and app-refresh runs count: the question is "when did this
                        // project last run", not "when did an API client last run it".
                        run_trigger_filter: Some("ALL".into()),
                        ..ProjectRunsQuery::default()
                    };
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
            Effect::Launch(request) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let project_id = request.project_id.clone();
                    let result = engine.launch(request).await.map_err(failure);
                    let _ = tx.send(Msg::LaunchFinished { project_id, result });
                });
            }
            Effect::Cancel(key) => {
                let (engine, tx) = (self.engine.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let result = engine
                        .cancel(&key, Origin::Tui)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::CancelFinished { key, result });
                });
            }
            Effect::Focus(key, focused) => self.engine.focus(&key, focused),
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
            Effect::SwitchProfile(name) => return Some(name),
        }
        None
    }
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
