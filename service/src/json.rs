//! JSON request and response bodies of a service's API, with one rule for a body that
//! cannot be read: the client gets a status, a stable code and a short fixed message
//! ([`BodyRejection`]); serde's own message, which can quote the offending value (a name,
//! a drug), goes nowhere.
//!
//! The service keeps its own error body: its router state implements [`ApiState`], naming
//! its HTTP error, and [`ApiJson`]'s rejection is that error, made `From<BodyRejection>`.
//!
//! # Example
//! ```
//! use axum::response::{IntoResponse, Response};
//! use myna_service::json::{ApiJson, ApiState, BodyRejection};
//!
//! #[derive(Clone)]
//! struct State;
//!
//! struct AppError(BodyRejection);
//!
//! impl From<BodyRejection> for AppError {
//!     fn from(rejection: BodyRejection) -> Self {
//!         AppError(rejection)
//!     }
//! }
//!
//! impl IntoResponse for AppError {
//!     fn into_response(self) -> Response {
//!         (self.0.status, format!("{}: {}", self.0.code, self.0.message)).into_response()
//!     }
//! }
//!
//! impl ApiState for State {
//!     type Error = AppError;
//! }
//!
//! async fn echo(ApiJson(value): ApiJson<serde_json::Value>) -> ApiJson<serde_json::Value> {
//!     ApiJson(value)
//! }
//!
//! let app: axum::Router = axum::Router::new()
//!     .route("/echo", axum::routing::post(echo))
//!     .with_state(State);
//! ```

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// Code of a refused body: not JSON, not the expected fields, wrong content type.
pub const INVALID_BODY: &str = "invalid_body";
/// Code of a body over the route's size limit (413).
pub const BODY_TOO_LARGE: &str = "body_too_large";

/// The router state of a service whose handlers read [`ApiJson`] bodies: it names the
/// service's HTTP error, which a refused body becomes.
pub trait ApiState: Send + Sync {
    /// The service's HTTP error (its JSON error body).
    type Error: From<BodyRejection> + IntoResponse;
}

/// A request body the service refused: what the client is told, never quoting the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRejection {
    /// 400, 413, 415 or 422 as axum decided (or 422 for [`BodyRejection::invalid`]).
    pub status: StatusCode,
    /// [`BODY_TOO_LARGE`] for 413, else [`INVALID_BODY`].
    pub code: &'static str,
    /// What was wrong, in general terms.
    pub message: &'static str,
}

impl BodyRejection {
    /// A well-formed body the handler refuses (422 `invalid_body`): `message` says why.
    pub fn invalid(message: &'static str) -> Self {
        BodyRejection {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: INVALID_BODY,
            message,
        }
    }
}

impl From<JsonRejection> for BodyRejection {
    fn from(rejection: JsonRejection) -> Self {
        let message = match &rejection {
            JsonRejection::JsonSyntaxError(_) => "body is not valid JSON",
            JsonRejection::JsonDataError(_) => "body does not have the expected fields and types",
            JsonRejection::MissingJsonContentType(_) => "content-type must be application/json",
            _ => "body could not be read (too large or interrupted)",
        };
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            BODY_TOO_LARGE
        } else {
            INVALID_BODY
        };
        BodyRejection {
            status,
            code,
            message,
        }
    }
}

/// A JSON body: as an extractor, refused bodies answer with the state's
/// [`ApiState::Error`]; as a response, `T` serialized with `Content-Type: application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: ApiState,
{
    type Rejection = S::Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(BodyRejection::from(rejection).into()),
        }
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::http::header;
    use tower::ServiceExt;

    #[derive(Clone)]
    struct State;

    /// The test service's error: the rejection as `code|message`.
    struct Refused(BodyRejection);

    impl From<BodyRejection> for Refused {
        fn from(rejection: BodyRejection) -> Self {
            Refused(rejection)
        }
    }

    impl IntoResponse for Refused {
        fn into_response(self) -> Response {
            (self.0.status, format!("{}|{}", self.0.code, self.0.message)).into_response()
        }
    }

    impl ApiState for State {
        type Error = Refused;
    }

    #[derive(serde::Deserialize, serde::Serialize)]
    #[serde(deny_unknown_fields)]
    struct Greeting {
        name: String,
    }

    async fn post(content_type: &str, body: &str) -> (StatusCode, String) {
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::post(|ApiJson(g): ApiJson<Greeting>| async move { ApiJson(g) }),
            )
            .layer(DefaultBodyLimit::max(64))
            .with_state(State);
        let request = axum::http::Request::post("/")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn bodies_are_read_and_written_as_json() {
        let answer = post("application/json", r#"{"name":"a"}"#).await;
        assert_eq!(answer, (StatusCode::OK, r#"{"name":"a"}"#.to_string()));
    }

    #[tokio::test]
    async fn refused_bodies_get_a_stable_code_and_never_quote_the_body() {
        let cases = [
            (
                "application/json",
                "{",
                StatusCode::BAD_REQUEST,
                INVALID_BODY,
            ),
            (
                "application/json",
                r#"{"name":"山田","x":1}"#,
                StatusCode::UNPROCESSABLE_ENTITY,
                INVALID_BODY,
            ),
            (
                "text/plain",
                r#"{"name":"a"}"#,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                INVALID_BODY,
            ),
            (
                "application/json",
                &format!(r#"{{"name":"{}"}}"#, "x".repeat(100)),
                StatusCode::PAYLOAD_TOO_LARGE,
                BODY_TOO_LARGE,
            ),
        ];
        for (content_type, body, status, code) in cases {
            let (got_status, text) = post(content_type, body).await;
            assert_eq!(got_status, status, "{body}");
            assert!(text.starts_with(&format!("{code}|")), "{text}");
            assert!(!text.contains("山田") && !text.contains("xxx"), "{text}");
        }
    }

    #[test]
    fn a_handler_refusal_is_422_invalid_body() {
        let refusal = BodyRejection::invalid("ids differ");
        assert_eq!(refusal.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            (refusal.code, refusal.message),
            (INVALID_BODY, "ids differ")
        );
    }
}
