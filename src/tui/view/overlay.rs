//! What is drawn over the screen: the help (generated from the key map), the `:` command line,
//! and confirmation dialogs (the cancel dialog shows its frozen target).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::style;
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::{Confirm, Model, Overlay};

pub fn draw(frame: &mut Frame<'_>, model: &Model, keys: &KeyMap) {
    let Some(overlay) = &model.overlay else {
        return;
    };
    match overlay {
        Overlay::Help => help(frame, keys),
        Overlay::CommandLine(text) => {
            let area = frame.area();
            let line = Rect {
                y: area.bottom().saturating_sub(2),
                height: 1,
                ..area
            };
            frame.render_widget(Clear, line);
            frame.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::styled(":", style::warn()),
                    Span::raw(text.clone()),
                    Span::styled("▏", style::warn()),
                    Span::styled("   projects · runs · profile NAME · q", style::dim()),
                ])),
                line,
            );
        }
        Overlay::Confirm(c) => confirm(frame, c, model, keys),
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [h] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    h
}

fn help(frame: &mut Frame<'_>, keys: &KeyMap) {
    let lines: Vec<Line<'_>> = Action::ALL
        .iter()
        .map(|a| {
            Line::from(vec![
                Span::styled(format!(" {:<18}", keys.label(*a)), style::warn()),
                Span::raw(a.describe()),
            ])
        })
        .chain([
            Line::raw(""),
            Line::styled(
                " ctrl-c quits from anywhere · keys are set in [keys] of config.toml",
                style::dim(),
            ),
        ])
        .collect();
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 72, height);
    frame.render_widget(Clear, area);
    let block = Block::new().borders(Borders::ALL).title(format!(
        " keys ({} or {} closes) ",
        keys.label(Action::Help),
        keys.label(Action::Back)
    ));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn confirm(frame: &mut Frame<'_>, c: &Confirm, model: &Model, keys: &KeyMap) {
    let (title, mut lines) = match c {
        Confirm::CancelRun {
            key,
            project,
            started,
            status,
        } => {
            let elapsed = started
                .map(|s| style::duration(style::since(s, model.now)))
                .unwrap_or_else(|| "-".into());
            (
                " Cancel this run? ",
                vec![
                    Line::raw(format!(" project  {project}")),
                    Line::raw(format!(" run      {}", key.run_id)),
                    Line::raw(format!(
                        " started  {}",
                        started
                            .map(|s| style::full_time(s, &model.tz))
                            .unwrap_or_else(|| "-".into())
                    )),
                    Line::raw(format!(
                        " status   {} for {elapsed}",
                        status
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_else(|| "?".into())
                    )),
                    Line::raw(""),
                    Line::styled(
                        " Hex stops the run; hexdash follows it until Hex reports it dead.",
                        style::dim(),
                    ),
                ],
            )
        }
        Confirm::Quit { active } => (
            " Quit? ",
            vec![
                Line::raw(format!(
                    " {active} run(s) launched from this dashboard are still active."
                )),
                Line::styled(
                    " They go on in Hex; the next hexdash (or hexdash watch) follows them again.",
                    style::dim(),
                ),
            ],
        ),
    };
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(format!(" {} ", keys.label(Action::Confirm)), style::error()),
        Span::raw("yes    "),
        Span::styled(
            format!(
                "{} / {} ",
                keys.label(Action::Decline),
                keys.label(Action::Back)
            ),
            style::header(),
        ),
        Span::raw("no (default)"),
    ]));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 76, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(Block::new().borders(Borders::ALL).title(title)),
        area,
    );
}
