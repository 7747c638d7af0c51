//! Staff accounts (職員アカウント) and the sign-in rules, free of I/O.
//!
//! An account lives in the hospital's SQLite file (`staff_accounts`, see
//! [`crate::store`]): an Argon2id password hash ([`password`]), a TOTP secret
//! ([`totp`]), the count of consecutive failed sign-ins, a lock, the last sign-in and a
//! disabled flag. The handler (`crate::sign_in`) asks [`SignInPolicy::gate`] before it
//! checks anything, then checks password and code together, then records the outcome.
//!
//! # Rules
//! - A wrong password and a wrong code are the same failure, with the same answer.
//! - [`SignInPolicy::max_failures`] consecutive failures lock the account for
//!   [`SignInPolicy::first_lockout`]; each failure after that (once the lock ends) locks
//!   it again for twice as long, up to [`SignInPolicy::longest_lockout`]. A success resets
//!   the count. A locked account is refused without its password being checked.
//! - An account not signed in for [`SignInPolicy::stale_after`] (counted from its
//!   creation if it never signed in) is disabled, at its next sign-in attempt or by the
//!   periodic sweep, and its sessions end. Only an administrator re-enables it.
//! - Sessions end [`SignInPolicy::session_lifetime`] after sign-in (one shift) or after
//!   [`SignInPolicy::session_idle`] without a request (an open event stream counts).

pub mod password;
pub mod sealing;
pub mod totp;

use chrono::{DateTime, Duration, Utc};

/// Password of the development staff accounts (12 characters).
pub const DEV_STAFF_PASSWORD: &str = "dev-password";

/// The TOTP secret of the development staff accounts, base32 (add it to any
/// authenticator app, or compute codes with [`dev_totp_code`]). Development only: it is
/// published here.
pub const DEV_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The development accounts' TOTP code at `now`.
pub fn dev_totp_code(now: DateTime<Utc>) -> String {
    dev_totp_secret().code_at(u64::try_from(now.timestamp()).unwrap_or(0))
}

fn dev_totp_secret() -> totp::TotpSecret {
    totp::TotpSecret::from_base32(DEV_TOTP_SECRET).expect("the dev secret is valid base32")
}

/// A staff account to create at start if its id is not stored yet. The password is
/// hashed before it is stored; after that the database is the only source.
#[derive(Clone)]
pub struct StaffAccount {
    /// Staff id, written next to every answer.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Initial password (at least [`password::MIN_PASSWORD_CHARS`] characters).
    pub password: String,
    /// TOTP secret, base32.
    pub totp_secret: String,
}

impl std::fmt::Debug for StaffAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffAccount")
            .field("id", &self.id)
            .field("password", &"<redacted>")
            .field("totp_secret", &"<redacted>")
            .finish()
    }
}

/// The development staff accounts: `er-doctor` and `er-nurse`, password
/// [`DEV_STAFF_PASSWORD`], TOTP secret [`DEV_TOTP_SECRET`]. Loopback only (the binary
/// refuses other addresses).
pub fn dev_staff() -> Vec<StaffAccount> {
    [
        ("er-doctor", "救急医 ER doctor"),
        ("er-nurse", "救急看護師 ER nurse"),
    ]
    .into_iter()
    .map(|(id, name)| StaffAccount {
        id: id.into(),
        name: name.into(),
        password: DEV_STAFF_PASSWORD.into(),
        totp_secret: DEV_TOTP_SECRET.into(),
    })
    .collect()
}

/// The sign-in and session limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInPolicy {
    /// Consecutive failures that lock an account (5).
    pub max_failures: u32,
    /// The first lock (15 min); it doubles with each further failure.
    pub first_lockout: Duration,
    /// The longest lock (24 h).
    pub longest_lockout: Duration,
    /// A session's absolute lifetime (12 h: one shift).
    pub session_lifetime: Duration,
    /// A session ends after this long without a request (2 h: a wall screen keeps its
    /// event stream open, which counts, so only a closed screen times out).
    pub session_idle: Duration,
    /// Accounts not signed in for this long are disabled (90 days).
    pub stale_after: Duration,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            max_failures: 5,
            first_lockout: Duration::minutes(15),
            longest_lockout: Duration::hours(24),
            session_lifetime: Duration::hours(12),
            session_idle: Duration::hours(2),
            stale_after: Duration::days(90),
        }
    }
}

/// What the sign-in needs to know about an account before checking credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    /// Consecutive failed sign-ins.
    pub failed_attempts: u32,
    /// Refused until then.
    pub locked_until: Option<DateTime<Utc>>,
    /// The last successful sign-in, or the account's creation.
    pub last_active: DateTime<Utc>,
    /// Disabled (stale, or by an administrator).
    pub disabled: bool,
}

/// Whether credentials may be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check them.
    Open,
    /// Locked after failures: refuse without checking.
    Locked,
    /// Disabled: refuse.
    Disabled,
    /// Unused too long: disable it now, then refuse.
    Stale,
}

impl SignInPolicy {
    /// The gate for `account` at `now`.
    pub fn gate(&self, account: &AccountStatus, now: DateTime<Utc>) -> Gate {
        if account.disabled {
            Gate::Disabled
        } else if account.last_active <= self.stale_cutoff(now) {
            Gate::Stale
        } else if account.locked_until.is_some_and(|until| now < until) {
            Gate::Locked
        } else {
            Gate::Open
        }
    }

    /// Accounts last active at or before this are stale.
    pub fn stale_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.stale_after
    }

    /// How long to lock an account that has just reached `failures` consecutive
    /// failures: nothing below [`Self::max_failures`], then the first lockout doubling
    /// with each further failure, capped.
    pub fn lockout_after(&self, failures: u32) -> Option<Duration> {
        let beyond = failures.checked_sub(self.max_failures)?;
        let doubled = 2i32
            .checked_pow(beyond)
            .and_then(|factor| self.first_lockout.checked_mul(factor));
        Some(
            doubled
                .unwrap_or(self.longest_lockout)
                .min(self.longest_lockout),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, hour, 0, 0).unwrap()
    }

    fn status() -> AccountStatus {
        AccountStatus {
            failed_attempts: 0,
            locked_until: None,
            last_active: at(0),
            disabled: false,
        }
    }

    #[test]
    fn lockout_starts_at_five_failures_and_doubles_to_a_day() {
        let policy = SignInPolicy::default();
        let minutes = |n| policy.lockout_after(n).map(|d| d.num_minutes());
        assert_eq!(minutes(4), None);
        assert_eq!(minutes(5), Some(15));
        assert_eq!(minutes(6), Some(30));
        assert_eq!(minutes(7), Some(60));
        assert_eq!(minutes(11), Some(960));
        assert_eq!(minutes(12), Some(24 * 60), "1920 min capped at a day");
        assert_eq!(minutes(u32::MAX), Some(24 * 60));
    }

    #[test]
    fn gates_in_order_disabled_stale_locked() {
        let policy = SignInPolicy::default();
        assert_eq!(policy.gate(&status(), at(1)), Gate::Open);
        let locked = AccountStatus {
            locked_until: Some(at(2)),
            ..status()
        };
        assert_eq!(policy.gate(&locked, at(1)), Gate::Locked);
        assert_eq!(
            policy.gate(&locked, at(2)),
            Gate::Open,
            "the lock has ended"
        );
        let later = at(0) + Duration::days(90);
        assert_eq!(
            policy.gate(&status(), later - Duration::seconds(1)),
            Gate::Open
        );
        assert_eq!(policy.gate(&status(), later), Gate::Stale);
        let disabled = AccountStatus {
            disabled: true,
            ..locked
        };
        assert_eq!(policy.gate(&disabled, at(1)), Gate::Disabled);
    }

    #[test]
    fn dev_codes_come_from_the_published_secret() {
        let now = Utc.timestamp_opt(59, 0).unwrap();
        let secret = totp::TotpSecret::from_base32(DEV_TOTP_SECRET).unwrap();
        assert_eq!(dev_totp_code(now), secret.code_at(59));
        assert_eq!(dev_totp_code(now).len(), 6);
    }
}
