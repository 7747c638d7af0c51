//! Writes the tablet queues offline and may send more than once: a handoff retried with
//! its id, and the tablet's own views of its summary copy reported by view id. A repeat
//! logs nothing and queues nothing; an id used for something else is a conflict.

use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use edge_agent::clock::Clock;
use myna_domain::access::{AccessAction, AccessOutcome, AccessRecord, DenialReason};
use myna_domain::wire::DeviceViewReport;
use serde_json::{Value, json};

use crate::support::*;

const HOSPITAL_TOKEN: &str = HOSPITAL_A_TOKEN;

async fn incident(edge: &TestEdge) -> String {
    open_with_consent(edge, DEVICE, carded_patient(0), r#"{"decision":"given"}"#).await
}

async fn fetch_summary(edge: &TestEdge, incident: &str) {
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn hand_off(
    edge: &TestEdge,
    device: &str,
    incident: &str,
    hospital: &str,
    handoff_id: uuid::Uuid,
) -> (StatusCode, Value) {
    edge.post(
        &format!("/v1/incidents/{incident}/handoff"),
        device,
        &json!({"hospital_id": hospital, "chief_complaint": "chest pain", "eta_minutes": 7,
                "handoff_id": handoff_id}),
    )
    .await
}

/// Every outbox row, delivered or not: (handoff id, kind).
fn outbox(edge: &TestEdge) -> Vec<(String, String)> {
    let conn = edge.raw_connection();
    let mut statement = conn
        .prepare("SELECT handoff_id, kind FROM hospital_outbox ORDER BY id")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn relays(log: &[AccessRecord]) -> usize {
    log.iter()
        .filter(|r| matches!(r.action, AccessAction::RelayToHospital { .. }))
        .count()
}

#[tokio::test]
async fn idempotency_a_retried_handoff_is_the_same_handoff_logged_and_queued_once() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let id = uuid::Uuid::now_v7();
    let (status, first) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(
        first["handoff_id"],
        id.to_string(),
        "the tablet's id is used"
    );
    assert_eq!(first["records_shared"], true);
    let log = edge.access_log();
    assert_eq!(relays(&log), 1);

    // The answer was lost; the tablet's outbox sends the same request again, twice.
    for _ in 0..2 {
        edge.clock.advance(Duration::seconds(30));
        let (status, again) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
        assert_eq!(status, StatusCode::ACCEPTED, "not handoff_open: {again}");
        assert_eq!(again, first);
    }
    assert_eq!(edge.access_log(), log, "no second access record");
    assert_eq!(
        outbox(&edge),
        vec![(id.to_string(), "arrival".to_string())],
        "no second outbox message"
    );

    // Once the hospital has it (it answered), a repeat says so: 200, delivered.
    let (status, body) = edge
        .post(
            &format!("/v1/hospital/handoffs/{id}/decision"),
            HOSPITAL_TOKEN,
            &json!({"decision": "accepted"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, again) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["delivered"], true);
    assert_eq!(again["handoff_id"], id.to_string());
    assert_eq!(relays(&edge.access_log()), 1);

    // A new handoff id is a new handoff, still one hospital at a time.
    let (status, body) = hand_off(&edge, DEVICE, &incident, "hosp-b", uuid::Uuid::now_v7()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("handoff_open"))
    );
}

#[tokio::test]
async fn idempotency_a_handoff_id_of_another_incident_tablet_or_hospital_is_a_conflict() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let id = uuid::Uuid::now_v7();
    let (status, body) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let second =
        open_with_consent(&edge, DEVICE, carded_patient(1), r#"{"decision":"given"}"#).await;
    let other_tablet = open_with_consent(
        &edge,
        OTHER_DEVICE,
        carded_patient(2),
        r#"{"decision":"given"}"#,
    )
    .await;
    let log = edge.access_log();
    for (device, incident, hospital) in [
        (DEVICE, second.as_str(), "hosp-a"),
        (OTHER_DEVICE, other_tablet.as_str(), "hosp-a"),
        (DEVICE, incident.as_str(), "hosp-b"),
    ] {
        let (status, body) = hand_off(&edge, device, incident, hospital, id).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("handoff_id_conflict")),
            "{device} {hospital}: {body}"
        );
    }
    assert_eq!(edge.access_log(), log, "conflicts log nothing");
    assert_eq!(outbox(&edge).len(), 1, "and queue nothing");

    // Without an id the edge still makes one up.
    let (status, body) = edge
        .post(
            &format!("/v1/incidents/{second}/handoff"),
            DEVICE,
            &json!({"hospital_id": "hosp-b", "chief_complaint": "fall", "eta_minutes": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let made_up: uuid::Uuid = body["handoff_id"].as_str().unwrap().parse().unwrap();
    assert_ne!(made_up, id);
}

#[tokio::test]
async fn idempotency_a_repeated_withdrawal_is_answered_with_the_handoff_as_it_stands() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let id = uuid::Uuid::now_v7();
    let (status, body) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let mut answers = Vec::new();
    for _ in 0..3 {
        let (status, body) = edge
            .call(
                axum::http::Method::POST,
                &format!("/v1/handoffs/{id}/withdraw"),
                Some(DEVICE),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        answers.push(body);
        edge.clock.advance(Duration::seconds(10));
    }
    assert_eq!(answers[0]["status"], "withdrawn");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(
        outbox(&edge),
        vec![
            (id.to_string(), "arrival".to_string()),
            (id.to_string(), "withdrawal".to_string())
        ],
        "the hospital is told once"
    );
    // A retried handoff request after the withdrawal still names that handoff, not a new one.
    let (status, again) = hand_off(&edge, DEVICE, &incident, "hosp-a", id).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["handoff_id"], id.to_string());
    assert_eq!(relays(&edge.access_log()), 1);
}

async fn report_by(
    edge: &TestEdge,
    device: &str,
    incident: &str,
    report: &DeviceViewReport,
) -> (StatusCode, Value) {
    edge.post(
        &format!("/v1/incidents/{incident}/device-views"),
        device,
        report,
    )
    .await
}

async fn report(edge: &TestEdge, incident: &str, report: &DeviceViewReport) -> (StatusCode, Value) {
    report_by(edge, DEVICE, incident, report).await
}

fn view_at(viewed_at: DateTime<Utc>) -> DeviceViewReport {
    DeviceViewReport {
        view_id: uuid::Uuid::now_v7(),
        viewed_at,
    }
}

#[tokio::test]
async fn idempotency_a_view_on_the_tablet_is_logged_once_at_the_server_time() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    fetch_summary(&edge, &incident).await;
    let fetched = edge.access_log();
    let AccessOutcome::Disclosed { kinds } = fetched.last().unwrap().outcome.clone() else {
        panic!("the fetch disclosed");
    };
    assert!(!kinds.is_empty());

    // Shown again offline ten minutes later; reported when the signal came back.
    let viewed_at = edge.clock.now() + Duration::minutes(10);
    edge.clock.advance(Duration::minutes(40));
    let view = view_at(viewed_at);
    let (status, body) = report(&edge, &incident, &view).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"view_id": view.view_id.to_string(), "recorded": true})
    );
    let log = edge.access_log();
    assert_eq!(log.len(), fetched.len() + 1, "one record appended");
    let record = log.last().unwrap();
    assert_eq!(record.id.0, view.view_id, "the view id is the record id");
    assert_eq!(record.action, AccessAction::ViewOnDevice { viewed_at });
    assert_eq!(
        record.at,
        edge.clock.now(),
        "at is the server's receive time"
    );
    assert_eq!(record.outcome, AccessOutcome::Disclosed { kinds });
    assert_eq!(record.incident.unwrap().to_string(), incident);
    assert_eq!(record.viewer, fetched.last().unwrap().viewer);

    // The answer was lost: the same report again is recorded already, and appends nothing.
    edge.clock.advance(Duration::seconds(5));
    let (status, body) = report(&edge, &incident, &view).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recorded"], false);
    assert_eq!(edge.access_log(), log);

    // The same view id for another display, or the id of another record, is a conflict.
    let changed = DeviceViewReport {
        viewed_at: viewed_at + Duration::seconds(1),
        ..view
    };
    let taken = DeviceViewReport {
        view_id: fetched.last().unwrap().id.0,
        viewed_at,
    };
    for clash in [changed, taken] {
        let (status, body) = report(&edge, &incident, &clash).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("view_id_conflict")),
            "{body}"
        );
    }
    assert_eq!(edge.access_log(), log);
}

#[tokio::test]
async fn idempotency_a_view_report_is_refused_for_another_tablet_and_kept_with_a_bad_clock() {
    let edge = two_hospital_edge();
    let incident = incident(&edge).await;
    let opened = edge.clock.now();
    fetch_summary(&edge, &incident).await;
    edge.clock.advance(Duration::hours(1));
    let now = edge.clock.now();
    let log = edge.access_log();

    let (status, body) = report_by(&edge, OTHER_DEVICE, &incident, &view_at(now)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("incident_not_found")),
        "{body}"
    );
    // Another unit's report is refused like an unknown incident and logged as a denial.
    let after = edge.access_log();
    assert_eq!(after.len(), log.len() + 1);
    assert_eq!(
        after.last().unwrap().outcome,
        AccessOutcome::Denied {
            reason: DenialReason::OutsideScope
        }
    );
    let log = after;
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = report(&edge, &unknown, &view_at(now)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = report_by(&edge, "no-such-token", &incident, &view_at(now)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A tablet clock badly off: the view happened, so it is recorded all the same, with the
    // time the tablet claimed (nothing may be lost; the outbox gives up on a 4xx).
    let mut recorded = 0;
    for viewed_at in [
        now + Duration::minutes(6),
        now + Duration::days(365),
        opened - Duration::minutes(6),
    ] {
        let (status, body) = report(&edge, &incident, &view_at(viewed_at)).await;
        assert_eq!(status, StatusCode::CREATED, "{viewed_at}: {body}");
        assert_eq!(body["recorded"], true);
        recorded += 1;
        let last = edge.access_log().pop().unwrap();
        assert_eq!(last.action, AccessAction::ViewOnDevice { viewed_at });
    }
    assert_eq!(edge.access_log().len(), log.len() + recorded);
    let log = edge.access_log();
    let (status, body) = edge
        .call(
            axum::http::Method::POST,
            &format!("/v1/incidents/{incident}/device-views"),
            Some(DEVICE),
            Some(format!(
                r#"{{"view_id":"{}","viewed_at":"{}","kinds":[]}}"#,
                uuid::Uuid::now_v7(),
                now.to_rfc3339()
            )),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown field: {body}"
    );
    assert_eq!(edge.access_log(), log, "nothing logged");

    // Within five minutes either way, a tablet clock slightly off is accepted.
    for viewed_at in [now + Duration::minutes(4), opened - Duration::minutes(4)] {
        let (status, body) = report(&edge, &incident, &view_at(viewed_at)).await;
        assert_eq!(status, StatusCode::CREATED, "{viewed_at}: {body}");
    }
    assert_eq!(edge.access_log().len(), log.len() + 2);
}

#[tokio::test]
async fn idempotency_no_view_report_without_a_disclosed_summary() {
    let edge = two_hospital_edge();
    let given = incident(&edge).await;
    let refused = open_with_consent(
        &edge,
        DEVICE,
        carded_patient(1),
        r#"{"decision":"refused"}"#,
    )
    .await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{refused}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let log = edge.access_log();
    let now = edge.clock.now();
    for incident in [&given, &refused] {
        let (status, body) = report(&edge, incident, &view_at(now)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::CONFLICT, Some("no_summary_disclosed")),
            "{body}"
        );
    }
    assert_eq!(
        edge.access_log(),
        log,
        "the tablet holds no copy: nothing logged"
    );

    // A relay to a hospital is not a copy on the tablet.
    let (status, body) = hand_off(&edge, DEVICE, &given, "hosp-a", uuid::Uuid::now_v7()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = report(&edge, &given, &view_at(now)).await;
    assert_eq!(body["code"], "no_summary_disclosed", "{status} {body}");
}

async fn sign_in(edge: &TestEdge, patient: &str) -> String {
    let (status, body) = edge
        .call(
            axum::http::Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(format!(r#"{{"patient_id":"{patient}"}}"#)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn idempotency_the_patient_sees_the_view_on_the_tablet_and_the_log_verifies() {
    let edge = two_hospital_edge();
    let me = carded_patient(0);
    let incident = incident(&edge).await;
    fetch_summary(&edge, &incident).await;
    // 2026-11-25 03:20 UTC is 12:20 in Japan.
    let viewed_at = "2026-11-25T03:20:00Z".parse::<DateTime<Utc>>().unwrap();
    edge.clock.advance(Duration::hours(2));
    let view = view_at(viewed_at);
    let (status, body) = report(&edge, &incident, &view).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap()
        .unwrap();

    let token = sign_in(&edge, &patient_id(me)).await;
    let (status, history) = edge.get("/portal/v1/history", &token).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let newest = &history["entries"][0];
    assert_eq!(newest["access_id"], view.view_id.to_string());
    assert_eq!(
        newest["action"],
        json!({"type": "view_on_device", "viewed_at": "2026-11-25T03:20:00Z"})
    );
    assert_eq!(newest["proof"], "verified");
    assert!(!newest["kinds"].as_array().unwrap().is_empty());
    let (status, event) = edge
        .get(
            &format!("/portal/v1/history/{}/audit-event", view.view_id),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["subtype"][0]["code"], "view_on_device");
    assert_eq!(event["period"]["start"], "2026-11-25T03:20:00Z");

    for (lang, expected) in [
        (
            "en",
            [
                "Summary shown again on the ambulance tablet",
                "Time on the tablet: 2026-11-25 12:20",
            ],
        ),
        (
            "ja",
            [
                "救急隊の端末で要約を再表示",
                "端末の時刻: 2026年11月25日 12:20",
            ],
        ),
    ] {
        let (status, page) = edge
            .call(
                axum::http::Method::GET,
                &format!("/portal?lang={lang}"),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let page = page.as_str().unwrap();
        for text in expected {
            assert!(page.contains(text), "missing {text:?} in {page}");
        }
    }

    // The log, new action included, replays and verifies offline, and exports as FHIR.
    let key =
        myna_domain::transparency::LogVerifier::new(edge.state.log_signer.verifier_key()).unwrap();
    edge.state.store.checkpoint_wal().await.unwrap();
    edge.state.store.close();
    let db = edge.dir.path().join("edge.sqlite3");
    let report = edge_agent::verify::verify_db(&db, &key).unwrap();
    assert!(report.finding.is_none(), "{:?}", report.finding);
    assert_eq!((report.entries, report.unsigned_entries), (2, 0));
    let mut ndjson = Vec::new();
    assert_eq!(
        edge_agent::verify::export_fhir(&db, &mut ndjson).unwrap(),
        2
    );
    assert!(
        String::from_utf8(ndjson)
            .unwrap()
            .contains("view_on_device")
    );
}
