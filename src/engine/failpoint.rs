//! Test pauses at the two moments of a launch that matter for crash safety, and a test panic.
//!
//! `HEXDASH_TEST_PAUSE_AT=after_intent` (or `after_post`, or both, comma-separated) makes a
//! launch stop for `HEXDASH_TEST_PAUSE_MS` (default 5000) right after its intent is synced, or
//! right after Hex's 201 arrived and before it is journalled, so the crash test can SIGKILL the
//! process exactly there instead of hoping a random moment hits a millisecond-wide window. With
//! the variable unset (always, outside that test) this is one environment lookup per launch; in a
//! release build it is nothing at all (STYLE.md: test hooks stay out of the release binary).
//!
//! `HEXDASH_TEST_PANIC_AT=poll` panics in the task that sends a status poll (with
//! `HEXDASH_TEST_PANIC_TEXT` in the message), so a test can prove that a panicking background
//! task ends the process with one clear line. Compiled into debug builds only (`cargo test`
//! builds those): a release binary has no way to be told to panic.

#[cfg(debug_assertions)]
use std::time::Duration;

#[cfg(debug_assertions)]
const POINTS_VAR: &str = "HEXDASH_TEST_PAUSE_AT";
#[cfg(debug_assertions)]
const MILLIS_VAR: &str = "HEXDASH_TEST_PAUSE_MS";
#[cfg(debug_assertions)]
const PANIC_VAR: &str = "HEXDASH_TEST_PANIC_AT";
#[cfg(debug_assertions)]
const PANIC_TEXT_VAR: &str = "HEXDASH_TEST_PANIC_TEXT";

#[cfg(not(debug_assertions))]
pub(crate) async fn pause_at(_point: &str) {}

#[cfg(debug_assertions)]
pub(crate) async fn pause_at(point: &str) {
    let Ok(points) = std::env::var(POINTS_VAR) else {
        return;
    };
    if !points.split(',').any(|p| p.trim() == point) {
        return;
    }
    let millis = std::env::var(MILLIS_VAR)
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(5000);
    tracing::warn!(point, millis, "pausing at a test pause point");
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

#[cfg(debug_assertions)]
pub(crate) fn panic_at(point: &str) {
    let Ok(points) = std::env::var(PANIC_VAR) else {
        return;
    };
    if points.split(',').any(|p| p.trim() == point) {
        let text = std::env::var(PANIC_TEXT_VAR).unwrap_or_default();
        panic!("forced by {PANIC_VAR}={point}: {text}");
    }
}

#[cfg(not(debug_assertions))]
pub(crate) fn panic_at(_point: &str) {}
