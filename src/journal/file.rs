//! The journal file: open with the single-writer lock, append durably, load, compact.
//!
//! Owns every byte written to `journal.jsonl`. It does not interpret events (that is `replay`)
//! and does not decide what compaction keeps (that is `compact`).
//!
//! Durability rule: one event is one line, written with one `write_all` (line and newline
//! together) and followed by `sync_data`; `append` returns only after both succeeded. So after
//! SIGKILL or power loss the file holds every acknowledged event, plus at most one torn line
//! that nothing was acted on.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::compact::{self, CompactPolicy};
use super::error::Error;
use super::event::{Envelope, Event, FORMAT_VERSION};
use super::lock::{self, LockHolder, LockOutcome, WriterLock};
use super::replay::JournalState;
use super::scan::{self, Parsed};
use crate::clock::{self, SharedClock};

/// The events a journal held, and what was wrong with the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub events: Vec<Envelope>,
    /// One line per skipped or ignored line, naming its line number. Show them; never fatal.
    pub warnings: Vec<String>,
    /// The highest sequence number in the file (0 when empty).
    pub last_seq: u64,
}

/// A freshly opened journal and what it already held.
#[derive(Debug)]
pub struct Opened {
    pub journal: Journal,
    pub loaded: Loaded,
}

/// A journal opened with its events already folded (see [`Journal::open_replayed`]).
#[derive(Debug)]
pub struct Replayed {
    pub journal: Journal,
    pub state: JournalState,
    /// As [`Loaded::warnings`].
    pub warnings: Vec<String>,
}

/// What compaction did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactReport {
    pub kept: u64,
    pub dropped: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

#[derive(Debug)]
enum Access {
    Writer(Writer),
    ReadOnly { holder: Option<LockHolder> },
}

#[derive(Debug)]
struct Writer {
    file: File,
    /// Bytes known to be complete lines; a failed append truncates back to it.
    len: u64,
    /// A failed append could not be rolled back: refuse to glue more lines onto a torn one.
    broken: bool,
    _lock: WriterLock,
}

/// A handle on `journal.jsonl`: the writer, or a read-only view when another hexdash writes.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    clock: SharedClock,
    access: Access,
    next_seq: u64,
}

/// Reads a journal without locking or changing it. A missing file is an empty journal.
pub fn load(path: impl AsRef<Path>) -> Result<Loaded, Error> {
    let bytes = read_if_exists(path.as_ref())?;
    Ok(into_loaded(scan::scan(&bytes)))
}

/// Reads the journal (an absent file is an empty journal) and folds it as it is read, without
/// taking the lock: for readers such as `hexdash history`.
pub fn load_state(path: impl AsRef<Path>) -> Result<(JournalState, Vec<String>), Error> {
    let path = path.as_ref();
    regular_or_absent(path)?;
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((JournalState::default(), Vec::new()));
        }
        Err(e) => return Err(Error::io("read the journal", path)(e)),
    };
    let (state, summary) =
        fold_state(BufReader::new(file)).map_err(Error::io("read the journal", path))?;
    let mut warnings = summary.warnings;
    warnings.extend(dir_warning(path));
    Ok((state, warnings))
}

/// The data dir's permissions, checked where every process opens the journal.
fn dir_warning(journal: &Path) -> Option<String> {
    journal
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .and_then(crate::files::looser_than_private)
}

/// A journal is a regular file (or not there yet): a device or a pipe in its place
/// (`/dev/zero`) would be read forever.
fn regular_or_absent(path: &Path) -> Result<(), Error> {
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::io("read the journal", path)(
            std::io::Error::other("it is not a regular file; move it away and start again"),
        )),
        _ => Ok(()),
    }
}

fn read_if_exists(path: &Path) -> Result<Vec<u8>, Error> {
    regular_or_absent(path)?;
    match fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read the journal", path)(e)),
    }
}

fn fold_state(input: impl BufRead) -> std::io::Result<(JournalState, scan::Summary)> {
    let mut state = JournalState::default();
    let summary = scan::fold(input, |env| state.apply(&env))?;
    // Unknown kinds from a newer hexdash count for numbering too.
    state.note_seq(summary.last_seq);
    state.shrink_to_fit();
    Ok((state, summary))
}

/// What an open read produced, so the writer continues numbering after it.
trait HasLastSeq {
    fn last_seq(&self) -> u64;
}

impl HasLastSeq for Loaded {
    fn last_seq(&self) -> u64 {
        self.last_seq
    }
}

impl HasLastSeq for (JournalState, Vec<String>) {
    fn last_seq(&self) -> u64 {
        self.0.last_seq()
    }
}

fn into_loaded(scan: scan::Scan) -> Loaded {
    let events = scan
        .lines
        .into_iter()
        .filter_map(|line| match line.parsed {
            Parsed::Event(env) => Some(env),
            Parsed::Unknown { .. } | Parsed::Corrupt => None,
        })
        .collect();
    Loaded {
        events,
        warnings: scan.warnings,
        last_seq: scan.last_seq,
    }
}

impl Journal {
    /// Opens (creating it and its directory if needed) with the system clock.
    pub fn open(path: impl Into<PathBuf>) -> Result<Opened, Error> {
        Journal::open_with_clock(path, clock::system())
    }

    /// Opens the journal; `clock` stamps each appended event's `at`.
    ///
    /// Becomes the writer if no other open handle holds the lock, else a read-only view whose
    /// [`Journal::holder`] says who writes. The writer cuts off a torn last line first, so the
    /// next append starts on a line of its own.
    pub fn open_with_clock(path: impl Into<PathBuf>, clock: SharedClock) -> Result<Opened, Error> {
        let (journal, loaded) = Journal::open_reading(path, clock, |file| {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            let scanned = scan::scan(&bytes);
            let complete_len = scanned.complete_len;
            Ok((into_loaded(scanned), complete_len))
        })?;
        let mut loaded = loaded;
        loaded.warnings.extend(dir_warning(&journal.path));
        Ok(Opened { journal, loaded })
    }

    /// Opens like [`Journal::open_with_clock`] and folds the events into a [`JournalState`] as
    /// they are read, never holding them all: the way to open a big journal to work from it.
    pub fn open_replayed(path: impl Into<PathBuf>, clock: SharedClock) -> Result<Replayed, Error> {
        let (journal, (state, warnings)) = Journal::open_reading(path, clock, |file| {
            let (state, summary) = fold_state(BufReader::new(file))?;
            Ok(((state, summary.warnings), summary.complete_len))
        })?;
        let mut warnings = warnings;
        warnings.extend(dir_warning(&journal.path));
        Ok(Replayed {
            journal,
            state,
            warnings,
        })
    }

    /// Opens the journal, handing its content (from the start) to `read`, which returns
    /// what it made of it and where the last complete line ends.
    fn open_reading<R: HasLastSeq>(
        path: impl Into<PathBuf>,
        clock: SharedClock,
        read: impl FnOnce(&mut dyn Read) -> std::io::Result<(R, usize)>,
    ) -> Result<(Journal, R), Error> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(dir)
                .map_err(Error::io("create the journal directory", dir))?;
        }
        regular_or_absent(&path)?;
        let lock = match lock::try_acquire(&path, clock.now())? {
            LockOutcome::Acquired(lock) => lock,
            LockOutcome::HeldBy(holder) => {
                // The writer may hold it but the file may not exist yet: an empty journal.
                let (read, _) = match File::open(&path) {
                    Ok(mut file) => read(&mut file),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        read(&mut std::io::empty())
                    }
                    Err(e) => Err(e),
                }
                .map_err(Error::io("read the journal", &path))?;
                let journal = Journal {
                    next_seq: read.last_seq() + 1,
                    path,
                    clock,
                    access: Access::ReadOnly { holder },
                };
                return Ok((journal, read));
            }
        };
        let created = !path.exists();
        let mut file = crate::files::private_file_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(Error::io("open the journal", &path))?;
        crate::files::make_private(&path);
        crate::files::make_private(&lock::lock_path(&path));
        if created {
            // A new file's directory entry must be durable before the first intent is trusted,
            // or power loss could take the whole file with it.
            sync_dir(&path)?;
        }
        let (read, complete_len) = read(&mut file).map_err(Error::io("read the journal", &path))?;
        let complete = complete_len as u64;
        let len = file
            .metadata()
            .map_err(Error::io("read the journal", &path))?
            .len();
        if complete < len {
            // Truncate rather than newline-terminate: a torn line that happens to be complete
            // JSON would otherwise come back on the next load with a seq we are about to reuse.
            file.set_len(complete)
                .and_then(|()| file.sync_data())
                .map_err(Error::io(
                    "cut the incomplete last line off the journal",
                    &path,
                ))?;
        }
        let journal = Journal {
            next_seq: read.last_seq() + 1,
            path,
            clock,
            access: Access::Writer(Writer {
                file,
                len: complete,
                broken: false,
                _lock: lock,
            }),
        };
        Ok((journal, read))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn is_writer(&self) -> bool {
        matches!(self.access, Access::Writer(_))
    }

    /// Gives up writing: closes the file and releases the lock. The handle stays, read-only.
    pub fn release(&mut self) {
        self.access = Access::ReadOnly { holder: None };
    }

    /// Who holds the lock, for a read-only handle whose holder left a readable hint.
    pub fn holder(&self) -> Option<&LockHolder> {
        match &self.access {
            Access::ReadOnly { holder } => holder.as_ref(),
            Access::Writer(_) => None,
        }
    }

    /// The sequence number the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Records `event` durably and returns it as written (its `seq` and `at` included), so the
    /// caller can fold exactly what is on disk into its live state.
    pub fn append(&mut self, event: Event) -> Result<Envelope, Error> {
        let w = writer(&mut self.access, &self.path)?;
        let envelope = Envelope {
            v: FORMAT_VERSION,
            seq: self.next_seq,
            at: self.clock.now(),
            event,
        };
        let kind = envelope.event.kind();
        let mut line =
            serde_json::to_vec(&envelope).map_err(|source| Error::Serialise { kind, source })?;
        line.push(b'\n');
        let written = w.file.write_all(&line).and_then(|()| w.file.sync_data());
        if let Err(source) = written {
            // Take back whatever part of the line reached the file, so the next append does not
            // glue onto it; if even that fails, stop writing until the journal is reopened.
            if w.file.set_len(w.len).is_err() {
                w.broken = true;
            }
            let path = self.path.clone();
            return Err(Error::Write { kind, path, source });
        }
        w.len += line.len() as u64;
        self.next_seq += 1;
        Ok(envelope)
    }

    /// Rewrites the journal keeping what `policy` and the rules in `compact` say, then a
    /// `compacted` line. Written to a sibling temp file, synced, renamed over the journal and the
    /// directory synced, so a crash at any point leaves either the old or the new file whole.
    /// Lines of unknown kinds are copied verbatim; damaged lines are dropped.
    pub fn compact(&mut self, policy: &CompactPolicy) -> Result<CompactReport, Error> {
        writer(&mut self.access, &self.path)?;
        let path = self.path.clone();
        // We hold the lock and are the only writer, so the file is exactly what we appended.
        let bytes = fs::read(&path).map_err(Error::io("read the journal", &path))?;
        let lines = scan::scan(&bytes).lines;
        let total = lines.len() as u64;
        // Known events go through the policy; unknown kinds are always kept; damage never.
        let mut envelopes = Vec::new();
        let mut ranges = Vec::new();
        let mut unknown = Vec::new();
        for line in lines {
            match line.parsed {
                Parsed::Event(env) => {
                    envelopes.push(env);
                    ranges.push(line.range);
                }
                Parsed::Unknown { .. } => unknown.push(line.range),
                Parsed::Corrupt => {}
            }
        }
        let keep = compact::select(&envelopes, policy);
        let mut kept_ranges: Vec<_> = ranges
            .into_iter()
            .zip(keep)
            .filter_map(|(range, keep)| keep.then_some(range))
            .chain(unknown)
            .collect();
        kept_ranges.sort_unstable_by_key(|r| r.start);

        let mut out = Vec::with_capacity(bytes.len() / 2);
        for range in &kept_ranges {
            out.extend_from_slice(&bytes[range.clone()]);
            out.push(b'\n');
        }
        let kept = kept_ranges.len() as u64;
        let dropped = total - kept;
        let marker = Envelope {
            v: FORMAT_VERSION,
            seq: self.next_seq,
            at: self.clock.now(),
            event: Event::Compacted { kept, dropped },
        };
        serde_json::to_writer(&mut out, &marker).map_err(|source| Error::Serialise {
            kind: "compacted",
            source,
        })?;
        out.push(b'\n');

        let tmp = temp_path(&path);
        let mut file = crate::files::private_file_options()
            .read(true)
            .append(true)
            .create(true)
            .open(&tmp)
            .map_err(Error::io("create the compaction file", &tmp))?;
        file.set_len(0)
            .and_then(|()| file.write_all(&out))
            .and_then(|()| file.sync_all())
            .map_err(Error::io("write the compaction file", &tmp))?;
        fs::rename(&tmp, &path)
            .map_err(Error::io("replace the journal with its compaction", &path))?;
        // From here the new file is the journal: switch to it even if the directory sync fails.
        let w = writer(&mut self.access, &path)?;
        w.file = file;
        w.len = out.len() as u64;
        self.next_seq += 1;
        sync_dir(&path)?;
        Ok(CompactReport {
            kept,
            dropped,
            bytes_before: bytes.len() as u64,
            bytes_after: out.len() as u64,
        })
    }
}

/// The writer state, or why this handle may not write.
fn writer<'a>(access: &'a mut Access, path: &Path) -> Result<&'a mut Writer, Error> {
    match access {
        Access::Writer(w) if w.broken => Err(Error::Broken {
            path: path.to_path_buf(),
        }),
        Access::Writer(w) => Ok(w),
        Access::ReadOnly { holder } => Err(Error::ReadOnly {
            path: path.to_path_buf(),
            holder: holder.clone(),
        }),
    }
}

fn temp_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".compact");
    PathBuf::from(name)
}

/// Makes the rename itself durable: without it a crash can bring the old file back, losing
/// every append made to the new one.
fn sync_dir(journal: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    if let Some(dir) = journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io("sync the journal directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = journal;
    Ok(())
}
