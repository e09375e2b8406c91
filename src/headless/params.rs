//! Parameter values from the command line (`-p NAME=VALUE`, `-p NAME:=JSON`, `--params-file`),
//! coerced and checked against the project's declared parameters before anything is sent.
//! A project with no declaration gets its values as typed: strings, or JSON with `:=`.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use crate::hex::ParamSpec;

use super::exit::Failure;

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
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read params file {}: {e}", path.display())))?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let value: Value = if is_json {
        serde_json::from_str(&text).map_err(|e| {
            Failure::usage(format!(
                "{}:{}:{}: not valid JSON: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
        })?
    } else {
        let table: toml::Table = toml::from_str(&text).map_err(|e| {
            Failure::usage(format!(
                "{}: not valid TOML (use NAME = VALUE lines, or a .json file): {e}",
                path.display()
            ))
        })?;
        toml_to_json(toml::Value::Table(table))
    };
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(Failure::usage(format!(
            "{}: must hold an object of NAME = VALUE pairs",
            path.display()
        ))),
    }
}

fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => crate::hex::params::number_value(f).unwrap_or(Value::Null),
        toml::Value::Boolean(b) => Value::Bool(b),
        // A TOML date (`date = 2026-01-31`) is what a person means by a date parameter.
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
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
}
