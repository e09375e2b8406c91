//! What the engine's handle, its driver, launches, cancels and the store sync share: the
//! clients, the options, the state behind one lock, the update channel, the per-project launch
//! locks and the start-up flags. Its own module so those parts all stand on it and none of
//! them on the handle (`Engine`) that starts them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, broadcast};

use super::discovery::DiscoveryPolicy;
use super::poll_policy::PollPolicy;
use super::state::State;
use super::update::Update;
use crate::clock::SharedClock;
use crate::hex::Client;

/// A process without a heartbeat for this long is gone (crashed, killed, or its machine
/// asleep): its unresolved launches may be reconciled by another process. Ten heartbeats'
/// worth, so a busy machine does not declare a live process dead.
pub(crate) const ALIVE_GRACE: Duration = Duration::from_secs(10);

/// How many updates a slow subscriber may fall behind before it is told it lagged (and should
/// re-read `Engine::snapshot`).
const UPDATE_BUFFER: usize = 1024;

/// Knobs of one engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// The config profile launches are recorded under (a name, never a credential).
    pub profile: String,
    pub journal_path: PathBuf,
    pub clock: SharedClock,
    pub policy: PollPolicy,
    /// How long after a cancel Hex may take to report the run dead before "cancel not confirmed".
    pub cancel_deadline: Duration,
    /// PENDING longer than this is flagged overdue.
    pub pending_limit: Duration,
    /// How often workspace discovery lists each kind of project, once [`Engine::discover`] is on.
    pub discovery: DiscoveryPolicy,
}

impl EngineOptions {
    pub fn new(profile: impl Into<String>, journal_path: impl Into<PathBuf>) -> EngineOptions {
        EngineOptions {
            profile: profile.into(),
            journal_path: journal_path.into(),
            clock: crate::clock::system(),
            policy: PollPolicy::default(),
            cancel_deadline: Duration::from_secs(60),
            pending_limit: super::stats::PENDING_LIMIT,
            discovery: DiscoveryPolicy::default(),
        }
    }
}

/// The engine's state and channels, one per engine, behind every `Engine` handle.
pub(crate) struct Shared {
    /// Launches, cancels, listings: may use the whole budget, retries transient failures.
    pub client: Client,
    /// Status polls: leaves the reserve free, never retries by itself.
    pub poller: Client,
    pub options: EngineOptions,
    pub wake: Notify,
    state: Mutex<State>,
    updates: broadcast::Sender<Update>,
    /// One launch (or reconciliation) per project at a time, so a reconciliation never mistakes
    /// a concurrent launch's new run for the one it is looking for.
    project_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Becomes true once the launches left unresolved by earlier sessions are settled (or could
    /// not be, for now).
    settled: tokio::sync::watch::Sender<bool>,
    /// Set by [`Engine::close`]: the store sync stops with the driver.
    pub closed: AtomicBool,
}

impl Shared {
    pub fn new(client: Client, options: EngineOptions, state: State) -> Shared {
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        Shared {
            poller: client.for_polling(),
            client,
            options,
            wake: Notify::new(),
            state: Mutex::new(state),
            updates,
            project_locks: Mutex::new(HashMap::new()),
            settled: tokio::sync::watch::Sender::new(false),
            closed: AtomicBool::new(false),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn publish(&self, updates: impl IntoIterator<Item = Update>) {
        for u in updates {
            // No subscriber is fine: updates are a courtesy, the state is the truth.
            let _ = self.updates.send(u);
        }
    }

    pub fn project_lock(&self, project_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .project_locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(locks.entry(project_id.to_string()).or_default())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// Waits on whether the launches earlier sessions left unresolved are settled.
    pub fn settled(&self) -> tokio::sync::watch::Receiver<bool> {
        self.settled.subscribe()
    }

    pub fn mark_settled(&self) {
        self.settled.send_replace(true);
    }
}
