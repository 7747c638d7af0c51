//! The staff's pages: the dashboard, an arrival's detail page and its FHIR export, and the
//! answer form. Each needs a signed-in [`Staff`].

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use myna_domain::handoff::{DeclineReason, HandoffDecision};
use serde::Deserialize;

use crate::http_error::{PageError, html};
use crate::session::Staff;
use crate::state::AppState;
use crate::store::{AnswerOutcome, StoredArrival};
use crate::{fhir, render};

/// Arrivals whose ETA passed less than this long ago stay in the dashboard's main list.
pub const STILL_INCOMING: Duration = Duration::hours(2);

/// Most cards on the dashboard, and most rows in its "earlier" list.
const DASHBOARD_INCOMING: u32 = 50;
const DASHBOARD_EARLIER: u32 = 20;

/// `GET /`: the dashboard, incoming first.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let now = Utc::now();
    let cutoff = now - STILL_INCOMING;
    // The newest event is read first: anything committed after it reaches the page
    // through the event stream, which resumes from this id.
    let (last_event, incoming, earlier) = state
        .store()
        .run(move |s| {
            Ok((
                s.last_event()?,
                s.incoming(cutoff, DASHBOARD_INCOMING)?,
                s.earlier(cutoff, DASHBOARD_EARLIER)?,
            ))
        })
        .await?;
    let config = state.config();
    Ok(html(render::dashboard_page(
        &render::Dashboard {
            hospital_name: &config.hospital_name,
            staff_id: &staff.id,
            last_event,
        },
        &incoming,
        &earlier,
        now,
    )))
}

async fn load_arrival(state: &AppState, handoff_id: &str) -> Result<StoredArrival, PageError> {
    let handoff_id = uuid::Uuid::parse_str(handoff_id).map_err(|_| PageError::NotFound)?;
    state
        .store()
        .run(move |s| s.get(handoff_id))
        .await?
        .ok_or(PageError::NotFound)
}

/// `GET /arrivals/{id}`: one arrival with provenance, printable.
pub(crate) async fn arrival_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(handoff_id): Path<String>,
) -> Result<Response, PageError> {
    let arrival = load_arrival(&state, &handoff_id).await?;
    tracing::info!(handoff_id = %arrival.notice.handoff_id, incident_id = %arrival.notice.incident_id, staff = %staff.id, "arrival detail viewed");
    Ok(html(render::detail_page(
        &state.config().hospital_name,
        &arrival,
        Utc::now(),
    )))
}

/// `GET /arrivals/{id}/fhir`: the summary as a FHIR R4 IPS `Bundle`.
pub(crate) async fn arrival_fhir(
    State(state): State<AppState>,
    staff: Staff,
    Path(handoff_id): Path<String>,
) -> Result<Response, PageError> {
    let arrival = load_arrival(&state, &handoff_id).await?;
    tracing::info!(handoff_id = %arrival.notice.handoff_id, staff = %staff.id, "arrival exported as FHIR");
    let bundle = fhir::ips_bundle(&arrival.notice, Utc::now());
    // A notice FHIR cannot express (a date past 9999) comes back as an OperationOutcome.
    let status = if bundle["resourceType"] == "Bundle" {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/fhir+json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bundle.to_string(),
    )
        .into_response())
}

/// The answer form: `decision` is `accepted` or `declined`; a decline names a `reason`.
#[derive(Debug, Deserialize)]
pub(crate) struct AnswerForm {
    decision: String,
    reason: Option<String>,
    /// `detail` to return to the detail page, else the dashboard.
    back: Option<String>,
}

/// A form posted by a page of this site: the browser's `Origin`, when sent, must be this
/// host (the session cookie is `SameSite=Strict` as well).
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    host.is_some() && origin_host == host
}

/// `POST /arrivals/{id}/answer`: accept or decline (form, same origin).
pub(crate) async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(handoff_id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, PageError> {
    if !same_origin(&headers) {
        return Err(PageError::Forbidden);
    }
    let handoff_id = uuid::Uuid::parse_str(&handoff_id).map_err(|_| PageError::NotFound)?;
    let decision = match (form.decision.as_str(), form.reason.as_deref()) {
        ("accepted", _) => HandoffDecision::Accepted,
        ("declined", Some(reason)) => HandoffDecision::Declined {
            reason: DeclineReason::parse(reason).unwrap_or(DeclineReason::Other),
        },
        ("declined", None) => HandoffDecision::Declined {
            reason: DeclineReason::Other,
        },
        _ => return Err(PageError::NotFound),
    };
    let staff_id = staff.id.clone();
    let outcome = state
        .store()
        .run(move |s| s.answer(handoff_id, decision, &staff_id, Utc::now()))
        .await?;
    match outcome {
        AnswerOutcome::Stored(seq) => {
            tracing::info!(%handoff_id, staff = %staff.id, ?decision, "arrival answered");
            state.announce(seq);
            state.wake_answers();
        }
        AnswerOutcome::Unchanged => {}
        AnswerOutcome::Conflict => return Err(PageError::AlreadyAnswered),
        AnswerOutcome::NotFound => return Err(PageError::NotFound),
    }
    let back = match form.back.as_deref() {
        Some("detail") => format!("/arrivals/{handoff_id}"),
        _ => format!("/#arrival-{handoff_id}"),
    };
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_from_other_origins_are_refused() {
        let mut headers = HeaderMap::new();
        assert!(same_origin(&headers), "no Origin: a same-origin navigation");
        headers.insert(header::HOST, "127.0.0.1:8081".parse().unwrap());
        headers.insert(header::ORIGIN, "http://127.0.0.1:8081".parse().unwrap());
        assert!(same_origin(&headers));
        headers.insert(header::ORIGIN, "http://evil.example".parse().unwrap());
        assert!(!same_origin(&headers));
    }
}
