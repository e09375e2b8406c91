//! Moving around like k9s and less: `g`/`G` (and Home/End) to the first and last row, `esc`
//! clearing a kept filter before it goes back, and the cursor staying where the operator works
//! after a cancel (`x y j x y` kills stuck runs one after another).

use crossterm::event::{KeyCode, KeyModifiers};

use super::test_kit::*;
use crate::engine::{Change, RunKey};
use crate::hex::RunStatus;
use crate::tui::model::{Model, Screen};

fn selected(m: &Model) -> Option<String> {
    m.selected_run().map(|r| r.view.key.run_id.clone())
}

/// The model with five active runs on the runs screen, newest (run-5) first.
fn five_runs() -> (Model, crate::tui::keymap::KeyMap) {
    let (mut m, keys) = model();
    for i in 2..=5 {
        let mut v = view("p1", &format!("run-{i}"), RunStatus::Running, 5 + i);
        v.first_seen = t(5 + i);
        run_update(&mut m, &keys, Change::Watching, v);
    }
    press(&mut m, &keys, '2');
    (m, keys)
}

#[test]
fn g_and_capital_g_and_home_and_end_go_to_the_first_and_last_row() {
    let (mut m, keys) = five_runs();
    let order: Vec<String> = m
        .visible_runs()
        .iter()
        .map(|r| r.view.key.run_id.clone())
        .collect();
    assert_eq!(order.len(), 5);
    press(&mut m, &keys, 'G');
    assert_eq!(selected(&m), order.last().cloned());
    press(&mut m, &keys, 'g');
    assert_eq!(selected(&m), order.first().cloned());
    code(&mut m, &keys, KeyCode::End, KeyModifiers::NONE);
    assert_eq!(selected(&m), order.last().cloned());
    code(&mut m, &keys, KeyCode::Home, KeyModifiers::NONE);
    assert_eq!(selected(&m), order.first().cloned());
    // On the projects screen too.
    press(&mut m, &keys, '1');
    press(&mut m, &keys, 'G');
    let last = m.visible_projects().last().map(|r| r.project.id.clone());
    assert_eq!(m.selected_project().map(|r| r.project.id.clone()), last);
}

#[test]
fn esc_clears_a_kept_filter_then_goes_back_to_the_projects() {
    let (mut m, keys) = model();
    // `enter` on a project: its runs, filtered to it.
    enter(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs);
    assert!(!m.runs.filter.text.is_empty());
    esc(&mut m, &keys);
    assert_eq!(m.screen, Screen::Runs, "the first esc clears the filter");
    assert!(m.runs.filter.text.is_empty());
    esc(&mut m, &keys);
    assert_eq!(m.screen, Screen::Projects, "the second goes back");

    // A kept filter on the projects screen is cleared the same way, the cursor on its row.
    press(&mut m, &keys, '/');
    type_text(&mut m, &keys, "churn");
    enter(&mut m, &keys);
    let on = m.selected_project().map(|r| r.project.id.clone());
    esc(&mut m, &keys);
    assert!(m.projects.filter.text.is_empty());
    assert_eq!(m.visible_projects().len(), 2);
    assert_eq!(m.selected_project().map(|r| r.project.id.clone()), on);
}

#[test]
fn after_x_y_the_cursor_stays_on_the_next_candidate_not_on_the_killed_run() {
    let (mut m, keys) = five_runs();
    press(&mut m, &keys, 'g');
    press(&mut m, &keys, 'j');
    let order: Vec<String> = m
        .visible_runs()
        .iter()
        .map(|r| r.view.key.run_id.clone())
        .collect();
    let target = selected(&m).unwrap();
    assert_eq!(target, order[1]);
    press(&mut m, &keys, 'x');
    press(&mut m, &keys, 'y');
    let key = RunKey::new("p1", &target);
    let mut killed = m.runs.rows[&key].view.clone();
    killed.status = Some(RunStatus::Killed);
    killed.end_time = Some(t(30));
    run_update(&mut m, &keys, Change::CancelConfirmed, killed);
    // The killed run went down among the ended; the cursor is on the run that took its place.
    assert_ne!(selected(&m).as_deref(), Some(target.as_str()));
    assert_eq!(selected(&m), Some(order[2].clone()));

    // A run that ends on its own (no cancel from here) keeps the cursor on it, as before.
    let on = selected(&m).unwrap();
    let mut done = m.runs.rows[&RunKey::new("p1", &on)].view.clone();
    done.status = Some(RunStatus::Completed);
    done.end_time = Some(t(31));
    run_update(&mut m, &keys, Change::Ended, done);
    assert_eq!(selected(&m), Some(on));
}

#[test]
fn overdue_runs_are_listed_first_among_the_active_and_the_cursor_stays_on_its_run() {
    let (mut m, keys) = five_runs();
    press(&mut m, &keys, 'g');
    let first = selected(&m);
    // The oldest active run turns overdue: it goes to the top, the cursor stays on its run.
    let key = RunKey::new("p1", "run-aaaa-1");
    let late = Some(crate::engine::Overdue::PendingTooLong {
        pending: std::time::Duration::from_secs(400),
    });
    crate::tui::update::update(
        &mut m,
        crate::tui::msg::Msg::OverdueChecked(vec![(key.clone(), late)]),
        &keys,
    );
    assert_eq!(m.visible_runs()[0].view.key, key);
    assert_eq!(selected(&m), first);
    // Ended, it goes down among the ended whatever it was.
    let mut done = m.runs.rows[&key].view.clone();
    done.status = Some(RunStatus::Completed);
    done.end_time = Some(t(40));
    run_update(&mut m, &keys, Change::Ended, done);
    assert_eq!(
        m.visible_runs().last().map(|r| r.view.key.clone()),
        Some(key)
    );
}

#[test]
fn tab_on_the_command_line_completes_the_command() {
    let (mut m, keys) = model();
    press(&mut m, &keys, ':');
    for c in "pre".chars() {
        press(&mut m, &keys, c);
    }
    code(&mut m, &keys, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(
        m.overlay,
        Some(crate::tui::model::Overlay::CommandLine("preset ".into()))
    );
    // A known command with its argument being typed is no error: the hint names it.
    let t = crate::tui::view::fixtures::render(&m, 100, 10)
        .backend()
        .to_string();
    assert!(t.contains(":preset [save|delete] NAME"), "{t}");
    assert!(!t.contains("no command"), "{t}");
}

#[test]
fn two_clicks_on_a_row_open_it_only_when_close_together() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let (mut m, keys) = five_runs();
    super::update(
        &mut m,
        crate::tui::msg::Msg::Resized {
            width: 120,
            height: 20,
        },
        &keys,
    );
    let click = |m: &mut Model, row: u16, at_ms: u64| {
        let event = MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: 10,
            row,
            modifiers: KeyModifiers::NONE,
        };
        super::update(m, crate::tui::msg::Msg::Mouse { event, at_ms }, &keys)
    };
    // Row 0 is the header bar, row 1 the table's header: row 3 is the second run.
    let second = m.visible_runs()[1].view.key.run_id.clone();
    click(&mut m, 3, 1_000);
    assert_eq!(selected(&m), Some(second.clone()));
    click(&mut m, 3, 2_000);
    assert_eq!(m.screen, Screen::Runs, "a second later: not a double-click");
    click(&mut m, 3, 2_300);
    assert_eq!(m.screen, Screen::Detail, "within 400 ms: opened");
    assert_eq!(m.detail.as_ref().map(|k| k.run_id.clone()), Some(second));
}
