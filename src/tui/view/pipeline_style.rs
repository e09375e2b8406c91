//! How pipeline and step statuses look: one glyph, word and colour each, shared by the list,
//! the graph and the timeline so a step reads the same everywhere.
//!
//! Pure functions of their arguments, like [`super::style`].

use ratatui::style::{Color, Modifier, Style};

use super::style::{ACCENT, DIM, ERROR, OK, WARN, spinner};
use crate::hex::RunStatus;
use crate::pipeline::machine::{PipelineStatus, StepStatus};

/// A pipeline run's status: glyph and word, and its style.
pub fn pipeline(status: PipelineStatus, frame: u64) -> (String, Style) {
    let (glyph, color) = match status {
        PipelineStatus::Pending => ("◌", WARN),
        PipelineStatus::Running => (spinner(frame), ACCENT),
        PipelineStatus::Cancelling => (spinner(frame), Color::Magenta),
        PipelineStatus::Succeeded => ("✓", OK),
        PipelineStatus::Failed => ("✗", ERROR),
        PipelineStatus::Cancelled => ("■", Color::Magenta),
    };
    let mut style = Style::new().fg(color);
    if status == PipelineStatus::Failed {
        style = style.add_modifier(Modifier::BOLD);
    }
    (format!("{glyph} {}", status.as_str()), style)
}

/// A step's glyph, short word and colour.
pub fn step(status: &StepStatus, frame: u64) -> (&'static str, &'static str, Color) {
    match status {
        StepStatus::Waiting => ("◌", "waiting", DIM),
        StepStatus::Launching { .. } => (spinner(frame), "launching", WARN),
        StepStatus::Running { .. } => (spinner(frame), "running", ACCENT),
        StepStatus::RetryWaiting { .. } => ("↻", "retry wait", WARN),
        StepStatus::Succeeded => ("✓", "succeeded", OK),
        StepStatus::Failed => ("✗", "failed", ERROR),
        StepStatus::Skipped => ("⊘", "skipped", DIM),
        StepStatus::Cancelled => ("■", "cancelled", Color::Magenta),
    }
}

/// The colour of one attempt's bar: how its run ended, or running.
pub fn attempt_color(status: Option<&RunStatus>, ended: bool, error: bool) -> Color {
    match status {
        Some(RunStatus::Completed) => OK,
        Some(RunStatus::Errored | RunStatus::UnableToAllocateKernel) => ERROR,
        Some(RunStatus::Killed) => Color::Magenta,
        _ if error => ERROR,
        _ if ended => Color::Gray,
        _ => ACCENT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_reads_without_colour_and_a_failure_stands_out() {
        let (text, style) = pipeline(PipelineStatus::Failed, 0);
        assert_eq!(text, "✗ FAILED");
        assert_eq!(style.fg, Some(ERROR));
        assert!(style.add_modifier.contains(Modifier::BOLD));
        let (first, _) = pipeline(PipelineStatus::Running, 0);
        let (next, _) = pipeline(PipelineStatus::Running, 1);
        assert_ne!(first, next, "a running pipeline spins");
    }
}
