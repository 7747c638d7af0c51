//! The edge's tracing span of every request: its request id and, on incident routes, the
//! incident id — ids only, never the query string or anything personal. The request id's
//! handling is shared with hospital-view (`myna_service::request_id`); the span is the
//! edge's own for its incident id.
//!
//! The request id is the caller's `x-request-id` when it is a plain token (at most
//! [`MAX_REQUEST_ID_LEN`] letters, digits, `-`, `_`, `.`, `:`), else a new UUID
//! (tower-http's `SetRequestIdLayer`); the answer carries it back
//! (`PropagateRequestIdLayer`), so a client can quote it and an operator find its lines.

use tracing::Span;

pub use myna_service::request_id::{MAX_REQUEST_ID_LEN, REQUEST_ID, drop_unusable_request_id};
use myna_service::request_id::{request_id_of, route_of};

/// The incident id in `path` when its route template is an incident's
/// (`/v1/incidents/{id}/…`) and the id is a UUID, as incident ids are.
pub fn incident_id(template: &str, path: &str) -> Option<uuid::Uuid> {
    let rest = template.strip_prefix("/v1/incidents/{id}")?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let id = path.strip_prefix("/v1/incidents/")?.split('/').next()?;
    uuid::Uuid::parse_str(id).ok()
}

/// The span: method, route template, path (ids only: the query string is left out),
/// request id, and incident id on incident routes.
pub fn span<B>(request: &axum::http::Request<B>) -> Span {
    let route = route_of(request);
    let path = request.uri().path();
    let incident = route.and_then(|route| incident_id(route, path));
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route.unwrap_or("-"),
        path = %path,
        request_id = %request_id_of(request),
        incident_id = incident.map(tracing::field::display),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_incident_id_comes_from_incident_routes_only() {
        let id = "0190a0b0-0000-7000-8000-000000000001";
        let on = |template: &str, path: String| incident_id(template, &path);
        let expected = uuid::Uuid::parse_str(id).ok();
        assert_eq!(
            on(
                "/v1/incidents/{id}/summary",
                format!("/v1/incidents/{id}/summary")
            ),
            expected
        );
        assert_eq!(
            on(
                "/v1/incidents/{id}/consent",
                format!("/v1/incidents/{id}/consent")
            ),
            expected
        );
        assert_eq!(on("/v1/incidents", "/v1/incidents".into()), None);
        assert_eq!(on("/v1/handoffs/{id}", format!("/v1/handoffs/{id}")), None);
        assert_eq!(
            on(
                "/v1/incidents/{id}/summary",
                "/v1/incidents/not-a-uuid/summary".into()
            ),
            None
        );
    }
}
