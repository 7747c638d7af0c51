//! Secrets that stand for a signed-in person or a peer: session tokens (a staff member's
//! browser session, a patient's portal session) and bearer tokens.
//!
//! A service hands out a [`new_token`] once and stores only its [`token_hash`]: a copy of
//! the database does not sign anyone in. Presented secrets are compared with
//! [`constant_time_eq`].

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new session token: 32 random bytes (from the thread's CSPRNG), hex (64 characters).
pub fn new_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

/// SHA-256 of a token, hex (64 characters): what a service stores and looks sessions up by.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two secrets without an early exit on the first differing byte.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"token", b"token"));
        for other in [&b"tokem"[..], b"toke", b"tokens", b""] {
            assert!(!constant_time_eq(b"token", other), "{other:?}");
        }
    }

    #[test]
    fn token_hash_is_sha256_hex() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn new_tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert_ne!(token_hash(&a), a);
    }
}
