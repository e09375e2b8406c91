#![allow(clippy::unwrap_used, clippy::expect_used)]
//! hexdash against a server that misbehaves on purpose (`common::hostile`): absurd headers,
//! endless and huge bodies, redirects, odd statuses. Nothing may panic, hang or grow without
//! bound; every case ends in a clear message and the documented exit code.

mod common;

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::hostile::{Hostile, Reply, Request};
use common::scenario::{self as sc, project};
use common::{Emu, Home, Outcome, TOKEN, wait_until};

const PROJECT: &str = "11111111-1111-4111-8111-111111111111";
const RUN: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";

/// Absurd Retry-After values: a float too big for a `Duration`, an integer too big for a `u64`,
/// the largest `u64` (which overflows an `Instant`), and an HTTP date far in the future.
const ABSURD: [&str; 4] = [
    "1e30",
    "99999999999999999999",
    "18446744073709551615",
    "Fri, 31 Dec 9999 23:59:59 GMT",
];

/// A config that keeps a broken fix from hurting the machine: a short request timeout, so an
/// endless body ends even if the size cap does not work, and no retries.
const SHORT_HTTP: &str = "[http]\nrequest_timeout = \"5s\"\nmax_retries = 0\n";

fn assert_no_panic(out: &Outcome, what: &str) {
    assert!(
        !out.all().contains("panicked") && out.code != 101,
        "{what} panicked:\n{}",
        out.all()
    );
    assert!(
        !out.all().contains(TOKEN),
        "{what}: the token leaked:\n{}",
        out.all()
    );
}

// ----- item 1: Retry-After on a 429 --------------------------------------------------------

#[test]
fn an_absurd_retry_after_on_a_429_is_capped_and_named_not_a_panic() {
    for absurd in ABSURD {
        let server = Hostile::start(move |_| Reply::http(429, &[("Retry-After", absurd)], ""));
        let home = Home::new();
        let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
        assert_no_panic(&out, &format!("Retry-After: {absurd}"));
        out.expect_code(5);
        assert!(
            out.stderr.contains("absurd") && out.stderr.contains(absurd),
            "Retry-After: {absurd}: the message names the absurd wait:\n{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("at most 5 min"),
            "Retry-After: {absurd}: the message says what hexdash does instead:\n{}",
            out.stderr
        );
    }
}

// ----- item 2: the same on a poll, and the safety net for panicking tasks -------------------

fn run_created() -> String {
    format!(
        r#"{{"projectId":"{PROJECT}","runId":"{RUN}","runUrl":"https://app.hex.tech/r/{RUN}",
"runStatusUrl":"https://app.hex.tech/api/v1/projects/{PROJECT}/runs/{RUN}","traceId":"t-1",
"projectVersion":1}}"#
    )
}

fn runs_listing(running: bool) -> String {
    let runs = if running {
        format!(
            r#"{{"projectId":"{PROJECT}","runId":"{RUN}","runUrl":"https://app.hex.tech/r/{RUN}",
"status":"RUNNING","startTime":"2026-01-01T00:00:00.000Z","endTime":null,"elapsedTime":1000,
"traceId":"t-2","projectVersion":1}}"#
        )
    } else {
        String::new()
    };
    format!(r#"{{"runs":[{runs}],"nextPage":null,"previousPage":null,"traceId":"t-3"}}"#)
}

/// A Hex that answers the first listing of the project's runs with `first_listing` and the
/// launch with a 201, and every status poll after that (a run's status, or a listing) with a
/// 429 asking for `retry_after`.
fn rate_limits_polls(retry_after: &'static str, first_listing: String) -> Hostile {
    let runs_path = format!("/api/v1/projects/{PROJECT}/runs");
    let run_path = format!("{runs_path}/{RUN}");
    let listed = AtomicBool::new(false);
    let launched = AtomicBool::new(false);
    Hostile::start(move |req: &Request| {
        let path = req.path.split('?').next().unwrap_or_default();
        let limited = || {
            Reply::http(
                429,
                &[("Retry-After", retry_after)],
                r#"{"reason":"Too many requests"}"#,
            )
        };
        match req.method.as_str() {
            "POST" if path == runs_path => {
                launched.store(true, Ordering::SeqCst);
                Reply::http(201, &[("Content-Type", "application/json")], &run_created())
            }
            "GET" if path == runs_path => {
                let first = !listed.swap(true, Ordering::SeqCst);
                if first && !launched.load(Ordering::SeqCst) {
                    Reply::json(&first_listing)
                } else {
                    limited()
                }
            }
            "GET" if path == run_path => limited(),
            _ => Reply::http(404, &[], r#"{"reason":"not scripted"}"#),
        }
    })
}

fn polls(server: &Hostile) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/runs"))
        .count()
}

#[test]
fn run_wait_keeps_waiting_through_an_absurd_retry_after_on_a_poll() {
    for absurd in ["1e30", "18446744073709551615"] {
        let server = rate_limits_polls(absurd, runs_listing(false));
        let home = Home::new();
        let out = Outcome::run(home.against(
            &server.base_url(),
            TOKEN,
            &["run", PROJECT, "--wait", "--timeout", "3s"],
        ));
        assert_no_panic(&out, &format!("run --wait, Retry-After: {absurd}"));
        // It kept waiting (within a capped pause) until its own timeout, and said why nothing
        // new came in.
        out.expect_code(3);
        assert!(
            out.stderr.contains("absurd") && out.stderr.contains("still waiting"),
            "Retry-After: {absurd}: the wait names the absurd pause:\n{}",
            out.stderr
        );
        assert!(
            polls(&server) >= 1,
            "the run was polled: {:?}",
            server.requests()
        );
    }
}

/// A `hexdash` process watched while it runs; killed and reaped on drop.
struct Running {
    child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Running {
    fn spawn(home: &Home, base_url: &str, args: &[&str]) -> Running {
        let stdout = home.path().join("spawned.out");
        let stderr = home.path().join("spawned.err");
        let child = home
            .std_command(args)
            .env("HEX_API_URL", base_url)
            .env("HEX_API_TOKEN", TOKEN)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        Running {
            child,
            stdout,
            stderr,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    fn all(&self) -> String {
        let err = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        format!("--- stdout:\n{}--- stderr:\n{err}", self.stdout())
    }

    /// SIGTERM, then the exit code (killed if it does not end in time).
    fn terminate(&mut self) -> i32 {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let mut code = None;
        wait_until(
            "the process to end after SIGTERM",
            Duration::from_secs(30),
            || {
                code = self
                    .child
                    .try_wait()
                    .unwrap()
                    .map(|s| s.code().unwrap_or(-1));
                code.is_some()
            },
        );
        code.unwrap_or(-1)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_keeps_following_through_an_absurd_retry_after_on_a_poll() {
    let server = rate_limits_polls("18446744073709551615", runs_listing(true));
    let home = Home::new();
    let mut watch = Running::spawn(&home, &server.base_url(), &["watch", PROJECT]);
    // The run is found, polled, refused with the absurd pause, and the watch says so.
    wait_until(
        "watch to report the absurd pause",
        Duration::from_secs(30),
        || watch.stdout().contains("absurd") || watch.child.try_wait().unwrap().is_some(),
    );
    assert!(
        watch.child.try_wait().unwrap().is_none(),
        "watch ended instead of waiting on:\n{}",
        watch.all()
    );
    let code = watch.terminate();
    let all = watch.all();
    assert!(!all.contains("panicked"), "watch panicked:\n{all}");
    assert_eq!(code, 130, "watch ends as interrupted on SIGTERM:\n{all}");
    assert!(
        polls(&server) >= 2,
        "listed, then polled: {:?}",
        server.requests()
    );
}

/// The panic safety net, through a test-only panic in the poll task (`HEXDASH_TEST_PANIC_AT`,
/// compiled into debug builds only, which is what `cargo test` runs).
#[cfg_attr(not(debug_assertions), ignore = "needs the debug build's test panic")]
#[test]
fn a_panic_in_a_background_task_ends_the_process_with_one_clear_line() {
    let emu = Emu::start(
        &sc::scenario()
            .seed(7)
            .project(
                project(PROJECT, "Slow")
                    .owner("a@acme.example")
                    .published(3.0)
                    .runs([1.0, 1.0], [3600.0, 3600.0]),
            )
            .toml(),
    );
    let home = Home::new();
    let mut cmd = home.against(
        &emu.base_url(),
        TOKEN,
        &["run", PROJECT, "--wait", "--timeout", "30s"],
    );
    // The panic message carries an escape sequence and the token, which must not get out.
    cmd.env("HEXDASH_TEST_PANIC_AT", "poll")
        .env("HEXDASH_TEST_PANIC_TEXT", format!("\x1b[31mred {TOKEN}"));
    let out = Outcome::run(cmd);
    out.expect_code(70);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("internal error"))
        .collect();
    assert_eq!(lines.len(), 1, "one line names the bug:\n{}", out.stderr);
    let line = lines[0];
    assert!(
        line.starts_with("hexdash: internal error:") && line.contains("this is a bug"),
        "{line}"
    );
    assert!(
        line.contains("red"),
        "the panic's own message is kept: {line}"
    );
    assert!(
        !out.all().contains(TOKEN),
        "the token leaked:\n{}",
        out.all()
    );
    assert!(
        !out.stderr.contains('\x1b'),
        "a control character got out: {line:?}"
    );
}

// ----- item 8: response bodies have a size cap ---------------------------------------------

#[test]
fn an_endless_body_is_cut_at_the_cap() {
    let server = Hostile::start(|_| Reply::EndlessChunked);
    let home = Home::with_config(SHORT_HTTP);
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    assert_no_panic(&out, "an endless body");
    out.expect_code(5);
    assert!(
        out.stderr.contains("larger than") && out.stderr.contains("4 MiB"),
        "the message names the cap, not a timeout:\n{}",
        out.stderr
    );
}

#[test]
fn a_server_paging_forever_cannot_fill_memory() {
    // Each page just under the per-answer cap, each with a new cursor: ~4 MiB more per page.
    let page = AtomicUsize::new(0);
    let server = Hostile::start(move |_| {
        let n = page.fetch_add(1, Ordering::SeqCst);
        let padding = " ".repeat(4 * 1024 * 1024 - 200);
        Reply::json(&format!(
            r#"{{"values":[{padding}],"pagination":{{"after":"cursor-{n}","before":null}}}}"#
        ))
    });
    let home = Home::with_config(SHORT_HTTP);
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    assert_no_panic(&out, "endless paging");
    out.expect_code(5);
    assert!(
        out.stderr.contains("project list passed 32 MiB"),
        "the message names the total cap:\n{}",
        out.stderr
    );
    assert!(
        server.requests().len() <= 10,
        "{} pages read",
        server.requests().len()
    );
}

#[test]
fn a_huge_body_is_refused_by_its_length() {
    let server = Hostile::start(|_| Reply::Sized {
        status: 200,
        len: 50 * 1024 * 1024,
        fill: b' ',
    });
    let home = Home::with_config(SHORT_HTTP);
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    assert_no_panic(&out, "a 50 MB body");
    out.expect_code(5);
    assert!(
        out.stderr.contains("larger than") && out.stderr.contains("4 MiB"),
        "the message names the cap:\n{}",
        out.stderr
    );
}

#[test]
fn a_huge_error_body_still_reports_the_status() {
    let server = Hostile::start(|_| Reply::Sized {
        status: 500,
        len: 20 * 1024 * 1024,
        fill: b'x',
    });
    let home = Home::with_config(SHORT_HTTP);
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    assert_no_panic(&out, "a 20 MB error body");
    out.expect_code(5);
    assert!(out.stderr.contains("500"), "{}", out.stderr);
    assert!(
        out.stderr.len() < 2000,
        "the body is not poured into the message:\n{}",
        out.stderr
    );
}

// ----- item 9: redirects are never followed ------------------------------------------------

/// A server that records what it gets, and the hostile server redirecting there.
fn redirecting_elsewhere(status: u16) -> (Hostile, Arc<Hostile>) {
    let elsewhere = Arc::new(Hostile::start(|_| Reply::json("{}")));
    let target = format!("http://{}/stolen", elsewhere.addr());
    let server = Hostile::start(move |_| Reply::http(status, &[("Location", target.as_str())], ""));
    (server, elsewhere)
}

#[test]
fn a_redirect_to_another_host_is_never_followed() {
    for status in [301, 302, 307, 308] {
        let (server, elsewhere) = redirecting_elsewhere(status);
        let home = Home::new();
        let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
        assert_no_panic(&out, &format!("a {status} redirect"));
        out.expect_code(5);
        assert!(
            out.stderr.contains(&format!("{}/stolen", elsewhere.addr()))
                && out.stderr.contains(&status.to_string()),
            "{status}: the message names the status and the target:\n{}",
            out.stderr
        );
        assert!(
            elsewhere.requests().is_empty(),
            "{status}: the redirect was followed: {:?}",
            elsewhere.requests()
        );
    }
}

#[test]
fn a_launch_redirected_elsewhere_is_never_resent() {
    let (server, elsewhere) = redirecting_elsewhere(307);
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["run", PROJECT]));
    assert_no_panic(&out, "a redirected launch");
    out.expect_code(5);
    assert!(
        elsewhere.requests().is_empty(),
        "the POST went elsewhere: {:?}",
        elsewhere.requests()
    );
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(
        posts,
        1,
        "sent once, never replayed: {:?}",
        server.requests()
    );
    // Whatever answered may have acted on the POST: the outcome stays unknown (the journal
    // keeps the intent for the next start to settle), never a launch to re-send.
    assert!(
        out.stderr.contains("whether a run was created")
            && out.stderr.contains("Nothing will be re-sent")
            && out.stderr.contains("/stolen"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_redirect_target_is_shown_without_control_characters() {
    // U+009B is an 8-bit CSI: some terminals start an escape sequence with it.
    let server = Hostile::start(|_| {
        Reply::http(
            302,
            &[("Location", "https://evil.example/\u{9b}31mred\u{202e}")],
            "",
        )
    });
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    out.expect_code(5);
    assert!(out.stderr.contains("evil.example"), "{}", out.stderr);
    assert!(
        !out.stderr.contains('\u{9b}') && !out.stderr.contains('\u{202e}'),
        "control characters got out: {:?}",
        out.stderr
    );
}

#[test]
fn a_redirect_target_is_shown_without_its_user_info() {
    let server = Hostile::start(|_| {
        Reply::http(
            302,
            &[("Location", "https://ops:p4ssw0rdSECRET@evil.example/x")],
            "",
        )
    });
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
    out.expect_code(5);
    assert!(
        out.stderr.contains("https://***@evil.example/x"),
        "{}",
        out.stderr
    );
    assert!(!out.all().contains("SECRET"), "{}", out.all());
}

// ----- item 19: statuses are named for what they are -----------------------------------------

#[test]
fn a_413_says_the_request_was_too_large() {
    let server = Hostile::start(|_| Reply::http(413, &[], "Request Entity Too Large"));
    let home = Home::new();
    let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["run", PROJECT]));
    assert_no_panic(&out, "a 413");
    out.expect_code(5);
    assert!(
        out.stderr.contains("413") && out.stderr.contains("too large"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("malformed"), "{}", out.stderr);
    // Refused: certainly nothing was created, so the launch is not left unknown.
    assert!(!out.stderr.contains("outcome unknown"), "{}", out.stderr);
}

#[test]
fn other_unexpected_4xx_statuses_are_named_not_called_malformed() {
    for status in [405, 409, 410, 418] {
        let server = Hostile::start(move |_| Reply::http(status, &[], "nope"));
        let home = Home::new();
        let out = Outcome::run(home.against(&server.base_url(), TOKEN, &["projects"]));
        assert_no_panic(&out, &format!("a {status}"));
        out.expect_code(5);
        assert!(
            out.stderr.contains(&format!("{status}")) && !out.stderr.contains("malformed"),
            "{status}: {}",
            out.stderr
        );
    }
}

/// A Hex that launches, reports the run RUNNING forever, and refuses every cancel (403).
fn refuses_cancels() -> Hostile {
    let runs_path = format!("/api/v1/projects/{PROJECT}/runs");
    let run_path = format!("{runs_path}/{RUN}");
    let launched = AtomicBool::new(false);
    Hostile::start(move |req: &Request| {
        let path = req.path.split('?').next().unwrap_or_default();
        match req.method.as_str() {
            "POST" if path == runs_path => {
                launched.store(true, Ordering::SeqCst);
                Reply::http(201, &[("Content-Type", "application/json")], &run_created())
            }
            "GET" if path == runs_path => {
                Reply::json(&runs_listing(launched.load(Ordering::SeqCst)))
            }
            "GET" if path == run_path => Reply::json(&format!(
                r#"{{"projectId":"{PROJECT}","runId":"{RUN}","status":"RUNNING",
"startTime":"2026-01-01T00:00:00.000Z","endTime":null,"elapsedTime":1000,"traceId":"t"}}"#
            )),
            "DELETE" => Reply::http(403, &[], r#"{"reason":"Forbidden"}"#),
            _ => Reply::http(404, &[], r#"{"reason":"Not found"}"#),
        }
    })
}

#[test]
fn run_wait_with_kill_on_timeout_ends_when_the_kill_fails() {
    let server = refuses_cancels();
    let home = Home::with_config(SHORT_HTTP);
    let out = Outcome::run(home.against(
        &server.base_url(),
        TOKEN,
        &[
            "run",
            PROJECT,
            "--wait",
            "--timeout",
            "2s",
            "--kill-on-timeout",
        ],
    ));
    assert_no_panic(&out, "run --wait --kill-on-timeout with a refused cancel");
    // It used to say "still waiting" and wait forever for an end nothing would bring.
    out.expect_code(3);
    assert!(
        out.stderr.contains("the cancel failed"),
        "the reason is named:\n{}",
        out.stderr
    );
    assert!(
        server.requests().iter().any(|r| r.method == "DELETE"),
        "the kill was tried: {:?}",
        server.requests()
    );
}
