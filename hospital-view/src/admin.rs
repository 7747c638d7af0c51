//! Staff account administration (`hospital-view admin ...`): add, disable, enable, list,
//! reset a second factor, unlock, and the record of every such action with who did it.
//!
//! Each command opens the hospital's database beside the running service (SQLite WAL and a
//! busy timeout: the service keeps serving) and writes its change and its `admin_actions`
//! row in one transaction ([`crate::store::Store::admin_add_staff`] and the others).
//! Credentials are made here: a generated password (or one the administrator gives) and
//! a fresh random TOTP secret, shown once as an `otpauth://` URI for the staff member's
//! authenticator app; only the Argon2id hash and the sealed secret are stored.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};
use crate::staff::password;
use crate::store::{Actor, NewStaff, Store};

/// Bytes of a generated password (24 characters of URL-safe base64: 144 bits).
const PASSWORD_BYTES: usize = 18;
/// Bytes of a TOTP secret (160 bits, RFC 4226's recommendation).
const TOTP_SECRET_BYTES: usize = 20;

/// What a new account (or a reset second factor) is given, shown to the administrator
/// once and never stored in the clear.
pub struct Issued {
    /// The password (`None` after `reset-totp`, which keeps it).
    pub password: Option<String>,
    /// The TOTP secret, base32.
    pub totp_secret: String,
    /// The secret as an `otpauth://totp/...` URI (authenticator apps read it, often as a QR
    /// code).
    pub otpauth_uri: String,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issued(<redacted>)")
    }
}

/// A new random password.
pub fn generate_password() -> String {
    let mut bytes = [0u8; PASSWORD_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new random TOTP secret, base32 without padding.
pub fn generate_totp_secret() -> String {
    let mut bytes = vec![0u8; TOTP_SECRET_BYTES];
    OsRng.fill_bytes(&mut bytes);
    match totp_rs::Secret::Raw(bytes).to_encoded() {
        totp_rs::Secret::Encoded(text) => text.trim_end_matches('=').to_string(),
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded encodes"),
    }
}

/// The `otpauth://` URI of `secret` for `staff_id` at `hospital` (the issuer).
pub fn otpauth_uri(hospital: &str, staff_id: &str, secret: &str) -> String {
    let issuer = percent_encode(&format!("myna {hospital}"));
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={}&period={}",
        percent_encode(staff_id),
        crate::staff::totp::DIGITS,
        crate::staff::totp::STEP_SECONDS,
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Refuses a staff id that is empty, too long or not plain ASCII (it is shown next to
/// every answer and typed at sign-in).
fn check_staff_id(id: &str) -> Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if id.is_empty() || id.len() > 64 || !id.chars().all(plain) {
        return Err(Error::Config(
            "--id: 1 to 64 ASCII letters, digits, '-', '_', '.' or '@'".into(),
        ));
    }
    Ok(())
}

/// Refuses a password an administrator gives that sign-in would not accept (fewer than
/// [`password::MIN_PASSWORD_CHARS`] characters) or that is published (the development
/// staff password).
fn check_given_password(given: &str) -> Result<()> {
    if given.chars().count() < password::MIN_PASSWORD_CHARS {
        return Err(Error::Config(format!(
            "--password-stdin: a staff password needs at least {} characters",
            password::MIN_PASSWORD_CHARS
        )));
    }
    if given == crate::staff::DEV_STAFF_PASSWORD {
        return Err(Error::Config(
            "--password-stdin: that is the published development password; choose another \
             (or leave out --password-stdin for a generated one)"
                .into(),
        ));
    }
    Ok(())
}

/// Adds account `id` named `name` for `hospital`, with `password` or a generated one and
/// a new TOTP secret; records the action. An error when the id exists.
pub fn add(
    store: &Store,
    actor: &Actor<'_>,
    hospital: &str,
    id: &str,
    name: &str,
    password: Option<String>,
) -> Result<Issued> {
    check_staff_id(id)?;
    if name.trim().is_empty() {
        return Err(Error::Config("--name: must not be empty".into()));
    }
    let password = match password {
        Some(given) => {
            check_given_password(&given)?;
            given
        }
        None => generate_password(),
    };
    let phc = password::hash(&password).map_err(|e| Error::Config(format!("password: {e}")))?;
    let totp_secret = generate_totp_secret();
    let added = store.admin_add_staff(
        &NewStaff {
            id,
            display_name: name.trim(),
            password_phc: &phc,
            totp_secret: &totp_secret,
        },
        actor,
    )?;
    if !added {
        return Err(Error::Config(format!("--id: the account {id} exists")));
    }
    Ok(Issued {
        password: Some(password),
        otpauth_uri: otpauth_uri(hospital, id, &totp_secret),
        totp_secret,
    })
}

/// Gives account `id` a new TOTP secret (the old one's codes stop working, its sessions
/// end); records the action.
pub fn reset_totp(store: &Store, actor: &Actor<'_>, hospital: &str, id: &str) -> Result<Issued> {
    let totp_secret = generate_totp_secret();
    if !store.admin_reset_totp(id, &totp_secret, actor)? {
        return Err(no_such(id));
    }
    Ok(Issued {
        password: None,
        otpauth_uri: otpauth_uri(hospital, id, &totp_secret),
        totp_secret,
    })
}

/// Disables (`true`) or enables account `id`; records the action.
pub fn set_disabled(store: &Store, actor: &Actor<'_>, id: &str, disabled: bool) -> Result<()> {
    if store.admin_set_disabled(id, disabled, actor)? {
        Ok(())
    } else {
        Err(no_such(id))
    }
}

/// Clears account `id`'s lock; records the action.
pub fn unlock(store: &Store, actor: &Actor<'_>, id: &str) -> Result<()> {
    if store.admin_unlock(id, actor)? {
        Ok(())
    } else {
        Err(no_such(id))
    }
}

fn no_such(id: &str) -> Error {
    Error::Config(format!(
        "--id: no account {id} (see `hospital-view admin list`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_credentials_are_strong_and_readable_by_apps() {
        let password = generate_password();
        assert_eq!(password.len(), 24);
        assert_ne!(password, generate_password());
        let secret = generate_totp_secret();
        assert_eq!(secret.len(), 32, "160 bits in base32");
        assert!(crate::staff::totp::TotpSecret::from_base32(&secret).is_some());
        let uri = otpauth_uri("hosp-1", "er nurse", &secret);
        assert!(uri.starts_with("otpauth://totp/myna%20hosp-1:er%20nurse?secret="));
        assert!(uri.contains("&digits=6&period=30"));
    }

    #[test]
    fn production_a_given_password_must_be_long_enough_and_not_published() {
        assert!(check_given_password("a-long-enough one").is_ok());
        for bad in ["", "short", "7-chars", crate::staff::DEV_STAFF_PASSWORD] {
            let error = check_given_password(bad).unwrap_err().to_string();
            assert!(error.contains("--password-stdin"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn staff_ids_are_plain() {
        assert!(check_staff_id("er-nurse.01@a").is_ok());
        for bad in ["", "a b", "名前", &"a".repeat(65)] {
            assert!(check_staff_id(bad).is_err(), "{bad:?}");
        }
    }
}
