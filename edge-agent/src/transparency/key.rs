//! The access log's signing key: Ed25519, as signed-note private-key text in
//! [`KEY_FILE`] in the data directory, created on first start and readable by the service
//! user only; and every verifier key the log has had, in [`VERIFIER_KEYS_FILE`].
//!
//! # Rotation
//! [`rotate`] (`edge-agent admin rotate-log-key`) makes a new key for the same origin:
//! the old verifier key stays in [`VERIFIER_KEYS_FILE`] (only ever appended to), so every
//! checkpoint the old key signed still opens with the list, and the old private key is
//! overwritten and unlinked. The running service keeps signing with the key it loaded
//! until it is restarted.

use std::fs::{File, OpenOptions};
use std::io::{Seek, Write};
use std::path::Path;

use myna_domain::transparency::{LogSigner, LogVerifier};
use rand::RngCore;

use crate::error::{Error, Result};

/// File name of the signing key inside the data directory.
pub const KEY_FILE: &str = "log-signing.key";

/// File name of the list of every verifier key the log has signed with, oldest first, the
/// current one last; one `origin+id+base64` per line. Only ever appended to. Give it to
/// `myna-log verify --key-file` to check checkpoints signed before a rotation.
pub const VERIFIER_KEYS_FILE: &str = "log-verifier-keys";

/// The log's current signing key and the verifier of every key it has had.
#[derive(Debug)]
pub struct LogKeys {
    /// Signs new checkpoints.
    pub signer: LogSigner,
    /// Opens checkpoints signed by the current key or any former one.
    pub verifier: LogVerifier,
}

/// [`load_or_create_signer`], and the verifier of every key the log has had: the current
/// verifier key is added to [`VERIFIER_KEYS_FILE`] if it is not listed yet (the file is
/// created on first start, and for data directories from before it existed).
pub fn load_or_create_keys(data_dir: &Path, origin: &str) -> Result<LogKeys> {
    let signer = load_or_create_signer(data_dir, origin)?;
    record_verifier_key(data_dir, signer.verifier_key())?;
    let verifier = load_verifier_keys(data_dir)?;
    Ok(LogKeys { signer, verifier })
}

/// Every verifier key listed in `data_dir`'s [`VERIFIER_KEYS_FILE`], as one verifier. A
/// list naming two origins is refused.
pub fn load_verifier_keys(data_dir: &Path) -> Result<LogVerifier> {
    let path = data_dir.join(VERIFIER_KEYS_FILE);
    let text = std::fs::read_to_string(&path)?;
    LogVerifier::new(&text).map_err(|e| {
        Error::Config(format!(
            "{}: {e} (one verifier key of this log per line)",
            path.display()
        ))
    })
}

/// Appends `key` to [`VERIFIER_KEYS_FILE`] unless it is listed already, durably.
fn record_verifier_key(data_dir: &Path, key: &str) -> Result<()> {
    let path = data_dir.join(VERIFIER_KEYS_FILE);
    let listed = match std::fs::read_to_string(&path) {
        Ok(text) => text.lines().any(|line| line.trim() == key),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e.into()),
    };
    if listed {
        return Ok(());
    }
    let mut options = OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(format!("{key}\n").as_bytes())?;
    file.sync_all()?;
    Ok(())
}

/// What [`rotate`] did: the verifier keys before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The former key, still listed for the checkpoints it signed.
    pub old_key: String,
    /// The new key, signing from the service's next start.
    pub new_key: String,
}

/// Replaces the log's signing key in `data_dir` with a new one for the same `origin`.
///
/// In order, each step durable before the next: the old verifier key is listed in
/// [`VERIFIER_KEYS_FILE`]; the new key is written to a temporary file and listed too; the
/// temporary file is renamed over [`KEY_FILE`]; the old key's file (unlinked by the rename,
/// still open here) is overwritten with zeros. A crash midway leaves either key in
/// [`KEY_FILE`], and both listed. There must be a key to rotate: the service creates the
/// first at its first start.
pub fn rotate(data_dir: &Path, origin: &str) -> Result<Rotation> {
    let path = data_dir.join(KEY_FILE);
    if !path.exists() {
        return Err(Error::Config(format!(
            "no signing key at {}: nothing to rotate (the edge creates its first key at its \
             first start; check the data directory)",
            path.display()
        )));
    }
    let old = load_or_create_signer(data_dir, origin)?;
    record_verifier_key(data_dir, old.verifier_key())?;
    let new = new_signer(origin)?;
    let temporary = data_dir.join(format!("{KEY_FILE}.new"));
    match std::fs::remove_file(&temporary) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    write_private(&temporary, new.encoded_secret())?;
    record_verifier_key(data_dir, new.verifier_key())?;
    let mut old_file = OpenOptions::new().write(true).open(&path)?;
    std::fs::rename(&temporary, &path)?;
    File::open(data_dir)?.sync_all()?;
    destroy(&mut old_file)?;
    tracing::info!(old = %old.verifier_key(), new = %new.verifier_key(), "rotated the access log signing key");
    Ok(Rotation {
        old_key: old.verifier_key().to_string(),
        new_key: new.verifier_key().to_string(),
    })
}

/// Overwrites an (unlinked) key file's content with zeros, durably.
fn destroy(file: &mut File) -> Result<()> {
    let length = file.metadata()?.len();
    file.rewind()?;
    let length = usize::try_from(length).map_err(|_| Error::Config("key file too large".into()))?;
    file.write_all(&vec![0u8; length])?;
    file.sync_all()?;
    Ok(())
}

fn new_signer(origin: &str) -> Result<LogSigner> {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    LogSigner::from_secret(origin, secret)
        .map_err(|e| Error::Config(format!("log origin `{origin}`: {e}")))
}

/// Loads the log's signing key from `data_dir`, creating it on first start. A key for
/// another origin is refused: a log never changes its name or key silently.
pub fn load_or_create_signer(data_dir: &Path, origin: &str) -> Result<LogSigner> {
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let signer = LogSigner::parse(&text)
                .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
            if signer.origin() != origin {
                return Err(Error::Config(format!(
                    "{} signs for log `{}`, configured origin is `{origin}`",
                    path.display(),
                    signer.origin()
                )));
            }
            Ok(signer)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let signer = new_signer(origin)?;
            write_private(&path, signer.encoded_secret())?;
            tracing::info!(key = %signer.verifier_key(), "created the access log signing key");
            Ok(signer)
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes a new file only the owner can read, durably.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_then_reused_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_signer(dir.path(), "edge.test/log").unwrap();
        let again = load_or_create_signer(dir.path(), "edge.test/log").unwrap();
        assert_eq!(first.verifier_key(), again.verifier_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
        assert!(matches!(
            load_or_create_signer(dir.path(), "other.origin/log"),
            Err(Error::Config(_))
        ));
        std::fs::write(dir.path().join(KEY_FILE), "garbage").unwrap();
        assert!(load_or_create_signer(dir.path(), "edge.test/log").is_err());
    }

    #[test]
    fn rotation_replaces_the_key_keeps_the_old_verifier_key_and_destroys_the_old_secret() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            rotate(dir.path(), "edge.test/log"),
            Err(Error::Config(_))
        ));
        let first = load_or_create_keys(dir.path(), "edge.test/log").unwrap();
        assert_eq!(first.verifier.key_count(), 1);
        let old_secret = first.signer.encoded_secret().to_string();
        let rotation = rotate(dir.path(), "edge.test/log").unwrap();
        assert_eq!(rotation.old_key, first.signer.verifier_key());
        assert_ne!(rotation.new_key, rotation.old_key);
        let second = load_or_create_keys(dir.path(), "edge.test/log").unwrap();
        assert_eq!(second.signer.verifier_key(), rotation.new_key);
        assert_eq!(second.verifier.key_count(), 2);
        let listed = std::fs::read_to_string(dir.path().join(VERIFIER_KEYS_FILE)).unwrap();
        assert_eq!(
            listed,
            format!("{}\n{}\n", rotation.old_key, rotation.new_key)
        );
        // No copy of the old secret is left in the data directory.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let text = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!String::from_utf8_lossy(&text).contains(&old_secret));
        }
        // A checkpoint signed by the old key opens with the list, not with the new key.
        let root = myna_domain::transparency::leaf_hash(b"entry");
        let old_note = first.signer.sign(1, root, chrono::Utc::now()).unwrap().note;
        assert!(second.verifier.open(&old_note).is_ok());
        let new_only = LogVerifier::new(&rotation.new_key).unwrap();
        assert!(new_only.open(&old_note).is_err());
        // Rotating for another origin is refused, and changes nothing.
        assert!(rotate(dir.path(), "other/log").is_err());
        assert_eq!(
            load_or_create_keys(dir.path(), "edge.test/log")
                .unwrap()
                .verifier
                .key_count(),
            2
        );
    }
}
