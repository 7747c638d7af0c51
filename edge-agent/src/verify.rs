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
//! - this file: the report types, reading the database, the checks on its stored tree;
//! - `replay`: the replay itself (entries, checkpoints, the tree's right edge), no I/O;
//! - `export`: the export format, writing it (and FHIR), reading it back.

mod export;
mod replay;

use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use myna_domain::transparency::{Checkpoint, Hash, LogError, LogVerifier, tree_size_storing};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use tlog_tiles::tlog::stored_hash_index;

use export::replay_export;
pub use export::{MAX_EARLY_CHECKPOINTS, export_fhir, export_jsonl};
use replay::{Entry, PendingCheckpoint, Replay};

/// What a verification found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Entries replayed (all of them when the log is intact; up to the finding otherwise).
    pub entries: u64,
    /// Checkpoints checked and found good.
    pub checkpoints: u64,
    /// Root recomputed over the `entries` replayed; `None` for no entries.
    pub root: Option<Hash>,
    /// Entries replayed after the last good checkpoint (in the log or given), all of them
    /// when there is none: no signature covers them, so they cannot be vouched for without
    /// a newer checkpoint (module docs). Normal for a fresh tail; 0 when a checkpoint signs
    /// the whole log.
    pub unsigned_entries: u64,
    /// Checkpoints kept elsewhere ([`verify_db_with`]) checked and found good.
    pub trusted_checkpoints: u64,
    /// The first problem; `None`: the log is intact.
    pub finding: Option<Finding>,
}

/// A problem in the log: where, and what (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Where in the log.
    pub position: Position,
    /// What is wrong there.
    pub problem: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.position, self.problem)
    }
}

/// Where a [`Finding`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// The entry at leaf `index` (0-based), found in the row `seq`.
    Entry {
        /// Leaf index: the position the entry must have.
        index: u64,
        /// The row's seq (should be `index + 1`).
        seq: i64,
    },
    /// A signed checkpoint.
    Checkpoint {
        /// The checkpoint's seq.
        seq: i64,
        /// The size it claims.
        tree_size: u64,
    },
    /// The entries `from..to` (leaf indexes, end excluded) differ from what was signed or
    /// stored, though each one alone looks right: between two checkpoints, or under one
    /// stored subtree hash.
    Range {
        /// First entry.
        from: u64,
        /// One past the last entry.
        to: u64,
    },
    /// The log ends early: `expected` entries were signed or stored, `found` are there.
    Tail {
        /// Entries a checkpoint or the stored tree covers.
        expected: u64,
        /// Entries present.
        found: u64,
    },
    /// A stored hash (database only) at an index no log of any size stores one: negative,
    /// or beyond [`MAX_TREE_SIZE`](myna_domain::transparency::MAX_TREE_SIZE) entries.
    StoredHash {
        /// The `log_hashes` row's idx.
        idx: i64,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Entry { index, seq } => write!(f, "entry {index} (seq {seq})"),
            Position::Checkpoint { seq, tree_size } => {
                write!(f, "checkpoint {seq} (size {tree_size})")
            }
            Position::Range { from, to } => write!(f, "entries {from}..{to}"),
            Position::Tail { expected, found } => {
                write!(f, "tail (entries {found}..{expected} missing)")
            }
            Position::StoredHash { idx } => write!(f, "log_hashes idx {idx}"),
        }
    }
}

/// The log could not be checked at all (as opposed to a [`Finding`] in it).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The database file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
    /// Reading the database failed (not an edge database, I/O error, ...).
    #[error("cannot read the log: {0}")]
    Read(#[from] rusqlite::Error),
    /// Reading the export or writing output failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// An export line is not one of the line kinds of the format.
    #[error("export line {line} malformed: {reason}")]
    Malformed {
        /// Line number, from 1.
        line: u64,
        /// Why (never the line's content).
        reason: String,
    },
    /// A checkpoint given to check the log against was not accepted (not signed by the log
    /// key, another log's, not a checkpoint).
    #[error("given checkpoint {index} rejected: {source}")]
    TrustedCheckpoint {
        /// Its position among those given, from 1.
        index: usize,
        /// Why.
        source: LogError,
    },
    /// An entry cannot be exported: its text is not UTF-8, or (FHIR) not an access record.
    /// Verifying the database names the problem.
    #[error("entry seq {seq} cannot be exported: {reason}; run verify on the database")]
    Unexportable {
        /// The row.
        seq: i64,
        /// Why.
        reason: &'static str,
    },
}

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

fn open_read_only(path: &Path) -> Result<Connection, VerifyError> {
    let open = || {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    };
    open().map_err(|source| VerifyError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// A column as text whatever its SQLite type (an attacker is not bound by the schema);
/// `None` for NULL.
fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A size column; a negative or non-integer one reads as `u64::MAX`, which no checkpoint
/// note can match.
fn size_column(value: ValueRef<'_>) -> u64 {
    match value {
        ValueRef::Integer(i) => u64::try_from(i).unwrap_or(u64::MAX),
        _ => u64::MAX,
    }
}

/// Why replaying stopped early.
enum Stop {
    Found(Finding),
    Failed(VerifyError),
}

impl From<Finding> for Stop {
    fn from(finding: Finding) -> Self {
        Stop::Found(finding)
    }
}

impl From<VerifyError> for Stop {
    fn from(error: VerifyError) -> Self {
        Stop::Failed(error)
    }
}

impl From<rusqlite::Error> for Stop {
    fn from(error: rusqlite::Error) -> Self {
        Stop::Failed(error.into())
    }
}

impl From<std::io::Error> for Stop {
    fn from(error: std::io::Error) -> Self {
        Stop::Failed(error.into())
    }
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
