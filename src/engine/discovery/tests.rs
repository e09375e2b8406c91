//! The discovery planner on a virtual clock: schedule-driven probes, activity-weighted sweeps,
//! focus first, yielding to followed runs, and a slow round when the workspace is idle.

use super::*;

fn secs(s: u64) -> Tick {
    Tick::from_secs(s)
}

fn workspace(n: usize) -> Discovery {
    let mut d = Discovery::new(DiscoveryPolicy::default());
    d.set_projects((0..n).map(|i| (format!("p{i:02}"), false)));
    d
}

/// Plays `until` seconds, sending every sweep as soon as it is due (one per `spacing`), each
/// answered at once; returns the projects listed, in order, with when.
fn play(d: &mut Discovery, from: Tick, until: Tick, spacing: Duration) -> Vec<(Tick, String)> {
    let mut now = from;
    let mut listed = Vec::new();
    while now < until {
        let Some(sweep) = d.next(now) else { break };
        now = sweep.at.max(now);
        if now >= until {
            break;
        }
        d.start(&sweep.project_id);
        d.swept(now, &sweep.project_id, None);
        listed.push((now, sweep.project_id));
        now = now + spacing;
    }
    listed
}

#[test]
fn every_project_is_listed_once_first_then_only_a_slow_round_when_idle() {
    let mut d = workspace(10);
    let listed = play(&mut d, Tick::ZERO, secs(3600), Duration::from_secs(1));
    let first: Vec<&str> = listed.iter().take(10).map(|(_, p)| p.as_str()).collect();
    assert_eq!(first.len(), 10);
    let mut sorted = first.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        sorted.len(),
        10,
        "each project once before any twice: {first:?}"
    );
    // Then one listing per project per dormant interval: 10 × 12 in an hour, not 3600.
    assert!(
        listed.len() <= 10 * 13,
        "{} listings in an idle hour",
        listed.len()
    );
    let f = d.freshness();
    assert_eq!((f.projects, f.swept), (10, 10));
    assert!(f.oldest.is_some());
}

#[test]
fn a_project_with_recent_runs_is_listed_more_often_than_a_dormant_one() {
    let mut d = workspace(4);
    for p in ["p00", "p01", "p02", "p03"] {
        d.start(p);
        let newest = (p == "p01").then_some(secs(0));
        d.swept(secs(1), p, newest);
    }
    let listed = play(&mut d, secs(2), secs(1200), Duration::from_secs(1));
    let count = |p: &str| listed.iter().filter(|(_, q)| q == p).count();
    assert!(count("p01") >= 25, "active: {}", count("p01"));
    assert!(count("p00") <= 4, "dormant: {}", count("p00"));
}

#[test]
fn a_schedule_is_probed_just_after_it_fires_then_backed_off() {
    let mut d = workspace(3);
    for p in ["p00", "p01", "p02"] {
        d.start(p);
        d.swept(secs(1), p, None);
    }
    d.set_fires("p02", vec![secs(100)]);
    let listed = play(&mut d, secs(2), secs(400), Duration::from_secs(1));
    let p02: Vec<Tick> = listed
        .iter()
        .filter(|(_, p)| p == "p02")
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(p02, vec![secs(103), secs(115), secs(160)], "{listed:?}");
    assert_eq!(
        d.next(secs(161)).map(|s| s.reason),
        Some(Reason::Dormant),
        "after the probes, back to the slow round"
    );
}

#[test]
fn the_cursor_and_followed_projects_come_first() {
    let mut d = workspace(5);
    d.set_projects((0..5).map(|i| (format!("p{i:02}"), i == 3)));
    d.set_cursor(Some("p04".into()));
    let first = d.next(Tick::ZERO).map(|s| (s.project_id, s.reason));
    assert_eq!(first, Some(("p03".into(), Reason::Focus)));
    let listed = play(&mut d, Tick::ZERO, secs(600), Duration::from_secs(1));
    let order: Vec<&str> = listed.iter().take(2).map(|(_, p)| p.as_str()).collect();
    assert_eq!(order, ["p03", "p04"]);
    let count = |p: &str| listed.iter().filter(|(_, q)| q == p).count();
    assert!(count("p04") >= 35, "under the cursor: {}", count("p04"));
    assert!(count("p00") <= 3, "{}", count("p00"));
}

#[test]
fn followed_runs_win_ties_and_sweeps_keep_a_minimum_share() {
    let gap = Duration::from_secs(1);
    assert_eq!(
        choose(Some(secs(5)), Some(secs(5)), false, gap),
        Some(Next::Poll(secs(5)))
    );
    assert_eq!(
        choose(Some(secs(5)), Some(secs(4)), false, gap),
        Some(Next::Sweep(secs(4))),
        "fits before the poll"
    );
    assert_eq!(
        choose(
            Some(secs(5)),
            Some(secs(4) + Duration::from_millis(500)),
            false,
            gap
        ),
        Some(Next::Poll(secs(5))),
        "would hold the poll back"
    );
    assert_eq!(
        choose(Some(secs(5)), Some(secs(5)), true, gap),
        Some(Next::Sweep(secs(5)))
    );
    assert_eq!(
        choose(Some(secs(5)), Some(secs(9)), true, gap),
        Some(Next::Poll(secs(5)))
    );
    assert_eq!(choose(None, None, false, gap), None);
    assert_eq!(
        choose(None, Some(secs(3)), false, gap),
        Some(Next::Sweep(secs(3)))
    );

    let mut d = workspace(1);
    assert!(!d.starved(), "nothing sent yet");
    for _ in 0..20 {
        d.note_sent(false);
    }
    assert!(d.starved());
    for _ in 0..4 {
        d.note_sent(true);
    }
    assert!(d.starved(), "4 of the last 20 is under the 30 % share");
    for _ in 0..2 {
        d.note_sent(true);
    }
    assert!(!d.starved(), "6 of the last 20 is the share");
}

#[test]
fn a_failed_listing_backs_off_longer_each_time_and_a_covered_one_counts() {
    let mut d = workspace(1);
    d.start("p00");
    d.failed(secs(10), "p00");
    assert_eq!(d.next(secs(10)).map(|s| s.at), Some(secs(70)));
    d.start("p00");
    d.failed(secs(70), "p00");
    assert_eq!(d.next(secs(70)).map(|s| s.at), Some(secs(190)));
    for _ in 0..20 {
        d.start("p00");
        d.failed(secs(200), "p00");
    }
    assert_eq!(
        d.next(secs(200)).map(|s| s.at),
        Some(secs(200 + 30 * 60)),
        "capped"
    );
    d.start("p00");
    d.swept(secs(5), "p00", None);
    d.start("p00");
    d.failed(secs(10), "p00");
    assert_eq!(
        d.next(secs(10)).map(|s| s.at),
        Some(secs(305)),
        "a success resets the backoff (the dormant round comes first here)"
    );
    d.start("p00");
    d.not_sent(secs(80), "p00", true);
    assert_eq!(d.next(secs(80)).map(|s| s.at), Some(secs(380)));
    d.start("p00");
    assert_eq!(d.next(secs(80)), None, "in flight");
    d.not_sent(secs(81), "p00", false);
    assert_eq!(d.next(secs(81)).map(|s| s.at), Some(secs(380)));
}

#[test]
fn projects_that_leave_the_workspace_are_forgotten_and_unknown_ones_ignored() {
    let mut d = workspace(3);
    d.set_projects([("p01".to_string(), false)]);
    assert!(!d.is_known("p00"));
    d.set_fires("p00", vec![secs(1)]);
    d.swept(secs(1), "p00", Some(secs(1)));
    assert_eq!(d.next(secs(1)).map(|s| s.project_id), Some("p01".into()));
    assert_eq!(d.freshness().projects, 1);
}

#[test]
fn a_due_probe_goes_ahead_of_a_backlog_of_routine_sweeps() {
    let mut d = workspace(6);
    for p in ["p00", "p01", "p02", "p03", "p04", "p05"] {
        d.start(p);
        d.swept(secs(0), p, None);
    }
    d.set_fires("p05", vec![secs(290)]);
    // At 400 s every project's routine sweep (due at 300 s) is overdue, and so is the probe.
    let next = d.next(secs(400)).map(|s| (s.project_id, s.reason));
    assert_eq!(next, Some(("p05".into(), Reason::Schedule)));
    // Without a probe, the latest for its kind goes first: a busy project a quarter of its
    // interval late before a quiet one a sixth late...
    let mut d = workspace(2);
    d.start("p00");
    d.swept(secs(650), "p00", None);
    d.start("p01");
    d.swept(secs(950), "p01", Some(secs(900)));
    assert_eq!(d.next(secs(1000)).map(|s| s.project_id), Some("p01".into()));
    // ...but a quiet one left waiting more than its whole interval goes first.
    let mut d = workspace(2);
    d.start("p00");
    d.swept(secs(0), "p00", None);
    d.start("p01");
    d.swept(secs(950), "p01", Some(secs(900)));
    assert_eq!(d.next(secs(1000)).map(|s| s.project_id), Some("p00".into()));
}

#[test]
fn a_pressing_sweep_takes_at_most_half_of_the_requests() {
    let mut d = workspace(1);
    d.set_projects([("p00".to_string(), true)]);
    assert!(
        d.pressing(d.next(secs(0)).as_ref(), secs(0)),
        "a followed project, due, nothing sent yet"
    );
    for _ in 0..10 {
        d.note_sent(true);
    }
    for _ in 0..10 {
        d.note_sent(false);
    }
    assert!(
        !d.pressing(d.next(secs(0)).as_ref(), secs(0)),
        "half the requests are sweeps already"
    );
    d.note_sent(false);
    assert!(d.pressing(d.next(secs(0)).as_ref(), secs(0)));
    // Not due: only the minimum share presses.
    d.start("p00");
    d.swept(secs(0), "p00", None);
    assert!(!d.pressing(d.next(secs(1)).as_ref(), secs(1)));
}

#[test]
fn a_hint_of_written_results_lists_the_project_soon_and_counts_as_activity() {
    let mut d = workspace(3);
    for p in ["p00", "p01", "p02"] {
        d.start(p);
        d.swept(secs(100), p, None);
    }
    // p01's published results were written at 105 s, seen in a project list at 110 s.
    d.hint(secs(110), "p01", Some(secs(105)), true);
    assert_eq!(
        d.next(secs(110)).map(|s| (s.project_id, s.at, s.reason)),
        Some(("p01".into(), secs(110), Reason::Hint)),
        "listed now, not at the active round's 140 s (or the dormant one's 400 s)"
    );
    let listed = play(&mut d, secs(110), secs(1200), Duration::from_secs(1));
    let count = |p: &str| listed.iter().filter(|(_, q)| q == p).count();
    // Then at the active pace (every 40 s) for having had a run recently.
    assert!(count("p01") >= 25, "hinted: {}", count("p01"));
    assert!(count("p00") <= 4, "dormant: {}", count("p00"));

    // A hint that only says "active" (the first list, nothing moved) lists nothing sooner,
    // and a hint on a focused project changes nothing.
    let mut d = workspace(2);
    for p in ["p00", "p01"] {
        d.start(p);
        d.swept(secs(1), p, None);
    }
    d.hint(secs(10), "p00", Some(secs(5)), false);
    assert_eq!(
        d.next(secs(10)).map(|s| (s.project_id, s.at, s.reason)),
        Some(("p00".into(), secs(41), Reason::Active))
    );
    d.set_cursor(Some("p01".into()));
    d.hint(secs(10), "p01", Some(secs(5)), true);
    assert_eq!(
        d.next(secs(10)).map(|s| (s.project_id, s.reason)),
        Some(("p01".into(), Reason::Focus))
    );
}

#[test]
fn a_pinned_project_is_listed_as_often_as_the_cursors_until_unpinned() {
    let mut d = workspace(4);
    d.set_pinned(["p02".to_string()]);
    assert_eq!(
        d.next(Tick::ZERO).map(|s| (s.project_id, s.reason)),
        Some(("p02".into(), Reason::Focus))
    );
    let listed = play(&mut d, Tick::ZERO, secs(600), Duration::from_secs(1));
    let count = |p: &str| listed.iter().filter(|(_, q)| q == p).count();
    assert!(count("p02") >= 35, "pinned: {}", count("p02"));
    assert!(count("p01") <= 3, "{}", count("p01"));
    d.set_pinned(Vec::new());
    let after = play(&mut d, secs(600), secs(1200), Duration::from_secs(1));
    let count = |p: &str| after.iter().filter(|(_, q)| q == p).count();
    assert!(count("p02") <= 3, "unpinned: {}", count("p02"));
}

#[test]
fn a_hint_without_activity_lists_a_scheduled_project_once_and_no_more_often() {
    let mut d = workspace(2);
    for p in ["p00", "p01"] {
        d.start(p);
        d.swept(secs(100), p, None);
    }
    d.hint(secs(110), "p01", None, true);
    assert_eq!(
        d.next(secs(110)).map(|s| (s.project_id, s.reason)),
        Some(("p01".into(), Reason::Hint))
    );
    d.start("p01");
    d.swept(secs(111), "p01", None);
    assert_eq!(
        d.next(secs(112)).map(|s| (s.project_id, s.at, s.reason)),
        Some(("p00".into(), secs(400), Reason::Dormant)),
        "back to the slow round: p01 is next at 411 s"
    );
}
