//! `GET /sign-in`, `POST /sign-in`, `POST /sign-out`: staff id, password and TOTP code.
//!
//! Thin like every handler: the rules are [`crate::staff`]'s, the state is the store's.
//! Every refusal — unknown id, wrong password, wrong or replayed code, locked, disabled,
//! stale — answers the same 401 page; only the log (staff id, never the password or code)
//! says which.

use axum::Extension;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use myna_service::tls::TlsPeer;
use myna_service::token::{new_token, token_hash};
use serde::Deserialize;

use crate::error::Error;
use crate::http_error::{PageError, html};
use crate::render;
use crate::session::SESSION_COOKIE;
use crate::staff::totp::TotpSecret;
use crate::staff::{Gate, password};
use crate::state::AppState;
use crate::store::NewSession;

/// A return path after sign-in: local paths only (no `//host`, no scheme).
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// `GET /sign-in?next=`.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    next: Option<String>,
}

pub(crate) async fn sign_in_page(Query(query): Query<SignInQuery>) -> Response {
    html(render::sign_in_page(
        &local_path(query.next.as_deref()),
        false,
    ))
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    staff_id: String,
    password: String,
    /// The 6-digit TOTP code (missing counts as wrong).
    #[serde(default)]
    code: String,
    next: Option<String>,
}

/// Runs Argon2 off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Error::Poisoned)
}

/// Counts a refused sign-in in `hospital_staff_sign_in_failures_total{reason}`: a fixed
/// word, never the staff id typed.
fn failed(reason: &'static str) {
    metrics::counter!("hospital_staff_sign_in_failures_total", "reason" => reason).increment(1);
}

pub(crate) async fn sign_in(
    State(state): State<AppState>,
    tls: Option<Extension<TlsPeer>>,
    jar: CookieJar,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    let next = local_path(form.next.as_deref());
    let refused = || {
        (
            StatusCode::UNAUTHORIZED,
            html(render::sign_in_page(&next, true)),
        )
            .into_response()
    };
    let now = state.now();
    let policy = state.config().sign_in.clone();
    let staff_id = form.staff_id.trim().to_string();
    let id = staff_id.clone();
    let Some(account) = state.store().run(move |s| s.staff_account(&id)).await? else {
        // As slow as a wrong password, so response time does not tell which ids exist.
        let typed = form.password;
        blocking(move || password::verify_nobody(&typed)).await?;
        tracing::info!("staff sign-in refused: unknown staff id");
        failed("unknown_staff");
        return Ok(refused());
    };
    match policy.gate(&account.status, now) {
        Gate::Open => {}
        Gate::Locked => {
            tracing::warn!(staff = %account.id, "staff sign-in refused: account locked");
            failed("locked");
            return Ok(refused());
        }
        Gate::Disabled => {
            tracing::warn!(staff = %account.id, "staff sign-in refused: account disabled");
            failed("disabled");
            return Ok(refused());
        }
        Gate::Stale => {
            let id = account.id.clone();
            state.store().run(move |s| s.disable_staff(&id)).await?;
            tracing::warn!(staff = %account.id, "staff account disabled: not signed in for too long");
            failed("stale");
            return Ok(refused());
        }
    }
    let (typed, phc) = (form.password, account.password_phc.clone());
    let password_ok = blocking(move || password::verify(&typed, &phc)).await?;
    // The code is checked whatever the password, so both failures take the same path.
    let step = TotpSecret::from_base32(&account.totp_secret)
        .and_then(|secret| secret.verify(&form.code, now, account.last_totp_step));
    let signed_in = match (password_ok, step) {
        (true, Some(step)) => {
            let token = new_token();
            let hash = token_hash(&token);
            let id = account.id.clone();
            let stored = state
                .store()
                .run(move |s| {
                    s.record_sign_in(
                        &id,
                        step,
                        &NewSession {
                            token_sha256: &hash,
                            now,
                            expires_at: now + policy.session_lifetime,
                            idle_cutoff: now - policy.session_idle,
                        },
                    )
                })
                .await?;
            stored.then_some(token)
        }
        _ => None,
    };
    let Some(token) = signed_in else {
        let (id, policy) = (account.id.clone(), state.config().sign_in.clone());
        let locked = state
            .store()
            .run(move |s| s.record_sign_in_failure(&id, now, &policy))
            .await?;
        failed("bad_credentials");
        match locked {
            Some(until) => {
                metrics::counter!("hospital_staff_lockouts_total").increment(1);
                tracing::warn!(staff = %account.id, %until, "staff sign-in refused; account locked")
            }
            None => tracing::info!(staff = %account.id, "staff sign-in refused"),
        }
        return Ok(refused());
    };
    tracing::info!(staff = %account.id, "staff signed in");
    // Over TLS the browser must never send the session over plain HTTP.
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .secure(tls.is_some())
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .build();
    Ok((jar.add(cookie), Redirect::to(&next)).into_response())
}

pub(crate) async fn sign_out(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, PageError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        let hash = token_hash(cookie.value());
        state.store().run(move |s| s.delete_session(&hash)).await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/sign-in")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/arrivals/x?y=1")), "/arrivals/x?y=1");
        for bad in ["//evil.example", "https://evil.example", "evil", "/\\evil"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(local_path(None), "/");
    }
}
