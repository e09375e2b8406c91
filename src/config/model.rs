//! The configuration as the rest of hexdash sees it: validated, defaults filled in, no spans.
//!
//! Owns the public types and their defaults. Must not read files or the environment (that is
//! `load` and `profile`) and must never hold a token: profiles only say where a token comes from.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::Location;
use crate::hex::{Limits, ParamSpec};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub default_profile: Option<String>,
    pub profiles: IndexMap<String, ProfileConfig>,
    pub projects: Vec<ProjectConfig>,
    /// Top-level `[limits]`; each profile's own `limits` are laid over these.
    pub limits: LimitsConfig,
    pub http: HttpConfig,
    pub cache: CacheConfig,
    pub workspace: WorkspaceConfig,
    pub ui: UiConfig,
    /// `[keys]`: action name → key(s), kept as written; the TUI checks actions and key syntax.
    pub keys: IndexMap<String, KeyBindingValue>,
    /// Where each `[keys]` entry was written, so the TUI's errors can point at it.
    pub key_locations: IndexMap<String, Location>,
    /// The file this came from; None when no file exists and everything is built in.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_profile: None,
            profiles: IndexMap::new(),
            projects: Vec::new(),
            limits: LimitsConfig::default(),
            http: HttpConfig::default(),
            cache: CacheConfig::default(),
            workspace: WorkspaceConfig::default(),
            ui: UiConfig::default(),
            keys: IndexMap::new(),
            key_locations: IndexMap::new(),
            source: None,
        }
    }
}

/// `[ui]`: how the dashboard meets the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiConfig {
    /// The dashboard takes the mouse (click, wheel, double-click). Off leaves the mouse to the
    /// terminal, for selecting text.
    pub mouse: bool,
}

impl Default for UiConfig {
    fn default() -> Self {
        UiConfig { mouse: true }
    }
}

/// One `[profiles.NAME]` table. Holds the token's *source*, never the token.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileConfig {
    pub base_url: Url,
    /// Name of an environment variable holding the token.
    pub token_env: Option<String>,
    /// As written: `~` and relative paths are resolved when the token is read.
    pub token_file: Option<PathBuf>,
    /// A read-only profile must never launch or cancel runs; enforced by the callers.
    pub read_only: bool,
    pub limits: LimitsConfig,
}

impl ProfileConfig {
    /// The profile used when the file defines none: Hex's public URL, token from the environment.
    pub fn builtin() -> Self {
        ProfileConfig {
            base_url: default_base_url(),
            token_env: None,
            token_file: None,
            read_only: false,
            limits: LimitsConfig::default(),
        }
    }
}

// The one place a parse cannot fail: a literal constant, checked by `default_base_url_parses`.
#[allow(clippy::expect_used)]
pub(crate) fn default_base_url() -> Url {
    Url::parse(crate::hex::DEFAULT_BASE_URL).expect("DEFAULT_BASE_URL is a valid URL")
}

/// Partial rate-limit settings; unset fields fall through to the next layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitsConfig {
    pub requests_per_minute: Option<u32>,
    pub launches_per_minute: Option<u32>,
    pub launches_per_hour: Option<u32>,
    pub reserved_for_actions: Option<u32>,
}

impl LimitsConfig {
    /// These settings laid over `base`.
    pub fn apply_to(&self, base: Limits) -> Limits {
        Limits {
            requests_per_minute: self.requests_per_minute.unwrap_or(base.requests_per_minute),
            launches_per_minute: self.launches_per_minute.unwrap_or(base.launches_per_minute),
            launches_per_hour: self.launches_per_hour.unwrap_or(base.launches_per_hour),
            reserved_for_actions: self
                .reserved_for_actions
                .unwrap_or(base.reserved_for_actions),
        }
    }
}

/// `[http]`, with defaults filled in (those of [`crate::hex::ClientSettings::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub max_retries: u32,
    pub max_backoff: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 4,
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// `[cache]`, with defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// How long the project list in the data dir's store is used before it is listed again;
    /// zero lists it every time.
    pub projects_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            projects_ttl: Duration::from_secs(600),
        }
    }
}

/// `[workspace]`: which projects the dashboard's discovery lists. Each entry names a project by
/// id, alias or title (case does not matter); `"*"` in `ignore` means every project not followed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceConfig {
    /// Listed as often as the project under the cursor.
    pub follow: Vec<String>,
    /// Never listed (their runs still show when something else finds them).
    pub ignore: Vec<String>,
}

/// How discovery treats one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Followed,
    Swept,
    Ignored,
}

impl WorkspaceConfig {
    /// The scope of the project with these names (`alias` from `[[projects]]`).
    pub fn scope(&self, id: &str, title: &str, alias: Option<&str>) -> Scope {
        let names = |n: &str| {
            n.eq_ignore_ascii_case(id)
                || n.eq_ignore_ascii_case(title)
                || alias.is_some_and(|a| n.eq_ignore_ascii_case(a))
        };
        if self.follow.iter().any(|n| names(n)) {
            Scope::Followed
        } else if self.ignore.iter().any(|n| n == "*" || names(n)) {
            Scope::Ignored
        } else {
            Scope::Swept
        }
    }
}

/// One `[[projects]]` entry: a Hex project hexdash should know by name, with its parameters
/// (Hex's API cannot list them, HEX_API.md "ListProjects / GetProject").
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectConfig {
    pub id: String,
    pub alias: Option<String>,
    pub title: Option<String>,
    pub params: Vec<ParamSpec>,
}

impl ProjectConfig {
    /// The alias when there is one, else the id: what to show a person.
    pub fn display_name(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.id)
    }

    pub fn param(&self, name: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The right-hand side of a `[keys]` entry: `"x"` or `["j", "down"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum KeyBindingValue {
    One(String),
    Many(Vec<String>),
}

impl KeyBindingValue {
    pub fn keys(&self) -> &[String] {
        match self {
            KeyBindingValue::One(k) => std::slice::from_ref(k),
            KeyBindingValue::Many(ks) => ks,
        }
    }
}

// Hand-written rather than `#[serde(untagged)]` so a wrong type gets a message that shows the two
// accepted shapes instead of "did not match any variant".
impl<'de> Deserialize<'de> for KeyBindingValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBindingValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a key such as "x" or a list of keys such as ["j", "down"]"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(KeyBindingValue::One(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = seq.next_element::<String>()? {
                    keys.push(k);
                }
                Ok(KeyBindingValue::Many(keys))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_base_url_parses() {
        assert_eq!(default_base_url().as_str(), crate::hex::DEFAULT_BASE_URL);
        assert!(crate::hex::check_base_url(crate::hex::DEFAULT_BASE_URL).is_ok());
    }

    #[test]
    fn limits_layer_field_by_field() {
        let file = LimitsConfig {
            requests_per_minute: Some(30),
            ..LimitsConfig::default()
        };
        let profile = LimitsConfig {
            launches_per_hour: Some(10),
            ..LimitsConfig::default()
        };
        let l = profile.apply_to(file.apply_to(Limits::default()));
        assert_eq!(l.requests_per_minute, 30);
        assert_eq!(l.launches_per_hour, 10);
        assert_eq!(l.launches_per_minute, 20);
        assert_eq!(l.reserved_for_actions, 6);
    }
}
