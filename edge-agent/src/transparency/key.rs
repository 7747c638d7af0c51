//! The access log's signing key: Ed25519, as signed-note private-key text in
//! [`KEY_FILE`] in the data directory, created on first start and readable by the service
//! user only.

use std::io::Write;
use std::path::Path;

use myna_domain::transparency::LogSigner;
use rand::RngCore;

use crate::error::{Error, Result};

/// File name of the signing key inside the data directory.
pub const KEY_FILE: &str = "log-signing.key";

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
            let mut secret = [0u8; 32];
            rand::rng().fill_bytes(&mut secret);
            let signer = LogSigner::from_secret(origin, secret)
                .map_err(|e| Error::Config(format!("log origin `{origin}`: {e}")))?;
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
}
