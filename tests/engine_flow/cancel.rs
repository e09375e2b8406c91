//! Cancel until dead: confirmed only by a terminal status, reported when it cannot be seen to
//! work before the deadline, and sent by the engine itself for a run past its kill-on-timeout.

use super::*;

/// A cancel is "requested" until Hex reports the run dead, then confirmed with KILLED; a
/// cancel of a run that already ended says so.
#[tokio::test]
async fn a_cancel_is_confirmed_only_when_hex_reports_the_run_dead() {
    let env = env(7).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let key = launch_running(&engine, &mut rx, request(HANG, 7)).await;

    let sent = guard("cancel", engine.cancel(&key, Origin::Tui))
        .await
        .unwrap();
    assert!(!sent.already_ended);
    let seen = changes_until(&mut rx, &key, Change::Ended).await;
    let kinds = changes(&seen);
    let [requested, confirmed] =
        in_order(&kinds, [Change::CancelRequested, Change::CancelConfirmed]);
    let (_, requested_view) = &seen[requested];
    assert!(matches!(
        requested_view.cancel,
        CancelState::Requested { .. }
    ));
    let (_, confirmed_view) = &seen[confirmed];
    assert_eq!(confirmed_view.status, Some(RunStatus::Killed));
    assert!(matches!(
        confirmed_view.cancel,
        CancelState::Confirmed {
            status: RunStatus::Killed,
            ..
        }
    ));
    assert_eq!(seen.last().unwrap().1.status, Some(RunStatus::Killed));

    in_order(
        &env.run_kinds(&key),
        ["cancel_requested", "cancel_confirmed"],
    );
    let record = env.journal();
    let record = record.run(HANG, &key.run_id).unwrap();
    assert_eq!(record.status, Some(RunStatus::Killed));
    assert_eq!(env.emu.control().runs()[0].status, RunStatus::Killed);

    // Again, now that it is dead: Hex answers 422 and the engine says it had already ended.
    let again = guard("second cancel", engine.cancel(&key, Origin::Tui))
        .await
        .unwrap();
    assert!(again.already_ended);
    let cancels: Vec<Option<u16>> = env
        .requests(Operation::CancelRun)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(cancels, [Some(204), Some(422)]);
    assert_eq!(
        engine.view(&key).unwrap().status,
        Some(RunStatus::Killed),
        "the ended run keeps its final status"
    );
}

/// Hex accepted the cancel but the run's status cannot be read before the deadline: the
/// engine says so (and journals it), keeps polling, and confirms once it can see the end.
#[tokio::test]
async fn a_cancel_that_cannot_be_seen_to_work_is_reported_not_confirmed() {
    let env = env(8).await;
    let mut options = env.options();
    options.cancel_deadline = Duration::from_millis(1500);
    let started = env.start_with(options);
    let engine = started.engine;
    let mut rx = engine.subscribe();
    let key = launch_running(&engine, &mut rx, request(HANG, 8)).await;

    let blind = json!({"error_rate": 1.0, "error_statuses": [500]});
    env.set_faults(json!({"GetRunStatus": blind, "GetProjectRuns": blind}));
    let sent = guard("cancel", engine.cancel(&key, Origin::Cli))
        .await
        .unwrap();
    assert!(!sent.already_ended);
    let seen = changes_until(&mut rx, &key, Change::CancelNotConfirmed).await;
    let kinds = changes(&seen);
    assert!(kinds.contains(&Change::CancelRequested), "{kinds:?}");
    assert!(!kinds.contains(&Change::CancelConfirmed), "{kinds:?}");
    let (_, view) = seen.last().unwrap();
    assert!(matches!(view.cancel, CancelState::NotConfirmed { .. }));
    let health = engine.health();
    assert!(
        health.error.as_deref().is_some_and(|e| e.contains("500")),
        "{health:?}"
    );
    assert_eq!(
        view.status,
        Some(RunStatus::Running),
        "last good status kept"
    );
    assert!(view.stale.is_some(), "and marked stale");
    let run_kinds = env.run_kinds(&key);
    assert!(run_kinds.contains(&"cancel_not_confirmed"), "{run_kinds:?}");
    assert!(!run_kinds.contains(&"cancel_confirmed"), "{run_kinds:?}");
    // Hex did kill it; the engine just could not see that.
    assert_eq!(env.emu.control().runs()[0].status, RunStatus::Killed);

    env.clear_faults();
    let seen = changes_until(&mut rx, &key, Change::Ended).await;
    assert!(changes(&seen).contains(&Change::CancelConfirmed));
    assert_eq!(seen.last().unwrap().1.status, Some(RunStatus::Killed));
    in_order(
        &env.run_kinds(&key),
        ["cancel_not_confirmed", "cancel_confirmed"],
    );
    assert_eq!(
        env.requests(Operation::CancelRun).len(),
        1,
        "not re-sent by itself"
    );
}

/// A run past its timeout with kill-on-timeout is reported timed out, then cancelled until
/// Hex reports it KILLED.
#[tokio::test]
async fn a_timed_out_run_with_kill_on_timeout_is_killed() {
    let env = env(9).await;
    let engine = env.engine();
    let mut rx = engine.subscribe();
    let mut req = request(HANG, 9);
    req.options = LaunchOptions {
        timeout_secs: Some(1),
        kill_on_timeout: true,
        ..LaunchOptions::default()
    };
    let launched = guard("launch", engine.launch(req)).await.unwrap();
    let seen = changes_until(&mut rx, &launched.key, Change::Ended).await;
    let kinds = changes(&seen);
    in_order(
        &kinds,
        [
            Change::TimedOut,
            Change::CancelRequested,
            Change::CancelConfirmed,
        ],
    );
    let (_, last) = seen.last().unwrap();
    assert_eq!(last.status, Some(RunStatus::Killed));
    assert!(last.timed_out);
    assert_eq!(env.emu.control().runs()[0].status, RunStatus::Killed);
    assert_eq!(env.requests(Operation::CancelRun).len(), 1);
    let run_kinds = env.run_kinds(&launched.key);
    assert!(run_kinds.contains(&"cancel_requested"), "{run_kinds:?}");
    assert!(run_kinds.contains(&"cancel_confirmed"), "{run_kinds:?}");
}

/// A cancel sent just before hexdash restarted is still followed after the restart: polled
/// fast, reported not confirmed when the deadline passes without a visible end, and confirmed
/// once Hex is seen to report the run dead.
#[tokio::test]
async fn a_cancel_sent_before_a_restart_is_followed_after_it() {
    let env = env(17).await;
    let mut options = env.options();
    options.cancel_deadline = Duration::from_millis(1500);
    let blind = json!({"error_rate": 1.0, "error_statuses": [500]});
    let key = {
        let engine = env.start_with(options.clone()).engine;
        let mut rx = engine.subscribe();
        let key = launch_running(&engine, &mut rx, request(HANG, 17)).await;
        env.set_faults(json!({"GetRunStatus": blind, "GetProjectRuns": blind}));
        let sent = guard("cancel", engine.cancel(&key, Origin::Tui))
            .await
            .unwrap();
        assert!(!sent.already_ended);
        key
    };

    let started = start_writer(&env, &options).await;
    let engine = started.engine;
    let mut rx = engine.subscribe();
    let view = engine.view(&key).expect("re-attached");
    assert!(
        matches!(view.cancel, CancelState::Requested { .. }),
        "{view:?}"
    );
    let seen = changes_until(&mut rx, &key, Change::CancelNotConfirmed).await;
    assert!(!changes(&seen).contains(&Change::CancelConfirmed));

    env.clear_faults();
    let seen = changes_until(&mut rx, &key, Change::Ended).await;
    assert!(changes(&seen).contains(&Change::CancelConfirmed));
    assert_eq!(seen.last().unwrap().1.status, Some(RunStatus::Killed));
    let run_kinds: Vec<_> = env
        .run_kinds(&key)
        .into_iter()
        .filter(|k| k.starts_with("cancel"))
        .collect();
    assert_eq!(
        run_kinds,
        [
            "cancel_requested",
            "cancel_not_confirmed",
            "cancel_confirmed"
        ]
    );
    assert_eq!(
        env.requests(Operation::CancelRun).len(),
        1,
        "the restart did not re-send it"
    );
}
