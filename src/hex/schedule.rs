//! When a Hex schedule fires next.
//!
//! ListProjects returns each schedule as a cadence with a timing object (HEX_API.md:
//! `hourly|daily|weekly|monthly|custom`, nullable). The fixed cadences are worked out in the
//! schedule's own time zone (UTC when it names none or one this machine does not know); a CUSTOM
//! schedule's cron expression is evaluated with `croner` on the zone's wall clock. Pure: the
//! instant to count from is passed in. The projects list shows it, the emulator fires scheduled
//! runs by it, and discovery probes a project just after it.

use chrono::{DateTime, Datelike, Timelike, Utc};
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use super::types::{Schedule, ScheduleTiming};

/// The timing object a schedule's cadence names, or else the first one it has.
pub fn timing(s: &Schedule) -> Option<&ScheduleTiming> {
    match s.cadence.to_ascii_uppercase().as_str() {
        "HOURLY" => s.hourly.as_ref(),
        "DAILY" => s.daily.as_ref(),
        "WEEKLY" => s.weekly.as_ref(),
        "MONTHLY" => s.monthly.as_ref(),
        _ => s.custom.as_ref(),
    }
    .or_else(|| {
        [&s.hourly, &s.daily, &s.weekly, &s.monthly, &s.custom]
            .into_iter()
            .flatten()
            .next()
    })
}

/// The schedule's time zone, and whether this machine knew the name it gives (`false`: the
/// times are worked out in UTC instead).
pub fn zone(t: &ScheduleTiming) -> (TimeZone, bool) {
    match t.timezone.as_deref() {
        None | Some("UTC" | "Etc/UTC") => (TimeZone::UTC, true),
        Some(name) => TimeZone::get(name).map_or((TimeZone::UTC, false), |tz| (tz, true)),
    }
}

/// The first time strictly after `after` that `s` fires, whether or not it is enabled; `None`
/// for a cadence or cron expression that cannot be worked out (or never fires within four
/// years).
pub fn next_fire(s: &Schedule, after: Timestamp) -> Option<Timestamp> {
    let default = ScheduleTiming::default();
    let t = timing(s).unwrap_or(&default);
    let (tz, _) = zone(t);
    if let Some(cron) = &t.cron {
        return next_cron(cron, &tz, after);
    }
    let here = after.to_zoned(tz.clone());
    let minute = t.minute.unwrap_or(0).min(59);
    let hour = t.hour.unwrap_or(0).min(23);
    match s.cadence.to_ascii_uppercase().as_str() {
        "HOURLY" => next_hourly(&here, minute),
        "DAILY" => next_day(&here, &tz, hour, minute, |_| true),
        "WEEKLY" => {
            let day = t.day_of_week.as_deref().and_then(weekday)?;
            next_day(&here, &tz, hour, minute, |d| d.weekday() == day)
        }
        "MONTHLY" => next_monthly(&here, &tz, t.day.unwrap_or(1), hour, minute),
        _ => None,
    }
}

/// Whether a cron expression can be evaluated, with the parser's reason when not.
pub fn check_cron(expression: &str) -> Result<(), String> {
    croner::Cron::new(expression)
        .parse()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A cron expression's next match after `after`, on `tz`'s wall clock: croner walks local civil
/// time, so it is handed the civil time (labelled UTC), and its answers are placed back in `tz`
/// by jiff's "compatible" rule: a time the clock skips fires as far past the change as it was
/// into the gap (02:30 becomes 03:30 on a spring-forward night), and in a repeated hour a time
/// fires once, in the hour's first pass.
fn next_cron(expression: &str, tz: &TimeZone, after: Timestamp) -> Option<Timestamp> {
    let cron = croner::Cron::new(expression).parse().ok()?;
    let start = after.to_zoned(tz.clone()).datetime();
    let mut civil = start;
    // Civil matches inside a repeated hour map back to its first pass, at or before `after`
    // when `after` is in the second: walk on in civil time past them (an hour holds at most
    // 60 matches of a minute-grained expression).
    for _ in 0..MAX_CIVIL_STEPS {
        let next_civil = civil_next(&cron, civil)?;
        // croner searches a few years ahead; past the next leap day nothing more will come.
        if next_civil.year() > start.year() + 4 {
            return None;
        }
        let at = next_civil.to_zoned(tz.clone()).ok()?.timestamp();
        if at > after {
            return Some(at);
        }
        civil = next_civil;
    }
    None
}

/// See [`next_cron`].
const MAX_CIVIL_STEPS: usize = 64;

/// The first civil time strictly after `civil` that `cron` matches.
fn civil_next(cron: &croner::Cron, civil: jiff::civil::DateTime) -> Option<jiff::civil::DateTime> {
    let naive = chrono::NaiveDate::from_ymd_opt(
        i32::from(civil.year()),
        u32::try_from(civil.month()).ok()?,
        u32::try_from(civil.day()).ok()?,
    )?
    .and_hms_opt(
        u32::try_from(civil.hour()).ok()?,
        u32::try_from(civil.minute()).ok()?,
        u32::try_from(civil.second()).ok()?,
    )?;
    let from: DateTime<Utc> = DateTime::from_naive_utc_and_offset(naive, Utc);
    let found = cron.find_next_occurrence(&from, false).ok()?.naive_utc();
    jiff::civil::DateTime::new(
        i16::try_from(found.year()).ok()?,
        i8::try_from(found.month()).ok()?,
        i8::try_from(found.day()).ok()?,
        i8::try_from(found.hour()).ok()?,
        i8::try_from(found.minute()).ok()?,
        i8::try_from(found.second()).ok()?,
        0,
    )
    .ok()
}

fn next_hourly(here: &Zoned, minute: u8) -> Option<Timestamp> {
    let at = here
        .with()
        .minute(i8::try_from(minute).ok()?)
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .ok()?;
    let at = if at.timestamp() <= here.timestamp() {
        at.checked_add(1.hour()).ok()?
    } else {
        at
    };
    Some(at.timestamp())
}

/// The first day from today (within eight days) that `fits`, at `hour:minute`, still ahead.
fn next_day(
    here: &Zoned,
    tz: &TimeZone,
    hour: u8,
    minute: u8,
    fits: impl Fn(Date) -> bool,
) -> Option<Timestamp> {
    let mut day = here.date();
    for _ in 0..9 {
        if fits(day) {
            let at = at_time(day, tz, hour, minute)?;
            if at > here.timestamp() {
                return Some(at);
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

fn next_monthly(here: &Zoned, tz: &TimeZone, day: u8, hour: u8, minute: u8) -> Option<Timestamp> {
    let mut month = here.date().first_of_month();
    // Months without that day (the 31st) are skipped, as a calendar would.
    for _ in 0..13 {
        if let Ok(date) = Date::new(month.year(), month.month(), i8::try_from(day).ok()?)
            && let Some(at) = at_time(date, tz, hour, minute)
            && at > here.timestamp()
        {
            return Some(at);
        }
        month = month.checked_add(1.month()).ok()?;
    }
    None
}

fn at_time(day: Date, tz: &TimeZone, hour: u8, minute: u8) -> Option<Timestamp> {
    let dt = day.at(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, 0, 0);
    Some(dt.to_zoned(tz.clone()).ok()?.timestamp())
}

/// `MONDAY`, `Mon`, `monday`...
pub fn weekday(text: &str) -> Option<Weekday> {
    let t = text.trim().to_ascii_lowercase();
    Some(match t.get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn schedule(cadence: &str, timing: ScheduleTiming) -> Schedule {
        let mut s = Schedule {
            cadence: cadence.into(),
            enabled: true,
            hourly: None,
            daily: None,
            weekly: None,
            monthly: None,
            custom: None,
        };
        match cadence {
            "HOURLY" => s.hourly = Some(timing),
            "DAILY" => s.daily = Some(timing),
            "WEEKLY" => s.weekly = Some(timing),
            "MONTHLY" => s.monthly = Some(timing),
            _ => s.custom = Some(timing),
        }
        s
    }

    pub(crate) fn cron(expression: &str, timezone: Option<&str>) -> Schedule {
        schedule(
            "CUSTOM",
            ScheduleTiming {
                cron: Some(expression.into()),
                timezone: timezone.map(str::to_string),
                ..ScheduleTiming::default()
            },
        )
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn daily(hour: u8, minute: u8, timezone: &str) -> Schedule {
        schedule(
            "DAILY",
            ScheduleTiming {
                hour: Some(hour),
                minute: Some(minute),
                timezone: Some(timezone.into()),
                ..ScheduleTiming::default()
            },
        )
    }

    #[test]
    fn a_cron_expression_fires_at_its_next_match_strictly_after() {
        let every_two_hours = cron("0 */2 * * *", None);
        assert_eq!(
            next_fire(&every_two_hours, ts("2026-11-28T12:00:00Z")),
            Some(ts("2026-11-28T14:00:00Z")),
            "strictly after: 12:00 itself does not count"
        );
        assert_eq!(
            next_fire(&every_two_hours, ts("2026-11-28T12:59:59Z")),
            Some(ts("2026-11-28T14:00:00Z"))
        );
        let weekdays = cron("30 6 * * MON-FRI", None);
        // 2026-11-28 is a Saturday.
        assert_eq!(
            next_fire(&weekdays, ts("2026-11-28T07:00:00Z")),
            Some(ts("2026-11-30T06:30:00Z"))
        );
        let every_five = cron("*/5 * * * *", None);
        assert_eq!(
            next_fire(&every_five, ts("2026-11-28T12:03:10Z")),
            Some(ts("2026-11-28T12:05:00Z"))
        );
    }

    #[test]
    fn a_cron_expression_follows_its_zones_wall_clock_across_a_clock_change() {
        // 02:00 in Stockholm: 01:00 UTC in winter, 00:00 UTC in summer.
        let s = cron("0 2 * * *", Some("Europe/Stockholm"));
        assert_eq!(
            next_fire(&s, ts("2026-01-10T12:00:00Z")),
            Some(ts("2026-01-11T01:00:00Z"))
        );
        assert_eq!(
            next_fire(&s, ts("2026-07-10T12:00:00Z")),
            Some(ts("2026-07-11T00:00:00Z"))
        );
        // 2026-03-29 02:30 does not exist in Stockholm: it fires at the first instant after.
        let gap = cron("30 2 * * *", Some("Europe/Stockholm"));
        let at = next_fire(&gap, ts("2026-03-28T12:00:00Z")).unwrap();
        assert_eq!(at, ts("2026-03-29T01:30:00Z"));
        // In the autumn's repeated hour (02:00-03:00 twice, 00:00-02:00 UTC), a time in the
        // second pass still has a next fire: the first match after the repeat.
        let every_five = cron("*/5 * * * *", Some("Europe/Stockholm"));
        assert_eq!(
            next_fire(&every_five, ts("2026-10-25T01:00:00Z")),
            Some(ts("2026-10-25T02:00:00Z"))
        );
        // Walking on from before the change: always forward, never stuck, the one gap being
        // the repeated hour's second pass (01:00-02:00 UTC).
        let mut t = ts("2026-10-24T23:50:00Z");
        for _ in 0..60 {
            let next = next_fire(&every_five, t).unwrap();
            let step = next.duration_since(t).as_mins();
            assert!(
                step == 5 || (step == 65 && next == ts("2026-10-25T02:00:00Z")),
                "{next} after {t}"
            );
            t = next;
        }
        // Every fire time moves forward, also through the autumn's repeated hour.
        let hourly = cron("15 * * * *", Some("Europe/Stockholm"));
        let mut t = ts("2026-10-24T20:00:00Z");
        for _ in 0..30 {
            let next = next_fire(&hourly, t).unwrap();
            assert!(next > t, "{next} after {t}");
            t = next;
        }
    }

    #[test]
    fn fixed_cadences_fire_in_their_zone() {
        assert_eq!(
            next_fire(&daily(2, 0, "Europe/Stockholm"), ts("2026-11-28T12:00:00Z")),
            Some(ts("2026-11-29T01:00:00Z"))
        );
        assert_eq!(
            next_fire(&daily(2, 0, "Not/AZone"), ts("2026-11-28T12:00:00Z")),
            Some(ts("2026-11-29T02:00:00Z")),
            "an unknown zone counts as UTC"
        );
    }

    #[test]
    fn what_cannot_be_worked_out_has_no_next_time() {
        for bad in ["", "not cron", "61 * * * *", "* * *"] {
            assert_eq!(
                next_fire(&cron(bad, None), ts("2026-11-28T12:00:00Z")),
                None,
                "{bad:?}"
            );
            assert!(check_cron(bad).is_err(), "{bad:?}");
        }
        assert!(check_cron("0 */2 * * *").is_ok());
        // February 31st never comes.
        assert_eq!(
            next_fire(&cron("0 0 31 2 *", None), ts("2026-11-28T12:00:00Z")),
            None
        );
        let mut weekly = schedule("WEEKLY", ScheduleTiming::default());
        assert_eq!(
            next_fire(&weekly, ts("2026-11-28T12:00:00Z")),
            None,
            "no day"
        );
        weekly.weekly = Some(ScheduleTiming {
            day_of_week: Some("FUNDAY".into()),
            ..ScheduleTiming::default()
        });
        assert_eq!(next_fire(&weekly, ts("2026-11-28T12:00:00Z")), None);
    }
}
