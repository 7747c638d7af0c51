//! `GET /v1/auth-denials?limit=` (privacy officer or operator): the newest refused
//! requests from the security log, newest first — who (role and id), which route, why.

use axum::Extension;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::authz::{Principal, Role};
use super::error::{ApiJson, ApiQuery, AppError};
use crate::state::AppState;
use crate::store::AuthDenial;
use myna_domain::wire::ErrorBody;

/// Rows unless asked otherwise, and the most at once.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1_000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct DenialsQuery {
    /// Rows, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// The answer.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct Denials {
    /// Refused requests, newest first.
    denials: Vec<AuthDenial>,
}

/// The newest refused requests from the security log, newest first.
#[utoipa::path(get, path = "/v1/auth-denials", tag = "review", operation_id = "list_auth_denials", params(DenialsQuery),
    responses(
        (status = 200, description = "The newest refused requests, newest first", body = Denials),
        (status = 422, description = "`limit_invalid` or `invalid_query`", body = ErrorBody)))]
pub(super) async fn list(
    State(state): State<AppState>,
    Extension(principal): Extension<Principal>,
    ApiQuery(query): ApiQuery<DenialsQuery>,
) -> Result<ApiJson<Denials>, AppError> {
    // The route table admits these two roles only; refuse anyone else here as well.
    if !matches!(principal.role(), Role::PrivacyOfficer | Role::Operator) {
        return Err(AppError::Forbidden);
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::Invalid(
            "limit_invalid",
            "limit must be 1 to 1000",
        ));
    }
    let denials = state.store.read(move |tx| tx.auth_denials(limit)).await?;
    Ok(ApiJson(Denials { denials }))
}
