//! When a project's schedules fire next, for the projects list's NEXT and SCHEDULE columns: the
//! soonest one and a label (`daily 02:00 Europe/Stockholm`, `cron 0 */2 * * *`). The times come
//! from [`crate::hex::schedule`]; this only chooses and names. Beside the model (the view only
//! shows what [`ProjectRow::upcoming`] says). Pure: `now` is passed in.

use jiff::Timestamp;
use jiff::civil::Weekday;

use super::model::ProjectRow;
use crate::hex::schedule;
use crate::hex::types::{Schedule, ScheduleTiming};

impl ProjectRow {
    /// The project's next scheduled run after `now`, or `None` when no schedule is enabled.
    pub fn upcoming(&self, now: Timestamp) -> Option<Upcoming> {
        next(&self.project.schedules, now)
    }
}

/// The soonest enabled schedule of a project.
#[derive(Debug, Clone, PartialEq)]
pub struct Upcoming {
    /// `None` when it cannot be worked out (a cron expression that does not parse, a weekly
    /// schedule without a day).
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
    // Known times first, soonest first; those that cannot be worked out after them.
    all.sort_by_key(|u| (u.at.is_none(), u.at));
    all.into_iter().next()
}

fn upcoming(s: &Schedule, now: Timestamp) -> Upcoming {
    let default = ScheduleTiming::default();
    let t = schedule::timing(s).unwrap_or(&default);
    let at = schedule::next_fire(s, now);
    let tz_label = match (t.timezone.as_deref(), schedule::zone(t)) {
        (None | Some("UTC" | "Etc/UTC"), _) => String::new(),
        (Some(name), (_, true)) => format!(" {name}"),
        (Some(name), (_, false)) => format!(" UTC ({name} unknown here)"),
    };
    if let Some(cron) = &t.cron {
        return Upcoming {
            at,
            label: format!("cron {cron}{tz_label}"),
        };
    }
    let minute = t.minute.unwrap_or(0).min(59);
    let hour = t.hour.unwrap_or(0).min(23);
    let hm = format!("{hour:02}:{minute:02}");
    let label = match s.cadence.to_ascii_uppercase().as_str() {
        "HOURLY" => format!("hourly :{minute:02}"),
        "DAILY" => format!("daily {hm}"),
        "WEEKLY" => match t.day_of_week.as_deref().and_then(schedule::weekday) {
            Some(day) => format!("weekly {} {hm}", weekday_label(day)),
            None => "weekly".to_string(),
        },
        "MONTHLY" => format!("monthly day {} {hm}", t.day.unwrap_or(1)),
        _ => s.cadence.to_lowercase(),
    };
    Upcoming {
        at,
        label: format!("{label}{tz_label}"),
    }
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
    use crate::hex::schedule::tests::schedule;

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
    fn soonest_wins_cron_gets_its_time_and_disabled_ones_do_not_count() {
        let now = ts(NOW);
        let cron = schedule(
            "CUSTOM",
            ScheduleTiming {
                cron: Some("0 */2 * * *".into()),
                ..ScheduleTiming::default()
            },
        );
        let up = next(std::slice::from_ref(&cron), now).unwrap();
        assert_eq!(
            (up.at, up.label.as_str()),
            (Some(ts("2026-11-28T14:00:00Z")), "cron 0 */2 * * *")
        );
        let soon = schedule("DAILY", hm(13, 0));
        assert_eq!(
            next(&[cron.clone(), schedule("DAILY", hm(2, 0)), soon], now)
                .unwrap()
                .at,
            Some(ts("2026-11-28T13:00:00Z"))
        );
        let broken = schedule(
            "CUSTOM",
            ScheduleTiming {
                cron: Some("every tuesday".into()),
                ..ScheduleTiming::default()
            },
        );
        let up = next(&[broken, cron], now).unwrap();
        assert_eq!(
            up.at,
            Some(ts("2026-11-28T14:00:00Z")),
            "a known time first"
        );
        let mut off = schedule("DAILY", hm(2, 0));
        off.enabled = false;
        assert_eq!(next(&[off], now), None);
    }
}
