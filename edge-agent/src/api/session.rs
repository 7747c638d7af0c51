//! Portal sessions: the cookie that carries the token, and a new session about to be
//! stored (its token from `myna_service::token`, of which only the hash is stored). The
//! sign-in routes open sessions, `authz` and `rate_limit` read the cookie.

use axum_extra::extract::cookie::{Cookie, SameSite};
use chrono::{DateTime, Utc};
use myna_domain::identity::PatientId;
use myna_domain::wire::PortalSession;
use myna_service::token::{new_token, token_hash};

use crate::error::Result;
use crate::state::AppState;
use crate::store::Tx;

/// Cookie holding the portal session token.
pub const PORTAL_COOKIE: &str = "portal_session";

/// A session token about to be stored: the token for the patient, its hash for the table.
pub(super) struct NewSession {
    token: String,
    hash: String,
    expires_at: DateTime<Utc>,
}

impl NewSession {
    /// 32 random bytes, hex; expires after the configured portal session lifetime.
    pub(super) fn new(state: &AppState) -> Self {
        let token = new_token();
        NewSession {
            hash: token_hash(&token),
            token,
            expires_at: state.clock.now() + state.config.portal_session_ttl,
        }
    }

    /// Stores the session (its token's hash only) for `patient`.
    pub(super) fn store(&self, tx: &Tx<'_>, patient: &PatientId) -> Result<()> {
        tx.insert_portal_session(&self.hash, patient, self.expires_at)
    }

    /// What the client gets.
    pub(super) fn into_session(self) -> PortalSession {
        PortalSession {
            token: self.token,
            expires_at: self.expires_at,
        }
    }
}

/// The session cookie: script-free, same-site only, and `Secure` over TLS (a plain-HTTP
/// development edge could not set it back otherwise).
pub(super) fn session_cookie(token: String, over_tls: bool) -> Cookie<'static> {
    Cookie::build((PORTAL_COOKIE, token))
        .path("/portal")
        .http_only(true)
        .secure(over_tls)
        .same_site(SameSite::Strict)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_secure_exactly_over_tls() {
        for over_tls in [false, true] {
            let cookie = session_cookie("t0k3n".into(), over_tls).to_string();
            for attribute in [
                "portal_session=t0k3n",
                "HttpOnly",
                "SameSite=Strict",
                "Path=/portal",
            ] {
                assert!(cookie.contains(attribute), "{attribute} in {cookie}");
            }
            assert_eq!(cookie.contains("Secure"), over_tls, "{cookie}");
        }
    }
}
