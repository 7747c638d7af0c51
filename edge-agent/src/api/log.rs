//! The access log's public face: its key, its newest signed checkpoint, and proofs.
//!
//! These carry hashes only, never an entry's content, so anyone may fetch them: a tablet
//! checking the log did not fork, a patient checking an entry, an auditor.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use myna_domain::wire::{ConsistencyProofDto, ErrorBody, proof_strings};
use serde::Deserialize;

use super::error::{ApiJson, ApiQuery, AppError};
use super::wire::InclusionProofDto;
use crate::state::AppState;

const TEXT: [(header::HeaderName, &str); 1] = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];

/// `GET /v1/log/key`: the verifier key (`name+id+base64`) on the first line; after a key
/// rotation, the former keys on the lines after it, newest first (checkpoints signed
/// before the rotation open with those). `LogVerifier::new` takes the whole answer.
#[utoipa::path(get, path = "/v1/log/key", tag = "log",
    responses((status = 200, description = "The current verifier key (`name+id+base64`) on the first line, then former keys after a rotation, newest first", body = String, content_type = "text/plain")))]
pub(super) async fn key(State(state): State<AppState>) -> impl IntoResponse {
    let current = state.log_signer.verifier_key();
    let mut text = format!("{current}\n");
    for former in state.log_keys.key().lines().rev() {
        if former != current {
            text.push_str(former);
            text.push('\n');
        }
    }
    (TEXT, text)
}

/// `GET /v1/log/checkpoint`: the newest signed checkpoint (c2sp signed note). Signs one
/// first if the log grew since, so a reader never waits a whole interval; an unchanged
/// log is answered from the read connection without queueing work on the writer.
#[utoipa::path(get, path = "/v1/log/checkpoint", tag = "log",
    responses(
        (status = 200, description = "The newest signed checkpoint (c2sp.org signed note)", body = String, content_type = "text/plain"),
        (status = 404, description = "`log_empty`", body = ErrorBody)))]
pub(super) async fn checkpoint(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, AppError> {
    let current = state
        .store
        .read(|tx| {
            let latest = tx.latest_checkpoint()?;
            let grown = tx.tree_size()? > latest.as_ref().map_or(0, |c| c.tree_size);
            Ok((!grown).then_some(latest))
        })
        .await?;
    let latest = match current {
        Some(latest) => latest,
        None => crate::transparency::publish(&state).await?,
    };
    let checkpoint = latest.ok_or(AppError::NotFound("log_empty"))?;
    Ok((TEXT, checkpoint.note))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InclusionQuery {
    /// Entry index (0-based).
    index: u64,
    /// Size of the tree to prove against.
    tree_size: u64,
}

/// `GET /v1/log/proof/inclusion?index=&tree_size=`.
#[utoipa::path(get, path = "/v1/log/proof/inclusion", tag = "log", params(InclusionQuery),
    responses(
        (status = 200, description = "The audit path of one entry", body = InclusionProofDto),
        (status = 422, description = "`proof_out_of_range` or `invalid_query`", body = ErrorBody)))]
pub(super) async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<ApiJson<InclusionProofDto>, AppError> {
    let (index, size) = (query.index, query.tree_size);
    let proof = state
        .store
        .read(move |tx| tx.inclusion_proof(index, size))
        .await?
        .map_err(|_| {
            AppError::Invalid(
                "proof_out_of_range",
                "index must be below tree_size, and tree_size at most the log's size",
            )
        })?;
    Ok(ApiJson(InclusionProofDto {
        index,
        tree_size: size,
        hashes: proof_strings(&proof),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ConsistencyQuery {
    /// Older tree size.
    from: u64,
    /// Newer tree size.
    to: u64,
}

/// `GET /v1/log/proof/consistency?from=&to=`.
#[utoipa::path(get, path = "/v1/log/proof/consistency", tag = "log", params(ConsistencyQuery),
    responses(
        (status = 200, description = "Proof that the tree of `to` entries extends that of `from`", body = ConsistencyProofDto),
        (status = 422, description = "`proof_out_of_range` or `invalid_query`", body = ErrorBody)))]
pub(super) async fn consistency(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<ApiJson<ConsistencyProofDto>, AppError> {
    let (from, to) = (query.from, query.to);
    let proof = state
        .store
        .read(move |tx| tx.consistency_proof(from, to))
        .await?
        .map_err(|_| {
            AppError::Invalid(
                "proof_out_of_range",
                "from must be at most to, and to at most the log's size",
            )
        })?;
    Ok(ApiJson(ConsistencyProofDto {
        from,
        to,
        hashes: proof_strings(&proof),
    }))
}
