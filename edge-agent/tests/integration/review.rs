//! The privacy officer's review queue: what is queued (every `Difficult` access, patient
//! flags, anomaly flags), what the listing shows (and does not), findings and their log.

use axum::http::{Method, StatusCode};
use chrono::Duration;
use edge_agent::clock::Clock;
use edge_agent::review::ReviewThresholds;
use myna_domain::access::{AccessAction, ReviewOutcome, ViewerRole};
use myna_domain::transparency::LogVerifier;
use serde_json::{Value, json};

use crate::support::*;

const OFFICER: &str = "dev-privacy-officer-token";
const GIVEN: &str = r#"{"decision":"given"}"#;
const UNCONSCIOUS: &str = r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#;

/// Opens an incident for `index` with `consent` and fetches the summary; the incident id.
async fn viewed(edge: &TestEdge, index: u64, consent: &str) -> String {
    let incident = open_with_consent(edge, DEVICE, index, consent).await;
    fetch(edge, &incident).await;
    incident
}

async fn fetch(edge: &TestEdge, incident: &str) {
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), DEVICE)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// The tablet reports showing the summary again, at the edge's time now.
async fn shown_again(edge: &TestEdge, incident: &str) {
    let (status, body) = edge
        .call(
            Method::POST,
            &format!("/v1/incidents/{incident}/device-views"),
            Some(DEVICE),
            Some(
                json!({
                    "view_id": uuid::Uuid::now_v7(),
                    "viewed_at": edge.clock.now(),
                })
                .to_string(),
            ),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
}

async fn hand_off(edge: &TestEdge, incident: &str) -> String {
    let (status, body) = edge
        .post(
            &format!("/v1/incidents/{incident}/handoff"),
            DEVICE,
            &json!({"hospital_id": "hosp-a", "chief_complaint": "chest pain", "eta_minutes": 7}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    body["handoff_id"].as_str().unwrap().to_string()
}

async fn queue(edge: &TestEdge, state: &str) -> Vec<Value> {
    let (status, body) = edge
        .get(&format!("/v1/review-queue?state={state}"), OFFICER)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn codes(item: &Value, field: &str) -> Vec<String> {
    item[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.as_str()
                .or_else(|| v["code"].as_str())
                .unwrap()
                .to_string()
        })
        .collect()
}

fn edge_with(thresholds: impl FnOnce(&mut ReviewThresholds)) -> TestEdge {
    TestEdge::with(|mut config| {
        thresholds(&mut config.review);
        config.with_hospital(
            "hosp-a",
            "Hospital A",
            3,
            "http://127.0.0.1:9",
            HOSPITAL_A_TOKEN,
            None,
        )
    })
}

async fn post_outcome(
    edge: &TestEdge,
    access: &str,
    token: &str,
    body: &str,
) -> (StatusCode, Value) {
    edge.call(
        Method::POST,
        &format!("/v1/review-queue/{access}/outcome"),
        Some(token),
        Some(body.to_string()),
    )
    .await
}

#[tokio::test]
async fn review_a_difficult_access_is_queued_and_a_given_one_is_not() {
    let edge = edge_with(|_| {});
    viewed(&edge, carded_patient(1), GIVEN).await;
    assert!(
        queue(&edge, "all").await.is_empty(),
        "a given access is not queued"
    );

    let incident = viewed(&edge, carded_patient(0), UNCONSCIOUS).await;
    shown_again(&edge, &incident).await;
    hand_off(&edge, &incident).await;
    // Consent cannot change from difficult to given: a denial, made under `Difficult`.
    let (status, _) = edge
        .put_json(&format!("/v1/incidents/{incident}/consent"), DEVICE, GIVEN)
        .await;
    assert!(status.is_client_error());

    let items = queue(&edge, "open").await;
    let actions: Vec<&str> = items
        .iter()
        .map(|i| i["action"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "view_summary",
            "view_on_device",
            "relay_to_hospital",
            "record_consent"
        ]
    );
    for item in &items {
        assert_eq!(codes(item, "queued_for"), ["difficult_consent"], "{item}");
        assert_eq!(item["consent"]["reason"]["kind"], "unconscious");
        assert_eq!(item["state"], "open");
        assert!(item["flags"].as_array().unwrap().is_empty(), "{item}");
    }
    assert_eq!(items[2]["role"], "receiving_hospital");
    assert_eq!(items[3]["denial"], "consent_already_recorded");
    assert_eq!(items[0]["disclosed"], true);
    assert_eq!(items[0]["unit"], "世田谷救急1 Setagaya Ambulance 1");
    assert_eq!(items[0]["device_id"], "tablet-tfd-0001");
    assert_eq!(items[0]["patient_id"], patient_id(carded_patient(0)));
    // Not one `Difficult` record of the log is missing from the queue.
    let missing: i64 = edge
        .raw_connection()
        .query_row(
            "SELECT COUNT(*) FROM access_log
             WHERE json_extract(record_json, '$.consent.state') = 'difficult'
               AND id NOT IN (SELECT access_id FROM review_queue WHERE reason = 'difficult_consent')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0);
}

#[tokio::test]
async fn review_many_patients_without_transport_is_flagged_until_they_are_transported() {
    let edge = edge_with(|t| t.many_patients = 3);
    let first = viewed(&edge, carded_patient(0), GIVEN).await;
    let second = viewed(&edge, carded_patient(1), GIVEN).await;
    assert!(queue(&edge, "all").await.is_empty());
    let third = viewed(&edge, carded_patient(2), GIVEN).await;
    let items = queue(&edge, "all").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["incident_id"], third.as_str());
    assert_eq!(
        codes(&items[0], "queued_for"),
        ["many_patients_without_transport"]
    );
    assert_eq!(
        codes(&items[0], "flags"),
        ["many_patients_without_transport"]
    );
    assert_eq!(
        items[0]["flags"][0]["reason"],
        "the unit viewed 3 patients' records within 3 h, none transported"
    );

    // The first two turn out to be transported: the flag no longer holds, but the item
    // keeps why it was queued.
    hand_off(&edge, &first).await;
    hand_off(&edge, &second).await;
    let items = queue(&edge, "all").await;
    assert_eq!(codes(&items[0], "flags"), Vec::<String>::new());
    assert_eq!(
        codes(&items[0], "queued_for"),
        ["many_patients_without_transport"]
    );

    // With two of three transported, a fourth patient is no anomaly.
    viewed(&edge, carded_patient(3), GIVEN).await;
    assert_eq!(queue(&edge, "all").await.len(), 1);
}

#[tokio::test]
async fn review_many_patients_counts_one_fire_departments_unit_not_every_unit_of_that_name() {
    // Two departments both call an ambulance "救急1": Osaka's views are not Tokyo's.
    let edge = TestEdge::with(|mut config| {
        config.review.many_patients = 3;
        config.devices[2].unit = config.devices[0].unit.clone();
        config
    });
    let osaka = config_token(&edge, 2);
    viewed(&edge, carded_patient(0), GIVEN).await;
    viewed(&edge, carded_patient(1), GIVEN).await;
    let incident = open_with_consent(&edge, &osaka, carded_patient(2), GIVEN).await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), &osaka)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(queue(&edge, "all").await.is_empty());
    // Tokyo's own third patient is.
    viewed(&edge, carded_patient(3), GIVEN).await;
    let items = queue(&edge, "all").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(
        codes(&items[0], "flags"),
        ["many_patients_without_transport"]
    );
}

/// The bearer token of configured device `n` (0-based).
fn config_token(edge: &TestEdge, n: usize) -> String {
    edge.state.config.devices[n].token.clone()
}

#[tokio::test]
async fn review_repeated_views_of_one_patient_are_flagged_within_the_window() {
    let edge = edge_with(|t| {
        t.repeated_views = 3;
        t.repeated_views_window = Duration::hours(1);
    });
    let me = carded_patient(0);
    viewed(&edge, me, GIVEN).await;
    viewed(&edge, me, GIVEN).await;
    edge.clock.advance(Duration::minutes(61));
    // Two views more than an hour ago and this one: two in the window.
    let incident = viewed(&edge, me, GIVEN).await;
    shown_again(&edge, &incident).await;
    assert!(queue(&edge, "all").await.is_empty());
    // Across incidents and actions: the third disclosure within the hour is flagged.
    shown_again(&edge, &incident).await;
    let items = queue(&edge, "all").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["action"]["type"], "view_on_device");
    assert_eq!(codes(&items[0], "flags"), ["repeated_views"]);
}

#[tokio::test]
async fn review_an_access_outside_its_active_incident_is_flagged() {
    let edge = edge_with(|_| {});
    let incident = viewed(&edge, carded_patient(0), GIVEN).await;
    edge.clock.advance(Duration::hours(6));
    fetch(&edge, &incident).await;
    assert!(
        queue(&edge, "all").await.is_empty(),
        "six hours is still active"
    );
    edge.clock.advance(Duration::minutes(1));
    fetch(&edge, &incident).await;
    let items = queue(&edge, "all").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(codes(&items[0], "flags"), ["outside_active_incident"]);
    assert_eq!(
        items[0]["flags"][0]["reason"],
        "more than 6 h after the incident was opened"
    );
}

#[tokio::test]
async fn review_an_access_long_after_the_hospital_accepted_is_flagged() {
    let edge = edge_with(|_| {});
    let incident = viewed(&edge, carded_patient(0), GIVEN).await;
    let handoff = hand_off(&edge, &incident).await;
    let (status, body) = edge
        .post(
            &format!("/v1/hospital/handoffs/{handoff}/decision"),
            HOSPITAL_A_TOKEN,
            &json!({"decision": "accepted"}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    edge.clock.advance(Duration::minutes(30));
    shown_again(&edge, &incident).await;
    assert!(
        queue(&edge, "all").await.is_empty(),
        "handing over at the ER"
    );
    edge.clock.advance(Duration::minutes(1));
    shown_again(&edge, &incident).await;
    let items = queue(&edge, "all").await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(codes(&items[0], "queued_for"), ["outside_active_incident"]);
}

/// Signs `index` in to the portal (development sign-in); the session token.
async fn portal_token(edge: &TestEdge, index: u64) -> String {
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(json!({"patient_id": patient_id(index)}).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

async fn portal_history(edge: &TestEdge, token: &str) -> Vec<Value> {
    let (status, body) = edge.get("/portal/v1/history", token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn review_a_patient_flag_queues_a_given_access() {
    let edge = edge_with(|_| {});
    let me = carded_patient(0);
    viewed(&edge, me, GIVEN).await;
    assert!(queue(&edge, "all").await.is_empty());
    let token = portal_token(&edge, me).await;
    let id = portal_history(&edge, &token).await[0]["access_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = edge
        .call(
            Method::POST,
            &format!("/portal/v1/history/{id}/flag"),
            Some(&token),
            Some(r#"{"note":"not me"}"#.into()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let items = queue(&edge, "open").await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["access_id"], id.as_str());
    assert_eq!(codes(&items[0], "queued_for"), ["patient_flag"]);
    assert_eq!(codes(&items[0], "flags"), ["patient_flag"]);
    assert_eq!(items[0]["patient_note"], "not me");
}

#[tokio::test]
async fn review_outcome_is_recorded_logged_and_listed() {
    let edge = edge_with(|_| {});
    let me = carded_patient(0);
    viewed(&edge, me, UNCONSCIOUS).await;
    let given = viewed(&edge, carded_patient(1), GIVEN).await;
    let access = queue(&edge, "open").await[0]["access_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Strict bodies, bounded notes, known outcomes.
    for (body, code) in [
        (r#"{"outcome":"fine"}"#, None),
        (r#"{"outcome":"appropriate","extra":1}"#, None),
        (r#"{"note":"x"}"#, None),
        (
            &format!(
                r#"{{"outcome":"appropriate","note":"{}"}}"#,
                "x".repeat(1001)
            ) as &str,
            Some("note_too_long"),
        ),
    ] {
        let (status, answer) = post_outcome(&edge, &access, OFFICER, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        if let Some(code) = code {
            assert_eq!(answer["code"], code);
        }
    }
    let ok = r#"{"outcome":"appropriate"}"#;
    let (status, answer) =
        post_outcome(&edge, &uuid::Uuid::now_v7().to_string(), OFFICER, ok).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("access_not_found"))
    );
    let (status, answer) = post_outcome(&edge, "not-a-uuid", OFFICER, ok).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("access_not_found"))
    );
    let given_access = edge
        .access_log()
        .into_iter()
        .find(|r| r.incident.map(|i| i.to_string()) == Some(given.clone()))
        .unwrap()
        .id;
    let (status, answer) = post_outcome(&edge, &given_access.0.to_string(), OFFICER, ok).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_in_review_queue"))
    );
    let before = edge.access_log().len();

    let (status, first) = post_outcome(
        &edge,
        &access,
        OFFICER,
        r#"{"outcome":"needs_follow_up","note":"  ask the fire department  "}"#,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["officer_id"], "dev-privacy-officer");
    assert_eq!(first["note"], "ask the fire department");
    edge.clock.advance(Duration::minutes(10));
    let (status, second) = post_outcome(&edge, &access, OFFICER, ok).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");

    // Each finding is an access record of the privacy officer, about the reviewed access.
    let log = edge.access_log();
    assert_eq!(log.len(), before + 2);
    let review = &log[before + 1];
    assert_eq!(
        review.id.0.to_string(),
        second["log_access_id"].as_str().unwrap()
    );
    assert_eq!(review.viewer.role, ViewerRole::PrivacyOfficer);
    assert_eq!(
        review.viewer.staff_id.as_deref(),
        Some("dev-privacy-officer")
    );
    assert_eq!(review.viewer.institution.id, "privacy-office");
    assert_eq!(
        review.patient.as_ref().map(|p| p.0.clone()),
        Some(patient_id(me))
    );
    assert_eq!(
        review.action,
        AccessAction::ReviewAccess {
            reviewed: myna_domain::access::AccessRecordId(access.parse().unwrap()),
            outcome: ReviewOutcome::Appropriate,
        }
    );
    assert!(review.consent.is_none());

    // Listed: reviewed, both findings kept, the latest last; findings are not queued.
    assert!(queue(&edge, "open").await.is_empty());
    let all = queue(&edge, "all").await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["state"], "reviewed");
    let outcomes: Vec<&str> = all[0]["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["needs_follow_up", "appropriate"]);

    // The patient sees the review in the portal, by the privacy office, never the officer.
    let token = portal_token(&edge, me).await;
    let history = portal_history(&edge, &token).await;
    let newest = &history[0];
    assert_eq!(newest["role"], "privacy_officer");
    assert_eq!(newest["action"]["type"], "review_access");
    assert_eq!(newest["institution_id"], "privacy-office");
    let (status, event) = edge
        .get(
            &format!(
                "/portal/v1/history/{}/audit-event",
                newest["access_id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["subtype"][0]["code"], "review_access");
    let (_, page) = edge.get("/portal?lang=en", &token).await;
    let shown = format!("{history:?} {event} {page}");
    assert!(!shown.contains("dev-privacy-officer"), "{shown}");

    // A patient's flag after the finding opens the item again.
    let (status, _) = edge
        .call(
            Method::POST,
            &format!("/portal/v1/history/{access}/flag"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let open = queue(&edge, "open").await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        codes(&open[0], "queued_for"),
        ["difficult_consent", "patient_flag"]
    );

    // The log with the findings in it still verifies.
    edge_agent::transparency::publish(&edge.state)
        .await
        .unwrap();
    let key = LogVerifier::new(edge.state.log_signer.verifier_key()).unwrap();
    let report =
        edge_agent::verify::verify_db(&edge.dir.path().join("edge.sqlite3"), &key).unwrap();
    assert_eq!(report.finding, None);
    assert_eq!(report.entries, edge.access_log().len() as u64);
    assert_eq!(report.unsigned_entries, 0);
}

#[tokio::test]
async fn review_queue_and_outcomes_need_an_officer_token() {
    let edge = edge_with(|_| {});
    viewed(&edge, carded_patient(0), UNCONSCIOUS).await;
    let access = queue(&edge, "open").await[0]["access_id"]
        .as_str()
        .unwrap()
        .to_string();
    let patient = portal_token(&edge, carded_patient(0)).await;
    let ok = r#"{"outcome":"appropriate"}"#;
    // Other roles are 403, no or unknown credentials 401.
    for (token, expected) in [
        (Some(DEVICE), StatusCode::FORBIDDEN),
        (Some(HOSPITAL_A_TOKEN), StatusCode::FORBIDDEN),
        (Some(patient.as_str()), StatusCode::FORBIDDEN),
        (Some("made-up"), StatusCode::UNAUTHORIZED),
        (None, StatusCode::UNAUTHORIZED),
    ] {
        let (status, _) = edge
            .call(Method::GET, "/v1/review-queue", token, None)
            .await;
        assert_eq!(status, expected, "{token:?}");
        let (status, _) = edge
            .call(
                Method::POST,
                &format!("/v1/review-queue/{access}/outcome"),
                token,
                Some(ok.into()),
            )
            .await;
        assert_eq!(status, expected, "{token:?}");
    }
    assert_eq!(
        queue(&edge, "open").await[0]["state"],
        "open",
        "nothing recorded"
    );
}

#[tokio::test]
async fn review_listing_carries_no_record_content() {
    let edge = edge_with(|_| {});
    let me = carded_patient(0);
    let incident = viewed(&edge, me, UNCONSCIOUS).await;
    hand_off(&edge, &incident).await;
    let (status, body) = edge.get("/v1/review-queue?state=all", OFFICER).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let text = body.to_string();
    let patient = population::patient(edge_seed(), me, today());
    // No field of a summary, a record or a notice; no staff id; nothing about the person.
    let keys = [
        "summary",
        "kinds",
        "records",
        "medications",
        "allergies",
        "labs",
        "vitals",
        "chief_complaint",
        "name",
        "birth_date",
        "staff_id",
    ]
    .map(|key| format!("\"{key}\""));
    for absent in keys.iter().map(String::as_str).chain([
        "crew-",
        patient.header.name.as_str(),
        &patient.header.birth_date.to_string(),
        patient.address.as_str(),
    ]) {
        assert!(!text.contains(absent), "{absent:?} in {text}");
    }
}
