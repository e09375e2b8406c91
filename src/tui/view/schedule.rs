//! When a project's schedules fire next, for the projects list.
//!
//! Hex returns each schedule as a cadence with a timing object (HEX_API.md, ListProjects:
//! `hourly|daily|weekly|monthly|custom`, nullable). This works out the next time for the fixed
//! cadences in the schedule's own time zone (UTC when it names none or one this machine does
//! not know); a CUSTOM cron is shown as written, never guessed at. Pure: `now` is passed in.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use crate::hex::types::{Schedule, ScheduleTiming};

/// The soonest enabled schedule of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Upcoming {
    /// `None` for a cron schedule, whose next time is not worked out.
    pub at: Option<Timestamp>,
    /// `daily 02:00`, `weekly Mon 06:30 Europe/Stockholm`, `cron 0 */2 * * *`.
    pub label: String,
}

/// The next firing among `schedules`, or `None` when none is enabled.
pub fn next(schedules: &[Schedule], now: Timestamp) -> Option<Upcoming> {
    let mut all: Vec<Upcoming> = schedules
        .iter()
        .filter(|s| s.enabled)
        .map(|s| upcoming(s, now))
        .collect();
    // Known times first, soonest first; cron schedules after them.
    all.sort_by_key(|u| (u.at.is_none(), u.at));
    all.into_iter().next()
}

fn upcoming(s: &Schedule, now: Timestamp) -> Upcoming {
    let cadence = s.cadence.to_ascii_uppercase();
    let timing = match cadence.as_str() {
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
    });
    let default = ScheduleTiming::default();
    let t = timing.unwrap_or(&default);
    if let Some(cron) = &t.cron {
        return Upcoming {
            at: None,
            label: format!("cron {cron}"),
        };
    }
    let (tz, tz_label) = match t.timezone.as_deref() {
        None | Some("UTC" | "Etc/UTC") => (TimeZone::UTC, String::new()),
        Some(name) => match TimeZone::get(name) {
            Ok(tz) => (tz, format!(" {name}")),
            Err(_) => (TimeZone::UTC, format!(" UTC ({name} unknown here)")),
        },
    };
    let here = now.to_zoned(tz.clone());
    let minute = t.minute.unwrap_or(0).min(59);
    let hour = t.hour.unwrap_or(0).min(23);
    let hm = format!("{hour:02}:{minute:02}");
    let (at, label) = match cadence.as_str() {
        "HOURLY" => (next_hourly(&here, minute), format!("hourly :{minute:02}")),
        "DAILY" => (
            next_day(&here, &tz, hour, minute, |_| true),
            format!("daily {hm}"),
        ),
        "WEEKLY" => match t.day_of_week.as_deref().and_then(weekday) {
            Some(day) => (
                next_day(&here, &tz, hour, minute, |d| d.weekday() == day),
                format!("weekly {} {hm}", weekday_label(day)),
            ),
            None => (None, "weekly".to_string()),
        },
        "MONTHLY" => {
            let day = t.day.unwrap_or(1);
            (
                next_monthly(&here, &tz, day, hour, minute),
                format!("monthly day {day} {hm}"),
            )
        }
        _ => (None, s.cadence.to_lowercase()),
    };
    Upcoming {
        at,
        label: format!("{label}{tz_label}"),
    }
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

fn weekday(text: &str) -> Option<Weekday> {
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

fn weekday_label(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "Mon",
        Weekday::Tuesday => "Tue",
        Weekday::Wednesday => "Wed",
        Weekday::Thursday => "Thu",
        Weekday::Friday => "Fri",
        Weekday::Saturday => "Sat",
        Weekday::Sunday => "Sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(cadence: &str, timing: ScheduleTiming) -> Schedule {
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

    fn hm(hour: u8, minute: u8) -> ScheduleTiming {
        ScheduleTiming {
            hour: Some(hour),
            minute: Some(minute),
            ..ScheduleTiming::default()
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    // 2026-11-28 is a Saturday.
    const NOW: &str = "2026-11-28T12:00:00Z";

    #[test]
    fn fixed_cadences_fire_next_at_the_right_time() {
        let now = ts(NOW);
        let at = |s: Schedule| next(&[s], now).unwrap();
        let hourly = ScheduleTiming {
            minute: Some(15),
            ..ScheduleTiming::default()
        };
        assert_eq!(
            at(schedule("HOURLY", hourly)).at,
            Some(ts("2026-11-28T12:15:00Z"))
        );
        let daily = at(schedule("DAILY", hm(2, 0)));
        assert_eq!(daily.at, Some(ts("2026-11-29T02:00:00Z")));
        assert_eq!(daily.label, "daily 02:00");
        let mut weekly = hm(6, 30);
        weekly.day_of_week = Some("MONDAY".into());
        let weekly = at(schedule("WEEKLY", weekly));
        assert_eq!(weekly.at, Some(ts("2026-11-30T06:30:00Z")));
        assert_eq!(weekly.label, "weekly Mon 06:30");
        let mut monthly = hm(0, 0);
        monthly.day = Some(31);
        assert_eq!(
            at(schedule("MONTHLY", monthly)).at,
            Some(ts("2026-12-31T00:00:00Z"))
        );
    }

    #[test]
    fn soonest_wins_cron_is_shown_as_written_and_disabled_ones_do_not_count() {
        let now = ts(NOW);
        let cron = schedule(
            "CUSTOM",
            ScheduleTiming {
                cron: Some("0 */2 * * *".into()),
                ..ScheduleTiming::default()
            },
        );
        let up = next(std::slice::from_ref(&cron), now).unwrap();
        assert_eq!((up.at, up.label.as_str()), (None, "cron 0 */2 * * *"));
        let soon = schedule("DAILY", hm(13, 0));
        assert_eq!(
            next(&[cron, schedule("DAILY", hm(2, 0)), soon], now)
                .unwrap()
                .at,
            Some(ts("2026-11-28T13:00:00Z"))
        );
        let mut off = schedule("DAILY", hm(2, 0));
        off.enabled = false;
        assert_eq!(next(&[off], now), None);
    }
}
