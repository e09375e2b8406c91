//! Test pauses at the two moments of a launch that matter for crash safety.
//!
//! `HEXDASH_TEST_PAUSE_AT=after_intent` (or `after_post`, or both, comma-separated) makes a
//! launch stop for `HEXDASH_TEST_PAUSE_MS` (default 5000) right after its intent is synced, or
//! right after Hex's 201 arrived and before it is journalled, so the crash test can SIGKILL the
//! process exactly there instead of hoping a random moment hits a millisecond-wide window. With
//! the variable unset (always, outside that test) this is one environment lookup per launch.

use std::time::Duration;

const POINTS_VAR: &str = "HEXDASH_TEST_PAUSE_AT";
const MILLIS_VAR: &str = "HEXDASH_TEST_PAUSE_MS";

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
