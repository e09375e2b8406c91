//! The single-writer lock: at most one hexdash appends to a journal at a time.
//!
//! Owns the sibling lock file (`journal.jsonl.lock`) and the pid hint inside it. It does not read
//! or write the journal itself.
//!
//! Why a sibling file and not a lock on the journal: compaction renames a fresh file over the
//! journal, and a lock belongs to the old inode. A second hexdash opening the path afterwards would
//! lock the new inode and both would write. The lock file is never renamed or deleted (deleting it
//! on exit would let a late opener lock an unlinked inode while a third creates a new one).
//!
//! `File::try_lock` is `flock` on Unix: it belongs to the open file description, so two opens in
//! one process conflict just like two processes do, and the kernel drops it when the holder dies,
//! even by SIGKILL, so a stale lock file never blocks the next start.

use std::fmt;
use std::fs::{self, File, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::error::Error;

/// Who holds the lock, as the holder wrote it into the lock file. A hint for the message only:
/// the kernel lock is the truth, and the file may be empty if the holder is just starting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    pub since: Option<Timestamp>,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        if let Some(since) = self.since {
            write!(f, ", since {since}")?;
        }
        Ok(())
    }
}

/// The held lock. Dropping it releases the lock (the kernel does so when the file closes).
#[derive(Debug)]
pub(crate) struct WriterLock {
    _file: File,
}

pub(crate) enum LockOutcome {
    Acquired(WriterLock),
    HeldBy(Option<LockHolder>),
}

/// The lock file that guards `journal`.
pub(crate) fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock without waiting; reports the holder if another open file has it.
pub(crate) fn try_acquire(journal: &Path, now: Timestamp) -> Result<LockOutcome, Error> {
    let path = lock_path(journal);
    // No truncate on open: until we hold the lock, the pid inside belongs to the holder.
    let mut file = crate::files::private_file_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(Error::io("open the journal lock file", &path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(LockOutcome::HeldBy(read_holder(&path))),
        Err(TryLockError::Error(source)) => {
            // E.g. a network file system without lock support.
            return Err(Error::io("lock the journal lock file", &path)(source));
        }
    }
    let holder = LockHolder {
        pid: std::process::id(),
        since: Some(now),
    };
    // The hint is best effort; failing to write it must not cost us the lock we hold.
    if let Ok(text) = serde_json::to_string(&holder) {
        let written = file
            .set_len(0)
            .and_then(|()| file.write_all(format!("{text}\n").as_bytes()));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "could not write the journal lock holder hint");
        }
    }
    Ok(LockOutcome::Acquired(WriterLock { _file: file }))
}

fn read_holder(path: &Path) -> Option<LockHolder> {
    let text = fs::read_to_string(path).ok()?;
    serde_json::from_str(text.trim()).ok()
}
