//! The tamper-evident access log (改ざん検知可能な閲覧記録), sans I/O: leaf hashing, signed
//! checkpoints, and checking inclusion and consistency proofs.
//!
//! The log is an RFC 6962 / RFC 9162 Merkle tree whose leaves are the stored bytes of
//! access records. Hashing is domain-separated (a leaf is `SHA-256(0x00 || entry)`, an
//! interior node `SHA-256(0x01 || left || right)`), so a leaf can never pass for a node.
//! The tree math is [`tlog_tiles`] (a port of Go's `golang.org/x/mod/sumdb/tlog`), whose
//! [`HashReader`] lets the edge keep the tree's stored hashes in SQLite.
//!
//! A checkpoint is the [c2sp.org/tlog-checkpoint] text (origin, tree size, base64 root)
//! with one extension line, `time <RFC 3339 UTC>`, signed as a [c2sp.org/signed-note] with
//! Ed25519 ([`signed_note`]). The edge, the tablet and the command-line verifier all check
//! with the functions here, and they bound every proof before running it: a proof from the
//! server is untrusted input.
//!
//! [c2sp.org/tlog-checkpoint]: https://c2sp.org/tlog-checkpoint
//! [c2sp.org/signed-note]: https://c2sp.org/signed-note

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, VerifierList};

pub use tlog_tiles::tlog::{Hash, HashReader};

/// Longest proof accepted: a tree of 2^64 leaves needs at most 2 × 64 hashes.
pub const MAX_PROOF_HASHES: usize = 128;

/// Why a checkpoint or proof was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The signing or verifier key is not in the signed-note key format.
    #[error("log key malformed")]
    KeyMalformed,
    /// The checkpoint is not a well-formed signed note with a checkpoint body.
    #[error("checkpoint malformed: {0}")]
    CheckpointMalformed(&'static str),
    /// The checkpoint is not signed by the log's key, or its signature does not verify.
    #[error("checkpoint signature does not verify with the log key")]
    SignatureInvalid,
    /// The checkpoint is for another log.
    #[error("checkpoint is for log `{found}`, expected `{expected}`")]
    OriginMismatch {
        /// The log expected.
        expected: String,
        /// The log named in the checkpoint.
        found: String,
    },
    /// A newer checkpoint has fewer entries than an older one: the log was rolled back.
    #[error("log shrank from {old} to {new} entries")]
    Rollback {
        /// Size of the earlier checkpoint.
        old: u64,
        /// Size of the later checkpoint.
        new: u64,
    },
    /// Two checkpoints of the same size have different roots: the log forked.
    #[error("two checkpoints of size {size} have different roots")]
    Fork {
        /// The common size.
        size: u64,
    },
    /// An entry index is not inside the tree.
    #[error("entry {index} is not in a tree of {size} entries")]
    IndexOutOfRange {
        /// The entry.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof does not lead to the checkpoint's root.
    #[error("proof does not verify")]
    ProofInvalid,
    /// A hash is not 32 bytes of base64.
    #[error("hash malformed")]
    HashMalformed,
}

/// Result type of this module.
pub type Result<T, E = LogError> = std::result::Result<T, E>;

/// The leaf hash of one log entry: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    tlog_tiles::tlog::record_hash(entry)
}

/// A hash as standard base64 (the checkpoint and proof encoding).
pub fn hash_to_base64(hash: &Hash) -> String {
    STANDARD.encode(hash.0)
}

/// A hash from standard base64.
pub fn hash_from_base64(text: &str) -> Result<Hash> {
    let bytes = STANDARD.decode(text).map_err(|_| LogError::HashMalformed)?;
    let array: [u8; 32] = bytes.try_into().map_err(|_| LogError::HashMalformed)?;
    Ok(Hash(array))
}

/// Largest tree size [`tree_size_storing`] answers for: 2^62 entries. tlog's
/// `stored_hash_count` is about twice the size and overflows a `u64` beyond this.
pub const MAX_TREE_SIZE: u64 = 1 << 62;

/// The smallest tree size whose stored hashes, in tlog's layout (the leaf hash and the
/// subtree hashes each append completes, at indexes `0..stored_hash_count(size)`), number at
/// least `count`: the tree that a table of stored hashes with highest index `count - 1`
/// belongs to.
///
/// The table holds exactly that tree when `stored_hash_count(size) == count`; otherwise it
/// stops partway through the hashes of the tree's last leaf. `None` when `count` exceeds
/// the hashes of [`MAX_TREE_SIZE`] entries: no log gets there, so the index is not one a
/// log wrote.
pub fn tree_size_storing(count: u64) -> Option<u64> {
    use tlog_tiles::tlog::stored_hash_count;
    if count > stored_hash_count(MAX_TREE_SIZE) {
        return None;
    }
    // stored_hash_count grows strictly with the size (at least one hash per leaf), so
    // the answer is at most `count`; the bound above keeps every probe below overflow.
    let (mut lo, mut hi) = (0u64, count.min(MAX_TREE_SIZE));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if stored_hash_count(mid) >= count {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo)
}

/// A checkpoint: the log's size and root at a time, and the signed note that carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Which log (the checkpoint origin, also the key name).
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Merkle tree root over those entries.
    pub root: Hash,
    /// When the log signed it.
    pub time: DateTime<Utc>,
    /// The signed note, exactly as signed (text, blank line, signature lines).
    pub note: String,
}

const TIME_PREFIX: &str = "time ";

fn body(origin: &str, size: u64, root: &Hash, time: DateTime<Utc>) -> Result<Vec<u8>> {
    let extension = format!(
        "{TIME_PREFIX}{}\n",
        time.to_rfc3339_opts(SecondsFormat::Millis, true)
    );
    let checkpoint = tlog_tiles::checkpoint::Checkpoint::new(origin, size, *root, &extension)
        .map_err(|_| LogError::CheckpointMalformed("origin"))?;
    Ok(checkpoint.to_bytes())
}

/// The log's Ed25519 signing key, named by the log's origin.
pub struct LogSigner {
    signer: StandardSigner,
    secret: String,
    verifier_key: String,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

const ALG_ED25519: u8 = 1;

impl LogSigner {
    /// A signer for the log `origin` from 32 secret bytes (take them from the OS RNG).
    /// The origin must be a valid key name: non-empty, no spaces, no `+`.
    pub fn from_secret(origin: &str, secret: [u8; 32]) -> Result<Self> {
        if !signed_note::is_key_name_valid(origin) {
            return Err(LogError::KeyMalformed);
        }
        let signing = ed25519_dalek::SigningKey::from_bytes(&secret);
        let verifier_key = signed_note::new_ed25519_verifier_key(origin, &signing.verifying_key());
        let mut public = vec![ALG_ED25519];
        public.extend_from_slice(signing.verifying_key().as_bytes());
        let mut private = vec![ALG_ED25519];
        private.extend_from_slice(&secret);
        let encoded = format!(
            "PRIVATE+KEY+{origin}+{:08x}+{}",
            signed_note::key_id(origin, &public),
            STANDARD.encode(private)
        );
        Self::parse(&encoded).map(|signer| LogSigner {
            verifier_key,
            ..signer
        })
    }

    /// A signer from its signed-note private key text (`PRIVATE+KEY+name+id+base64`).
    pub fn parse(encoded: &str) -> Result<Self> {
        let encoded = encoded.trim();
        let signer = StandardSigner::new(encoded).map_err(|_| LogError::KeyMalformed)?;
        // PRIVATE+KEY+name+id+key: the key's base64 may itself hold `+`.
        let key = encoded
            .splitn(5, '+')
            .nth(4)
            .ok_or(LogError::KeyMalformed)?;
        let key = STANDARD.decode(key).map_err(|_| LogError::KeyMalformed)?;
        let secret: [u8; 32] = key
            .get(1..)
            .and_then(|k| k.try_into().ok())
            .ok_or(LogError::KeyMalformed)?;
        let signing = ed25519_dalek::SigningKey::from_bytes(&secret);
        let verifier_key =
            signed_note::new_ed25519_verifier_key(signer.name(), &signing.verifying_key());
        Ok(LogSigner {
            signer,
            secret: encoded.to_string(),
            verifier_key,
        })
    }

    /// The private key text, for storing in a file only the log can read.
    pub fn encoded_secret(&self) -> &str {
        &self.secret
    }

    /// The public verifier key (`name+id+base64`), for anyone who checks the log.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// The log's origin (the key name).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// Signs a checkpoint of `size` entries with `root` at `time`.
    pub fn sign(&self, size: u64, root: Hash, time: DateTime<Utc>) -> Result<Checkpoint> {
        let text = body(self.origin(), size, &root, time)?;
        let mut note =
            Note::new(&text, &[]).map_err(|_| LogError::CheckpointMalformed("note text"))?;
        note.add_sigs(&[&self.signer])
            .map_err(|_| LogError::KeyMalformed)?;
        let note = String::from_utf8(note.to_bytes())
            .map_err(|_| LogError::CheckpointMalformed("utf-8"))?;
        Ok(Checkpoint {
            origin: self.origin().to_string(),
            size,
            root,
            time: trim_to_millis(time),
            note,
        })
    }
}

fn trim_to_millis(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time)
}

/// Checks checkpoints signed by a log's key, or by any of its keys: a log whose signing
/// key was rotated signed its older checkpoints with a former key, which stays valid for
/// them. `Send + Sync`, cheap to clone.
#[derive(Clone)]
pub struct LogVerifier {
    verifiers: Vec<StandardVerifier>,
    origin: String,
    key: String,
}

impl std::fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogVerifier")
            .field("key", &self.key)
            .finish()
    }
}

impl LogVerifier {
    /// A verifier for the public key text `name+id+base64` (the name is the log origin),
    /// or for several keys of one log, one per line (blank lines and `#` comment lines
    /// ignored): a checkpoint signed by any of them opens. Keys naming different origins
    /// are refused ([`LogError::KeyMalformed`]), so a foreign log's key cannot be slipped
    /// into the list.
    pub fn new(verifier_key: &str) -> Result<Self> {
        let keys: Vec<&str> = verifier_key
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect();
        let mut verifiers = Vec::with_capacity(keys.len());
        for key in &keys {
            verifiers.push(StandardVerifier::new(key).map_err(|_| LogError::KeyMalformed)?);
        }
        let origin = verifiers
            .first()
            .map(|v| signed_note::Verifier::name(v).to_string())
            .ok_or(LogError::KeyMalformed)?;
        if verifiers
            .iter()
            .any(|v| signed_note::Verifier::name(v) != origin)
        {
            return Err(LogError::KeyMalformed);
        }
        Ok(LogVerifier {
            verifiers,
            origin,
            key: keys.join("\n"),
        })
    }

    /// How many keys this verifier accepts.
    pub fn key_count(&self) -> usize {
        self.verifiers.len()
    }

    /// The log origin this key signs for.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The verifier key text (several keys: one per line, as given).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Opens a signed checkpoint: the note must carry a valid signature by this key (by
    /// one of the keys), and its body must be a checkpoint of this log with a `time` line.
    pub fn open(&self, note: &str) -> Result<Checkpoint> {
        let parsed = Note::from_bytes(note.as_bytes())
            .map_err(|_| LogError::CheckpointMalformed("not a signed note"))?;
        // The list is built per call: signed_note's list holds `Box<dyn Verifier>`, which
        // is neither Send nor Sync.
        let known = VerifierList::new(
            self.verifiers
                .iter()
                .map(|v| Box::new(v.clone()) as Box<dyn signed_note::Verifier>)
                .collect(),
        );
        parsed
            .verify(&known)
            .map_err(|_| LogError::SignatureInvalid)?;
        let body = tlog_tiles::checkpoint::Checkpoint::from_bytes(parsed.text())
            .map_err(|_| LogError::CheckpointMalformed("not a checkpoint"))?;
        if body.origin() != self.origin {
            return Err(LogError::OriginMismatch {
                expected: self.origin.clone(),
                found: body.origin().to_string(),
            });
        }
        let time = body
            .extension()
            .lines()
            .find_map(|line| line.strip_prefix(TIME_PREFIX))
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .ok_or(LogError::CheckpointMalformed("no time line"))?
            .with_timezone(&Utc);
        Ok(Checkpoint {
            origin: body.origin().to_string(),
            size: body.size(),
            root: *body.hash(),
            time,
            note: note.to_string(),
        })
    }
}

/// Checks that entry `index` with leaf hash `leaf` is in the tree of `checkpoint`.
pub fn verify_inclusion(
    checkpoint: &Checkpoint,
    index: u64,
    leaf: Hash,
    proof: &[Hash],
) -> Result<()> {
    if index >= checkpoint.size {
        return Err(LogError::IndexOutOfRange {
            index,
            size: checkpoint.size,
        });
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(LogError::ProofInvalid);
    }
    tlog_tiles::tlog::check_record(
        &proof.to_vec(),
        checkpoint.size,
        checkpoint.root,
        index,
        leaf,
    )
    .map_err(|_| LogError::ProofInvalid)
}

/// Checks that `newer` extends `older` (same log, every entry of `older` kept, in order).
/// An empty `older` is extended by anything; equal sizes need equal roots and no proof.
pub fn verify_consistency(older: &Checkpoint, newer: &Checkpoint, proof: &[Hash]) -> Result<()> {
    if older.origin != newer.origin {
        return Err(LogError::OriginMismatch {
            expected: older.origin.clone(),
            found: newer.origin.clone(),
        });
    }
    if newer.size < older.size {
        return Err(LogError::Rollback {
            old: older.size,
            new: newer.size,
        });
    }
    if older.size == newer.size {
        return if older.root == newer.root && proof.is_empty() {
            Ok(())
        } else if older.root != newer.root {
            Err(LogError::Fork { size: older.size })
        } else {
            Err(LogError::ProofInvalid)
        };
    }
    if older.size == 0 {
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(LogError::ProofInvalid)
        };
    }
    if proof.len() > MAX_PROOF_HASHES {
        return Err(LogError::ProofInvalid);
    }
    tlog_tiles::tlog::check_tree(
        &proof.to_vec(),
        newer.size,
        newer.root,
        older.size,
        older.root,
    )
    .map_err(|_| LogError::ProofInvalid)
}

/// A whole tree's stored hashes in memory, for tests and benchmarks: it grows with the log
/// (about two hashes per entry). The edge keeps the same hashes in SQLite; the offline
/// verifier (`edge_agent::verify`) does not use this type but replays a log of any size
/// keeping only the tree's right edge.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    stored: Vec<Hash>,
    size: u64,
}

impl HashReader for MemoryTree {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i)
                    .ok()
                    .and_then(|i| self.stored.get(i).copied())
                    .ok_or(tlog_tiles::tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends an entry; returns its index.
    pub fn push(&mut self, entry: &[u8]) -> u64 {
        let index = self.size;
        let hashes = tlog_tiles::tlog::stored_hashes(index, entry, self)
            .unwrap_or_else(|_| unreachable!("a memory tree holds every earlier hash"));
        self.stored.extend(hashes);
        self.size += 1;
        index
    }

    /// Root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Hash> {
        if size > self.size {
            return Err(LogError::IndexOutOfRange {
                index: size,
                size: self.size,
            });
        }
        tlog_tiles::tlog::tree_hash(size, self).map_err(|_| LogError::ProofInvalid)
    }

    /// Proof that entry `index` is in the tree of the first `size` entries.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        if index >= size || size > self.size {
            return Err(LogError::IndexOutOfRange { index, size });
        }
        tlog_tiles::tlog::prove_record(size, index, self).map_err(|_| LogError::ProofInvalid)
    }

    /// Proof that the tree of `newer` entries extends the tree of `older` entries.
    pub fn prove_consistency(&self, older: u64, newer: u64) -> Result<Vec<Hash>> {
        if older > newer || newer > self.size {
            return Err(LogError::Rollback {
                old: older,
                new: newer,
            });
        }
        if older == 0 || older == newer {
            return Ok(Vec::new());
        }
        tlog_tiles::tlog::prove_tree(newer, older, self).map_err(|_| LogError::ProofInvalid)
    }
}

#[cfg(test)]
mod tests;
