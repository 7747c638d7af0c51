//! How a handler's failure becomes a response.
//!
//! JSON routes answer with [`AppError`] (an [`ErrorBody`] with a stable code); HTML routes
//! answer with [`PageError`] (a small bilingual page). Either way the client gets a short
//! message without personal data and the details go to the log.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use myna_domain::wire::ErrorBody;
use myna_service::json::{ApiState, BodyRejection};

use crate::error::Error;
use crate::render;
use crate::state::AppState;

/// Everything a JSON handler can answer besides success.
#[derive(Debug)]
pub enum AppError {
    /// No or wrong bearer token.
    Unauthorized,
    /// The body could not be read as the expected JSON, or names another handoff.
    InvalidBody(BodyRejection),
    /// Storage failed (disk full, I/O error): nothing was stored.
    Storage(Error),
}

impl From<BodyRejection> for AppError {
    fn from(rejection: BodyRejection) -> Self {
        AppError::InvalidBody(rejection)
    }
}

/// JSON bodies ([`ApiJson`](myna_service::json::ApiJson)) that cannot be read answer with
/// an [`AppError`].
impl ApiState for AppState {
    type Error = AppError;
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError::Storage(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            AppError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong bearer token",
            ),
            AppError::InvalidBody(BodyRejection {
                status,
                code,
                message,
            }) => (status, code, message),
            AppError::Storage(error) => {
                tracing::error!(%error, "storage failure; request refused");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "arrival storage temporarily unavailable",
                )
            }
        };
        if status.is_client_error() {
            tracing::info!(%status, code, "request refused");
        }
        let body = ErrorBody {
            code: code.to_string(),
            message: message.to_string(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// Everything an HTML handler can answer besides a page.
#[derive(Debug)]
pub enum PageError {
    /// No such arrival.
    NotFound,
    /// Not signed in, or the session expired: go to the sign-in page, then back to `next`.
    SignIn {
        /// The path to return to (always a local path).
        next: String,
    },
    /// Not signed in, on a route a browser does not navigate to (the event stream).
    Unauthorized,
    /// A form posted from another site.
    Forbidden,
    /// The arrival was already answered differently, or withdrawn by the crew.
    AlreadyAnswered,
    /// Storage failed.
    Storage(Error),
}

impl From<Error> for PageError {
    fn from(error: Error) -> Self {
        PageError::Storage(error)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, page) = match self {
            PageError::NotFound => (StatusCode::NOT_FOUND, render::not_found_page()),
            PageError::SignIn { next } => {
                let location = format!("/sign-in?next={}", encode_query(&next));
                return (
                    StatusCode::SEE_OTHER,
                    [
                        (header::LOCATION, location),
                        (header::CACHE_CONTROL, "no-store".into()),
                    ],
                )
                    .into_response();
            }
            PageError::Unauthorized => return StatusCode::UNAUTHORIZED.into_response(),
            PageError::Forbidden => (StatusCode::FORBIDDEN, render::forbidden_page()),
            PageError::AlreadyAnswered => (StatusCode::CONFLICT, render::already_answered_page()),
            PageError::Storage(error) => {
                tracing::error!(%error, "storage failure while rendering a page");
                (StatusCode::SERVICE_UNAVAILABLE, render::unavailable_page())
            }
        };
        (status, html(page)).into_response()
    }
}

/// An HTML response that browsers and proxies must not store (it holds patient data).
pub fn html(page: maud::Markup) -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // `same-origin`, not `no-referrer`: with no referrer policy browsers send `Origin: null`
            // on form posts, and the answer form checks the origin.
            (header::REFERRER_POLICY, "same-origin"),
            (
                header::CONTENT_SECURITY_POLICY,
                render::content_security_policy(),
            ),
        ],
        Html(page.into_string()),
    )
        .into_response()
}

/// Percent-encodes `text` for a query string value (everything but unreserved bytes).
pub fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_are_503_with_a_stable_code_and_no_detail() {
        let response =
            AppError::Storage(Error::Corrupt("notice_json of abc".into())).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let response = AppError::Unauthorized.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode_query("/arrivals/a b?x=1&y"),
            "%2Farrivals%2Fa%20b%3Fx%3D1%26y"
        );
    }
}
