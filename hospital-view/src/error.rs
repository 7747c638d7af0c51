//! Errors: the crate's internal [`Error`], and how a handler's failure becomes a response.
//!
//! JSON routes answer with [`AppError`] (an [`ErrorBody`] with a stable code); HTML routes
//! answer with [`PageError`] (a small bilingual page). Either way the client gets a short
//! message without personal data and the details go to the log.

use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use myna_domain::wire::ErrorBody;

/// Internal errors of hospital-view. Never shown to clients verbatim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed (I/O error, disk full, ...).
    #[error("storage: {0}")]
    Storage(#[from] rusqlite::Error),
    /// JSON encoding or decoding of a stored notice failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// File-system or socket error.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A stored value could not be decoded; the message names the column, not the value.
    #[error("stored data corrupt: {0}")]
    Corrupt(String),
    /// A lock was poisoned or a blocking task panicked.
    #[error("internal task failed")]
    Poisoned,
    /// Invalid configuration.
    #[error("config: {0}")]
    Config(String),
}

/// Result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// JSON body extractor whose rejections are [`AppError`]s (JSON error bodies, 4xx).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Everything a JSON handler can answer besides success.
#[derive(Debug)]
pub enum AppError {
    /// No or wrong bearer token.
    Unauthorized,
    /// The body could not be read as the expected JSON.
    InvalidBody {
        /// 400, 413, 415 or 422 as axum decided.
        status: StatusCode,
        /// What was wrong, in general terms: never echoes the body.
        message: &'static str,
    },
    /// Storage failed (disk full, I/O error): nothing was stored.
    Storage(Error),
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        // serde's messages can quote field values (names, drugs): keep them out of the
        // response and the log; say only what kind of problem it was.
        let message = match &rejection {
            JsonRejection::JsonDataError(_) => "body does not match the arrival notice schema",
            JsonRejection::JsonSyntaxError(_) => "body is not valid JSON",
            JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json",
            JsonRejection::BytesRejection(_) => "could not read the request body",
            _ => "invalid request body",
        };
        AppError::InvalidBody {
            status: rejection.status(),
            message,
        }
    }
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
            AppError::InvalidBody { status, message }
                if status == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                (status, "body_too_large", message)
            }
            AppError::InvalidBody { status, message } => (status, "invalid_body", message),
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
            PageError::NotFound => (StatusCode::NOT_FOUND, crate::render::not_found_page()),
            PageError::SignIn { next } => {
                let location = format!("/sign-in?next={}", crate::routes::encode_query(&next));
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
            PageError::Forbidden => (StatusCode::FORBIDDEN, crate::render::forbidden_page()),
            PageError::AlreadyAnswered => {
                (StatusCode::CONFLICT, crate::render::already_answered_page())
            }
            PageError::Storage(error) => {
                tracing::error!(%error, "storage failure while rendering a page");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    crate::render::unavailable_page(),
                )
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
                crate::render::content_security_policy(),
            ),
        ],
        Html(page.into_string()),
    )
        .into_response()
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
}
