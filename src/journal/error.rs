//! What can go wrong with the store, as types a caller can react to.
//!
//! Only I/O and locking fail: damaged content is never an error (the loader skips it with a
//! warning), because refusing to start over a torn line would hide every run the rest of the file
//! still knows about. Messages name the file and say what the operator can do.

use std::io;
use std::path::PathBuf;

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

    /// Recording failed. The event was not recorded, so the caller must not act on it (for a
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
        source: rusqlite::Error,
    },

    /// The store could not be opened, read or configured.
    #[error("cannot {action} the store {}: {source}{}", path.display(), store_hint(source))]
    Store {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "the store {} was written by a newer hexdash (schema {found}; this one knows up to \
         {known}): upgrade hexdash, or point this one at another data dir with HEXDASH_DATA_DIR",
        path.display()
    )]
    NewerStore {
        path: PathBuf,
        found: u32,
        known: u32,
    },

    #[error("cannot serialise a {kind} journal event: {source}")]
    Serialise {
        kind: &'static str,
        #[source]
        source: serde_json::Error,
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
}

/// What an operator can do about the SQLite errors they can do something about.
fn store_hint(e: &rusqlite::Error) -> &'static str {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            ". Another hexdash held it for more than 10 s; if one is stuck, stop it"
        }
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
            ". The file is not a hexdash store or is damaged: move it away (hexdash starts a new \
             one) and keep it for inspection"
        }
        Some(rusqlite::ErrorCode::DiskFull) => ". The disk is full",
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::PermissionDenied) => {
            ". Check the permissions of the data directory and the file"
        }
        _ => "",
    }
}

impl Error {
    /// Wraps a SQLite error with what hexdash was doing and on which store, for `map_err`.
    pub(crate) fn store(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(rusqlite::Error) -> Error + use<> {
        let path = path.to_path_buf();
        move |source| Error::Store {
            action,
            path,
            source,
        }
    }

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
