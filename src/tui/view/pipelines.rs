//! The Pipelines screen: each definition with its last run's outcome, when and how long, and
//! under the list the recent runs of the selected one (or why its file does not validate).
//!
//! Draws [`PipelinesState`](crate::tui::pipeline_data::PipelinesState) as given; loading, empty
//! and failed states say what happened and where definitions go.

use crate::hex::short_id;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::chrome::{self, Hint};
use super::pipeline_style;
use super::style::{self, ERROR};
use super::table::{self, Column};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Load, Model};
use crate::tui::pipeline_data::{PipelineDef, PipelineRunView};

/// Recent runs listed under the definitions.
const RECENT: usize = 5;

pub fn draw(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap) {
    let defs = match &model.pipelines.defs {
        Load::NotAsked | Load::Loading => {
            let line = Line::styled("reading pipeline definitions…", style::dim());
            chrome::notice(frame, area, vec![line]);
            return;
        }
        Load::Failed {
            error,
            previous: None,
        } => {
            chrome::failed(
                frame,
                area,
                "cannot list pipelines",
                error,
                &[Hint::new(keys, Action::ShowPipelines, "retry")],
            );
            return;
        }
        Load::Failed {
            previous: Some(rows),
            ..
        }
        | Load::Loaded(rows) => rows,
    };
    if defs.is_empty() {
        chrome::notice(
            frame,
            area,
            vec![
                Line::raw("no pipelines yet"),
                Line::styled(
                    "put a definition in pipelines/NAME.toml in the config dir (examples: \
                     assets/pipelines), then press 3",
                    style::dim(),
                ),
            ],
        );
        return;
    }
    let selected = model.pipelines.selected_index().unwrap_or(0);
    let [list, recent] = areas(area, defs.len());
    let height = usize::from(list.height.saturating_sub(1));
    let top = table::window(defs.len(), selected, height);
    let cells: Vec<Vec<Span<'static>>> = defs
        .iter()
        .skip(top)
        .take(height)
        .map(|d| cells(d, model))
        .collect();
    table::render(frame, list, &COLUMNS, &cells, Some(selected - top));
    if let Some(def) = defs.get(selected) {
        draw_recent(frame, recent, model, def);
    }
}

/// The definitions' table and, below it after a blank row, the selected one's recent runs
/// (also what the mouse's hit test lays out).
pub fn areas(area: Rect, defs: usize) -> [Rect; 2] {
    let below = usize::from(area.height / 3).clamp(3, RECENT + 2);
    let list_h = u16::try_from((defs + 1).min(usize::from(area.height))).unwrap_or(0);
    let [list, _, recent] = Layout::vertical([
        Constraint::Max(list_h.max(2)),
        Constraint::Length(1),
        Constraint::Max(u16::try_from(below).unwrap_or(3)),
    ])
    .areas(area);
    [list, recent]
}

const COLUMNS: [Column; 7] = [
    Column::flex("PIPELINE", 12),
    Column::fixed("STEPS", 5).right(),
    Column::fixed("LAST RUN", 9),
    Column::fixed("WHEN", 8),
    Column::fixed("DURATION", 7).right(),
    Column::fixed("DESCRIPTION", 2).max(60),
    Column::fixed("FILE", 1).max(40),
];

fn cells(def: &PipelineDef, model: &Model) -> Vec<Span<'static>> {
    let none = || Span::styled("-", style::dim());
    let newest = model.pipelines.runs_of(&def.name).next();
    let (last, when, took) = match (newest, &def.problem) {
        (Some(run), _) => {
            let (text, st) = pipeline_style::pipeline(run.status, model.frame);
            let ago = style::age(style::secs_between(run.started_at, model.now));
            let took = style::duration(run.duration_secs(model.now));
            (
                Span::styled(text, st),
                Span::raw(format!("{ago} ago")),
                Span::raw(took),
            )
        }
        (None, Some(_)) => (
            Span::styled("✗ invalid", Style::new().fg(ERROR)),
            none(),
            none(),
        ),
        (None, None) if model.pipelines.runs.is_none() => {
            (Span::styled("reading…", style::dim()), none(), none())
        }
        (None, None) => (Span::styled("never run", style::dim()), none(), none()),
    };
    let steps = if def.problem.is_some() && def.steps == 0 {
        none()
    } else {
        Span::raw(def.steps.to_string())
    };
    let file = def
        .file
        .as_ref()
        .and_then(|f| f.file_name())
        .map_or_else(none, |f| {
            Span::styled(f.to_string_lossy().into_owned(), style::dim())
        });
    vec![
        Span::styled(def.name.clone(), style::bold()),
        steps,
        last,
        when,
        took,
        Span::raw(def.description.clone().unwrap_or_default()),
        file,
    ]
}

/// The selected pipeline's problem, or its recent runs.
fn draw_recent(frame: &mut Frame, area: Rect, model: &Model, def: &PipelineDef) {
    let width = usize::from(area.width);
    let mut lines = Vec::new();
    if let Some(problem) = &def.problem {
        lines.push(Line::styled(
            format!(" ✗ {} cannot be launched", def.name),
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
        ));
        lines.push(Line::raw(format!(" {problem}")));
        lines.push(Line::styled(
            " fix the file, then press 3 to read it again",
            style::dim(),
        ));
        let wrapped = Paragraph::new(lines).wrap(Wrap { trim: false });
        frame.render_widget(wrapped, area);
        return;
    }
    let runs: Vec<&PipelineRunView> = model.pipelines.runs_of(&def.name).take(RECENT).collect();
    lines.push(Line::styled(
        format!(" Recent runs of {}", def.name),
        style::heading(),
    ));
    if runs.is_empty() {
        lines.push(Line::styled("   none from this profile yet", style::dim()));
    }
    for run in runs {
        let (status, st) = pipeline_style::pipeline(run.status, model.frame);
        let (done, total) = run.progress();
        let params: Vec<String> = run
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::hex::params::display_value(v)))
            .collect();
        let text = format!(
            "  {:<12} {:<11} {:>9}  steps {done}/{total}  {}",
            style::clock(run.started_at, model.now, &model.tz),
            style::duration(run.duration_secs(model.now)),
            short_id(&run.id),
            params.join(" ")
        );
        lines.push(Line::from(vec![
            Span::raw(" "),
            Span::styled(format!("{status:<12}"), st),
            Span::raw(style::fit(&text, width.saturating_sub(14)).into_owned()),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// `2 pipelines · 1 running`
pub fn summary(model: &Model) -> String {
    let defs = model.pipelines.rows().len();
    let running = model
        .pipelines
        .runs
        .iter()
        .flatten()
        .filter(|r| !r.status.is_ended())
        .count();
    match running {
        0 => style::plural(defs, "pipeline"),
        n => format!("{} · {n} running", style::plural(defs, "pipeline")),
    }
}

pub fn hints(model: &Model, keys: &KeyMap) -> Vec<Hint> {
    let mut list = Vec::new();
    // Keys that act on a pipeline only while one is under the cursor.
    if model.pipelines.selected().is_some() {
        list.push(Hint::new(keys, Action::Open, "newest run"));
    }
    if !model.status.read_only && model.pipelines.selected().is_some() {
        list.extend([
            Hint::new(keys, Action::Launch, "launch"),
            Hint::new(keys, Action::CancelRun, "cancel"),
            Hint::new(keys, Action::ResumePipeline, "resume"),
        ]);
    }
    list.extend([
        Hint::new(keys, Action::ShowPipelines, "reread"),
        Hint::new(keys, Action::CommandLine, "command"),
        Hint::new(keys, Action::Quit, "quit"),
    ]);
    list
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{base, render};
    use crate::tui::model::{Load, Model, Screen};
    use crate::tui::pipeline_fixtures;

    pub fn list_model() -> Model {
        let mut m = base();
        m.pipelines = pipeline_fixtures::state();
        m.screen = Screen::Pipelines;
        m
    }

    #[test]
    fn definitions_with_their_last_outcome_and_recent_runs() {
        insta::assert_snapshot!(render(&list_model(), 120, 20).backend());
    }

    #[test]
    fn an_invalid_definition_shows_its_error() {
        let mut m = list_model();
        m.pipelines.cursor = crate::tui::cursor::Cursor::at(2);
        let t = render(&m, 100, 16);
        let text = format!("{}", t.backend());
        assert!(text.contains("✗ invalid"), "{text}");
        assert!(text.contains("broken.toml:9:14"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn empty_and_loading_say_what_to_do() {
        let mut m = list_model();
        m.pipelines.defs = Load::Loaded(Vec::new());
        let text = format!("{}", render(&m, 100, 12).backend());
        assert!(text.contains("pipelines/NAME.toml"), "{text}");
        m.pipelines.defs = Load::Loading;
        let text = format!("{}", render(&m, 100, 12).backend());
        assert!(text.contains("reading pipeline definitions"), "{text}");
        m.pipelines.defs = Load::Failed {
            error: "cannot read /cfg/pipelines: permission denied".into(),
            previous: None,
        };
        let text = format!("{}", render(&m, 100, 12).backend());
        assert!(text.contains("✗ cannot list pipelines"), "{text}");
        assert!(
            text.contains("permission denied") && text.contains("3 retry"),
            "{text}"
        );
    }
}
