//! The store: one SQLite database in the data dir (`hexdash.db`) that every hexdash process on
//! that dir reads and writes at once.
//!
//! Owns the connection, its settings and every statement that touches `events` and `runs`. It
//! does not interpret events (that is `replay`) or decide when to launch or poll (the engine).
//!
//! Why SQLite: many processes (a dashboard, cron's `run --wait`, a pipeline runner, `watch`) write
//! the same history. WAL mode lets readers go on while one process writes; `BEGIN IMMEDIATE`
//! serialises writers, so an event is checked against everything recorded before it, whichever
//! process wrote that (a pipeline cancelled in one terminal stops its launches in another).
//!
//! Durability rule: [`Journal::record`] returns only after the transaction committed. Launch
//! intents and the events that settle a launch or a cancel commit with `synchronous=FULL` (on
//! disk before the request goes out, even across power loss); status changes with `NORMAL`
//! (WAL: safe against a crash of the process, which is what SIGKILL is).

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::error::Error;
use super::event::{Envelope, Event, FORMAT_VERSION};
use super::import;
use super::process::Launcher;
use super::replay::{JournalState, RunRecord};
use super::schema::{self, Migrated};

mod actions;
mod run_prefix;
mod usual_times;

use super::working;
use crate::clock::{self, SharedClock};
pub use actions::{ActionKind, OperatorAction};
pub use usual_times::UsualTime;

/// How long a writer waits for another process's transaction before giving up. Transactions
/// here last milliseconds; ten seconds is a stuck process, not contention.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many unreadable events are named one by one; the rest are counted.
const MAX_NAMED_WARNINGS: usize = 20;

/// The events a store held, and what was wrong with the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub events: Vec<Envelope>,
    /// One line per skipped event or import note. Show them; never fatal.
    pub warnings: Vec<String>,
    /// The highest sequence number in the store (0 when empty).
    pub last_seq: u64,
}

/// A freshly opened store and what it already held.
#[derive(Debug)]
pub struct Opened {
    pub journal: Journal,
    pub loaded: Loaded,
}

/// A store opened with its events already folded (see [`Journal::open_replayed`]).
#[derive(Debug)]
pub struct Replayed {
    pub journal: Journal,
    pub state: JournalState,
    /// As [`Loaded::warnings`].
    pub warnings: Vec<String>,
}

/// What [`Journal::record`] wrote, and what other processes had written since this one last
/// looked (already folded into the state, in order, before the new event).
#[derive(Debug)]
pub struct Recorded {
    pub envelope: Envelope,
    pub foreign: Vec<Envelope>,
}

/// A connection to the store, shared with every other hexdash process on the data dir.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    clock: SharedClock,
    /// A commit failed after its event was folded into the caller's state: the state is ahead
    /// of the store, so the next record or catch-up folds the store again from the start.
    refold: bool,
}

/// Opens the store (creating it, and importing an old `journal.jsonl` beside it, if needed)
/// and reads every event: for tests and small tools. Work from [`load_state`] instead.
pub fn load(path: impl AsRef<Path>) -> Result<Loaded, Error> {
    Ok(Journal::open(path.as_ref().to_path_buf())?.loaded)
}

/// Opens the store and folds it without holding its events: for readers such as `history`.
pub fn load_state(path: impl AsRef<Path>) -> Result<(JournalState, Vec<String>), Error> {
    let replayed = Journal::open_replayed(path.as_ref().to_path_buf(), clock::system())?;
    Ok((replayed.state, replayed.warnings))
}

impl Journal {
    /// Opens (creating it and its directory if needed) with the system clock.
    pub fn open(path: impl Into<PathBuf>) -> Result<Opened, Error> {
        Journal::open_with_clock(path, clock::system())
    }

    /// Opens the store; `clock` stamps each recorded event's `at`.
    pub fn open_with_clock(path: impl Into<PathBuf>, clock: SharedClock) -> Result<Opened, Error> {
        let (journal, mut warnings) = Journal::connect(path.into(), clock)?;
        let mut events = Vec::new();
        let read = read_rows(&journal.conn, &journal.path, 0, |env| events.push(env))?;
        warnings.extend(read.warnings);
        let loaded = Loaded {
            events,
            warnings,
            last_seq: read.last_seq,
        };
        Ok(Opened { journal, loaded })
    }

    /// Opens like [`Journal::open_with_clock`] and folds the events as they are read, never
    /// holding them all: the way to open a big store to work from it.
    pub fn open_replayed(path: impl Into<PathBuf>, clock: SharedClock) -> Result<Replayed, Error> {
        let (journal, mut warnings) = Journal::connect(path.into(), clock)?;
        let (mut state, read) = fold_all(&journal.conn, &journal.path)?;
        state.shrink_to_fit();
        warnings.extend(read);
        Ok(Replayed {
            journal,
            state,
            warnings,
        })
    }

    /// Opens like [`Journal::open_replayed`], folding only the working set (see `working`):
    /// what a process that follows and launches runs needs, whatever the size of the history.
    /// Runs outside it are read in when they come up (see [`Journal::hydrate`]).
    pub fn open_working(path: impl Into<PathBuf>, clock: SharedClock) -> Result<Replayed, Error> {
        let (journal, mut warnings) = Journal::connect(path.into(), clock)?;
        let (mut state, read) = working::fold_working(&journal.conn, &journal.path)?;
        state.shrink_to_fit();
        warnings.extend(read);
        Ok(Replayed {
            journal,
            state,
            warnings,
        })
    }

    /// Opens the connection, migrates, imports the old journal once, and says hello.
    fn connect(path: PathBuf, clock: SharedClock) -> Result<(Journal, Vec<String>), Error> {
        let mut warnings = Vec::new();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(dir)
                .map_err(Error::io("create the data directory", dir))?;
            warnings.extend(crate::files::looser_than_private(dir));
        }
        regular_or_absent(&path)?;
        // Created private before SQLite opens it: SQLite gives its -wal and -shm files the main
        // file's mode, and a chmod after the open would leave a moment where others can read it.
        match crate::files::private_file_options()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create the store", &path)(e)),
        }
        let mut conn = Connection::open(&path).map_err(Error::store("open", &path))?;
        crate::files::make_private(&path);
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(Error::store("configure", &path))?;
        // journal_mode answers with the mode it set; anything but WAL (a read-only medium, a
        // filesystem without shared memory) would make writers block readers: say so.
        let mode = crate::sqlite::enter_wal(&conn, BUSY_TIMEOUT)
            .map_err(Error::store("configure", &path))?;
        if !mode.eq_ignore_ascii_case("wal") {
            warnings.push(format!(
                "the store {} is in {mode} mode, not WAL: processes will wait for each other",
                path.display()
            ));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(Error::store("configure", &path))?;
        // Reads are mostly one pass over new rows: a small page cache does as well as SQLite's
        // default 2 MiB, which a dashboard would otherwise carry all day.
        conn.pragma_update(None, "cache_size", -512)
            .map_err(Error::store("configure", &path))?;
        match schema::migrate(&mut conn).map_err(Error::store("migrate", &path))? {
            Ok(Migrated::Current | Migrated::From(_)) => {}
            Err(found) => {
                return Err(Error::NewerStore {
                    path,
                    found,
                    known: schema::VERSION,
                });
            }
        }
        for file in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(file);
            crate::files::make_private(Path::new(&name));
        }
        let mut journal = Journal {
            conn,
            path,
            clock,
            refold: false,
        };
        warnings.extend(import::import_legacy(&mut journal.conn, &journal.path)?);
        journal.prune()?;
        journal.heartbeat()?;
        Ok((journal, warnings))
    }

    /// Opens the store without reading its events (readers that query only part of it).
    pub fn attach(path: impl Into<PathBuf>) -> Result<(Journal, Vec<String>), Error> {
        Journal::connect(path.into(), clock::system())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Records `event` without checking it against the state: for tests and tools that write
    /// histories. The engine uses [`Journal::record`].
    pub fn append(&mut self, event: Event) -> Result<Envelope, Error> {
        self.set_synchronous(&event)?;
        let at = self.clock.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store("write to", &self.path))?;
        let envelope = insert(&tx, &self.path, at, event)?;
        if let Some((project, run)) = envelope.event.run() {
            refresh_run(&tx, &self.path, project, run, &envelope)?;
        }
        tx.commit()
            .map_err(write_error(&envelope.event, &self.path))?;
        Ok(envelope)
    }

    /// Records many events in one transaction (and their runs' rows), without checks: for
    /// tools, benchmarks and tests that write a whole history at once.
    pub fn append_batch(&mut self, events: impl IntoIterator<Item = Event>) -> Result<u64, Error> {
        let at = self.clock.now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store("write to", &self.path))?;
        let mut state = JournalState::default();
        let mut count = 0;
        for event in events {
            let env = insert(&tx, &self.path, at, event)?;
            state.apply(&env);
            count += 1;
        }
        write_runs(&tx, &state, at).map_err(Error::store("write to", &self.path))?;
        tx.commit().map_err(Error::store("write to", &self.path))?;
        Ok(count)
    }

    /// Records `event` durably and folds it into `book`, after folding in whatever other
    /// processes recorded first and checking `event` against all of it, in one transaction. An
    /// error means it is not in the store: the caller must not act on it.
    pub fn record(&mut self, book: &mut JournalState, event: Event) -> Result<Recorded, Error> {
        self.refold_if_needed(book)?;
        self.set_synchronous(&event)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(write_error(&event, &self.path))?;
        let foreign = fold_new(&tx, &self.path, book)?;
        book.check_append(&event)?;
        // A run outside the book (an old one cancelled or watched again) is read in first, so
        // the event lands on its whole record and its `runs` row is not rewritten from a part.
        if let Some((project, run)) = event.run() {
            let before = book.last_seq().saturating_add(1);
            working::hydrate(&tx, &self.path, book, project, run, before)?;
        }
        let envelope = insert(&tx, &self.path, self.clock.now(), event)?;
        book.apply(&envelope);
        upsert_run(&tx, &self.path, book, &envelope)?;
        if let Err(e) = tx.commit() {
            self.refold = true;
            return Err(write_error(&envelope.event, &self.path)(e));
        }
        Ok(Recorded { envelope, foreign })
    }

    /// Reads run `project`/`run` into `book` if the book does not hold it (a book folded by
    /// [`Journal::open_working`] holds only the working set). Whether the store knows the run.
    pub fn hydrate(
        &self,
        book: &mut JournalState,
        project: &str,
        run: &str,
    ) -> Result<bool, Error> {
        let before = book.last_seq().saturating_add(1);
        working::hydrate(&self.conn, &self.path, book, project, run, before)
    }

    /// Reads run `project`/`run` into `book` from all the store holds, for a book that was not
    /// folded from this store (a listing that only asks who launched some runs). Whether the
    /// store knows the run.
    pub fn look_up(
        &self,
        book: &mut JournalState,
        project: &str,
        run: &str,
    ) -> Result<bool, Error> {
        working::hydrate(&self.conn, &self.path, book, project, run, u64::MAX)
    }

    /// Hands `each` the store's newest `limit` ended runs that `skip` does not reject, newest
    /// first, each folded from its own events, one at a time (see `working`); `each` answers
    /// whether to go on. The warnings of events that could not be read.
    pub fn each_ended_run(
        &self,
        limit: usize,
        skip: &dyn Fn(&str, &str) -> bool,
        each: &mut dyn FnMut(RunRecord) -> bool,
    ) -> Result<Vec<String>, Error> {
        working::each_ended_run(&self.conn, &self.path, limit, skip, each)
    }

    /// Folds into `book` what other processes recorded since it was last brought up to date,
    /// and returns those events in order.
    pub fn catch_up(&mut self, book: &mut JournalState) -> Result<Vec<Envelope>, Error> {
        self.refold_if_needed(book)?;
        fold_new(&self.conn, &self.path, book)
    }

    /// Says this process is alive (see `processes` in the schema). The engine calls it about
    /// once a second; a process silent for longer than [`Journal::is_alive`]'s grace is gone.
    pub fn heartbeat(&mut self) -> Result<(), Error> {
        let me = Launcher::this_process();
        let now = now_ms(&self.clock);
        self.conn
            .execute(
                "INSERT INTO processes (process, pid, host, user, started_ms, heartbeat_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)
                 ON CONFLICT (process) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms",
                params![me.process, me.pid, me.host, me.user, now],
            )
            .map_err(Error::store("write a heartbeat to", &self.path))?;
        Ok(())
    }

    /// Forgets processes and poll claims nobody can need any more: a cron job starts a process
    /// a minute, and each leaves a row. (Events are history and are never pruned here.)
    fn prune(&mut self) -> Result<(), Error> {
        let now = now_ms(&self.clock);
        let day = 24 * 3600 * 1000;
        self.conn
            .execute(
                "DELETE FROM processes WHERE heartbeat_ms < ?1
                   AND process NOT IN (SELECT process FROM drivers)",
                [now.saturating_sub(7 * day)],
            )
            .and_then(|_| {
                self.conn.execute(
                    "DELETE FROM polls WHERE polled_ms < ?1",
                    [now.saturating_sub(day)],
                )
            })
            .map_err(Error::store("tidy", &self.path))?;
        Ok(())
    }

    /// Whether the hexdash process `process` has given a heartbeat within `grace`. An unknown
    /// process (an intent from before the store, or from a process long gone) is not alive.
    pub fn is_alive(&self, process: &str, grace: Duration) -> Result<bool, Error> {
        if process == Launcher::this_process().process {
            return Ok(true);
        }
        let row: Option<(i64, u32, String)> = self
            .conn
            .query_row(
                "SELECT heartbeat_ms, pid, host FROM processes WHERE process = ?1",
                [process],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(Error::store("read", &self.path))?;
        Ok(
            row.is_some_and(|(beat, pid, host)| {
                alive(beat, pid, &host, now_ms(&self.clock), grace)
            }),
        )
    }

    /// Claims the right to ask Hex about these runs now, for every process on the store: false
    /// when other processes asked about all of them less than `fresh` ago (their answers reach
    /// this process through the store). Claiming records the time, so the next asker waits.
    pub fn claim_poll(&mut self, runs: &[(&str, &str)], fresh: Duration) -> Result<bool, Error> {
        if runs.is_empty() {
            return Ok(true);
        }
        let now = now_ms(&self.clock);
        let fresh = millis(fresh);
        let me = &Launcher::this_process().process;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store("claim a poll in", &self.path))?;
        let mut stale = false;
        for (project, run) in runs {
            let polled: Option<(i64, String)> = tx
                .query_row(
                    "SELECT polled_ms, process FROM polls WHERE project_id = ?1 AND run_id = ?2",
                    [project, run],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(Error::store("claim a poll in", &self.path))?;
            // This process's own last poll never holds it back: its scheduler already spaced it.
            if polled.is_none_or(|(at, by)| by == *me || now.saturating_sub(at) >= fresh) {
                stale = true;
                break;
            }
        }
        if stale {
            for (project, run) in runs {
                tx.execute(
                    "INSERT INTO polls (project_id, run_id, polled_ms, process)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (project_id, run_id)
                     DO UPDATE SET polled_ms = excluded.polled_ms, process = excluded.process",
                    params![project, run, now, me],
                )
                .map_err(Error::store("claim a poll in", &self.path))?;
            }
            tx.commit()
                .map_err(Error::store("claim a poll in", &self.path))?;
        }
        Ok(stale)
    }

    /// Makes this process the driver of pipeline run `id`, unless another live process drives
    /// it: then that process is returned and nothing changes. A driver that stopped giving
    /// heartbeats (crashed, killed) for `grace` is replaced.
    pub fn claim_pipeline(&mut self, id: &str, grace: Duration) -> Result<Option<Launcher>, Error> {
        let me = Launcher::this_process();
        let now = now_ms(&self.clock);
        let grace_span = grace;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::store("claim a pipeline run in", &self.path))?;
        let holder: Option<(String, i64, u32, String, String)> = tx
            .query_row(
                "SELECT d.process, p.heartbeat_ms, p.pid, p.host, p.user
                 FROM drivers d JOIN processes p ON p.process = d.process
                 WHERE d.pipeline_run_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(Error::store("claim a pipeline run in", &self.path))?;
        if let Some((process, beat, pid, host, user)) = holder
            && process != me.process
            && alive(beat, pid, &host, now, grace_span)
        {
            return Ok(Some(Launcher {
                process,
                pid,
                host,
                user,
            }));
        }
        tx.execute(
            "INSERT INTO drivers (pipeline_run_id, process, claimed_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (pipeline_run_id)
             DO UPDATE SET process = excluded.process, claimed_ms = excluded.claimed_ms",
            params![id, me.process, now],
        )
        .map_err(Error::store("claim a pipeline run in", &self.path))?;
        tx.commit()
            .map_err(Error::store("claim a pipeline run in", &self.path))?;
        Ok(None)
    }

    /// Gives up driving pipeline run `id` (it ended, or this process stops driving it).
    pub fn release_pipeline(&mut self, id: &str) -> Result<(), Error> {
        self.conn
            .execute(
                "DELETE FROM drivers WHERE pipeline_run_id = ?1 AND process = ?2",
                params![id, Launcher::this_process().process],
            )
            .map_err(Error::store("release a pipeline run in", &self.path))?;
        Ok(())
    }

    /// The live process other than this one that drives pipeline run `id`, if any.
    pub fn pipeline_driver(&self, id: &str, grace: Duration) -> Result<Option<Launcher>, Error> {
        let since = now_ms(&self.clock).saturating_sub(millis(grace));
        self.conn
            .query_row(
                "SELECT p.process, p.pid, p.host, p.user
                 FROM drivers d JOIN processes p ON p.process = d.process
                 WHERE d.pipeline_run_id = ?1 AND p.heartbeat_ms >= ?2 AND p.process != ?3",
                params![id, since, Launcher::this_process().process],
                |r| {
                    Ok(Launcher {
                        process: r.get(0)?,
                        pid: r.get(1)?,
                        host: r.get(2)?,
                        user: r.get(3)?,
                    })
                },
            )
            .optional()
            .map(|driver| driver.filter(|d| !super::process::is_gone(d.pid, &d.host)))
            .map_err(Error::store("read", &self.path))
    }

    /// Processes that gave a heartbeat within `grace`, this one included.
    pub fn live_processes(&self, grace: Duration) -> Result<Vec<Launcher>, Error> {
        let since = now_ms(&self.clock).saturating_sub(millis(grace));
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT process, pid, host, user FROM processes WHERE heartbeat_ms >= ?1
                 ORDER BY started_ms",
            )
            .map_err(Error::store("read", &self.path))?;
        let rows = stmt
            .query_map([since], |r| {
                Ok(Launcher {
                    process: r.get(0)?,
                    pid: r.get(1)?,
                    host: r.get(2)?,
                    user: r.get(3)?,
                })
            })
            .map_err(Error::store("read", &self.path))?;
        let live = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::store("read", &self.path))?;
        Ok(live
            .into_iter()
            .filter(|p| !super::process::is_gone(p.pid, &p.host))
            .collect())
    }

    /// FULL for what must survive power loss before hexdash acts on it; NORMAL for the rest.
    fn set_synchronous(&self, event: &Event) -> Result<(), Error> {
        let level = match event {
            Event::StatusChanged(_) | Event::Watch { .. } => "NORMAL",
            _ => "FULL",
        };
        self.conn
            .pragma_update(None, "synchronous", level)
            .map_err(Error::store("configure", &self.path))
    }

    fn refold_if_needed(&mut self, book: &mut JournalState) -> Result<(), Error> {
        if self.refold {
            let (state, warnings) = working::fold_working(&self.conn, &self.path)?;
            for w in warnings {
                tracing::warn!("{w}");
            }
            *book = state;
            self.refold = false;
        }
        Ok(())
    }
}

/// Folds every event of the store into a new state; the warnings of what was skipped.
fn fold_all(conn: &Connection, path: &Path) -> Result<(JournalState, Vec<String>), Error> {
    let mut state = JournalState::default();
    let read = read_rows(conn, path, 0, |env| state.apply(&env))?;
    state.note_seq(read.last_seq);
    Ok((state, read.warnings))
}

/// Folds into `book` what was recorded after it (by other processes) and returns those events.
fn fold_new(
    conn: &Connection,
    path: &Path,
    book: &mut JournalState,
) -> Result<Vec<Envelope>, Error> {
    let mut foreign = Vec::new();
    let mut hydrated = Ok(true);
    let read = read_rows(conn, path, book.last_seq(), |env| {
        // As in `record`: a run outside the book is read in before its new event is folded.
        if let Some((project, run)) = env.event.run()
            && hydrated.is_ok()
        {
            hydrated = working::hydrate(conn, path, book, project, run, env.seq);
        }
        book.apply(&env);
        foreign.push(env);
    })?;
    hydrated?;
    book.note_seq(read.last_seq);
    for w in read.warnings {
        tracing::warn!("{w}");
    }
    Ok(foreign)
}

/// What reading a stretch of `events` found besides the events themselves.
pub(super) struct Read {
    pub last_seq: u64,
    pub warnings: Vec<String>,
}

/// Hands every event after `after` to `each`, in order. An event that does not parse is skipped
/// with a warning (a kind from a newer hexdash is expected and only counted).
fn read_rows(
    conn: &Connection,
    path: &Path,
    after: u64,
    each: impl FnMut(Envelope),
) -> Result<Read, Error> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    read_query(
        conn,
        path,
        "SELECT seq, v, at, kind, body FROM events WHERE seq > ?1 ORDER BY seq",
        [after],
        each,
    )
}

/// Hands every event `sql` selects (columns seq, v, at, kind, body, in seq order) to `each`.
pub(super) fn read_query(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
    mut each: impl FnMut(Envelope),
) -> Result<Read, Error> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(Error::store("read", path))?;
    let mut rows = stmt.query(params).map_err(Error::store("read", path))?;
    let mut read = Read {
        last_seq: 0,
        warnings: Vec::new(),
    };
    let (mut unknown, mut damaged) = (0usize, 0usize);
    let mut chunk: Vec<RawRow> = Vec::with_capacity(CHUNK);
    loop {
        chunk.clear();
        while chunk.len() < CHUNK {
            let Some(row) = rows.next().map_err(Error::store("read", path))? else {
                break;
            };
            chunk.push(RawRow::of(row).map_err(Error::store("read", path))?);
        }
        if chunk.is_empty() {
            break;
        }
        for (raw, parsed) in chunk.iter().zip(parse_all(&chunk)) {
            read.last_seq = read.last_seq.max(raw.seq);
            match parsed {
                Some(event) => each(Envelope {
                    v: raw.v,
                    seq: raw.seq,
                    at: raw.at.unwrap_or_default(),
                    event,
                }),
                None if !Event::KINDS.contains(&raw.kind.as_str()) => unknown += 1,
                None => {
                    damaged += 1;
                    if damaged <= MAX_NAMED_WARNINGS {
                        read.warnings.push(format!(
                            "event {}: skipped a damaged {} event",
                            raw.seq,
                            crate::safe_text::one_line(&raw.kind, 40)
                        ));
                    }
                }
            }
        }
    }
    if damaged > MAX_NAMED_WARNINGS {
        read.warnings.push(format!(
            "{} more damaged events skipped",
            damaged - MAX_NAMED_WARNINGS
        ));
    }
    if unknown > 0 {
        read.warnings.push(format!(
            "{unknown} events of kinds this hexdash does not know were skipped (written by a \
             newer hexdash; they stay in the store)"
        ));
    }
    Ok(read)
}

/// Rows are read in stretches of this many, parsed, then folded in order.
const CHUNK: usize = 4096;

/// One row as read, before its event is parsed.
struct RawRow {
    seq: u64,
    v: u32,
    /// None when the time does not parse (the row is then damaged).
    at: Option<Timestamp>,
    kind: String,
    body: String,
}

impl RawRow {
    fn of(row: &rusqlite::Row<'_>) -> Result<RawRow, rusqlite::Error> {
        let text = |i: usize| row.get_ref(i).ok().and_then(|v| v.as_str().ok());
        let seq: i64 = row.get(0)?;
        Ok(RawRow {
            seq: u64::try_from(seq).unwrap_or(0),
            v: row.get(1).unwrap_or(0),
            at: text(2).and_then(|t| t.parse().ok()),
            kind: text(3).unwrap_or_default().to_string(),
            body: text(4).unwrap_or_default().to_string(),
        })
    }

    /// The event, if the row is whole.
    fn event(&self) -> Option<Event> {
        self.at?;
        serde_json::from_str(&self.body).ok()
    }
}

/// Each row's event (None when damaged or of an unknown kind), in order. On this thread on
/// purpose: parser threads would each keep an allocator arena of their own for the life of a
/// dashboard (megabytes of resident memory) to save a tenth of a start.
fn parse_all(rows: &[RawRow]) -> Vec<Option<Event>> {
    rows.iter().map(RawRow::event).collect()
}

/// Inserts one event and returns it as recorded.
pub(super) fn insert(
    tx: &Transaction<'_>,
    path: &Path,
    at: Timestamp,
    event: Event,
) -> Result<Envelope, Error> {
    let kind = event.kind();
    let body = serde_json::to_string(&event).map_err(|source| Error::Serialise { kind, source })?;
    let (project, run) = match (&event, event.run()) {
        (_, Some((p, r))) => (Some(p.to_string()), Some(r.to_string())),
        (Event::LaunchIntent(i), None) => (Some(i.project_id.clone()), None),
        _ => (None, None),
    };
    tx.execute(
        "INSERT INTO events (v, at, kind, project_id, run_id, launch_id, process, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            FORMAT_VERSION,
            at.to_string(),
            kind,
            project,
            run,
            event.launch_id(),
            Launcher::this_process().process,
            body
        ],
    )
    .map_err(write_error(&event, path))?;
    let seq = u64::try_from(tx.last_insert_rowid()).unwrap_or(0);
    Ok(Envelope {
        v: FORMAT_VERSION,
        seq,
        at,
        event,
    })
}

/// Writes the current state of the run `env` is about (if any) into `runs`.
fn upsert_run(
    tx: &Transaction<'_>,
    path: &Path,
    book: &JournalState,
    env: &Envelope,
) -> Result<(), Error> {
    let Some(record) = env.event.run().and_then(|(p, r)| book.run(p, r)) else {
        return Ok(());
    };
    write_run(tx, record, env.at, env.seq).map_err(write_error(&env.event, path))
}

/// Writes the `runs` row of one run from its own events (and its launch's): for writers that
/// keep no folded state of the whole store.
fn refresh_run(
    tx: &Transaction<'_>,
    path: &Path,
    project: &str,
    run: &str,
    env: &Envelope,
) -> Result<(), Error> {
    let mut state = JournalState::default();
    read_query(
        tx,
        path,
        "SELECT seq, v, at, kind, body FROM events
         WHERE (project_id = ?1 AND run_id = ?2)
            OR launch_id IN (SELECT launch_id FROM events
                             WHERE project_id = ?1 AND run_id = ?2 AND launch_id IS NOT NULL)
         ORDER BY seq",
        params![project, run],
        |e| state.apply(&e),
    )?;
    match state.run(project, run) {
        Some(record) => {
            write_run(tx, record, env.at, env.seq).map_err(write_error(&env.event, path))
        }
        None => Ok(()),
    }
}

/// Writes every run of `state` (a history written in one transaction) into `runs`.
pub(super) fn write_runs(
    tx: &Transaction<'_>,
    state: &JournalState,
    updated_at: Timestamp,
) -> Result<(), rusqlite::Error> {
    state
        .runs()
        .try_for_each(|record| write_run(tx, record, updated_at, state.last_seq()))
}

/// Writes one run's current state into `runs`.
fn write_run(
    tx: &Transaction<'_>,
    record: &RunRecord,
    updated_at: Timestamp,
    last_seq: u64,
) -> Result<(), rusqlite::Error> {
    let origin = record.origin().and_then(|o| serde_json::to_string(o).ok());
    let launched_by = record
        .intent
        .as_ref()
        .and_then(|i| i.launched_by.as_ref())
        .and_then(|l| serde_json::to_string(l).ok());
    tx.execute(
        "INSERT INTO runs (project_id, run_id, status, active, origin, launched_by, first_at,
                           updated_at, last_seq, project_title)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (project_id, run_id) DO UPDATE SET
           status = excluded.status, active = excluded.active, origin = excluded.origin,
           launched_by = excluded.launched_by, updated_at = excluded.updated_at,
           last_seq = excluded.last_seq, project_title = excluded.project_title",
        params![
            record.project_id,
            record.run_id,
            record.status.as_ref().map(|s| s.as_str().to_string()),
            record.is_active(),
            origin,
            launched_by,
            record.first_at.to_string(),
            updated_at.to_string(),
            i64::try_from(last_seq).unwrap_or(i64::MAX),
            record.project_title(),
        ],
    )?;
    Ok(())
}

fn write_error(event: &Event, path: &Path) -> impl FnOnce(rusqlite::Error) -> Error + use<> {
    let kind = event.kind();
    let path = path.to_path_buf();
    move |source| Error::Write { kind, path, source }
}

/// A process is alive while its heartbeat is younger than `grace` and, on this machine, the
/// kernel still runs it.
fn alive(beat: i64, pid: u32, host: &str, now: i64, grace: Duration) -> bool {
    now.saturating_sub(beat) <= millis(grace) && !super::process::is_gone(pid, host)
}

/// A span in the store's unit (milliseconds), saturating.
fn millis(span: Duration) -> i64 {
    i64::try_from(span.as_millis()).unwrap_or(i64::MAX)
}

fn now_ms(clock: &SharedClock) -> i64 {
    clock.now().as_millisecond()
}

/// The store is a regular file (or not there yet): a device or a pipe in its place would be
/// read forever or written through.
fn regular_or_absent(path: &Path) -> Result<(), Error> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(Error::io("open the store", path)(
            std::io::Error::other("it is not a regular file; move it away and start again"),
        )),
        Ok(_) => Ok(()),
        // A link to nothing: SQLite would create its target with the umask's mode, somewhere
        // the link points, before hexdash could make it private.
        Err(_) if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) => {
            Err(Error::io("open the store", path)(std::io::Error::other(
                "it is a symbolic link to a file that does not exist; remove the link or create \
                 its target",
            )))
        }
        Err(_) => Ok(()),
    }
}
