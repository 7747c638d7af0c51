//! Patient portal routes: a patient sees who viewed their records (閲覧履歴), and only
//! theirs; checks each entry against the signed access log; and reports an entry they do
//! not recognise.
//!
//! An access id of another patient answers exactly like an unknown one (404
//! `access_not_found`), so the portal never tells whether an id exists.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use myna_domain::access::AccessRecordId;
use myna_domain::identity::PatientId;
use myna_domain::transparency::{
    Checkpoint, Hash, LogError, hash_to_base64, leaf_hash, verify_inclusion,
};
use myna_domain::wire::{
    DevSignInRequest, ErrorBody, FlagRequest, PortalEntry, PortalHistory, PortalInstitution,
    PortalSession, ProofStatus, proof_strings,
};
use myna_service::tls::TlsPeer;
use serde::Deserialize;

use super::auth::PortalPatient;
use super::error::{ApiJson, AppError};
use super::portal_page;
use super::portal_query::{HistoryParams, HistoryQuery};
use super::portal_redirect::{lang_of, sign_in_redirect};
use super::portal_text::{Lang, Text};
use super::session::{NewSession, session_cookie};
use super::wire::{FlagResponse, InclusionProofDto, MAX_FLAG_NOTE_CHARS, PortalProof};
use crate::state::AppState;
use crate::store::portal::{FlagOutcome, PatientAccess};
use crate::store::{StoredCheckpoint, Tx};

async fn open_session(state: &AppState, patient_id: String) -> Result<PortalSession, AppError> {
    if !state.config.dev_portal_sign_in {
        return Err(AppError::NotFound("route_not_found"));
    }
    let session = NewSession::new(state);
    let patient = PatientId(patient_id);
    let created = state
        .store
        .write(move |tx| {
            if !tx.patient_exists(&patient)? {
                return Ok(None);
            }
            session.store(tx, &patient)?;
            Ok(Some(session))
        })
        .await?;
    created
        .map(NewSession::into_session)
        .ok_or(AppError::NotFound("unknown_patient"))
}

/// A proof of inclusion in the newest checkpoint, when that checkpoint covers `leaf`.
type CoveringProof = Option<Result<Vec<Hash>, LogError>>;

fn covering_proof(
    tx: &Tx<'_>,
    latest: Option<&StoredCheckpoint>,
    leaf: u64,
) -> crate::error::Result<CoveringProof> {
    match latest {
        Some(checkpoint) if leaf < checkpoint.tree_size => {
            Ok(Some(tx.inclusion_proof(leaf, checkpoint.tree_size)?))
        }
        _ => Ok(None),
    }
}

/// Checks entries against the newest checkpoint, opened with the log's own verifier keys
/// (the current one, and those rotated out: the newest checkpoint may predate a rotation):
/// a checkpoint whose signature does not verify fails every entry it claims to cover.
struct ProofChecker {
    opened: Option<Result<Checkpoint, LogError>>,
}

impl ProofChecker {
    fn new(state: &AppState, latest: Option<&StoredCheckpoint>) -> Self {
        let opened = latest.map(|c| state.log_keys.open(&c.note));
        ProofChecker { opened }
    }

    fn status(&self, access: &PatientAccess, proof: &CoveringProof) -> ProofStatus {
        let Some(proof) = proof else {
            return ProofStatus::Pending;
        };
        let verified = match (&self.opened, proof) {
            (Some(Ok(checkpoint)), Ok(hashes)) => verify_inclusion(
                checkpoint,
                access.leaf_index,
                leaf_hash(access.record_json.as_bytes()),
                hashes,
            )
            .is_ok(),
            _ => false,
        };
        if verified {
            ProofStatus::Verified
        } else {
            tracing::error!(
                leaf = access.leaf_index,
                "access log entry does not verify against the newest checkpoint"
            );
            ProofStatus::Failed
        }
    }
}

async fn load_history(
    state: &AppState,
    patient: PatientId,
    params: &HistoryParams,
) -> Result<PortalHistory, AppError> {
    let filter = params.filter()?;
    let limit = params.limit;
    let (rows, more, institutions, latest, proofs) = state
        .store
        .read(move |tx| {
            let latest = tx.latest_checkpoint()?;
            let mut rows = tx.portal_history(&patient, &filter, limit + 1)?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let proofs = rows
                .iter()
                .map(|row| covering_proof(tx, latest.as_ref(), row.leaf_index))
                .collect::<crate::error::Result<Vec<_>>>()?;
            let institutions = tx.portal_institutions(&patient)?;
            Ok((rows, more, institutions, latest, proofs))
        })
        .await?;
    let checker = ProofChecker::new(state, latest.as_ref());
    let entries: Vec<PortalEntry> = rows
        .iter()
        .zip(&proofs)
        .map(|(row, proof)| {
            PortalEntry::new(
                &row.record,
                row.leaf_index,
                checker.status(row, proof),
                row.flagged_at,
            )
        })
        .collect();
    Ok(PortalHistory {
        next_before: more.then(|| entries.last().map(|e| e.leaf_index)).flatten(),
        entries,
        institutions: institutions
            .into_iter()
            .map(|(id, name)| PortalInstitution { id, name })
            .collect(),
        checkpoint_size: latest.map(|c| c.tree_size),
    })
}

fn query_params(
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<HistoryQuery, AppError> {
    query
        .map(|Query(q)| q)
        .map_err(|_| AppError::Invalid("invalid_query", "the query string could not be read"))
}

/// An access entry the patient asked for and does not have: another patient's is answered
/// the same way, but refused as outside the patient's scope (logged).
async fn not_found(state: &AppState, id: AccessRecordId) -> AppError {
    match state.store.read(move |tx| tx.access_record(id)).await {
        Ok(Some(_)) => AppError::OutsideScope("access_not_found"),
        Ok(None) => AppError::NotFound("access_not_found"),
        Err(error) => AppError::Storage(error),
    }
}

/// An access id from the path; anything that is not one is simply not found.
fn access_id(raw: &str) -> Result<AccessRecordId, AppError> {
    uuid::Uuid::parse_str(raw)
        .map(AccessRecordId)
        .map_err(|_| AppError::NotFound("access_not_found"))
}

/// `GET /portal/v1/history?before=&limit=&from=&to=&institution=`.
#[utoipa::path(get, path = "/portal/v1/history", tag = "portal", params(HistoryQuery),
    responses(
        (status = 200, description = "The patient's viewing history, newest first", body = PortalHistory),
        (status = 422, description = "`invalid_query`, `invalid_cursor`, `invalid_limit`, `invalid_date`, `invalid_date_range` or `invalid_institution`", body = ErrorBody)))]
pub(super) async fn history(
    State(state): State<AppState>,
    PortalPatient(patient): PortalPatient,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<ApiJson<PortalHistory>, AppError> {
    let params = HistoryParams::parse(&query_params(query)?)?;
    Ok(ApiJson(load_history(&state, patient, &params).await?))
}

/// `GET /portal/v1/history/{access_id}/proof`.
#[utoipa::path(get, path = "/portal/v1/history/{id}/proof", tag = "portal", params(("id" = String, Path, description = "The access record id (UUID) of a history entry")),
    responses(
        (status = 200, description = "Everything needed to check the entry against the signed log", body = PortalProof),
        (status = 404, description = "`access_not_found` (also another patient's entry)", body = ErrorBody)))]
pub(super) async fn proof(
    State(state): State<AppState>,
    PortalPatient(patient): PortalPatient,
    Path(id): Path<String>,
) -> Result<ApiJson<PortalProof>, AppError> {
    let id = access_id(&id)?;
    let found = state
        .store
        .read(move |tx| {
            let Some(access) = tx.patient_access(&patient, id)? else {
                return Ok(None);
            };
            let latest = tx.latest_checkpoint()?;
            let proof = covering_proof(tx, latest.as_ref(), access.leaf_index)?;
            Ok(Some((access, latest, proof)))
        })
        .await?;
    let Some((access, latest, proof)) = found else {
        return Err(not_found(&state, id).await);
    };
    let status = ProofChecker::new(&state, latest.as_ref()).status(&access, &proof);
    let (checkpoint, proof) = match (latest, proof) {
        (Some(checkpoint), Some(Ok(hashes))) => (
            Some(checkpoint.note),
            Some(InclusionProofDto {
                index: access.leaf_index,
                tree_size: checkpoint.tree_size,
                hashes: proof_strings(&hashes),
            }),
        ),
        (Some(checkpoint), Some(Err(_))) => (Some(checkpoint.note), None),
        _ => (None, None),
    };
    Ok(ApiJson(PortalProof {
        access_id: id,
        leaf_index: access.leaf_index,
        leaf_hash: hash_to_base64(&leaf_hash(access.record_json.as_bytes())),
        status,
        checkpoint,
        proof,
        verifier_key: state.log_signer.verifier_key().to_string(),
    }))
}

/// `GET /portal/v1/history/{access_id}/audit-event`: the entry as a FHIR R4 AuditEvent.
#[utoipa::path(get, path = "/portal/v1/history/{id}/audit-event", tag = "portal", params(("id" = String, Path, description = "The access record id (UUID) of a history entry")),
    responses(
        (status = 200, description = "The entry as a FHIR R4 AuditEvent resource", body = Object),
        (status = 404, description = "`access_not_found`", body = ErrorBody)))]
pub(super) async fn audit_event(
    State(state): State<AppState>,
    PortalPatient(patient): PortalPatient,
    Path(id): Path<String>,
) -> Result<ApiJson<serde_json::Value>, AppError> {
    let id = access_id(&id)?;
    let access = state
        .store
        .read(move |tx| tx.patient_access(&patient, id))
        .await?;
    let Some(access) = access else {
        return Err(not_found(&state, id).await);
    };
    let event = crate::fhir::patient_audit_event_json(&access.record, Some(access.leaf_index))
        .map_err(|e| {
            AppError::Storage(crate::error::Error::Corrupt(format!("fhir export: {e}")))
        })?;
    Ok(ApiJson(event))
}

/// The note of a flag: trimmed, empty as none, at most [`MAX_FLAG_NOTE_CHARS`].
fn flag_note(note: Option<String>) -> Result<Option<String>, AppError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_FLAG_NOTE_CHARS)
    {
        return Err(AppError::Invalid(
            "note_too_long",
            "note must be at most 500 characters",
        ));
    }
    Ok(note)
}

/// Flags the patient's entry; `(newly flagged, when first flagged)`.
async fn flag_entry(
    state: &AppState,
    patient: PatientId,
    id: AccessRecordId,
    note: Option<String>,
) -> Result<(bool, DateTime<Utc>), AppError> {
    let now = state.clock.now();
    let outcome = state
        .store
        .write(move |tx| tx.flag_access(&patient, id, note.as_deref(), now))
        .await?;
    match outcome {
        FlagOutcome::NotFound => Err(not_found(state, id).await),
        FlagOutcome::Flagged(at) => {
            tracing::info!(access_id = %id.0, "patient flagged an access for review");
            Ok((true, at))
        }
        FlagOutcome::AlreadyFlagged(at) => Ok((false, at)),
    }
}

/// `POST /portal/v1/history/{access_id}/flag` with an optional `{"note": "..."}`.
#[utoipa::path(post, path = "/portal/v1/history/{id}/flag", tag = "portal", params(("id" = String, Path, description = "The access record id (UUID) of a history entry")),
    request_body(content = Option<FlagRequest>, description = "Optional: an empty body flags without a note"),
    responses(
        (status = 201, description = "Flagged for the privacy officer's review", body = FlagResponse),
        (status = 200, description = "Already flagged (the first note is kept)", body = FlagResponse),
        (status = 404, description = "`access_not_found`", body = ErrorBody),
        (status = 422, description = "`note_too_long` or a body that is not `{\"note\": ...}`", body = ErrorBody)))]
pub(super) async fn flag(
    State(state): State<AppState>,
    PortalPatient(patient): PortalPatient,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, ApiJson<FlagResponse>), AppError> {
    let request: FlagRequest = if body.iter().all(u8::is_ascii_whitespace) {
        FlagRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|_| AppError::InvalidBody {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: "body must be empty or {\"note\": \"...\"}".into(),
        })?
    };
    let note = flag_note(request.note)?;
    let id = access_id(&id)?;
    let (created, flagged_at) = flag_entry(&state, patient, id, note).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(FlagResponse {
            access_id: id,
            flagged_at,
            already_flagged: !created,
        }),
    ))
}

fn problem_page(status: StatusCode, lang: Lang, error: &AppError) -> Response {
    let text = match error {
        AppError::Invalid("invalid_date", _) => Text::InvalidDate,
        AppError::Invalid("invalid_date_range", _) => Text::InvalidDateRange,
        AppError::NotFound(_) => Text::EntryNotFound,
        _ => Text::InvalidRequest,
    };
    (status, Html(portal_page::problem(lang, text).into_string())).into_response()
}

/// `GET /portal`: the history page.
#[utoipa::path(get, path = "/portal", tag = "portal pages", params(HistoryQuery),
    responses(
        (status = 200, description = "The history page", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to the sign-in page"),
        (status = 422, description = "A page naming the bad filter", body = String, content_type = "text/html")))]
pub(super) async fn history_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    patient: Result<PortalPatient, AppError>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let query = query.map(|Query(q)| q).ok();
    let lang = lang_of(&headers, query.as_ref().and_then(|q| q.lang.as_deref()));
    let patient = match patient {
        Ok(PortalPatient(patient)) => patient,
        // The session could not be checked (storage down): an error, not "signed out".
        Err(error @ AppError::Storage(_)) => return Err(error),
        Err(_) => return Ok(sign_in_redirect(lang)),
    };
    let Some(query) = query else {
        return Ok(problem_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            &AppError::Invalid("invalid_query", ""),
        ));
    };
    let params = match HistoryParams::parse(&query) {
        Ok(params) => params,
        Err(error) => return Ok(problem_page(StatusCode::UNPROCESSABLE_ENTITY, lang, &error)),
    };
    let history = match load_history(&state, patient.clone(), &params).await {
        Ok(history) => history,
        Err(error @ AppError::Invalid(..)) => {
            return Ok(problem_page(StatusCode::UNPROCESSABLE_ENTITY, lang, &error));
        }
        Err(other) => return Err(other),
    };
    let reported = query.reported.is_some();
    let page = portal_page::history(lang, &patient, &history, &params, reported);
    Ok(Html(page.into_string()).into_response())
}

/// The "I don't recognise this" form.
#[derive(Deserialize, utoipa::ToSchema)]
pub(super) struct FlagForm {
    /// What the patient wants to say, at most 500 characters.
    note: Option<String>,
}

/// `POST /portal/history/{access_id}/flag` (HTML form, cookie session): flags, then
/// sends the patient back to the page they were on with a confirmation.
#[utoipa::path(post, path = "/portal/history/{id}/flag", tag = "portal pages",
    params(("id" = String, Path, description = "The access record id (UUID) of a history entry"), HistoryQuery),
    request_body(content = FlagForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Flagged: back to the history page (or, without a session, to the sign-in page)"),
        (status = 404, description = "A page saying the entry was not found", body = String, content_type = "text/html"),
        (status = 422, description = "A page saying the note or form is invalid", body = String, content_type = "text/html")))]
pub(super) async fn flag_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    patient: Result<PortalPatient, AppError>,
    Path(id): Path<String>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
    form: Result<Form<FlagForm>, FormRejection>,
) -> Result<Response, AppError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let lang = lang_of(&headers, query.lang.as_deref());
    let patient = match patient {
        Ok(PortalPatient(patient)) => patient,
        Err(error @ AppError::Storage(_)) => return Err(error),
        Err(_) => return Ok(sign_in_redirect(lang)),
    };
    // The filters only shape the way back; unreadable ones are dropped.
    let params = HistoryParams::parse(&query).unwrap_or_default();
    let note = match form.map(|Form(f)| flag_note(f.note)) {
        Ok(Ok(note)) => note,
        Ok(Err(error)) => return Ok(problem_page(StatusCode::UNPROCESSABLE_ENTITY, lang, &error)),
        Err(_) => {
            let error = AppError::Invalid("invalid_form", "");
            return Ok(problem_page(StatusCode::UNPROCESSABLE_ENTITY, lang, &error));
        }
    };
    let id = match access_id(&id) {
        Ok(id) => id,
        Err(error) => return Ok(problem_page(StatusCode::NOT_FOUND, lang, &error)),
    };
    match flag_entry(&state, patient, id, note).await {
        Ok(_) => {
            let back = format!(
                "/portal?{}&reported={}#entry-{}",
                params.query_string(lang.code(), params.before),
                id.0,
                id.0
            );
            Ok(Redirect::to(&back).into_response())
        }
        Err(error @ AppError::NotFound(_)) => Ok(problem_page(StatusCode::NOT_FOUND, lang, &error)),
        Err(other) => Err(other),
    }
}

/// `POST /portal/v1/dev-sign-in` (development only).
#[utoipa::path(post, path = "/portal/v1/dev-sign-in", tag = "portal", request_body = DevSignInRequest,
    responses(
        (status = 200, description = "Development only: a session for any patient", body = PortalSession),
        (status = 404, description = "`route_not_found` when development sign-in is off, or `unknown_patient`", body = ErrorBody)))]
pub(super) async fn dev_sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DevSignInRequest>,
) -> Result<ApiJson<PortalSession>, AppError> {
    Ok(ApiJson(open_session(&state, request.patient_id).await?))
}

/// `GET /portal/sign-in?lang=`: how to sign in with the card (through the app), and the
/// development form when development sign-in is on.
#[utoipa::path(get, path = "/portal/sign-in", tag = "portal pages", params(SignInQuery),
    responses((status = 200, description = "How to sign in with the card", body = String, content_type = "text/html")))]
pub(super) async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Html<String> {
    let lang = lang_of(&headers, query.lang.as_deref());
    Html(portal_page::sign_in(lang, None, state.config.dev_portal_sign_in).into_string())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct SignInQuery {
    /// Development only: the patient id to sign in as.
    patient: Option<String>,
    /// Page language, `ja` or `en` (else `Accept-Language`).
    lang: Option<String>,
}

/// `GET /portal/dev-sign-in?patient=&lang=` (development only).
#[utoipa::path(get, path = "/portal/dev-sign-in", tag = "portal pages", params(SignInQuery),
    responses(
        (status = 200, description = "The sign-in page (with the development form when it is on)", body = String, content_type = "text/html"),
        (status = 303, description = "Development only: signed in as `patient`, to the history page with the session cookie"),
        (status = 404, description = "`route_not_found` when development sign-in is off", body = ErrorBody)))]
pub(super) async fn dev_sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    tls: Option<Extension<TlsPeer>>,
    jar: CookieJar,
    Query(query): Query<SignInQuery>,
) -> Result<Response, AppError> {
    let lang = lang_of(&headers, query.lang.as_deref());
    let Some(patient) = query.patient.filter(|p| !p.trim().is_empty()) else {
        let page = portal_page::sign_in(lang, None, state.config.dev_portal_sign_in);
        return Ok(Html(page.into_string()).into_response());
    };
    match open_session(&state, patient.trim().to_string()).await {
        Ok(session) => {
            let cookie = session_cookie(session.token, tls.is_some());
            let to = format!("/portal?lang={}", lang.code());
            Ok((jar.add(cookie), Redirect::to(&to)).into_response())
        }
        Err(AppError::NotFound("unknown_patient")) => Ok(Html(
            portal_page::sign_in(lang, Some(Text::NoSuchPatient), true).into_string(),
        )
        .into_response()),
        Err(other) => Err(other),
    }
}
