//! Who may call what. [`SPEC`] is the specification, written out by hand: every route ×
//! every role × own/other resource, allow or deny. Each cell is called against a real
//! edge (fresh resources per cell); an allowed call must succeed (2xx, or the portal
//! page), a denied one must be refused (401, 403, or 404 for another's resource) **and**
//! leave a row in the security log. docs/api.md prints the route table the edge enforces;
//! two tests check it is that table and that every route it describes is served.

use axum::http::{Method, StatusCode};
use edge_agent::api::authz;
use edge_agent::config::{DeviceRegistration, HospitalEndpoint};
use myna_domain::access::{
    AccessAction, AccessOutcome, DenialReason, IncidentId, Institution, InstitutionKind,
};
use myna_domain::certificate::portal_sign_in_message;
use myna_domain::wire::{PortalChallenge, PortalSignInRequest};
use serde_json::json;

use crate::support::*;

/// A tablet of the same ambulance unit as [`DEVICE`] (Setagaya Ambulance 1).
const SAME_UNIT_DEVICE: &str = "authz-same-unit-tablet";
const OFFICER: &str = "dev-privacy-officer-token";
const OPERATOR: &str = "dev-operator-token";
const UNCONSCIOUS: &str = r#"{"decision":"difficult","reason":{"kind":"unconscious"}}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Paramedic,
    ErStaff,
    Officer,
    Patient,
    Operator,
}

const CALLERS: [Caller; 6] = [
    Caller::Anonymous,
    Caller::Paramedic,
    Caller::ErStaff,
    Caller::Officer,
    Caller::Patient,
    Caller::Operator,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The route has no owned resource.
    None,
    /// The caller's own: its unit's incident, its tablet's handoff, its hospital's
    /// handoff, its own history entry.
    Own,
    /// Another unit's, tablet's, hospital's or patient's.
    Other,
}

/// `A`: allowed, `D`: denied; per caller in [`CALLERS`] order: anonymous, paramedic, ER
/// staff, privacy officer, patient, operator. For owned resources, the own and the other
/// row. Written from the issue's roles, not from the edge's table.
#[rustfmt::skip]
const SPEC: &[(&str, &str, Target, &str)] = &[
    ("POST", "/v1/identity-challenges", Target::None, "DADDDD"),
    ("POST", "/v1/incidents", Target::None, "DADDDD"),
    ("PUT", "/v1/incidents/{id}/consent", Target::Own, "DADDDD"),
    ("PUT", "/v1/incidents/{id}/consent", Target::Other, "DDDDDD"),
    ("GET", "/v1/incidents/{id}/summary", Target::Own, "DADDDD"),
    ("GET", "/v1/incidents/{id}/summary", Target::Other, "DDDDDD"),
    ("POST", "/v1/incidents/{id}/device-views", Target::Own, "DADDDD"),
    ("POST", "/v1/incidents/{id}/device-views", Target::Other, "DDDDDD"),
    ("POST", "/v1/incidents/{id}/handoff", Target::Own, "DADDDD"),
    ("POST", "/v1/incidents/{id}/handoff", Target::Other, "DDDDDD"),
    ("GET", "/v1/hospitals", Target::None, "DADDDD"),
    ("GET", "/v1/handoffs/{id}", Target::Own, "DADDDD"),
    ("GET", "/v1/handoffs/{id}", Target::Other, "DDDDDD"),
    ("POST", "/v1/handoffs/{id}/withdraw", Target::Own, "DADDDD"),
    ("POST", "/v1/handoffs/{id}/withdraw", Target::Other, "DDDDDD"),
    ("POST", "/v1/hospital/handoffs/{id}/decision", Target::Own, "DDADDD"),
    ("POST", "/v1/hospital/handoffs/{id}/decision", Target::Other, "DDDDDD"),
    ("GET", "/v1/disasters/active", Target::None, "DADDDD"),
    ("GET", "/v1/disasters", Target::None, "DDDDDA"),
    ("POST", "/v1/disasters", Target::None, "DDDDDA"),
    ("GET", "/v1/review-queue", Target::None, "DDDADD"),
    ("POST", "/v1/review-queue/{id}/outcome", Target::None, "DDDADD"),
    ("GET", "/v1/auth-denials", Target::None, "DDDADA"),
    ("GET", "/portal/v1/history", Target::None, "DDDDAD"),
    ("GET", "/portal/v1/history/{id}/proof", Target::Own, "DDDDAD"),
    ("GET", "/portal/v1/history/{id}/proof", Target::Other, "DDDDDD"),
    ("GET", "/portal/v1/history/{id}/audit-event", Target::Own, "DDDDAD"),
    ("GET", "/portal/v1/history/{id}/audit-event", Target::Other, "DDDDDD"),
    ("POST", "/portal/v1/history/{id}/flag", Target::Own, "DDDDAD"),
    ("POST", "/portal/v1/history/{id}/flag", Target::Other, "DDDDDD"),
    ("GET", "/portal", Target::None, "DDDDAD"),
    ("POST", "/portal/history/{id}/flag", Target::Own, "DDDDAD"),
    ("POST", "/portal/v1/sign-in/challenges", Target::None, "AAAAAA"),
    ("POST", "/portal/v1/sign-in", Target::None, "AAAAAA"),
    ("GET", "/portal/sign-in", Target::None, "AAAAAA"),
    ("POST", "/portal/v1/dev-sign-in", Target::None, "AAAAAA"),
    ("GET", "/portal/dev-sign-in", Target::None, "AAAAAA"),
    ("GET", "/v1/log/key", Target::None, "AAAAAA"),
    ("GET", "/v1/log/checkpoint", Target::None, "AAAAAA"),
    ("GET", "/v1/log/proof/inclusion", Target::None, "AAAAAA"),
    ("GET", "/v1/log/proof/consistency", Target::None, "AAAAAA"),
    ("GET", "/healthz", Target::None, "AAAAAA"),
    ("GET", "/readyz", Target::None, "AAAAAA"),
    ("GET", "/openapi.json", Target::None, "AAAAAA"),
];

/// The edge: two emergency hospitals, a second tablet in [`DEVICE`]'s unit, a clinic; a
/// current CRL, so it is ready (`/readyz` answers 200).
fn edge() -> TestEdge {
    TestEdge::with(|config| {
        let config = config
            .with_card_trust(vec![CARD_CA.der()], vec![CARD_CA.crl(&[])])
            .unwrap();
        let mut config = with_two_hospitals(config);
        let first = config.devices[0].clone();
        config.devices.push(DeviceRegistration {
            token: SAME_UNIT_DEVICE.into(),
            device_id: "tablet-tfd-0009".into(),
            ..first
        });
        config.hospitals.push(HospitalEndpoint {
            institution: Institution {
                id: "clinic-c".into(),
                name: "Clinic C".into(),
                kind: InstitutionKind::Clinic,
            },
            base_url: "http://127.0.0.1:9".into(),
            token: "clinic-c-token".into(),
            location: None,
        });
        config
    })
}

/// What one cell needs: the caller's token and the request.
struct Call {
    token: Option<String>,
    method: Method,
    path: String,
    body: Option<String>,
}

async fn patient_session(edge: &TestEdge, index: u64) -> String {
    let (status, body) = edge
        .call(
            Method::POST,
            "/portal/v1/dev-sign-in",
            None,
            Some(json!({ "patient_id": patient_id(index) }).to_string()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// An incident opened by `device` for seeded patient `index`, consent given, summary
/// fetched (so a view on the tablet can be reported).
async fn incident(edge: &TestEdge, device: &str, index: u64) -> String {
    let incident = open_with_consent(edge, device, index, r#"{"decision":"given"}"#).await;
    let (status, body) = edge
        .get(&format!("/v1/incidents/{incident}/summary"), device)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    incident
}

async fn handoff(edge: &TestEdge, device: &str, index: u64, hospital: &str) -> String {
    let incident = incident(edge, device, index).await;
    let (status, body) = edge
        .post(
            &format!("/v1/incidents/{incident}/handoff"),
            device,
            &json!({"hospital_id": hospital, "chief_complaint": "chest pain", "eta_minutes": 7}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    body["handoff_id"].as_str().unwrap().to_string()
}

/// The id of the newest access record of seeded patient `index`.
fn newest_access_of(edge: &TestEdge, index: u64) -> String {
    let patient = patient_id(index);
    edge.access_log()
        .into_iter()
        .rev()
        .find(|r| r.patient.as_ref().map(|p| p.0.as_str()) == Some(patient.as_str()))
        .unwrap()
        .id
        .0
        .to_string()
}

/// Builds the request of one cell, creating the resources it needs first. Patients 0 and
/// 1 are the signed-in patient's own and another's; crews use further patients.
async fn call(
    edge: &TestEdge,
    method: &str,
    route: &str,
    target: Target,
    caller: Caller,
    n: u64,
) -> Call {
    let own = target != Target::Other;
    let token = match caller {
        Caller::Anonymous => None,
        Caller::Paramedic => Some(DEVICE.to_string()),
        Caller::ErStaff => Some(HOSPITAL_A_TOKEN.to_string()),
        Caller::Officer => Some(OFFICER.to_string()),
        Caller::Patient => Some(patient_session(edge, carded_patient(0)).await),
        Caller::Operator => Some(OPERATOR.to_string()),
    };
    // Crews' incidents: own unit = the other tablet of DEVICE's unit; other = another unit.
    let crew = if own { SAME_UNIT_DEVICE } else { OTHER_DEVICE };
    let patient = carded_patient(2 + (n % 40) as usize);
    let now = edge.state.clock.now();
    let (path, body) = match route {
        "/v1/identity-challenges" => (route.to_string(), None),
        "/v1/incidents" => {
            let request = open_request(IncidentId(uuid::Uuid::new_v4()), &card_for(patient));
            (
                route.to_string(),
                Some(serde_json::to_string(&request).unwrap()),
            )
        }
        "/v1/incidents/{id}/consent" => {
            let id = incident(edge, crew, patient).await;
            (
                format!("/v1/incidents/{id}/consent"),
                Some(r#"{"decision":"given"}"#.into()),
            )
        }
        "/v1/incidents/{id}/summary" => (
            format!(
                "/v1/incidents/{}/summary",
                incident(edge, crew, patient).await
            ),
            None,
        ),
        "/v1/incidents/{id}/device-views" => {
            let id = incident(edge, crew, patient).await;
            // A view is reported by the tablet that holds the copy.
            if own {
                let (status, _) = edge
                    .get(&format!("/v1/incidents/{id}/summary"), DEVICE)
                    .await;
                assert_eq!(status, StatusCode::OK);
            }
            let report = json!({"view_id": uuid::Uuid::now_v7(), "viewed_at": now});
            (
                format!("/v1/incidents/{id}/device-views"),
                Some(report.to_string()),
            )
        }
        "/v1/incidents/{id}/handoff" => {
            let id = incident(edge, crew, patient).await;
            let body =
                json!({"hospital_id": "hosp-a", "chief_complaint": "fall", "eta_minutes": 9});
            (
                format!("/v1/incidents/{id}/handoff"),
                Some(body.to_string()),
            )
        }
        "/v1/handoffs/{id}" | "/v1/handoffs/{id}/withdraw" => {
            // A handoff is its tablet's: own = DEVICE's, other = another tablet's.
            let by = if own { DEVICE } else { OTHER_DEVICE };
            let id = handoff(edge, by, patient, "hosp-a").await;
            let path = route.replace("{id}", &id);
            (path, None)
        }
        "/v1/hospital/handoffs/{id}/decision" => {
            let hospital = if own { "hosp-a" } else { "hosp-b" };
            let id = handoff(edge, DEVICE, patient, hospital).await;
            let path = route.replace("{id}", &id);
            (path, Some(r#"{"decision":"accepted"}"#.into()))
        }
        "/v1/disasters" if method == "POST" => {
            let body = json!({"name": "訓練 drill", "area": "13",
                              "starts_at": now, "ends_at": now + chrono::Duration::hours(1)});
            (route.to_string(), Some(body.to_string()))
        }
        "/portal/v1/history/{id}/proof"
        | "/portal/v1/history/{id}/audit-event"
        | "/portal/v1/history/{id}/flag"
        | "/portal/history/{id}/flag" => {
            // Own = the signed-in patient's (patient 0), other = patient 1's.
            let whose = carded_patient(if own { 0 } else { 1 });
            incident(edge, DEVICE, whose).await;
            let id = newest_access_of(edge, whose);
            let body = route.ends_with("/flag").then(|| {
                if route.starts_with("/portal/v1") {
                    r#"{"note":"not me"}"#.to_string()
                } else {
                    String::new()
                }
            });
            (route.replace("{id}", &id), body)
        }
        "/v1/review-queue/{id}/outcome" => {
            // An access without consent is in the queue.
            let id = open_with_consent(edge, DEVICE, patient, UNCONSCIOUS).await;
            let (status, _) = edge
                .get(&format!("/v1/incidents/{id}/summary"), DEVICE)
                .await;
            assert_eq!(status, StatusCode::OK);
            let access = newest_access_of(edge, patient);
            let body = json!({"outcome": "appropriate", "note": "unconscious, treated"});
            (route.replace("{id}", &access), Some(body.to_string()))
        }
        "/portal/v1/sign-in" => {
            let (status, body) = edge
                .call(Method::POST, "/portal/v1/sign-in/challenges", None, None)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let challenge: PortalChallenge = serde_json::from_value(body).unwrap();
            let message = portal_sign_in_message(&challenge.challenge().unwrap());
            let request = PortalSignInRequest::new(
                &pin_card_for(carded_patient(0)),
                challenge.challenge_id,
                &CARD_KEY.sign(&message),
            );
            (
                route.to_string(),
                Some(serde_json::to_string(&request).unwrap()),
            )
        }
        "/portal/v1/dev-sign-in" => (
            route.to_string(),
            Some(json!({ "patient_id": patient_id(carded_patient(0)) }).to_string()),
        ),
        "/v1/log/proof/inclusion" => {
            edge_agent::transparency::publish(&edge.state)
                .await
                .unwrap();
            (format!("{route}?index=0&tree_size=1"), None)
        }
        "/v1/log/proof/consistency" => {
            edge_agent::transparency::publish(&edge.state)
                .await
                .unwrap();
            (format!("{route}?from=1&to=1"), None)
        }
        "/v1/log/checkpoint" => {
            edge_agent::transparency::publish(&edge.state)
                .await
                .unwrap();
            (route.to_string(), None)
        }
        _ => (route.to_string(), None),
    };
    Call {
        token,
        method: method.parse().unwrap(),
        path,
        body,
    }
}

/// An HTML form post (the portal's flag form), empty note.
async fn form_post(
    edge: &TestEdge,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request =
        axum::http::Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(axum::body::Body::from("note=")).unwrap();
    let response = edge_agent::app(edge.state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into())
}

fn denial_count(edge: &TestEdge) -> i64 {
    edge.raw_connection()
        .query_row("SELECT COUNT(*) FROM auth_denials", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authz_every_role_on_every_route_own_and_other() {
    let edge = edge();
    // Some history for the patients, so the log endpoints have a tree.
    incident(&edge, DEVICE, carded_patient(0)).await;
    let mut failures = Vec::new();
    let mut n = 0;
    for (method, route, target, cells) in SPEC {
        for (caller, cell) in CALLERS.iter().zip(cells.chars()) {
            n += 1;
            let call = call(&edge, method, route, *target, *caller, n).await;
            let before = denial_count(&edge);
            let (status, body) = if route.starts_with("/portal/history") {
                form_post(&edge, &call.path, call.token.as_deref()).await
            } else {
                edge.call(
                    call.method.clone(),
                    &call.path,
                    call.token.as_deref(),
                    call.body,
                )
                .await
            };
            let logged = denial_count(&edge) - before;
            let allowed = cell == 'A';
            let ok = if allowed {
                (status.is_success() || status.is_redirection()) && logged == 0
            } else {
                let refused = matches!(
                    status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
                ) || (status == StatusCode::SEE_OTHER
                    && caller == &Caller::Anonymous);
                refused && logged == 1
            };
            if !ok {
                failures.push(format!(
                    "{method} {route} {target:?} as {caller:?}: expected {}, got {status} with {logged} denial rows: {body}",
                    if allowed { "allow" } else { "deny" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn authz_the_spec_covers_every_route_the_edge_serves() {
    for rule in authz::ROUTES {
        assert!(
            SPEC.iter()
                .any(|(m, p, ..)| *m == rule.method && *p == rule.path),
            "{} {} has no row in the spec",
            rule.method,
            rule.path
        );
    }
    for (method, path, ..) in SPEC {
        assert!(
            authz::ROUTES
                .iter()
                .any(|r| r.method == *method && r.path == *path),
            "{method} {path} is in the spec but not served"
        );
    }
}

/// docs/api.md, the API reference.
fn api_doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md")).unwrap()
}

#[test]
fn authz_the_api_doc_prints_the_table_the_edge_enforces() {
    let doc = api_doc();
    let table = authz::markdown_table();
    let header = table.lines().next().unwrap();
    let start = doc
        .find(header)
        .expect("docs/api.md has no route table (its header line is missing)");
    let printed: String = doc[start..]
        .lines()
        .take_while(|line| line.starts_with('|'))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        printed, table,
        "docs/api.md must hold the route table exactly as `authz::markdown_table()` prints it \
         (every route with its roles, and no other row)"
    );
}

#[test]
fn authz_every_route_the_api_doc_describes_is_in_the_table() {
    // A reference row is `| GET | `/v1/path?query` | answer |`; parameters like `{access_id}`
    // match the table's `{id}`.
    let shape = |path: &str| {
        let path = path.split('?').next().unwrap();
        let mut out = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => in_param = true,
                '}' => {
                    in_param = false;
                    out.push_str("{}");
                }
                _ if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    };
    let mut described = 0;
    for line in api_doc().lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let [_, method, path, ..] = cells[..] else {
            continue;
        };
        if !["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&method) {
            continue;
        }
        let path = path.trim_matches('`');
        assert!(
            authz::ROUTES
                .iter()
                .any(|rule| rule.method == method && shape(rule.path) == shape(path)),
            "docs/api.md describes {method} {path}, which is not in `authz::ROUTES`"
        );
        described += 1;
    }
    assert!(described > 0, "docs/api.md describes no route");
}

#[tokio::test]
async fn authz_clinics_and_pharmacies_never_receive_an_emergency_view() {
    let edge = edge();
    let (_, list) = edge.get("/v1/hospitals", DEVICE).await;
    let ids: Vec<&str> = list["hospitals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"hosp-a") && !ids.contains(&"clinic-c"),
        "{ids:?}"
    );

    let id = incident(&edge, DEVICE, carded_patient(3)).await;
    let (status, body) = edge
        .post(
            &format!("/v1/incidents/{id}/handoff"),
            DEVICE,
            &json!({"hospital_id": "clinic-c", "chief_complaint": "fall", "eta_minutes": 9}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("not_emergency_receiving")),
        "{body}"
    );
    let last = edge.access_log().pop().unwrap();
    assert_eq!(
        last.action,
        AccessAction::RelayToHospital {
            hospital_id: "clinic-c".into()
        }
    );
    assert_eq!(
        last.outcome,
        AccessOutcome::Denied {
            reason: DenialReason::NotEmergencyReceiving
        }
    );
    // Nothing was queued for the clinic.
    let queued: i64 = edge
        .raw_connection()
        .query_row(
            "SELECT COUNT(*) FROM hospital_outbox WHERE hospital_id = 'clinic-c'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 0);
    // A clinic configured like a hospital is not ER staff: its token identifies no one.
    let (status, _) = edge
        .post(
            &format!("/v1/hospital/handoffs/{}/decision", uuid::Uuid::new_v4()),
            "clinic-c-token",
            &json!({"decision": "accepted"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn authz_an_incident_closes_to_its_crew_after_twelve_hours() {
    let edge = edge();
    let id = incident(&edge, DEVICE, carded_patient(4)).await;
    edge.clock
        .advance(myna_domain::policy::INCIDENT_ACTIVE_FOR - chrono::Duration::minutes(1));
    let summary = format!("/v1/incidents/{id}/summary");
    assert_eq!(edge.get(&summary, DEVICE).await.0, StatusCode::OK);
    edge.clock.advance(chrono::Duration::minutes(1));
    let (status, body) = edge.get(&summary, DEVICE).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("incident_not_active"))
    );
    assert_eq!(
        edge.access_log().pop().unwrap().outcome,
        AccessOutcome::Denied {
            reason: DenialReason::IncidentNotActive
        }
    );
    // A view already made on the tablet is still recorded, whatever the age.
    let report = json!({"view_id": uuid::Uuid::now_v7(), "viewed_at": edge.state.clock.now()});
    let (status, body) = edge
        .post(&format!("/v1/incidents/{id}/device-views"), DEVICE, &report)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn authz_refusals_are_listed_for_the_privacy_officer_and_the_operator() {
    let edge = edge();
    let id = incident(&edge, SAME_UNIT_DEVICE, carded_patient(5)).await;
    // Another unit's tablet asks for the incident; a device token asks for the queue.
    let (status, _) = edge
        .get(&format!("/v1/incidents/{id}/summary"), OTHER_DEVICE)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        edge.get("/v1/review-queue", DEVICE).await.0,
        StatusCode::FORBIDDEN
    );
    for token in [OFFICER, OPERATOR] {
        let (status, body) = edge.get("/v1/auth-denials?limit=2", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let denials = body["denials"].as_array().unwrap();
        assert_eq!(denials.len(), 2, "{body}");
        assert_eq!(denials[0]["reason"], "role_not_allowed");
        assert_eq!(denials[0]["principal"], "tablet-tfd-0001");
        assert_eq!(denials[0]["route"], "/v1/review-queue");
        assert_eq!(denials[1]["reason"], "outside_scope");
        assert_eq!(denials[1]["role"], "paramedic");
        assert_eq!(denials[1]["principal"], "tablet-tfd-0002");
        assert_eq!(
            denials[1]["resource"],
            format!("/v1/incidents/{id}/summary")
        );
    }
    assert_eq!(
        edge.get("/v1/auth-denials?limit=0", OFFICER).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
