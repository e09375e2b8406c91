//! Dates said relative to today — `today`, `yesterday`, `today-7`, `today+1`, `month start`,
//! `last month start`, `last month end` — for the launch form's date fields and the presets it
//! saves. A preset that holds `yesterday` launches with yesterday's date whenever it is loaded,
//! where a fixed date would go stale. The form keeps a date field relative while it is set with
//! its date keys (`t`, `y`, `+`/`-`, `b`, `e`) and fixed once a date is typed.

use std::fmt;

use jiff::ToSpan;
use jiff::civil::Date;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelDate {
    /// Today plus this many days (`today`, `yesterday`, `today-7`, `today+1`).
    Days(i32),
    /// The first day of this month.
    MonthStart,
    /// The first day of last month.
    LastMonthStart,
    /// The last day of last month.
    LastMonthEnd,
}

/// Further than this many days either way is surely a typo, not a relative date.
const MAX_DAYS: i32 = 3660;

impl RelDate {
    /// Reads the words a preset may hold (case and extra spaces ignored); `None` for anything
    /// else, a fixed date included.
    pub fn parse(text: &str) -> Option<RelDate> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let joined = words.join(" ");
        match joined.as_str() {
            "today" => return Some(RelDate::Days(0)),
            "yesterday" => return Some(RelDate::Days(-1)),
            "tomorrow" => return Some(RelDate::Days(1)),
            "month start" | "this month start" => return Some(RelDate::MonthStart),
            "last month start" => return Some(RelDate::LastMonthStart),
            "last month end" => return Some(RelDate::LastMonthEnd),
            _ => {}
        }
        let compact: String = joined.chars().filter(|c| !c.is_whitespace()).collect();
        let rest = compact.strip_prefix("today")?;
        let (sign, digits) = match rest.split_at_checked(1)? {
            ("-", d) => (-1, d),
            ("+", d) => (1, d),
            _ => return None,
        };
        // Digits only: `today--5` or `today-+5` is a typo, not five days either way.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 5 {
            return None;
        }
        let n: i32 = digits.parse().ok()?;
        (n <= MAX_DAYS).then_some(RelDate::Days(sign * n))
    }

    /// The date it means on `today`.
    pub fn resolve(self, today: Date) -> Date {
        let first = today.first_of_month();
        let shifted = match self {
            RelDate::Days(n) => today.checked_add(i64::from(n).days()),
            RelDate::MonthStart => Ok(first),
            RelDate::LastMonthStart => first
                .checked_sub(1.day())
                .map(|last_end| last_end.first_of_month()),
            RelDate::LastMonthEnd => first.checked_sub(1.day()),
        };
        // Past the calendar's ends (year 9999): the day itself, rather than nothing.
        shifted.unwrap_or(today)
    }

    /// A day later (`+`) or earlier (`-`): still relative when it counts days.
    pub fn shift(self, days: i32) -> Option<RelDate> {
        match self {
            RelDate::Days(n) => {
                let n = n.saturating_add(days);
                (n.abs() <= MAX_DAYS).then_some(RelDate::Days(n))
            }
            _ => None,
        }
    }
}

impl fmt::Display for RelDate {
    /// The words a preset holds, which [`RelDate::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelDate::Days(0) => f.write_str("today"),
            RelDate::Days(-1) => f.write_str("yesterday"),
            RelDate::Days(n) if *n < 0 => write!(f, "today-{}", n.unsigned_abs()),
            RelDate::Days(n) => write!(f, "today+{n}"),
            RelDate::MonthStart => f.write_str("month start"),
            RelDate::LastMonthStart => f.write_str("last month start"),
            RelDate::LastMonthEnd => f.write_str("last month end"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn the_words_a_preset_holds_are_read_and_written_back_alike() {
        for (text, rel) in [
            ("today", RelDate::Days(0)),
            ("yesterday", RelDate::Days(-1)),
            ("today-7", RelDate::Days(-7)),
            ("today+1", RelDate::Days(1)),
            ("month start", RelDate::MonthStart),
            ("last month start", RelDate::LastMonthStart),
            ("last month end", RelDate::LastMonthEnd),
        ] {
            assert_eq!(RelDate::parse(text), Some(rel), "{text}");
            assert_eq!(rel.to_string(), text);
        }
        assert_eq!(RelDate::parse("  Today - 7 "), Some(RelDate::Days(-7)));
        assert_eq!(
            RelDate::parse("Last  Month End"),
            Some(RelDate::LastMonthEnd)
        );
        for not in [
            "2026-12-01",
            "",
            "today-",
            "today*3",
            "todayish",
            "today-99999",
            "week",
        ] {
            assert_eq!(RelDate::parse(not), None, "{not:?}");
        }
    }

    #[test]
    fn each_resolves_against_the_day_it_is_used() {
        let today = d("2026-03-01");
        assert_eq!(RelDate::Days(0).resolve(today), today);
        assert_eq!(RelDate::Days(-1).resolve(today), d("2026-02-28"));
        assert_eq!(RelDate::Days(-7).resolve(today), d("2026-02-22"));
        assert_eq!(
            RelDate::MonthStart.resolve(d("2026-03-17")),
            d("2026-03-01")
        );
        assert_eq!(
            RelDate::LastMonthStart.resolve(d("2026-03-17")),
            d("2026-02-01")
        );
        assert_eq!(
            RelDate::LastMonthEnd.resolve(d("2026-03-17")),
            d("2026-02-28")
        );
        assert_eq!(
            RelDate::LastMonthEnd.resolve(d("2024-03-31")),
            d("2024-02-29")
        );
        assert_eq!(
            RelDate::LastMonthEnd.resolve(d("2026-01-05")),
            d("2025-12-31")
        );
        assert_eq!(RelDate::Days(5).resolve(d("9999-12-31")), d("9999-12-31"));
    }

    #[test]
    fn a_day_more_or_less_stays_relative_only_when_counting_days() {
        assert_eq!(RelDate::Days(-1).shift(-1), Some(RelDate::Days(-2)));
        assert_eq!(RelDate::Days(0).shift(1), Some(RelDate::Days(1)));
        assert_eq!(RelDate::LastMonthEnd.shift(1), None);
    }
}
