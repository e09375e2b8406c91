//! Where hexdash keeps its files, and the environment it reads them from.
//!
//! Owns the choice of directories: the platform's (via `directories`), overridden by
//! `HEXDASH_CONFIG_DIR`, `HEXDASH_DATA_DIR`, `HEXDASH_LEDGER_DIR` and `--config FILE`. Also owns
//! the [`Env`] seam that lets tests supply environment variables without touching the process.
//! Creates nothing.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::Error;

/// Overrides the directory that holds `config.toml` and `pipelines/`.
pub const CONFIG_DIR_ENV: &str = "HEXDASH_CONFIG_DIR";
/// Overrides the directory that holds the store and logs.
pub const DATA_DIR_ENV: &str = "HEXDASH_DATA_DIR";
/// Overrides the directory of the request ledger, which every hexdash process of the user with
/// the same token shares (so it is not in the data dir: two processes on different data dirs
/// with one token still share one budget).
pub const LEDGER_DIR_ENV: &str = "HEXDASH_LEDGER_DIR";
/// Names the profile to use when `--profile` is not given (read by the caller).
pub const PROFILE_ENV: &str = "HEXDASH_PROFILE";
/// Overrides the active profile's base URL.
pub const API_URL_ENV: &str = "HEX_API_URL";
/// Overrides the active profile's token source.
pub const API_TOKEN_ENV: &str = "HEX_API_TOKEN";

/// Read access to environment variables.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests. Its Debug output lists names only, because tests put
/// tokens in it.
#[derive(Clone, Default)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    pub fn new() -> Self {
        MapEnv::default()
    }

    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MapEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        MapEnv(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for MapEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_struct("MapEnv").field("names", &names).finish()
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// A variable that is set to something other than blanks. An exported-but-empty directory
/// variable is far more often a shell slip than a wish for the current directory.
pub(crate) fn non_empty_var(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
    /// Where the request ledgers are (one file per base URL and token); `None` when the
    /// platform has neither a runtime nor a cache dir and `HEXDASH_LEDGER_DIR` is not set.
    pub ledger_dir: Option<PathBuf>,
}

impl Paths {
    /// Platform directories, then `HEXDASH_CONFIG_DIR` / `HEXDASH_DATA_DIR` /
    /// `HEXDASH_LEDGER_DIR`, then `--config FILE` (which moves only the file: pipelines stay in
    /// the config dir).
    ///
    /// The platform directories come from the process environment (`$HOME`, `$XDG_*`), not from
    /// `env`; tests should set the HEXDASH variables.
    pub fn resolve(config_file_override: Option<&Path>, env: &dyn Env) -> Result<Paths, Error> {
        let config_env = non_empty_var(env, CONFIG_DIR_ENV).map(PathBuf::from);
        let data_env = non_empty_var(env, DATA_DIR_ENV).map(PathBuf::from);
        let ledger_env = non_empty_var(env, LEDGER_DIR_ENV).map(PathBuf::from);
        // Only ask the platform when something is still missing, so a machine without a home
        // directory works once the variables are set.
        let platform = if config_env.is_none() || data_env.is_none() || ledger_env.is_none() {
            ProjectDirs::from("", "", "hexdash")
        } else {
            None
        };
        let config_dir = config_env
            .or_else(|| platform.as_ref().map(|p| p.config_dir().to_path_buf()))
            .ok_or(Error::NoConfigDir)?;
        // The journal and logs describe this machine's runs, so they stay out of roaming dirs.
        let data_dir = data_env
            .or_else(|| platform.as_ref().map(|p| p.data_local_dir().to_path_buf()))
            .ok_or(Error::NoConfigDir)?;
        // The runtime dir ($XDG_RUNTIME_DIR/hexdash) is private to the user, in memory and
        // emptied at logout: right for request times of the last hour. Else the cache dir.
        let ledger_dir = ledger_env.or_else(|| {
            platform.as_ref().map(|p| {
                p.runtime_dir()
                    .unwrap_or_else(|| p.cache_dir())
                    .to_path_buf()
            })
        });
        let config_file = config_file_override
            .map(Path::to_path_buf)
            .unwrap_or_else(|| config_dir.join("config.toml"));
        Ok(Paths {
            config_dir,
            data_dir,
            config_file,
            ledger_dir,
        })
    }

    /// Everything under two given directories, with `config.toml` in the first (for tests). No
    /// ledger dir: a client built on these paths counts its requests in process.
    pub fn in_dirs(config_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Paths {
        let config_dir = config_dir.into();
        Paths {
            config_file: config_dir.join("config.toml"),
            config_dir,
            data_dir: data_dir.into(),
            ledger_dir: None,
        }
    }

    /// The SQLite store every hexdash process on this data dir shares: events, run state and
    /// the cached project list.
    pub fn store_file(&self) -> PathBuf {
        self.data_dir.join("hexdash.db")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn pipelines_dir(&self) -> PathBuf {
        self.config_dir.join("pipelines")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_platform_dirs_and_flag_overrides_file() {
        let env = MapEnv::new()
            .with(CONFIG_DIR_ENV, "/etc/hd")
            .with(DATA_DIR_ENV, "/var/hd")
            .with(LEDGER_DIR_ENV, "/run/hd");
        let p = Paths::resolve(None, &env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/etc/hd"));
        assert_eq!(p.ledger_dir, Some(PathBuf::from("/run/hd")));
        assert_eq!(p.config_file, PathBuf::from("/etc/hd/config.toml"));
        assert_eq!(p.store_file(), PathBuf::from("/var/hd/hexdash.db"));
        assert_eq!(p.log_dir(), PathBuf::from("/var/hd/logs"));
        assert_eq!(p.pipelines_dir(), PathBuf::from("/etc/hd/pipelines"));

        let p = Paths::resolve(Some(Path::new("/tmp/other.toml")), &env).unwrap();
        assert_eq!(p.config_file, PathBuf::from("/tmp/other.toml"));
        assert_eq!(p.config_dir, PathBuf::from("/etc/hd"));
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let env = MapEnv::new()
            .with(CONFIG_DIR_ENV, " ")
            .with(DATA_DIR_ENV, "/var/hd");
        if let Ok(p) = Paths::resolve(None, &env) {
            assert_ne!(p.config_dir, PathBuf::from(" "));
            assert!(p.config_dir.ends_with("hexdash"), "{p:?}");
        }
    }

    #[test]
    fn the_ledger_dir_is_the_platforms_not_the_data_dir() {
        let env = MapEnv::new()
            .with(CONFIG_DIR_ENV, "/etc/hd")
            .with(DATA_DIR_ENV, "/var/hd")
            .with(LEDGER_DIR_ENV, " ");
        let p = Paths::resolve(None, &env).unwrap();
        // Two data dirs with one token share one budget: the ledger never follows the data dir.
        if let Some(dir) = &p.ledger_dir {
            assert!(dir.ends_with("hexdash"), "{p:?}");
            assert!(!dir.starts_with("/var/hd"), "{p:?}");
        }
        assert_eq!(Paths::in_dirs("/etc/hd", "/var/hd").ledger_dir, None);
    }

    #[test]
    fn map_env_debug_hides_values() {
        let env = MapEnv::new().with(API_TOKEN_ENV, "hxtp_secretvalue");
        let dbg = format!("{env:?}");
        assert!(dbg.contains(API_TOKEN_ENV), "{dbg}");
        assert!(!dbg.contains("secretvalue"), "{dbg}");
    }
}
