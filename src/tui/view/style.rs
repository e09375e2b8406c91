//! How things look, shared by every screen: status colours, the spinner, and the short forms of
//! times, durations and data ages. Text stays meaningful without colour (status words, "stale").

use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::{Color, Modifier, Style};

use crate::hex::RunStatus;

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

pub fn status_style(status: Option<&RunStatus>) -> Style {
    let color = match status {
        Some(RunStatus::Completed) => Color::Green,
        Some(RunStatus::Running) => Color::Cyan,
        Some(RunStatus::Pending) | None => Color::Yellow,
        Some(RunStatus::Errored | RunStatus::UnableToAllocateKernel) => Color::Red,
        Some(RunStatus::Killed) => Color::Magenta,
        Some(RunStatus::Unknown(_)) => Color::Gray,
    };
    Style::new().fg(color)
}

/// A status word with a spinner in front while active.
pub fn status_text(status: Option<&RunStatus>, frame: u64) -> String {
    match status {
        // The one status too long for a table column; the detail screen shows it in full.
        Some(RunStatus::UnableToAllocateKernel) => "  NO KERNEL".to_string(),
        Some(s) if s.is_terminal() => format!("  {s}"),
        Some(s) => format!("{} {s}", spinner(frame)),
        None => format!("{} LAUNCHED", spinner(frame)),
    }
}

pub fn spinner(frame: u64) -> &'static str {
    let i = usize::try_from(frame % 4).unwrap_or(0);
    SPINNER.get(i).copied().unwrap_or("·")
}

pub fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

pub fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn warn() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red)
}

/// `HH:MM:SS` today, `MM-DD HH:MM` otherwise.
pub fn clock(ts: Timestamp, now: Timestamp, tz: &TimeZone) -> String {
    let z = ts.to_zoned(tz.clone());
    if z.date() == now.to_zoned(tz.clone()).date() {
        z.strftime("%H:%M:%S").to_string()
    } else {
        z.strftime("%m-%d %H:%M").to_string()
    }
}

pub fn full_time(ts: Timestamp, tz: &TimeZone) -> String {
    ts.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// `42s`, `3m05s`, `1h02m`, `2d03h`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Time from `earlier` to `now`, never negative.
pub fn since(earlier: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(earlier)).unwrap_or_default()
}

pub fn millis(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(
            duration(Duration::from_secs(2 * 86_400 + 3 * 3600)),
            "2d03h"
        );
    }
}
