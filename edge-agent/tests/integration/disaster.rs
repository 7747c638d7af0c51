//! Disaster mode: outside a declared disaster a crew's basic-facts identification is
//! refused (and logged); within the declared area and period it identifies the patient;
//! only operators declare, and declarations are checked.

use axum::http::StatusCode;
use chrono::Duration;
use myna_domain::access::IncidentId;
use myna_domain::identity::{AddressOrInsurer, BasicFacts};
use myna_domain::wire::{IdentityEvidenceDto, OpenIncidentRequest};
use serde_json::{Value, json};

use crate::support::*;

const OPERATOR: &str = "dev-operator-token";

/// Opening an incident by the four basic facts of seeded patient `index`.
fn facts_request(index: u64) -> OpenIncidentRequest {
    let patient = population::patient(edge_seed(), index, today());
    OpenIncidentRequest {
        incident_id: IncidentId(uuid::Uuid::new_v4()),
        crew_member_id: "crew-0042".into(),
        identity: IdentityEvidenceDto::BasicFacts {
            facts: BasicFacts {
                name: patient.header.name,
                birth_date: patient.header.birth_date,
                sex: patient.header.sex,
                address_or_insurer: AddressOrInsurer::Address(patient.address),
            },
        },
    }
}

async fn declare(
    edge: &TestEdge,
    token: &str,
    area: &str,
    hours: (i64, i64),
) -> (StatusCode, Value) {
    let now = edge.state.clock.now();
    edge.post(
        "/v1/disasters",
        token,
        &json!({
            "name": "令和8年 首都直下地震",
            "area": area,
            "starts_at": now + Duration::hours(hours.0),
            "ends_at": now + Duration::hours(hours.1),
        }),
    )
    .await
}

#[tokio::test]
async fn disaster_basic_facts_only_within_a_declared_area_and_period() {
    let edge = TestEdge::new();
    // No declaration: refused, and the attempt is in the log.
    let (status, body) = edge.post("/v1/incidents", DEVICE, &facts_request(0)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("outside_declared_disaster")
        ),
        "{body}"
    );
    assert_eq!(
        edge.access_log().last().and_then(denial),
        Some(myna_domain::access::DenialReason::OutsideDeclaredDisaster)
    );
    // Another prefecture, and a period that has not begun, do not count.
    assert_eq!(
        declare(&edge, OPERATOR, "27", (-1, 24)).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        declare(&edge, OPERATOR, "13", (2, 24)).await.0,
        StatusCode::CREATED
    );
    let (status, _) = edge.post("/v1/incidents", DEVICE, &facts_request(0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, active) = edge.get("/v1/disasters/active", DEVICE).await;
    assert_eq!(active["disasters"].as_array().unwrap().len(), 0);

    // Tokyo now: the Setagaya crew (13112) identifies by the four facts.
    let (status, declared) = declare(&edge, OPERATOR, "13", (-1, 24)).await;
    assert_eq!(status, StatusCode::CREATED, "{declared}");
    let (_, active) = edge.get("/v1/disasters/active", DEVICE).await;
    assert_eq!(active["disasters"][0]["id"], declared["id"]);
    let (status, body) = edge.post("/v1/incidents", DEVICE, &facts_request(0)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["assurance"], "basic_facts_only");
    // Made-up facts still find nobody, with the same answer as any unknown patient.
    let mut made_up = facts_request(0);
    if let IdentityEvidenceDto::BasicFacts { facts } = &mut made_up.identity {
        facts.name = "存在 しない".into();
    }
    let (status, body) = edge.post("/v1/incidents", DEVICE, &made_up).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_patient")),
        "{body}"
    );
    // The Osaka crew (Kita ward, 27127) is covered by the Osaka declaration that began an
    // hour ago, not by Tokyo's.
    let (status, _) = edge
        .post("/v1/incidents", "dev-device-token-3", &facts_request(1))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // After the period, refused again.
    edge.clock.advance(Duration::hours(25));
    let (status, body) = edge.post("/v1/incidents", DEVICE, &facts_request(2)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("outside_declared_disaster")
        )
    );
}

#[tokio::test]
async fn disaster_only_operators_declare_and_declarations_are_checked() {
    let edge = TestEdge::new();
    for (token, status) in [
        (DEVICE, StatusCode::FORBIDDEN),
        ("dev-privacy-officer-token", StatusCode::FORBIDDEN),
        ("nobody", StatusCode::UNAUTHORIZED),
    ] {
        assert_eq!(
            declare(&edge, token, "13", (0, 1)).await.0,
            status,
            "{token}"
        );
        assert_eq!(edge.get("/v1/disasters", token).await.0, status, "{token}");
    }
    for (area, hours) in [
        ("99", (0, 1)),
        ("131", (0, 1)),
        ("13", (1, 1)),
        ("13", (0, 24 * 31)),
    ] {
        let (status, body) = declare(&edge, OPERATOR, area, hours).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{area} {hours:?}: {body}"
        );
    }
    let (status, _) = edge
        .post("/v1/disasters", OPERATOR, &json!({"name": "x", "area": "13", "starts_at": "2026-11-25T00:00:00Z", "ends_at": "2026-11-26T00:00:00Z", "extra": 1}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    assert_eq!(
        declare(&edge, OPERATOR, "13112", (0, 1)).await.0,
        StatusCode::CREATED
    );
    let (status, list) = edge.get("/v1/disasters", OPERATOR).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["disasters"].as_array().unwrap().len(), 1);
    assert_eq!(list["disasters"][0]["area"], "13112");
    assert_eq!(
        edge.get("/v1/disasters/active", "nobody").await.0,
        StatusCode::UNAUTHORIZED
    );
}
