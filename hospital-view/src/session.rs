//! A staff member's browser session: the cookie that carries its token, and the signed-in
//! [`Staff`] a page handler takes as an extractor. Only the token's SHA-256
//! ([`myna_service::token::token_hash`]) is stored; the sign-in handlers
//! (`sign_in`) issue and end sessions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use myna_service::token::token_hash;

use crate::error::Result;
use crate::http_error::PageError;
use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hv_session";

/// A signed-in staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Staff id.
    pub id: String,
    /// When the session ends at the latest (its idle timeout may end it sooner).
    pub expires_at: DateTime<Utc>,
    /// SHA-256 of the session token, hex (the event stream re-checks the session).
    pub(crate) token_sha256: String,
}

impl Staff {
    /// The staff member of the session `token_sha256` at `state`'s now, marking it used.
    pub(crate) async fn of_session(
        state: &AppState,
        token_sha256: String,
    ) -> Result<Option<Staff>> {
        let now = state.now();
        let idle_cutoff = now - state.config().sign_in.session_idle;
        let hash = token_sha256.clone();
        let found = state
            .store()
            .run(move |s| s.session_staff(&hash, now, idle_cutoff))
            .await?;
        Ok(found.map(|(id, expires_at)| Staff {
            id,
            expires_at,
            token_sha256,
        }))
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, PageError> {
        let rejection = || {
            if parts.uri.path() == "/events" {
                PageError::Unauthorized
            } else {
                PageError::SignIn {
                    next: parts
                        .uri
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_string(),
                }
            }
        };
        let Some(token) = CookieJar::from_headers(&parts.headers)
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_string())
        else {
            return Err(rejection());
        };
        Staff::of_session(state, token_hash(&token))
            .await?
            .ok_or_else(rejection)
    }
}
