//! Turning the configuration into the one profile hexdash runs with: which profile, which URL,
//! which token, which limits — layered defaults < file < environment.
//!
//! Owns the selection rule (explicit name > `default_profile` > the only profile > the built-in
//! "default") and the `HEX_API_URL` / `HEX_API_TOKEN` overrides. Must not read config files.

use std::borrow::Cow;

use secrecy::SecretString;
use url::Url;

use super::model::{Config, ProfileConfig};
use super::paths::{API_URL_ENV, Env, non_empty_var};
use super::{Error, token};
use crate::hex::{ClientSettings, Limits, check_base_url};

/// The name of the profile used when the file defines none.
pub const BUILTIN_PROFILE: &str = "default";

/// A resolved profile: everything needed to talk to one Hex workspace.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub base_url: Url,
    pub token: SecretString,
    /// Where the token came from, for people ("HEX_API_TOKEN", "token file /x"); never the token.
    pub token_origin: String,
    pub read_only: bool,
    pub limits: Limits,
    pub settings: ClientSettings,
    /// Things worth telling the person that do not stop hexdash (an override in effect...).
    pub warnings: Vec<String>,
}

impl Config {
    /// Chooses a profile by the selection rule, without reading any token.
    pub fn select_profile(
        &self,
        name: Option<&str>,
    ) -> Result<(String, Cow<'_, ProfileConfig>), Error> {
        let known = || self.profiles.keys().cloned().collect::<Vec<_>>();
        let wanted = name.or(self.default_profile.as_deref());
        if let Some(wanted) = wanted {
            if let Some(p) = self.profiles.get(wanted) {
                return Ok((wanted.to_string(), Cow::Borrowed(p)));
            }
            if self.profiles.is_empty() && wanted == BUILTIN_PROFILE {
                return Ok((wanted.to_string(), Cow::Owned(ProfileConfig::builtin())));
            }
            return Err(Error::UnknownProfile {
                name: wanted.to_string(),
                known: known(),
            });
        }
        match (self.profiles.len(), self.profiles.first()) {
            (1, Some((n, p))) => Ok((n.clone(), Cow::Borrowed(p))),
            (0, _) => Ok((
                BUILTIN_PROFILE.to_string(),
                Cow::Owned(ProfileConfig::builtin()),
            )),
            _ => Err(Error::AmbiguousProfile {
                file: self.source.clone().unwrap_or_default(),
                known: known(),
            }),
        }
    }

    /// Resolves a profile: `name` comes from `--profile` or `HEXDASH_PROFILE` (the caller
    /// decides); `HEX_API_URL` and `HEX_API_TOKEN` override what the file says.
    pub fn profile(&self, name: Option<&str>, env: &dyn Env) -> Result<Profile, Error> {
        let (name, pc) = self.select_profile(name)?;
        let mut warnings = Vec::new();

        let base_url = match non_empty_var(env, API_URL_ENV) {
            Some(raw) => {
                let url = check_base_url(&raw).map_err(|message| Error::Env {
                    var: API_URL_ENV.to_string(),
                    message,
                })?;
                if url != pc.base_url && self.profiles.contains_key(&name) {
                    warnings.push(format!(
                        "{API_URL_ENV} is set and overrides base_url {} of profile {name:?}",
                        pc.base_url
                    ));
                }
                url
            }
            None => pc.base_url.clone(),
        };

        let found = token::resolve(&name, &pc, self.source.as_deref(), env, &mut warnings)?;

        let limits = pc.limits.apply_to(self.limits.apply_to(Limits::default()));
        let settings = ClientSettings {
            base_url: base_url.clone(),
            token: found.token.clone(),
            connect_timeout: self.http.connect_timeout,
            request_timeout: self.http.request_timeout,
            limits,
            max_retries: self.http.max_retries,
            max_backoff: self.http.max_backoff,
        };
        Ok(Profile {
            name,
            base_url,
            token: found.token,
            token_origin: found.origin,
            read_only: pc.read_only,
            limits,
            settings,
            warnings,
        })
    }
}
