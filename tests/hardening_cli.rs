#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The headless commands under hostile input (the hardening issue): absurd durations, control
//! characters from the server, loose permissions, a token hidden in a URL, parameters that would
//! not arrive as typed, endless files, and exit codes that mean what the README says.

mod common;

use common::hostile::{Hostile, Reply};
use common::scenario::{self as sc, project};
use common::{Emu, Home, Outcome, TOKEN, files_under};

const LOAD: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const EVIL: &str = "aaaaaaaa-0000-4000-8000-000000000002";

/// A title that clears the screen, retitles the window and rings the bell on a raw terminal.
const EVIL_TITLE_TOML: &str = r"Evil \u001b[2J\u001b]0;pwned\u0007 Title\u009b31m";
const EVIL_TITLE: &str = "Evil \x1b[2J\x1b]0;pwned\x07 Title\u{9b}31m";

fn scenario() -> String {
    sc::scenario()
        .seed(7)
        .project(
            project(LOAD, "Nightly Load")
                .param("day", "date", "\"2026-01-01\"")
                .param("rows", "number", "1")
                .runs([0.0, 0.0], [1.0, 1.0]),
        )
        .project(project(EVIL, EVIL_TITLE_TOML).runs([0.0, 0.0], [1.0, 1.0]))
        .toml()
}

fn config() -> String {
    sc::config()
        .project(
            LOAD,
            "load",
            Some(r#"[{ name = "day", type = "date" }, { name = "rows", type = "number" }]"#),
        )
        .project(EVIL, "evil", None)
        .toml()
}

fn setup() -> (Emu, Home) {
    (Emu::start(&scenario()), Home::with_config(&config()))
}

fn assert_no_raw_controls(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(
        raw.is_empty(),
        "{what} has raw control characters {raw:?}:\n{text}"
    );
}

#[test]
fn a_timeout_past_thirty_days_is_refused_before_anything_is_launched() {
    let (emu, home) = setup();
    for timeout in ["18446744073709551615s", "18446744073709551615", "721h"] {
        let out = home.hexdash(
            &emu,
            &[
                "run",
                "load",
                "--wait",
                "--timeout",
                timeout,
                "--kill-on-timeout",
            ],
        );
        out.expect_code(4);
        assert!(out.stderr.contains("30 days"), "{timeout}: {}", out.stderr);
    }
    assert!(
        emu.runs().is_empty(),
        "nothing may be launched: {:?}",
        emu.runs()
    );
}

#[test]
fn control_characters_from_the_server_are_shown_escaped_never_obeyed() {
    let (emu, home) = setup();
    let out = home.hexdash(&emu, &["projects"]);
    out.expect_code(0);
    assert_no_raw_controls("projects", &out.all());
    assert!(
        out.stdout
            .contains(r"Evil \x1b[2J\x1b]0;pwned\x07 Title\x9b31m"),
        "{}",
        out.stdout
    );

    // --json stays exact JSON: the title round-trips to the very same string.
    let out = home.hexdash(&emu, &["projects", "--json"]);
    out.expect_code(0);
    assert_no_raw_controls("projects --json", &out.stdout);
    let titles: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap().to_string())
        .collect();
    assert!(titles.iter().any(|t| t == EVIL_TITLE), "{titles:?}");

    let out = home.hexdash(&emu, &["run", EVIL_TITLE, "--wait"]);
    out.expect_code(0);
    assert_no_raw_controls("run --wait", &out.all());
    assert!(out.all().contains(r"\x1b"), "{}", out.all());

    // The journal keeps the title (as JSON, escaped); `history` replays it escaped.
    let out = home.hexdash(&emu, &["history"]);
    out.expect_code(0);
    assert_no_raw_controls("history", &out.all());

    // The log is text: escaped. The store is binary, but every event in it is JSON text, where
    // ESC and BEL can only appear escaped (a `sqlite3` user sees `\u001b`, not a colour change).
    for file in files_under(&home.data_dir()) {
        if file.extension().is_some_and(|e| e == "log") {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.contains(&0x1b) && !bytes.contains(&0x07),
                "{} holds a raw control character",
                file.display()
            );
        }
    }
    let conn = rusqlite::Connection::open(home.store_file()).unwrap();
    let mut stmt = conn.prepare("SELECT body FROM events").unwrap();
    let bodies: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(bodies.iter().any(|b| b.contains(r"\u001b")), "{bodies:?}");
    for body in bodies {
        assert!(!body.contains('\x1b') && !body.contains('\x07'), "{body}");
    }
    // The cached project list holds the title as JSON, escaped like the events.
    let cached: String = conn
        .query_row("SELECT projects FROM project_cache", [], |row| row.get(0))
        .unwrap();
    assert!(cached.contains(r"Evil \u001b[2J"), "{cached}");
    assert!(!cached.contains(['\x1b', '\x07']), "{cached}");
}

#[test]
fn control_characters_in_an_error_body_are_escaped_in_the_message() {
    let server = Hostile::start(|_| {
        Reply::http(
            404,
            &[],
            "\x1b[2J\x1b]52;c;cm0gLXJmIH4=\x07 no such project",
        )
    });
    let home = Home::with_config(&config());
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["status", "load", "r-1"]));
    out.expect_code(5);
    assert_no_raw_controls("status", &out.all());
    assert!(out.stderr.contains(r"\x1b[2J"), "{}", out.stderr);
    let log = std::fs::read_to_string(home.data_dir().join("logs/hexdash.log")).unwrap_or_default();
    assert_no_raw_controls("the log", &log);
}

#[cfg(unix)]
#[test]
fn the_data_dir_is_private_and_a_loose_one_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let (emu, home) = setup();
    home.hexdash(&emu, &["run", "load", "-p", "day=2026-01-02", "--wait"])
        .expect_code(0);
    let data = home.data_dir();
    assert_eq!(mode(&data), 0o700, "the data dir");
    let files = files_under(&data);
    assert!(files.len() >= 2, "store and log expected: {files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&data.join("logs")), 0o700);

    // As an older hexdash left it: a loose data dir and loose files in it.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for file in files_under(&data) {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = home.hexdash(&emu, &["run", "load", "-p", "day=2026-01-03"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("readable by other users") && out.stderr.contains("chmod 700"),
        "{}",
        out.stderr
    );
    // The files hexdash writes are made private again; the dir it did not create is named.
    for file in files_under(&data) {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // Offline readers warn too.
    for args in [&["history"][..], &["pipeline", "list"][..]] {
        let out = home.offline(args);
        out.expect_code(0);
        assert!(out.stderr.contains("chmod 700"), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn a_token_in_the_url_is_refused_and_never_printed() {
    let home = Home::with_config(&config());
    let url = "https://ops:hxtp_URLSECRET42@app.hex.tech/api/v1";
    let out = Outcome::run(home.against(url, TOKEN, &["projects"]));
    out.expect_code(4);
    assert!(!out.all().contains("URLSECRET"), "{}", out.all());
    assert!(
        out.stderr.contains("https://***@app.hex.tech"),
        "{}",
        out.stderr
    );

    // Anywhere else in the URL too: a query or a path segment.
    for url in [
        url,
        "http://127.0.0.1:9/api/v1?t=hxtp_URLSECRET42",
        "https://app.hex.tech/hxtp_URLSECRET42/api/v1",
    ] {
        let mut cmd = home.command(&["config", "check"]);
        cmd.env("HEX_API_URL", url).env("HEX_API_TOKEN", TOKEN);
        let out = Outcome::run(cmd);
        out.expect_code(4);
        assert!(!out.all().contains("URLSECRET"), "{url}: {}", out.all());
    }
}

#[test]
fn parameters_that_would_not_arrive_as_typed_are_refused_before_sending() {
    let (emu, home) = setup();
    for (param, want) in [
        ("day=2026-01-01Tjunk; DROP TABLE x", "is not a date"),
        ("rows=123456789012345678901234567890", "too many digits"),
        ("rows=nan", "finite"),
    ] {
        let out = home.hexdash(&emu, &["run", "load", "-p", param]);
        out.expect_code(4);
        assert!(out.stderr.contains(want), "{param}: {}", out.stderr);
    }
    let params = home.path().join("p.toml");
    std::fs::write(&params, "day = 2026-01-01\nrows = inf\n").unwrap();
    let out = home.hexdash(
        &emu,
        &["run", "load", "--params-file", params.to_str().unwrap()],
    );
    out.expect_code(4);
    assert!(out.stderr.contains("p.toml:2:8"), "{}", out.stderr);
    assert!(
        emu.runs().is_empty(),
        "nothing may be sent: {:?}",
        emu.runs()
    );
}

#[cfg(unix)]
#[test]
fn endless_and_huge_files_are_refused_with_one_line() {
    let home = Home::new();
    let out = home.offline(&["--config", "/dev/zero", "config", "check"]);
    out.expect_code(4);
    assert!(out.stderr.contains("larger than 1 MiB"), "{}", out.stderr);

    let huge = home.path().join("huge.toml");
    std::fs::write(
        &huge,
        format!("[profiles.x]\nbase_url = \"{}\"\n", "y".repeat(400_000)),
    )
    .unwrap();
    let out = home.offline(&["--config", huge.to_str().unwrap(), "config", "check"]);
    out.expect_code(4);
    assert!(
        out.stderr.len() < 2_000,
        "{} bytes of stderr",
        out.stderr.len()
    );

    let out = Outcome::run(home.command(&["emulator", "--scenario", "/dev/zero"]));
    out.expect_code(4);
    assert!(out.stderr.contains("larger than 8 MiB"), "{}", out.stderr);
}

#[test]
fn a_journal_that_cannot_be_opened_is_a_local_error_not_an_api_error() {
    let (emu, home) = setup();
    // A directory where the journal file should be: unopenable, also for root.
    std::fs::create_dir_all(home.store_file()).unwrap();
    let out = home.hexdash(&emu, &["run", "load", "-p", "day=2026-01-02"]);
    out.expect_code(4);
    assert!(
        out.stderr.contains("cannot open the store"),
        "{}",
        out.stderr
    );

    // A device in its place is refused, not read forever.
    #[cfg(unix)]
    {
        std::fs::remove_dir(home.store_file()).unwrap();
        std::os::unix::fs::symlink("/dev/zero", home.store_file()).unwrap();
        for args in [
            &["history"][..],
            &["run", "load", "-p", "day=2026-01-02"][..],
        ] {
            let out = home.hexdash(&emu, args);
            out.expect_code(4);
            assert!(
                out.stderr.contains("not a regular file"),
                "{args:?}: {}",
                out.stderr
            );
        }
    }
    assert!(emu.runs().is_empty());
}

#[test]
fn dash_v_logs_to_stderr_for_headless_commands_as_help_says() {
    let (emu, home) = setup();
    let out = home.hexdash(&emu, &["-v", "run", "load", "-p", "day=2026-01-02"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("INFO") && out.stderr.contains("launched"),
        "stderr: {}",
        out.stderr
    );
    let out = home.hexdash(&emu, &["run", "load", "-p", "day=2026-01-03"]);
    out.expect_code(0);
    assert!(!out.stderr.contains("INFO"), "{}", out.stderr);
    // Every request at debug level, so -v shows where the budget goes; never the token.
    let out = home.hexdash(&emu, &["-v", "projects"]);
    out.expect_code(0);
    assert!(
        out.stderr.contains("DEBUG") && out.stderr.contains("ListProjects"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains(TOKEN));
}

#[test]
fn config_check_warns_about_the_key_bindings_the_dashboard_would_ignore() {
    let home = Home::with_config("[keys]\ncancle_run = \"x\"\nquit = \"ctrl-\"\n");
    let out = home.offline(&["config", "check"]);
    out.expect_code(0);
    assert!(
        out.stdout.contains("cancle_run") && out.stdout.contains("cancel_run"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("warnings:     none"), "{}", out.stdout);
    assert!(
        out.stdout.contains(r#"(did you mean "cancel_run"?)"#),
        "one hint, said once: {}",
        out.stdout
    );
}

#[test]
fn pipeline_commands_escape_control_characters_and_exit_4_on_a_local_journal_problem() {
    let (emu, home) = setup();
    let file = home.path().join("p.toml");
    std::fs::write(
        &file,
        "name = \"p\"\n[[steps]]\nid = \"a\"\nproject = \"load\"\n\
         params = { day = \"2026-01-01\" }\n\
         [[steps]]\nid = \"b\"\nproject = \"Evil \\u001b]0;pwned\\u0007\"\n",
    )
    .unwrap();
    let out = home.hexdash(
        &emu,
        &["pipeline", "validate", "--file", file.to_str().unwrap()],
    );
    assert_no_raw_controls("pipeline validate", &out.all());
    assert!(out.all().contains("step \"b\""), "{}", out.all());

    std::fs::write(
        &file,
        "name = \"p\"\n[[steps]]\nid = \"a\"\nproject = \"load\"\n\
         params = { day = \"2026-01-01\" }\n",
    )
    .unwrap();
    // `validate` cached the project list (step b's title) in the store: a directory in its place.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(home.data_dir().join(format!("hexdash.db{suffix}")));
    }
    std::fs::create_dir_all(home.store_file()).unwrap();
    let out = home.hexdash(
        &emu,
        &[
            "pipeline",
            "run",
            "--file",
            file.to_str().unwrap(),
            "--wait",
        ],
    );
    out.expect_code(4);
    assert!(out.stderr.contains("journal"), "{}", out.stderr);
    assert!(emu.runs().is_empty(), "nothing launched: {:?}", emu.runs());
}
