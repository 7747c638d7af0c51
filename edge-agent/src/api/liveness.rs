//! The probes: `GET /healthz` (the process is up) and `GET /readyz` (it can serve).

use axum::extract::State;

use crate::state::AppState;

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: whether the edge can serve, check by check ([`crate::health`]).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready: `{\"ready\": true, \"checks\": [{\"name\": \"database\", \"ok\": true}, ...]}` (checks `database`, `checkpoint`, `card_crls`, `outbox`)", content_type = "application/json"),
        (status = 503, description = "Not ready: the same body, `ready: false`, the failed checks `ok: false`", content_type = "application/json"),
    ))]
pub(super) async fn readyz(State(state): State<AppState>) -> myna_service::metrics::Readiness {
    crate::health::readiness(&state).await
}
