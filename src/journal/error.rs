//! What can go wrong with the journal file, as types a caller can react to.
//!
//! Only I/O and locking fail: damaged content is never an error (the loader skips it with a
//! warning), because refusing to start over a torn line would hide every run the rest of the file
//! still knows about. Messages name the file and say what the operator can do.

use std::io;
use std::path::PathBuf;

use super::lock::LockHolder;

fn by_whom(h: &Option<LockHolder>) -> String {
    match h {
        Some(h) => format!(" ({h})"),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What hexdash was doing, e.g. "create the data directory".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Appending failed. The event was not recorded, so the caller must not act on it (for a
    /// launch intent: must not send the launch).
    #[error(
        "cannot record a {kind} event in {}: {source}. Nothing was launched or changed because of \
         it; check free disk space and permissions on the data directory",
        path.display()
    )]
    Write {
        kind: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot serialise a {kind} journal event: {source}")]
    Serialise {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "the journal {} is in use by another hexdash{}; this one is read-only and cannot launch \
         or cancel. Close the other hexdash, or point this one at another data dir with \
         HEXDASH_DATA_DIR",
        path.display(),
        by_whom(holder)
    )]
    ReadOnly {
        path: PathBuf,
        holder: Option<LockHolder>,
    },

    /// A launch intent for a step of a pipeline run that was cancelled: refused, so nothing is
    /// sent. Not a failure of the journal; the pipeline driver settles the step as not launched.
    #[error(
        "step {step:?} of pipeline run {pipeline_run_id} was not launched: the pipeline run was \
         cancelled (resume it to run its steps again)"
    )]
    PipelineCancelled {
        pipeline_run_id: String,
        step: String,
    },

    /// An earlier failed append could not be rolled back, so the file may end in a torn line.
    /// Further appends would glue onto it; reopening the journal repairs the tail.
    #[error(
        "the journal {} could not be repaired after a failed write; restart hexdash to reopen it",
        path.display()
    )]
    Broken { path: PathBuf },
}

impl Error {
    /// Wraps an I/O error with what hexdash was doing and on which file, for `map_err`.
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(io::Error) -> Error + use<> {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}
