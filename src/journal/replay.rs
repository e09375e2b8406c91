//! Journal events folded into what hexdash knows: runs, launches to reconcile, history.
//!
//! Owns the meaning of each event. A pure fold: no I/O, no clock, no Hex. The engine applies every
//! envelope it appends, and replays the loaded file on start, and the two must agree (a property
//! test checks it through a real file).
//!
//! Rules worth knowing:
//! - A launch is *pending* from its intent until `launched`, `adopted`, `launch_failed` or
//!   `abandoned`. Pending launches must be reconciled on start before anything is re-sent.
//! - A run's first terminal status is final (HEX_API.md: terminal statuses never change); later
//!   observations of it, e.g. a stale poll answered out of order, are ignored.
//! - `cancel_confirmed` carries the terminal status Hex reported, so it ends the run too.
//! - Pipeline and compaction events are not folded here; the pipeline module reads its own.

use std::collections::{HashMap, HashSet};

use indexmap::{Equivalent, IndexMap};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::error::Error;
use super::event::{Envelope, Event, LaunchIntent, LaunchOptions, Origin, StatusChange};
use super::{PIPELINE_CANCEL, PIPELINE_RESUME};
pub use crate::hex::RunKey;
use crate::hex::types::{ProjectVersion, RunStatus};

/// Looks runs up by borrowed ids, so folding a status line allocates no key. Hashes like
/// `RunKey`'s derived `Hash` (fields in order, each as a `str`).
#[derive(Hash)]
struct RunRef<'a>(&'a str, &'a str);

impl Equivalent<RunKey> for RunRef<'_> {
    fn equivalent(&self, key: &RunKey) -> bool {
        key.is(self.0, self.1)
    }
}

/// Where a cancel stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CancelState {
    #[default]
    None,
    Requested {
        at: Timestamp,
        origin: Origin,
    },
    Confirmed {
        at: Timestamp,
        status: RunStatus,
    },
    NotConfirmed {
        at: Timestamp,
    },
}

/// Everything known about one Hex run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub project_id: String,
    pub run_id: String,
    /// hexdash's launch id, when hexdash launched (or adopted) this run.
    pub launch_id: Option<String>,
    /// The intent the launch recorded: title, parameters, options, origin, profile.
    pub intent: Option<LaunchIntent>,
    /// Found by reconciliation after an unknown launch outcome.
    pub adopted: bool,
    /// Who asked to follow it, for a run hexdash did not launch.
    pub watch_origin: Option<Origin>,
    pub run_url: Option<String>,
    pub trace_id: Option<String>,
    pub project_version: Option<ProjectVersion>,
    /// None until the first status observation.
    pub status: Option<RunStatus>,
    pub start_time: Option<Timestamp>,
    pub end_time: Option<Timestamp>,
    pub elapsed_ms: Option<f64>,
    pub observed_at: Option<Timestamp>,
    /// Each distinct status in the order seen, with when it was observed.
    pub timeline: Vec<(RunStatus, Timestamp)>,
    pub cancel: CancelState,
    /// Journal position and time of the first event about this run.
    pub first_seq: u64,
    pub first_at: Timestamp,
}

impl RunRecord {
    fn new(project_id: &str, run_id: &str, env: &Envelope) -> RunRecord {
        RunRecord {
            project_id: project_id.to_string(),
            run_id: run_id.to_string(),
            launch_id: None,
            intent: None,
            adopted: false,
            watch_origin: None,
            run_url: None,
            trace_id: None,
            project_version: None,
            status: None,
            start_time: None,
            end_time: None,
            elapsed_ms: None,
            observed_at: None,
            timeline: Vec::new(),
            cancel: CancelState::None,
            first_seq: env.seq,
            first_at: env.at,
        }
    }

    /// Not yet known to have ended: no status yet, or a non-terminal (also unknown) one.
    pub fn is_active(&self) -> bool {
        self.status.as_ref().is_none_or(RunStatus::is_active)
    }

    pub fn origin(&self) -> Option<&Origin> {
        self.intent
            .as_ref()
            .map(|i| &i.origin)
            .or(self.watch_origin.as_ref())
    }

    pub fn project_title(&self) -> Option<&str> {
        self.intent
            .as_ref()
            .and_then(|i| i.project_title.as_deref())
    }

    pub fn params(&self) -> Option<&IndexMap<String, Value>> {
        self.intent.as_ref().map(|i| &i.params)
    }

    fn set_status(&mut self, status: RunStatus, observed_at: Timestamp) {
        if self.timeline.last().map(|(s, _)| s) != Some(&status) {
            self.timeline.push((status.clone(), observed_at));
        }
        self.status = Some(status);
        self.observed_at = Some(observed_at);
    }
}

/// A launch that was not resolved when the journal ended.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLaunch {
    pub launch_id: String,
    pub project_id: String,
    /// None only if the intent line was lost to damage; the launch must still be reconciled.
    pub intent: Option<LaunchIntent>,
    pub recorded_at: Timestamp,
    /// Set when the request may have created a run: list the project's runs before re-sending.
    pub unknown_outcome: Option<UnknownOutcome>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UnknownOutcome {
    pub error: String,
    pub at: Timestamp,
}

/// A launch that certainly created no run.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedLaunch {
    pub launch_id: String,
    pub project_id: String,
    pub intent: Option<LaunchIntent>,
    pub end: LaunchEnd,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LaunchEnd {
    Failed { error: String },
    Abandoned { reason: String },
}

/// The parameters and options of a project's newest launch, to prefill its form.
#[derive(Debug, Clone, PartialEq)]
pub struct LastLaunch {
    pub launch_id: String,
    pub params: IndexMap<String, Value>,
    pub options: LaunchOptions,
    pub at: Timestamp,
    /// The intent's place in the store: an older launch read in later (a run hydrated on
    /// demand) does not replace a newer one.
    pub seq: u64,
}

/// One ended run's timing, input for a project's duration statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDuration {
    pub run_id: String,
    pub status: RunStatus,
    pub start: Timestamp,
    pub end: Timestamp,
    pub duration: SignedDuration,
}

/// Everything the journal says, folded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JournalState {
    /// In order of first appearance.
    runs: IndexMap<RunKey, RunRecord>,
    /// By launch id, in intent order.
    pending: IndexMap<String, PendingLaunch>,
    ended_launches: Vec<EndedLaunch>,
    last_launch: HashMap<String, LastLaunch>,
    /// Pipeline entries by pipeline run id, in order of first appearance. Their payloads belong
    /// to the pipeline module; the journal only groups them.
    pipelines: IndexMap<String, Vec<PipelineEntry>>,
    /// Pipeline runs with a `cancel` entry not followed by a `resume`: no step of theirs may be
    /// launched (see [`JournalState::check_append`]).
    cancelled_pipelines: HashSet<String>,
    last_seq: u64,
}

/// One `pipeline` event, kept as written.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineEntry {
    pub seq: u64,
    pub at: Timestamp,
    pub kind: String,
    pub data: Value,
}

impl JournalState {
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Envelope>) -> JournalState {
        let mut state = JournalState::default();
        for env in events {
            state.apply(env);
        }
        state
    }

    fn run_mut(&mut self, project_id: &str, run_id: &str, env: &Envelope) -> &mut RunRecord {
        let index = match self.runs.get_index_of(&RunRef(project_id, run_id)) {
            Some(i) => i,
            None => {
                let key = RunKey::new(project_id, run_id);
                let record = RunRecord::new(project_id, run_id, env);
                self.runs.insert_full(key, record).0
            }
        };
        &mut self.runs[index]
    }

    fn resolve_with_run(
        &mut self,
        launch_id: &str,
        project_id: &str,
        run_id: &str,
        env: &Envelope,
    ) {
        let pending = self.pending.shift_remove(launch_id);
        let run = self.run_mut(project_id, run_id, env);
        run.launch_id = Some(launch_id.to_string());
        if let Some(intent) = pending.and_then(|p| p.intent) {
            run.intent = Some(intent);
        }
    }

    fn resolve_without_run(
        &mut self,
        launch_id: &str,
        project_id: &str,
        end: LaunchEnd,
        at: Timestamp,
    ) {
        let intent = self.pending.shift_remove(launch_id).and_then(|p| p.intent);
        self.ended_launches.push(EndedLaunch {
            launch_id: launch_id.to_string(),
            project_id: project_id.to_string(),
            intent,
            end,
            at,
        });
    }

    pub fn apply(&mut self, env: &Envelope) {
        self.last_seq = self.last_seq.max(env.seq);
        match &env.event {
            Event::LaunchIntent(intent) => self.apply_intent(intent, env),
            Event::Launched {
                launch_id,
                project_id,
                run_id,
                run_url,
                trace_id,
                project_version,
            } => {
                self.resolve_with_run(launch_id, project_id, run_id, env);
                let run = self.run_mut(project_id, run_id, env);
                run.run_url = run_url.clone().or(run.run_url.take());
                run.trace_id = trace_id.clone();
                run.project_version = project_version.clone();
            }
            Event::Adopted {
                launch_id,
                project_id,
                run_id,
                run_url,
            } => self.apply_adopted(launch_id, project_id, run_id, run_url, env),
            Event::LaunchFailed {
                launch_id,
                project_id,
                error,
            } => {
                let end = LaunchEnd::Failed {
                    error: error.clone(),
                };
                self.resolve_without_run(launch_id, project_id, end, env.at);
            }
            Event::Abandoned {
                launch_id,
                project_id,
                reason,
            } => {
                let end = LaunchEnd::Abandoned {
                    reason: reason.clone(),
                };
                self.resolve_without_run(launch_id, project_id, end, env.at);
            }
            Event::LaunchOutcomeUnknown {
                launch_id,
                project_id,
                error,
            } => self.apply_outcome_unknown(launch_id, project_id, error, env),
            Event::StatusChanged(change) => self.apply_status(change, env),
            Event::Watch {
                project_id,
                run_id,
                origin,
            } => self.apply_watch(project_id, run_id, origin, env),
            Event::CancelRequested {
                project_id,
                run_id,
                origin,
            } => {
                self.run_mut(project_id, run_id, env).cancel = CancelState::Requested {
                    at: env.at,
                    origin: origin.clone(),
                };
            }
            Event::CancelConfirmed {
                project_id,
                run_id,
                status,
            } => self.apply_cancel_confirmed(project_id, run_id, status, env),
            Event::CancelNotConfirmed { project_id, run_id } => {
                self.run_mut(project_id, run_id, env).cancel =
                    CancelState::NotConfirmed { at: env.at };
            }
            Event::Pipeline {
                pipeline_run_id,
                kind,
                data,
            } => self.apply_pipeline(pipeline_run_id, kind, data, env),
            Event::Compacted { .. } => {}
        }
    }

    /// A launch intent: the project's newest launch (unless a newer one is already folded), and
    /// pending until it resolves.
    fn apply_intent(&mut self, intent: &LaunchIntent, env: &Envelope) {
        let newer = self
            .last_launch
            .get(&intent.project_id)
            .is_none_or(|last| last.seq <= env.seq);
        if newer {
            self.last_launch.insert(
                intent.project_id.clone(),
                LastLaunch {
                    launch_id: intent.launch_id.clone(),
                    params: intent.params.clone(),
                    options: intent.options.clone(),
                    at: env.at,
                    seq: env.seq,
                },
            );
        }
        let pending = self
            .pending
            .entry(intent.launch_id.clone())
            .or_insert_with(|| PendingLaunch {
                launch_id: intent.launch_id.clone(),
                project_id: intent.project_id.clone(),
                intent: None,
                recorded_at: env.at,
                unknown_outcome: None,
            });
        pending.intent = Some(intent.clone());
    }

    /// Reconciliation found the run an unknown-outcome launch created.
    fn apply_adopted(
        &mut self,
        launch_id: &str,
        project_id: &str,
        run_id: &str,
        run_url: &Option<String>,
        env: &Envelope,
    ) {
        self.resolve_with_run(launch_id, project_id, run_id, env);
        let run = self.run_mut(project_id, run_id, env);
        run.adopted = true;
        run.run_url = run_url.clone().or(run.run_url.take());
    }

    /// The launch request may have created a run: it stays pending (even when its intent line
    /// was lost), marked to be looked for before re-sending.
    fn apply_outcome_unknown(
        &mut self,
        launch_id: &str,
        project_id: &str,
        error: &str,
        env: &Envelope,
    ) {
        let pending = self
            .pending
            .entry(launch_id.to_string())
            .or_insert_with(|| PendingLaunch {
                launch_id: launch_id.to_string(),
                project_id: project_id.to_string(),
                intent: None,
                recorded_at: env.at,
                unknown_outcome: None,
            });
        pending.unknown_outcome = Some(UnknownOutcome {
            error: error.to_string(),
            at: env.at,
        });
    }

    /// A run to follow; the first origin it was watched for is the one kept.
    fn apply_watch(&mut self, project_id: &str, run_id: &str, origin: &Origin, env: &Envelope) {
        let run = self.run_mut(project_id, run_id, env);
        if run.watch_origin.is_none() {
            run.watch_origin = Some(origin.clone());
        }
    }

    /// Hex confirmed the cancel with a terminal status, which ends a run still active.
    fn apply_cancel_confirmed(
        &mut self,
        project_id: &str,
        run_id: &str,
        status: &RunStatus,
        env: &Envelope,
    ) {
        let run = self.run_mut(project_id, run_id, env);
        run.cancel = CancelState::Confirmed {
            at: env.at,
            status: status.clone(),
        };
        if run.is_active() {
            run.set_status(status.clone(), env.at);
        }
    }

    /// A pipeline entry, grouped under its pipeline run; a cancel or resume changes whether the
    /// run's steps may be launched.
    fn apply_pipeline(&mut self, pipeline_run_id: &str, kind: &str, data: &Value, env: &Envelope) {
        let entry = PipelineEntry {
            seq: env.seq,
            at: env.at,
            kind: kind.to_string(),
            data: data.clone(),
        };
        match self.pipelines.get_mut(pipeline_run_id) {
            Some(entries) => entries.push(entry),
            None => {
                self.pipelines
                    .insert(pipeline_run_id.to_string(), vec![entry]);
            }
        }
        if kind == PIPELINE_CANCEL {
            self.cancelled_pipelines.insert(pipeline_run_id.to_string());
        } else if kind == PIPELINE_RESUME {
            self.cancelled_pipelines.remove(pipeline_run_id);
        }
    }

    /// Refuses an event that must not be recorded after what is already folded: a launch intent
    /// for a step of a pipeline run whose cancel is journalled (until a resume). The engine asks
    /// under the same lock it records with, so a launch handed to it before the cancel, still
    /// waiting for its turn when the cancel is written, is never sent.
    pub fn check_append(&self, event: &Event) -> Result<(), Error> {
        if let Event::LaunchIntent(intent) = event
            && let Origin::Pipeline {
                pipeline_run_id,
                step_id,
                ..
            } = &intent.origin
            && self.cancelled_pipelines.contains(pipeline_run_id.as_str())
        {
            return Err(Error::PipelineCancelled {
                pipeline_run_id: pipeline_run_id.clone(),
                step: step_id.clone(),
            });
        }
        Ok(())
    }

    /// Whether pipeline run `id` has a journalled cancel not followed by a resume.
    pub fn is_pipeline_cancelled(&self, pipeline_run_id: &str) -> bool {
        self.cancelled_pipelines.contains(pipeline_run_id)
    }

    /// The entries of one pipeline run, in journal order.
    pub fn pipeline(&self, pipeline_run_id: &str) -> Option<&[PipelineEntry]> {
        self.pipelines.get(pipeline_run_id).map(Vec::as_slice)
    }

    /// Every pipeline run's id and entries, oldest first.
    pub fn pipelines(&self) -> impl DoubleEndedIterator<Item = (&str, &[PipelineEntry])> {
        self.pipelines
            .iter()
            .map(|(id, entries)| (id.as_str(), entries.as_slice()))
    }

    /// Runs a pipeline step's attempt produced: launched or adopted for that origin.
    pub fn runs_from<'a>(
        &'a self,
        pipeline_run_id: &'a str,
    ) -> impl Iterator<Item = &'a RunRecord> + 'a {
        self.runs.values().filter(move |r| {
            matches!(r.origin(), Some(Origin::Pipeline { pipeline_run_id: p, .. }) if p == pipeline_run_id)
        })
    }

    fn apply_status(&mut self, change: &StatusChange, env: &Envelope) {
        let run = self.run_mut(&change.project_id, &change.run_id, env);
        if !run.is_active() {
            return;
        }
        run.set_status(change.status.clone(), change.observed_at);
        run.start_time = change.start_time;
        run.end_time = change.end_time;
        run.elapsed_ms = change.elapsed_ms;
    }

    /// The highest sequence number folded in.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Counts a `seq` that was read but not folded (a kind from a newer hexdash).
    pub(crate) fn note_seq(&mut self, seq: u64) {
        self.last_seq = self.last_seq.max(seq);
    }

    /// Gives back the growth slack a replay leaves in every collection: with tens of thousands
    /// of runs that is megabytes the dashboard would otherwise carry for its whole life.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.runs.shrink_to_fit();
        for run in self.runs.values_mut() {
            run.timeline.shrink_to_fit();
        }
        self.pending.shrink_to_fit();
        self.ended_launches.shrink_to_fit();
        self.last_launch.shrink_to_fit();
        self.pipelines.shrink_to_fit();
    }

    pub fn run(&self, project_id: &str, run_id: &str) -> Option<&RunRecord> {
        self.runs.get(&RunRef(project_id, run_id))
    }

    /// Takes run `project_id`/`run_id` out of the state (a fold of one run's events, read for
    /// display, hands its record over without a copy).
    pub(crate) fn take_run(&mut self, project_id: &str, run_id: &str) -> Option<RunRecord> {
        self.runs.swap_remove(&RunRef(project_id, run_id))
    }

    /// Every known run, oldest first.
    pub fn runs(&self) -> impl DoubleEndedIterator<Item = &RunRecord> {
        self.runs.values()
    }

    /// Runs not known to have ended: the engine re-attaches to these on start.
    pub fn active_runs(&self) -> impl Iterator<Item = &RunRecord> {
        self.runs.values().filter(|r| r.is_active())
    }

    /// Every known run, newest first (by first appearance in the journal).
    pub fn history(&self) -> impl Iterator<Item = &RunRecord> {
        self.runs.values().rev()
    }

    /// Launches to reconcile before anything is re-sent, oldest first.
    pub fn pending_launches(&self) -> impl Iterator<Item = &PendingLaunch> {
        self.pending.values()
    }

    /// Launches that certainly created nothing, oldest first.
    pub fn ended_launches(&self) -> &[EndedLaunch] {
        &self.ended_launches
    }

    pub fn last_launch(&self, project_id: &str) -> Option<&LastLaunch> {
        self.last_launch.get(project_id)
    }

    /// Ended runs of `project_id` with both Hex times, newest first.
    pub fn durations(&self, project_id: &str) -> Vec<RunDuration> {
        self.runs
            .values()
            .rev()
            .filter(|r| r.project_id == project_id && !r.is_active())
            .filter_map(|r| {
                let (status, start, end) = (r.status.clone()?, r.start_time?, r.end_time?);
                Some(RunDuration {
                    run_id: r.run_id.clone(),
                    status,
                    start,
                    end,
                    duration: end.duration_since(start),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::testing::{at, envelopes, intent, launched, status};
    use RunStatus::*;

    fn run_ids<'a>(runs: impl Iterator<Item = &'a RunRecord>) -> Vec<String> {
        runs.map(|r| r.run_id.clone()).collect()
    }

    #[test]
    fn a_step_launch_is_refused_from_its_pipelines_cancel_until_a_resume() {
        let entry = |kind: &str| Event::Pipeline {
            pipeline_run_id: "a".into(),
            kind: kind.into(),
            data: serde_json::json!({}),
        };
        let step_intent = |pipeline: &str| {
            let mut e = intent("l1", "p");
            if let Event::LaunchIntent(i) = &mut e {
                i.origin = Origin::Pipeline {
                    pipeline_run_id: pipeline.into(),
                    step_id: "c".into(),
                    attempt: 1,
                };
            }
            e
        };
        let mut state = JournalState::default();
        let fold = |state: &mut JournalState, e: Event| {
            for env in envelopes(vec![e]) {
                state.apply(&env);
            }
        };
        fold(&mut state, entry("started"));
        assert!(state.check_append(&step_intent("a")).is_ok());
        fold(&mut state, entry(PIPELINE_CANCEL));
        let refused = state.check_append(&step_intent("a")).unwrap_err();
        assert!(
            matches!(&refused, Error::PipelineCancelled { step, .. } if step == "c"),
            "{refused}"
        );
        assert!(state.is_pipeline_cancelled("a"));
        // Other pipelines and launches from elsewhere are not affected.
        assert!(state.check_append(&step_intent("b")).is_ok());
        assert!(state.check_append(&intent("l2", "p")).is_ok());
        fold(&mut state, entry(PIPELINE_RESUME));
        assert!(state.check_append(&step_intent("a")).is_ok());
    }

    #[test]
    fn pipeline_entries_are_grouped_by_run_in_order_with_their_step_runs() {
        let entry = |id: &str, kind: &str| Event::Pipeline {
            pipeline_run_id: id.into(),
            kind: kind.into(),
            data: serde_json::json!({ "n": kind }),
        };
        let mut from_step = intent("l1", "p");
        if let Event::LaunchIntent(i) = &mut from_step {
            i.origin = Origin::Pipeline {
                pipeline_run_id: "a".into(),
                step_id: "extract".into(),
                attempt: 2,
            };
        }
        let events = envelopes(vec![
            entry("a", "started"),
            entry("b", "started"),
            from_step,
            launched("l1", "p", "r1"),
            intent("l2", "p"),
            launched("l2", "p", "r2"),
            entry("a", "launched"),
        ]);
        let state = JournalState::replay(&events);
        let kinds = |id| {
            state
                .pipeline(id)
                .unwrap()
                .iter()
                .map(|e| e.kind.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds("a"), ["started", "launched"]);
        assert_eq!(kinds("b"), ["started"]);
        assert_eq!(state.pipeline("a").unwrap()[1].seq, 7);
        assert!(state.pipeline("c").is_none());
        let ids: Vec<_> = state.pipelines().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(run_ids(state.runs_from("a")), ["r1"]);
        assert_eq!(run_ids(state.runs_from("b")), Vec::<String>::new());
    }

    #[test]
    fn a_launch_is_pending_until_resolved() {
        let events = envelopes(vec![
            intent("l1", "p"),
            intent("l2", "p"),
            Event::LaunchOutcomeUnknown {
                launch_id: "l2".into(),
                project_id: "p".into(),
                error: "timed out".into(),
            },
            intent("l3", "p"),
            launched("l1", "p", "r1"),
            Event::LaunchFailed {
                launch_id: "l3".into(),
                project_id: "p".into(),
                error: "422".into(),
            },
        ]);
        let state = JournalState::replay(&events);
        let pending: Vec<_> = state.pending_launches().collect();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].launch_id, "l2");
        assert_eq!(
            pending[0].unknown_outcome.as_ref().unwrap().error,
            "timed out"
        );
        assert_eq!(pending[0].intent.as_ref().unwrap().project_id, "p");

        let run = state.run("p", "r1").unwrap();
        assert_eq!(run.launch_id.as_deref(), Some("l1"));
        assert_eq!(run.params().unwrap()["launch"], "l1");
        assert_eq!(run.run_url.as_deref(), Some("https://hex/r1"));
        assert!(run.is_active(), "no status yet means still active");

        assert_eq!(state.ended_launches().len(), 1);
        assert_eq!(state.ended_launches()[0].launch_id, "l3");
        // The newest intent wins, even though it failed: the form shows what was last tried.
        assert_eq!(state.last_launch("p").unwrap().launch_id, "l3");
    }

    #[test]
    fn adoption_and_abandonment_resolve_unknown_outcomes() {
        let events = envelopes(vec![
            intent("l1", "p"),
            Event::LaunchOutcomeUnknown {
                launch_id: "l1".into(),
                project_id: "p".into(),
                error: "reset".into(),
            },
            intent("l2", "p"),
            Event::LaunchOutcomeUnknown {
                launch_id: "l2".into(),
                project_id: "p".into(),
                error: "502".into(),
            },
            Event::Adopted {
                launch_id: "l1".into(),
                project_id: "p".into(),
                run_id: "r1".into(),
                run_url: None,
            },
            Event::Abandoned {
                launch_id: "l2".into(),
                project_id: "p".into(),
                reason: "not in the project's runs".into(),
            },
        ]);
        let state = JournalState::replay(&events);
        assert_eq!(state.pending_launches().count(), 0);
        let run = state.run("p", "r1").unwrap();
        assert!(run.adopted);
        assert!(run.intent.is_some());
        assert!(matches!(
            state.ended_launches()[0].end,
            LaunchEnd::Abandoned { .. }
        ));
    }

    #[test]
    fn first_terminal_status_is_final_and_timeline_keeps_changes_only() {
        let events = envelopes(vec![
            intent("l1", "p"),
            launched("l1", "p", "r1"),
            status("p", "r1", Pending, 1),
            status("p", "r1", Running, 2),
            status("p", "r1", Running, 3),
            status("p", "r1", Completed, 4),
            status("p", "r1", Running, 5),
            status("p", "r1", Errored, 6),
        ]);
        let state = JournalState::replay(&events);
        let run = state.run("p", "r1").unwrap();
        assert_eq!(run.status, Some(Completed));
        assert_eq!(run.observed_at, Some(at(4)));
        assert_eq!(run.end_time, Some(at(5)));
        let timeline: Vec<_> = run.timeline.iter().map(|(s, t)| (s.clone(), *t)).collect();
        assert_eq!(
            timeline,
            [(Pending, at(1)), (Running, at(2)), (Completed, at(4))]
        );
        assert_eq!(state.active_runs().count(), 0);
    }

    #[test]
    fn unknown_status_keeps_a_run_active() {
        let events = envelopes(vec![status("p", "r", Unknown("QUEUED".into()), 1)]);
        let state = JournalState::replay(&events);
        assert_eq!(run_ids(state.active_runs()), ["r"]);
    }

    #[test]
    fn cancel_lifecycle() {
        let requested = envelopes(vec![
            Event::Watch {
                project_id: "p".into(),
                run_id: "r".into(),
                origin: Origin::Cli,
            },
            status("p", "r", Running, 1),
            Event::CancelRequested {
                project_id: "p".into(),
                run_id: "r".into(),
                origin: Origin::Tui,
            },
        ]);
        let state = JournalState::replay(&requested);
        let run = state.run("p", "r").unwrap();
        assert_eq!(run.origin(), Some(&Origin::Cli));
        assert!(matches!(
            run.cancel,
            CancelState::Requested {
                origin: Origin::Tui,
                ..
            }
        ));
        assert!(run.is_active());

        let mut not_confirmed = requested.clone();
        not_confirmed.extend(envelopes(vec![Event::CancelNotConfirmed {
            project_id: "p".into(),
            run_id: "r".into(),
        }]));
        let state = JournalState::replay(&not_confirmed);
        assert!(matches!(
            state.run("p", "r").unwrap().cancel,
            CancelState::NotConfirmed { .. }
        ));
        assert_eq!(state.active_runs().count(), 1);

        let mut confirmed = requested;
        confirmed.extend(envelopes(vec![Event::CancelConfirmed {
            project_id: "p".into(),
            run_id: "r".into(),
            status: Killed,
        }]));
        let state = JournalState::replay(&confirmed);
        let run = state.run("p", "r").unwrap();
        assert_eq!(run.status, Some(Killed));
        assert_eq!(state.active_runs().count(), 0);
    }

    #[test]
    fn history_is_newest_first_and_durations_need_both_times() {
        let events = envelopes(vec![
            intent("l1", "p"),
            launched("l1", "p", "r1"),
            intent("l2", "p"),
            launched("l2", "p", "r2"),
            intent("l3", "q"),
            launched("l3", "q", "r3"),
            status("p", "r1", Completed, 10),
            status("p", "r2", Errored, 20),
            status("q", "r3", Completed, 30),
        ]);
        let mut state = JournalState::replay(&events);
        assert_eq!(run_ids(state.history()), ["r3", "r2", "r1"]);
        let durations = state.durations("p");
        assert_eq!(
            durations
                .iter()
                .map(|d| d.run_id.as_str())
                .collect::<Vec<_>>(),
            ["r2", "r1"]
        );
        assert_eq!(durations[0].duration, SignedDuration::from_mins(1));
        assert_eq!(durations[0].status, Errored);

        // A run that ended without Hex times gives no sample.
        state.apply(&Envelope {
            v: 1,
            seq: 99,
            at: at(99),
            event: Event::CancelConfirmed {
                project_id: "p".into(),
                run_id: "r9".into(),
                status: Killed,
            },
        });
        assert_eq!(state.durations("p").len(), 2);
        assert_eq!(state.last_seq(), 99);
    }
}
