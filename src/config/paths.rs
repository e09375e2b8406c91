//! Where hexdash keeps its files, and the environment it reads them from.
//!
//! Owns the choice of directories: the platform's (via `directories`), overridden by
//! `HEXDASH_CONFIG_DIR`, `HEXDASH_DATA_DIR` and `--config FILE`. Also owns the [`Env`] seam that
//! lets tests supply environment variables without touching the process. Creates nothing.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;

use super::Error;

/// Overrides the directory that holds `config.toml` and `pipelines/`.
pub const CONFIG_DIR_ENV: &str = "HEXDASH_CONFIG_DIR";
/// Overrides the directory that holds the journal and logs.
pub const DATA_DIR_ENV: &str = "HEXDASH_DATA_DIR";
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
}

impl Paths {
    /// Platform directories, then `HEXDASH_CONFIG_DIR` / `HEXDASH_DATA_DIR`, then `--config FILE`
    /// (which moves only the file: pipelines stay in the config dir).
    ///
    /// The platform directories come from the process environment (`$HOME`, `$XDG_*`), not from
    /// `env`; tests should set the two HEXDASH variables.
    pub fn resolve(config_file_override: Option<&Path>, env: &dyn Env) -> Result<Paths, Error> {
        let config_env = non_empty_var(env, CONFIG_DIR_ENV).map(PathBuf::from);
        let data_env = non_empty_var(env, DATA_DIR_ENV).map(PathBuf::from);
        // Only ask the platform when something is still missing, so a machine without a home
        // directory works once both variables are set.
        let platform = if config_env.is_none() || data_env.is_none() {
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
        let config_file = config_file_override
            .map(Path::to_path_buf)
            .unwrap_or_else(|| config_dir.join("config.toml"));
        Ok(Paths {
            config_dir,
            data_dir,
            config_file,
        })
    }

    /// Everything under two given directories, with `config.toml` in the first (for tests and
    /// the demo).
    pub fn in_dirs(config_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Paths {
        let config_dir = config_dir.into();
        Paths {
            config_file: config_dir.join("config.toml"),
            config_dir,
            data_dir: data_dir.into(),
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
            .with(DATA_DIR_ENV, "/var/hd");
        let p = Paths::resolve(None, &env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/etc/hd"));
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
    fn map_env_debug_hides_values() {
        let env = MapEnv::new().with(API_TOKEN_ENV, "hxtp_secretvalue");
        let dbg = format!("{env:?}");
        assert!(dbg.contains(API_TOKEN_ENV), "{dbg}");
        assert!(!dbg.contains("secretvalue"), "{dbg}");
    }
}
