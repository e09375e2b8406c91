//! Reading a 429's `Retry-After`: delay seconds (whole, or fractional as some servers send) or an
//! HTTP date, parsed saturating and capped at [`MAX_PAUSE`].
//!
//! The header is a number from outside: `1e30`, `99999999999999999999` or a date in the year
//! 9999 must become "wait the longest hexdash ever waits, and say the server asked for something
//! absurd", never a panic (`Duration::from_secs_f64`) or an `Instant` overflow further down.
//! Must not read a clock: the caller passes "now" so tests can pin it.

use std::time::Duration;

use jiff::Timestamp;

/// The longest one 429 may stop every request. Hex's window resets a minute after its first
/// request (HEX_API.md "Limits"), so an honest Retry-After is at most about 60 s; five minutes
/// leaves room for a slow or hourly limit, and anything longer is a server asking for something
/// absurd: a few more refused requests cost less than a dashboard frozen for hours (or an
/// `Instant` overflow, for `Retry-After: 18446744073709551615`).
pub const MAX_PAUSE: Duration = Duration::from_secs(5 * 60);

/// Longest piece of an absurd header quoted back in a message.
const QUOTED_CHARS: usize = 40;

/// What a 429 asked for, as hexdash will honour it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// The pause to honour: the server's, at most [`MAX_PAUSE`].
    pub wait: Duration,
    /// The header as sent (cleaned of control characters, shortened), when it asked for more
    /// than [`MAX_PAUSE`].
    pub absurd: Option<String>,
}

/// Parses a `Retry-After` value at `now`. `None` for a value that is no delay and no date, which
/// the caller treats as a 429 without the header (its own backoff).
pub fn parse(value: &str, now: Timestamp) -> Option<RetryAfter> {
    let value = value.trim();
    let asked = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits but too big for a u64 is still a number of seconds: a huge one.
        Asked::Wait(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ))
    } else if let Ok(secs) = value.parse::<f64>() {
        seconds(secs)?
    } else {
        http_date(value, now)?
    };
    Some(match asked {
        Asked::Wait(wait) if wait <= MAX_PAUSE => RetryAfter { wait, absurd: None },
        Asked::Wait(_) | Asked::Forever => RetryAfter {
            wait: MAX_PAUSE,
            absurd: Some(quote(value)),
        },
    })
}

/// A wait as the server meant it, before the cap.
enum Asked {
    Wait(Duration),
    /// More than a `Duration` holds.
    Forever,
}

fn seconds(secs: f64) -> Option<Asked> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    // `try_from_secs_f64` refuses what a Duration cannot hold (1e30, infinity) instead of
    // panicking as `from_secs_f64` does.
    Some(Duration::try_from_secs_f64(secs).map_or(Asked::Forever, Asked::Wait))
}

fn until(when: Timestamp, now: Timestamp) -> Asked {
    let delta = when.duration_since(now);
    if delta.is_negative() {
        return Asked::Wait(Duration::ZERO);
    }
    Duration::try_from(delta).map_or(Asked::Forever, Asked::Wait)
}

/// RFC 9110's HTTP-date: the IMF-fixdate everyone sends, and the two obsolete forms a recipient
/// must still accept (RFC 850 and asctime). Read as a civil time first: jiff's timestamps end a
/// day before the civil calendar does, and `31 Dec 9999` is a favourite "never" that must come
/// out as "absurdly far", not as "no date".
fn http_date(value: &str, now: Timestamp) -> Option<Asked> {
    const FORMS: [&str; 3] = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ];
    let civil = FORMS.iter().find_map(|form| {
        jiff::fmt::strtime::parse(form, value)
            .ok()?
            .to_datetime()
            .ok()
    })?;
    Some(match civil.to_zoned(jiff::tz::TimeZone::UTC) {
        Ok(zoned) => until(zoned.timestamp(), now),
        Err(_) if civil > now.to_zoned(jiff::tz::TimeZone::UTC).datetime() => Asked::Forever,
        Err(_) => Asked::Wait(Duration::ZERO),
    })
}

fn quote(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(QUOTED_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > QUOTED_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn now() -> Timestamp {
        at("2026-03-01T12:00:00Z")
    }

    fn wait(value: &str) -> Option<RetryAfter> {
        parse(value, now())
    }

    fn honest(d: Duration) -> Option<RetryAfter> {
        Some(RetryAfter {
            wait: d,
            absurd: None,
        })
    }

    #[test]
    fn seconds_are_honoured_up_to_the_cap() {
        assert_eq!(wait("12"), honest(Duration::from_secs(12)));
        assert_eq!(wait(" 0 "), honest(Duration::ZERO));
        assert_eq!(wait("1.5"), honest(Duration::from_millis(1500)));
        assert_eq!(wait("300"), honest(MAX_PAUSE));
        let over = wait("301").unwrap();
        assert_eq!(over.wait, MAX_PAUSE);
        assert_eq!(over.absurd.as_deref(), Some("301"));
    }

    #[test]
    fn absurd_numbers_saturate_at_the_cap_and_are_named() {
        for absurd in [
            "1e30",
            "1e400",
            "inf",
            "99999999999999999999",
            "18446744073709551615",
            "18446744073709551616.5",
        ] {
            let got = wait(absurd).unwrap_or_else(|| panic!("{absurd} is a wait"));
            assert_eq!(got.wait, MAX_PAUSE, "{absurd}");
            assert_eq!(got.absurd.as_deref(), Some(absurd), "{absurd}");
        }
        let long = "9".repeat(500);
        let quoted = wait(&long).unwrap().absurd.unwrap();
        assert_eq!(quoted.chars().count(), QUOTED_CHARS + 1, "{quoted}");
    }

    #[test]
    fn garbage_is_no_wait_at_all() {
        for garbage in ["", "soon", "-5", "NaN", "12 seconds", "0x10"] {
            assert_eq!(wait(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn http_dates_in_all_three_forms_count_from_now() {
        let two_min = honest(Duration::from_secs(120));
        assert_eq!(wait("Sun, 01 Mar 2026 12:02:00 GMT"), two_min);
        assert_eq!(wait("Sunday, 01-Mar-26 12:02:00 GMT"), two_min);
        assert_eq!(wait("Sun Mar  1 12:02:00 2026"), two_min);
        // In the past: go now.
        assert_eq!(
            wait("Wed, 21 Oct 2015 07:28:00 GMT"),
            honest(Duration::ZERO)
        );
        let far = wait("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert_eq!(far.wait, MAX_PAUSE);
        assert_eq!(far.absurd.as_deref(), Some("Fri, 31 Dec 9999 23:59:59 GMT"));
        assert_eq!(wait("Sun, 01 Mar 2026 25:61:00 GMT"), None);
    }
}
