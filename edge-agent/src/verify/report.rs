//! What a verification found ([`Report`], [`Finding`], [`Position`]), why it could not run
//! ([`VerifyError`]), and why a replay stopped early.

use std::fmt;
use std::path::PathBuf;

use myna_domain::transparency::{Hash, LogError};

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
    /// Checkpoints kept elsewhere ([`super::verify_db_with`]) checked and found good.
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

/// Why replaying stopped early.
pub(super) enum Stop {
    /// A problem in the log.
    Found(Finding),
    /// The log could not be read.
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
