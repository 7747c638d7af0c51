//! TOTP secrets at rest: sealed with XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`)
//! under a 32-byte [`TotpKey`] the operator gives by file or environment variable (in
//! development, one generated once into `<data-dir>/totp.key`).
//!
//! A sealed secret is stored as text: `sealed:v1:` then base64 of a random 24-byte nonce
//! and the ciphertext with its tag. The staff id is the associated data, so a sealed
//! secret copied onto another account does not open. Anything not starting with
//! `sealed:` is a plain-text secret from before secrets were sealed (the store seals those
//! on its first start with a key).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

/// The prefix of a sealed secret.
pub const SEALED_PREFIX: &str = "sealed:v1:";
const NONCE_LEN: usize = 24;

/// The key TOTP secrets are sealed with. Its `Debug` never shows it.
#[derive(Clone)]
pub struct TotpKey([u8; 32]);

impl std::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpKey(<redacted>)")
    }
}

/// A sealed value that did not open: wrong key, another account's secret, or damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed TOTP secret does not open with this key")]
pub struct Unsealable;

impl TotpKey {
    /// A key from its text: 64 hex digits or the base64 of 32 bytes (surrounding
    /// whitespace ignored). The error says what was expected, never the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).map_err(|_| "not hex".to_string())?
        } else {
            STANDARD
                .decode(text)
                .map_err(|_| "expected 64 hex digits or the base64 of 32 bytes".to_string())?
        };
        let bytes: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            format!(
                "the key is {} bytes; it must be 32 (make one with `openssl rand -hex 32`)",
                b.len()
            )
        })?;
        Ok(TotpKey(bytes))
    }

    /// A new random key.
    pub fn generate() -> Self {
        TotpKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// The development key in `path`: read it, or create it (hex, mode 0600) when missing.
    pub fn load_or_create_dev(path: &Path) -> std::io::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => TotpKey::parse(&text).map_err(|message| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {message}", path.display()),
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = TotpKey::generate();
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)?;
                file.write_all(hex::encode(key.0).as_bytes())?;
                file.sync_all()?;
                Ok(key)
            }
            Err(error) => Err(error),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Seals `secret` for the account `staff_id`.
    pub fn seal(&self, staff_id: &str, secret: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.as_bytes(),
                    aad: staff_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of a short message cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(bytes))
    }

    /// Opens a value [`TotpKey::seal`] made for `staff_id`.
    pub fn open(&self, staff_id: &str, stored: &str) -> Result<String, Unsealable> {
        let encoded = stored.strip_prefix(SEALED_PREFIX).ok_or(Unsealable)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: staff_id.as_bytes(),
                },
            )
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain).map_err(|_| Unsealable)
    }
}

/// Whether a stored value is sealed (else it is a plain-text secret to migrate).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_account() {
        let key = TotpKey::generate();
        let sealed = key.seal("er-nurse", "JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open("er-nurse", &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert_eq!(key.open("er-doctor", &sealed), Err(Unsealable));
        assert_eq!(
            TotpKey::generate().open("er-nurse", &sealed),
            Err(Unsealable)
        );
        assert_eq!(key.open("er-nurse", "JBSWY3DPEHPK3PXP"), Err(Unsealable));
        assert_eq!(key.open("er-nurse", "sealed:v1:AAAA"), Err(Unsealable));
    }

    #[test]
    fn keys_are_read_as_hex_or_base64_of_32_bytes() {
        let hex_key = "00".repeat(32);
        assert!(TotpKey::parse(&hex_key).is_ok());
        assert!(TotpKey::parse(&format!(" {hex_key}\n")).is_ok());
        assert!(TotpKey::parse(&STANDARD.encode([7u8; 32])).is_ok());
        for bad in [
            "",
            "00",
            &"00".repeat(31),
            &STANDARD.encode([7u8; 16]),
            "zz",
        ] {
            assert!(TotpKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_development_key_is_created_once_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp.key");
        let first = TotpKey::load_or_create_dev(&path).unwrap();
        let again = TotpKey::load_or_create_dev(&path).unwrap();
        assert_eq!(first.0, again.0);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
