//! The shape of `config.toml` exactly as written, with the span of every value that later checks
//! may need to point at.
//!
//! Owns the serde schema (unknown keys are refused everywhere). Must not validate meaning or fill
//! in defaults; `load` turns this into [`super::Config`].

use std::fmt;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

use super::duration::parse_duration;
use super::model::KeyBindingValue;
use crate::hex::ParamSpec;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub default_profile: Option<Spanned<String>>,
    #[serde(default)]
    pub profiles: IndexMap<String, Spanned<FileProfile>>,
    #[serde(default)]
    pub projects: Vec<Spanned<FileProject>>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub http: FileHttp,
    #[serde(default)]
    pub cache: FileCache,
    #[serde(default)]
    pub workspace: FileWorkspace,
    #[serde(default)]
    pub ui: FileUi,
    #[serde(default)]
    pub keys: IndexMap<String, Spanned<KeyBindingValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileProfile {
    pub base_url: Option<Spanned<String>>,
    pub token_env: Option<Spanned<String>>,
    pub token_file: Option<Spanned<String>>,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub limits: FileLimits,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileLimits {
    pub requests_per_minute: Option<Spanned<u32>>,
    pub launches_per_minute: Option<Spanned<u32>>,
    pub launches_per_hour: Option<Spanned<u32>>,
    pub reserved_for_actions: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileHttp {
    pub connect_timeout: Option<Spanned<DurationValue>>,
    pub request_timeout: Option<Spanned<DurationValue>>,
    pub max_retries: Option<Spanned<u32>>,
    pub max_backoff: Option<Spanned<DurationValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileCache {
    pub projects_ttl: Option<Spanned<DurationValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileUi {
    pub mouse: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileWorkspace {
    #[serde(default)]
    pub follow: Vec<Spanned<String>>,
    #[serde(default)]
    pub ignore: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileProject {
    pub id: Spanned<String>,
    pub alias: Option<Spanned<String>>,
    pub title: Option<String>,
    #[serde(default)]
    pub params: Vec<Spanned<ParamSpec>>,
}

/// A duration written as whole seconds (`30`) or as text (`"30s"`, `"2m"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration: whole seconds (30) or text such as "30s", "2m", "1h""#)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                let secs = u64::try_from(v).map_err(|_| {
                    E::custom(format!("{v} is negative; a duration must be 0 or more"))
                })?;
                self.visit_u64(secs)
            }
            // Whole seconds meet the same 30-day ceiling as text.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                parse_duration(&v.to_string())
                    .map(DurationValue)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::custom(format!(
                    "{v} is not a whole number of seconds; write whole seconds or a string with \
                     a unit, e.g. \"1500ms\""
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_duration(v).map(DurationValue).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}
