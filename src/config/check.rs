//! `hexdash config check`: load everything, resolve the profile, and say what hexdash would use.
//!
//! Owns the human summary. Shows where the token comes from, never the token.

use std::fmt;
use std::path::PathBuf;

use url::Url;

use super::Error;
use super::duration::format_duration;
use super::model::{CacheConfig, Config, HttpConfig};
use super::paths::{Env, Paths};
use crate::hex::Limits;

#[derive(Debug, Clone)]
pub struct CheckReport {
    pub config_file: PathBuf,
    /// False when the file does not exist and built-in defaults are in use.
    pub file_found: bool,
    pub profiles: Vec<String>,
    pub active_profile: String,
    pub base_url: Url,
    pub token_origin: String,
    pub read_only: bool,
    pub projects: usize,
    pub key_bindings: usize,
    pub limits: Limits,
    pub http: HttpConfig,
    pub cache: CacheConfig,
    pub data_dir: PathBuf,
    pub warnings: Vec<String>,
}

pub fn check(paths: &Paths, profile: Option<&str>, env: &dyn Env) -> Result<CheckReport, Error> {
    let config = Config::load(paths)?;
    let resolved = config.profile(profile, env)?;
    let mut warnings = resolved.warnings.clone();
    if config.source.is_none() {
        warnings.push(format!(
            "{} does not exist; using built-in defaults (`hexdash config init` writes a \
             documented one)",
            paths.config_file.display()
        ));
    }
    if resolved.base_url.scheme() == "http" {
        warnings.push(format!(
            "{} is plain http; fine for a local emulator, never for Hex itself",
            resolved.base_url
        ));
    }
    let mut profiles: Vec<String> = config.profiles.keys().cloned().collect();
    if profiles.is_empty() {
        profiles.push(resolved.name.clone());
    }
    Ok(CheckReport {
        config_file: paths.config_file.clone(),
        file_found: config.source.is_some(),
        profiles,
        active_profile: resolved.name,
        base_url: resolved.base_url,
        token_origin: resolved.token_origin,
        read_only: resolved.read_only,
        projects: config.projects.len(),
        key_bindings: config.keys.len(),
        limits: resolved.limits,
        http: config.http,
        cache: config.cache,
        data_dir: paths.data_dir.clone(),
        warnings,
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = if self.file_found { "" } else { " (not found)" };
        writeln!(f, "config file:  {}{found}", self.config_file.display())?;
        writeln!(f, "data dir:     {}", self.data_dir.display())?;
        writeln!(
            f,
            "profiles:     {} (active: {})",
            self.profiles.join(", "),
            self.active_profile
        )?;
        writeln!(f, "base URL:     {}", self.base_url)?;
        writeln!(f, "token:        from {}", self.token_origin)?;
        writeln!(
            f,
            "read-only:    {}",
            if self.read_only {
                "yes (launch and cancel are refused)"
            } else {
                "no"
            }
        )?;
        writeln!(f, "projects:     {} declared", self.projects)?;
        writeln!(f, "key bindings: {} overridden", self.key_bindings)?;
        let l = &self.limits;
        writeln!(
            f,
            "limits:       {} requests/min, {} launches/min, {} launches/h, {} requests/min kept for actions",
            l.requests_per_minute,
            l.launches_per_minute,
            l.launches_per_hour,
            l.reserved_for_actions
        )?;
        let h = &self.http;
        writeln!(
            f,
            "http:         connect timeout {}, request timeout {}, {} retries, backoff up to {}",
            format_duration(h.connect_timeout),
            format_duration(h.request_timeout),
            h.max_retries,
            format_duration(h.max_backoff)
        )?;
        writeln!(
            f,
            "cache:        project list kept {}",
            if self.cache.projects_ttl.is_zero() {
                "for no time (listed every time)".to_string()
            } else {
                format!("for {}", format_duration(self.cache.projects_ttl))
            }
        )?;
        if self.warnings.is_empty() {
            writeln!(f, "warnings:     none")?;
        } else {
            writeln!(f, "warnings:")?;
            for w in &self.warnings {
                writeln!(f, "  - {w}")?;
            }
        }
        Ok(())
    }
}
