//! Disclosing the summary: logged first, in the same transaction; fail closed.

use axum::http::StatusCode;
use myna_domain::access::{AccessAction, AccessOutcome};
use myna_domain::consent::{ConsentState, DifficultyReason};

use crate::support::*;

#[tokio::test]
async fn consented_summary_is_logged_exactly_once_with_its_kinds() {
    let edge = TestEdge::new();
    let index = carded_patient(0);
    let incident = edge.open_for(index).await;
    edge.put_json(
        &format!("/v1/incidents/{incident}/consent"),
        DEVICE,
        r#"{"decision":"given"}"#,
    )
    .await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["summary"]["patient"]["id"], patient_id(index));
    assert_eq!(body["consent"]["state"], "given");
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AccessAction::ViewSummary);
    assert_eq!(log[0].consent, Some(ConsentState::Given));
    let AccessOutcome::Disclosed { kinds } = &log[0].outcome else {
        panic!("{:?}", log[0].outcome)
    };
    let returned: Vec<String> = body["summary"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in kinds {
        assert!(
            returned.contains(&kind.as_str().to_string()),
            "logged kind {kind:?} was returned"
        );
    }
    assert_eq!(
        kinds.len(),
        returned
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
}

#[tokio::test]
async fn unconscious_patient_is_disclosed_and_marked_without_consent() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    let (status, _) = edge
        .put_json(
            &format!("/v1/incidents/{incident}/consent"),
            DEVICE,
            r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["consent"]["reason"]["kind"], "unconscious");
    let log = edge.access_log();
    assert_eq!(log.len(), 1);
    let consent = log[0].consent.clone().unwrap();
    assert!(consent.is_without_consent());
    assert_eq!(
        consent,
        ConsentState::Difficult {
            reason: DifficultyReason::Unconscious
        }
    );
}

#[tokio::test]
async fn failed_log_write_means_503_and_no_patient_data() {
    let edge = TestEdge::new();
    let incident = edge.open_for(carded_patient(0)).await;
    edge.put_json(
        &format!("/v1/incidents/{incident}/consent"),
        DEVICE,
        r#"{"decision":"given"}"#,
    )
    .await;
    // Make every append fail, as a full disk or an I/O error would.
    edge.raw_connection()
        .execute_batch("CREATE TRIGGER fail_appends BEFORE INSERT ON access_log BEGIN SELECT RAISE(FAIL, 'disk full'); END;")
        .unwrap();
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("storage_unavailable"))
    );
    assert!(body.get("summary").is_none());
    assert!(!body.to_string().contains(&patient_id(carded_patient(0))));
}

#[test]
fn access_log_rejects_update_and_delete() {
    let edge = TestEdge::new();
    let conn = edge.raw_connection();
    conn.execute(
        "INSERT INTO access_log (id, at, institution_id, record_json) VALUES ('x', 't', 'i', '{}')",
        [],
    )
    .unwrap();
    assert!(
        conn.execute("UPDATE access_log SET record_json = '{}'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM access_log", []).is_err());
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}
