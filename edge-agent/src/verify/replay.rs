//! The replay, as plain data without I/O: entries in, checkpoints in, the first problem
//! out.

use std::collections::VecDeque;

use chrono::DateTime;
use myna_domain::access::AccessRecord;
use myna_domain::transparency::{Checkpoint, Hash, HashReader, LogVerifier, leaf_hash};
use tlog_tiles::tlog::{stored_hash_index, stored_hashes_for_record_hash};

use super::report::{Finding, Position, Report, Stop, VerifyError};

/// An entry as read. `columns` (database only): `at`, `incident_id`, `patient_id`,
/// `institution_id`, which must say what the record says.
pub(super) struct Entry<'a> {
    pub(super) seq: i64,
    pub(super) id: String,
    pub(super) record_json: &'a [u8],
    pub(super) columns: Option<[Option<String>; 4]>,
}

const COLUMNS: [&str; 4] = ["at", "incident_id", "patient_id", "institution_id"];

/// A checkpoint waiting for the replay to reach its size. `columns` (database only): the
/// `root` and `signed_at` columns.
pub(super) struct PendingCheckpoint {
    pub(super) seq: i64,
    pub(super) tree_size: u64,
    pub(super) note: String,
    pub(super) columns: Option<(Vec<u8>, String)>,
}

/// The replay: the tree recomputed so far and the checkpoint bookkeeping. Plain data, no I/O.
pub(super) struct Replay<'k> {
    pub(super) key: &'k LogVerifier,
    pub(super) tree: RightEdge,
    pub(super) last_seq: i64,
    pub(super) checkpoints: u64,
    /// Seq and size of the last checkpoint found good.
    pub(super) last_checkpoint: Option<(i64, u64)>,
    pub(super) pending: VecDeque<PendingCheckpoint>,
    /// Entries a good checkpoint (in the log or given) vouches for: the largest such size.
    covered: u64,
    /// The `covered` before it last grew: where a range ending at `covered` starts.
    covered_before: u64,
    /// Checkpoints given from elsewhere (already opened with the key), smallest first, whose
    /// size the replay has not reached yet.
    trusted: VecDeque<Checkpoint>,
    trusted_checked: u64,
}

impl<'k> Replay<'k> {
    /// A replay checking the log against `key`, and at their sizes against `trusted`,
    /// checkpoints kept elsewhere whose signatures have been checked.
    pub(super) fn new(key: &'k LogVerifier, mut trusted: Vec<Checkpoint>) -> Self {
        trusted.sort_by_key(|c| c.size);
        Replay {
            key,
            tree: RightEdge::default(),
            last_seq: 0,
            checkpoints: 0,
            last_checkpoint: None,
            pending: VecDeque::new(),
            covered: 0,
            covered_before: 0,
            trusted: trusted.into(),
            trusted_checked: 0,
        }
    }

    pub(super) fn report(&self, outcome: Result<(), Stop>) -> Result<Report, VerifyError> {
        let finding = match outcome {
            Ok(()) => None,
            Err(Stop::Found(finding)) => Some(finding),
            Err(Stop::Failed(error)) => return Err(error),
        };
        Ok(Report {
            entries: self.tree.size,
            checkpoints: self.checkpoints,
            root: (self.tree.size > 0).then(|| self.tree.root()),
            unsigned_entries: self.tree.size.saturating_sub(self.covered),
            trusted_checkpoints: self.trusted_checked,
            finding,
        })
    }

    /// Replays the next entry. `stored` compares the hashes appending it stores (leaf hash
    /// first) with a stored tree.
    pub(super) fn entry(
        &mut self,
        entry: &Entry<'_>,
        stored: impl FnOnce(u64, &[Hash]) -> Result<(), Stop>,
    ) -> Result<(), Stop> {
        // A given checkpoint of size 0 is checked here, before the first entry; every other
        // size is checked right after the entry that reaches it.
        self.check_trusted()?;
        let index = self.tree.size;
        let found = |problem: String| Finding {
            position: Position::Entry {
                index,
                seq: entry.seq,
            },
            problem,
        };
        let expected = self.last_seq + 1;
        if entry.seq < expected {
            return Err(found(format!(
                "seq repeated or out of order (after seq {})",
                self.last_seq
            ))
            .into());
        }
        if entry.seq > expected {
            return Err(found(format!(
                "entries missing: seq {expected}..{} absent",
                entry.seq
            ))
            .into());
        }
        let hashes = self.tree.next_hashes(leaf_hash(entry.record_json));
        stored(index, &hashes)?;
        let record: AccessRecord = serde_json::from_slice(entry.record_json).map_err(|e| {
            found(format!(
                "record does not parse as an access record ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        let id = record.id.0.to_string();
        if entry.id != id {
            return Err(found(format!("id column differs from the record's id {id}")).into());
        }
        if let Some(columns) = &entry.columns {
            let says = [
                Some(record.at.to_rfc3339()),
                record.incident.map(|i| i.to_string()),
                record.patient.map(|p| p.0),
                Some(record.viewer.institution.id),
            ];
            if let Some(n) = (0..COLUMNS.len()).find(|&n| columns[n] != says[n]) {
                return Err(found(format!(
                    "column {} differs from the record (id {id})",
                    COLUMNS[n]
                ))
                .into());
            }
        }
        self.tree.push(&hashes);
        self.last_seq = entry.seq;
        self.check_trusted()?;
        Ok(self.check_due()?)
    }

    /// Takes the next checkpoint (in seq order); checks it once the replay reaches its size.
    pub(super) fn offer(&mut self, checkpoint: PendingCheckpoint) -> Result<(), Finding> {
        self.pending.push_back(checkpoint);
        self.check_due()
    }

    fn check_due(&mut self) -> Result<(), Finding> {
        while self
            .pending
            .front()
            .is_some_and(|c| c.tree_size <= self.tree.size)
        {
            if let Some(checkpoint) = self.pending.pop_front() {
                self.check(checkpoint)?;
            }
        }
        Ok(())
    }

    /// Checks the given checkpoints whose size the replay has reached (sizes are reached
    /// one entry at a time, and this runs at each, so the size is the replay's).
    fn check_trusted(&mut self) -> Result<(), Finding> {
        while self
            .trusted
            .front()
            .is_some_and(|c| c.size <= self.tree.size)
        {
            let Some(checkpoint) = self.trusted.pop_front() else {
                break;
            };
            if checkpoint.size != self.tree.size || checkpoint.root != self.tree.root() {
                return Err(Finding {
                    position: Position::Range {
                        from: self.range_start(checkpoint.size),
                        to: checkpoint.size,
                    },
                    problem: format!(
                        "entries differ from those the given checkpoint of {} entries signed \
                         (recomputed root differs)",
                        checkpoint.size
                    ),
                });
            }
            self.cover(checkpoint.size);
            self.trusted_checked += 1;
        }
        Ok(())
    }

    /// Where the entries a checkpoint of `size` signs, and no earlier good one did, start.
    fn range_start(&self, size: u64) -> u64 {
        if self.covered < size {
            self.covered
        } else {
            self.covered_before.min(size)
        }
    }

    /// A good checkpoint vouches for the first `size` entries.
    fn cover(&mut self, size: u64) {
        if size > self.covered {
            self.covered_before = self.covered;
            self.covered = size;
        }
    }

    /// End of the log: a checkpoint still waiting, in the log or given, is larger than the
    /// log.
    pub(super) fn finish(&mut self) -> Result<(), Finding> {
        self.check_trusted()?;
        match self.pending.pop_front() {
            None => self.trusted.front().map_or(Ok(()), |checkpoint| {
                Err(Finding {
                    position: Position::Tail {
                        expected: checkpoint.size,
                        found: self.tree.size,
                    },
                    problem: format!(
                        "a given checkpoint signs {} entries, the log has {}",
                        checkpoint.size, self.tree.size
                    ),
                })
            }),
            Some(checkpoint) => {
                let tree_size = checkpoint.tree_size;
                self.open(&checkpoint)?;
                Err(Finding {
                    position: Position::Tail {
                        expected: tree_size,
                        found: self.tree.size,
                    },
                    problem: format!(
                        "checkpoint {} signs {tree_size} entries, the log has {}",
                        checkpoint.seq, self.tree.size
                    ),
                })
            }
        }
    }

    /// Checks a checkpoint on its own: its place in the sequence, its signature, its
    /// columns. Returns the signed root.
    fn open(&self, checkpoint: &PendingCheckpoint) -> Result<Hash, Finding> {
        let found = |problem: String| Finding {
            position: Position::Checkpoint {
                seq: checkpoint.seq,
                tree_size: checkpoint.tree_size,
            },
            problem,
        };
        let (last_seq, last_size) = self.last_checkpoint.unwrap_or((0, 0));
        if checkpoint.seq != last_seq + 1 {
            return Err(found(format!(
                "checkpoint seq {} expected: checkpoints missing or out of order",
                last_seq + 1
            )));
        }
        let signed = self
            .key
            .open(&checkpoint.note)
            .map_err(|e| found(format!("signed note rejected: {e}")))?;
        if signed.size != checkpoint.tree_size {
            return Err(found(format!("the note signs {} entries", signed.size)));
        }
        if let Some((root, signed_at)) = &checkpoint.columns {
            if root.as_slice() != signed.root.0 {
                return Err(found("root column differs from the signed root".into()));
            }
            if DateTime::parse_from_rfc3339(signed_at).ok() != Some(signed.time.into()) {
                return Err(found(
                    "signed_at column differs from the signed time".into(),
                ));
            }
        }
        if checkpoint.tree_size < last_size {
            return Err(found(format!(
                "log shrank: the previous checkpoint signed {last_size} entries"
            )));
        }
        Ok(signed.root)
    }

    /// Checks a checkpoint whose size the replay has reached.
    fn check(&mut self, checkpoint: PendingCheckpoint) -> Result<(), Finding> {
        let signed_root = self.open(&checkpoint)?;
        if checkpoint.tree_size != self.tree.size {
            // Only an export can place a checkpoint after entries beyond its size.
            return Err(Finding {
                position: Position::Checkpoint {
                    seq: checkpoint.seq,
                    tree_size: checkpoint.tree_size,
                },
                problem: format!(
                    "placed after entry {}, past its size: its root cannot be checked",
                    self.tree.size
                ),
            });
        }
        if self.tree.root() != signed_root {
            return Err(Finding {
                position: Position::Range {
                    from: self.range_start(checkpoint.tree_size),
                    to: checkpoint.tree_size,
                },
                problem: format!(
                    "entries differ from those checkpoint {} signed (recomputed root differs)",
                    checkpoint.seq
                ),
            });
        }
        self.last_checkpoint = Some((checkpoint.seq, checkpoint.tree_size));
        self.cover(checkpoint.tree_size);
        self.checkpoints += 1;
        Ok(())
    }
}

/// The right edge of the tree replayed so far: the roots of its perfect subtrees, at most
/// one per level, keyed by stored-hash index.
///
/// Not hand-written tree math: tlog_tiles has no incremental ("compact range") type, but its
/// `stored_hashes_for_record_hash` (appending a leaf) and `tree_hash` (the root) read only
/// these subtree roots, so serving them as its [`HashReader`] replays a log of any size with
/// tlog's own code in O(log n) memory.
#[derive(Debug, Default)]
pub(super) struct RightEdge {
    pub(super) size: u64,
    pub(super) peaks: Vec<(u64, Hash)>,
}

impl HashReader for RightEdge {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        indexes
            .iter()
            .map(|index| {
                self.peaks
                    .iter()
                    .find(|(at, _)| at == index)
                    .map(|(_, hash)| *hash)
                    .ok_or(tlog_tiles::tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl RightEdge {
    /// The hashes appending a leaf with hash `leaf` stores: the leaf hash, then the root of
    /// each subtree it completes.
    pub(super) fn next_hashes(&self, leaf: Hash) -> Vec<Hash> {
        stored_hashes_for_record_hash(self.size, leaf, self)
            .unwrap_or_else(|_| unreachable!("the right edge holds every subtree root it reads"))
    }

    /// Appends the leaf whose [`RightEdge::next_hashes`] are `hashes`.
    pub(super) fn push(&mut self, hashes: &[Hash]) {
        // Completing a subtree of level `level` merges the `level` lowest peaks into one.
        let level = hashes.len() - 1;
        self.peaks.truncate(self.peaks.len() - level);
        self.peaks.push((
            stored_hash_index(level as u8, self.size >> level),
            hashes[level],
        ));
        self.size += 1;
    }

    pub(super) fn root(&self) -> Hash {
        tlog_tiles::tlog::tree_hash(self.size, self)
            .unwrap_or_else(|_| unreachable!("the right edge holds every subtree root"))
    }
}
