//! A faithful, stateful Hex API server for tests, demos and other Hex clients.
//!
//! Owns the public API (`start`, [`EmulatorOptions`], [`RunningEmulator`]) and the accept loop.
//! Serves every operation of `shared/HEX_API.md` under `/api/v1` (plural and legacy singular
//! paths) from a [`Scenario`], with runs whose lifecycle follows the injectable clock, Hex's rate
//! and kernel limits, seeded fault injection, and control endpoints under `/_emulator/`.
//! It shares only the wire types of `crate::hex` with the client and must never import the
//! client, the engine or anything above them.
//!
//! Decisions worth knowing:
//! - A dry run (`dryRun: true`) is validated like a real one and answers a well-formed 201 with a
//!   fresh run id, but nothing is stored: it is not listed and GetRunStatus answers 404 for it.
//! - Dropped connections are closed before a byte of the answer is written. `drop_before_rate`
//!   drops before the operation takes effect, `drop_after_rate` after (a RunProject whose answer
//!   was lost *did* create its run). Malformed bodies are sent after the operation took effect.
//! - Dropping a [`RunningEmulator`] without `shutdown` also stops the server.

mod app;
mod control;
mod error;
mod faults;
mod limits;
mod pipeline;
mod routes;
mod scenario;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use app::{EmulatorControl, RequestRecord, RunRecord, StartRefused};
pub use error::Error;
pub use faults::{FaultSpec, Faults};
pub use scenario::{HistorySpec, LimitsSpec, ProjectSpec, RunBehaviour, Scenario};
pub use state::Transition;

use crate::clock::SharedClock;
use app::App;
use pipeline::DropConnection;

/// How to run an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    pub scenario: Scenario,
    /// Run durations are divided by this (10.0 = ten times faster). Must be positive.
    pub speed: f64,
    /// Tokens accepted in addition to the scenario's.
    pub extra_tokens: Vec<String>,
    pub clock: SharedClock,
}

impl EmulatorOptions {
    pub fn new(scenario: Scenario) -> Self {
        EmulatorOptions {
            scenario,
            speed: 1.0,
            extra_tokens: Vec::new(),
            clock: crate::clock::system(),
        }
    }
}

/// A started emulator. Dropping it stops the server too.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    control: EmulatorControl,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningEmulator {
    /// The API base URL, e.g. `http://127.0.0.1:8787/api/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/api/v1", self.root_url())
    }

    /// The server root, where `/_emulator/` lives.
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// In-process control: the same things `/_emulator/` offers over HTTP.
    pub fn control(&self) -> EmulatorControl {
        self.control.clone()
    }

    /// Stops accepting, closes open connections and waits for the server task to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!("emulator server task ended abnormally: {e}");
        }
    }
}

/// Binds `addr` (port 0 picks a free port) and serves the emulator on a tokio task.
pub async fn start(addr: SocketAddr, options: EmulatorOptions) -> Result<RunningEmulator, Error> {
    if !(options.speed.is_finite() && options.speed > 0.0) {
        return Err(Error::Speed(options.speed));
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let app = Arc::new(App::new(
        options.scenario,
        options.speed,
        options.extra_tokens,
        options.clock,
        local,
    ));
    let router = routes::router(Arc::clone(&app))
        .merge(control::router(Arc::clone(&app)))
        .fallback(routes::fallback);
    let (shutdown, stop) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, router, stop));
    tracing::info!("Hex API emulator listening on http://{local}/api/v1");
    Ok(RunningEmulator {
        addr: local,
        control: EmulatorControl { app },
        shutdown,
        task,
    })
}

/// Our own accept loop instead of `axum::serve`: only a hyper service that *fails* makes hyper
/// close a connection without answering, which is what an injected drop must look like.
async fn accept_loop(listener: TcpListener, router: axum::Router, mut stop: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // A send or the sender being dropped both mean stop.
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off briefly instead of spinning.
                    tracing::warn!("emulator accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

#[derive(Debug, thiserror::Error)]
#[error("connection dropped by an injected fault")]
struct Dropped;

async fn serve_connection(stream: TcpStream, router: axum::Router) {
    let _ = stream.set_nodelay(true);
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut router = router.clone();
        async move {
            let response = match tower_service::Service::call(&mut router, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<DropConnection>().is_some() {
                Err(Dropped)
            } else {
                Ok(response)
            }
        }
    });
    if let Err(e) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!("emulator connection ended: {e}");
    }
}
