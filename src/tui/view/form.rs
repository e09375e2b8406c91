//! The launch form: one typed field per declared parameter, then the run options.
//!
//! Each row shows the field's name (`*` when required), its value as that kind edits it (text,
//! `‹ option ›`, `[x] option` lists, checkboxes), and on the right either the field's error in
//! red or, for the focused row, the keys that field takes. The form-wide error and "launching…"
//! sit under the fields; the key hints go on the hint line. Long forms scroll to keep the
//! focused row on screen, and a long text scrolls sideways to keep its cursor on screen. The
//! form's editing rules live in `tui::form`; this only draws them.

use crate::hex::short_id;
use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::chrome::{self, Hint};
use super::style::{self, ERROR, WARN};
use super::table;
use crate::hex::params::ParamKind;
use crate::tui::action::Action;
use crate::tui::form::{Field, Form, Slot};
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;
use crate::tui::text_input::TextInput;

/// One row of the form as drawn.
struct Row {
    slot: Slot,
    label: String,
    value: Vec<Span<'static>>,
    /// Where the text cursor goes (columns into the value), for text inputs.
    caret: Option<usize>,
    /// Error, or the keys of the focused row, or what the field is.
    note: Span<'static>,
}

/// The form's lines as laid out: section heads and rows, with where the focus and the text
/// cursor sit among them.
struct Body {
    lines: Vec<Line<'static>>,
    focus_line: usize,
    /// Line index and column of the text cursor, when the focused row is a text input.
    caret: Option<(usize, usize)>,
}

pub fn draw(frame: &mut Frame, area: Rect, model: &Model) {
    let Some(form) = &model.form else {
        chrome::notice(frame, area, vec![Line::raw("no launch form is open")]);
        return;
    };
    frame.render_widget(title(form, model), Rect { height: 1, ..area });
    let body = body(form, area);
    let footer = footer(form, model);
    let footer_h = u16::try_from(footer.len()).unwrap_or(0);
    let fields = Rect {
        y: area.y.saturating_add(2),
        height: area
            .height
            .saturating_sub(2 + footer_h + u16::from(footer_h > 0)),
        ..area
    };
    let height = usize::from(fields.height);
    let top = table::window(body.lines.len(), body.focus_line, height);
    render_lines(
        frame,
        body.lines.into_iter().skip(top).take(height),
        fields.y,
        fields,
    );
    render_lines(frame, footer, area.bottom().saturating_sub(footer_h), area);
    if let Some((line, col)) = body.caret
        && model.overlay.is_none()
        && line >= top
        && line < top + height
    {
        let x = area
            .x
            .saturating_add(u16::try_from(col).unwrap_or(u16::MAX));
        let y = fields.y + u16::try_from(line - top).unwrap_or(0);
        if x < area.right() {
            frame.set_cursor_position(Position::new(x, y));
        }
    }
}

/// What is launched (project or pipeline file), what it reruns, and the presets saved for it.
fn title(form: &Form, model: &Model) -> Line<'static> {
    let name = form
        .project_title
        .clone()
        .unwrap_or_else(|| form.project_id.clone());
    let mut title = match &form.pipeline {
        Some(file) => vec![
            Span::styled(" Launch pipeline ", style::bold()),
            Span::styled(name, style::bold().fg(style::ACCENT)),
            Span::styled(format!("  {}", file.display()), style::dim()),
        ],
        None => vec![
            Span::styled(" Launch ", style::bold()),
            Span::styled(name, style::bold().fg(style::ACCENT)),
            Span::styled(
                format!("  project {}", short_id(&form.project_id)),
                style::dim(),
            ),
        ],
    };
    if let Some(k) = &form.rerun_of {
        title.push(Span::styled(
            format!("  rerun of {}", k.short()),
            style::dim(),
        ));
    }
    let presets: Vec<&str> = model
        .presets
        .get(&form.project_id)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if !presets.is_empty() {
        title.push(Span::styled(
            format!("  presets: {}", presets.join(", ")),
            style::dim(),
        ));
    }
    Line::from(title)
}

/// The parameters section, then the run options, in columns that line up down the form.
fn body(form: &Form, area: Rect) -> Body {
    let focused = form.focused();
    let rows = |room: usize| {
        let params: Vec<Row> = form
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| param_row(i, f, focused == Slot::Param(i), form.free, room))
            .collect();
        // A pipeline's steps carry their own run options, in the file.
        let options = if form.pipeline.is_some() {
            Vec::new()
        } else {
            option_rows(form, focused, room)
        };
        (params, options)
    };
    // The labels do not depend on the room a text has, so a first pass measures them; the
    // focused text then has the rest of the line.
    let (params, options) = rows(usize::MAX);
    let label_w = params
        .iter()
        .chain(&options)
        .map(|r| style::width(&r.label))
        .max()
        .unwrap_or(0);
    let (params, options) = rows(usize::from(area.width).saturating_sub(3 + label_w + 2));
    // Lines: section heads and rows; remember which line holds the focus.
    let mut body = Body {
        lines: Vec::new(),
        focus_line: 0,
        caret: None,
    };
    let params_title = if form.free {
        " Parameters (none declared in the config: type name=value)"
    } else {
        " Parameters"
    };
    body.lines
        .push(Line::styled(params_title, style::heading()));
    if params.is_empty() {
        let what = if form.pipeline.is_some() {
            "   this pipeline takes no parameters"
        } else {
            "   this project takes no parameters"
        };
        body.lines.push(Line::styled(what, style::dim()));
    }
    // One set of widths for both sections, so values and notes line up down the form.
    let all = || params.iter().chain(&options);
    let value_w = all()
        .map(|r| r.value.iter().map(Span::width).sum::<usize>())
        .max()
        .unwrap_or(0)
        .clamp(12, 48);
    let width = usize::from(area.width);
    for (rows, head) in [(&params, None), (&options, Some(" Run options"))] {
        if let Some(h) = head.filter(|_| !rows.is_empty()) {
            body.lines.push(Line::styled(h, style::heading()));
        }
        for r in rows {
            let on = r.slot == focused;
            if on {
                body.focus_line = body.lines.len();
                body.caret = r.caret.map(|c| (body.lines.len(), 3 + label_w + 2 + c));
            }
            body.lines.push(row_line(r, on, label_w, value_w, width));
        }
    }
    body
}

/// The form-wide error and "launching…", under the fields.
fn footer(form: &Form, model: &Model) -> Vec<Line<'static>> {
    let mut footer: Vec<Line<'static>> = Vec::new();
    if let Some(e) = &form.error {
        footer.push(Line::styled(
            format!(" ✗ {e}"),
            Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
        ));
    }
    if form.submitting {
        footer.push(Line::styled(
            format!(" {} launching…", style::spinner(model.frame)),
            Style::new().fg(WARN).add_modifier(Modifier::BOLD),
        ));
    }
    footer
}

/// One line a row, from row `y` down, as wide as `within`.
fn render_lines(
    frame: &mut Frame,
    lines: impl IntoIterator<Item = Line<'static>>,
    y: u16,
    within: Rect,
) {
    for (i, line) in lines.into_iter().enumerate() {
        let y = y + u16::try_from(i).unwrap_or(0);
        frame.render_widget(
            line,
            Rect {
                y,
                height: 1,
                ..within
            },
        );
    }
}

fn row_line(r: &Row, on: bool, label_w: usize, value_w: usize, width: usize) -> Line<'static> {
    let mut spans = vec![
        Span::styled(if on { " › " } else { "   " }, style::key()),
        Span::styled(
            format!("{:<label_w$}  ", r.label),
            if on { style::bold() } else { Style::new() },
        ),
    ];
    let used: usize = r.value.iter().map(Span::width).sum();
    spans.extend(r.value.iter().cloned());
    spans.push(Span::raw(" ".repeat(value_w.saturating_sub(used) + 2)));
    let room = width.saturating_sub(3 + label_w + 2 + value_w.max(used) + 2);
    spans.push(Span::styled(
        style::fit(&r.note.content, room).into_owned(),
        r.note.style,
    ));
    let line = Line::from(spans);
    if on {
        line.style(style::selected())
    } else {
        line
    }
}

/// A text input: what is typed, or a dim placeholder when empty; and the cursor's column in
/// it. The focused row's text shows the `room` columns around its cursor; the others show
/// their start.
fn text_value(
    input: &TextInput,
    on: bool,
    room: usize,
    placeholder: &str,
    required: bool,
) -> (Vec<Span<'static>>, usize) {
    if input.is_empty() {
        let st = if required {
            Style::new().fg(WARN)
        } else {
            style::dim()
        };
        return (vec![Span::styled(placeholder.to_string(), st)], 0);
    }
    let shown = input.shown(on, room);
    (
        vec![Span::styled(
            shown.text.to_string(),
            Style::new().add_modifier(Modifier::UNDERLINED),
        )],
        shown.cursor,
    )
}

fn check(on: bool) -> Span<'static> {
    Span::raw(if on { "[x]" } else { "[ ]" })
}

fn error_note(e: &str) -> Span<'static> {
    Span::styled(
        format!("✗ {e}"),
        Style::new().fg(ERROR).add_modifier(Modifier::BOLD),
    )
}

/// Row `i`: `room` is the columns its text may take when focused.
fn param_row(i: usize, f: &Field, on: bool, free: bool, room: usize) -> Row {
    let spec = &f.spec;
    if free {
        return free_row(i, f, on, room);
    }
    let label = if spec.required {
        format!("{} *", spec.name)
    } else {
        spec.name.clone()
    };
    let mut caret = None;
    let mut multiselect_hint: Option<String> = None;
    let (value, keys_hint): (Vec<Span<'static>>, &str) = match spec.kind {
        ParamKind::Text | ParamKind::Number | ParamKind::Date => {
            let (value, at, hint) = typed_text(f, on, room);
            caret = Some(at);
            (value, hint)
        }
        ParamKind::Checkbox => (vec![check(f.checked)], "space toggles"),
        ParamKind::Dropdown => match spec.options.get(f.pointer) {
            Some(o) => (
                vec![
                    Span::styled("‹ ", style::dim()),
                    Span::styled(o.clone(), style::bold()),
                    Span::styled(
                        format!(" ›  {}/{}", f.pointer + 1, spec.options.len()),
                        style::dim(),
                    ),
                ],
                "←/→ choose",
            ),
            None => (
                vec![Span::styled(
                    "(no options declared)",
                    Style::new().fg(ERROR),
                )],
                "",
            ),
        },
        ParamKind::Multiselect => {
            let (spans, hint) = multiselect(f, on);
            multiselect_hint = hint;
            (spans, "←/→ move · space toggles")
        }
    };
    let note = match (&f.error, on) {
        (Some(e), _) => error_note(e),
        (None, true) => Span::styled(
            multiselect_hint.unwrap_or_else(|| keys_hint.to_string()),
            style::dim(),
        ),
        (None, false) => Span::styled(
            spec.description
                .clone()
                .unwrap_or_else(|| spec.kind.as_str().to_string()),
            style::dim(),
        ),
    };
    Row {
        slot: Slot::Param(i),
        label,
        value,
        caret,
        note,
    }
}

/// A row of a form whose config declares no parameters: `name=value` typed freely.
fn free_row(i: usize, f: &Field, on: bool, room: usize) -> Row {
    let last_empty = f.text.is_empty();
    let (value, caret) = text_value(&f.text, on, room, "", false);
    Row {
        slot: Slot::Param(i),
        label: if last_empty {
            "+ add".into()
        } else {
            format!("param {}", i + 1)
        },
        value,
        caret: Some(caret),
        note: match &f.error {
            Some(e) => error_note(e),
            None if on && last_empty => {
                Span::styled("type name=value to add a parameter", style::dim())
            }
            None if on => Span::styled("name=value, e.g. region=eu", style::dim()),
            None => Span::raw(""),
        },
    }
}

/// A text, number or date field: its value, the cursor's column in it, and the keys it takes.
fn typed_text(f: &Field, on: bool, room: usize) -> (Vec<Span<'static>>, usize, &'static str) {
    let spec = &f.spec;
    let placeholder = match (spec.kind, spec.required) {
        (ParamKind::Date, _) => "YYYY-MM-DD",
        (_, true) => "(required)",
        (_, false) => "(project default)",
    };
    let hint = match spec.kind {
        ParamKind::Date => "t today · y yesterday · +/- a day · b month start · e last month end",
        ParamKind::Number => "a number",
        _ => "text",
    };
    let (mut value, at) = text_value(&f.text, on, room, placeholder, spec.required);
    // Kept relative: a preset saved now holds these words, not the date.
    if let Some(rel) = f.relative {
        value.push(Span::styled(format!("  ({rel})"), style::dim()));
    }
    (value, at, hint)
}

/// A multiselect's `[x] option` list, the pointed-at option reversed when focused; and the
/// focused row's note, naming that option.
fn multiselect(f: &Field, on: bool) -> (Vec<Span<'static>>, Option<String>) {
    let spec = &f.spec;
    let mut spans = Vec::new();
    for (j, o) in spec.options.iter().enumerate() {
        if j > 0 {
            spans.push(Span::raw("  "));
        }
        let st = if on && j == f.pointer {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        spans.push(check(f.chosen.contains(&j)).patch_style(st));
        spans.push(Span::styled(format!(" {o}"), st));
    }
    let hint = spec
        .options
        .get(f.pointer)
        .map(|o| format!("at {o} · ←/→ move · space toggles"));
    (spans, hint)
}

fn option_rows(form: &Form, focused: Slot, room: usize) -> Vec<Row> {
    let toggle = |slot: Slot, label: &str, on: bool, about: &str| Row {
        slot,
        label: label.into(),
        value: vec![check(on)],
        caret: None,
        note: Span::styled(
            if focused == slot {
                format!("space toggles · {about}")
            } else {
                about.to_string()
            },
            style::dim(),
        ),
    };
    let (timeout, timeout_caret) =
        text_value(&form.timeout, focused == Slot::Timeout, room, "none", false);
    vec![
        toggle(
            Slot::UseCachedSql,
            "use cached SQL",
            form.use_cached_sql,
            "off re-runs every SQL cell",
        ),
        toggle(
            Slot::UpdatePublished,
            "update published",
            form.update_published,
            "the published app shows this run",
        ),
        Row {
            slot: Slot::Timeout,
            label: "timeout".into(),
            value: timeout,
            caret: Some(timeout_caret),
            note: match &form.timeout_error {
                Some(e) => error_note(e),
                None => Span::styled("e.g. 90s, 30m, 2h; empty for none", style::dim()),
            },
        },
        toggle(
            Slot::KillOnTimeout,
            "kill on timeout",
            form.kill_on_timeout,
            "cancel the run when the timeout passes",
        ),
        toggle(
            Slot::DryRun,
            "dry run",
            form.dry_run,
            "Hex checks the parameters; nothing runs",
        ),
    ]
}

pub fn hints(_model: &Model, keys: &KeyMap) -> Vec<Hint> {
    vec![
        Hint {
            keys: format!(
                "{}/{}",
                keys.label(Action::NextField),
                keys.label(Action::PrevField)
            ),
            what: "move".into(),
        },
        Hint::raw("space", "toggles"),
        Hint::new(keys, Action::SubmitLaunch, "launch"),
        Hint::new(keys, Action::Presets, "presets"),
        Hint::new(keys, Action::Back, "back"),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{form_model, render};
    use crate::journal::Origin;
    use crate::tui::form::Form;

    #[test]
    fn prefilled_from_the_last_launch() {
        insta::assert_snapshot!(render(&form_model(), 120, 22).backend());
    }

    #[test]
    fn a_relative_date_says_what_it_means() {
        let mut m = form_model();
        let today = m.now.to_zoned(m.tz.clone()).date();
        if let Some(f) = m.form.as_mut() {
            f.set_relative(
                "run_date",
                crate::tui::relative_date::RelDate::Days(-1),
                today,
            );
        }
        let t = render(&m, 120, 22);
        let text = t.backend().to_string();
        assert!(text.contains("(yesterday)"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn narrow() {
        let mut m = form_model();
        if let Some(f) = m.form.as_mut() {
            f.focus = 3; // the multiselect
        }
        insta::assert_snapshot!(render(&m, 80, 24).backend());
    }

    #[test]
    fn invalid_values_are_marked_at_their_fields() {
        let mut m = form_model();
        if let Some(f) = m.form.as_mut() {
            f.fields[0].text.clear();
            f.fields[1].text.set("ten");
            f.timeout.set("soon");
            f.kill_on_timeout = true;
            assert!(f.validate(Origin::Tui).is_none());
            f.focus = 1;
        }
        insta::assert_snapshot!(render(&m, 120, 22).backend());
    }

    #[test]
    fn launching() {
        let mut m = form_model();
        if let Some(f) = m.form.as_mut() {
            f.submitting = true;
            f.focus = 7; // run options: update published
        }
        insta::assert_snapshot!(render(&m, 120, 22).backend());
    }

    #[test]
    fn undeclared_parameters_are_free_rows() {
        let mut m = form_model();
        let last = indexmap::IndexMap::from([
            ("region".to_string(), serde_json::json!("eu")),
            ("limit".to_string(), serde_json::json!(100)),
        ]);
        let mut form = Form::new(
            "f6a7b8c9-0000",
            Some("Marketing attribution"),
            &[],
            Some(&last),
            None,
        );
        form.focus = 2;
        m.form = Some(form);
        insta::assert_snapshot!(render(&m, 100, 18).backend());
    }

    #[test]
    fn long_forms_scroll_to_the_focus() {
        let mut m = form_model();
        if let Some(f) = m.form.as_mut() {
            f.focus = 10; // dry run, the last slot
        }
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }
}
