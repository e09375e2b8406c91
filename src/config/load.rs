//! Reading config.toml: parse, refuse tokens, apply the schema, then check meaning, and build a
//! [`Config`]. Every error carries `file:line:col`.
//!
//! Owns the file-level rules (URLs, unique aliases, parameter declarations, limit sanity). Must
//! not read the environment or any token: that happens when a profile is resolved.

use std::collections::HashMap;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;
use toml::Spanned;
use toml::de::DeTable;

use super::error::{Error, Location};
use super::file::{
    DurationValue, FileCache, FileConfig, FileHttp, FileLimits, FileProfile, FileProject,
    FileWorkspace,
};
use super::leak::find_leak;
use super::locate::{KeyPath, entry_at};
use super::model::{
    CacheConfig, Config, HttpConfig, LimitsConfig, ProfileConfig, ProjectConfig, WorkspaceConfig,
    default_base_url,
};
use super::suggest::did_you_mean;
use crate::hex::{Limits, ParamSpec, check_base_url};
use crate::safe_text::one_line;

/// Reads and checks `path`; a missing file is an error here (see [`Config::load`] for the
/// lenient version).
pub(crate) fn load_file(path: &Path) -> Result<Config, Error> {
    let text = read_config(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Like [`load_file`], but a missing file yields the built-in defaults (`source: None`).
pub(crate) fn load_or_default(path: &Path) -> Result<Config, Error> {
    match read_config(path) {
        Ok(text) => parse(&text, path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn read_config(path: &Path) -> io::Result<String> {
    crate::files::read_text(path, crate::files::CONFIG_MAX_BYTES)
}

/// The most of a parser's own message an error quotes: a schema error can quote a whole value.
const PARSER_MESSAGE_CHARS: usize = 200;

/// Where errors point: the file name and its text, to turn byte spans into line and column.
struct Source<'a> {
    origin: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn location(&self, offset: usize) -> Location {
        Location::from_offset(self.origin, self.text, offset)
    }

    fn invalid(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        let loc = self.location(span.start);
        Error::Invalid {
            file: loc.file,
            line: loc.line,
            col: loc.col,
            message: message.into(),
        }
    }

    fn parse_error(&self, offset: usize, message: String) -> Error {
        let loc = self.location(offset);
        Error::Parse {
            file: loc.file,
            line: loc.line,
            col: loc.col,
            message,
        }
    }
}

pub(crate) fn parse(text: &str, origin: &Path) -> Result<Config, Error> {
    let src = Source { origin, text };
    // `message()` rather than Display: toml's Display quotes the source line, which may hold a
    // token.
    let doc = DeTable::parse(text).map_err(|e| {
        src.parse_error(
            e.span().map_or(0, |s| s.start),
            format!(
                "not valid TOML: {}",
                one_line(e.message().trim(), PARSER_MESSAGE_CHARS)
            ),
        )
    })?;
    if let Some(leak) = find_leak(doc.get_ref()) {
        return Err(src.invalid(leak.span, leak.message));
    }
    let file: FileConfig =
        toml::from_str(text).map_err(|e| schema_error(&src, doc.get_ref(), &e))?;
    build(&src, file)
}

/// Rewrites serde's wording (`unknown field`, backticks) into the file's terms, with the table
/// the key sits in and a suggestion.
fn schema_error(src: &Source<'_>, doc: &DeTable<'_>, e: &toml::de::Error) -> Error {
    let offset = e.span().map_or(0, |s| s.start);
    let raw = &one_line(e.message().trim(), PARSER_MESSAGE_CHARS);
    let entry = entry_at(doc, offset);
    let table = entry.as_ref().map(|(t, _)| t.clone()).unwrap_or_default();
    let message = if let Some((field, expected)) = split_listing(raw, "unknown field ") {
        let mut m = format!("unknown key {field:?} {}", table.describe_table());
        if let Some(hint) = did_you_mean(&field, expected.iter().map(String::as_str)) {
            m.push_str(&format!(" ({hint})"));
        }
        if !expected.is_empty() {
            m.push_str(&format!("; valid keys there: {}", expected.join(", ")));
        }
        m
    } else if let Some((variant, expected)) = split_listing(raw, "unknown variant ") {
        let key = entry.and_then(|(_, k)| k).unwrap_or_default();
        let mut m = format!(
            "{key} = {variant:?} {} is not valid",
            table.describe_table()
        );
        if let Some(hint) = did_you_mean(&variant, expected.iter().map(String::as_str)) {
            m.push_str(&format!(" ({hint})"));
        }
        m.push_str(&format!("; use one of: {}", expected.join(", ")));
        m
    } else if let Some((field, _)) = split_listing(raw, "missing field ") {
        // The span is that of the table lacking the key, so the entry found is the table itself.
        let path = match entry {
            Some((t, Some(k))) => t.key(&k),
            Some((t, None)) => t,
            None => KeyPath::default(),
        };
        let example = match field.as_str() {
            "id" => "id = \"<the project's id, from its URL in Hex>\"",
            "name" => "name = \"<the input's name in Hex>\"",
            "type" => "type = \"text\" (or number, date, checkbox, dropdown, multiselect)",
            _ => "it",
        };
        format!(
            "missing key {field:?} {}; add {example}",
            path.describe_table()
        )
    } else {
        let key = entry
            .and_then(|(t, k)| k.map(|k| t.key(&k).to_string()))
            .map(|k| format!("{k}: "))
            .unwrap_or_default();
        format!("{key}{}", raw.replace('`', "\""))
    };
    src.parse_error(offset, message)
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into ("x", ["a", "b"]).
fn split_listing(message: &str, lead: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(lead)?;
    let mut quoted = rest.split('`').skip(1).step_by(2).map(str::to_string);
    let name = quoted.next()?;
    Some((name, quoted.collect()))
}

fn build(src: &Source<'_>, file: FileConfig) -> Result<Config, Error> {
    let limits = check_limits(src, &[&file.limits], &KeyPath::keys(&["limits"]))?;
    let http = build_http(src, &file.http)?;
    let cache = build_cache(&file.cache);
    let workspace = build_workspace(src, &file.workspace)?;

    let mut profiles = IndexMap::new();
    for (name, profile) in &file.profiles {
        let built = build_profile(src, name, profile, &file.limits)?;
        profiles.insert(name.clone(), built);
    }

    let default_profile = match &file.default_profile {
        None => None,
        Some(d) => {
            let name = d.get_ref();
            let builtin_ok = profiles.is_empty() && name == "default";
            if !profiles.contains_key(name) && !builtin_ok {
                let known: Vec<&str> = profiles.keys().map(String::as_str).collect();
                let mut m = format!("default_profile = {name:?} names no profile");
                if let Some(hint) = did_you_mean(name, known.iter().copied()) {
                    m.push_str(&format!(" ({hint})"));
                }
                if known.is_empty() {
                    m.push_str(&format!(
                        "; add a [profiles.{name}] table or remove default_profile"
                    ));
                } else {
                    m.push_str(&format!("; configured profiles: {}", known.join(", ")));
                }
                return Err(src.invalid(d.span(), m));
            }
            Some(name.clone())
        }
    };

    let projects = build_projects(src, &file.projects)?;

    let mut keys = IndexMap::new();
    let mut key_locations = IndexMap::new();
    for (action, value) in file.keys {
        key_locations.insert(action.clone(), src.location(value.span().start));
        keys.insert(action, value.into_inner());
    }

    Ok(Config {
        default_profile,
        profiles,
        projects,
        limits,
        http,
        cache,
        workspace,
        ui: crate::config::UiConfig {
            mouse: file.ui.mouse.unwrap_or(true),
        },
        keys,
        key_locations,
        source: Some(src.origin.to_path_buf()),
    })
}

fn build_profile(
    src: &Source<'_>,
    name: &str,
    profile: &Spanned<FileProfile>,
    global: &FileLimits,
) -> Result<ProfileConfig, Error> {
    let table = KeyPath::keys(&["profiles", name]);
    let p = profile.get_ref();
    let base_url = match &p.base_url {
        None => default_base_url(),
        Some(raw) => check_base_url(raw.get_ref()).map_err(|e| {
            src.invalid(
                raw.span(),
                format!("base_url {}: {e}", table.describe_table()),
            )
        })?,
    };
    let token_env = match &p.token_env {
        None => None,
        Some(var) => {
            if !is_env_name(var.get_ref()) {
                // Not quoted: what lands here by mistake is often the token itself.
                return Err(src.invalid(
                    var.span(),
                    format!(
                        "token_env {} must be the *name* of an environment variable made of \
                         letters, digits and _ (e.g. token_env = \"HEX_PROD_TOKEN\"), not the \
                         token itself",
                        table.describe_table()
                    ),
                ));
            }
            Some(var.get_ref().clone())
        }
    };
    let token_file = match &p.token_file {
        None => None,
        Some(f) if f.get_ref().trim().is_empty() => {
            return Err(src.invalid(
                f.span(),
                format!(
                    "token_file {} is empty; give the path of a file holding only the token, \
                     e.g. token_file = \"~/.config/hexdash/{name}.token\"",
                    table.describe_table()
                ),
            ));
        }
        Some(f) => Some(PathBuf::from(f.get_ref())),
    };
    let limits = check_limits(src, &[global, &p.limits], &table.key("limits"))?;
    Ok(ProfileConfig {
        base_url,
        token_env,
        token_file,
        read_only: p.read_only,
        limits,
    })
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Lays `layers` (least specific first) over the defaults, checks the result, and returns the
/// most specific layer's own settings. Errors point at the most specific value involved.
fn check_limits(
    src: &Source<'_>,
    layers: &[&FileLimits],
    table: &KeyPath,
) -> Result<LimitsConfig, Error> {
    let pick = |get: fn(&FileLimits) -> &Option<Spanned<u32>>| {
        layers.iter().rev().find_map(|l| get(l).as_ref())
    };
    let rpm = pick(|l| &l.requests_per_minute);
    let lpm = pick(|l| &l.launches_per_minute);
    let lph = pick(|l| &l.launches_per_hour);
    let reserved = pick(|l| &l.reserved_for_actions);
    let d = Limits::default();
    let value = |s: Option<&Spanned<u32>>, default: u32| s.map_or(default, |s| *s.get_ref());
    let where_ = table.describe_table();
    for (key, setting) in [
        ("requests_per_minute", rpm),
        ("launches_per_minute", lpm),
        ("launches_per_hour", lph),
    ] {
        if let Some(s) = setting.filter(|s| *s.get_ref() == 0) {
            return Err(src.invalid(
                s.span(),
                format!(
                    "{key} = 0 {where_} would forbid every request of that kind; Hex allows \
                     60 requests/min, 20 launches/min and 60 launches/h (leave it out to use that)"
                ),
            ));
        }
    }
    let (r, res) = (
        value(rpm, d.requests_per_minute),
        value(reserved, d.reserved_for_actions),
    );
    if res >= r {
        let span = reserved.or(rpm).map(Spanned::span).unwrap_or(0..0);
        return Err(src.invalid(
            span,
            format!(
                "reserved_for_actions = {res} {where_} leaves no requests for status polling \
                 out of requests_per_minute = {r}; make it smaller than requests_per_minute \
                 (default 6 of 60)"
            ),
        ));
    }
    let own = layers.last().copied().cloned().unwrap_or_default();
    let get = |s: &Option<Spanned<u32>>| s.as_ref().map(|s| *s.get_ref());
    Ok(LimitsConfig {
        requests_per_minute: get(&own.requests_per_minute),
        launches_per_minute: get(&own.launches_per_minute),
        launches_per_hour: get(&own.launches_per_hour),
        reserved_for_actions: get(&own.reserved_for_actions),
    })
}

fn build_http(src: &Source<'_>, http: &FileHttp) -> Result<HttpConfig, Error> {
    let d = HttpConfig::default();
    let positive = |key: &str, v: &Option<Spanned<DurationValue>>, default| match v {
        None => Ok(default),
        Some(s) if s.get_ref().0.is_zero() => Err(src.invalid(
            s.span(),
            format!("{key} in [http] is 0, which would time out at once; use e.g. \"30s\""),
        )),
        Some(s) => Ok(s.get_ref().0),
    };
    Ok(HttpConfig {
        connect_timeout: positive("connect_timeout", &http.connect_timeout, d.connect_timeout)?,
        request_timeout: positive("request_timeout", &http.request_timeout, d.request_timeout)?,
        max_retries: http
            .max_retries
            .as_ref()
            .map_or(d.max_retries, |s| *s.get_ref()),
        max_backoff: positive("max_backoff", &http.max_backoff, d.max_backoff)?,
    })
}

/// Any duration the parser takes (at most 30 days); 0 means "always list again".
fn build_cache(cache: &FileCache) -> CacheConfig {
    let d = CacheConfig::default();
    CacheConfig {
        projects_ttl: cache
            .projects_ttl
            .as_ref()
            .map_or(d.projects_ttl, |s| s.get_ref().0),
    }
}

/// `[workspace]`: a name both followed and ignored is refused (which one was meant?).
fn build_workspace(src: &Source<'_>, w: &FileWorkspace) -> Result<WorkspaceConfig, Error> {
    for name in &w.ignore {
        let clash = w
            .follow
            .iter()
            .any(|f| f.get_ref().eq_ignore_ascii_case(name.get_ref()));
        if clash {
            return Err(src.invalid(
                name.span(),
                format!(
                    "[workspace] names {:?} in both follow and ignore; keep it in one of them",
                    name.get_ref()
                ),
            ));
        }
    }
    let names = |list: &[Spanned<String>]| list.iter().map(|n| n.get_ref().clone()).collect();
    Ok(WorkspaceConfig {
        follow: names(&w.follow),
        ignore: names(&w.ignore),
    })
}

fn build_projects(
    src: &Source<'_>,
    projects: &[Spanned<FileProject>],
) -> Result<Vec<ProjectConfig>, Error> {
    // First every id, so an alias can be checked against projects declared after it.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, p) in projects.iter().enumerate() {
        let id = &p.get_ref().id;
        let table = KeyPath::keys(&["projects"]).index(i);
        let text = id.get_ref().as_str();
        if text.trim().is_empty() || text.contains(char::is_whitespace) || text.contains('/') {
            return Err(src.invalid(
                id.span(),
                format!(
                    "id = {text:?} {} is not a Hex project id; copy the id from the project's \
                     URL in Hex (https://app.hex.tech/<workspace>/app/<id>/...)",
                    table.describe_table()
                ),
            ));
        }
        if let Some(first) = ids.insert(text, i) {
            return Err(src.invalid(
                id.span(),
                format!(
                    "project id {text:?} is declared twice (first at line {}); merge the two \
                     [[projects]] entries",
                    src.location(projects[first].get_ref().id.span().start).line
                ),
            ));
        }
    }

    let mut aliases: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(projects.len());
    for (i, p) in projects.iter().enumerate() {
        let p = p.get_ref();
        let table = KeyPath::keys(&["projects"]).index(i);
        if let Some(alias) = &p.alias {
            let a = alias.get_ref().as_str();
            if a.trim().is_empty() || a.contains(char::is_whitespace) {
                return Err(src.invalid(
                    alias.span(),
                    format!(
                        "alias = {a:?} {} must be a short name without spaces, e.g. \
                         \"etl-extract\"",
                        table.describe_table()
                    ),
                ));
            }
            if let Some(first) = aliases.insert(a, i) {
                return Err(src.invalid(
                    alias.span(),
                    format!(
                        "alias {a:?} is used by two projects (first at line {}); give each \
                         project its own alias",
                        first_alias_line(src, projects, first)
                    ),
                ));
            }
            if let Some(&owner) = ids.get(a).filter(|&&owner| owner != i) {
                return Err(src.invalid(
                    alias.span(),
                    format!(
                        "alias {a:?} is also the id of the project at line {}, so the name \
                         would be ambiguous; choose another alias",
                        src.location(projects[owner].get_ref().id.span().start).line
                    ),
                ));
            }
        }
        out.push(ProjectConfig {
            id: p.id.get_ref().clone(),
            alias: p.alias.as_ref().map(|a| a.get_ref().clone()),
            title: p.title.clone(),
            params: build_params(src, &table, &p.params)?,
        });
    }
    Ok(out)
}

fn first_alias_line(src: &Source<'_>, projects: &[Spanned<FileProject>], i: usize) -> usize {
    projects[i]
        .get_ref()
        .alias
        .as_ref()
        .map_or(0, |a| src.location(a.span().start).line)
}

fn build_params(
    src: &Source<'_>,
    project: &KeyPath,
    params: &[Spanned<ParamSpec>],
) -> Result<Vec<ParamSpec>, Error> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(params.len());
    for (i, spanned) in params.iter().enumerate() {
        let p = spanned.get_ref();
        let span = spanned.span();
        let name = p.name.as_str();
        let where_ = project.key("params").index(i).describe_table();
        if name.trim().is_empty() {
            return Err(src.invalid(
                span,
                format!("parameter {where_} has an empty name; use the input's name in Hex"),
            ));
        }
        if let Some(first) = seen.insert(name, i) {
            return Err(src.invalid(
                span,
                format!(
                    "parameter {name:?} is declared twice in this project (first at line {}); \
                     remove one",
                    src.location(params[first].span().start).line
                ),
            ));
        }
        if p.kind.has_options() && p.options.is_empty() {
            return Err(src.invalid(
                span,
                format!(
                    "parameter {name:?} is a {} but has no options; list them, e.g. \
                     options = [\"us\", \"eu\"]",
                    p.kind
                ),
            ));
        }
        if !p.kind.has_options() && !p.options.is_empty() {
            return Err(src.invalid(
                span,
                format!(
                    "parameter {name:?} is a {} and cannot have options; remove options, or \
                     make it type = \"dropdown\" or \"multiselect\"",
                    p.kind
                ),
            ));
        }
        let mut options_seen = Vec::new();
        for o in &p.options {
            if options_seen.contains(&o) {
                return Err(src.invalid(
                    span,
                    format!("parameter {name:?} lists option {o:?} twice; remove one"),
                ));
            }
            options_seen.push(o);
        }
        let mut spec = p.clone();
        if let Some(default) = spec.default.take() {
            let default = toml_datetime_to_string(default);
            let canonical = spec.check(&default).map_err(|e| {
                src.invalid(
                    span,
                    format!("default of parameter {name:?} does not fit: {}", e.message),
                )
            })?;
            spec.default = Some(canonical);
        }
        out.push(spec);
    }
    Ok(out)
}

/// toml hands a bare date (`default = 2026-01-31`) to serde_json as a private one-key object;
/// turn it back into the text a date parameter expects.
fn toml_datetime_to_string(value: Value) -> Value {
    if let Value::Object(map) = &value
        && map.len() == 1
        && let Some(Value::String(s)) = map.get("$__toml_private_datetime")
    {
        return Value::String(s.clone());
    }
    value
}

#[cfg(test)]
mod tests;
