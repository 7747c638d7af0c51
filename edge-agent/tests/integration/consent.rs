//! Recording consent: reasons, refusals, and decisions that cannot be changed.

use axum::http::StatusCode;
use myna_domain::access::{AccessAction, AccessOutcome, DenialReason};

use crate::support::*;

#[tokio::test]
async fn difficult_without_reason_is_422_and_logged() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let path = format!("/v1/incidents/{incident}/consent");
    let (status, body) = edge
        .put_json(&path, DEVICE, r#"{"decision":"difficult"}"#)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("consent_reason_required")
        )
    );
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        log[0].outcome,
        AccessOutcome::Denied {
            reason: DenialReason::ConsentReasonMissing
        }
    );
    // The incident still has no decision: the summary is refused.
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("consent_not_recorded"))
    );
    assert!(body.get("summary").is_none());
}

#[tokio::test]
async fn refusal_is_logged_final_and_discloses_nothing() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let path = format!("/v1/incidents/{incident}/consent");
    let (status, body) = edge
        .put_json(&path, DEVICE, r#"{"decision":"refused"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Retrying the same decision is fine; changing it is not.
    assert_eq!(
        edge.put_json(&path, DEVICE, r#"{"decision":"refused"}"#)
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = edge
        .put_json(&path, DEVICE, r#"{"decision":"given"}"#)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("consent_already_recorded"))
    );
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent_refused"))
    );
    assert!(body.get("summary").is_none());
    let outcomes: Vec<_> = edge
        .access_log()
        .into_iter()
        .map(|r| (r.action, r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (AccessAction::RecordConsent, AccessOutcome::Refused),
            (
                AccessAction::RecordConsent,
                AccessOutcome::Denied {
                    reason: DenialReason::ConsentAlreadyRecorded
                }
            ),
            (
                AccessAction::ViewSummary,
                AccessOutcome::Denied {
                    reason: DenialReason::ConsentRefused
                }
            ),
        ]
    );
}

#[tokio::test]
async fn another_tablet_cannot_touch_the_incident() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let (status, _) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            OTHER_DEVICE,
            r#"{"decision":"given"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), OTHER_DEVICE)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = edge.get("/v1/incidents/not-a-uuid/summary", DEVICE).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The other unit learns nothing, but both attempts are the patient's to see.
    let log = edge.access_log();
    assert_eq!(log.len(), 2, "{log:?}");
    for (record, action) in log
        .iter()
        .zip([AccessAction::RecordConsent, AccessAction::ViewSummary])
    {
        assert_eq!(record.action, action);
        assert_eq!(
            record.outcome,
            AccessOutcome::Denied {
                reason: DenialReason::OutsideScope
            }
        );
        assert_eq!(record.viewer.device_id.as_deref(), Some("tablet-tfd-0002"));
        assert_eq!(record.viewer.staff_id, None);
    }
}

#[tokio::test]
async fn withdrawn_consent_stops_every_later_disclosure() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let consent = format!("/v1/incidents/{incident}/consent");
    let summary = format!("/v1/incidents/{incident}/summary");
    edge.put_json(&consent, DEVICE, r#"{"decision":"given"}"#)
        .await;
    assert_eq!(edge.get(&summary, DEVICE).await.0, StatusCode::OK);
    // The patient changes their mind.
    let (status, body) = edge
        .put_json(&consent, DEVICE, r#"{"decision":"refused"}"#)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = edge.get(&summary, DEVICE).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("consent_refused"))
    );
    // And a refusal is never turned back into consent.
    let (status, _) = edge
        .put_json(&consent, DEVICE, r#"{"decision":"given"}"#)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let outcomes: Vec<_> = edge.access_log().into_iter().map(|r| r.outcome).collect();
    assert!(matches!(outcomes[0], AccessOutcome::Disclosed { .. }));
    assert_eq!(
        outcomes[1..],
        [
            AccessOutcome::Refused,
            AccessOutcome::Denied {
                reason: DenialReason::ConsentRefused
            },
            AccessOutcome::Denied {
                reason: DenialReason::ConsentAlreadyRecorded
            },
        ]
    );
}
