//! Patient portal routes: a patient sees who viewed their records (閲覧履歴), and only theirs.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use myna_domain::identity::PatientId;
use myna_domain::wire::{DevSignInRequest, PortalEntry, PortalHistory, PortalSession};
use rand::RngCore;
use serde::Deserialize;

use super::auth::{PORTAL_COOKIE, token_hash};
use super::{ApiJson, AppError, PortalPatient, portal_page};
use crate::AppState;

/// Entries shown per page.
const HISTORY_LIMIT: u32 = 200;

async fn open_session(state: &AppState, patient_id: String) -> Result<PortalSession, AppError> {
    if !state.config.dev_portal_sign_in {
        return Err(AppError::NotFound("route_not_found"));
    }
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = hex::encode(raw);
    let hash = token_hash(&token);
    let expires_at = state.clock.now() + state.config.portal_session_ttl;
    let patient = PatientId(patient_id);
    let created = state
        .store
        .write(move |tx| {
            if !tx.patient_exists(&patient)? {
                return Ok(false);
            }
            tx.insert_portal_session(&hash, &patient, expires_at)?;
            Ok(true)
        })
        .await?;
    if !created {
        return Err(AppError::NotFound("unknown_patient"));
    }
    Ok(PortalSession { token, expires_at })
}

async fn entries(state: &AppState, patient: PatientId) -> Result<Vec<PortalEntry>, AppError> {
    let records = state
        .store
        .read(move |tx| tx.access_for_patient(&patient, HISTORY_LIMIT))
        .await?;
    Ok(records.iter().map(PortalEntry::from).collect())
}

pub(super) async fn dev_sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DevSignInRequest>,
) -> Result<ApiJson<PortalSession>, AppError> {
    Ok(ApiJson(open_session(&state, request.patient_id).await?))
}

pub(super) async fn history(
    State(state): State<AppState>,
    PortalPatient(patient): PortalPatient,
) -> Result<ApiJson<PortalHistory>, AppError> {
    Ok(ApiJson(PortalHistory {
        entries: entries(&state, patient).await?,
    }))
}

pub(super) async fn history_page(
    State(state): State<AppState>,
    patient: Result<PortalPatient, AppError>,
) -> Result<Response, AppError> {
    let Ok(PortalPatient(patient)) = patient else {
        return Ok(Redirect::to("/portal/dev-sign-in").into_response());
    };
    let list = entries(&state, patient.clone()).await?;
    Ok(Html(portal_page::history(&patient, &list).into_string()).into_response())
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    patient: Option<String>,
}

pub(super) async fn dev_sign_in_page(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<SignInQuery>,
) -> Result<Response, AppError> {
    let Some(patient) = query.patient.filter(|p| !p.trim().is_empty()) else {
        return Ok(Html(portal_page::sign_in(None).into_string()).into_response());
    };
    match open_session(&state, patient.trim().to_string()).await {
        Ok(session) => {
            let cookie = Cookie::build((PORTAL_COOKIE, session.token))
                .path("/portal")
                .http_only(true)
                .same_site(SameSite::Strict)
                .build();
            Ok((jar.add(cookie), Redirect::to("/portal")).into_response())
        }
        Err(AppError::NotFound("unknown_patient")) => Ok(Html(
            portal_page::sign_in(Some("No such patient / 該当する患者がいません")).into_string(),
        )
        .into_response()),
        Err(other) => Err(other),
    }
}
