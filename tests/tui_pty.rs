#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The real binary in a pseudo-terminal, read through a vt100 emulator, the way a person meets
//! it: `hexdash demo` starts, shows the demo workspace's projects, launches the ETL extract with a
//! date, launches the hanging project and cancels it with `x`, `y`, and quits with `q` — leaving
//! the terminal as it found it (main screen, cursor shown). A forced panic restores it too.

mod common;

use common::pty::Pty;

#[test]
fn demo_lists_launches_cancels_and_quits_restoring_the_terminal() {
    let mut pty = Pty::spawn(&["demo"], &[]);
    // Aliases, not titles: the title column narrows once LAST RUN, WHEN and DURATION fill in,
    // and a slow machine may first draw after they have.
    pty.wait_for("the demo projects", |s| {
        s.contains("etl-extract") && s.contains("inventory-recon")
    });

    // Launch the ETL extract with yesterday's date.
    pty.type_keys("/extract\r");
    pty.type_keys("r");
    pty.wait_for("the launch form", |s| s.contains("run_date"));
    pty.type_keys("y");
    pty.send("\x13"); // ctrl-s
    pty.wait_for("the run on the runs screen", |s| {
        s.contains("RUNNING") || s.contains("PENDING") || s.contains("COMPLETED")
    });

    // Launch the hanging project and cancel it.
    pty.type_keys("1");
    pty.type_keys("/inventory\r");
    pty.type_keys("r");
    pty.wait_for("the second form", |s| s.contains("Inventory"));
    pty.send("\x13");
    // Its own row, under the cursor: another client's run of the demo is RUNNING too, and the
    // first launch may still be on screen under the cursor until the new row arrives.
    pty.wait_for("the hanging run running under the cursor", |s| {
        s.lines()
            .any(|l| l.contains("›Inventory") && l.contains("RUNNING"))
    });
    pty.type_keys("x");
    pty.wait_for("the cancel dialog", |s| s.to_lowercase().contains("cancel"));
    pty.type_keys("y");
    pty.wait_for("KILLED", |s| s.contains("KILLED"));

    // :profile in the demo says why it cannot switch, and the dashboard stays.
    pty.type_keys(":profile staging\r");
    pty.wait_for("the refusal", |s| {
        s.contains("the demo runs on its own emulator") && s.contains("KILLED")
    });

    // Asked first if a run launched here is still active; yes either way.
    assert_eq!(pty.quit_with("q"), 0, "screen:\n{}", pty.screen());
    pty.assert_restored();
}

#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test panic")]
#[test]
fn a_panic_restores_the_terminal() {
    let mut pty = Pty::spawn(&["demo"], &[("HEXDASH_TEST_PANIC_AFTER_MS", "1500")]);
    pty.wait_for("the dashboard", |s| s.contains("etl-extract"));
    let code = pty.wait_exit();
    // The panic hook (src/panic_hook.rs) runs after the terminal is restored and exits 70.
    assert_eq!(code, 70, "screen:\n{}", pty.screen());
    pty.assert_restored();
    assert!(
        pty.screen().contains("panicked"),
        "the panic message is shown after the restore:\n{}",
        pty.screen()
    );
}
