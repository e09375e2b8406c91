#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the journal over random event histories: the live state (each appended event
//! applied as it is written) equals a replay of the file read back, and compaction keeps
//! everything that is still in flight.

use std::sync::Arc;

use hexdash::clock::ManualClock;
use hexdash::hex::RunStatus;
use hexdash::journal::{
    self, CompactPolicy, Envelope, Event, Journal, JournalState, LaunchIntent, LaunchOptions,
    Origin, StatusChange,
};
use indexmap::IndexMap;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use serde_json::json;

const PROJECTS: [&str; 3] = ["alpha", "beta", "gamma"];

#[derive(Debug, Clone)]
enum Op {
    Intent {
        project: usize,
        param: u8,
    },
    Resolve {
        pick: usize,
        how: u8,
    },
    Status {
        pick: usize,
        status: u8,
        minute: u16,
        elapsed: u32,
    },
    Watch {
        project: usize,
    },
    CancelRequest {
        pick: usize,
    },
    CancelConfirm {
        pick: usize,
        status: u8,
    },
    CancelNotConfirmed {
        pick: usize,
    },
    Pipeline {
        id: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..PROJECTS.len(), any::<u8>()).prop_map(|(project, param)| Op::Intent { project, param }),
        3 => (any::<usize>(), 0u8..5).prop_map(|(pick, how)| Op::Resolve { pick, how }),
        6 => (any::<usize>(), 0u8..7, any::<u16>(), any::<u32>())
            .prop_map(|(pick, status, minute, elapsed)| Op::Status { pick, status, minute, elapsed }),
        1 => (0..PROJECTS.len()).prop_map(|project| Op::Watch { project }),
        1 => any::<usize>().prop_map(|pick| Op::CancelRequest { pick }),
        1 => (any::<usize>(), 0u8..4).prop_map(|(pick, status)| Op::CancelConfirm { pick, status }),
        1 => any::<usize>().prop_map(|pick| Op::CancelNotConfirmed { pick }),
        1 => (0u8..4).prop_map(|id| Op::Pipeline { id }),
    ]
}

fn status_of(n: u8) -> RunStatus {
    match RunStatus::KNOWN.get(usize::from(n)) {
        Some(s) => s.clone(),
        None => RunStatus::Unknown("QUEUED_FOR_GPU".into()),
    }
}

fn minutes(n: u16) -> Timestamp {
    let base: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    base.checked_add(SignedDuration::from_mins(i64::from(n)))
        .unwrap()
}

/// Turns random ops into a history a real engine could write: resolutions name pending
/// launches, statuses and cancels name known runs.
fn events(ops: &[Op]) -> Vec<Event> {
    let mut pending: Vec<(String, &str, bool)> = Vec::new();
    let mut runs: Vec<(&str, String)> = Vec::new();
    let mut out = Vec::new();
    for (n, op) in ops.iter().enumerate() {
        match *op {
            Op::Intent { project, param } => {
                let launch_id = format!("launch-{n}");
                pending.push((launch_id.clone(), PROJECTS[project], false));
                out.push(Event::LaunchIntent(LaunchIntent {
                    launch_id,
                    project_id: PROJECTS[project].into(),
                    project_title: None,
                    params: IndexMap::from([("n".to_string(), json!(param))]),
                    options: LaunchOptions {
                        dry_run: param % 2 == 0,
                        ..LaunchOptions::default()
                    },
                    origin: if param % 3 == 0 {
                        Origin::Pipeline {
                            pipeline_run_id: format!("pipe-{}", param % 4),
                            step_id: "s".into(),
                            attempt: 1,
                        }
                    } else {
                        Origin::Tui
                    },
                    profile: "default".into(),
                }));
            }
            Op::Resolve { pick, how } if !pending.is_empty() => {
                let i = pick % pending.len();
                let (launch_id, project, unknown) = pending[i].clone();
                let (project_id, run_id) = (project.to_string(), format!("run-{n}"));
                let event = match (how, unknown) {
                    (0, _) => Event::Launched {
                        launch_id,
                        project_id,
                        run_id: run_id.clone(),
                        run_url: None,
                        trace_id: Some(format!("t{n}")),
                        project_version: None,
                    },
                    (1, _) => Event::LaunchFailed {
                        launch_id,
                        project_id,
                        error: "422".into(),
                    },
                    (2, false) => {
                        pending[i].2 = true;
                        out.push(Event::LaunchOutcomeUnknown {
                            launch_id,
                            project_id,
                            error: "timeout".into(),
                        });
                        continue;
                    }
                    (3, true) | (2, true) => Event::Adopted {
                        launch_id,
                        project_id,
                        run_id: run_id.clone(),
                        run_url: Some("u".into()),
                    },
                    _ => Event::Abandoned {
                        launch_id,
                        project_id,
                        reason: "no run".into(),
                    },
                };
                if event.run().is_some() {
                    runs.push((project, run_id));
                }
                pending.remove(i);
                out.push(event);
            }
            Op::Watch { project } => {
                let run_id = format!("watched-{n}");
                runs.push((PROJECTS[project], run_id.clone()));
                out.push(Event::Watch {
                    project_id: PROJECTS[project].into(),
                    run_id,
                    origin: Origin::Cli,
                });
            }
            Op::Pipeline { id } => out.push(Event::Pipeline {
                pipeline_run_id: format!("pipe-{id}"),
                kind: "step_finished".into(),
                data: json!({"n": n}),
            }),
            Op::Resolve { .. } => {}
            Op::Status { pick, .. }
            | Op::CancelRequest { pick }
            | Op::CancelConfirm { pick, .. }
            | Op::CancelNotConfirmed { pick } => {
                if runs.is_empty() {
                    continue;
                }
                let (project, run) = &runs[pick % runs.len()];
                let (project_id, run_id) = (project.to_string(), run.clone());
                out.push(match *op {
                    Op::Status {
                        status,
                        minute,
                        elapsed,
                        ..
                    } => Event::StatusChanged(StatusChange {
                        project_id,
                        run_id,
                        status: status_of(status),
                        start_time: Some(minutes(minute)),
                        end_time: (status >= 2).then(|| minutes(minute.saturating_add(3))),
                        elapsed_ms: Some(f64::from(elapsed)),
                        observed_at: minutes(minute.saturating_add(4)),
                    }),
                    Op::CancelRequest { .. } => Event::CancelRequested {
                        project_id,
                        run_id,
                        origin: Origin::Tui,
                    },
                    Op::CancelConfirm { status, .. } => Event::CancelConfirmed {
                        project_id,
                        run_id,
                        status: status_of(status + 2),
                    },
                    _ => Event::CancelNotConfirmed { project_id, run_id },
                });
            }
        }
    }
    out
}

fn write_all(journal: &mut Journal, clock: &ManualClock, events: Vec<Event>) -> Vec<Envelope> {
    events
        .into_iter()
        .map(|event| {
            clock.advance(SignedDuration::from_millis(1500));
            journal.append(event).unwrap()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn live_state_equals_replay_and_compaction_keeps_what_is_in_flight(
        ops in prop::collection::vec(op(), 0..80),
        keep_ended in 0usize..4,
        keep_pipeline_runs in 0usize..3,
    ) {
        let dir = tempfile::tempdir().unwrap();
        // A data dir of its own: Journal::open creates it private, as the data dir is.
        let path = dir.path().join("data").join(journal::FILE_NAME);
        let clock = Arc::new(ManualClock::new(minutes(0)));
        let mut journal = Journal::open_with_clock(&path, clock.clone()).unwrap().journal;

        let mut live = JournalState::default();
        let written = write_all(&mut journal, &clock, events(&ops));
        for env in &written {
            live.apply(env);
        }

        let loaded = journal::load(&path).unwrap();
        prop_assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        prop_assert_eq!(&loaded.events, &written);
        prop_assert_eq!(&JournalState::replay(&loaded.events), &live);
        let (streamed, warnings) = journal::load_state(&path).unwrap();
        prop_assert!(warnings.is_empty(), "{:?}", warnings);
        prop_assert_eq!(&streamed, &live, "the streamed fold is the same state");

        let policy = CompactPolicy { keep_ended, keep_pipeline_runs };
        journal.compact(&policy).unwrap();
        let next = journal.append(Event::CancelNotConfirmed {
            project_id: "alpha".into(),
            run_id: "after-compaction".into(),
        }).unwrap();
        drop(journal);

        let compacted = journal::load(&path).unwrap();
        prop_assert!(compacted.warnings.is_empty(), "{:?}", compacted.warnings);
        let seqs: Vec<u64> = compacted.events.iter().map(|e| e.seq).collect();
        prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{:?}", seqs);
        prop_assert!(written.iter().all(|e| e.seq < next.seq));
        let without_probe = &compacted.events[..compacted.events.len() - 1];
        let state = JournalState::replay(without_probe);

        let active = |s: &JournalState| s.active_runs().cloned().collect::<Vec<_>>();
        prop_assert_eq!(active(&state), active(&live));
        let pending = |s: &JournalState| s.pending_launches().cloned().collect::<Vec<_>>();
        prop_assert_eq!(pending(&state), pending(&live));
        for project in PROJECTS {
            prop_assert_eq!(state.last_launch(project), live.last_launch(project));
        }
        for run in state.runs() {
            let full = live.run(&run.project_id, &run.run_id);
            prop_assert!(full.is_some(), "compaction invented {}", run.run_id);
            prop_assert_eq!(&run.status, &full.unwrap().status);
        }
        let ended = state.runs().filter(|r| !r.is_active()).count();
        prop_assert!(ended <= keep_ended + PROJECTS.len());

        // A reopened writer numbers above everything compaction wrote.
        let reopened = Journal::open(&path).unwrap().journal;
        prop_assert_eq!(reopened.next_seq(), next.seq + 1);
    }
}
