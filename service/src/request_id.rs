//! The request id every service logs a request with: the caller's `x-request-id` when it
//! is a plain token (at most [`MAX_REQUEST_ID_LEN`] letters, digits, `-`, `_`, `.`, `:`),
//! else a new UUID. A service's router removes an unusable one with
//! [`drop_unusable_request_id`] (outermost), then lets tower-http's `SetRequestIdLayer`
//! make a new one and `PropagateRequestIdLayer` carry it back, so a client can quote it
//! and an operator find its lines. [`span`] is the request's tracing span.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use tracing::Span;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a caller.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether a caller's request id can go into log lines as it is: a plain short token.
pub fn usable(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// Removes a caller's request id that is not a plain short token, so a new one is made:
/// what the caller sends goes into every log line of the request. Async for
/// `axum::middleware::map_request`.
#[allow(clippy::unused_async)]
pub async fn drop_unusable_request_id(mut request: Request) -> Request {
    if let Some(value) = request.headers().get(&REQUEST_ID)
        && !usable(value.as_bytes())
    {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// The request's id as the request-id layer left it (`-` before it ran).
pub fn request_id_of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
}

/// The route template the request matched, if any.
pub fn route_of<B>(request: &axum::http::Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
}

/// The request's span `request`: method, route template, request id. Never the path's
/// values or the query string (they may carry ids a caller typed).
pub fn span<B>(request: &axum::http::Request<B>) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route_of(request).unwrap_or("-"),
        request_id = %request_id_of(request),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_short_tokens_are_usable() {
        for good in ["abc", "0190a0b0-0000-7000-8000-000000000001", "a.b:c_d"] {
            assert!(usable(good.as_bytes()), "{good}");
        }
        let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        for bad in ["", "a b", "a\nb", "名前", "x=1&y", long.as_str()] {
            assert!(!usable(bad.as_bytes()), "{bad:?}");
        }
        assert!(usable("a".repeat(MAX_REQUEST_ID_LEN).as_bytes()));
    }
}
