//! hexdash's configuration: where its files live, what `config.toml` may say, and the profile
//! (URL, token, limits) a command runs with. Layering: built-in defaults < config file <
//! environment (`HEX_API_URL`, `HEX_API_TOKEN`) < flags (applied by the caller).
//!
//! Owns paths, the file format and its validation, token sources and `config init`/`check`.
//! Must not talk to Hex, and must never let a token reach a message, a warning or Debug output:
//! tokens come from the environment or a mode-0600 file, never from config.toml.

mod check;
mod duration;
mod error;
mod file;
mod leak;
mod load;
mod locate;
mod model;
mod paths;
mod profile;
mod suggest;
mod token;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub use check::{CheckReport, check};
pub use duration::{format_duration, parse_duration};
pub use error::{Error, Location};
pub use model::{
    CacheConfig, Config, HttpConfig, KeyBindingValue, LimitsConfig, ProfileConfig, ProjectConfig,
    Scope, UiConfig, WorkspaceConfig,
};
pub use paths::{
    API_TOKEN_ENV, API_URL_ENV, CONFIG_DIR_ENV, DATA_DIR_ENV, Env, LEDGER_DIR_ENV, MapEnv,
    PROFILE_ENV, Paths, ProcessEnv,
};
pub use profile::{BUILTIN_PROFILE, Profile};
pub use suggest::did_you_mean;
pub use token::read_token_file;

/// The documented config that `hexdash config init` writes.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/default-config.toml");

impl Config {
    /// Loads `paths.config_file`; a missing file gives the built-in defaults (`source: None`),
    /// a present but bad one is an error. For a file named with `--config`, which must exist,
    /// use [`Config::load_file`].
    pub fn load(paths: &Paths) -> Result<Config, Error> {
        load::load_or_default(&paths.config_file)
    }

    /// The paths and the config a command line asks for: the file `--config` names, which
    /// must exist, or the default location's, which may be absent (built-in defaults then).
    pub fn for_cli(cli: &crate::cli::Cli, env: &dyn Env) -> Result<(Paths, Config), Error> {
        let paths = Paths::resolve(cli.config.as_deref(), env)?;
        let config = if cli.config.is_some() {
            Config::load_file(&paths.config_file)?
        } else {
            Config::load(&paths)?
        };
        Ok((paths, config))
    }

    /// Loads a file that must exist.
    pub fn load_file(path: &Path) -> Result<Config, Error> {
        load::load_file(path)
    }

    /// Parses config text; `origin` names it in errors and anchors relative token_file paths.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Config, Error> {
        load::parse(text, origin)
    }

    /// A declared project by id or alias (exact match).
    pub fn project(&self, id_or_alias: &str) -> Option<&ProjectConfig> {
        self.projects
            .iter()
            .find(|p| p.id == id_or_alias)
            .or_else(|| {
                self.projects
                    .iter()
                    .find(|p| p.alias.as_deref() == Some(id_or_alias))
            })
    }
}

/// Writes [`DEFAULT_CONFIG`] to `paths.config_file`, creating its directory. Refuses to replace
/// an existing file unless `force`.
pub fn init(paths: &Paths, force: bool) -> Result<PathBuf, Error> {
    let path = paths.config_file.clone();
    let io_err = |source: io::Error| Error::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        // create_new, not exists()-then-write: no window in which another writer's file is lost.
        options.create_new(true);
    }
    let mut file = options.open(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::AlreadyExists {
            Error::AlreadyExists { path: path.clone() }
        } else {
            io_err(e)
        }
    })?;
    file.write_all(DEFAULT_CONFIG.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)?;
    Ok(path)
}

/// The shipped default config with every commented-out example line taken in: what a person
/// gets by uncommenting everything. Its examples must load (config's tests) and its `[keys]`
/// must document every action (the key map's tests).
#[cfg(test)]
pub(crate) fn default_config_uncommented() -> Config {
    let text = DEFAULT_CONFIG
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) => rest.to_string(),
            None if l == "#" => String::new(),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    Config::from_toml_str(&text, Path::new("/etc/hexdash/config.toml"))
        .unwrap_or_else(|e| panic!("{e}\n---\n{text}"))
}

#[cfg(test)]
mod tests;
