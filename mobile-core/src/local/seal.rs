//! Sealing what the tablet keeps at rest: XChaCha20-Poly1305 (RustCrypto's
//! `chacha20poly1305`) under the tablet's storage key, a fresh random 24-byte nonce per
//! value, and the value's purpose and owner as associated data, so a sealed value copied
//! to another row (another incident's summary, another queued write) does not open.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::error::MobileError;

/// Nonce length of XChaCha20-Poly1305.
const NONCE_BYTES: usize = 24;

/// The 32-byte key the tablet's data is sealed with. The app keeps it in the platform's
/// key store (Android Keystore, iOS Keychain) and passes it in at start; the core holds
/// it in memory only while running and wipes it on drop.
#[derive(Clone)]
pub struct StorageKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StorageKey(<redacted>)")
    }
}

impl StorageKey {
    /// A key from exactly 32 bytes; anything else is a configuration error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MobileError> {
        let key: [u8; 32] = bytes.try_into().map_err(|_| MobileError::Configuration {
            detail: format!("storage key must be 32 bytes, got {}", bytes.len()),
        })?;
        Ok(StorageKey(Zeroizing::new(key)))
    }

    /// A fresh random key (an in-memory store, tests).
    pub fn random() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        StorageKey(Zeroizing::new(key.into()))
    }
}

/// Seals and opens values under one [`StorageKey`].
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(key: &StorageKey) -> Self {
        Sealer {
            cipher: XChaCha20Poly1305::new((&*key.0).into()),
        }
    }

    /// `nonce ‖ ciphertext ‖ tag`, bound to `context`.
    pub(crate) fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, MobileError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| storage("sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`Self::seal`] made for the same `context`. A wrong key, another
    /// context or a damaged value is [`MobileError::LocalStorage`]. The plaintext is
    /// wiped when dropped.
    pub(crate) fn open(
        &self,
        sealed: &[u8],
        context: &str,
    ) -> Result<Zeroizing<Vec<u8>>, MobileError> {
        if sealed.len() < NONCE_BYTES {
            return Err(storage("sealed value too short"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| storage("sealed value does not open with this key"))
    }
}

fn storage(detail: &str) -> MobileError {
    MobileError::LocalStorage {
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_context() {
        let key = StorageKey::random();
        let sealer = Sealer::new(&key);
        let sealed = sealer.seal(b"warfarin 3 mg", "summary:1").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"warfarin"));
        assert_eq!(
            sealer.open(&sealed, "summary:1").unwrap().as_slice(),
            b"warfarin 3 mg"
        );
        assert!(sealer.open(&sealed, "summary:2").is_err());
        assert!(
            Sealer::new(&StorageKey::random())
                .open(&sealed, "summary:1")
                .is_err()
        );
        let mut damaged = sealed.clone();
        *damaged.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&damaged, "summary:1").is_err());
        assert!(sealer.open(&sealed[..10], "summary:1").is_err());
        // A fresh nonce each time: the same value never seals to the same bytes.
        assert_ne!(sealed, sealer.seal(b"warfarin 3 mg", "summary:1").unwrap());
    }

    #[test]
    fn keys_must_be_32_bytes_and_never_print() {
        assert!(StorageKey::from_bytes(&[7; 31]).is_err());
        let key = StorageKey::from_bytes(&[7; 32]).unwrap();
        assert_eq!(format!("{key:?}"), "StorageKey(<redacted>)");
    }
}
