//! Disaster declarations (disaster mode).
//!
//! | Route | Caller | Answer |
//! |---|---|---|
//! | `POST /v1/disasters` | operator | 201 the declaration; 422 on a bad area or period |
//! | `GET /v1/disasters` | operator | every declaration, newest first |
//! | `GET /v1/disasters/active` | tablet | the declarations covering the tablet's area now: while one is listed, the crew may identify by the four basic facts |

use axum::extract::State;
use axum::http::StatusCode;
use myna_domain::disaster::{DeclareDisasterRequest, DisasterDeclaration, DisasterList};

use super::auth::Device;
use super::auth::Operator;
use super::error::{ApiJson, AppError};
use crate::state::AppState;
use myna_domain::wire::ErrorBody;

/// Declares a disaster: basic-facts identification becomes allowed in its area and period.
#[utoipa::path(post, path = "/v1/disasters", tag = "disasters", request_body = DeclareDisasterRequest,
    responses(
        (status = 201, description = "The declaration", body = DisasterDeclaration),
        (status = 422, description = "`declaration_invalid` (area or period) or an unreadable body", body = ErrorBody)))]
pub(super) async fn declare(
    State(state): State<AppState>,
    _operator: Operator,
    ApiJson(request): ApiJson<DeclareDisasterRequest>,
) -> Result<(StatusCode, ApiJson<DisasterDeclaration>), AppError> {
    request
        .validate()
        .map_err(|message| AppError::Invalid("declaration_invalid", message))?;
    let declared = DisasterDeclaration {
        id: uuid::Uuid::now_v7(),
        name: request.name.trim().to_string(),
        area: request.area,
        starts_at: request.starts_at,
        ends_at: request.ends_at,
    };
    let (stored, now) = (declared.clone(), state.clock.now());
    state
        .store
        .write(move |tx| tx.insert_disaster(&stored, now))
        .await?;
    tracing::warn!(disaster = %declared.id, area = declared.area.as_str(), "disaster declared: basic-facts identification allowed in its area");
    Ok((StatusCode::CREATED, ApiJson(declared)))
}

/// Every declaration, newest first.
#[utoipa::path(get, path = "/v1/disasters", tag = "disasters", operation_id = "list_disasters",
    responses((status = 200, description = "Every declaration, newest first", body = DisasterList)))]
pub(super) async fn list(
    State(state): State<AppState>,
    _operator: Operator,
) -> Result<ApiJson<DisasterList>, AppError> {
    let disasters = state.store.read(|tx| tx.disasters()).await?;
    Ok(ApiJson(DisasterList { disasters }))
}

/// The declarations covering the tablet's area now.
#[utoipa::path(get, path = "/v1/disasters/active", tag = "disasters",
    responses((status = 200, description = "Declarations covering the tablet's area now: while one is listed, the crew may identify by the four basic facts", body = DisasterList)))]
pub(super) async fn active(
    State(state): State<AppState>,
    Device(device): Device,
) -> Result<ApiJson<DisasterList>, AppError> {
    let now = state.clock.now();
    let disasters = state
        .store
        .read(move |tx| tx.disasters_covering(&device.area, now))
        .await?;
    Ok(ApiJson(DisasterList { disasters }))
}
