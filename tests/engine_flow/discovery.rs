//! Discovery fed by the project list: `analytics.publishedResultsUpdatedAt` moving between two
//! lists has its project listed at once, not at its next round. The project has a schedule (12 h
//! away), so the written time is no sign of activity of its own and its round is the dormant
//! one, five minutes: a listing inside the one-minute guard is the hint's doing.

use super::*;
use hexdash::engine::WorkspaceProject;

fn project(results_at: Timestamp) -> WorkspaceProject {
    let hour = (Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).hour() + 12) % 24;
    let daily = serde_json::from_value(json!({
        "cadence": "DAILY",
        "enabled": true,
        "daily": {"hour": hour, "minute": 0, "timezone": "UTC"}
    }))
    .unwrap();
    WorkspaceProject {
        id: FAST.into(),
        followed: false,
        schedules: vec![daily],
        results_updated_at: Some(results_at),
    }
}

async fn listed(rx: &mut broadcast::Receiver<Update>, what: &str) {
    until(rx, what, |u| match u {
        Update::Listed { project_id, .. } if project_id == FAST => Some(()),
        _ => None,
    })
    .await;
}

#[tokio::test]
async fn published_results_written_since_the_last_list_have_the_project_listed_now() {
    let env = env(31).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();
    // Written an hour ago (by its schedule's run): listed once, then every five minutes.
    let old = Timestamp::now() - SignedDuration::from_hours(1);
    engine.discover(vec![project(old)]);
    listed(&mut rx, "the first listing").await;
    let first = env.requests(Operation::GetProjectRuns).len();

    // The same time in the next list: no hint (the list after it is compared with this one).
    engine.discover(vec![project(old)]);
    // Written just now (a run that writes the app completed): listed again at once — inside
    // the guard, where the dormant round would take five minutes.
    engine.discover(vec![project(Timestamp::now())]);
    listed(&mut rx, "the listing the hint asked for").await;
    assert_eq!(env.requests(Operation::GetProjectRuns).len(), first + 1);
}

/// A run that starts and ends between two listings of its project is still recorded, ended,
/// with Hex's trigger: the emulator's clock is moved past the run's end before the second
/// listing, so the run is never seen active.
#[tokio::test]
async fn a_run_that_started_and_ended_between_two_listings_is_recorded_ended() {
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let shared: SharedClock = clock.clone();
    let env = env_with_clock(33, shared).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let written = Timestamp::now() - SignedDuration::from_hours(1);
    engine.discover(vec![project(written)]);
    listed(&mut rx, "the first listing").await;

    let blink = env
        .emu
        .control()
        .start_run(FAST, "SCHEDULED", None)
        .unwrap();
    // FAST: PENDING 0.3 s, RUNNING 1.5 s; ten seconds on it is long over.
    clock.advance(SignedDuration::from_secs(10));
    engine.discover(vec![project(Timestamp::now())]);
    listed(&mut rx, "the second listing").await;

    let journal = env.journal();
    let record = journal.run(FAST, &blink.run_id).expect("recorded");
    assert_eq!(record.status, Some(RunStatus::Completed));
    assert!(
        matches!(&record.watch_origin, Some(Origin::Hex { trigger, .. }) if trigger.as_deref() == Some("SCHEDULED")),
        "{:?}",
        record.watch_origin
    );
    assert!(
        !env.requests(Operation::GetRunStatus)
            .iter()
            .any(|r| r.path.contains(&blink.run_id)),
        "never polled: it was over when found"
    );
}
