//! The scheduler on a virtual clock: every planned poll is sent at once and answered at once.

use super::*;
use crate::engine::sim::max_in_window;

type Log = Vec<(Tick, Poll)>;

fn sched() -> Scheduler {
    Scheduler::new(SchedulerConfig::default())
}

fn key(project: &str, run: &str) -> RunKey {
    RunKey::new(project, run)
}

fn running_since(t: Tick) -> WatchInfo {
    WatchInfo {
        status: RunStatus::Running,
        ..WatchInfo::launched(t)
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn all_running(_: Tick, poll: &Poll) -> Vec<(RunKey, RunStatus)> {
    poll.runs()
        .iter()
        .map(|k| (k.clone(), RunStatus::Running))
        .collect()
}

/// Sends every poll planned before `until`, answering each instantly with `answer`.
fn drive(
    s: &mut Scheduler,
    from: Tick,
    until: Tick,
    mut answer: impl FnMut(Tick, &Poll) -> Vec<(RunKey, RunStatus)>,
) -> Log {
    let mut log = Vec::new();
    let mut now = from;
    while let Some(plan) = s.next(now) {
        assert!(plan.at >= now, "planned in the past: {plan:?} at {now}");
        if plan.at >= until {
            break;
        }
        now = plan.at;
        let poll = s.dispatch(now).expect("a due plan dispatches");
        assert_eq!(poll, plan.poll, "dispatch sends what next planned");
        let results = answer(now, &poll);
        s.on_result(now, &poll, &results);
        log.push((now, poll));
    }
    log
}

fn times_for(log: &Log, k: &RunKey) -> Vec<Tick> {
    log.iter()
        .filter(|(_, p)| p.runs().contains(k))
        .map(|(t, _)| *t)
        .collect()
}

fn gaps(times: &[Tick]) -> Vec<Duration> {
    times
        .windows(2)
        .map(|w| w[1].saturating_since(w[0]))
        .collect()
}

#[test]
fn a_young_run_is_polled_every_one_to_two_seconds_and_an_old_one_slower() {
    let mut s = sched();
    let young = key("p", "young");
    s.watch(young.clone(), running_since(Tick::ZERO));
    let log = drive(&mut s, Tick::ZERO, Tick::from_secs(18), all_running);
    let young_gaps = gaps(&times_for(&log, &young));
    assert!(young_gaps.len() >= 8, "{young_gaps:?}");
    assert!(
        young_gaps
            .iter()
            .all(|g| *g >= secs(1.0) && *g <= secs(2.0)),
        "{young_gaps:?}"
    );

    let mut s = sched();
    let old = key("p", "old");
    s.watch(old.clone(), running_since(Tick::ZERO));
    let log = drive(
        &mut s,
        Tick::from_secs(600),
        Tick::from_secs(660),
        all_running,
    );
    // The first poll after ten silent minutes is a catch-up; look at the steady rhythm after it.
    let old_gaps = gaps(&times_for(&log, &old)[1..]);
    assert!(old_gaps.len() >= 8, "{old_gaps:?}");
    assert!(
        old_gaps.iter().all(|g| *g >= secs(4.5) && *g <= secs(6.0)),
        "{old_gaps:?}"
    );
}

#[test]
fn three_runs_of_one_project_are_refreshed_by_one_request() {
    let mut s = sched();
    for r in ["a", "b", "c"] {
        s.watch(key("p1", r), running_since(Tick::ZERO));
    }
    s.watch(key("p2", "solo"), running_since(Tick::ZERO));
    let log = drive(&mut s, Tick::ZERO, Tick::from_secs(60), all_running);
    let project_polls: Vec<&Poll> = log
        .iter()
        .map(|(_, p)| p)
        .filter(|p| p.project_id() == "p1")
        .collect();
    assert!(!project_polls.is_empty());
    for poll in &project_polls {
        let Poll::Project { project_id, runs } = poll else {
            panic!("p1 polled run by run: {poll:?}");
        };
        assert_eq!(project_id, "p1");
        assert_eq!(runs.len(), 3);
        assert_eq!(poll.operation(), Operation::GetProjectRuns);
    }
    // The lone run of p2 is asked for by id.
    assert!(log.iter().any(
        |(_, p)| *p == Poll::Run(key("p2", "solo")) && p.operation() == Operation::GetRunStatus
    ));
}

#[test]
fn forty_runs_never_exceed_the_polling_budget_in_any_minute_and_none_starves() {
    for projects in [40, 8] {
        let mut s = sched();
        let keys: Vec<RunKey> = (0..40)
            .map(|i| key(&format!("p{}", i % projects), &format!("r{i}")))
            .collect();
        for (i, k) in keys.iter().enumerate() {
            // Launches spread over the first two minutes; two runs are watched by a person.
            let mut info = running_since(Tick::from_secs(i as u64 * 3));
            info.focused = i % 20 == 0;
            s.watch(k.clone(), info);
        }
        let log = drive(&mut s, Tick::ZERO, Tick::from_secs(15 * 60), all_running);
        let sent: Vec<Tick> = log.iter().map(|(t, _)| *t).collect();
        let budget = Scheduler::polls_per_minute(&Limits::default()) as usize;
        let peak = max_in_window(&sent, Duration::from_secs(60));
        assert!(
            peak <= budget,
            "{projects} projects: {peak} polls in one minute"
        );
        // Spending the budget is the point: lag falls when it is used evenly.
        assert!(peak >= budget - 2, "{projects} projects: only {peak}/min");
        // 40 requests' worth of runs at 54/min is one round every ~45 s. The two focused runs
        // take up to 30 % of the budget and runs in their first 20 s weigh 3× more while the
        // launches come in, so a round can reach ~85 s with one run per project: slow, but
        // bounded. Starving would mean some run waiting minutes.
        for k in &keys {
            let times = times_for(&log, k);
            let worst = gaps(&times).into_iter().max().unwrap_or_default();
            assert!(times.len() >= 12, "{k:?} polled {} times", times.len());
            assert!(
                worst <= secs(90.0),
                "{k:?} waited {worst:?} ({projects} projects)"
            );
        }
    }
}

#[test]
fn a_429_pauses_all_polling_until_retry_after() {
    let mut s = sched();
    s.watch(key("p1", "a"), running_since(Tick::ZERO));
    s.watch(key("p2", "b"), running_since(Tick::ZERO));
    let now = s.next(Tick::ZERO).expect("watched").at;
    let poll = s.dispatch(now).expect("due");
    s.on_rate_limited(now, &poll, Some(Duration::from_secs(30)));
    assert_eq!(s.paused_until(now), Some(now + secs(30.0)));
    let log = drive(&mut s, now, Tick::from_secs(40), all_running);
    assert!(!log.is_empty());
    assert!(log.iter().all(|(t, _)| *t >= now + secs(30.0)), "{log:?}");
    // The refused poll's run goes first once the pause is over.
    assert_eq!(log.first().map(|(_, p)| p.clone()), Some(poll));

    // Without Retry-After, a fallback pause still holds.
    let later = Tick::from_secs(100);
    let poll = s.dispatch(later).expect("due");
    s.on_rate_limited(later, &poll, None);
    let plan = s.next(later).expect("still watching");
    assert!(plan.at >= later + secs(10.0), "{plan:?}");
}

#[test]
fn a_focused_run_is_polled_faster_than_an_unfocused_one_of_the_same_age() {
    let mut s = sched();
    let (focused, plain) = (key("p1", "focused"), key("p2", "plain"));
    s.watch(focused.clone(), running_since(Tick::ZERO));
    s.watch(plain.clone(), running_since(Tick::ZERO));
    assert!(s.set_focused(&focused, true));
    let log = drive(
        &mut s,
        Tick::from_secs(300),
        Tick::from_secs(360),
        all_running,
    );
    let (nf, np) = (
        times_for(&log, &focused).len(),
        times_for(&log, &plain).len(),
    );
    assert!(nf >= 25, "focused polled {nf} times in a minute");
    assert!(np <= 13, "unfocused polled {np} times in a minute");
    assert!(!s.set_focused(&key("p9", "nope"), true));
}

#[test]
fn nothing_is_polled_when_nothing_is_active() {
    let mut s = sched();
    assert_eq!(s.next(Tick::ZERO), None);
    assert_eq!(s.dispatch(Tick::ZERO), None);
    let k = key("p", "r");
    s.watch(k.clone(), running_since(Tick::ZERO));
    assert!(s.next(Tick::ZERO).is_some());
    assert!(s.unwatch(&k));
    assert_eq!(s.next(Tick::from_secs(5)), None);
    // A run that is already over is never watched.
    s.watch(
        k.clone(),
        WatchInfo::reattached(Tick::ZERO, RunStatus::Completed),
    );
    assert_eq!(s.active_count(), 0);
    assert_eq!(s.next(Tick::from_secs(5)), None);
}

#[test]
fn a_run_in_flight_is_not_planned_again_until_its_answer_arrives() {
    let mut s = sched();
    let k = key("p", "r");
    s.watch(
        k.clone(),
        WatchInfo::reattached(Tick::ZERO, RunStatus::Running),
    );
    let poll = s
        .dispatch(Tick::ZERO)
        .expect("re-attached runs are polled at once");
    assert_eq!(s.next(Tick::from_secs(30)), None);
    assert_eq!(s.next_due(&k, Tick::from_secs(30)), None);
    s.on_result(
        Tick::from_secs(31),
        &poll,
        &[(k.clone(), RunStatus::Running)],
    );
    assert!(s.next(Tick::from_secs(31)).is_some());
}

#[test]
fn failures_back_off_exponentially_and_mark_data_stale_without_stopping_others() {
    let mut s = sched();
    let (bad, good) = (key("p1", "bad"), key("p2", "good"));
    s.watch(bad.clone(), running_since(Tick::ZERO));
    s.watch(good.clone(), running_since(Tick::ZERO));
    let mut now = Tick::ZERO;
    let mut bad_times = Vec::new();
    let mut good_times = Vec::new();
    while now < Tick::from_secs(60) {
        let plan = s.next(now).expect("two runs watched");
        now = plan.at;
        let poll = s.dispatch(now).expect("due");
        if poll.runs().contains(&bad) {
            bad_times.push(now);
            s.on_error(now, &poll, ErrorScope::ThisPoll);
        } else {
            good_times.push(now);
            s.on_result(now, &poll, &all_running(now, &poll));
        }
    }
    let bad_gaps = gaps(&bad_times);
    assert!(bad_gaps.len() >= 4, "{bad_gaps:?}");
    assert!(
        bad_gaps.windows(2).all(|w| w[1] > w[0]),
        "backoff grows: {bad_gaps:?}"
    );
    assert!(bad_gaps.iter().any(|g| *g >= secs(15.9)), "{bad_gaps:?}");
    assert!(s.is_stale(&bad));
    assert!(!s.is_stale(&good));
    // The good run kept its pace: every 1.5 s while young, never paused by the other's errors.
    assert!(good_times.len() >= 20, "{good_times:?}");
    assert!(gaps(&good_times).iter().all(|g| *g <= secs(5.5)));
    // The bad run still shows its last good status, with its age.
    assert_eq!(s.status(&bad), Some(&RunStatus::Running));
    assert_eq!(s.last_observed(&bad), Some(Tick::ZERO));
    assert_eq!(s.staleness(&bad, now), Some(now.as_duration()));

    // One success clears the mark and the backoff.
    let poll = loop {
        let plan = s.next(now).expect("watched");
        now = plan.at;
        let poll = s.dispatch(now).expect("due");
        if poll.runs().contains(&bad) {
            break poll;
        }
        s.on_result(now, &poll, &all_running(now, &poll));
    };
    s.on_result(now, &poll, &[(bad.clone(), RunStatus::Running)]);
    assert!(!s.is_stale(&bad));
    assert_eq!(s.last_observed(&bad), Some(now));
}

#[test]
fn a_global_failure_or_a_streak_of_failures_pauses_everyone() {
    let mut s = sched();
    for p in ["p1", "p2", "p3", "p4"] {
        s.watch(key(p, "r"), running_since(Tick::ZERO));
    }
    let now = s.next(Tick::ZERO).expect("watched").at;
    let poll = s.dispatch(now).expect("due");
    s.on_error(now, &poll, ErrorScope::Global);
    assert!(s.paused_until(now).is_some());
    assert!(
        ["p1", "p2", "p3", "p4"]
            .iter()
            .all(|p| s.is_stale(&key(p, "r")))
    );
    let plan = s.next(now).expect("watched");
    assert!(plan.at >= now + secs(2.0), "{plan:?}");

    // Three different polls failing in a row, with no success between, looks global too.
    let mut s = sched();
    for p in ["p1", "p2", "p3", "p4"] {
        s.watch(key(p, "r"), running_since(Tick::ZERO));
    }
    let mut now = Tick::ZERO;
    for _ in 0..3 {
        now = s.next(now).expect("watched").at;
        let poll = s.dispatch(now).expect("due");
        s.on_error(now, &poll, ErrorScope::ThisPoll);
    }
    let plan = s.next(now).expect("watched");
    assert!(
        plan.at >= now + secs(8.0),
        "{plan:?} after 3 failures at {now}"
    );
}

#[test]
fn during_an_outage_hex_is_tried_every_ten_seconds_and_everyone_is_polled_once_it_answers() {
    let mut s = sched();
    for p in ["p1", "p2", "p3", "p4"] {
        s.watch(key(p, "r"), running_since(Tick::ZERO));
    }
    // Five minutes of connection refused: the gap between tries never passes `outage_probe`.
    let mut now = Tick::ZERO;
    let mut tries = Vec::new();
    while now < Tick::from_secs(300) {
        now = s.next(now).expect("watched").at;
        let poll = s.dispatch(now).expect("due");
        s.on_error(now, &poll, ErrorScope::Unreachable);
        tries.push(now);
    }
    let probe = PollPolicy::default().outage_probe;
    let longest = gaps(&tries).into_iter().max().unwrap();
    assert!(longest <= probe, "{longest:?} between two tries");
    assert!(
        tries.len() <= 300 / 10 + 8,
        "{} tries in five minutes",
        tries.len()
    );

    // Hex answers the next try: the others' backoffs end, all are polled right away.
    now = s.next(now).expect("watched").at;
    let poll = s.dispatch(now).expect("due");
    let answered = all_running(now, &poll);
    s.on_result(now, &poll, &answered);
    // Paced one a second or so, as ever: the three others within five seconds.
    let log = drive(&mut s, now, now + secs(5.0), all_running);
    for p in ["p1", "p2", "p3", "p4"] {
        assert!(
            !s.is_stale(&key(p, "r")),
            "{p} polled within 5 s of the return: {log:?}"
        );
    }

    // A refused token is not an outage: its backoff still grows past ten seconds.
    let mut s = sched();
    s.watch(key("p1", "r"), running_since(Tick::ZERO));
    let mut now = Tick::ZERO;
    for _ in 0..5 {
        now = s.next(now).expect("watched").at;
        let poll = s.dispatch(now).expect("due");
        s.on_error(now, &poll, ErrorScope::Global);
    }
    assert!(s.next(now).expect("watched").at >= now + secs(30.0));
}

#[test]
fn terminal_results_end_the_watch_and_are_returned() {
    let mut s = sched();
    let (a, b, c) = (key("p", "a"), key("p", "b"), key("p", "c"));
    for k in [&a, &b, &c] {
        s.watch(k.clone(), running_since(Tick::ZERO));
    }
    let now = Tick::from_secs(2);
    let poll = s.dispatch(now).expect("due");
    let applied = s.on_result(
        now,
        &poll,
        &[
            (a.clone(), RunStatus::Completed),
            (b.clone(), RunStatus::Running),
            (c.clone(), RunStatus::Errored),
            // An unwatched run in the listing is ignored.
            (key("p", "other"), RunStatus::Killed),
        ],
    );
    assert_eq!(
        applied.ended,
        vec![
            (a.clone(), RunStatus::Completed),
            (c.clone(), RunStatus::Errored)
        ]
    );
    assert!(applied.missing.is_empty());
    assert_eq!(s.active_count(), 1);
    assert!(!s.is_watched(&a));
    assert_eq!(s.next(now).map(|p| p.poll), Some(Poll::Run(b.clone())));
    let poll = s.dispatch(Tick::from_secs(4)).expect("due");
    let applied = s.on_result(Tick::from_secs(4), &poll, &[(b.clone(), RunStatus::Killed)]);
    assert_eq!(applied.ended, vec![(b, RunStatus::Killed)]);
    assert_eq!(s.next(Tick::from_secs(4)), None);
}

#[test]
fn a_run_missing_from_its_project_listing_is_polled_by_id_next() {
    let mut s = sched();
    let (a, b, old) = (key("p", "a"), key("p", "b"), key("p", "old"));
    for k in [&a, &b, &old] {
        s.watch(k.clone(), running_since(Tick::ZERO));
    }
    let now = Tick::from_secs(2);
    let poll = s.dispatch(now).expect("due");
    let applied = s.on_result(
        now,
        &poll,
        &[
            (a.clone(), RunStatus::Running),
            (b.clone(), RunStatus::Running),
        ],
    );
    assert_eq!(applied.missing, vec![old.clone()]);
    let plan = s.next(now).expect("watched");
    assert_eq!(plan.poll, Poll::Run(old.clone()));
    assert!(plan.at <= now + secs(1.2), "next request slot: {plan:?}");
    let log = drive(&mut s, now, Tick::from_secs(30), all_running);
    for (_, poll) in &log {
        match poll {
            Poll::Run(k) => assert_eq!(*k, old),
            Poll::Project { runs, .. } => assert_eq!(*runs, vec![a.clone(), b.clone()]),
        }
    }
}

#[test]
fn a_run_being_cancelled_is_polled_about_every_second_until_it_ends() {
    let mut s = sched();
    let k = key("p1", "cancel-me");
    s.watch(k.clone(), running_since(Tick::ZERO));
    s.watch(key("p2", "bystander"), running_since(Tick::ZERO));
    let start = Tick::from_secs(600);
    // An old run, polled every 5 s, just polled.
    drive(&mut s, start - secs(30.0), start, all_running);
    assert!(s.expect_end(&k));
    let plan = s.next(start).expect("watched");
    assert_eq!(
        plan.poll,
        Poll::Run(k.clone()),
        "the cancelled run goes first"
    );
    let log = drive(&mut s, start, start + secs(10.0), all_running);
    let g = gaps(&times_for(&log, &k));
    assert!(g.len() >= 5, "{g:?}");
    assert!(g.iter().all(|g| *g <= secs(2.3)), "{g:?}");
    let mut now = start + secs(10.0);
    let poll = loop {
        now = s.next(now).expect("watched").at;
        let poll = s.dispatch(now).expect("due");
        if poll.runs().contains(&k) {
            break poll;
        }
        s.on_result(now, &poll, &all_running(now, &poll));
    };
    let applied = s.on_result(now, &poll, &[(k.clone(), RunStatus::Killed)]);
    assert_eq!(applied.ended, vec![(k.clone(), RunStatus::Killed)]);
    assert!(!s.expect_end(&k));
}

#[test]
fn a_budget_refusal_defers_every_poll() {
    let mut s = sched();
    s.watch(key("p", "r"), running_since(Tick::ZERO));
    let now = Tick::from_secs(3);
    s.defer(now + secs(7.0));
    assert_eq!(s.dispatch(now), None);
    assert_eq!(s.next(now).map(|p| p.at), Some(now + secs(7.0)));
    assert_eq!(s.next_due(&key("p", "r"), now), Some(now + secs(7.0)));
}

#[test]
fn history_concentrates_polls_near_the_expected_end() {
    let mut s = sched();
    let k = key("p", "r");
    let mut info = running_since(Tick::ZERO);
    info.expected_duration = Some(Duration::from_secs(300));
    s.watch(k.clone(), info);
    let early = drive(
        &mut s,
        Tick::from_secs(60),
        Tick::from_secs(150),
        all_running,
    );
    let near = drive(
        &mut s,
        Tick::from_secs(250),
        Tick::from_secs(340),
        all_running,
    );
    assert!(
        early.len() <= 10,
        "{} polls long before the end",
        early.len()
    );
    assert!(near.len() >= 40, "{} polls near the end", near.len());
    assert!(s.set_expected_duration(&k, None));
    let plain = drive(
        &mut s,
        Tick::from_secs(400),
        Tick::from_secs(490),
        all_running,
    );
    assert!((15..=20).contains(&plain.len()), "{} polls", plain.len());
}

#[test]
fn a_relaunch_makes_a_run_young_again() {
    let mut s = sched();
    let k = key("p", "r");
    s.watch(k.clone(), running_since(Tick::ZERO));
    // Between two polls of an old run (every 5 s), so the next one is still seconds away.
    let t = Tick::from_millis(902_500);
    drive(&mut s, t - secs(22.5), t, all_running);
    let before = s.next_due(&k, t).expect("watched");
    assert!(s.mark_launched_now(&k, t));
    let after = s.next_due(&k, t).expect("watched");
    assert!(after < before, "{after} vs {before}");
}

#[test]
fn under_load_intervals_stretch_evenly_and_next_due_tells_the_truth() {
    // Ten old runs in ten projects want 10 × 12/min = 120/min; the budget is 54/min, so every
    // interval stretches from 5 s to ~11 s, and the promise UIs show must match what happens.
    let mut s = sched();
    let keys: Vec<RunKey> = (0..10).map(|i| key(&format!("p{i}"), "r")).collect();
    for k in &keys {
        s.watch(k.clone(), running_since(Tick::ZERO));
    }
    let start = Tick::from_secs(600);
    drive(&mut s, start - secs(60.0), start, all_running);
    let mut now = start;
    let mut promised: BTreeMap<RunKey, Tick> = BTreeMap::new();
    let mut checked = 0;
    while now < start + secs(300.0) {
        now = s.next(now).expect("watched").at;
        let poll = s.dispatch(now).expect("due");
        for k in poll.runs() {
            if let Some(due) = promised.remove(k) {
                let off = if now > due {
                    now.saturating_since(due)
                } else {
                    due.saturating_since(now)
                };
                assert!(off <= secs(1.2), "{k:?} promised {due}, polled {now}");
                checked += 1;
            }
        }
        s.on_result(now, &poll, &all_running(now, &poll));
        for k in poll.runs() {
            let due = s.next_due(k, now).expect("watched");
            let wait = due.saturating_since(now);
            // ~11.1 s, less at most one request spacing forgiven for waiting on a slot.
            assert!(wait >= secs(9.9) && wait <= secs(11.2), "{k:?}: {wait:?}");
            promised.insert(k.clone(), due);
        }
    }
    assert!(checked >= 100, "{checked}");
}
