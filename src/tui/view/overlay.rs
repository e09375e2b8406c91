//! What is drawn over a screen: the help (generated from the key map), the `:` command line,
//! and the yes/no dialogs.
//!
//! Help lists every [`Action`] with the keys bound to it now and its config name, so it can
//! never disagree with the bindings. The cancel dialog shows the target frozen when it opened
//! (project, run, start, status, elapsed); the relaunch dialog shows what `y` sends (project,
//! every parameter, the options that are not the defaults) and the profile. Each says which key
//! does what, no being the default; a prod-like profile is drawn as a warning.
//! The dialogs' contents are in `confirm`; the box, labelled lines and answer line they share
//! are here.

mod confirm;

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear};

use super::chrome::{self, Hint};
use super::style::{self, WARN};
use crate::tui::action::Action;
use crate::tui::keymap::KeyMap;
use crate::tui::model::Model;
use crate::tui::text_input::TextInput;

pub use confirm::confirm;

/// A box of `width`×`height` in the middle of `area`, cleared, with a border and a title.
pub(super) fn dialog(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: u16,
    title: &str,
    color: Color,
) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(color))
        .title(Span::styled(
            format!(" {title} "),
            Style::new().fg(color).add_modifier(Modifier::BOLD),
        ));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// A dialog just big enough for `lines` (and its title), at least `min_width` wide, with them in
/// it.
pub(super) fn boxed(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<Line<'static>>,
    min_width: usize,
    title: &str,
    color: Color,
) {
    let content = lines.iter().map(Line::width).max().unwrap_or(0);
    let width = content.max(style::width(title) + 4) + 4;
    let inner = dialog(
        frame,
        area,
        to_u16(width.max(min_width)),
        to_u16(lines.len() + 2),
        title,
        color,
    );
    chrome::lines(frame, inner, lines);
}

struct Entry {
    keys: String,
    what: &'static str,
    name: &'static str,
}

pub fn help(frame: &mut Frame, area: Rect, keys: &KeyMap) {
    let entries: Vec<Entry> = Action::ALL
        .iter()
        .map(|a| Entry {
            keys: keys.label(*a),
            what: a.describe(),
            name: a.name(),
        })
        .collect();
    let n = entries.len();
    let key_w = |es: &[Entry]| es.iter().map(|e| style::width(&e.keys)).max().unwrap_or(0);
    let what_w = |es: &[Entry]| es.iter().map(|e| style::width(e.what)).max().unwrap_or(0);
    let name_w = |es: &[Entry]| es.iter().map(|e| style::width(e.name)).max().unwrap_or(0);
    let full = |es: &[Entry]| key_w(es) + 2 + what_w(es) + 2 + name_w(es);
    let outer_w = usize::from(area.width);
    let outer_h = usize::from(area.height);
    // Two lines of chrome inside the border: a blank and the footer.
    let one_column_fits = n + 4 <= outer_h;
    let half = n.div_ceil(2);
    let (first, second) = entries.split_at(half);
    let footer = format!(
        "rebind in [keys] of the config, e.g. cancel_run = \"ctrl-k\"   {}/{} closes",
        keys.label(Action::Back),
        keys.label(Action::Help)
    );
    let footer_line = Line::styled(format!(" {footer}"), style::dim());
    if one_column_fits && full(&entries) + 4 <= outer_w {
        let width = (full(&entries) + 4)
            .max(style::width(&footer) + 4)
            .min(outer_w);
        let inner = dialog(
            frame,
            area,
            to_u16(width),
            to_u16(n + 4),
            "Keys",
            style::ACCENT,
        );
        let mut lines = column(&entries, inner.width, true);
        lines.push(Line::raw(""));
        lines.push(footer_line);
        chrome::lines(frame, inner, lines);
        return;
    }
    // Two columns: with the config names when they fit, else descriptions cut to fit.
    let with_names = full(first) + full(second) + 6 <= outer_w;
    let need = |es: &[Entry]| {
        if with_names {
            full(es)
        } else {
            key_w(es) + 2 + what_w(es)
        }
    };
    let (n1, n2) = (need(first), need(second));
    let width = (n1 + n2 + 6).min(outer_w);
    let inner = dialog(
        frame,
        area,
        to_u16(width),
        to_u16(half + 4),
        "Keys",
        style::ACCENT,
    );
    let (left, right) = columns(inner, n1, n2);
    chrome::lines(frame, left, column(first, left.width, with_names));
    let mut lines = column(second, right.width, with_names);
    while lines.len() < half {
        lines.push(Line::raw(""));
    }
    chrome::lines(frame, right, lines);
    let footer_area = Rect {
        y: inner.y + to_u16(half + 1),
        height: 1,
        ..inner
    };
    let footer = style::fit(&footer, usize::from(inner.width).saturating_sub(1)).into_owned();
    frame.render_widget(
        Line::styled(format!(" {footer}"), style::dim()),
        footer_area,
    );
}

/// The help's two columns side by side in `inner`, `n1` and `n2` wide; shrunk in proportion
/// when they do not both fit.
fn columns(inner: Rect, n1: usize, n2: usize) -> (Rect, Rect) {
    // Each column has a space on either side, which also keeps them apart.
    let gap = 0;
    let avail = usize::from(inner.width);
    let (c1, c2) = (n1 + 2, n2 + 2);
    let w1 = if c1 + c2 <= avail {
        c1
    } else {
        avail * c1 / (c1 + c2).max(1)
    };
    let left = Rect {
        width: to_u16(w1),
        ..inner
    };
    let right = Rect {
        x: inner.x + to_u16(w1 + gap),
        width: inner.width.saturating_sub(to_u16(w1 + gap)),
        ..inner
    };
    (left, right)
}

/// ` keys   description   name`, aligned, cut to `width`.
fn column(entries: &[Entry], width: u16, names: bool) -> Vec<Line<'static>> {
    let key_w = entries
        .iter()
        .map(|e| style::width(&e.keys))
        .max()
        .unwrap_or(0);
    let name_w = if names {
        entries
            .iter()
            .map(|e| style::width(e.name))
            .max()
            .unwrap_or(0)
            + 2
    } else {
        0
    };
    let what_room = usize::from(width).saturating_sub(1 + key_w + 2 + name_w + 1);
    entries
        .iter()
        .map(|e| {
            let what = style::fit(e.what, what_room).into_owned();
            let mut spans = vec![
                Span::styled(format!(" {:<key_w$}  ", e.keys), style::key()),
                Span::raw(format!("{what:<what_room$}")),
            ];
            if names {
                spans.push(Span::styled(format!("  {}", e.name), style::dim()));
            }
            Line::from(spans)
        })
        .collect()
}

pub(super) fn to_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The `:` line, drawn over the hint line, with the commands that match what is typed.
pub fn command_line(frame: &mut Frame, area: Rect, line: &TextInput) {
    let text = line.value();
    let word = text.split_whitespace().next().unwrap_or("");
    let matching = crate::tui::commands::matching(text);
    // A long line scrolls to keep its cursor in view.
    let shown = line.window(usize::from(area.width).saturating_sub(1));
    let mut spans = vec![
        Span::styled(":", style::key()),
        Span::styled(shown.text.to_string(), style::bold()),
        Span::raw("   "),
    ];
    if matching.is_empty() {
        spans.push(Span::styled(
            format!("no command {word:?}"),
            Style::new().fg(WARN),
        ));
    } else {
        let hints: Vec<Hint> = matching
            .iter()
            .map(|(name, arg, what)| {
                let keys = if arg.is_empty() {
                    format!(":{name}")
                } else {
                    format!(":{name} {arg}")
                };
                Hint::raw(&keys, *what)
            })
            .collect();
        spans.extend(chrome::hint_spans(&hints, usize::from(area.width)));
    }
    frame.render_widget(Clear, area);
    frame.render_widget(
        Line::from(spans).style(Style::new().bg(Color::Indexed(235))),
        area,
    );
    let x = (area.x + 1).saturating_add(to_u16(shown.cursor));
    if x < area.right() {
        frame.set_cursor_position(Position::new(x, area.y));
    }
}

/// `  project  Daily ETL`: a dialog's labelled line.
pub(super) fn field(label: &str, value: Span<'static>) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {label:<8} "), style::dim()),
        value,
    ])
}

/// `  y = cancel it, n/esc/enter = keep it (default)`: which key answers what, with the keys
/// bound now. Enter takes the default answer, no, unless it is bound to yes (see `update`).
pub(super) fn answer_line(keys: &KeyMap, yes_what: &str, no_what: &str) -> Line<'static> {
    let yes = keys.label(Action::Confirm);
    let mut no_keys: Vec<String> = Vec::new();
    let bound = [keys.label(Action::Decline), keys.label(Action::Back)];
    for k in bound.iter().flat_map(|l| l.split('/')).chain(["enter"]) {
        let taken = no_keys.iter().any(|n| n == k) || yes.split('/').any(|y| y == k);
        if !k.is_empty() && !taken {
            no_keys.push(k.to_string());
        }
    }
    Line::from(vec![
        Span::raw("  "),
        Span::styled(yes, style::key()),
        Span::raw(format!(" = {yes_what}, ")),
        Span::styled(no_keys.join("/"), style::key()),
        Span::raw(format!(" = {no_what} (default)")),
    ])
}

/// Text from outside (titles, parameter names and values) without control characters, so
/// nothing in it can move the cursor or restyle the terminal.
pub(super) fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// The profile, drawn as a warning, in dialogs that act on a prod-like one.
pub(super) fn prod_profile(model: &Model) -> Span<'static> {
    Span::styled(
        format!("⚠ {}", printable(&model.status.profile)),
        Style::new().fg(WARN).add_modifier(Modifier::BOLD),
    )
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::super::fixtures::{etl_running, render, render_with, runs_model};
    use super::WARN;
    use crate::config::{Config, KeyBindingValue};
    use crate::tui::cursor::Cursor;
    use crate::tui::keymap::KeyMap;
    use crate::tui::model::{Confirm, Model, Overlay};
    use crate::tui::msg::Msg;
    use crate::tui::update::update;

    #[test]
    fn help_lists_every_action_with_its_keys() {
        let mut m = runs_model();
        m.overlay = Some(Overlay::Help);
        // Tall enough for one column, which has room for the config names.
        let t = render(&m, 120, 40);
        let text = format!("{}", t.backend());
        for a in crate::tui::action::Action::ALL {
            assert!(text.contains(a.name()), "{a} missing from help");
        }
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn help_narrow() {
        let mut m = runs_model();
        m.overlay = Some(Overlay::Help);
        insta::assert_snapshot!(render(&m, 80, 24).backend());
    }

    #[test]
    fn help_shows_rebound_keys() {
        let mut config = Config::default();
        config
            .keys
            .insert("cancel_run".into(), KeyBindingValue::One("ctrl-k".into()));
        let (keys, warnings) = KeyMap::from_config(&config);
        assert!(warnings.is_empty());
        let mut m = runs_model();
        m.overlay = Some(Overlay::Help);
        let t = render_with(&m, &keys, 160, 22);
        let text = format!("{}", t.backend());
        assert!(text.contains("ctrl-k"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn command_line() {
        let mut m = runs_model();
        m.overlay = Some(Overlay::CommandLine("pro".into()));
        insta::assert_snapshot!(render(&m, 100, 12).backend());
    }

    #[test]
    fn confirm_cancel_shows_the_frozen_target() {
        let mut m = runs_model();
        let v = etl_running();
        m.overlay = Some(Overlay::Confirm(Confirm::CancelRun {
            key: v.key.clone(),
            project: "Daily ETL".into(),
            started: v.start_time,
            status: v.status.clone(),
        }));
        insta::assert_snapshot!(render(&m, 100, 20).backend());
    }

    #[test]
    fn confirm_cancel_on_a_prod_profile_narrow() {
        let mut m = runs_model();
        m.status.profile = "prod".into();
        m.status.prod_like = true;
        let v = etl_running();
        m.overlay = Some(Overlay::Confirm(Confirm::CancelRun {
            key: v.key.clone(),
            project: "Daily ETL".into(),
            started: v.start_time,
            status: v.status.clone(),
        }));
        insta::assert_snapshot!(render(&m, 80, 24).backend());
    }

    /// `r` pressed on the runs fixture's cursor run (Daily ETL, four parameters, no SQL cache,
    /// a 30m timeout that kills): the dialog as `update` opens it.
    fn relaunch_asked(mut m: Model) -> Model {
        let keys = KeyMap::defaults();
        let r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        update(&mut m, Msg::Key(r), &keys);
        assert!(
            matches!(m.overlay, Some(Overlay::Confirm(Confirm::Relaunch { .. }))),
            "{:?}",
            m.overlay
        );
        m
    }

    #[test]
    fn confirm_relaunch_shows_every_parameter_the_options_and_the_profile() {
        let m = relaunch_asked(runs_model());
        let t = render(&m, 100, 24);
        let text = format!("{}", t.backend());
        for shown in [
            "Relaunch this run?",
            "Daily ETL",
            "3f2a9c1d, launched from a dashboard",
            "run_date=2026-11-27",
            "schema=prod",
            "sources=shop,crm",
            "full_refresh=false",
            "no cached SQL results · timeout 30m, then killed",
            "staging",
            "y = launch it again, n/esc/enter = do nothing (default)",
        ] {
            assert!(text.contains(shown), "{shown:?} missing:\n{text}");
        }
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn confirm_relaunch_of_a_pipeline_steps_run_on_a_prod_profile_narrow() {
        let mut m = runs_model();
        m.status.profile = "prod".into();
        m.status.prod_like = true;
        // The pipeline's ETL step run, its parameters known, options the defaults.
        let step = m
            .runs
            .rows
            .values()
            .find(|r| {
                matches!(r.view.origin, Some(crate::journal::Origin::Pipeline { .. }))
                    && !r.view.is_active()
            })
            .map(|r| r.view.key.clone())
            .unwrap();
        if let Some(row) = m.runs.rows.get_mut(&step) {
            row.view.params = Some(indexmap::IndexMap::from([(
                "run_date".to_string(),
                serde_json::json!("2026-11-28"),
            )]));
            row.view.options = Some(crate::journal::LaunchOptions {
                kill_on_timeout: true,
                ..Default::default()
            });
        }
        m.runs.cursor = Cursor::on(step);
        let m = relaunch_asked(m);
        let t = render(&m, 80, 24);
        let text = format!("{}", t.backend());
        assert!(text.contains("⚠ prod"), "{text}");
        assert!(text.contains("not part of the pipeline"), "{text}");
        // A step's kill-on-timeout without a timeout is nothing to send, nor to show.
        assert!(text.contains("options  defaults"), "{text}");
        let profile = t
            .backend()
            .buffer()
            .content()
            .iter()
            .find(|c| c.symbol() == "⚠")
            .map(|c| c.fg);
        assert_eq!(
            profile,
            Some(WARN),
            "the prod-like profile is drawn as a warning"
        );
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn confirm_relaunch_draws_no_control_characters_from_titles_or_values() {
        let mut m = runs_model();
        let Some(key) = m.runs.cursor.id().cloned() else {
            panic!("the fixture has a cursor")
        };
        if let Some(row) = m.runs.rows.get_mut(&key) {
            row.view.project_title = Some("Daily\u{1b}[2J ETL\u{7}".into());
            row.view.params = Some(indexmap::IndexMap::from([(
                "note\u{1b}]0;x".to_string(),
                serde_json::json!("a\u{1b}[31mb\r\nc"),
            )]));
        }
        let t = render(&relaunch_asked(m), 100, 24);
        let cells = t.backend().buffer().content();
        assert!(
            cells
                .iter()
                .all(|c| !c.symbol().chars().any(char::is_control)),
            "a control character reached the screen"
        );
        let text = format!("{}", t.backend());
        assert!(text.contains("Daily[2J ETL"), "{text}");
        assert!(text.contains("note]0;x=a[31mbc"), "{text}");
    }

    #[test]
    fn confirm_relaunch_with_more_parameters_than_fit_says_how_many_more() {
        let mut m = runs_model();
        let Some(key) = m.runs.cursor.id().cloned() else {
            panic!("the fixture has a cursor")
        };
        if let Some(row) = m.runs.rows.get_mut(&key) {
            row.view.params = Some(
                (0..40)
                    .map(|i| (format!("p{i:02}"), serde_json::json!(i)))
                    .collect(),
            );
        }
        let t = render(&relaunch_asked(m), 80, 24);
        let text = format!("{}", t.backend());
        assert!(text.contains("p00=0"), "{text}");
        assert!(text.contains("more (n, then e shows them all)"), "{text}");
        assert!(
            text.contains("y = launch it again"),
            "the answer line stays: {text}"
        );
    }

    #[test]
    fn confirm_quit_counts_active_session_runs() {
        let mut m = runs_model();
        m.overlay = Some(Overlay::Confirm(Confirm::Quit { active: 2 }));
        insta::assert_snapshot!(render(&m, 100, 16).backend());
    }

    #[test]
    fn confirm_cancel_pipeline_says_what_happens_to_its_steps() {
        let mut m = runs_model();
        m.status.profile = "production".into();
        m.status.prod_like = true;
        m.overlay = Some(Overlay::Confirm(Confirm::CancelPipeline {
            id: "7f3c9d2e-0000-4000-8000-000000000002".into(),
            name: "daily-etl".into(),
            running: 2,
        }));
        let t = render(&m, 100, 18);
        let text = format!("{}", t.backend());
        assert!(text.contains("2 running steps are killed"), "{text}");
        assert!(text.contains("⚠ production"), "{text}");
        insta::assert_snapshot!(t.backend());
    }

    #[test]
    fn the_pipeline_cancel_dialog_follows_its_run_to_its_end() {
        use crate::pipeline::machine::PipelineStatus;
        use crate::tui::pipeline_fixtures;
        let mut m = runs_model();
        m.pipelines = pipeline_fixtures::state();
        let run = pipeline_fixtures::etl_running();
        m.pipelines.runs = Some(vec![run.clone()]);
        m.overlay = Some(Overlay::Confirm(Confirm::CancelPipeline {
            id: run.id.clone(),
            name: run.name.clone(),
            running: 1,
        }));
        let live = format!("{}", render(&m, 100, 18).backend());
        assert!(live.contains("1 running step is killed"), "{live}");
        // It succeeds while the dialog is open.
        if let Some(runs) = m.pipelines.runs.as_mut() {
            runs[0].status = PipelineStatus::Succeeded;
        }
        let t = render(&m, 100, 18);
        let text = format!("{}", t.backend());
        assert!(
            text.contains("It ended SUCCEEDED while this was open"),
            "{text}"
        );
        assert!(!text.contains("running step is killed"), "{text}");
        insta::assert_snapshot!(t.backend());
    }
}
