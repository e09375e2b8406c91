//! The workspace's project list as the commands and the dashboard get it: from the data dir's
//! shared cache ([`crate::journal::project_cache`]) while it is younger than
//! `[cache] projects_ttl`, otherwise by one ListProjects walk that is stored for the next
//! hexdash. Every hexdash on a data dir shares the list of its API scope (URL and token), so a
//! script that calls `hexdash run TITLE` in a loop spends Hex's 60 requests a minute on its runs,
//! not on listing the workspace each time (HEX_API.md "Limits").
//!
//! Owns when the cache is good enough: fresh, and holding what the caller looks for (a title
//! it lacks is asked of Hex once before anyone says "no project"). Must never make the cache a
//! reason to fail: a store that cannot be opened, read or written is a warning in the log and
//! the list comes from Hex directly. SQLite calls run on the blocking pool; a locked store waits
//! seconds at most.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Config;
use crate::engine::Engine;
use crate::hex::types::Project;
use crate::hex::{Client, Error as HexError};
use crate::journal::PipelineEntry;
use crate::journal::project_cache::{CachedProjects, ProjectCache, Scope};
use crate::pipeline::{Projects, exec};

/// The project list of one profile, through the cache. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProjectList {
    client: Client,
    cache: Option<Arc<Store>>,
    /// Held while this process walks the list; holds when it last finished one.
    walked: Arc<tokio::sync::Mutex<Option<std::time::Instant>>>,
}

/// How often [`ProjectList::refresh_if_due`] walks without a cache to say how old the list is.
const UNCACHED_TTL: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Store {
    path: PathBuf,
    scope: Scope,
    ttl: Duration,
}

/// A list read from the cache, whatever its age.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    pub projects: Vec<Project>,
    pub fetched_at: Timestamp,
    /// Younger than the TTL: no need to list again.
    pub fresh: bool,
}

impl ProjectList {
    /// The list of `client`'s API scope, cached in the store at `store_file` for `ttl`. The
    /// token only goes into the scope's hash.
    pub fn new(
        client: Client,
        store_file: PathBuf,
        token: &SecretString,
        ttl: Duration,
    ) -> ProjectList {
        let scope = Scope::new(client.base_url().as_str(), token.expose_secret());
        ProjectList {
            client,
            cache: Some(Arc::new(Store {
                path: store_file,
                scope,
                ttl,
            })),
            walked: Arc::default(),
        }
    }

    /// Without a cache: every call lists the workspace (tests that count requests, a demo).
    pub fn uncached(client: Client) -> ProjectList {
        ProjectList {
            client,
            cache: None,
            walked: Arc::default(),
        }
    }

    /// The cached list, fresh or not; `None` on a miss or when the store cannot be read.
    pub async fn kept(&self) -> Option<Kept> {
        let store = Arc::clone(self.cache.as_ref()?);
        let cached = read(Arc::clone(&store)).await?;
        let fresh = cached.is_fresh(store.ttl, Timestamp::now());
        Some(Kept {
            projects: cached.projects,
            fetched_at: cached.fetched_at,
            fresh,
        })
    }

    /// The list for a lookup: the cached one when it is fresh and `lacks` finds nothing missing
    /// in it, otherwise one walk (stored). `lacks` answers whether what the caller looks for is
    /// missing from a list (a title no project has); a fresh list that lacks it may just predate
    /// it. What the walk returns is returned even if it lacks it too: the caller says so.
    pub async fn lookup(
        &self,
        lacks: impl Fn(&[Project]) -> bool,
    ) -> Result<Vec<Project>, HexError> {
        if let Some(kept) = self.kept().await.filter(|k| k.fresh) {
            if !lacks(&kept.projects) {
                tracing::debug!(
                    fetched_at = %kept.fetched_at,
                    projects = kept.projects.len(),
                    "project list from the cache"
                );
                return Ok(kept.projects);
            }
            tracing::debug!("the cached project list lacks what is looked for; listing again");
        }
        self.refresh().await
    }

    /// The cached list when fresh, else one walk (stored).
    pub async fn get(&self) -> Result<Vec<Project>, HexError> {
        self.lookup(|_| false).await
    }

    /// The list to load recorded pipeline runs with (those `which` picks, by id and journal
    /// entries): `None`, without a request, when none of their steps needs it (config aliases
    /// and ids only), or when Hex cannot list (logged; they load against the config, as without
    /// a token). Otherwise the cached list when fresh and it knows every step's project.
    pub async fn for_recorded_pipelines(
        &self,
        engine: &Engine,
        config: &Config,
        which: impl Fn(&str, &[PipelineEntry]) -> bool,
    ) -> Option<Vec<Project>> {
        let lacks = |workspace: Option<&[Project]>| {
            let projects = Projects { config, workspace };
            engine.with_journal(|j| exec::recorded_lack(j, &projects, &which))
        };
        if !lacks(None) {
            return None;
        }
        match self.lookup(|list| lacks(Some(list))).await {
            Ok(list) => Some(list),
            Err(e) => {
                tracing::warn!(error = %e, "cannot list projects for a pipeline run's steps");
                None
            }
        }
    }

    /// One ListProjects walk, always; stored for the next hexdash when it succeeds.
    pub async fn refresh(&self) -> Result<Vec<Project>, HexError> {
        let mut walked = self.walked.lock().await;
        let result = self.walk().await;
        *walked = Some(std::time::Instant::now());
        result
    }

    /// A walk for a background refresh (the dashboard's every minute): `None`, without a
    /// request, while this process is walking already (Hex slow, a 429 wait) or walked less
    /// than the TTL ago — so a cache that cannot be read or written never turns the refresh
    /// into a walk a minute.
    pub async fn refresh_if_due(&self) -> Option<Result<Vec<Project>, HexError>> {
        let mut walked = self.walked.try_lock().ok()?;
        let ttl = self.cache.as_ref().map_or(UNCACHED_TTL, |s| s.ttl);
        if walked.is_some_and(|at| at.elapsed() < ttl) {
            return None;
        }
        let result = self.walk().await;
        *walked = Some(std::time::Instant::now());
        Some(result)
    }

    /// One ListProjects walk, stored.
    async fn walk(&self) -> Result<Vec<Project>, HexError> {
        // The walk's start: the list is at least as new as that.
        let started = Timestamp::now();
        let projects = self.client.list_all_projects().await?;
        if let Some(store) = &self.cache {
            write(Arc::clone(store), projects.clone(), started).await;
        }
        Ok(projects)
    }
}

/// The cached list of `store`'s scope; `None` on a miss or any trouble (logged).
async fn read(store: Arc<Store>) -> Option<CachedProjects> {
    let task = tokio::task::spawn_blocking(move || {
        ProjectCache::open(&store.path).and_then(|c| c.load(&store.scope))
    });
    match task.await {
        Ok(Ok(cached)) => cached,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot read the cached project list; listing it from Hex");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "reading the cached project list failed");
            None
        }
    }
}

/// Stores the list; trouble is logged, never returned: the caller has its list either way.
async fn write(store: Arc<Store>, projects: Vec<Project>, fetched_at: Timestamp) {
    let task = tokio::task::spawn_blocking(move || {
        ProjectCache::open(&store.path).and_then(|c| c.store(&store.scope, &projects, fetched_at))
    });
    match task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot cache the project list"),
        Err(e) => tracing::warn!(error = %e, "caching the project list failed"),
    }
}

/// Pipelines ask for the workspace's projects through the shared cache: the cached list when
/// fresh and it knows every step's project, else one walk.
impl exec::Workspace for ProjectList {
    async fn projects(&self, lacks: exec::Lacks<'_>) -> Result<Vec<Project>, String> {
        self.lookup(lacks)
            .await
            .map_err(|e| format!("cannot list them: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::{EmulatorOptions, Scenario, start};
    use crate::hex::ClientSettings;
    use crate::hex::types::Operation;

    const TOKEN: &str = "hxtp_project_list_test";

    fn scenario() -> Scenario {
        Scenario::from_toml_str(
            &format!(
                "tokens = [\"{TOKEN}\"]\n[[projects]]\n\
                 id = \"7f3c1e52-0a4b-4c9e-9a51-3d2f0c6b8e01\"\n\
                 title = \"Revenue\"\nowner = \"a@b.c\"\npublished_hours_ago = 1\n"
            ),
            "t.toml",
        )
        .unwrap()
    }

    fn list_for(base_url: &str, store: PathBuf, ttl: Duration) -> ProjectList {
        let settings = ClientSettings::new(
            url::Url::parse(base_url).unwrap(),
            SecretString::from(TOKEN.to_string()),
        );
        let client = Client::new(settings.clone()).unwrap();
        ProjectList::new(client, store, &settings.token, ttl)
    }

    #[tokio::test]
    async fn a_fresh_list_is_not_listed_again_a_lacking_one_is_and_a_broken_store_is_gone_around() {
        let emu = start(
            "127.0.0.1:0".parse().unwrap(),
            EmulatorOptions::new(scenario()),
        )
        .await
        .unwrap();
        let walks = || {
            emu.control()
                .requests()
                .iter()
                .filter(|r| r.operation == Some(Operation::ListProjects))
                .count()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("data/hexdash.db");
        let ttl = Duration::from_secs(600);

        let a = list_for(&emu.base_url(), store.clone(), ttl);
        assert_eq!(a.kept().await, None);
        assert_eq!(a.get().await.unwrap().len(), 1);
        // Another handle (another process) on the same store.
        let b = list_for(&emu.base_url(), store.clone(), ttl);
        assert!(b.kept().await.unwrap().fresh);
        assert_eq!(b.get().await.unwrap()[0].title, "Revenue");
        assert_eq!(walks(), 1, "b used a's list");
        let found = b.lookup(|l| !l.iter().any(|p| p.title == "Revenue")).await;
        assert_eq!(found.unwrap().len(), 1);
        assert_eq!(walks(), 1, "what is there is found without asking");
        let missing = b
            .lookup(|l| !l.iter().any(|p| p.title == "Brand new"))
            .await;
        assert_eq!(missing.unwrap().len(), 1, "the listed list, lacking it too");
        assert_eq!(walks(), 2, "a title the cache lacks is asked for once");
        b.refresh().await.unwrap();
        assert_eq!(walks(), 3, "refresh always lists");

        let stale = list_for(&emu.base_url(), store.clone(), Duration::ZERO);
        assert!(!stale.kept().await.unwrap().fresh);
        stale.get().await.unwrap();
        assert_eq!(walks(), 4, "TTL 0 lists every time");

        // The store replaced by garbage: warned, listed from Hex, never an error.
        std::fs::remove_file(&store).unwrap();
        let _ = std::fs::remove_file(dir.path().join("data/hexdash.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("data/hexdash.db-shm"));
        std::fs::write(&store, vec![0x5a; 4096]).unwrap();
        assert_eq!(a.kept().await, None);
        assert_eq!(a.get().await.unwrap().len(), 1);
        assert_eq!(walks(), 5);
        // A data dir that cannot be made (a file in its way).
        let blocked = list_for(&emu.base_url(), store.join("x/hexdash.db"), ttl);
        assert_eq!(blocked.get().await.unwrap().len(), 1);
        assert_eq!(walks(), 6);

        // The background refresh on a store that cannot be used: one walk per TTL at most,
        // and never two at once.
        let quiet = list_for(&emu.base_url(), store.join("x/hexdash.db"), ttl);
        let (one, two) = tokio::join!(quiet.refresh_if_due(), quiet.refresh_if_due());
        assert_eq!(
            usize::from(one.is_some()) + usize::from(two.is_some()),
            1,
            "one walk while the other waits: {one:?} {two:?}"
        );
        assert_eq!(walks(), 7);
        assert!(
            quiet.refresh_if_due().await.is_none(),
            "walked within the TTL"
        );
        assert_eq!(walks(), 7);
        quiet.refresh().await.unwrap();
        assert_eq!(walks(), 8, "an explicit refresh always walks");
        let due = list_for(&emu.base_url(), store.join("x/hexdash.db"), Duration::ZERO);
        assert!(due.refresh_if_due().await.is_some());
        assert_eq!(walks(), 9);
        emu.shutdown().await;
    }
}
