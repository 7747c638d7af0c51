//! Handoffs across the tablet core, edge-agent and hospital-view: the ER accepts, the ER
//! declines and the crew re-routes, the other hospital never sees the patient, and a lost
//! acknowledgement is retried into exactly one arrival.

use std::sync::Arc;

use e2e::{Fixture, Front, FrontMode};
use mobile_core::{EmergencyIncident, MobileError};
use myna_domain::access::{AccessAction, AccessOutcome};
use myna_domain::consent::ConsentState;
use myna_domain::handoff::{DeclineReason, GeoPoint, HandoffStatus};
use myna_domain::wire::{HandoffRequest, Vitals};
use simulations::scenario::tap;
use simulations::stack::StackConfig;
use tokio::net::TcpListener;

/// An incident with the card read, identity confirmed, consent given and the summary seen.
async fn incident_at_summary(f: &Fixture, patient: u64) -> Arc<EmergencyIncident> {
    let incident = f.dispatcher.incident("crew-0042").unwrap();
    tap(&incident, f.dispatcher.card(patient).await.unwrap())
        .await
        .unwrap();
    incident.confirm_identity(true).await.unwrap();
    incident.record_consent(ConsentState::Given).await.unwrap();
    incident.fetch_summary().await.unwrap();
    incident
}

fn request(f: &Fixture, hospital: usize) -> HandoffRequest {
    HandoffRequest {
        hospital_id: f.stack.hospitals[hospital].id.clone(),
        chief_complaint: "胸痛 Chest pain".into(),
        eta_minutes: 9,
        vitals: Vitals {
            heart_rate: Some(118),
            systolic_mmhg: Some(92),
            ..Vitals::default()
        },
        handoff_id: None,
        scene: None,
    }
}

/// The ER of hospital `hospital` answers through its dashboard's form.
async fn answer(f: &Fixture, hospital: usize, handoff: uuid::Uuid, form: &[(&str, &str)]) {
    let cookie = f.staff_cookie(hospital).await;
    let response = f
        .browser()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!(
            "{}/arrivals/{handoff}/answer",
            f.stack.hospitals[hospital].url
        ))
        .header(reqwest::header::COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
}

/// Waits (up to 10 s) until the tablet sees the handoff leave `known`.
async fn next_state(
    incident: &EmergencyIncident,
    handoff: uuid::Uuid,
    known: &str,
) -> HandoffStatus {
    for _ in 0..3 {
        let state = incident.handoff_state(handoff, Some(known)).await.unwrap();
        let tag = state.status.tag();
        if state.status.is_final() {
            return state.status;
        }
        if tag != known {
            return state.status;
        }
    }
    panic!("the handoff stayed {known}");
}

#[tokio::test]
async fn handoff_accept_reaches_the_tablet_and_no_other_hospital() {
    let f = Fixture::start(40).await;
    let incident = incident_at_summary(&f, f.patient(0)).await;

    // The hospital list is ordered by distance from the scene (near Meguro station).
    let meguro_station = GeoPoint::new(35.6339, 139.7157).unwrap();
    let near = incident.hospitals_near(meguro_station).await.unwrap();
    assert_eq!(near[0].id, f.stack.hospitals[1].id, "{near:?}");
    assert!(near[0].distance_m.unwrap() < near[1].distance_m.unwrap());
    assert_eq!((near[0].tier, near[1].tier), (2, 3));

    let sent = incident.hand_off(request(&f, 0)).await.unwrap();
    assert!(sent.delivered && sent.records_shared == Some(true));
    let state = incident.handoff_state(sent.handoff_id, None).await.unwrap();
    assert_eq!(state.status, HandoffStatus::Sent { delivered: true });
    assert_eq!(state.hospital_name, f.stack.hospitals[0].name);

    answer(&f, 0, sent.handoff_id, &[("decision", "accepted")]).await;
    assert_eq!(
        next_state(&incident, sent.handoff_id, "delivered").await,
        HandoffStatus::Accepted
    );
    // The dashboard says the crew heard it.
    let detail = f
        .http
        .get(format!(
            "{}/arrivals/{}",
            f.stack.hospitals[0].url, sent.handoff_id
        ))
        .header(reqwest::header::COOKIE, f.staff_cookie(0).await)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(detail.contains("ACCEPTED"), "{detail}");
    assert!(detail.contains("Crew notified"), "{detail}");

    // While a hospital holds the patient, a second handoff is refused and nothing is
    // sent or logged for it.
    let records_before = f.access_log().len();
    let second = incident.hand_off(request(&f, 1)).await;
    assert!(
        matches!(&second, Err(MobileError::Rejected { code, .. }) if code == "handoff_open"),
        "{second:?}"
    );
    assert_eq!(f.access_log().len(), records_before);

    assert_eq!(f.arrivals(0).await.len(), 1);
    assert!(
        f.arrivals(1).await.is_empty(),
        "hospital B never receives A's patient"
    );
    let relays: Vec<_> = f
        .log_for(&incident.incident_id())
        .into_iter()
        .filter(|r| matches!(r.action, AccessAction::RelayToHospital { .. }))
        .collect();
    assert_eq!(relays.len(), 1, "every relay is an access record");
    assert_eq!(relays[0].viewer.institution.id, f.stack.hospitals[0].id);
    assert!(matches!(relays[0].outcome, AccessOutcome::Disclosed { .. }));
}

#[tokio::test]
async fn handoff_decline_lets_the_crew_pick_the_next_hospital() {
    let f = Fixture::start(40).await;
    let incident = incident_at_summary(&f, f.patient(1)).await;

    let first = incident.hand_off(request(&f, 0)).await.unwrap();
    answer(
        &f,
        0,
        first.handoff_id,
        &[("decision", "declined"), ("reason", "no_beds")],
    )
    .await;
    assert_eq!(
        next_state(&incident, first.handoff_id, "delivered").await,
        HandoffStatus::Declined {
            reason: DeclineReason::NoBeds
        }
    );
    // Answering again differently is refused by the dashboard: the first answer stands.
    let cookie = f.staff_cookie(0).await;
    let late = f
        .http
        .post(format!(
            "{}/arrivals/{}/answer",
            f.stack.hospitals[0].url, first.handoff_id
        ))
        .header(reqwest::header::COOKIE, cookie)
        .form(&[("decision", "accepted")])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), reqwest::StatusCode::CONFLICT);

    let second = incident.hand_off(request(&f, 1)).await.unwrap();
    assert!(second.delivered);
    answer(&f, 1, second.handoff_id, &[("decision", "accepted")]).await;
    assert_eq!(
        next_state(&incident, second.handoff_id, "delivered").await,
        HandoffStatus::Accepted
    );
    let (a, b) = (f.arrivals(0).await, f.arrivals(1).await);
    assert_eq!((a.len(), b.len()), (1, 1));
    assert_eq!(a[0].incident_id, b[0].incident_id);
    let relayed_to: Vec<String> = f
        .log_for(&incident.incident_id())
        .into_iter()
        .filter_map(|r| match r.action {
            AccessAction::RelayToHospital { hospital_id } => Some(hospital_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        relayed_to,
        vec![
            f.stack.hospitals[0].id.clone(),
            f.stack.hospitals[1].id.clone()
        ]
    );
}

#[tokio::test]
async fn handoff_withdrawal_reaches_the_dashboard() {
    let f = Fixture::start(40).await;
    let incident = incident_at_summary(&f, f.patient(2)).await;
    let sent = incident.hand_off(request(&f, 0)).await.unwrap();
    let withdrawn = incident.withdraw_handoff(sent.handoff_id).await.unwrap();
    let withdrawn = withdrawn.expect("delivered at once: the edge is up");
    assert_eq!(withdrawn.status, HandoffStatus::Withdrawn);
    // The hospital cannot accept it any more.
    let late = f
        .http
        .post(format!(
            "{}/arrivals/{}/answer",
            f.stack.hospitals[0].url, sent.handoff_id
        ))
        .header(reqwest::header::COOKIE, f.staff_cookie(0).await)
        .form(&[("decision", "accepted")])
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), reqwest::StatusCode::CONFLICT);
    let page = f.dashboard_html().await;
    assert!(page.contains("WITHDRAWN"), "{page}");
    assert!(!page.contains("Crew notified"), "{page}");
}

#[tokio::test]
async fn handoff_retry_after_a_dropped_connection_delivers_exactly_once() {
    // The edge is configured with the proxy's address; the proxy learns the
    // hospital-view's once the stack runs.
    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = StackConfig::ephemeral(dir.path().to_path_buf(), 40);
    config.hospital_fronts = [
        Some(format!("http://{}", listener.local_addr().unwrap())),
        None,
    ];
    let f = Fixture::start_with(dir, config).await;
    // The hospital stores the arrival; the edge never hears so.
    let front = Front::start(listener, &f.stack.hospitals[0].url);
    front.set(FrontMode::LoseAnswers);

    let incident = incident_at_summary(&f, f.patient(3)).await;
    let sent = incident.hand_off(request(&f, 0)).await.unwrap();
    assert!(!sent.delivered, "the acknowledgement was lost");
    assert_eq!(front.answers_lost(), 1);
    // Back to normal well before the edge's outbox retries (one second later).
    front.set(FrontMode::Up);
    // The outbox retries after a second; the hospital answers the repeat "already stored".
    assert_eq!(
        next_state(&incident, sent.handoff_id, "sent").await,
        HandoffStatus::Sent { delivered: true }
    );
    let arrivals = f.arrivals(0).await;
    assert_eq!(arrivals.len(), 1, "stored once");
    assert_eq!(arrivals[0].handoff_id, sent.handoff_id);
    let page = f.dashboard_html().await;
    assert_eq!(
        page.matches(&format!(r#"id="arrival-{}""#, sent.handoff_id))
            .count(),
        1,
        "shown once"
    );
}

#[tokio::test]
async fn handoff_over_mtls_names_the_tablet_certificate_and_the_er_answer_arrives() {
    let f = Fixture::start_with_edge_tls(40).await;
    assert!(f.stack.edge_url.starts_with("https://"));
    // Every hop is TLS: the hospital-views too, requiring the edge's client certificate.
    for hospital in &f.stack.hospitals {
        assert!(hospital.url.starts_with("https://"), "{}", hospital.url);
    }
    let incident = incident_at_summary(&f, f.patient(0)).await;
    let sent = incident.hand_off(request(&f, 0)).await.unwrap();
    assert!(sent.delivered);
    // Delivered over mTLS: the notice with its summary is in the hospital's store, once.
    let arrivals = f.arrivals(0).await;
    let delivered: Vec<_> = arrivals
        .iter()
        .filter(|a| a.handoff_id == sent.handoff_id)
        .collect();
    assert_eq!(delivered.len(), 1, "{arrivals:?}");
    assert!(delivered[0].summary.is_some());
    // The hospital's bearer token alone no longer delivers anything over TLS.
    let forged = f
        .http
        .post(format!("{}/v1/arrivals", f.stack.hospitals[0].url))
        .bearer_auth(&f.stack.hospitals[0].token)
        .json(delivered[0])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::UNAUTHORIZED);
    // hospital-view sends the answer to the edge with its own client certificate.
    answer(&f, 0, sent.handoff_id, &[("decision", "accepted")]).await;
    assert_eq!(
        next_state(&incident, sent.handoff_id, "delivered").await,
        HandoffStatus::Accepted
    );
    let (certificate_pem, _) = f.stack.device_client_certificate(1).unwrap();
    let der = x509_der(&certificate_pem);
    let serial = myna_domain::client_identity::parse_client_certificate(&der)
        .unwrap()
        .serial;
    let log = f.access_log();
    assert!(
        log.iter().any(|r| r.action == AccessAction::ViewSummary),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|r| matches!(r.action, AccessAction::RelayToHospital { .. })),
        "{log:?}"
    );
    for record in &log {
        assert_eq!(
            record.viewer.certificate_serial.as_deref(),
            Some(serial.as_str()),
            "{record:?}"
        );
    }
}

/// The DER of the first certificate in `pem`.
fn x509_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}
