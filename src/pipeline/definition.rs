//! The pipeline file exactly as written (`pipelines/NAME.toml`), with the span of every value a
//! check may need to point at.
//!
//! Owns the TOML schema; unknown keys are refused everywhere. Values whose meaning is checked
//! later (project names, durations, `on_failure`, parameter types) are kept as written so that
//! `validate` can report every bad one at once instead of stopping at the first.
//!
//! ```toml
//! name = "daily-etl"                  # required
//! description = "Orders, every day"   # optional
//! max_parallel = 2                    # optional, default 4, at least 1
//!
//! [[params]]                          # pipeline parameters, given with -p NAME=VALUE
//! name = "date"
//! type = "date"                       # text, number, date, checkbox, dropdown, multiselect
//! default = "yesterday"               # for a date: YYYY-MM-DD, "today" or "yesterday"
//!
//! [[steps]]
//! id = "extract"                      # unique in the file
//! project = "etl-extract"             # alias or id from config.toml, a project id, or a title
//! params = { run_date = "{{ params.date }}" }
//! depends_on = ["other"]              # absent: the step before; [] = none
//! timeout = "30m"                     # optional; 30, "30s", "2m", "1h30m"
//! kill_on_timeout = true              # default true when a timeout is set
//! retries = 2                         # default 0, at most 10
//! retry_backoff = "1m"                # default 30s, the wait before each new attempt
//! on_failure = "stop"                 # "stop" (default) or "continue"
//! use_cached_sql_results = true       # run options, default as Hex's API: true / false
//! update_published_results = false
//! ```
//!
//! Must not resolve or check anything beyond TOML syntax and the key names.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::diagnostic::{Diagnostic, Quoted, Source, list, suggest};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    pub name: Spanned<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub params: Vec<Spanned<FileParam>>,
    pub max_parallel: Option<Spanned<i64>>,
    #[serde(default)]
    pub steps: Vec<Spanned<FileStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileParam {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub kind: Spanned<String>,
    pub default: Option<Spanned<toml::Value>>,
    pub description: Option<String>,
    #[serde(default)]
    pub options: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStep {
    pub id: Spanned<String>,
    pub project: Spanned<String>,
    #[serde(default)]
    pub params: IndexMap<Spanned<String>, Spanned<toml::Value>>,
    pub depends_on: Option<Spanned<Vec<Spanned<String>>>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub kill_on_timeout: Option<Spanned<bool>>,
    pub retries: Option<Spanned<i64>>,
    pub retry_backoff: Option<Spanned<toml::Value>>,
    pub on_failure: Option<Spanned<String>>,
    pub use_cached_sql_results: Option<bool>,
    pub update_published_results: Option<bool>,
}

/// Parses the file's TOML into the schema. Only syntax and schema errors stop here, so there is
/// one diagnostic at most; everything else is `validate`'s.
pub fn parse(src: &Source<'_>) -> Result<PipelineFile, Diagnostic> {
    toml::from_str(src.text).map_err(|e| schema_error(src, &e))
}

fn schema_error(src: &Source<'_>, e: &toml::de::Error) -> Diagnostic {
    let span = e.span().unwrap_or(0..0);
    let raw = e.message().trim();
    if let Some((field, expected)) = split_listing(raw, "unknown field ") {
        let mut fix = suggest(&field, expected.iter().map(String::as_str))
            .map(|h| format!("{h} "))
            .unwrap_or_default();
        fix.push_str(&format!(
            "valid keys there: {}",
            list(expected.iter().map(String::as_str))
        ));
        return src.error(span, format!("unknown key {:?}", Quoted(&field)), fix);
    }
    if let Some((field, _)) = split_listing(raw, "missing field ") {
        let example = match field.as_str() {
            "name" => "add name = \"daily-etl\" (a [[params]] needs its name too)",
            "id" => "add id = \"extract\", a name for the step unique in the file",
            "project" => "add project = \"<alias or id from config.toml, or the title>\"",
            "type" => "add type = \"date\" (or text, number, checkbox, dropdown, multiselect)",
            _ => "add it",
        };
        return src.error(span, format!("missing key {:?}", Quoted(&field)), example);
    }
    if span.is_empty() && span.start == 0 && raw.contains("expected") {
        return src.error(span, raw.replace('`', "\""), "");
    }
    src.error(
        span,
        format!("not a valid pipeline file: {}", raw.replace('`', "\"")),
        "see assets/pipelines/daily-etl.toml for the format",
    )
}

/// Splits serde's "unknown field `x`, expected one of `a`, `b`" into ("x", ["a", "b"]).
fn split_listing(message: &str, lead: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix(lead)?;
    let mut quoted = rest.split('`').skip(1).step_by(2).map(str::to_string);
    let name = quoted.next()?;
    Some((name, quoted.collect()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse_str(text: &str) -> Result<PipelineFile, Diagnostic> {
        parse(&Source::new(Path::new("p.toml"), text))
    }

    #[test]
    fn a_full_file_parses_with_spans() {
        let text = r#"
name = "etl"
max_parallel = 2

[[params]]
name = "date"
type = "date"
default = "yesterday"

[[steps]]
id = "extract"
project = "etl-extract"
params = { run_date = "{{ params.date }}", n = 3 }
timeout = "30m"
retries = 2
on_failure = "continue"

[[steps]]
id = "load"
project = "etl-load"
depends_on = []
"#;
        let f = parse_str(text).unwrap();
        assert_eq!(f.name.get_ref(), "etl");
        assert_eq!(f.steps.len(), 2);
        let extract = f.steps[0].get_ref();
        let (key, value) = extract.params.first().unwrap();
        assert_eq!(key.get_ref(), "run_date");
        assert_eq!(&text[key.span()], "run_date");
        assert_eq!(&text[value.span()], "\"{{ params.date }}\"");
        assert!(extract.depends_on.is_none());
        let load = f.steps[1].get_ref();
        assert_eq!(load.depends_on.as_ref().map(|d| d.get_ref().len()), Some(0));
    }

    #[test]
    fn unknown_keys_are_refused_with_a_suggestion() {
        let text = "name = \"x\"\n[[steps]]\nid = \"a\"\nproject = \"p\"\ndepend_on = []\n";
        let d = parse_str(text).unwrap_err();
        let shown = d.to_string();
        assert!(
            shown.starts_with("p.toml:5:1: unknown key \"depend_on\""),
            "{shown}"
        );
        assert!(shown.contains("did you mean \"depends_on\"?"), "{shown}");
    }

    #[test]
    fn missing_keys_and_bad_syntax_point_somewhere() {
        let d = parse_str("name = \"x\"\n[[steps]]\nid = \"a\"\n").unwrap_err();
        assert!(d.message.contains("missing key \"project\""), "{d}");
        let d = parse_str("name = \"x\"\nsteps = [\n").unwrap_err();
        assert_eq!(d.location.line, 2, "{d}");
    }
}
