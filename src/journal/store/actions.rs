//! The operator's log: what people did through hexdash — each launch (from the dashboard, the
//! command line or a pipeline, reruns included) and each cancel — with who did it (user, host,
//! process), when, on which profile, with which parameters, and how it ended. Read from the
//! events, for an incident review; nothing is recorded for it that was not already recorded.
//!
//! Who: a launch's intent names its process (user, host, pid); a cancel names it through the
//! process that wrote the event (the store keeps processes for a week after they were last
//! alive, so an old cancel may say "unknown").

use indexmap::IndexMap;
use jiff::Timestamp;
use rusqlite::params;
use serde::Serialize;
use serde_json::Value;

use super::Journal;
use crate::journal::{Error, Event, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Launch,
    Cancel,
}

/// One thing an operator did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorAction {
    pub seq: u64,
    pub at: Timestamp,
    pub action: ActionKind,
    pub project_id: String,
    pub project_title: Option<String>,
    /// The project's config alias, filled by readers that have the config.
    pub project_alias: Option<String>,
    pub run_id: Option<String>,
    /// `tui`, `cli`, `pipeline`.
    pub origin: Option<String>,
    pub profile: Option<String>,
    /// `user@host (pid N)`, or `None` when the store no longer knows the process.
    pub by: Option<String>,
    pub params: Option<IndexMap<String, Value>>,
    /// How it ended: `launched`, `adopted`, `failed: …`, `abandoned: …`, `unresolved`;
    /// `killed` (confirmed), `not confirmed`, `sent`.
    pub outcome: String,
    /// The run's last known status.
    pub run_status: Option<String>,
}

impl Journal {
    /// The operator actions recorded since `since` (all when `None`), newest first, at most
    /// `limit` (0 = all).
    pub fn operator_actions(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<OperatorAction>, Error> {
        let read = || Error::store("read", &self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.seq, e.at, e.body, p.user, p.host, p.pid
                 FROM events e LEFT JOIN processes p ON p.process = e.process
                 WHERE e.kind IN ('launch_intent', 'cancel_requested')
                 ORDER BY e.seq DESC",
            )
            .map_err(read())?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, body, user, host, pid) = row.map_err(read())?;
            // An event this version cannot read (a newer hexdash's) is left out, as replay does.
            let (Ok(at), Ok(event)) = (
                at.parse::<Timestamp>(),
                serde_json::from_str::<Event>(&body),
            ) else {
                continue;
            };
            if since.is_some_and(|s| at < s) {
                // Newest first: everything after this is older.
                break;
            }
            let writer = match (user, host, pid) {
                (Some(u), Some(h), Some(p)) => Some(format!("{u}@{h} (pid {p})")),
                _ => None,
            };
            let seq = u64::try_from(seq).unwrap_or(0);
            let action = match event {
                Event::LaunchIntent(intent) => self.launch_action(seq, at, intent)?,
                Event::CancelRequested {
                    project_id,
                    run_id,
                    origin,
                } => self.cancel_action(seq, at, project_id, run_id, &origin, writer)?,
                _ => continue,
            };
            out.push(action);
            if limit > 0 && out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn launch_action(
        &self,
        seq: u64,
        at: Timestamp,
        intent: crate::journal::LaunchIntent,
    ) -> Result<OperatorAction, Error> {
        let ended: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM events WHERE launch_id = ?1
                 AND kind IN ('launched', 'adopted', 'launch_failed', 'abandoned')
                 ORDER BY seq LIMIT 1",
                [&intent.launch_id],
                |r| r.get(0),
            )
            .ok();
        let ended = ended.and_then(|b| serde_json::from_str::<Event>(&b).ok());
        let (outcome, run_id) = match ended {
            Some(Event::Launched { run_id, .. }) => ("launched".to_string(), Some(run_id)),
            Some(Event::Adopted { run_id, .. }) => (
                "launched (answer lost; found by reconciliation)".to_string(),
                Some(run_id),
            ),
            Some(Event::LaunchFailed { error, .. }) => (format!("failed: {error}"), None),
            Some(Event::Abandoned { reason, .. }) => (format!("no run: {reason}"), None),
            _ => ("unresolved".to_string(), None),
        };
        let run_status = match &run_id {
            Some(run) => self.run_status(&intent.project_id, run)?,
            None => None,
        };
        let by = intent
            .launched_by
            .as_ref()
            .map(|l| format!("{}@{} (pid {})", l.user, l.host, l.pid));
        Ok(OperatorAction {
            seq,
            at,
            action: ActionKind::Launch,
            project_title: intent.project_title.clone(),
            project_alias: None,
            project_id: intent.project_id,
            run_id,
            origin: Some(intent.origin.word().to_string()),
            profile: Some(intent.profile),
            by,
            params: Some(intent.params),
            outcome,
            run_status,
        })
    }

    fn cancel_action(
        &self,
        seq: u64,
        at: Timestamp,
        project_id: String,
        run_id: String,
        origin: &Origin,
        by: Option<String>,
    ) -> Result<OperatorAction, Error> {
        let answer: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM events WHERE project_id = ?1 AND run_id = ?2 AND seq > ?3
                 AND kind IN ('cancel_confirmed', 'cancel_not_confirmed')
                 ORDER BY seq LIMIT 1",
                params![project_id, run_id, i64::try_from(seq).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .ok();
        let answer = answer.and_then(|b| serde_json::from_str::<Event>(&b).ok());
        let outcome = match answer {
            Some(Event::CancelConfirmed { status, .. }) => format!("confirmed: {status}"),
            Some(Event::CancelNotConfirmed { .. }) => {
                "NOT confirmed: the run was still active at the deadline".to_string()
            }
            _ => "sent".to_string(),
        };
        let run_status = self.run_status(&project_id, &run_id)?;
        let project_title = self
            .conn
            .query_row(
                "SELECT project_title FROM runs WHERE project_id = ?1 AND run_id = ?2",
                params![project_id, run_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .ok()
            .flatten();
        Ok(OperatorAction {
            seq,
            at,
            action: ActionKind::Cancel,
            project_id,
            project_title,
            project_alias: None,
            run_id: Some(run_id),
            origin: Some(origin.word().to_string()),
            profile: None,
            by,
            params: None,
            outcome,
            run_status,
        })
    }

    fn run_status(&self, project_id: &str, run_id: &str) -> Result<Option<String>, Error> {
        match self.conn.query_row(
            "SELECT status FROM runs WHERE project_id = ?1 AND run_id = ?2",
            params![project_id, run_id],
            |r| r.get::<_, Option<String>>(0),
        ) {
            Ok(status) => Ok(status),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(Error::store("read", &self.path)(e)),
        }
    }
}
