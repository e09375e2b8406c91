//! Parameter values from the command line (`-p NAME=VALUE`, `-p NAME:=JSON`, `--params-file`),
//! coerced and checked against the project's declared parameters before anything is sent.
//! A project with no declaration gets its values as typed: strings, or JSON with `:=`.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config::Location;
use crate::hex::ParamSpec;
use crate::hex::params::{exact_number, inexact_json_number};
use crate::safe_text::one_line;

use crate::session::Failure;

/// Where a value came from decides how it is read: typed text is parsed by the parameter's kind,
/// JSON (from `:=` or a file) is checked as it is.
enum Raw {
    Text(String),
    Json(Value),
}

/// Builds the `inputParams` object for a launch.
pub fn build(
    project_label: &str,
    specs: &[ParamSpec],
    cli: &[String],
    file: Option<&Path>,
) -> Result<IndexMap<String, Value>, Failure> {
    let mut raw: IndexMap<String, Raw> = IndexMap::new();
    if let Some(path) = file {
        for (name, value) in read_params_file(path)? {
            raw.insert(name, Raw::Json(value));
        }
    }
    for arg in cli {
        let (name, value) = parse_arg(arg)?;
        raw.insert(name, value);
    }
    let mut out = IndexMap::new();
    for (name, value) in raw {
        let coerced = if specs.is_empty() {
            match value {
                Raw::Text(s) => Value::String(s),
                Raw::Json(v) => v,
            }
        } else {
            let spec = specs.iter().find(|s| s.name == name).ok_or_else(|| {
                Failure::usage(format!(
                    "{project_label} declares no parameter {name:?} (declared: {}); fix the name, \
                     or add it to the project's params in the config",
                    specs
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            let checked = match &value {
                Raw::Text(s) => spec.parse_text(s),
                Raw::Json(v) => spec.check(v),
            };
            checked.map_err(|e| Failure::usage(format!("parameter {name}: {e}")))?
        };
        out.insert(name, coerced);
    }
    let missing: Vec<&str> = specs
        .iter()
        .filter(|s| s.required && s.default.is_none() && !out.contains_key(&s.name))
        .map(|s| s.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Failure::usage(format!(
            "{project_label} needs {}: pass it with -p NAME=VALUE",
            missing.join(", ")
        )));
    }
    Ok(out)
}

fn parse_arg(arg: &str) -> Result<(String, Raw), Failure> {
    let Some((name, value)) = arg.split_once('=') else {
        return Err(Failure::usage(format!(
            "-p {arg:?} is not NAME=VALUE (or NAME:=JSON), e.g. -p date=2026-01-31"
        )));
    };
    if let Some(name) = name.strip_suffix(':') {
        let json: Value = serde_json::from_str(value).map_err(|e| {
            Failure::usage(format!(
                "-p {name}:= takes JSON, but {value:?} is not JSON: {e}"
            ))
        })?;
        if let Some(problem) = inexact_json_number(value) {
            return Err(Failure::usage(format!("-p {name}:= {problem}")));
        }
        return Ok((checked_name(name, arg)?, Raw::Json(json)));
    }
    Ok((checked_name(name, arg)?, Raw::Text(value.to_string())))
}

fn checked_name(name: &str, arg: &str) -> Result<String, Failure> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Failure::usage(format!(
            "-p {arg:?} has no parameter name before '='"
        )));
    }
    Ok(name.to_string())
}

fn read_params_file(path: &Path) -> Result<IndexMap<String, Value>, Failure> {
    let text = crate::files::read_text(path, crate::files::PARAMS_MAX_BYTES)
        .map_err(|e| Failure::usage(format!("cannot read params file {}: {e}", path.display())))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let at = |offset: usize| Location::from_offset(path, &text, offset);
    let value: Value = if is_json {
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Failure::usage(format!(
                "{}:{}:{}: not valid JSON: {}",
                path.display(),
                e.line(),
                e.column(),
                one_line(&e.to_string(), MESSAGE_CHARS)
            ))
        })?;
        if let Some(problem) = inexact_json_number(&text) {
            return Err(Failure::usage(format!("{}: {problem}", path.display())));
        }
        value
    } else {
        // DeTable, not toml::Table: the literals as written are needed to refuse numbers that
        // would not arrive as written, and `message()` does not quote the (possibly huge) line.
        let doc = DeTable::parse(&text).map_err(|e| {
            Failure::usage(format!(
                "{}: not valid TOML (use NAME = VALUE lines, or a .json file): {}",
                at(e.span().map_or(0, |s| s.start)),
                one_line(e.message().trim(), MESSAGE_CHARS)
            ))
        })?;
        table_to_json(doc.get_ref())
            .map_err(|(span, problem)| Failure::usage(format!("{}: {problem}", at(span.start))))?
    };
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(Failure::usage(format!(
            "{}: must hold an object of NAME = VALUE pairs",
            path.display()
        ))),
    }
}

/// The most of a parser's message a params-file error quotes.
const MESSAGE_CHARS: usize = 200;

type Refusal = (std::ops::Range<usize>, String);

fn table_to_json(table: &DeTable<'_>) -> Result<Value, Refusal> {
    table
        .iter()
        .map(|(k, v)| Ok((k.get_ref().to_string(), toml_to_json(v)?)))
        .collect::<Result<serde_json::Map<_, _>, _>>()
        .map(Value::Object)
}

fn toml_to_json(v: &Spanned<DeValue<'_>>) -> Result<Value, Refusal> {
    let refuse = |m: String| (v.span(), m);
    Ok(match v.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let text = i.as_str().replace('_', "");
            let n = i64::from_str_radix(&text, i.radix())
                .map_err(|e| refuse(format!("integer {:?}: {e}", i.as_str())))?;
            // Beyond 2^53 the decimal digits do not survive a float: refused like a typed one.
            exact_number(&n.to_string()).map_err(refuse)?
        }
        // NaN and infinities have no JSON form (serde would send null); too many digits would
        // arrive as another number.
        DeValue::Float(f) => exact_number(&f.as_str().replace('_', "")).map_err(refuse)?,
        DeValue::Boolean(b) => Value::Bool(*b),
        // A TOML date (`date = 2026-01-31`) is what a person means by a date parameter.
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(a) => Value::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?),
        DeValue::Table(t) => table_to_json(t)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::ParamKind;
    use serde_json::json;

    fn specs() -> Vec<ParamSpec> {
        let mut region = ParamSpec::new("region", ParamKind::Dropdown);
        region.options = vec!["eu".into(), "us".into()];
        let mut date = ParamSpec::new("date", ParamKind::Date);
        date.required = true;
        vec![date, ParamSpec::new("rows", ParamKind::Number), region]
    }

    #[test]
    fn values_are_typed_by_declaration() {
        let p = build(
            "etl",
            &specs(),
            &[
                "date=2026-01-31".into(),
                "rows=10".into(),
                "region=eu".into(),
            ],
            None,
        )
        .unwrap();
        assert_eq!(p["rows"], json!(10));
        assert_eq!(p["date"], json!("2026-01-31"));
    }

    #[test]
    fn bad_values_name_the_parameter_and_the_fix() {
        let e = build(
            "etl",
            &specs(),
            &["date=2026-01-31".into(), "rows=ten".into()],
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("rows"), "{e}");
        let e = build("etl", &specs(), &["rows=1".into()], None).unwrap_err();
        assert!(e.message.contains("needs date"), "{e}");
        let e = build(
            "etl",
            &specs(),
            &["date=2026-01-31".into(), "colour=red".into()],
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("declared: date, rows, region"), "{e}");
        let e = build("etl", &[], &["nonsense".into()], None).unwrap_err();
        assert!(e.message.contains("NAME=VALUE"), "{e}");
    }

    #[test]
    fn undeclared_projects_take_strings_and_json() {
        let p = build("x", &[], &["a=1".into(), "b:=[1,2]".into()], None).unwrap();
        assert_eq!(p["a"], json!("1"));
        assert_eq!(p["b"], json!([1, 2]));
    }

    #[test]
    fn params_files_in_toml_and_json() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("p.toml");
        std::fs::write(&toml_path, "date = 2026-01-31\nrows = 5\n").unwrap();
        let p = build("etl", &specs(), &["rows=6".into()], Some(&toml_path)).unwrap();
        assert_eq!(p["date"], json!("2026-01-31"));
        assert_eq!(p["rows"], json!(6));
        let json_path = dir.path().join("p.json");
        std::fs::write(&json_path, r#"{"date": "2026-02-01", "rows": "x"}"#).unwrap();
        assert!(build("etl", &specs(), &[], Some(&json_path)).is_err());
    }

    #[test]
    fn numbers_in_files_and_json_args_must_arrive_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        for (name, text, want) in [
            ("nan.toml", "rows = nan\n", "finite"),
            ("inf.toml", "date = 2026-01-01\nrows = -inf\n", "finite"),
            ("big.toml", "rows = 9007199254740993\n", "too many digits"),
            (
                "long.toml",
                "rows = 0.10000000000000000001\n",
                "too many digits",
            ),
            (
                "big.json",
                r#"{"rows": 123456789012345678901234567890}"#,
                "too many digits",
            ),
        ] {
            let path = write(name, text);
            let e = build("etl", &specs(), &["date=2026-01-31".into()], Some(&path)).unwrap_err();
            assert!(e.message.contains(want), "{name}: {e}");
        }
        // Undeclared projects too: nothing declared does not mean anything goes.
        let e = build(
            "x",
            &[],
            &["n:=123456789012345678901234567890".into()],
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("too many digits"), "{e}");
        let path = write("ok.toml", "rows = 1_000\nratio = 0.25\nflags = 0x10\n");
        let p = build("x", &[], &[], Some(&path)).unwrap();
        assert_eq!(p["rows"], json!(1000));
        assert_eq!(p["ratio"], json!(0.25));
        assert_eq!(p["flags"], json!(16));
    }

    #[test]
    fn file_errors_point_at_one_line_and_big_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.toml");
        let line = format!("date = \"{}\"\nrows = [", "x".repeat(400_000));
        std::fs::write(&path, &line).unwrap();
        let e = build("etl", &specs(), &[], Some(&path)).unwrap_err();
        assert!(
            e.message.len() < 600,
            "{} chars: {}",
            e.message.len(),
            &e.message[..600]
        );
        assert!(e.message.contains(":2:"), "{e}");
        let path = dir.path().join("big.json");
        std::fs::write(&path, " ".repeat(2 << 20)).unwrap();
        let e = build("etl", &specs(), &[], Some(&path)).unwrap_err();
        assert!(e.message.contains("larger than 1 MiB"), "{e}");
    }
}
