//! What every API-facing headless command needs: paths, the loaded config, the active profile
//! and a client built from it, whose request budget is shared with every other hexdash process
//! of the user on the same token (the ledger in `Paths::ledger_dir`). Loading fails with exit
//! code 4 and a message that says the fix; a budget that cannot be shared is only a warning.

use std::sync::Arc;

use crate::cli::Cli;
use crate::config::{Config, Env, Paths, ProcessEnv, Profile};
use crate::engine::{Engine, EngineOptions};
use crate::hex::{Budget, Client, ClientSettings, Ledger, ledger};

use super::exit::Failure;
use super::project_list::ProjectList;

pub struct Context {
    pub paths: Paths,
    pub config: Config,
    pub profile: Profile,
    pub client: Client,
}

/// Who hears, once, that the request budget could not be shared: a headless command on stderr;
/// the dashboard owns the terminal, so it shows `Budget::problem` in its message line instead.
/// Both log it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Headless,
    Dashboard,
}

/// A client for `settings` whose budget is shared, through the ledger in `paths.ledger_dir`,
/// with every hexdash process of this user using the same base URL and token.
pub fn shared_client(
    paths: &Paths,
    settings: &ClientSettings,
    surface: Surface,
) -> Result<Client, Failure> {
    let ledger = match &paths.ledger_dir {
        Some(dir) => Ledger::open(dir, &settings.base_url, &settings.token),
        None => Err(ledger::Error::NoDir),
    };
    let tell: fn(&str) = match surface {
        Surface::Headless => |text| crate::errln!("hexdash: warning: {text}"),
        Surface::Dashboard => |_| {},
    };
    let budget = Arc::new(Budget::shared(settings.limits, ledger, tell));
    Ok(Client::with_budget(settings.clone(), budget)?)
}

impl Context {
    pub fn load(cli: &Cli) -> Result<Context, Failure> {
        Self::load_with(cli, &ProcessEnv)
    }

    /// As [`Context::load`], on `profile` instead of the command line's, for the dashboard.
    pub fn load_for_profile(cli: &Cli, profile: Option<&str>) -> Result<Context, Failure> {
        Self::load_profile(cli, profile, &ProcessEnv, Surface::Dashboard)
    }

    pub fn load_with(cli: &Cli, env: &dyn Env) -> Result<Context, Failure> {
        Self::load_profile(cli, cli.profile.as_deref(), env, Surface::Headless)
    }

    fn load_profile(
        cli: &Cli,
        profile: Option<&str>,
        env: &dyn Env,
        surface: Surface,
    ) -> Result<Context, Failure> {
        let (paths, config) = Config::for_cli(cli, env)?;
        let mut profile = config.profile(profile, env)?;
        profile.read_only |= cli.read_only;
        let client = shared_client(&paths, &profile.settings, surface)?;
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
        let (engine, warnings) = self.engine_and_warnings()?;
        for w in &warnings {
            crate::errln!("hexdash: warning: journal: {w}");
        }
        Ok(engine)
    }

    /// [`Context::engine`], handing its warnings to the caller instead of stderr: the dashboard
    /// owns the terminal, and a line written there would scroll its screen.
    pub fn engine_and_warnings(&self) -> Result<(Engine, Vec<String>), Failure> {
        let options = EngineOptions::new(&self.profile.name, self.paths.store_file());
        let started = Engine::start(self.client.clone(), options)
            .map_err(|e| Failure::local(format!("cannot open the journal: {e}")))?;
        Ok((started.engine, started.warnings))
    }
}
