#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The real dashboard in a pseudo-terminal, against the harness's emulator: which run a key acts
//! on is the run drawn under the cursor (`›`), also after a filter hides the one it was on,
//! with nothing shown, and after a cancelled run leaves a `running` filter; and `r` on a run asks
//! first, showing what it would launch, launching only on `y`. What the emulator received is
//! the proof that nothing else was launched.

mod common;

use std::time::Duration;

use common::pty::Pty;
use common::scenario::{self as sc, project};
use common::{Emu, Home, wait_until};

const LOAD: &str = "c0000000-0000-4000-8000-000000000001";
const TRANSFORM: &str = "c0000000-0000-4000-8000-000000000002";

/// Two projects whose runs stay RUNNING until cancelled.
fn scenario() -> String {
    let hanging = |id, title| {
        project(id, title)
            .published(3.0)
            .param("day", "date", "\"2026-01-01\"")
            .hangs(0.0)
    };
    sc::scenario()
        .seed(3)
        .project(hanging(LOAD, "Load warehouse"))
        .project(hanging(TRANSFORM, "Transform orders"))
        .toml()
}

fn config() -> String {
    let day = Some(r#"[{ name = "day", type = "date" }]"#);
    sc::config()
        .project(LOAD, "load", day)
        .project(TRANSFORM, "transform", day)
        .toml()
}

/// The line of the screen that has the cursor mark.
fn cursor_line(screen: &str) -> &str {
    screen.lines().find(|l| l.contains('›')).unwrap_or("")
}

/// The runs list's rows (not the messages, which may name a run too, nor the projects list,
/// whose LAST RUN says RUNNING too: a wait for the runs screen must look for these).
fn rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains(" cli ") || l.contains(" tui "))
        .collect()
}

/// The run id (short) on a row.
fn run_id(row: &str) -> String {
    row.split_whitespace()
        .find(|w| w.len() == 8 && w.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("a run id on {row:?}"))
        .to_string()
}

/// The `run` line of an open cancel dialog.
fn dialog_run(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains("│  run "))
        .unwrap_or_else(|| panic!("a cancel dialog:\n{screen}"));
    run_id(line.split("│  run ").nth(1).unwrap_or(""))
}

/// Transform's run, then Load's (newer, so on top): the dashboard starts on them.
fn started() -> (Emu, Home, Pty) {
    started_after(|_| {})
}

/// [`started`], with `prepare` run on the home just before the dashboard starts.
fn started_after(prepare: impl FnOnce(&Home)) -> (Emu, Home, Pty) {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    for (alias, day) in [("transform", "2026-11-28"), ("load", "2026-11-27")] {
        let day = format!("day={day}");
        home.hexdash(&emu, &["run", alias, "-p", &day])
            .expect_code(0);
    }
    prepare(&home);
    let pty = Pty::against(&home, &emu, &[]);
    pty.wait_for("the projects", |s| s.contains("Transform orders"));
    (emu, home, pty)
}

fn quit(mut pty: Pty) {
    // ctrl-c: asks only for runs launched in this session
    assert_eq!(pty.quit_with("\x03"), 0, "screen:\n{}", pty.screen());
    pty.assert_restored();
}

#[test]
fn keys_act_on_the_run_under_the_cursor_and_r_asks_before_relaunching() {
    let (emu, _home, mut pty) = started();
    let before: Vec<String> = emu.runs().into_iter().map(|r| r.run_id).collect();
    assert_eq!(before.len(), 2);
    pty.type_keys("2");
    pty.wait_for("both runs RUNNING", |s| {
        rows(s).len() >= 2
            && s.matches("RUNNING").count() >= 2
            && cursor_line(s).contains("Load warehouse")
    });

    // The issue's steps: the cursor on Load's run, then a filter that hides it.
    pty.type_keys("1/transform\r\r");
    // The cursor's row too: a frame is written in pieces, and may be read between them (a
    // cursor never drawn fails here as a timeout).
    pty.wait_for("Transform's runs only", |s| {
        s.contains("/ transform orders")
            && !s.contains("Load warehouse")
            && cursor_line(s).contains("Transform orders")
    });
    let screen = pty.screen();
    assert!(
        cursor_line(&screen).contains("Transform orders"),
        "the cursor is drawn on the row shown:\n{screen}"
    );
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| {
        s.contains("Cancel this run?") && s.contains("(default)")
    });
    assert!(pty.screen().contains("project  Transform orders"));
    pty.type_keys("n");
    pty.wait_for("the dialog closed", |s| !s.contains("Cancel this run?"));

    // r asks, showing what it would send; n launches nothing.
    pty.type_keys("r");
    // Its last line too: a frame is written in pieces, and the screen may be read between them.
    pty.wait_for("the relaunch dialog", |s| {
        s.contains("Relaunch this run?") && s.contains("(default)")
    });
    let dialog = pty.screen();
    println!("{dialog}");
    for shown in [
        "project  Transform orders",
        "day=2026-11-28",
        "launched from the command line",
        "options  defaults",
        "profile  default",
        "n/esc/enter = do nothing (default)",
    ] {
        assert!(dialog.contains(shown), "{shown:?} missing:\n{dialog}");
    }
    pty.type_keys("n");
    pty.wait_for("the dialog closed", |s| !s.contains("Relaunch this run?"));
    // Enter answers no too.
    pty.type_keys("r");
    // Its last line too: a frame is written in pieces, and the screen may be read between them.
    pty.wait_for("the relaunch dialog", |s| {
        s.contains("Relaunch this run?") && s.contains("(default)")
    });
    pty.type_keys("\r");
    pty.wait_for("the dialog closed", |s| !s.contains("Relaunch this run?"));
    assert_eq!(emu.runs().len(), 2, "no answer but y launches");

    // y launches exactly what the dialog showed.
    pty.type_keys("r");
    // Its last line too: a frame is written in pieces, and the screen may be read between them.
    pty.wait_for("the relaunch dialog", |s| {
        s.contains("Relaunch this run?") && s.contains("(default)")
    });
    pty.type_keys("y");
    wait_until(
        "the relaunch at the emulator",
        Duration::from_secs(30),
        || emu.runs().len() == 3,
    );
    let runs = emu.runs();
    let new = runs.iter().find(|r| !before.contains(&r.run_id)).unwrap();
    assert_eq!(new.project_id, TRANSFORM);
    let sent = serde_json::to_value(&new.input_params).unwrap();
    assert_eq!(sent["day"], serde_json::json!("2026-11-28"), "{sent}");

    // A filter nothing matches: nothing under the cursor, and keys say so.
    pty.type_keys("/zzz\r");
    pty.wait_for("no match", |s| s.contains("0 of 3 match"));
    assert!(!pty.screen().contains('›'), "{}", pty.screen());
    pty.type_keys("\r");
    pty.wait_for("the refusal", |s| s.contains("no run selected"));
    pty.type_keys("r");
    pty.type_keys("x");
    pty.wait_for("keys still refused", |s| {
        s.contains("no run selected") && !s.contains("Relaunch this run?")
    });
    assert!(!pty.screen().contains("Cancel this run?"));

    // The running ones; cancel the one under the cursor: once KILLED it leaves the filter and
    // the cursor, and the next x is about the run now drawn under it.
    pty.type_keys("/running\r");
    pty.wait_for("three running", |s| s.contains("3 of 3 match"));
    let killed_id = run_id(cursor_line(&pty.screen()));
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| {
        s.contains("Cancel this run?") && s.contains("(default)")
    });
    assert_eq!(dialog_run(&pty.screen()), killed_id);
    pty.type_keys("y");
    pty.wait_for("the killed run gone from the filter", |s| {
        s.contains("2 of 3 match") && rows(s).iter().all(|r| !r.contains(&killed_id))
    });
    let screen = pty.screen();
    let now_under = run_id(cursor_line(&screen));
    assert_ne!(now_under, killed_id, "{screen}");
    assert!(cursor_line(&screen).contains("RUNNING"), "{screen}");
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| s.contains("Cancel this run?"));
    assert_eq!(
        dialog_run(&pty.screen()),
        now_under,
        "the run under the cursor is the target, not the killed one"
    );
    pty.type_keys("n");
    pty.wait_for("the dialog closed", |s| !s.contains("Cancel this run?"));

    quit(pty);
    assert_eq!(emu.runs().len(), 3, "nothing more was launched");
}

/// k9s-style moves on the real binary: `G`/`g` to the last and first row, `esc` clearing a kept
/// filter (then going back to the projects), and `x y` twice killing both runs without moving
/// the cursor: after the first kill it is on the run that took the killed one's place.
#[test]
fn g_and_capital_g_esc_and_x_y_x_y_in_a_row() {
    let (emu, _home, mut pty) = started();
    pty.type_keys("2");
    pty.wait_for("both runs RUNNING, the cursor on the newest", |s| {
        rows(s).len() >= 2
            && s.matches("RUNNING").count() >= 2
            && cursor_line(s).contains("Load warehouse")
    });
    pty.type_keys("G");
    pty.wait_for("the cursor on the last row", |s| {
        cursor_line(s).contains("Transform orders")
    });
    pty.type_keys("g");
    pty.wait_for("the cursor on the first row", |s| {
        cursor_line(s).contains("Load warehouse")
    });

    // A kept filter, cleared by esc with the cursor on its row; esc again goes to the projects.
    pty.type_keys("/transform\r");
    pty.wait_for("Transform's run only", |s| {
        !rows(s).iter().any(|r| r.contains("Load warehouse"))
    });
    pty.send("\x1b");
    pty.wait_for("both rows again", |s| {
        rows(s).len() == 2 && cursor_line(s).contains("Transform orders")
    });
    pty.send("\x1b");
    pty.wait_for("the projects screen", |s| s.contains("sorted by title"));
    pty.type_keys("2g");
    // The projects screen has its cursor on Load warehouse too: wait for the runs' rows.
    pty.wait_for("the runs, the cursor on the first", |s| {
        let cursor = cursor_line(s);
        rows(s).len() == 2 && cursor.contains("Load warehouse") && rows(s).contains(&cursor)
    });

    // x y, x y: the first kill leaves the cursor on the other run, the second kills that one.
    let first = run_id(cursor_line(&pty.screen()));
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| s.contains("Cancel this run?"));
    pty.type_keys("y");
    pty.wait_for("the first run KILLED, the cursor on the other", |s| {
        rows(s)
            .iter()
            .any(|r| r.contains(&first) && r.contains("KILLED"))
            && cursor_line(s).contains("RUNNING")
    });
    pty.type_keys("x");
    pty.wait_for("the second cancel dialog", |s| {
        s.contains("Cancel this run?")
    });
    pty.type_keys("y");
    pty.wait_for("both KILLED", |s| {
        rows(s).iter().filter(|r| r.contains("KILLED")).count() >= 2
    });
    let killed = emu
        .runs()
        .into_iter()
        .filter(|r| r.status.to_string() == "KILLED")
        .count();
    assert_eq!(killed, 2, "both runs killed with x y x y");
    quit(pty);
}

/// Issue 16's bulk cancel: two more runs of Load arrive from the command line while the
/// dashboard is open; `s` sorts by project (the header marks it), a filter keeps Load's three
/// runs, `*` marks them, `x` previews what each will get (nothing sent until `y`), `y` cancels
/// exactly those three, the summary says so, and Transform's run is left running.
#[test]
fn star_x_y_cancels_three_marked_runs_after_a_preview_and_sums_up() {
    let (emu, home, mut pty) = started();
    for day in ["2026-11-25", "2026-11-26"] {
        let day = format!("day={day}");
        home.hexdash(&emu, &["run", "load", "-p", &day])
            .expect_code(0);
    }
    pty.type_keys("2");
    pty.wait_for("four runs RUNNING", |s| s.matches("RUNNING").count() >= 4);
    pty.type_keys("s");
    // The header marks the column (the status line's "sorted by project" may already have
    // given way to another message on a busy machine).
    pty.wait_for("sorted by project", |s| s.contains("PROJECT ▲"));
    pty.type_keys("/load\r");
    pty.wait_for("Load's runs only", |s| {
        s.contains("3 of 4 match") && !s.contains("Transform orders")
    });
    pty.type_keys("*");
    pty.wait_for("three marked", |s| {
        s.lines()
            .filter(|l| l.contains("Load warehouse") && l.contains('●'))
            .count()
            == 3
    });
    pty.type_keys("x");
    // Its last line too: a frame is written in pieces, and the screen may be read between them.
    pty.wait_for("the preview", |s| {
        s.contains("Cancel 3 runs?") && s.contains("y = cancel 3 runs")
    });
    let preview = pty.screen();
    println!("{preview}");
    for shown in [
        "3 runs to cancel",
        "Load warehouse (3)",
        "triggers api 3",
        "profile  default",
        "y = cancel 3 runs",
    ] {
        assert!(preview.contains(shown), "{shown:?} missing:\n{preview}");
    }
    let killed = |emu: &Emu| {
        emu.runs()
            .iter()
            .filter(|r| r.status == hexdash::hex::RunStatus::Killed)
            .count()
    };
    assert_eq!(killed(&emu), 0, "nothing sent before the answer");
    pty.type_keys("y");
    pty.wait_for("the summary", |s| s.contains("Bulk cancel: 3 cancelled"));
    wait_until(
        "three runs killed at the emulator",
        Duration::from_secs(30),
        || killed(&emu) == 3,
    );
    let runs = emu.runs();
    let transform = runs.iter().find(|r| r.project_id == TRANSFORM).unwrap();
    assert_eq!(transform.status, hexdash::hex::RunStatus::Running);
    assert!(
        runs.iter()
            .filter(|r| r.project_id == LOAD)
            .all(|r| r.status == hexdash::hex::RunStatus::Killed)
    );
    pty.type_keys("j"); // any key closes the summary
    // Rows only: a message may name a KILLED run too.
    pty.wait_for("the rows KILLED", |s| {
        !s.contains("Bulk cancel")
            && s.lines()
                .filter(|l| l.contains("Load warehouse") && l.contains("KILLED"))
                .count()
                == 3
    });
    // The operator's log has the four launches from the command line and the three cancels
    // from here, newest first.
    pty.type_keys(":log\r");
    // The dialog's lines only (the hint line may offer "x cancel").
    let in_log = |s: &str, what: &str| {
        s.lines()
            .filter(|l| l.contains('│') && l.contains(what))
            .count()
    };
    pty.wait_for("the operator's log", |s| {
        s.contains("The operator's log") && in_log(s, " cancel ") == 3 && in_log(s, " launch ") == 4
    });
    let log = pty.screen();
    let first = log
        .lines()
        .find(|l| l.contains('│') && (l.contains(" cancel ") || l.contains(" launch ")))
        .unwrap();
    assert!(first.contains(" cancel "), "newest first:\n{log}");
    assert!(
        log.contains("confirmed: KILLED") || log.contains("sent"),
        "{log}"
    );
    pty.type_keys("j");
    pty.wait_for("the log closed", |s| !s.contains("The operator's log"));
    quit(pty);
}

/// SGR mouse report (what crossterm reads with mouse capture on): button, 1-based column and row,
/// `M` pressed.
fn mouse(button: u8, col: usize, row: usize) -> String {
    format!("\x1b[<{button};{};{}M", col + 1, row + 1)
}

/// Issue 16's mouse: a click on a tab shows its screen, a click on a row puts the cursor there, a
/// double-click opens it, the wheel moves the cursor; and the terminal gets the mouse back.
#[test]
fn click_a_tab_click_a_row_double_click_opens_and_the_wheel_scrolls() {
    let (_emu, _home, mut pty) = started();
    assert!(pty.mouse_reported(), "the dashboard asks for the mouse");
    let screen = pty.screen();
    let header = screen.lines().next().unwrap().to_string();
    let runs_tab = header.find("Runs").unwrap();
    pty.send(&mouse(0, runs_tab, 0));
    pty.wait_for("the runs screen by a click on its tab", |s| {
        rows(s).len() >= 2
            && s.matches("RUNNING").count() >= 2
            && cursor_line(s).contains("Load warehouse")
    });
    // Transform's row: a click moves the cursor to it.
    let screen = pty.screen();
    let row = screen
        .lines()
        .position(|l| l.contains("Transform orders") && l.contains("RUNNING"))
        .unwrap();
    pty.send(&mouse(0, 10, row));
    pty.wait_for("the cursor on the clicked row", |s| {
        cursor_line(s).contains("Transform orders")
    });
    // The wheel: up goes back to the first row.
    pty.send(&mouse(64, 10, row));
    pty.wait_for("the wheel moved the cursor up", |s| {
        cursor_line(s).contains("Load warehouse")
    });
    pty.send(&mouse(65, 10, row));
    pty.wait_for("the wheel moved the cursor down", |s| {
        cursor_line(s).contains("Transform orders")
    });
    // A double-click opens the run's detail.
    pty.send(&format!("{}{}", mouse(0, 10, row), mouse(0, 10, row)));
    pty.wait_for("the run's detail", |s| s.contains("› run "));
    quit(pty);
}

/// Issue 16's outage: the emulator stops while the dashboard follows two runs — the status bar
/// says Hex cannot be reached and the rows go stale — and a fresh emulator starts on the same
/// address: "API ok" comes back within one outage probe (10 s; 30 s allowed for a busy machine,
/// where the backoff grown to a minute took 40 s before), with no key pressed.
#[test]
fn after_an_outage_the_dashboard_says_api_ok_again_within_a_probe() {
    let (emu, _home, mut pty) = started();
    pty.type_keys("2");
    pty.wait_for("both runs RUNNING", |s| s.matches("RUNNING").count() >= 2);
    pty.wait_for("API ok", |s| s.contains("API ok"));
    let emu = emu.outage(|| {
        pty.wait_for("the outage on the status bar", |s| {
            s.contains("API error") && !s.contains("API ok")
        });
        // Long enough for backoffs to grow past the probe.
        pty.wait_for("the rows stale", |s| s.contains("stale"));
    });
    let back = std::time::Instant::now();
    pty.wait_within("API ok after the restart", Duration::from_secs(30), |s| {
        s.contains("API ok")
    });
    println!("API ok {:?} after the emulator was back", back.elapsed());
    drop(emu);
    quit(pty);
}

/// A warning about the store (here: a data dir other users can read) is shown in the status bar,
/// not written to stderr, where it scrolled the screen the dashboard draws on and garbled it.
#[cfg(unix)]
#[test]
fn a_journal_warning_goes_to_the_status_bar_and_leaves_the_screen_whole() {
    use std::os::unix::fs::PermissionsExt;
    let (_emu, _home, mut pty) = started_after(|home| {
        std::fs::set_permissions(home.data_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    });
    pty.wait_for("the warning on the status line", |s| {
        s.contains("readable by other users")
    });
    pty.type_keys("2");
    pty.wait_for("the runs screen, whole", |s| {
        s.lines().next().is_some_and(|l| l.starts_with(" hexdash "))
            && s.matches("RUNNING").count() >= 2
    });
    let screen = pty.screen();
    assert!(!screen.contains("hexdash: warning"), "{screen}");
    quit(pty);
}
