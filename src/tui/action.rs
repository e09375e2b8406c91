//! What a key can mean: the actions a person can bind in `[keys]`, named in snake_case exactly as
//! the config writes them. The key map turns key presses into these; `update` turns them into
//! model changes and effects. The help overlay lists them with their descriptions.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    MoveUp,
    MoveDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    ShowProjects,
    ShowRuns,
    ShowPipelines,
    Launch,
    RerunWithEdits,
    NextField,
    PrevField,
    SubmitLaunch,
    CancelRun,
    Confirm,
    Decline,
    OpenUrl,
    Copy,
    Filter,
    Sort,
    SortReverse,
    Mark,
    MarkRange,
    MarkAll,
    CommandLine,
    Help,
    Quit,
    Pin,
    Presets,
    ResumePipeline,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Action::MoveUp,
        Action::MoveDown,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::Back,
        Action::ShowProjects,
        Action::ShowRuns,
        Action::ShowPipelines,
        Action::Launch,
        Action::RerunWithEdits,
        Action::NextField,
        Action::PrevField,
        Action::SubmitLaunch,
        Action::CancelRun,
        Action::Confirm,
        Action::Decline,
        Action::OpenUrl,
        Action::Copy,
        Action::Filter,
        Action::Sort,
        Action::SortReverse,
        Action::Mark,
        Action::MarkRange,
        Action::MarkAll,
        Action::CommandLine,
        Action::Help,
        Action::Quit,
        Action::Pin,
        Action::Presets,
        Action::ResumePipeline,
    ];

    /// The name used in `[keys]`.
    pub fn name(self) -> &'static str {
        match self {
            Action::MoveUp => "move_up",
            Action::MoveDown => "move_down",
            Action::PageUp => "page_up",
            Action::PageDown => "page_down",
            Action::Top => "top",
            Action::Bottom => "bottom",
            Action::Open => "open",
            Action::Back => "back",
            Action::ShowProjects => "show_projects",
            Action::ShowRuns => "show_runs",
            Action::ShowPipelines => "show_pipelines",
            Action::Launch => "launch",
            Action::RerunWithEdits => "rerun_with_edits",
            Action::NextField => "next_field",
            Action::PrevField => "prev_field",
            Action::SubmitLaunch => "submit_launch",
            Action::CancelRun => "cancel_run",
            Action::Confirm => "confirm",
            Action::Decline => "decline",
            Action::OpenUrl => "open_url",
            Action::Copy => "copy",
            Action::Filter => "filter",
            Action::Sort => "sort",
            Action::SortReverse => "sort_reverse",
            Action::Mark => "mark",
            Action::MarkRange => "mark_range",
            Action::MarkAll => "mark_all",
            Action::CommandLine => "command_line",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::Pin => "pin",
            Action::Presets => "presets",
            Action::ResumePipeline => "resume_pipeline",
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::MoveUp => "move up",
            Action::MoveDown => "move down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first row",
            Action::Bottom => "last row",
            Action::Open => "open the selected item",
            Action::Back => "go back / close",
            Action::ShowProjects => "projects screen",
            Action::ShowRuns => "runs screen",
            Action::ShowPipelines => "pipelines screen",
            Action::Launch => "launch the project or pipeline / rerun the run (asks)",
            Action::RerunWithEdits => "rerun with edited parameters",
            Action::NextField => "next form field",
            Action::PrevField => "previous form field",
            Action::SubmitLaunch => "launch from the form",
            Action::CancelRun => "cancel the selected run or pipeline run",
            Action::Confirm => "answer yes",
            Action::Decline => "answer no (as does enter)",
            Action::OpenUrl => "open the run in a browser",
            Action::Copy => "copy URL / id / command line",
            Action::Filter => "filter as you type",
            Action::Sort => "sort by the next column",
            Action::SortReverse => "reverse the sort",
            Action::Mark => "mark a run (bulk x/r/p)",
            Action::MarkRange => "mark up to the last mark",
            Action::MarkAll => "mark all shown / none",
            Action::CommandLine => "command line (:projects, :runs, :pipelines, :q)",
            Action::Help => "this help",
            Action::Quit => "quit",
            Action::Pin => "pin a run (bell at its end) or a project (on top)",
            Action::Presets => "form: named presets (:preset [save|delete] NAME)",
            Action::ResumePipeline => "resume a failed pipeline run from its failed steps",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.name()));
        }
    }
}
