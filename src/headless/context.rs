//! What every API-facing headless command needs: paths, the loaded config, the active profile
//! and a client built from it. Loading fails with exit code 4 and a message that says the fix.

use crate::cli::Cli;
use crate::config::{Config, Env, Paths, ProcessEnv, Profile};
use crate::engine::{Engine, EngineOptions};
use crate::hex::Client;

use super::exit::Failure;
use super::project_list::ProjectList;

pub struct Context {
    pub paths: Paths,
    pub config: Config,
    pub profile: Profile,
    pub client: Client,
}

impl Context {
    pub fn load(cli: &Cli) -> Result<Context, Failure> {
        Self::load_with(cli, &ProcessEnv)
    }

    /// As [`Context::load`], on `profile` instead of the command line's.
    pub fn load_for_profile(cli: &Cli, profile: Option<&str>) -> Result<Context, Failure> {
        Self::load_profile(cli, profile, &ProcessEnv)
    }

    pub fn load_with(cli: &Cli, env: &dyn Env) -> Result<Context, Failure> {
        Self::load_profile(cli, cli.profile.as_deref(), env)
    }

    fn load_profile(cli: &Cli, profile: Option<&str>, env: &dyn Env) -> Result<Context, Failure> {
        let paths = Paths::resolve(cli.config.as_deref(), env)?;
        // A file named with --config must exist; the default location may be absent (defaults).
        let config = if cli.config.is_some() {
            Config::load_file(&paths.config_file)?
        } else {
            Config::load(&paths)?
        };
        let mut profile = config.profile(profile, env)?;
        profile.read_only |= cli.read_only;
        let client = Client::new(profile.settings.clone())?;
        Ok(Context {
            paths,
            config,
            profile,
            client,
        })
    }

    /// The workspace's project list through the data dir's shared cache.
    pub fn project_list(&self) -> ProjectList {
        ProjectList::new(
            self.client.clone(),
            self.paths.store_file(),
            &self.profile.token,
            self.config.cache.projects_ttl,
        )
    }

    /// Starts the run engine on this profile and the data dir's journal: re-attaches to runs
    /// earlier sessions left active and settles their unanswered launches in the background.
    /// Damaged journal lines are reported on stderr and skipped.
    pub fn engine(&self) -> Result<Engine, Failure> {
        let options = EngineOptions::new(&self.profile.name, self.paths.store_file());
        let started = Engine::start(self.client.clone(), options)
            .map_err(|e| Failure::local(format!("cannot open the journal: {e}")))?;
        for w in &started.warnings {
            crate::errln!("hexdash: warning: journal: {w}");
        }
        Ok(started.engine)
    }
}
