#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Properties of the store over random event histories: the live state (each recorded event
//! applied as it is written) equals a replay of the store read back, two writers on one store
//! (two hexdash processes) end with the same state, and the `runs` table says what the log says.

use std::sync::Arc;

use hexdash::clock::ManualClock;
use hexdash::hex::RunStatus;
use hexdash::journal::{
    self, Envelope, Event, Journal, JournalState, LaunchIntent, LaunchOptions, Origin, StatusChange,
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
                    launched_by: None,
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
    fn live_state_equals_replay_and_two_writers_agree(
        ops in prop::collection::vec(op(), 0..80),
        writers in any::<u64>(),
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

        // The same history recorded by two writers taking turns at random, each checking
        // against what the other wrote.
        let shared = dir.path().join("shared").join(journal::FILE_NAME);
        let mut a = Journal::open_with_clock(&shared, clock.clone()).unwrap().journal;
        let mut b = Journal::open_with_clock(&shared, clock.clone()).unwrap().journal;
        let (mut book_a, mut book_b) = (JournalState::default(), JournalState::default());
        let mut recorded = Vec::new();
        for (i, event) in events(&ops).into_iter().enumerate() {
            clock.advance(SignedDuration::from_millis(1500));
            let (j, book) = if writers >> (i % 64) & 1 == 1 {
                (&mut a, &mut book_a)
            } else {
                (&mut b, &mut book_b)
            };
            match j.record(book, event) {
                Ok(r) => recorded.push(r.envelope),
                // A step's launch after its pipeline's cancel: refused, whoever wrote the cancel.
                Err(journal::Error::PipelineCancelled { .. }) => {}
                Err(e) => prop_assert!(false, "record failed: {e}"),
            }
        }
        a.catch_up(&mut book_a).unwrap();
        b.catch_up(&mut book_b).unwrap();
        prop_assert_eq!(&book_a, &book_b, "both writers see one history");
        let read_back = journal::load(&shared).unwrap();
        prop_assert_eq!(&read_back.events, &recorded);
        prop_assert_eq!(&JournalState::replay(&read_back.events), &book_a);

        // Every run has its row in `runs`, with the status and activity the log says.
        let conn = rusqlite::Connection::open(&shared).unwrap();
        let mut stmt = conn
            .prepare("SELECT project_id, run_id, status, active FROM runs")
            .unwrap();
        let rows: Vec<(String, String, Option<String>, bool)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        prop_assert_eq!(rows.len(), book_a.runs().count());
        for (project, run, status, active) in rows {
            let record = book_a.run(&project, &run);
            prop_assert!(record.is_some(), "a row for an unknown run {}", run);
            let record = record.unwrap();
            prop_assert_eq!(status.as_deref(), record.status.as_ref().map(|s| s.as_str()));
            prop_assert_eq!(active, record.is_active());
        }
    }
}
