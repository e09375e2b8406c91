//! The journal's vocabulary: what one line of `journal.jsonl` says.
//!
//! Owns the on-disk shape of an event and nothing else: no I/O, no folding into state. A line is a
//! flat JSON object, the [`Envelope`] fields first and the event's own fields beside them:
//!
//! ```text
//! {"v":1,"seq":7,"at":"2026-01-01T10:00:00Z","event":"launched","launch_id":"…","project_id":"…",…}
//! ```
//!
//! Flat rather than nested so `grep`/`jq 'select(.event == "launched")'` read it directly. Field
//! names are snake_case and stable: renaming one is a format change. Readers ignore fields they do
//! not know (a newer hexdash may add some); an unknown `event` kind is skipped by the loader.
//!
//! There is deliberately no field that could hold the API token (DESIGN.md "Secrets"); a test
//! below walks every variant to keep it that way.

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::hex::types::{ProjectVersion, RunStatus};

/// The version written into every line's `v`. Bump it only for a change old readers would
/// misunderstand; adding an optional field or a new event kind does not need a bump.
pub const FORMAT_VERSION: u32 = 1;

/// One line of the journal.
///
/// `seq` is assigned by the writer, starts at 1 and only grows, also across compaction (which
/// copies kept lines verbatim). `at` is when hexdash recorded the event, not when it happened on
/// Hex's side (that is in the event, e.g. [`StatusChange::observed_at`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    pub seq: u64,
    pub at: Timestamp,
    #[serde(flatten)]
    pub event: Event,
}

/// What hexdash recorded. The tag is the line's `event` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Written and synced *before* RunProject is sent, so a crash mid-request leaves a launch to
    /// reconcile instead of a run nobody knows about (DESIGN.md "Exactly-once launch").
    LaunchIntent(LaunchIntent),
    /// Hex answered 201: the launch created this run.
    Launched {
        launch_id: String,
        project_id: String,
        run_id: String,
        run_url: Option<String>,
        trace_id: Option<String>,
        project_version: Option<ProjectVersion>,
    },
    /// Hex certainly created nothing (a 4xx, or a 429/503/refused connection given up on).
    LaunchFailed {
        launch_id: String,
        project_id: String,
        error: String,
    },
    /// The request may or may not have created a run (timeout, reset, 5xx). Must be reconciled by
    /// listing the project's runs before anything is re-sent.
    LaunchOutcomeUnknown {
        launch_id: String,
        project_id: String,
        error: String,
    },
    /// Reconciliation found the run an unknown-outcome launch created.
    Adopted {
        launch_id: String,
        project_id: String,
        run_id: String,
        run_url: Option<String>,
    },
    /// Reconciliation proved no run was created; this launch will not be re-sent.
    Abandoned {
        launch_id: String,
        project_id: String,
        reason: String,
    },
    StatusChanged(StatusChange),
    /// A run hexdash did not launch but was told to follow.
    Watch {
        project_id: String,
        run_id: String,
        origin: Origin,
    },
    CancelRequested {
        project_id: String,
        run_id: String,
        origin: Origin,
    },
    /// Hex reported a terminal status after the cancel.
    CancelConfirmed {
        project_id: String,
        run_id: String,
        status: RunStatus,
    },
    /// The run was still alive when the cancel deadline passed.
    CancelNotConfirmed {
        project_id: String,
        run_id: String,
    },
    /// Owned by the pipeline module: the journal stores `kind` and `data` without reading them, so
    /// pipelines can evolve their payloads without a journal format change.
    Pipeline {
        pipeline_run_id: String,
        kind: String,
        data: Value,
    },
    /// Written by compaction as the last line of the rewritten file. Carries the highest `seq`
    /// forward even when the newest events were dropped, so numbering never restarts lower.
    Compacted {
        kept: u64,
        dropped: u64,
    },
}

impl Event {
    /// Every `event` tag this version writes and understands. The loader uses it to tell "a kind
    /// from a newer hexdash" (skipped) from "a known kind with a broken body" (corrupt).
    pub const KINDS: [&'static str; 13] = [
        "launch_intent",
        "launched",
        "launch_failed",
        "launch_outcome_unknown",
        "adopted",
        "abandoned",
        "status_changed",
        "watch",
        "cancel_requested",
        "cancel_confirmed",
        "cancel_not_confirmed",
        "pipeline",
        "compacted",
    ];

    /// The `event` tag of this event, for logs and warnings.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::LaunchIntent(_) => "launch_intent",
            Event::Launched { .. } => "launched",
            Event::LaunchFailed { .. } => "launch_failed",
            Event::LaunchOutcomeUnknown { .. } => "launch_outcome_unknown",
            Event::Adopted { .. } => "adopted",
            Event::Abandoned { .. } => "abandoned",
            Event::StatusChanged(_) => "status_changed",
            Event::Watch { .. } => "watch",
            Event::CancelRequested { .. } => "cancel_requested",
            Event::CancelConfirmed { .. } => "cancel_confirmed",
            Event::CancelNotConfirmed { .. } => "cancel_not_confirmed",
            Event::Pipeline { .. } => "pipeline",
            Event::Compacted { .. } => "compacted",
        }
    }

    /// The launch this event belongs to, if it is part of a launch's lifecycle.
    pub fn launch_id(&self) -> Option<&str> {
        match self {
            Event::LaunchIntent(i) => Some(&i.launch_id),
            Event::Launched { launch_id, .. }
            | Event::LaunchFailed { launch_id, .. }
            | Event::LaunchOutcomeUnknown { launch_id, .. }
            | Event::Adopted { launch_id, .. }
            | Event::Abandoned { launch_id, .. } => Some(launch_id),
            _ => None,
        }
    }

    /// The Hex run this event names, as `(project_id, run_id)`.
    pub fn run(&self) -> Option<(&str, &str)> {
        match self {
            Event::StatusChanged(s) => Some((&s.project_id, &s.run_id)),
            Event::Launched {
                project_id, run_id, ..
            }
            | Event::Adopted {
                project_id, run_id, ..
            }
            | Event::Watch {
                project_id, run_id, ..
            }
            | Event::CancelRequested {
                project_id, run_id, ..
            }
            | Event::CancelConfirmed {
                project_id, run_id, ..
            }
            | Event::CancelNotConfirmed { project_id, run_id } => Some((project_id, run_id)),
            _ => None,
        }
    }
}

/// Everything needed to re-send or reconcile a launch, recorded before the request goes out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LaunchIntent {
    /// hexdash's own id for this launch attempt (a UUID), so a retry of the same attempt is
    /// recognisable and a second attempt is not.
    pub launch_id: String,
    pub project_id: String,
    pub project_title: Option<String>,
    pub params: IndexMap<String, Value>,
    pub options: LaunchOptions,
    pub origin: Origin,
    /// The config profile (workspace) the launch used. A name, never a credential.
    pub profile: String,
    /// The hexdash process that sent it. None in journals from before the shared store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launched_by: Option<super::process::Launcher>,
}

/// RunProject's options besides the inputs, plus hexdash's own timeout handling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchOptions {
    pub dry_run: bool,
    pub use_cached_sql_results: Option<bool>,
    pub update_published_results: Option<bool>,
    pub timeout_secs: Option<u64>,
    pub kill_on_timeout: bool,
}

/// Who asked for a launch, watch or cancel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    Tui,
    Cli,
    Pipeline {
        pipeline_run_id: String,
        step_id: String,
        /// Which attempt of the step (1 for the first run, 2 for its first retry...). Journals
        /// written before retries existed have none: their launches were first attempts.
        #[serde(default = "first_attempt")]
        attempt: u32,
    },
    /// Not launched by any hexdash: found in Hex's listing of its project (workspace discovery),
    /// started by Hex's scheduler, an app refresh or another API client. `trigger` is Hex's
    /// `runTrigger` (`API`, `SCHEDULED`, `APP_REFRESH`), when Hex gave one.
    Hex {
        #[serde(default)]
        trigger: Option<String>,
        /// The config profile whose discovery found it: another profile is another workspace.
        #[serde(default)]
        profile: Option<String>,
    },
    /// An origin kind written by a newer hexdash. Kept readable so one new origin does not make
    /// a whole launch record unreadable.
    #[serde(other)]
    Other,
}

fn first_attempt() -> u32 {
    1
}

impl Origin {
    /// The one word lists and `--json` show: `tui`, `cli`, `pipeline` for runs a hexdash process
    /// launched; `schedule`, `app refresh`, `api` (another client) or `hex` for runs found in Hex.
    pub fn word(&self) -> &'static str {
        match self {
            Origin::Tui => "tui",
            Origin::Cli => "cli",
            Origin::Pipeline { .. } => "pipeline",
            Origin::Hex { trigger, .. } => match trigger.as_deref() {
                Some("SCHEDULED") => "schedule",
                Some("APP_REFRESH") => "app refresh",
                Some("API") => "api",
                _ => "hex",
            },
            Origin::Other => "other",
        }
    }

    /// A run found in Hex's listing with this `runTrigger` by `profile`'s discovery. A trigger
    /// Hex does not document is not kept (it is server text, shown on screens).
    pub fn found(trigger: Option<&str>, profile: Option<&str>) -> Origin {
        Origin::Hex {
            trigger: trigger
                .filter(|t| crate::hex::types::RUN_TRIGGERS.contains(t))
                .map(str::to_string),
            profile: profile.map(str::to_string),
        }
    }
}

/// One observation of a run's status (GetRunStatus / GetProjectRuns), written when it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub project_id: String,
    pub run_id: String,
    pub status: RunStatus,
    /// Hex's `startTime` / `endTime`, null until started / ended (HEX_API.md).
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    /// Hex's `elapsedTime`, in milliseconds.
    pub elapsed_ms: Option<f64>,
    /// When hexdash received the answer that showed this status.
    pub observed_at: Timestamp,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// One of every variant. The exhaustive `kind()` match plus the KINDS check below make adding
    /// a variant without a sample fail this test module.
    pub(crate) fn samples() -> Vec<Event> {
        let pipeline = Origin::Pipeline {
            pipeline_run_id: "pr-1".into(),
            step_id: "load".into(),
            attempt: 1,
        };
        vec![
            Event::LaunchIntent(LaunchIntent {
                launch_id: "0b6c9a3e-0000-4000-8000-000000000001".into(),
                project_id: "p1".into(),
                project_title: Some("Daily revenue".into()),
                params: IndexMap::from([("region".to_string(), json!("eu"))]),
                options: LaunchOptions {
                    dry_run: false,
                    use_cached_sql_results: Some(true),
                    update_published_results: None,
                    timeout_secs: Some(600),
                    kill_on_timeout: true,
                },
                origin: pipeline.clone(),
                profile: "default".into(),
                launched_by: None,
            }),
            Event::Launched {
                launch_id: "l1".into(),
                project_id: "p1".into(),
                run_id: "r1".into(),
                run_url: Some("https://app.hex.tech/x".into()),
                trace_id: Some("t1".into()),
                project_version: Some(ProjectVersion::Number(3)),
            },
            Event::LaunchFailed {
                launch_id: "l2".into(),
                project_id: "p1".into(),
                error: "422".into(),
            },
            Event::LaunchOutcomeUnknown {
                launch_id: "l3".into(),
                project_id: "p1".into(),
                error: "timeout".into(),
            },
            Event::Adopted {
                launch_id: "l3".into(),
                project_id: "p1".into(),
                run_id: "r3".into(),
                run_url: None,
            },
            Event::Abandoned {
                launch_id: "l4".into(),
                project_id: "p1".into(),
                reason: "no run listed".into(),
            },
            Event::StatusChanged(StatusChange {
                project_id: "p1".into(),
                run_id: "r1".into(),
                status: RunStatus::Completed,
                start_time: Some(ts("2026-01-01T10:00:00.125Z")),
                end_time: Some(ts("2026-01-01T10:01:00Z")),
                elapsed_ms: Some(59875.0),
                observed_at: ts("2026-01-01T10:01:02Z"),
            }),
            Event::Watch {
                project_id: "p2".into(),
                run_id: "r9".into(),
                origin: Origin::Cli,
            },
            Event::CancelRequested {
                project_id: "p1".into(),
                run_id: "r1".into(),
                origin: Origin::Tui,
            },
            Event::CancelConfirmed {
                project_id: "p1".into(),
                run_id: "r1".into(),
                status: RunStatus::Killed,
            },
            Event::CancelNotConfirmed {
                project_id: "p1".into(),
                run_id: "r1".into(),
            },
            Event::Pipeline {
                pipeline_run_id: "pr-1".into(),
                kind: "step_started".into(),
                data: json!({"step": "load"}),
            },
            Event::Compacted {
                kept: 10,
                dropped: 90,
            },
        ]
    }

    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn samples_cover_every_kind() {
        let kinds: Vec<&str> = samples().iter().map(Event::kind).collect();
        assert_eq!(kinds, Event::KINDS);
    }

    #[test]
    fn every_variant_round_trips_as_one_flat_line() {
        for (seq, event) in samples().into_iter().enumerate() {
            let env = Envelope {
                v: FORMAT_VERSION,
                seq: seq as u64 + 1,
                at: ts("2026-01-01T10:00:00.000000001Z"),
                event,
            };
            let line = serde_json::to_string(&env).unwrap();
            assert!(!line.contains('\n'), "{line}");
            let value: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(value["event"], env.event.kind(), "{line}");
            assert_eq!(value["v"], 1);
            let back: Envelope = serde_json::from_str(&line).unwrap();
            assert_eq!(back, env);
        }
    }

    #[test]
    fn no_event_has_a_field_that_could_hold_a_credential() {
        for event in samples() {
            let mut names = Vec::new();
            keys(&serde_json::to_value(&event).unwrap(), &mut names);
            for name in names {
                let lower = name.to_ascii_lowercase();
                for banned in ["token", "authorization", "secret", "password", "bearer"] {
                    assert!(
                        !lower.contains(banned),
                        "{} has a field named {name:?}",
                        event.kind()
                    );
                }
            }
        }
    }

    #[test]
    fn wire_shape_is_stable() {
        let env = Envelope {
            v: 1,
            seq: 2,
            at: ts("2026-01-01T10:00:00Z"),
            event: Event::CancelRequested {
                project_id: "p1".into(),
                run_id: "r1".into(),
                origin: Origin::Pipeline {
                    pipeline_run_id: "pr".into(),
                    step_id: "s".into(),
                    attempt: 1,
                },
            },
        };
        assert_eq!(
            serde_json::to_string(&env).unwrap(),
            r#"{"v":1,"seq":2,"at":"2026-01-01T10:00:00Z","event":"cancel_requested","project_id":"p1","run_id":"r1","origin":{"kind":"pipeline","pipeline_run_id":"pr","step_id":"s","attempt":1}}"#
        );
    }

    #[test]
    fn pipeline_origins_written_before_attempts_were_first_attempts() {
        let origin: Origin =
            serde_json::from_str(r#"{"kind":"pipeline","pipeline_run_id":"pr","step_id":"s"}"#)
                .unwrap();
        assert_eq!(
            origin,
            Origin::Pipeline {
                pipeline_run_id: "pr".into(),
                step_id: "s".into(),
                attempt: 1
            }
        );
    }

    #[test]
    fn unknown_fields_and_origins_from_a_newer_hexdash_are_tolerated() {
        let line = r#"{"v":1,"seq":5,"at":"2026-01-01T10:00:00Z","event":"watch","project_id":"p","run_id":"r","origin":{"kind":"scheduler","cron":"* * *"},"added_later":true}"#;
        let env: Envelope = serde_json::from_str(line).unwrap();
        assert_eq!(
            env.event,
            Event::Watch {
                project_id: "p".into(),
                run_id: "r".into(),
                origin: Origin::Other
            }
        );
    }
}
