//! The second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30-second steps — what every
//! authenticator app uses by default), computed by the `totp-rs` crate.
//!
//! A code is accepted for the current step and one step either side (clock drift), and
//! only for a step later than the last one used on the account: a code seen over a
//! shoulder or replayed from a log cannot sign in a second time.

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, TOTP};

/// Digits in a code.
pub const DIGITS: usize = 6;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: u64 = 1;

/// A TOTP shared secret (the raw bytes, at least 128 bits).
#[derive(Clone)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// Reads an RFC 4648 base32 secret (as authenticator apps show it; no padding,
    /// spaces ignored); `None` if it is not base32 or shorter than 128 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect::<String>()
            .to_ascii_uppercase();
        let bytes = totp_rs::Secret::Encoded(compact).to_bytes().ok()?;
        Self::from_bytes(bytes)
    }

    /// A secret from raw bytes; `None` below 128 bits.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() >= 16).then_some(TotpSecret(bytes))
    }

    fn totp(&self, digits: usize) -> TOTP {
        TOTP::new_unchecked(Algorithm::SHA1, digits, 0, STEP_SECONDS, self.0.clone())
    }

    /// The code for the step holding `unix_seconds`.
    pub fn code_at(&self, unix_seconds: u64) -> String {
        self.totp(DIGITS).generate(unix_seconds)
    }

    /// Checks `code` at `now`: returns the step it matched when that step is within
    /// [`SKEW_STEPS`] of now and later than `last_used_step`.
    pub fn verify(
        &self,
        code: &str,
        now: DateTime<Utc>,
        last_used_step: Option<u64>,
    ) -> Option<u64> {
        let code = code.trim();
        let well_formed = code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit());
        let current = step_of(now);
        let mut matched = None;
        // Every candidate is computed and compared, matched or not.
        for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
            let expected = self.code_at(step * STEP_SECONDS);
            let equal = myna_service::constant_time_eq(expected.as_bytes(), code.as_bytes());
            let fresh = last_used_step.is_none_or(|last| step > last);
            if equal && fresh && well_formed && matched.is_none() {
                matched = Some(step);
            }
        }
        matched
    }
}

/// The TOTP step holding `t` (0 before 1970).
pub fn step_of(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0) / STEP_SECONDS
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    fn check(unix_seconds: u64, eight_digits: &str) {
        let secret = rfc_secret();
        assert_eq!(
            secret.totp(8).generate(unix_seconds),
            eight_digits,
            "8 digits at {unix_seconds}"
        );
        // Six digits are the same value modulo 10^6: the last six.
        assert_eq!(
            secret.code_at(unix_seconds),
            eight_digits[2..],
            "6 digits at {unix_seconds}"
        );
    }

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        check(59, "94287082");
        check(1_111_111_109, "07081804");
        check(1_111_111_111, "14050471");
        check(1_234_567_890, "89005924");
        check(2_000_000_000, "69279037");
        check(20_000_000_000, "65353130");
    }

    #[test]
    fn accepts_one_step_either_side_and_never_a_used_step() {
        let secret = rfc_secret();
        let now = Utc.timestamp_opt(1_111_111_111, 0).unwrap();
        let step = step_of(now);
        let code = |s: u64| secret.code_at(s * STEP_SECONDS);
        assert_eq!(secret.verify(&code(step), now, None), Some(step));
        assert_eq!(secret.verify(&code(step - 1), now, None), Some(step - 1));
        assert_eq!(secret.verify(&code(step + 1), now, None), Some(step + 1));
        assert_eq!(secret.verify(&code(step - 2), now, None), None);
        assert_eq!(secret.verify(&code(step + 2), now, None), None);
        // Replay: the step was used, and so was every earlier one.
        assert_eq!(secret.verify(&code(step), now, Some(step)), None);
        assert_eq!(secret.verify(&code(step - 1), now, Some(step)), None);
        assert_eq!(
            secret.verify(&code(step + 1), now, Some(step)),
            Some(step + 1)
        );
        for bad in ["", "12345", "1234567", "abcdef", "08180 "] {
            assert_eq!(secret.verify(bad, now, None), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_secrets_are_read_like_authenticator_apps_show_them() {
        let spaced = TotpSecret::from_base32("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap();
        assert_eq!(spaced.code_at(59), "287082");
        assert!(TotpSecret::from_base32("GEZDGNBV").is_none(), "40 bits");
        assert!(TotpSecret::from_base32("not base32!").is_none());
    }
}
