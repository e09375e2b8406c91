//! How a pipeline run is written in the journal: one `started` entry holding everything needed
//! to rebuild the run (the pipeline file's text as it was, the resolved parameters, the profile),
//! then one entry per state-machine input, in order. Replaying the inputs through the machine
//! gives back the exact state, so a crash loses nothing that was journalled.
//!
//! Owns the entry kinds and their payloads. Must not decide anything about the run; the machine
//! does.

use std::path::PathBuf;

use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::journal::PipelineEntry;
use crate::pipeline::machine::Input;

/// The first entry of every pipeline run.
pub const STARTED: &str = "started";
/// Written when a round ends (data: `{"status": "SUCCEEDED"}`); not a machine input.
pub use crate::journal::PIPELINE_FINISHED as FINISHED;

/// What a pipeline run was started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    /// Where the definition was read from (for display; the text below is what runs).
    pub file: PathBuf,
    /// The pipeline file's text when the run started: a later edit of the file must not change
    /// a run that is already under way.
    pub source: String,
    /// Every pipeline parameter, defaults resolved (a `yesterday` stays the day it meant).
    pub params: IndexMap<String, Value>,
    /// The config profile (workspace) it runs in. A name, never a credential.
    pub profile: String,
}

/// A pipeline run as read back from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub header: Header,
    pub started_at: Timestamp,
    pub inputs: Vec<Input>,
    /// Entries this version could not read (a newer hexdash's, or damaged), by kind.
    pub skipped: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("pipeline run {id}: its first journal entry is {kind:?}, not {STARTED:?}")]
    NoHeader { id: String, kind: String },
    #[error("pipeline run {id} has no journal entries")]
    Empty { id: String },
    #[error("pipeline run {id}: cannot read its {STARTED:?} entry: {source}")]
    BadHeader {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

/// The entry for `input`: its tag as the kind, the other fields as data.
pub fn encode(input: &Input) -> (String, Value) {
    let mut value = serde_json::to_value(input).unwrap_or(Value::Null);
    let kind = value
        .as_object_mut()
        .and_then(|o| o.remove("kind"))
        .and_then(|k| k.as_str().map(str::to_string))
        .unwrap_or_default();
    (kind, value)
}

pub fn header_data(header: &Header) -> Value {
    serde_json::to_value(header).unwrap_or(Value::Null)
}

/// Reads one pipeline run's entries back.
pub fn decode(id: &str, entries: &[PipelineEntry]) -> Result<Recorded, RecordError> {
    let (first, rest) = entries
        .split_first()
        .ok_or_else(|| RecordError::Empty { id: id.to_string() })?;
    if first.kind != STARTED {
        return Err(RecordError::NoHeader {
            id: id.to_string(),
            kind: first.kind.clone(),
        });
    }
    let header: Header =
        serde_json::from_value(first.data.clone()).map_err(|source| RecordError::BadHeader {
            id: id.to_string(),
            source,
        })?;
    let mut inputs = Vec::with_capacity(rest.len());
    let mut skipped = Vec::new();
    for entry in rest.iter().filter(|e| e.kind != FINISHED) {
        let mut data = entry.data.clone();
        if let Some(o) = data.as_object_mut() {
            o.insert("kind".into(), Value::String(entry.kind.clone()));
        }
        match serde_json::from_value::<Input>(data) {
            Ok(input) => inputs.push(input),
            Err(_) => skipped.push(entry.kind.clone()),
        }
    }
    Ok(Recorded {
        header,
        started_at: first.at,
        inputs,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The journal refuses step launches after a cancel by these kinds (`journal::PIPELINE_*`).
    #[test]
    fn cancel_and_resume_are_journalled_with_the_kinds_the_journal_watches() {
        let at = Timestamp::UNIX_EPOCH;
        assert_eq!(
            encode(&Input::Cancel { at }).0,
            crate::journal::PIPELINE_CANCEL
        );
        let resume = Input::Resume { from: None, at };
        assert_eq!(encode(&resume).0, crate::journal::PIPELINE_RESUME);
    }
}
