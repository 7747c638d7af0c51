//! The tablet as a witness of the edge's access log (閲覧記録): it keeps the last signed
//! checkpoint it verified and, on its next contact, checks that the log it sees now
//! extends that one.
//!
//! The edge appends a record of every disclosure to an RFC 6962 Merkle tree and signs
//! checkpoints of it (`myna_domain::transparency`). A checkpoint alone proves little: an
//! edge could rewrite or drop old records and sign a fresh tree. A [`LogWitness`]
//! remembers what it saw, so a rewrite after that point shows up as a checkpoint that
//! does not extend the remembered one. [`LogWitness::check`]:
//! 1. fetches `GET /v1/log/checkpoint` and opens it with the log key the tablet was
//!    provisioned with (signature and origin); otherwise [`MobileError::LogCheckpointInvalid`];
//! 2. compares it with the last checkpoint seen, if any: a larger log must come with a
//!    valid consistency proof (`GET /v1/log/proof/consistency`), an equal size must have
//!    the same root, a smaller size is a rollback; otherwise
//!    [`MobileError::LogInconsistent`];
//! 3. only then remembers the new checkpoint, in memory and, if set up with a state file,
//!    on disk (written to a temporary file in the same directory, synced, renamed).
//!
//! # When the app calls it
//! At app start, and after each incident (each contact with the edge), in the
//! background. A failed check never blocks patient care: [`crate::EmergencyIncident`] does
//! not depend on it. The app shows the error's message (the crew continues care and
//! reports a tamper-check failure to their supervisor) and, for
//! [`MobileError::EdgeUnreachable`] and other retryable errors, checks again at the next
//! contact. A failed check keeps the earlier checkpoint, so a tampered log keeps failing.
//!
//! # Trust
//! The verifier key comes with the tablet's provisioning, never from the edge it checks
//! (its `GET /v1/log/key` is informational). What one tablet cannot see: an edge that
//! keeps serving the same old checkpoint (a freeze), or one that shows different tablets
//! different logs (a split view); comparing checkpoints across tablets would catch those.
//!
//! # Concurrency and cancellation
//! The state lock is never held across an `.await`. A check copies the last checkpoint
//! out, talks to the edge, and stores its result only if no other check stored one
//! meanwhile (it starts over otherwise). Storing runs on a blocking thread as one step,
//! so a check dropped midway either stored its checkpoint, file and memory, or nothing.

use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::SecondsFormat;
use myna_domain::transparency::{self, Checkpoint, LogVerifier};
use myna_domain::wire;

use crate::edge::EdgeClient;
use crate::edge::MAX_CHECKPOINT_BYTES;
use crate::error::{MobileError, Result};

/// How often [`LogWitness::check`] starts over when other checks keep storing checkpoints
/// while it talks to the edge.
const MAX_ATTEMPTS: usize = 3;

/// A successful [`LogWitness::check`]: the edge's log extends what the tablet saw before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    /// Entries in the log at the checkpoint just verified (now the last seen).
    pub size: u64,
    /// Entries at the checkpoint seen before; `None` at first contact (or after
    /// [`LogWitness::forget`]), when there was nothing to compare with.
    pub previous_size: Option<u64>,
    /// When the log signed the checkpoint, RFC 3339 UTC.
    pub signed_at: String,
}

/// Remembers the last verified checkpoint of one edge's access log and checks that later
/// ones extend it. Cheap to clone; clones share the remembered checkpoint.
#[derive(Debug, Clone)]
pub struct LogWitness {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Opens the log's checkpoints (its key came from provisioning, never from the edge).
    verifier: LogVerifier,
    state_file: Option<PathBuf>,
    last_seen: Mutex<LastSeen>,
}

#[derive(Debug, Default)]
struct LastSeen {
    checkpoint: Option<Checkpoint>,
    /// Bumped on every change, so a check can tell that another one stored meanwhile.
    generation: u64,
}

impl LogWitness {
    /// A witness for the log whose verifier key (`name+id+base64`, from the tablet's
    /// provisioning, never fetched from the edge) is `verifier_key`; after the edge rotated
    /// its key, the log's key list, one key per line (a checkpoint signed by any of them
    /// opens, so one saved before the rotation still does). With `state_file`,
    /// the last seen checkpoint is kept there across restarts: an existing file is
    /// loaded and must open with the key. A damaged file, or one from another log key,
    /// is a [`MobileError::LogWitnessStateUnusable`]; [`LogWitness::reset`] starts over.
    /// A malformed key is a [`MobileError::Configuration`].
    pub fn new(verifier_key: &str, state_file: Option<PathBuf>) -> Result<Self> {
        let witness = Self::empty(verifier_key, state_file)?;
        if let Some(path) = &witness.inner.state_file {
            let checkpoint = load(&witness.inner.verifier, path)?;
            witness.inner.lock().checkpoint = checkpoint;
        }
        Ok(witness)
    }

    /// Like [`LogWitness::new`], but first deletes any saved checkpoint: the next check
    /// is a first contact. For when the saved state is unusable and a supervisor decided
    /// to start over.
    pub fn reset(verifier_key: &str, state_file: Option<PathBuf>) -> Result<Self> {
        let witness = Self::empty(verifier_key, state_file)?;
        witness.forget()?;
        Ok(witness)
    }

    fn empty(verifier_key: &str, state_file: Option<PathBuf>) -> Result<Self> {
        let verifier = verifier(verifier_key)?;
        if state_file.as_ref().is_some_and(|p| p.file_name().is_none()) {
            return Err(MobileError::Configuration {
                detail: "access-log state file path names no file".into(),
            });
        }
        Ok(LogWitness {
            inner: Arc::new(Inner {
                verifier,
                state_file,
                last_seen: Mutex::new(LastSeen::default()),
            }),
        })
    }

    /// Size of the last checkpoint seen, if any.
    pub fn last_seen_size(&self) -> Option<u64> {
        self.inner.lock().checkpoint.as_ref().map(|c| c.size)
    }

    /// Forgets the last seen checkpoint, in memory and on disk: the next check is a first
    /// contact. Only for a supervisor's decision to start over (say, the edge's log was
    /// legitimately rebuilt); forgetting a tampered log's evidence hides the tampering.
    pub fn forget(&self) -> Result<()> {
        let mut last_seen = self.inner.lock();
        if let Some(path) = &self.inner.state_file {
            match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(state_error("remove", &e)),
            }
        }
        last_seen.checkpoint = None;
        last_seen.generation += 1;
        tracing::info!("access-log witness forgot its last checkpoint");
        Ok(())
    }

    /// Fetches the edge's latest checkpoint, verifies it and that it extends the last one
    /// seen, and then remembers it. See the [module docs](self) for when to call it; a
    /// failure must not stop patient care. Errors: [`MobileError::LogCheckpointInvalid`],
    /// [`MobileError::LogInconsistent`] (the last seen checkpoint is kept), the edge
    /// errors (unreachable: check again at the next contact), and
    /// [`MobileError::LogWitnessStateUnusable`] if the state file cannot be written.
    pub async fn check(&self, edge: &EdgeClient) -> Result<LogCheck> {
        for _ in 0..MAX_ATTEMPTS {
            let (previous, generation) = {
                let last_seen = self.inner.lock();
                (last_seen.checkpoint.clone(), last_seen.generation)
            };
            let note = edge.log_checkpoint().await?;
            let latest = self.inner.verifier.open(&note).map_err(|e| {
                tracing::warn!(error = %e, "access-log checkpoint does not open with the log key");
                MobileError::LogCheckpointInvalid {
                    detail: e.to_string(),
                }
            })?;
            if let Some(previous) = &previous {
                verify_extends(edge, previous, &latest).await?;
            }
            let check = LogCheck {
                size: latest.size,
                previous_size: previous.as_ref().map(|c| c.size),
                signed_at: latest.time.to_rfc3339_opts(SecondsFormat::Millis, true),
            };
            let inner = Arc::clone(&self.inner);
            let stored = tokio::task::spawn_blocking(move || inner.store(generation, latest))
                .await
                .map_err(|e| MobileError::LogWitnessStateUnusable {
                    detail: format!("storing the checkpoint did not finish: {e}"),
                })??;
            if stored {
                tracing::info!(
                    size = check.size,
                    previous_size = check.previous_size,
                    "access log consistent"
                );
                return Ok(check);
            }
        }
        Err(MobileError::EdgeUnreachable {
            detail: "other access-log checks kept storing checkpoints; check again later".into(),
        })
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, LastSeen> {
        // A panic elsewhere cannot leave the state half-written: it changes in one step.
        self.last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers `latest` if nothing was stored since `generation`; false if something
    /// was (the caller starts over). Blocks on file I/O: run off the async executor.
    fn store(&self, generation: u64, latest: Checkpoint) -> Result<bool> {
        let mut last_seen = self.lock();
        if last_seen.generation != generation {
            return Ok(false);
        }
        let unchanged = last_seen
            .checkpoint
            .as_ref()
            .is_some_and(|c| c.note == latest.note);
        if !unchanged {
            if let Some(path) = &self.state_file {
                write_atomically(path, latest.note.as_bytes())
                    .map_err(|e| state_error("write", &e))?;
            }
            last_seen.checkpoint = Some(latest);
            last_seen.generation += 1;
        }
        Ok(true)
    }
}

fn verifier(key: &str) -> Result<LogVerifier> {
    LogVerifier::new(key).map_err(|e| MobileError::Configuration {
        detail: format!("access-log verifier key: {e}"),
    })
}

/// Checks that `latest` extends `previous`, fetching a consistency proof when it grew.
async fn verify_extends(
    edge: &EdgeClient,
    previous: &Checkpoint,
    latest: &Checkpoint,
) -> Result<()> {
    let inconsistent = |detail: String| {
        tracing::warn!(
            previous_size = previous.size,
            size = latest.size,
            %detail,
            "access log does not extend the last checkpoint seen"
        );
        MobileError::LogInconsistent {
            previous_size: previous.size,
            size: latest.size,
            detail,
        }
    };
    let proof = if previous.size > 0 && latest.size > previous.size {
        let dto = edge.consistency_proof(previous.size, latest.size).await?;
        if (dto.from, dto.to) != (previous.size, latest.size) {
            return Err(inconsistent(format!(
                "proof is for sizes {} to {}, asked {} to {}",
                dto.from, dto.to, previous.size, latest.size
            )));
        }
        wire::proof_hashes(&dto.hashes).map_err(|e| inconsistent(e.to_string()))?
    } else {
        Vec::new()
    };
    transparency::verify_consistency(previous, latest, &proof)
        .map_err(|e| inconsistent(e.to_string()))
}

/// The checkpoint saved in `path`, `None` if there is no file.
fn load(verifier: &LogVerifier, path: &Path) -> Result<Option<Checkpoint>> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(state_error("open", &e)),
    };
    let mut note = String::new();
    let limit = u64::try_from(MAX_CHECKPOINT_BYTES).unwrap_or(u64::MAX);
    file.take(limit + 1)
        .read_to_string(&mut note)
        .map_err(|e| state_error("read", &e))?;
    if note.len() > MAX_CHECKPOINT_BYTES {
        return Err(MobileError::LogWitnessStateUnusable {
            detail: format!("saved checkpoint over {MAX_CHECKPOINT_BYTES} bytes"),
        });
    }
    verifier
        .open(&note)
        .map(Some)
        .map_err(|e| MobileError::LogWitnessStateUnusable {
            detail: format!("saved checkpoint does not open with the log key: {e}"),
        })
}

/// Replaces `path` with `contents` so that a crash leaves the old file or the new one:
/// write a temporary file beside it, sync it, rename it over, sync the directory.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path names no file"))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        sync_directory_of(path)
    })();
    if result.is_err() {
        // Best effort: a leftover temporary file is overwritten by the next write.
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes a rename in `path`'s directory durable (Unix; elsewhere the rename is enough).
fn sync_directory_of(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        fs::File::open(directory)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn state_error(action: &str, error: &io::Error) -> MobileError {
    // io::Error from these calls describes the failure, not the path (which may hold
    // a user name): the detail names neither file contents nor location.
    MobileError::LogWitnessStateUnusable {
        detail: format!("cannot {action} the access-log state file: {error}"),
    }
}

#[cfg(test)]
mod tests;
