//! Input parameters of a Hex project: their kinds, and how a value is checked against a kind.
//!
//! Hex's API cannot list a project's parameters (HEX_API.md), so declarations come from hexdash's
//! config and the emulator's scenario; both use [`ParamSpec`], and both check values with the same
//! code here, so a value the client accepts is a value the emulator accepts. No I/O.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of input cell a Hex app can expose to the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    Text,
    Number,
    Date,
    Checkbox,
    Dropdown,
    Multiselect,
}

impl ParamKind {
    pub const ALL: [ParamKind; 6] = [
        ParamKind::Text,
        ParamKind::Number,
        ParamKind::Date,
        ParamKind::Checkbox,
        ParamKind::Dropdown,
        ParamKind::Multiselect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Text => "text",
            ParamKind::Number => "number",
            ParamKind::Date => "date",
            ParamKind::Checkbox => "checkbox",
            ParamKind::Dropdown => "dropdown",
            ParamKind::Multiselect => "multiselect",
        }
    }

    /// The `dataType` Hex reports for this kind in a 422's `invalid` list.
    pub fn data_type(self) -> &'static str {
        match self {
            ParamKind::Text | ParamKind::Dropdown => "STRING",
            ParamKind::Number => "NUMBER",
            ParamKind::Date => "DATE",
            ParamKind::Checkbox => "BOOLEAN",
            ParamKind::Multiselect => "LIST",
        }
    }

    /// The `inputCellType` Hex reports for this kind in a 422's `invalid` list.
    pub fn input_cell_type(self) -> &'static str {
        match self {
            ParamKind::Text => "TEXT_INPUT",
            ParamKind::Number => "NUMBER_INPUT",
            ParamKind::Date => "DATE_INPUT",
            ParamKind::Checkbox => "CHECKBOX",
            ParamKind::Dropdown => "DROPDOWN",
            ParamKind::Multiselect => "MULTISELECT",
        }
    }

    /// Whether options are required for this kind.
    pub fn has_options(self) -> bool {
        matches!(self, ParamKind::Dropdown | ParamKind::Multiselect)
    }
}

impl fmt::Display for ParamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One declared input parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamKind,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A required parameter has no usable default; launching without it is refused client-side.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
}

/// Why a value does not fit a parameter. The message is written to be shown next to the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    pub param: String,
    pub message: String,
}

impl ParamSpec {
    pub fn new(name: impl Into<String>, kind: ParamKind) -> Self {
        ParamSpec {
            name: name.into(),
            kind,
            options: Vec::new(),
            default: None,
            description: None,
            required: false,
        }
    }

    fn error(&self, message: String) -> ParamError {
        ParamError {
            param: self.name.clone(),
            message,
        }
    }

    /// Checks a JSON value against this parameter and returns it in canonical form
    /// (dates as `YYYY-MM-DD`, numbers as numbers).
    pub fn check(&self, value: &Value) -> Result<Value, ParamError> {
        match (self.kind, value) {
            (ParamKind::Text, Value::String(_)) => Ok(value.clone()),
            (ParamKind::Number, Value::Number(n)) => {
                check_exact_integer(n).map_err(|m| self.error(format!("{} {m}", self.name)))?;
                Ok(value.clone())
            }
            (ParamKind::Checkbox, Value::Bool(_)) => Ok(value.clone()),
            (ParamKind::Date, Value::String(s)) => parse_date(s)
                .map(|d| Value::String(d.to_string()))
                .map_err(|m| self.error(m)),
            (ParamKind::Dropdown, Value::String(s)) => {
                self.check_option(s)?;
                Ok(value.clone())
            }
            (ParamKind::Multiselect, Value::Array(items)) => {
                for item in items {
                    match item {
                        Value::String(s) => self.check_option(s)?,
                        other => {
                            return Err(self.error(format!(
                                "{} takes a list of strings, got {other}",
                                self.name
                            )));
                        }
                    }
                }
                Ok(value.clone())
            }
            (kind, other) => Err(self.error(format!(
                "{} is a {kind} parameter; {} does not fit ({})",
                self.name,
                other,
                kind_hint(kind)
            ))),
        }
    }

    fn check_option(&self, s: &str) -> Result<(), ParamError> {
        if self.options.is_empty() || self.options.iter().any(|o| o == s) {
            Ok(())
        } else {
            Err(self.error(format!(
                "{:?} is not an option of {} (options: {})",
                s,
                self.name,
                self.options.join(", ")
            )))
        }
    }

    /// Parses a value typed by a person (`-p NAME=VALUE`, a form field) into JSON for this kind.
    /// Multiselect values are comma-separated; a JSON array is accepted too.
    pub fn parse_text(&self, raw: &str) -> Result<Value, ParamError> {
        let trimmed = raw.trim();
        let value = match self.kind {
            ParamKind::Text | ParamKind::Dropdown => Value::String(raw.to_string()),
            ParamKind::Date => Value::String(trimmed.to_string()),
            ParamKind::Number => {
                exact_number(trimmed).map_err(|m| self.error(format!("{} {m}", self.name)))?
            }
            ParamKind::Checkbox => match trimmed.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "on" | "1" => Value::Bool(true),
                "false" | "no" | "n" | "off" | "0" => Value::Bool(false),
                _ => {
                    return Err(self.error(format!(
                        "{} is a checkbox: use true or false, got {raw:?}",
                        self.name
                    )));
                }
            },
            ParamKind::Multiselect => {
                if trimmed.starts_with('[') {
                    serde_json::from_str(trimmed)
                        .map_err(|e| self.error(format!("{} is not a JSON list: {e}", self.name)))?
                } else {
                    Value::Array(
                        trimmed
                            .split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(|s| Value::String(s.to_string()))
                            .collect(),
                    )
                }
            }
        };
        self.check(&value)
    }
}

/// The largest integer a JSON number keeps exactly in Hex, whose numbers are 64-bit floats
/// (as in JavaScript): 2^53.
pub const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Reads a number written as text (`-p rows=10`, a form field, a literal in a parameters file)
/// into the JSON number that is sent, refusing text that would not arrive as written: not a
/// number, NaN or infinite, or more digits than a 64-bit float keeps
/// (`123456789012345678901234567890` would be sent as `1.2345678901234568e29`).
pub fn exact_number(text: &str) -> Result<Value, String> {
    let n: f64 = text
        .parse()
        .map_err(|_| format!("must be a number, got {text:?}"))?;
    if !n.is_finite() {
        return Err(format!(
            "must be a finite number, got {text:?} (JSON has no NaN or infinity)"
        ));
    }
    if !is_decimal_literal(text) {
        return Err(format!("must be a number, got {text:?}"));
    }
    if decimal_digits(text) != decimal_digits(&format!("{n:e}")) {
        return Err(format!(
            "has too many digits to arrive as written: {text:?} would be sent as {n:e} (Hex's \
             numbers are 64-bit floats: about 15 significant digits, integers up to \
             {MAX_EXACT_INTEGER}); use fewer digits, or a text parameter"
        ));
    }
    number_value(n).ok_or_else(|| format!("must be a finite number, got {text:?}"))
}

/// An integer JSON number beyond ±2^53 is refused: serde keeps it exactly, Hex would not.
fn check_exact_integer(n: &serde_json::Number) -> Result<(), String> {
    let too_big = n.as_u64().is_some_and(|u| u > MAX_EXACT_INTEGER)
        || n.as_i64()
            .is_some_and(|i| i.unsigned_abs() > MAX_EXACT_INTEGER);
    if too_big {
        return Err(format!(
            "= {n} is beyond the integers Hex keeps exactly (±{MAX_EXACT_INTEGER}); use a text \
             parameter for ids this long"
        ));
    }
    Ok(())
}

/// `-12.5e3`, `7`, `0.25`, `.5`: digits with an optional sign, point and exponent, nothing else
/// (Rust's float parser also takes `inf`, `infinity` and `NaN`).
fn is_decimal_literal(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits(f));
    (digits(int) || frac.is_some_and(digits))
        && (int.is_empty() || digits(int))
        && frac_ok
        && exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// A decimal literal as (significant digits, power of ten of the last one, negative): equal for
/// two literals exactly when they denote the same number.
fn decimal_digits(text: &str) -> Option<(String, i64, bool)> {
    let negative = text.starts_with('-');
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int}{frac}");
    let mut power = exponent.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let trimmed = digits.trim_start_matches('0').len();
    digits = digits.split_off(digits.len() - trimmed);
    while digits.ends_with('0') {
        digits.pop();
        power += 1;
    }
    if digits.is_empty() {
        return Some((digits, 0, false));
    }
    Some((digits, power, negative))
}

/// The first number literal in a JSON text that [`exact_number`] refuses, with the reason.
/// (serde_json reads numbers into floats silently; this looks at the literals as written.)
pub fn inexact_json_number(json: &str) -> Option<String> {
    let bytes = json.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let literal = &json[start..i];
            if let Err(e) = exact_number(literal) {
                return Some(e);
            }
            continue;
        }
        i += 1;
    }
    None
}

/// Turns an f64 into a JSON number, as an integer when it is one.
pub fn number_value(n: f64) -> Option<Value> {
    if !n.is_finite() {
        return None;
    }
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return Some(Value::from(n as i64));
    }
    serde_json::Number::from_f64(n).map(Value::Number)
}

fn kind_hint(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Text => "expected a string",
        ParamKind::Number => "expected a number",
        ParamKind::Date => "expected a date as YYYY-MM-DD",
        ParamKind::Checkbox => "expected true or false",
        ParamKind::Dropdown => "expected one of its options",
        ParamKind::Multiselect => "expected a list of its options",
    }
}

/// Dates are calendar dates (`2026-11-28`); a whole date-time or timestamp is accepted and its
/// date part kept. Nothing else: `2026-01-01Tjunk` is refused, not cut to its date.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let s = s.trim();
    s.parse::<Date>()
        .or_else(|_| s.parse::<jiff::civil::DateTime>().map(|dt| dt.date()))
        .or_else(|_| s.parse::<jiff::Zoned>().map(|z| z.date()))
        .or_else(|_| {
            s.parse::<jiff::Timestamp>()
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date())
        })
        .map_err(|_| format!("{s:?} is not a date: use YYYY-MM-DD, e.g. 2026-01-31"))
}

/// Guesses the kind of a value that was used before with a project that declares nothing,
/// so free `name = value` rows can be typed from history.
pub fn infer_kind(value: &Value) -> ParamKind {
    match value {
        Value::Bool(_) => ParamKind::Checkbox,
        Value::Number(_) => ParamKind::Number,
        Value::Array(_) => ParamKind::Multiselect,
        Value::String(s) if parse_date(s).is_ok() && s.len() == 10 => ParamKind::Date,
        _ => ParamKind::Text,
    }
}

/// Renders a parameter value for a person or a command line (`-p name=VALUE`).
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(kind: ParamKind) -> ParamSpec {
        let mut s = ParamSpec::new("p", kind);
        if kind.has_options() {
            s.options = vec!["a".into(), "b".into()];
        }
        s
    }

    #[test]
    fn text_values_are_parsed_per_kind() {
        assert_eq!(spec(ParamKind::Number).parse_text("42").unwrap(), json!(42));
        assert_eq!(
            spec(ParamKind::Number).parse_text("1.5").unwrap(),
            json!(1.5)
        );
        assert!(spec(ParamKind::Number).parse_text("x").is_err());
        assert_eq!(
            spec(ParamKind::Checkbox).parse_text("yes").unwrap(),
            json!(true)
        );
        assert_eq!(
            spec(ParamKind::Date).parse_text("2026-02-03").unwrap(),
            json!("2026-02-03")
        );
        assert!(spec(ParamKind::Date).parse_text("2026-02-30").is_err());
        assert_eq!(
            spec(ParamKind::Dropdown).parse_text("a").unwrap(),
            json!("a")
        );
        let err = spec(ParamKind::Dropdown).parse_text("c").unwrap_err();
        assert!(err.message.contains("options: a, b"), "{err}");
        assert_eq!(
            spec(ParamKind::Multiselect).parse_text("a, b").unwrap(),
            json!(["a", "b"])
        );
        assert!(spec(ParamKind::Multiselect).parse_text("a,z").is_err());
    }

    #[test]
    fn dates_must_parse_whole() {
        let date = spec(ParamKind::Date);
        assert_eq!(
            date.parse_text("2026-01-01T10:30:00").unwrap(),
            json!("2026-01-01")
        );
        assert_eq!(
            date.parse_text("2026-01-01T23:30:00Z").unwrap(),
            json!("2026-01-01")
        );
        for junk in [
            "2026-01-01Tjunk; DROP TABLE x",
            "2026-01-01 junk",
            "2026-01-01x",
            "2026-01-01T",
        ] {
            let e = date.parse_text(junk).unwrap_err();
            assert!(e.message.contains("is not a date"), "{junk}: {e}");
        }
        assert!(date.check(&json!("2026-01-01Tjunk")).is_err());
    }

    #[test]
    fn numbers_that_would_not_arrive_as_written_are_refused() {
        let n = spec(ParamKind::Number);
        for exact in [
            "0",
            "-7",
            "1.5",
            "0.1",
            "1e3",
            "9007199254740992",
            "2.5E-3",
            "+4",
            ".5",
            "2.",
        ] {
            assert!(n.parse_text(exact).is_ok(), "{exact}");
        }
        assert_eq!(n.parse_text("1e3").unwrap(), json!(1000));
        for lossy in [
            "123456789012345678901234567890",
            "9007199254740993",
            "0.10000000000000000001",
        ] {
            let e = n.parse_text(lossy).unwrap_err();
            assert!(e.message.contains("too many digits"), "{lossy}: {e}");
        }
        for not_a_number in [
            "nan",
            "NaN",
            "inf",
            "-infinity",
            ".",
            "-",
            "0x10",
            "1e",
            "1_000",
        ] {
            assert!(n.parse_text(not_a_number).is_err(), "{not_a_number}");
        }
        let e = n.check(&json!(12345678901234567_u64)).unwrap_err();
        assert!(e.message.contains("beyond the integers"), "{e}");
        assert!(n.check(&json!(9007199254740992_u64)).is_ok());
    }

    #[test]
    fn json_literals_are_checked_as_written() {
        assert_eq!(
            inexact_json_number(r#"{"a": 1.5, "b": "1234567890123456789012"}"#),
            None
        );
        assert!(inexact_json_number(r#"{"a": [1, 123456789012345678901234567890]}"#).is_some());
        assert!(inexact_json_number(r#"{"s": "x\"y", "n": 0.10000000000000000001}"#).is_some());
    }

    #[test]
    fn json_values_are_checked_per_kind() {
        assert!(spec(ParamKind::Number).check(&json!("42")).is_err());
        assert!(spec(ParamKind::Checkbox).check(&json!("true")).is_err());
        assert!(spec(ParamKind::Text).check(&json!(3)).is_err());
        assert!(spec(ParamKind::Multiselect).check(&json!(["a"])).is_ok());
    }

    #[test]
    fn kinds_are_inferred_from_past_values() {
        assert_eq!(infer_kind(&json!("2026-01-01")), ParamKind::Date);
        assert_eq!(infer_kind(&json!(true)), ParamKind::Checkbox);
        assert_eq!(infer_kind(&json!(3)), ParamKind::Number);
        assert_eq!(infer_kind(&json!("eu")), ParamKind::Text);
    }
}
