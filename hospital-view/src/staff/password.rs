//! Staff passwords: Argon2id (RustCrypto `argon2`, its default parameters: 19 MiB, two
//! passes, one lane — OWASP's minimum for Argon2id), stored as PHC strings
//! (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) with a random 16-byte salt each.

use std::sync::LazyLock;

use argon2::password_hash::SaltString;
use argon2::password_hash::rand_core::OsRng;
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error("a staff password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// The hasher failed (never with the default parameters).
    #[error("hashing failed")]
    Hashing,
}

/// The Argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches the PHC string `phc` (`false` for an unreadable string).
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same time as [`verify`] against a hash nobody's password matches: an
/// unknown staff id then takes as long to refuse as a wrong password.
pub fn verify_nobody(password: &str) {
    static NOBODY: LazyLock<Option<String>> =
        LazyLock::new(|| hash("no staff member has this password").ok());
    if let Some(phc) = NOBODY.as_deref() {
        let _ = verify(password, phc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_with_their_own_salt() {
        let first = hash("correct horse").unwrap();
        let second = hash("correct horse").unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "a fresh salt each time");
        assert!(verify("correct horse", &first));
        assert!(verify("correct horse", &second));
        assert!(!verify("correct horsf", &first));
        assert!(!verify("correct horse", "not a phc string"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(hash("7-chars"), Err(PasswordError::TooShort)));
        assert!(hash("8-chars!").is_ok());
        // Characters, not bytes: four kanji are 12 bytes but too short.
        assert!(matches!(hash("救急救命"), Err(PasswordError::TooShort)));
    }
}
