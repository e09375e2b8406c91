//! `hexdash log [--since WHEN] [--limit N] [--json | --csv]`: the operator's log — every launch,
//! rerun and cancel done through hexdash on this data dir, by any of its processes, newest first:
//! when, who (user@host and pid), what, which project and run, the profile, the parameters, and
//! how it ended. For an incident review ("who killed the 09:00 load, and from where?").
//!
//! Reads the store without asking Hex anything (works offline, without a token) and does not
//! create a store where there is none.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::cli::LogArgs;
use crate::config::{Config, Paths};
use crate::hex::params::display_value;
use crate::journal::{ActionKind, Journal, OperatorAction};

use super::output::{local_time, print_table};
use crate::hex::short_id;
use crate::session::{Exit, Failure};

pub fn run(paths: &Paths, config: &Config, args: &LogArgs) -> Result<Exit, Failure> {
    let since = match args.since.as_deref() {
        Some(text) => Some(parse_since(text, Timestamp::now()).map_err(Failure::usage)?),
        None => None,
    };
    let store = paths.store_file();
    if !store.exists() {
        crate::errln!(
            "nothing recorded yet: no store at {} (launch or cancel something first)",
            store.display()
        );
        return Ok(Exit::Completed);
    }
    let (journal, warnings) = Journal::attach(store.clone())
        .map_err(|e| Failure::local(format!("cannot read the store: {e}")))?;
    for w in &warnings {
        crate::errln!("hexdash: warning: store: {w}");
    }
    let mut actions = journal
        .operator_actions(since, args.limit)
        .map_err(|e| Failure::local(format!("cannot read the store: {e}")))?;
    // A run launched by alias from the command line has no title in the store: its alias says
    // more than its id.
    for a in &mut actions {
        a.project_alias = config
            .projects
            .iter()
            .find(|p| p.id == a.project_id)
            .and_then(|p| p.alias.clone());
    }
    if args.json {
        super::print_json(&actions)?;
        return Ok(Exit::Completed);
    }
    let rows: Vec<Vec<String>> = actions.iter().map(row).collect();
    if args.csv {
        let mut text = csv_line(&HEADER.map(str::to_string));
        for r in &rows {
            text.push_str(&csv_line(r));
        }
        print!("{text}");
        return Ok(Exit::Completed);
    }
    if rows.is_empty() {
        let when = args
            .since
            .as_deref()
            .map(|s| format!(" since {s}"))
            .unwrap_or_default();
        crate::errln!("no launch or cancel recorded{when} ({})", store.display());
        return Ok(Exit::Completed);
    }
    print_table(&HEADER, &rows).map_err(|e| Failure::local(format!("cannot write output: {e}")))?;
    Ok(Exit::Completed)
}

const HEADER: [&str; 9] = [
    "WHEN", "WHO", "DID", "FROM", "PROJECT", "RUN", "PROFILE", "OUTCOME", "PARAMS",
];

fn row(a: &OperatorAction) -> Vec<String> {
    let did = match a.action {
        ActionKind::Launch => "launch",
        ActionKind::Cancel => "cancel",
    };
    let mut outcome = a.outcome.clone();
    if let Some(status) = &a.run_status {
        outcome.push_str(&format!("; run {status}"));
    }
    let params: Vec<String> = a
        .params
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", display_value(v)))
        .collect();
    vec![
        local_time(&a.at),
        a.by.clone().unwrap_or_else(|| "unknown".into()),
        did.to_string(),
        a.origin.clone().unwrap_or_else(|| "-".into()),
        a.project_title
            .clone()
            .unwrap_or_else(|| a.project_id.clone()),
        a.run_id
            .as_deref()
            .map_or_else(|| "-".to_string(), |r| short_id(r).to_string()),
        a.profile.clone().unwrap_or_else(|| "-".into()),
        outcome,
        params.join(" "),
    ]
}

/// One CSV record: fields quoted when they hold a comma, a quote or a line break; control
/// characters (a title from Hex could hold an escape sequence) shown escaped, not written raw.
fn csv_line(fields: &[String]) -> String {
    let cells: Vec<String> = fields
        .iter()
        .map(|f| {
            let f = crate::safe_text::escape_line(f);
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.into_owned()
            }
        })
        .collect();
    format!("{}\r\n", cells.join(","))
}

/// `--since`: `24h`, `7d`, `90m` back from `now`; a date from its start in local time; a time.
fn parse_since(text: &str, now: Timestamp) -> Result<Timestamp, String> {
    let t = text.trim();
    if let Some(days) = t.strip_suffix('d').and_then(|d| d.parse::<i64>().ok()) {
        if !(0..=3660).contains(&days) {
            return Err(format!("--since {text:?}: at most 3660 days back"));
        }
        return now
            .checked_sub(jiff::SignedDuration::from_hours(days * 24))
            .map_err(|e| format!("--since {text:?}: {e}"));
    }
    // A span needs its unit: a bare number would be seconds, and `--since 2026` is a year.
    if t.ends_with(['s', 'm', 'h']) && t.starts_with(|c: char| c.is_ascii_digit()) {
        let span = crate::config::parse_duration(t)
            .map_err(|e| format!("--since {text:?}: {e}; for longer, say days (--since 90d)"))?;
        let back = jiff::SignedDuration::try_from(span).map_err(|e| e.to_string())?;
        return now
            .checked_sub(back)
            .map_err(|e| format!("--since {text:?}: {e}"));
    }
    if let Ok(at) = t.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>() {
        return date
            .to_zoned(TimeZone::system())
            .map(|z| z.timestamp())
            .map_err(|e| format!("--since {text:?}: {e}"));
    }
    Err(format!(
        "--since {text:?} is not a span back (24h, 7d, 90m), a date (2026-12-01) or a time \
         (2026-12-01T09:00:00Z)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_spans_days_dates_and_times_and_says_what_it_wants() {
        let now: Timestamp = "2026-12-03T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_since("24h", now).unwrap(),
            "2026-12-02T12:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_since("7d", now).unwrap(),
            "2026-11-26T12:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            parse_since("2026-12-01T09:00:00Z", now).unwrap(),
            "2026-12-01T09:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(parse_since("2026-12-01", now).is_ok());
        let err = parse_since("last tuesday", now).unwrap_err();
        assert!(err.contains("24h") && err.contains("2026-12-01"), "{err}");
        assert!(parse_since("99999d", now).is_err());
        assert!(
            parse_since("2026", now).is_err(),
            "a bare number is no span"
        );
        let long = parse_since("800h", now).unwrap_err();
        assert!(long.contains("90d"), "{long}");
    }

    #[test]
    fn csv_quotes_what_needs_it_and_escapes_control_characters() {
        let line = csv_line(&[
            "plain".into(),
            "a, b".into(),
            "say \"hi\"".into(),
            "\u{1b}[31mred".into(),
        ]);
        assert!(
            line.starts_with("plain,\"a, b\",\"say \"\"hi\"\"\","),
            "{line:?}"
        );
        assert!(
            line.ends_with("red\r\n") && !line.contains('\u{1b}'),
            "{line:?}"
        );
    }
}
