//! Durations as people write them in the config file and on the command line: `30`, `30s`,
//! `1500ms`, `2m`, `1h30m`.
//!
//! Owns parsing and display of durations; knows nothing of which setting a duration is for.

use std::time::Duration;

const HINT: &str =
    "use a number of seconds or a number with a unit (ms, s, m, h), e.g. 30s, 2m, 1h30m";

/// The longest duration anything in hexdash takes (30 days). Longer is a typo or a probe, not an
/// intent: no Hex run is waited on for a month, and past this, deadlines computed as "now plus
/// the duration" would overflow a clock.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Parses `"30"` (seconds), `"30s"`, `"1500ms"`, `"2m"`, `"1h"`, or sums like `"1h30m"`, up to
/// [`MAX_DURATION`].
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = parse_unbounded(s)?;
    if d > MAX_DURATION {
        return Err(format!(
            "{s:?} is too large a duration: the most hexdash accepts is 30 days (720h)"
        ));
    }
    Ok(d)
}

fn parse_unbounded(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err(format!("{s:?} is not a duration: {HINT}"));
    }
    if text.chars().all(|c| c.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("{s:?} is too large a duration"));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{s:?} is not a duration: {HINT}"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{s:?} is too large a duration"))?;
        rest = rest[digits..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let part = match unit {
            "ms" => Some(Duration::from_millis(number)),
            "s" | "sec" | "secs" => Some(Duration::from_secs(number)),
            "m" | "min" | "mins" => number.checked_mul(60).map(Duration::from_secs),
            "h" | "hr" | "hrs" => number.checked_mul(3600).map(Duration::from_secs),
            "" => return Err(format!("{s:?} is missing a unit after {number}: {HINT}")),
            other => {
                return Err(format!("{s:?} has unknown unit {other:?}: {HINT}"));
            }
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .ok_or_else(|| format!("{s:?} is too large a duration"))?;
        rest = rest[unit_len..].trim_start();
    }
    Ok(total)
}

/// Renders a duration the way [`parse_duration`] reads it back: `30s`, `2m`, `1h30m`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let millis = d.as_millis();
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".to_string();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn units_and_sums_are_read() {
        assert_eq!(parse_duration("30").unwrap(), secs(30));
        assert_eq!(parse_duration(" 30s ").unwrap(), secs(30));
        assert_eq!(parse_duration("2m").unwrap(), secs(120));
        assert_eq!(parse_duration("10m").unwrap(), secs(600));
        assert_eq!(parse_duration("1h").unwrap(), secs(3600));
        assert_eq!(parse_duration("1h30m").unwrap(), secs(5400));
        assert_eq!(parse_duration("1h 30m 5s").unwrap(), secs(5405));
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
    }

    #[test]
    fn bad_durations_quote_the_value_and_show_the_format() {
        for bad in [
            "",
            "s",
            "2x",
            "1.5s",
            "-3s",
            "5 ",
            "m5",
            "10 minutes please",
        ] {
            let Err(e) = parse_duration(bad) else {
                // "5 " is just 5 seconds once trimmed; everything else must fail.
                assert_eq!(bad, "5 ");
                continue;
            };
            assert!(e.contains(&format!("{bad:?}")), "{e}");
            assert!(e.contains("e.g. 30s"), "{e}");
        }
        assert!(
            parse_duration("99999999999999999999h")
                .unwrap_err()
                .contains("too large")
        );
        assert!(parse_duration("5").is_ok());
    }

    #[test]
    fn durations_past_thirty_days_are_refused_not_wrapped() {
        assert_eq!(parse_duration("720h").unwrap(), MAX_DURATION);
        for huge in [
            "18446744073709551615s",
            "18446744073709551615",
            "721h",
            "2592001",
        ] {
            let e = parse_duration(huge).unwrap_err();
            assert!(
                e.contains("too large") && e.contains("30 days"),
                "{huge}: {e}"
            );
        }
    }

    #[test]
    fn formatting_round_trips() {
        for d in [
            secs(0),
            secs(30),
            secs(120),
            secs(5405),
            Duration::from_millis(250),
        ] {
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d, "{d:?}");
        }
        assert_eq!(format_duration(secs(5400)), "1h30m");
    }
}
