//! The one-time import of `journal.jsonl`, the store of hexdash versions before SQLite.
//!
//! On the first open of a data dir that holds an old journal, its events are copied into the
//! store in their order (renumbered from the store's next `seq`), in the same transaction as a
//! `meta` row that says it was done, so a crash mid-import imports again from the start and a
//! finished import never runs twice. The old file is left where it is, as a backup; damaged
//! lines are skipped with the same warnings the old loader gave.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::error::Error;
use super::replay::JournalState;
use super::scan;
use super::store;

/// The old journal's name, beside the store in the data dir.
pub const LEGACY_FILE_NAME: &str = "journal.jsonl";

const DONE_KEY: &str = "imported_journal_jsonl";

/// Imports the old journal beside `store_path` if there is one not imported yet. Returns
/// warnings to show (what was imported, damaged lines skipped).
pub(super) fn import_legacy(
    conn: &mut Connection,
    store_path: &Path,
) -> Result<Vec<String>, Error> {
    let Some(legacy) = store_path.parent().map(|d| d.join(LEGACY_FILE_NAME)) else {
        return Ok(Vec::new());
    };
    if !legacy.is_file() {
        return Ok(Vec::new());
    }
    // The backup holds run parameters like the store; an older hexdash may have left it 0644.
    crate::files::make_private(&legacy);
    if done(conn, store_path)? {
        return Ok(Vec::new());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(Error::store("import the old journal into", store_path))?;
    // Another process may have imported it while this one waited for the write lock.
    if done(&tx, store_path)? {
        return Ok(Vec::new());
    }
    let file = File::open(&legacy).map_err(Error::io("read the old journal", &legacy))?;
    let mut state = JournalState::default();
    let mut failed = None;
    let mut count = 0u64;
    let summary = scan::fold(BufReader::new(file), |env| {
        if failed.is_some() {
            return;
        }
        match store::insert(&tx, store_path, env.at, env.event) {
            Ok(recorded) => {
                state.apply(&recorded);
                count += 1;
            }
            Err(e) => failed = Some(e),
        }
    })
    .map_err(Error::io("read the old journal", &legacy))?;
    if let Some(e) = failed {
        return Err(e);
    }
    let now = jiff::Timestamp::now();
    store::write_runs(&tx, &state, now)
        .map_err(Error::store("import the old journal into", store_path))?;
    let note = format!(
        "imported {count} events from {} on {now}; the file is kept as a backup",
        legacy.display()
    );
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![DONE_KEY, note],
    )
    .map_err(Error::store("import the old journal into", store_path))?;
    tx.commit()
        .map_err(Error::store("import the old journal into", store_path))?;
    tracing::info!("{note}");
    let mut warnings: Vec<String> = summary
        .warnings
        .into_iter()
        .map(|w| format!("{}: {w}", legacy.display()))
        .collect();
    warnings.push(note);
    Ok(warnings)
}

fn done(conn: &Connection, store_path: &Path) -> Result<bool, Error> {
    conn.query_row("SELECT 1 FROM meta WHERE key = ?1", [DONE_KEY], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(Error::store("read", store_path))
}
