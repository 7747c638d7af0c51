//! Checking the access log offline (閲覧記録の検証): replays every entry from the edge's
//! SQLite file, or from an export of it, recomputes the Merkle tree and checks every signed
//! checkpoint against it. The `myna-log` binary is a thin shell over this module.
//!
//! The result is a [`Report`]; its [`Finding`] is the **first** problem in log order, so a
//! single edit is named where it was made. A [`VerifyError`] means the log could not be
//! checked at all (no such file, not a database, a malformed export line).
//!
//! # What is checked
//! - Entries: seq runs 1, 2, 3, … with no gap and no repeat; `record_json` parses as an
//!   [`AccessRecord`](myna_domain::access::AccessRecord) whose id (and, in a database,
//!   whose indexed columns) match the row.
//! - The stored tree (database only): every `log_hashes` row equals the hash recomputed from
//!   the entries (leaf hashes and the subtree hashes each append completes), no row is
//!   missing and none is left over. Together this means the stored root at every size is
//!   the recomputed one.
//! - Checkpoints, in seq order (1, 2, 3, …): the note's signature verifies with the log key
//!   (which also fixes the origin), its size and root equal the row's columns, sizes never
//!   decrease, and the recomputed root at that size equals the signed root. A rewrite that
//!   also recomputed the stored tree is caught here and reported as the
//!   [`Position::Range`] since the previous checkpoint. A checkpoint larger than the log is a
//!   truncated tail ([`Position::Tail`]).
//! - Checkpoints kept elsewhere ([`verify_db_with`], [`verify_export_with`], `myna-log verify
//!   --checkpoint FILE`: a tablet's saved state, an auditor's earlier `GET
//!   /v1/log/checkpoint`): each must open with the log key; the log must have at least its
//!   size (else [`Position::Tail`]) and the recomputed root at its size must be its root
//!   (else the [`Position::Range`] up to its size).
//!
//! # What the file alone cannot show
//! Only a signature vouches for entries, and only for those up to its size. Entries after
//! the last good checkpoint (all of them when there is none) are counted in
//! [`Report::unsigned_entries`]: an attacker with the file can delete the newest checkpoint
//! rows (or drop the last checkpoint lines of an export) and then rewrite, add or remove
//! entries after the last one left, and every check above still passes. A fresh log has
//! such a tail legitimately, until the edge signs its next checkpoint. A checkpoint kept
//! elsewhere catches what was done to the entries it covers, including a tail truncated
//! together with the checkpoints that covered it.
//!
//! # Export format
//! JSON lines. One line per entry, in seq order, holding the stored text exactly:
//! `{"type":"entry","seq":1,"id":"…","record_json":"<stored text as a JSON string>"}`.
//! Each checkpoint line, in checkpoint seq order, comes right after the entry line that
//! brings the log to its size: `{"type":"checkpoint","seq":1,"tree_size":1,"note":"…"}`
//! (a checkpoint larger than the log comes at the end). [`verify_export`] accepts checkpoint
//! lines earlier than that too, and checks them when the replay reaches their size.
//!
//! # Memory
//! Nothing grows with the log: rows are streamed, and the tree is kept as its right edge
//! (the roots of its perfect subtrees, at most 64 hashes). Checkpoints wait in memory only
//! until the replay reaches their size: one at a time from a database, and from an export
//! at most [`MAX_EARLY_CHECKPOINTS`] lines ahead of their entries (more is
//! [`VerifyError::Malformed`]; an export written by [`export_jsonl`] has at most one).
//!
//! # Layout
//! - this file: reading the database, the checks on its stored tree;
//! - `report`: the report types, the error, why a replay stopped;
//! - `sqlite`: opening the database read-only, reading columns whatever their type;
//! - `replay`: the replay itself (entries, checkpoints, the tree's right edge), no I/O;
//! - `export`: the export format, writing it (and FHIR), reading it back.

mod export;
mod replay;
mod report;
mod sqlite;

use std::io::BufRead;
use std::path::Path;

use myna_domain::transparency::{Checkpoint, LogVerifier, tree_size_storing};
use rusqlite::Connection;
use tlog_tiles::tlog::stored_hash_index;

use export::replay_export;
pub use export::{MAX_EARLY_CHECKPOINTS, export_fhir, export_jsonl};
use replay::{Entry, PendingCheckpoint, Replay};
use report::Stop;
pub use report::{Finding, Position, Report, VerifyError};
use sqlite::{open_read_only, size_column, text};

/// Checks the access log in the edge database at `path`, opened read-only, in one
/// consistent snapshot (safe while the edge runs; later appends are not seen).
pub fn verify_db(path: &Path, key: &LogVerifier) -> Result<Report, VerifyError> {
    verify_db_with(path, key, &[])
}

/// [`verify_db`], and checks the log against `trusted`: signed checkpoint notes kept
/// outside the file (module docs). Each must open with `key`, else
/// [`VerifyError::TrustedCheckpoint`].
pub fn verify_db_with(
    path: &Path,
    key: &LogVerifier,
    trusted: &[String],
) -> Result<Report, VerifyError> {
    let trusted = open_trusted(key, trusted)?;
    let conn = open_read_only(path)?;
    let snapshot = conn.unchecked_transaction()?;
    let mut replay = Replay::new(key, trusted);
    let outcome = replay_db(&snapshot, &mut replay);
    snapshot.finish()?;
    replay.report(outcome)
}

/// Checks an export (see the module docs for its format) read from `input`. The same checks
/// as [`verify_db`] except the stored tree's, which an export does not carry.
pub fn verify_export(input: impl BufRead, key: &LogVerifier) -> Result<Report, VerifyError> {
    verify_export_with(input, key, &[])
}

/// [`verify_export`], and checks the log against `trusted` as [`verify_db_with`] does.
pub fn verify_export_with(
    input: impl BufRead,
    key: &LogVerifier,
    trusted: &[String],
) -> Result<Report, VerifyError> {
    let mut replay = Replay::new(key, open_trusted(key, trusted)?);
    let outcome = replay_export(input, &mut replay);
    replay.report(outcome)
}

fn open_trusted(key: &LogVerifier, notes: &[String]) -> Result<Vec<Checkpoint>, VerifyError> {
    notes
        .iter()
        .enumerate()
        .map(|(n, note)| {
            key.open(note)
                .map_err(|source| VerifyError::TrustedCheckpoint {
                    index: n + 1,
                    source,
                })
        })
        .collect()
}

fn replay_db(conn: &Connection, replay: &mut Replay<'_>) -> Result<(), Stop> {
    let mut entries = conn.prepare(
        "SELECT seq, id, at, incident_id, patient_id, institution_id, record_json
         FROM access_log ORDER BY seq",
    )?;
    let mut hashes = conn.prepare("SELECT idx, hash FROM log_hashes ORDER BY idx")?;
    let mut checkpoints = conn.prepare(
        "SELECT seq, tree_size, root, signed_at, note FROM log_checkpoints ORDER BY seq",
    )?;
    let mut entries = entries.query([])?;
    let mut hashes = hashes.query([])?;
    let mut checkpoints = checkpoints.query([])?;
    // Checkpoints are read one ahead of the replay, so at most one waits in memory.
    let mut next_checkpoint = |replay: &mut Replay<'_>| -> Result<(), Stop> {
        while replay.pending.is_empty() {
            let Some(row) = checkpoints.next()? else {
                break;
            };
            replay.offer(PendingCheckpoint {
                seq: row.get(0)?,
                tree_size: size_column(row.get_ref(1)?),
                note: text(row.get_ref(4)?).unwrap_or_default(),
                columns: Some((
                    row.get_ref(2)?.as_bytes().unwrap_or_default().to_vec(),
                    text(row.get_ref(3)?).unwrap_or_default(),
                )),
            })?;
        }
        Ok(())
    };
    next_checkpoint(replay)?;
    while let Some(row) = entries.next()? {
        let entry = Entry {
            seq: row.get(0)?,
            id: text(row.get_ref(1)?).unwrap_or_default(),
            record_json: row.get_ref(6)?.as_bytes().unwrap_or_default(),
            columns: Some([2, 3, 4, 5].map(|i| row.get_ref(i).map(text).unwrap_or(None))),
        };
        replay.entry(&entry, |index, computed| {
            let first = stored_hash_index(0, index);
            for (level, hash) in computed.iter().enumerate() {
                let idx = first + level as u64;
                let problem = match hashes.next()? {
                    None => "is missing",
                    Some(row) => {
                        let at: i64 = row.get(0)?;
                        if at < 0 {
                            return Err(negative_index(at).into());
                        }
                        if u64::try_from(at) != Ok(idx) {
                            "is missing"
                        } else if row.get_ref(1)?.as_bytes().unwrap_or_default() != hash.0 {
                            "does not match"
                        } else {
                            continue;
                        }
                    }
                };
                return Err(stored_hash_finding(index, level, idx, problem).into());
            }
            Ok(())
        })?;
        next_checkpoint(replay)?;
    }
    replay.finish()?;
    if let Some(row) = hashes.next()? {
        // Rows left over, smallest idx first: a negative one only when there are no entries.
        let first: i64 = row.get(0)?;
        if first < 0 {
            return Err(negative_index(first).into());
        }
        let last: i64 = conn.query_row("SELECT MAX(idx) FROM log_hashes", [], |r| r.get(0))?;
        let expected = u64::try_from(last)
            .ok()
            .and_then(|last| last.checked_add(1))
            .and_then(tree_size_storing);
        let Some(expected) = expected else {
            return Err(Finding {
                position: Position::StoredHash { idx: last },
                problem: "a stored hash beyond the largest tree a log can have".into(),
            }
            .into());
        };
        return Err(Finding {
            position: Position::Tail {
                expected,
                found: replay.tree.size,
            },
            problem: "log_hashes holds hashes of entries that are not in access_log".into(),
        }
        .into());
    }
    Ok(())
}

fn negative_index(idx: i64) -> Finding {
    Finding {
        position: Position::StoredHash { idx },
        problem: "a stored hash at a negative index, where no entry's hash goes".into(),
    }
}

/// The finding for stored hash `idx`, the one at `level` written by appending entry `index`.
fn stored_hash_finding(index: u64, level: usize, idx: u64, problem: &str) -> Finding {
    if level == 0 {
        Finding {
            position: Position::Entry {
                index,
                seq: index as i64 + 1,
            },
            problem: format!("stored leaf hash (log_hashes idx {idx}) {problem}"),
        }
    } else {
        Finding {
            position: Position::Range {
                from: index + 1 - (1 << level),
                to: index + 1,
            },
            problem: format!("stored subtree hash (log_hashes idx {idx}) {problem}"),
        }
    }
}

#[cfg(test)]
mod tests;
