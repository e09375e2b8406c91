#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The dashboard shows the workspace's runs, not only its own: runs another client, a schedule
//! or an app refresh started appear on the Runs screen with their trigger and origin, are
//! followed to their end (or shown ended when they were over between two listings), and a
//! hanging one is cancelled from the dashboard (`x`, `y`) until Hex
//! says KILLED. Projects the config ignores are never listed.

mod common;
#[path = "common/pty.rs"]
mod pty;

use common::{Emu, Home, TOKEN};

const STUCK: &str = "ffffffff-0000-4000-8000-000000000001";
const QUICK: &str = "ffffffff-0000-4000-8000-000000000002";
const REPORT: &str = "ffffffff-0000-4000-8000-000000000003";
const IGNORED: &str = "ffffffff-0000-4000-8000-000000000004";
const BLINK: &str = "ffffffff-0000-4000-8000-000000000005";

fn scenario() -> String {
    let project = |id: &str, title: &str, run: &str| {
        format!(
            "[[projects]]\nid = \"{id}\"\ntitle = \"{title}\"\nowner = \"data@acme.example\"\n\
             published_hours_ago = 3\n[projects.run]\npending_secs = [0, 0]\n{run}\n"
        )
    };
    format!(
        "tokens = [\"{TOKEN}\"]\n{}{}{}{}{}",
        project(STUCK, "Stuck Job", "hangs = true"),
        project(QUICK, "Quick One", "duration_secs = [25, 25]"),
        project(REPORT, "Board Report", "hangs = true"),
        project(IGNORED, "Sandbox", "hangs = true"),
        project(BLINK, "Blink", "duration_secs = [1, 1]"),
    )
}

/// Followed projects are listed every 15 s, so the test does not wait for the slow round.
fn config() -> String {
    "[workspace]\nfollow = [\"Stuck Job\", \"Quick One\", \"Board Report\", \"Blink\"]\nignore = [\"sandbox\"]\n"
        .to_string()
}

#[test]
fn runs_started_elsewhere_show_on_the_dashboard_and_a_hanging_one_is_cancelled_there() {
    let emu = Emu::start(&scenario());
    let home = Home::with_config(&config());
    let data = home.data_dir().display().to_string();
    let conf = home.config_dir().display().to_string();
    let ledger = home.ledger_dir().display().to_string();
    let url = emu.base_url();
    let env = [
        ("HEXDASH_LEDGER_DIR", ledger.as_str()),
        ("HEXDASH_DATA_DIR", data.as_str()),
        ("HEXDASH_CONFIG_DIR", conf.as_str()),
        ("HEX_API_URL", url.as_str()),
        ("HEX_API_TOKEN", TOKEN),
    ];
    let mut ui = pty::Pty::spawn(&[], &env);
    ui.wait_for("the first sweep of the workspace", |s| {
        s.contains("Stuck Job") && s.contains("workspace swept")
    });

    let control = emu.emu.control();
    let start = |project: &str, trigger: &str| control.start_run(project, trigger, None).unwrap();
    let stuck = start(STUCK, "APP_REFRESH");
    let quick = start(QUICK, "SCHEDULED");
    let colleague = start(REPORT, "API");
    start(IGNORED, "API");
    // Over before the next listing: shown ended, as seen between two sweeps.
    let blink = start(BLINK, "SCHEDULED");

    ui.type_keys("2");
    ui.wait_for("the three runs started elsewhere", |s| {
        s.contains("app refresh") && s.contains("schedule") && s.contains("api")
    });
    let screen = ui.screen();
    assert!(
        screen.contains("Stuck Job") && screen.contains("Board Report"),
        "{screen}"
    );
    assert!(
        !screen.contains("Sandbox"),
        "an ignored project is never listed:\n{screen}"
    );

    ui.wait_for("the run that ended between two sweeps", |s| {
        s.lines()
            .any(|l| l.contains("Blink") && l.contains("COMPLETED") && l.contains("schedule"))
    });

    // The scheduled run is followed to its end.
    ui.wait_for("the scheduled run completed", |s| {
        s.lines()
            .any(|l| l.contains("Quick One") && l.contains("COMPLETED"))
    });

    // The hanging run a refresh started is cancelled from here.
    ui.type_keys("/stuck\r");
    ui.wait_for("only the stuck run", |s| !s.contains("Board Report"));
    ui.type_keys("x");
    ui.wait_for("the cancel dialog", |s| s.contains("Cancel this run?"));
    ui.type_keys("y");
    ui.wait_for("KILLED", |s| {
        s.lines()
            .any(|l| l.contains("Stuck Job") && l.contains("KILLED"))
    });
    let killed = emu.runs().into_iter().find(|r| r.run_id == stuck.run_id);
    assert_eq!(
        killed.map(|r| r.status.to_string()),
        Some("KILLED".to_string())
    );

    ui.type_keys("q");
    ui.wait_for("the quit question or the end", |s| {
        s.contains("Quit hexdash?") || !s.contains("1 Projects")
    });
    if ui.screen().contains("Quit hexdash?") {
        ui.type_keys("y");
    }
    assert_eq!(ui.wait_exit(), 0, "{}", ui.screen());
    ui.assert_restored();

    // In the store: each found run once, with Hex's trigger; the ignored project never asked.
    let found: Vec<(String, String)> = home
        .events_json()
        .iter()
        .filter(|e| e["event"] == "watch" && e["origin"]["kind"] == "hex")
        .map(|e| {
            (
                e["run_id"].as_str().unwrap().to_string(),
                e["origin"]["trigger"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    for (run, trigger) in [
        (&stuck.run_id, "APP_REFRESH"),
        (&quick.run_id, "SCHEDULED"),
        (&colleague.run_id, "API"),
        (&blink.run_id, "SCHEDULED"),
    ] {
        assert_eq!(
            found.iter().filter(|(id, _)| id == run).count(),
            1,
            "{run} recorded once: {found:?}"
        );
        assert!(
            found.contains(&(run.clone(), trigger.to_string())),
            "{found:?}"
        );
    }
    let asked_ignored = control.requests().iter().any(|r| r.path.contains(IGNORED));
    assert!(!asked_ignored, "the ignored project was listed");
}
