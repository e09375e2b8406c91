//! How things look everywhere: the palette, run status words, glyphs and colours, and the
//! compact text forms of durations, ages, clock times and origins.
//!
//! Every screen takes its colours and number formats from here so a status or an age reads the
//! same on the list, the detail and the dialogs. Pure functions of their arguments: no model,
//! no clock of their own (the caller passes `now` and the zone).

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::engine::RunView;
use crate::hex::RunStatus;
use crate::hex::short_id;
use crate::journal::{CancelState, Origin};
pub use crate::time_text::{age, duration, round_duration};

pub const ACCENT: Color = Color::Cyan;
pub const OK: Color = Color::Green;
pub const WARN: Color = Color::Yellow;
pub const ERROR: Color = Color::Red;
pub const DIM: Color = Color::DarkGray;

pub fn dim() -> Style {
    Style::new().fg(DIM)
}

pub fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

/// Column headers and section titles.
pub fn heading() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

/// The row under the cursor.
pub fn selected() -> Style {
    Style::new()
        .bg(Color::Indexed(237))
        .add_modifier(Modifier::BOLD)
}

/// A key in a hint ("x" in "x cancel").
pub fn key() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// The spinner glyph for animation phase `frame`.
pub fn spinner(frame: u64) -> &'static str {
    SPINNER[usize::try_from(frame % SPINNER.len() as u64).unwrap_or(0)]
}

/// A status as Hex spells it, so the screen, `hexdash status` and Hex's own UI agree; `None`
/// is a run whose first status has not come back yet. UNABLE_TO_ALLOCATE_KERNEL is the one
/// word too long for a column; the detail screen shows it in full.
pub fn status_word(status: Option<&RunStatus>) -> Cow<'_, str> {
    Cow::Borrowed(match status {
        None => "LAUNCHED",
        Some(RunStatus::Pending) => "PENDING",
        Some(RunStatus::Running) => "RUNNING",
        Some(RunStatus::Completed) => "COMPLETED",
        Some(RunStatus::Errored) => "ERRORED",
        Some(RunStatus::Killed) => "KILLED",
        Some(RunStatus::UnableToAllocateKernel) => "NO KERNEL",
        Some(RunStatus::Unknown(s)) => return Cow::Owned(s.clone()),
    })
}

pub fn status_color(status: Option<&RunStatus>) -> Color {
    match status {
        None | Some(RunStatus::Pending) => WARN,
        Some(RunStatus::Running) => ACCENT,
        Some(RunStatus::Completed) => OK,
        Some(RunStatus::Errored | RunStatus::UnableToAllocateKernel) => ERROR,
        Some(RunStatus::Killed) => Color::Magenta,
        Some(RunStatus::Unknown(_)) => Color::Gray,
    }
}

/// A spinner while active, a mark once ended, so the state reads without colour.
pub fn status_glyph(status: Option<&RunStatus>, frame: u64) -> &'static str {
    match status {
        Some(RunStatus::Completed) => "✓",
        Some(RunStatus::Errored | RunStatus::UnableToAllocateKernel) => "✗",
        Some(RunStatus::Killed) => "■",
        None | Some(_) => spinner(frame),
    }
}

/// A run's status as the lists show it: a requested cancel replaces the word until Hex reports
/// the end (DESIGN.md, "cancel until dead"). An active run whose data is not live (its poll
/// failed, or it is followed no more) shows `○` instead of the spinner: nothing moves there.
pub fn run_status(view: &RunView, live: bool, frame: u64) -> (String, Style) {
    let status = view.status.as_ref();
    let glyph = if view.is_active() && !live {
        "○"
    } else {
        status_glyph(status, frame)
    };
    if view.is_active() && matches!(view.cancel, CancelState::Requested { .. }) {
        return (
            format!("{glyph} CANCELLING"),
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        );
    }
    let mut style = Style::new().fg(status_color(status));
    if status.is_some_and(|s| matches!(s, RunStatus::Errored | RunStatus::UnableToAllocateKernel)) {
        style = style.add_modifier(Modifier::BOLD);
    }
    (format!("{glyph} {}", status_word(status)), style)
}

/// Seconds between two instants, never negative (clocks of other machines may be ahead).
pub fn secs_between(from: Timestamp, to: Timestamp) -> u64 {
    u64::try_from(to.duration_since(from).as_secs()).unwrap_or(0)
}

/// A run's elapsed time: ticking from its start while active and followed, as of the last
/// answer for an active run no longer followed (it may have ended unseen), Hex's figure once
/// ended.
pub fn elapsed_secs(view: &RunView, followed: bool, now: Timestamp) -> Option<u64> {
    if view.is_active() {
        let until = if followed {
            now
        } else {
            view.observed_at.unwrap_or(now)
        };
        return view.start_time.map(|s| secs_between(s, until));
    }
    match (view.elapsed_ms, view.start_time, view.end_time) {
        (Some(ms), _, _) if ms.is_finite() && ms >= 0.0 => Some((ms / 1000.0).round() as u64),
        (_, Some(s), Some(e)) => Some(secs_between(s, e)),
        _ => None,
    }
}

/// A local clock time: `14:02:33` today, `Tue 14:02` this week, the date before that.
pub fn clock(ts: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    let at = ts.to_zoned(tz.clone());
    let today = now.to_zoned(tz.clone()).date();
    if at.date() == today {
        at.strftime("%H:%M:%S").to_string()
    } else if ts < now && secs_between(ts, now) < 6 * 86400 {
        at.strftime("%a %H:%M").to_string()
    } else {
        at.strftime("%Y-%m-%d").to_string()
    }
}

/// A full local time for the detail screen: `2026-11-28 14:02:33 +01:00`.
pub fn full_time(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

pub fn origin_label(origin: Option<&Origin>) -> &'static str {
    origin.map_or("-", Origin::word)
}

/// Hex's `runTrigger` of a run: what Hex said of a run found in a listing; a run a hexdash
/// process launched went through the API.
pub fn trigger_label(origin: Option<&Origin>) -> String {
    match origin {
        Some(Origin::Hex {
            trigger: Some(t), ..
        }) => t.to_ascii_lowercase(),
        Some(Origin::Tui | Origin::Cli | Origin::Pipeline { .. }) => "api".into(),
        _ => "-".into(),
    }
}

/// A label per id that tells them apart: the first 8 characters when those differ (random
/// UUIDs), otherwise the last 8 after `…` (ids minted in sequence, like the demo's, share their
/// start), otherwise the whole id.
pub fn distinct_ids<'a>(ids: &[&'a str]) -> Vec<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    use std::collections::HashSet;
    let unique = |part: &dyn Fn(&'a str) -> &'a str| {
        let mut seen = HashSet::new();
        ids.iter().all(|id| seen.insert(part(id)))
    };
    let tail = |id: &'a str| id.get(id.len().saturating_sub(8)..).unwrap_or(id);
    if unique(&|id| short_id(id)) {
        ids.iter().map(|id| Cow::Borrowed(short_id(id))).collect()
    } else if unique(&tail) {
        ids.iter()
            .map(|id| {
                if tail(id).len() < id.len() {
                    Cow::Owned(format!("…{}", tail(id)))
                } else {
                    Cow::Borrowed(*id)
                }
            })
            .collect()
    } else {
        ids.iter().map(|id| Cow::Borrowed(*id)).collect()
    }
}

/// `1 run`, `3 runs`, `1,200 runs`: a count with its noun, singular for one.
pub fn plural(n: usize, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", count(n))
}

/// A count with thousands separators: `10,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` cut to `width` columns, with `…` when something was cut.
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if text.width() <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// A line of styled spans cut to `width` columns, ending with `…` when something was cut, so
/// cut text never looks complete (`date=2026` of `date=2026-11-28`).
pub fn fit_line(line: Line<'static>, width: usize) -> Line<'static> {
    if line.width() <= width {
        return line;
    }
    let style = line.style;
    let mut left = width;
    let mut spans = Vec::new();
    for span in line.spans {
        if left == 0 {
            break;
        }
        let w = span.width();
        if w < left {
            left -= w;
            spans.push(span);
        } else {
            // The span where the line ends: cut here, `…` in its own style.
            let cut = fit(&span.content, left).into_owned();
            let cut = if cut.ends_with('…') {
                cut
            } else {
                // It fit exactly but more spans follow.
                let mut shorter = fit(&span.content, left.saturating_sub(1)).into_owned();
                shorter = shorter.trim_end_matches('…').to_string();
                shorter.push('…');
                shorter
            };
            spans.push(Span::styled(cut, span.style));
            left = 0;
        }
    }
    Line::from(spans).style(style)
}

/// Display width in terminal columns.
pub fn width(text: &str) -> usize {
    text.width()
}

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline of the last `max` values, scaled between their minimum and maximum, so a
/// run that took twice as long stands out whatever the project's usual duration.
pub fn sparkline(values: &[u64], max: usize) -> String {
    let tail = &values[values.len().saturating_sub(max)..];
    let (Some(lo), Some(hi)) = (tail.iter().min(), tail.iter().max()) else {
        return String::new();
    };
    let span = hi - lo;
    tail.iter()
        .map(|v| {
            match ((v - lo) * (BARS.len() as u64 - 1)).checked_div(span) {
                // All equal: a flat line in the middle.
                None => BARS[3],
                Some(i) => BARS[usize::try_from(i).unwrap_or(0).min(BARS.len() - 1)],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_shown_by_the_part_that_tells_them_apart() {
        let random = ["3f2a9c1d-aaaa", "b2c3d4e5-bbbb"];
        assert_eq!(distinct_ids(&random), ["3f2a9c1d", "b2c3d4e5"]);
        // The demo's ids share their start: the end tells them apart.
        let minted = [
            "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0001",
            "5b0c7c1e-1d6a-4d3e-9f10-0a1e7e7a0002",
        ];
        assert_eq!(distinct_ids(&minted), ["…7e7a0001", "…7e7a0002"]);
        // Neither tells them apart (same start, same end): the whole ids.
        let odd = ["aaaaaaaa-1-zzzzzzzz", "aaaaaaaa-2-zzzzzzzz"];
        assert_eq!(distinct_ids(&odd), odd);
        // Short ids, and one id alone.
        assert_eq!(distinct_ids(&["p1", "p2"]), ["p1", "p2"]);
        assert_eq!(distinct_ids(&["only-one-id-here"]), ["only-one"]);
    }

    #[test]
    fn clock_times_by_distance() {
        let tz = TimeZone::UTC;
        let now: Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(clock(t("2026-11-28T09:05:07Z"), now, &tz), "09:05:07");
        assert_eq!(clock(t("2026-11-26T09:05:07Z"), now, &tz), "Thu 09:05");
        assert_eq!(clock(t("2026-11-01T09:05:07Z"), now, &tz), "2026-11-01");
    }

    #[test]
    fn a_cut_line_ends_with_an_ellipsis_in_the_span_it_cuts() {
        let line = Line::from(vec![
            Span::raw(" FAILED  steps 3/3  "),
            Span::styled("date=2026-11-28 quarter=Q4", bold()),
        ]);
        let cut = fit_line(line.clone(), 30);
        assert_eq!(cut.width(), 30);
        let text: String = cut.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(text, " FAILED  steps 3/3  date=2026…");
        assert_eq!(
            cut.spans[1].style,
            bold(),
            "the ellipsis keeps the span's style"
        );
        assert_eq!(fit_line(line.clone(), 80), line, "what fits is untouched");
        // Cut exactly at a span's end with more to come: the ellipsis still shows.
        let at_edge = fit_line(line, 20);
        let text: String = at_edge.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.ends_with('…') && at_edge.width() <= 20, "{text:?}");
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(1_000_000), "1,000,000");
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcdef", 1), "…");
        assert_eq!(fit("abcdef", 0), "");
    }

    #[test]
    fn sparkline_scales_between_min_and_max() {
        assert_eq!(sparkline(&[10, 20, 30], 8), "▁▄█");
        assert_eq!(sparkline(&[5, 5], 8), "▄▄");
        assert_eq!(sparkline(&[1, 2, 3, 4], 2), "▁█");
        assert_eq!(sparkline(&[], 8), "");
    }
}
