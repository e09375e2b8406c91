//! The yes/no dialogs: cancel a run, relaunch a run, cancel a pipeline run, quit with runs
//! active. Each shows what `y` acts on, frozen when the dialog opened (a pipeline's cancel
//! follows its run), and which key answers what. Drawing only: the answers are `update`'s.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::super::style::{self, ERROR, WARN};
use super::{answer_line, boxed, field, printable, prod_profile};
use crate::config::format_duration;
use crate::engine::{LaunchRequest, RunKey};
use crate::hex::RunStatus;
use crate::hex::params::display_value;
use crate::hex::short_id;
use crate::journal::{LaunchOptions, Origin};
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Confirm, Model};

pub fn confirm(frame: &mut Frame, area: Rect, model: &Model, keys: &KeyMap, c: &Confirm) {
    match c {
        Confirm::CancelRun {
            key,
            project,
            started,
            status,
        } => {
            let lines = cancel_run(model, keys, key, project, *started, status.as_ref());
            boxed(frame, area, lines, 44, "Cancel this run?", ERROR);
        }
        Confirm::Relaunch {
            of,
            project,
            origin,
            request,
        } => {
            let lines = relaunch(model, keys, area, of, project, origin.as_ref(), request);
            let color = if model.status.prod_like {
                WARN
            } else {
                style::ACCENT
            };
            boxed(frame, area, lines, 44, "Relaunch this run?", color);
        }
        Confirm::CancelPipeline { id, name, running } => {
            let lines = cancel_pipeline(model, keys, id, name, *running);
            boxed(frame, area, lines, 44, "Cancel this pipeline run?", ERROR);
        }
        Confirm::Quit { active } => {
            let lines = quit(keys, *active);
            boxed(frame, area, lines, 0, "Quit hexdash?", WARN);
        }
        Confirm::Bulk(plan) => super::super::bulk::preview(frame, area, model, keys, plan),
    }
}

/// The run as it was when the dialog opened: project, run, start, status, elapsed.
fn cancel_run(
    model: &Model,
    keys: &KeyMap,
    key: &RunKey,
    project: &str,
    started: Option<Timestamp>,
    status: Option<&RunStatus>,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(""),
        field("project", Span::styled(project.to_string(), style::bold())),
        field("run", Span::raw(key.short().to_string())),
        field(
            "started",
            match started {
                Some(t) => Span::raw(style::clock(t, model.now, &model.tz)),
                None => Span::styled("-", style::dim()),
            },
        ),
        field(
            "status",
            Span::styled(
                style::status_word(status).into_owned(),
                Style::new()
                    .fg(style::status_color(status))
                    .add_modifier(Modifier::BOLD),
            ),
        ),
        field(
            "elapsed",
            match started {
                Some(t) => Span::raw(style::duration(style::secs_between(t, model.now))),
                None => Span::styled("-", style::dim()),
            },
        ),
    ];
    if model.status.prod_like {
        lines.push(field("profile", prod_profile(model)));
    }
    lines.push(Line::raw(""));
    lines.push(answer_line(keys, "cancel it", "keep it"));
    lines
}

/// What `y` sends: the project, every parameter (as many as fit), the options that are not the
/// defaults, and the profile.
fn relaunch(
    model: &Model,
    keys: &KeyMap,
    area: Rect,
    of: &RunKey,
    project: &str,
    origin: Option<&Origin>,
    request: &LaunchRequest,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::raw(""),
        field("project", Span::styled(printable(project), style::bold())),
        field("repeats", Span::raw(repeats(of, origin))),
    ];
    if matches!(origin, Some(Origin::Pipeline { .. })) {
        lines.push(Line::styled(
            "           a pipeline step's run: this launch is not part of the pipeline",
            style::dim(),
        ));
    }
    // The rest of the dialog: options, profile, a blank, the answer, and the border.
    let fixed = lines.len() + 4 + 2;
    lines.extend(params_lines(request, area, fixed));
    let options = changed_options(&request.options);
    lines.push(field(
        "options",
        if options.is_empty() {
            Span::styled("defaults", style::dim())
        } else {
            Span::raw(options.join(" · "))
        },
    ));
    lines.push(field(
        "profile",
        if model.status.prod_like {
            prod_profile(model)
        } else {
            Span::raw(printable(&model.status.profile))
        },
    ));
    lines.push(Line::raw(""));
    lines.push(answer_line(keys, "launch it again", "do nothing"));
    lines
}

/// A relaunch's parameters, one a line, as many as fit beside the dialog's `fixed` lines (then
/// how many more there are).
fn params_lines(request: &LaunchRequest, area: Rect, fixed: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // Room for a value: the dialog's inner width less the label column.
    let room = usize::from(area.width).saturating_sub(4 + 11);
    let params: Vec<String> = request
        .params
        .iter()
        .map(|(name, value)| {
            let text = format!("{}={}", printable(name), printable(&display_value(value)));
            style::fit(&text, room).into_owned()
        })
        .collect();
    let fits = usize::from(area.height).saturating_sub(fixed).max(1);
    let shown = if params.len() > fits {
        fits.saturating_sub(1).max(1)
    } else {
        params.len()
    };
    if params.is_empty() {
        lines.push(field(
            "params",
            Span::styled("none (the project's defaults)", style::dim()),
        ));
    }
    for (i, text) in params.iter().take(shown).enumerate() {
        let label = if i == 0 { "params" } else { "" };
        lines.push(field(label, Span::raw(text.clone())));
    }
    if shown < params.len() {
        lines.push(field(
            "",
            Span::styled(
                format!(
                    "… and {} more (n, then e shows them all)",
                    params.len() - shown
                ),
                style::dim(),
            ),
        ));
    }
    lines
}

/// The dialog follows the run: what is running now, or that it ended meanwhile (and `y` then
/// does nothing, see `update::pipelines::confirmed_cancel`).
fn cancel_pipeline(
    model: &Model,
    keys: &KeyMap,
    id: &str,
    name: &str,
    running: usize,
) -> Vec<Line<'static>> {
    let live = model.pipelines.run(id);
    let ended = live.map(|r| r.status).filter(|s| s.is_ended());
    let running = live.map_or(running, crate::tui::update::running_steps);
    let steps = match (ended, running) {
        (Some(_), _) => "none: the run has ended".to_string(),
        (None, 0) => "no step is running now".to_string(),
        (None, 1) => "1 running step is killed".to_string(),
        (None, n) => format!("{n} running steps are killed"),
    };
    let mut lines = vec![
        Line::raw(""),
        field("pipeline", Span::styled(name.to_string(), style::bold())),
        field("run", Span::raw(short_id(id).to_string())),
        field("steps", Span::raw(steps)),
    ];
    match ended {
        Some(status) => lines.push(Line::styled(
            format!(
                "  It ended {} while this was open: nothing to cancel.",
                status.as_str()
            ),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        )),
        None => lines.push(Line::raw(
            "  Nothing more is launched; the run ends CANCELLED.",
        )),
    }
    if model.status.prod_like {
        lines.push(field("profile", prod_profile(model)));
    }
    lines.push(Line::raw(""));
    lines.push(if ended.is_some() {
        Line::styled("  n/esc/enter close this; y does nothing now", style::dim())
    } else {
        answer_line(keys, "cancel it", "keep it")
    });
    lines
}

/// How many of this session's runs are still active, and that quitting leaves them running.
fn quit(keys: &KeyMap, active: usize) -> Vec<Line<'static>> {
    let runs = if active == 1 {
        "1 run launched in this session is".to_string()
    } else {
        format!("{active} runs launched in this session are")
    };
    vec![
        Line::raw(""),
        Line::from(vec![
            Span::raw("  "),
            Span::styled(format!("{runs} still active."), style::bold()),
        ]),
        Line::raw("  They keep running on Hex; the next start re-attaches."),
        Line::raw(""),
        answer_line(keys, "quit", "stay"),
    ]
}

/// `3f2a9c1d, started from the CLI`: the run a relaunch repeats.
fn repeats(of: &RunKey, origin: Option<&Origin>) -> String {
    let by = match origin {
        Some(Origin::Tui) => ", launched from a dashboard",
        Some(Origin::Cli) => ", launched from the command line",
        Some(Origin::Pipeline { .. }) => ", launched by a pipeline step",
        Some(Origin::Hex { trigger, .. }) => match trigger.as_deref() {
            Some("SCHEDULED") => ", started by a Hex schedule",
            Some("APP_REFRESH") => ", started by an app refresh",
            _ => ", started outside hexdash",
        },
        Some(Origin::Other) | None => "",
    };
    format!("{}{by}", of.short())
}

/// The run options a relaunch sends that are not Hex's defaults, in words.
fn changed_options(o: &LaunchOptions) -> Vec<String> {
    let mut out = Vec::new();
    if o.use_cached_sql_results == Some(false) {
        out.push("no cached SQL results".to_string());
    }
    if o.update_published_results == Some(true) {
        out.push("updates the published results".to_string());
    }
    if let Some(secs) = o.timeout_secs {
        let after = format_duration(std::time::Duration::from_secs(secs));
        out.push(if o.kill_on_timeout {
            format!("timeout {after}, then killed")
        } else {
            format!("timeout {after}, then left running")
        });
    }
    out
}
