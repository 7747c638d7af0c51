//! The access log's Merkle tree in SQLite: stored hashes, signed checkpoints, proofs.
//!
//! Leaf `n` is the `record_json` text of the access-log row with `seq = n + 1`, exactly as
//! stored. Its hashes (the leaf hash and every subtree it completes) go into `log_hashes`
//! in the transaction that inserts the row, at the positions [`tlog_tiles`]'s layout gives,
//! so the tree can never lag behind or run ahead of the records.

use std::cell::RefCell;

use chrono::{DateTime, Utc};
use myna_domain::transparency::{Hash, HashReader, LogError, LogSigner, tree_size_storing};
use rusqlite::{Connection, OptionalExtension, params};
use tlog_tiles::tlog::{stored_hash_count, stored_hash_index, stored_hashes};

use super::tx::{Tx, parse_time, sortable_time};
use crate::error::{Error, Result};

/// A signed checkpoint as stored (not re-verified: whoever relies on it opens the note
/// with the public key).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheckpoint {
    /// Position among checkpoints, from 1.
    pub seq: i64,
    /// Entries covered.
    pub tree_size: u64,
    /// Root over those entries.
    pub root: Hash,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
    /// The signed note text.
    pub note: String,
}

/// Reads stored hashes through a connection. A SQLite failure is kept aside so the caller
/// can report it as the storage error it is, not as a proof error.
struct SqlHashes<'c> {
    conn: &'c Connection,
    failure: RefCell<Option<rusqlite::Error>>,
}

impl<'c> SqlHashes<'c> {
    fn new(conn: &'c Connection) -> Self {
        SqlHashes {
            conn,
            failure: RefCell::new(None),
        }
    }

    /// Turns a tree-math error into ours: the SQLite failure behind it if there was one.
    fn error(&self, error: tlog_tiles::tlog::Error) -> Error {
        match self.failure.borrow_mut().take() {
            Some(sqlite) => Error::Storage(sqlite),
            None => Error::Corrupt(format!("access log tree: {error}")),
        }
    }
}

impl HashReader for SqlHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        let read = || -> rusqlite::Result<Option<Vec<Hash>>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT hash FROM log_hashes WHERE idx = ?1")?;
            let mut hashes = Vec::with_capacity(indexes.len());
            for &index in indexes {
                let Ok(index) = i64::try_from(index) else {
                    return Ok(None);
                };
                let blob: Option<Vec<u8>> = stmt.query_row([index], |r| r.get(0)).optional()?;
                match blob.and_then(|b| <[u8; 32]>::try_from(b).ok()) {
                    Some(hash) => hashes.push(Hash(hash)),
                    None => return Ok(None),
                }
            }
            Ok(Some(hashes))
        };
        match read() {
            Ok(Some(hashes)) => Ok(hashes),
            Ok(None) => Err(tlog_tiles::tlog::Error::IndexesNotInTree),
            Err(sqlite) => {
                *self.failure.borrow_mut() = Some(sqlite);
                Err(tlog_tiles::tlog::Error::IndexesNotInTree)
            }
        }
    }
}

fn checkpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, i64, Vec<u8>, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn checkpoint_from(row: (i64, i64, Vec<u8>, String, String)) -> Result<StoredCheckpoint> {
    let (seq, size, root, at, note) = row;
    let root = <[u8; 32]>::try_from(root)
        .map_err(|_| Error::Corrupt("checkpoint root is not 32 bytes".into()))?;
    Ok(StoredCheckpoint {
        seq,
        tree_size: u64::try_from(size).map_err(|_| Error::Corrupt("checkpoint size".into()))?,
        root: Hash(root),
        signed_at: parse_time(&at)?,
        note,
    })
}

impl Tx<'_> {
    /// Number of entries in the tree.
    pub fn tree_size(&self) -> Result<u64> {
        // Two subqueries: SQLite answers a lone MIN or MAX from the index, not both at once.
        let (first, last): (Option<i64>, Option<i64>) = self
            .tx
            .prepare_cached(
                "SELECT (SELECT MIN(idx) FROM log_hashes), (SELECT MAX(idx) FROM log_hashes)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if let Some(first) = first.filter(|&i| i < 0) {
            return Err(Error::Corrupt(format!(
                "access log tree has a hash at negative index {first}"
            )));
        }
        let count = match last {
            None => 0,
            Some(last) => u64::try_from(last)
                .ok()
                .and_then(|last| last.checked_add(1))
                .ok_or_else(|| Error::Corrupt("access log tree index out of range".into()))?,
        };
        tree_size_storing(count)
            .filter(|&size| stored_hash_count(size) == count)
            .ok_or_else(|| Error::Corrupt("access log tree has a partial leaf".into()))
    }

    /// Adds the access-log row `seq` (text `entry`) as the next leaf; returns its index.
    pub(super) fn add_leaf(&self, seq: i64, entry: &[u8]) -> Result<u64> {
        let size = self.tree_size()?;
        if u64::try_from(seq).ok() != Some(size + 1) {
            // A gap or a reused position: refuse rather than log out of order.
            return Err(Error::Corrupt(format!(
                "access log row {seq} does not follow a tree of {size} entries"
            )));
        }
        let reader = SqlHashes::new(self.tx);
        let hashes = stored_hashes(size, entry, &reader).map_err(|e| reader.error(e))?;
        let mut insert = self
            .tx
            .prepare_cached("INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)")?;
        let first = stored_hash_index(0, size);
        for (offset, hash) in hashes.iter().enumerate() {
            insert.execute(params![(first + offset as u64) as i64, &hash.0[..]])?;
        }
        Ok(size)
    }

    /// Adds leaves for access-log rows the tree does not cover yet (files written before
    /// the tree existed). Returns how many were added.
    pub(super) fn catch_up_tree(&self) -> Result<u64> {
        let size = self.tree_size()?;
        let mut stmt = self
            .tx
            .prepare("SELECT seq, record_json FROM access_log WHERE seq > ?1 ORDER BY seq")?;
        let rows = stmt
            .query_map([size as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        for (seq, entry) in &rows {
            self.add_leaf(*seq, entry.as_bytes())?;
        }
        Ok(rows.len() as u64)
    }

    /// Root of the tree of the first `size` entries.
    pub fn tree_root(&self, size: u64) -> Result<Hash> {
        let reader = SqlHashes::new(self.tx);
        tlog_tiles::tlog::tree_hash(size, &reader).map_err(|e| reader.error(e))
    }

    /// The stored text of entry `index` (what its leaf hash is over).
    pub fn log_entry(&self, index: u64) -> Result<Option<String>> {
        Ok(self
            .tx
            .query_row(
                "SELECT record_json FROM access_log WHERE seq = ?1",
                [index as i64 + 1],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Signs and stores a checkpoint of the whole tree, unless the newest checkpoint
    /// already covers it. Returns the newest checkpoint either way (`None`: empty log).
    ///
    /// Refuses ([`Error::Corrupt`]) to sign a tree that does not extend the newest
    /// checkpoint: if someone rewrote entries in the file and recomputed the stored hashes
    /// to match, the edge's own key must not bless the forgery.
    pub fn publish_checkpoint(
        &self,
        signer: &LogSigner,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredCheckpoint>> {
        let size = self.tree_size()?;
        let latest = self.latest_checkpoint()?;
        if size == 0 || latest.as_ref().is_some_and(|c| c.tree_size == size) {
            return Ok(latest);
        }
        if let Some(latest) = &latest {
            let extends =
                latest.tree_size < size && self.tree_root(latest.tree_size)? == latest.root;
            if !extends {
                return Err(Error::Corrupt(format!(
                    "the stored tree of {size} entries does not extend checkpoint {} \
                     ({} entries): refusing to sign",
                    latest.seq, latest.tree_size
                )));
            }
        }
        let root = self.tree_root(size)?;
        let signed = signer
            .sign(size, root, now)
            .map_err(|e| Error::Config(format!("signing a checkpoint: {e}")))?;
        self.tx.execute(
            "INSERT INTO log_checkpoints (tree_size, root, signed_at, note) VALUES (?1, ?2, ?3, ?4)",
            params![size as i64, &root.0[..], sortable_time(signed.time), signed.note],
        )?;
        self.latest_checkpoint()
    }

    /// The newest checkpoint.
    pub fn latest_checkpoint(&self) -> Result<Option<StoredCheckpoint>> {
        self.tx
            .query_row(
                "SELECT seq, tree_size, root, signed_at, note FROM log_checkpoints
                 ORDER BY seq DESC LIMIT 1",
                [],
                checkpoint_row,
            )
            .optional()?
            .map(checkpoint_from)
            .transpose()
    }

    /// Proof that entry `index` is in the tree of `size` entries. `Ok(Err(_))` when the
    /// request is outside the tree.
    pub fn inclusion_proof(
        &self,
        index: u64,
        size: u64,
    ) -> Result<std::result::Result<Vec<Hash>, LogError>> {
        if index >= size || size > self.tree_size()? {
            return Ok(Err(LogError::IndexOutOfRange { index, size }));
        }
        let reader = SqlHashes::new(self.tx);
        tlog_tiles::tlog::prove_record(size, index, &reader)
            .map(Ok)
            .map_err(|e| reader.error(e))
    }

    /// Proof that the tree of `to` entries extends the tree of `from` entries. `Ok(Err(_))`
    /// when `from > to` or `to` is beyond the tree.
    pub fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<std::result::Result<Vec<Hash>, LogError>> {
        if from > to || to > self.tree_size()? {
            return Ok(Err(LogError::Rollback { old: from, new: to }));
        }
        if from == 0 || from == to {
            return Ok(Ok(Vec::new()));
        }
        let reader = SqlHashes::new(self.tx);
        tlog_tiles::tlog::prove_tree(to, from, &reader)
            .map(Ok)
            .map_err(|e| reader.error(e))
    }
}
