//! Re-attach after a restart, and the reconciliation of launch intents a crashed hexdash left
//! in the journal (adopted when their run exists, abandoned when it does not).

use super::*;

/// A restarted engine re-attaches to a run the previous one launched, polls it to its end,
/// and launches nothing itself.
#[tokio::test]
async fn a_restarted_engine_reattaches_and_follows_the_run_to_its_end() {
    let env = env(5).await;
    let launched = {
        let engine = env.engine();
        let mut rx = engine.subscribe();
        let launched = guard("launch", engine.launch(request(SLOW, 5)))
            .await
            .unwrap();
        until(&mut rx, "the first status", |u| match u {
            Update::Run { change, view } if view.key == launched.key => {
                (*change == Change::Status).then_some(())
            }
            _ => None,
        })
        .await;
        launched
    };

    let started = start_writer(&env, &env.options()).await;
    assert_eq!(started.reattached, 1);
    assert!(started.warnings.is_empty(), "{:?}", started.warnings);
    let engine = started.engine;
    let mut rx = engine.subscribe();
    let snapshot = engine.snapshot();
    assert_eq!(snapshot.len(), 1);
    let view = &snapshot[0];
    assert_eq!(view.key, launched.key);
    assert!(view.is_active(), "{view:?}");
    assert_eq!(view.launch_id.as_deref(), Some(launched.launch_id.as_str()));
    assert_eq!(view.params.as_ref(), Some(&params(5)));
    assert_eq!(engine.active_count(), 1, "watched again");

    let seen = changes_until(&mut rx, &launched.key, Change::Ended).await;
    let (_, last) = seen.last().unwrap();
    assert_eq!(last.status, Some(RunStatus::Completed));
    assert!(last.observed_at.is_some());

    assert_eq!(
        env.requests(Operation::RunProject).len(),
        1,
        "no second launch"
    );
    assert_eq!(env.emu.control().runs().len(), 1);
    let book = env.journal();
    assert_eq!(book.runs().count(), 1);
    assert_eq!(
        book.run(SLOW, &launched.key.run_id).unwrap().status,
        Some(RunStatus::Completed)
    );
    assert_eq!(
        env.launch_kinds(&launched.launch_id),
        ["launch_intent", "launched"]
    );
}

fn intent(launch_id: &str, project_id: &str, n: i64) -> Event {
    Event::LaunchIntent(LaunchIntent {
        launch_id: launch_id.to_string(),
        project_id: project_id.to_string(),
        project_title: None,
        params: params(n),
        options: LaunchOptions::default(),
        origin: Origin::Cli,
        profile: "test".into(),
        launched_by: None,
    })
}

/// A hexdash that crashed after journalling two intents: one POST reached Hex (its run is
/// adopted at the next start and followed), the other did not (abandoned, never sent).
#[tokio::test]
async fn intents_left_by_a_crash_are_adopted_or_abandoned_at_start() {
    let env = env(6).await;
    let (sent, unsent) = ("crash-sent-0001", "crash-unsent-0002");
    {
        let mut opened = Journal::open(env.journal_path()).unwrap();
        opened.journal.append(intent(sent, FAST, 61)).unwrap();
        opened.journal.append(intent(unsent, SLOW, 62)).unwrap();
    }
    // The crashed hexdash's POST, after its intent was synced.
    let answer = env
        .client()
        .run_project(
            FAST,
            &RunProjectRequest {
                input_params: Some(params(61)),
                ..RunProjectRequest::default()
            },
        )
        .await
        .unwrap();
    let adopted_key = RunKey::new(FAST, &answer.run_id);

    let started = env.start_with(env.options());
    assert_eq!(started.reattached, 0, "no run was known yet");
    let engine = started.engine;
    let mut rx = engine.subscribe();
    let mut notices = BTreeMap::new();
    let mut watching = false;
    until(&mut rx, "both launches settled", |u| {
        match u {
            Update::Launch(n) => {
                notices.insert(n.launch_id.clone(), n.message.clone());
            }
            Update::Run { change, view }
                if view.key == adopted_key && *change == Change::Watching =>
            {
                watching = true;
            }
            _ => {}
        }
        (notices.len() == 2 && watching).then_some(())
    })
    .await;
    assert!(notices[sent].contains("adopted"), "{notices:?}");
    assert!(notices[unsent].contains("created no run"), "{notices:?}");

    assert_eq!(env.launch_kinds(sent), ["launch_intent", "adopted"]);
    assert_eq!(env.launch_kinds(unsent), ["launch_intent", "abandoned"]);
    let book = env.journal();
    assert_eq!(book.pending_launches().count(), 0);
    let record = book.run(FAST, &answer.run_id).unwrap();
    assert!(record.adopted);
    assert_eq!(record.launch_id.as_deref(), Some(sent));
    assert_eq!(record.params(), Some(&params(61)));

    let view = wait_ended(&engine, &adopted_key).await;
    assert_eq!(view.status, Some(RunStatus::Completed));
    assert!(view.adopted);
    // Nothing was sent for either intent: the only RunProject is the crashed one's.
    assert_eq!(env.requests(Operation::RunProject).len(), 1);
    let runs = env.emu.control().runs();
    assert_eq!(runs.len(), 1);
    assert!(runs.iter().all(|r| r.project_id != SLOW));
}

/// Several intents left on one project are paired with the runs that appeared after them,
/// oldest with oldest; a run that started well before any intent (another client's) is
/// never taken for ours. Hex and hexdash share a manual clock here, so "well before" is
/// exact.
#[tokio::test]
async fn crash_intents_pair_oldest_first_and_never_take_an_older_run() {
    let clock = Arc::new(ManualClock::new(
        "2026-06-01T09:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let shared: SharedClock = clock.clone();
    let env = env_with_clock(61, shared.clone()).await;
    let client = env.client();
    let post = |n: i64| {
        let client = client.clone();
        async move {
            let body = RunProjectRequest {
                input_params: Some(params(n)),
                ..RunProjectRequest::default()
            };
            client.run_project(HANG, &body).await.unwrap().run_id
        }
    };
    let step = |secs: i64| clock.advance(SignedDuration::from_secs(secs));

    // Someone else's run, ten minutes before our first intent.
    let foreign = post(0).await;
    step(600);
    {
        let mut opened = Journal::open_with_clock(env.journal_path(), shared.clone()).unwrap();
        opened.journal.append(intent("first", HANG, 1)).unwrap();
        step(1);
        opened.journal.append(intent("second", HANG, 2)).unwrap();
    }
    step(1);
    let first_run = post(1).await;
    step(1);
    let second_run = post(2).await;

    let mut options = env.options();
    options.clock = shared.clone();
    let engine = env.start_with(options).engine;
    let mut rx = engine.subscribe();
    let mut notices = 0;
    until(&mut rx, "both launches settled", |u| {
        if matches!(u, Update::Launch(_)) {
            notices += 1;
        }
        (notices == 2).then_some(())
    })
    .await;

    let book = env.journal();
    assert_eq!(book.pending_launches().count(), 0);
    assert_eq!(
        book.run(HANG, &first_run).unwrap().launch_id.as_deref(),
        Some("first")
    );
    assert_eq!(
        book.run(HANG, &second_run).unwrap().launch_id.as_deref(),
        Some("second")
    );
    assert!(
        book.run(HANG, &foreign).is_none(),
        "the older run is not ours"
    );
    let watched: BTreeSet<String> = engine
        .snapshot()
        .into_iter()
        .map(|v| v.key.run_id)
        .collect();
    assert_eq!(watched, BTreeSet::from([first_run, second_run]));
    assert_eq!(
        env.requests(Operation::RunProject).len(),
        3,
        "nothing re-sent"
    );
}
