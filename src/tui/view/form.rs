//! The launch form: one line per parameter, typed, with its error under it; then the run
//! options; the form's own error and a hint of its keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::style;
use crate::hex::params::ParamKind;
use crate::tui::action::Action;
use crate::tui::form::{Field, Form, Slot};
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;

pub fn draw(frame: &mut Frame<'_>, area: Rect, model: &Model, keys: &KeyMap) {
    let Some(form) = &model.form else {
        return;
    };
    let [body, hint] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(super::hints(
            keys,
            &[
                (Action::NextField, "next"),
                (Action::PrevField, "previous"),
                (Action::SubmitLaunch, "launch"),
                (Action::Presets, "presets"),
                (Action::Back, "back"),
            ],
        )),
        hint,
    );
    let title = match &form.rerun_of {
        Some(k) => format!(
            " Rerun {} with edits · {} ",
            k.run_id.chars().take(8).collect::<String>(),
            form.project_title.as_deref().unwrap_or(&form.project_id)
        ),
        None => format!(
            " Launch {} ",
            form.project_title.as_deref().unwrap_or(&form.project_id)
        ),
    };
    let mut lines = Vec::new();
    if form.free {
        lines.push(Line::styled(
            " no parameters declared for this project: type name=value rows (declare them in the config to get typed fields)",
            style::dim(),
        ));
    }
    let focused = form.focused();
    for (i, f) in form.fields.iter().enumerate() {
        lines.push(field_line(f, focused == Slot::Param(i), model));
        if let Some(e) = &f.error {
            lines.push(Line::styled(format!("     ✗ {e}"), style::error()));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" run options", style::header()));
    lines.push(toggle(
        "use cached SQL results",
        form.use_cached_sql,
        focused == Slot::UseCachedSql,
    ));
    lines.push(toggle(
        "update published results",
        form.update_published,
        focused == Slot::UpdatePublished,
    ));
    lines.push(text_line(
        "timeout",
        &form.timeout,
        "none (e.g. 30m)",
        focused == Slot::Timeout,
    ));
    if let Some(e) = &form.timeout_error {
        lines.push(Line::styled(format!("     ✗ {e}"), style::error()));
    }
    lines.push(toggle(
        "kill on timeout",
        form.kill_on_timeout,
        focused == Slot::KillOnTimeout,
    ));
    lines.push(toggle(
        "dry run (validate only)",
        form.dry_run,
        focused == Slot::DryRun,
    ));
    lines.push(Line::raw(""));
    if form.submitting {
        lines.push(Line::styled(
            format!(" {} launching…", style::spinner(model.frame)),
            style::warn(),
        ));
    } else if let Some(e) = &form.error {
        lines.push(Line::styled(format!(" ✗ {e}"), style::error()));
    }
    lines.push(Line::styled(field_help(form), style::dim()));
    let names: Vec<&str> = model
        .presets
        .get(&form.project_id)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if !names.is_empty() {
        lines.push(Line::styled(
            format!(
                " presets: {}  ({} :preset NAME loads one)",
                names.join(", "),
                keys.label(Action::Presets)
            ),
            style::dim(),
        ));
    }
    let block = Block::new().borders(Borders::ALL).title(title);
    frame.render_widget(Paragraph::new(lines).block(block), body);
}

fn marker(on: bool) -> Span<'static> {
    if on {
        Span::styled(" ▶ ", style::warn())
    } else {
        Span::raw("   ")
    }
}

fn label(name: &str, on: bool) -> Span<'static> {
    let text = format!("{name:<32}");
    if on {
        Span::styled(text, style::header())
    } else {
        Span::raw(text)
    }
}

fn toggle(name: &str, value: bool, on: bool) -> Line<'static> {
    Line::from(vec![
        marker(on),
        label(name, on),
        Span::raw(if value { "[x]" } else { "[ ]" }),
    ])
}

fn text_line(name: &str, value: &str, placeholder: &str, on: bool) -> Line<'static> {
    let shown = if value.is_empty() {
        Span::styled(placeholder.to_string(), style::dim())
    } else {
        Span::raw(value.to_string())
    };
    let mut spans = vec![marker(on), label(name, on), shown];
    if on {
        spans.push(Span::styled("▏", style::warn()));
    }
    Line::from(spans)
}

fn field_line(f: &Field, on: bool, model: &Model) -> Line<'static> {
    if f.free {
        return text_line("name=value", &f.text, "add a parameter", on);
    }
    let name = format!(
        "{}{} ({})",
        f.spec.name,
        if f.spec.required { "*" } else { "" },
        f.spec.kind
    );
    match f.spec.kind {
        ParamKind::Text | ParamKind::Number => text_line(&name, &f.text, "project default", on),
        ParamKind::Date => {
            let mut line = text_line(&name, &f.text, "YYYY-MM-DD", on);
            if on {
                let today = model.now.to_zoned(model.tz.clone()).date();
                line.spans.push(Span::styled(
                    format!("   t today ({today}) · y yesterday · +/- a day"),
                    style::dim(),
                ));
            }
            line
        }
        ParamKind::Checkbox => toggle(&name, f.checked, on),
        ParamKind::Dropdown => {
            let mut spans = vec![marker(on), label(&name, on)];
            for (i, o) in f.spec.options.iter().enumerate() {
                let text = format!(" {o} ");
                spans.push(if i == f.pointer {
                    Span::styled(text, style::selected())
                } else {
                    Span::styled(text, style::dim())
                });
            }
            Line::from(spans)
        }
        ParamKind::Multiselect => {
            let mut spans = vec![marker(on), label(&name, on)];
            for (i, o) in f.spec.options.iter().enumerate() {
                let mark = if f.chosen.contains(&i) { "[x]" } else { "[ ]" };
                let text = format!(" {mark} {o} ");
                spans.push(if on && i == f.pointer {
                    Span::styled(text, style::selected())
                } else {
                    Span::raw(text)
                });
            }
            Line::from(spans)
        }
    }
}

/// What the keys do in the focused field.
fn field_help(form: &Form) -> String {
    let text = match form.focused() {
        Slot::Param(i) => match form.fields.get(i).map(|f| (f.free, f.spec.kind)) {
            Some((true, _)) => "type name=value; an empty row is ignored",
            Some((_, ParamKind::Checkbox)) => "space toggles",
            Some((_, ParamKind::Dropdown)) => "←/→ or space choose",
            Some((_, ParamKind::Multiselect)) => "←/→ move, space picks",
            Some((_, ParamKind::Date)) => "type a date, or t / y / + / -",
            Some(_) => "type a value; empty means the project's default",
            None => "",
        },
        Slot::Timeout => "e.g. 90s, 30m, 2h; empty means none",
        _ => "space toggles",
    };
    format!(" {text}")
}
