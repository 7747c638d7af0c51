//! Driver tests: a scripted card, an unreachable edge, and a canned edge over a socket.
//! Identification with the PIN is in `pin`.

use chrono::{NaiveDate, Utc};
use myna_domain::consent::DifficultyReason;
use myna_domain::handoff::SceneKind;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::summary::PatientHeader;
use myna_domain::wire::{
    ConsentRecorded, HandoffResponse, HospitalList, IncidentOpened, SummaryResponse, Vitals,
};

use myna_domain::identity::AssuranceLevel;

use super::*;
use crate::card::CardLinkError;
use crate::card::apdu;
use crate::card::jpki;
use crate::card::jpki::tests::{SCRIPT_PIN, ScriptedCard, Step, certificate_script};
use crate::test_support::{Exchange, FakeEdge};

mod consent;
mod pin;

type Script = Vec<Step>;

/// An edge on a port nothing listens on: any network call fails as unreachable.
fn offline_incident() -> EmergencyIncident {
    let edge = EdgeClient::new("http://127.0.0.1:9".into(), "tablet-token".into()).unwrap();
    EmergencyIncident::new(edge, "crew-042".into())
}

fn certificate(not_after_year: i32) -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x0a, 0xbc, 0xde]));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

fn token_script(token: &[u8]) -> Script {
    let mut data = token.to_vec();
    data.resize(0x20, b' ');
    data.extend_from_slice(&[0x90, 0x00]);
    vec![
        (
            apdu::select_aid(&jpki::JPKI_AP_AID).unwrap(),
            Ok(vec![0x90, 0x00]),
        ),
        (apdu::select_ef(jpki::EF_TOKEN_INFO), Ok(vec![0x90, 0x00])),
        (apdu::read_binary(0, 0x20).unwrap(), Ok(data)),
    ]
}

fn card(der: &[u8]) -> ScriptedCard {
    let mut script = token_script(jpki::MY_NUMBER_CARD_TOKEN);
    script.extend(certificate_script(der));
    ScriptedCard::new(script)
}

/// Puts an incident at `steps` without I/O, as if they had happened.
fn at_steps(incident: &EmergencyIncident, steps: Vec<IncidentStep>) {
    let mut state = incident.state();
    state.certificate_der = Some(vec![0x30, 0x00]);
    for step in steps {
        state.progress.advance(step, Utc::now()).unwrap();
    }
}

fn handoff_request() -> HandoffRequest {
    HandoffRequest {
        hospital_id: "hosp-1".into(),
        chief_complaint: "chest pain".into(),
        eta_minutes: 12,
        vitals: Vitals::default(),
        handoff_id: None,
        scene: Some(SceneKind::Home),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn is_illegal(result: Result<impl std::fmt::Debug, MobileError>) -> bool {
    matches!(result, Err(MobileError::IllegalStep { .. }))
}

/// The kinds of the incident's writes in the outbox, oldest first.
fn queued_kinds(incident: &EmergencyIncident) -> Vec<crate::local::WriteKind> {
    incident
        .queued_writes()
        .unwrap()
        .into_iter()
        .map(|w| w.kind)
        .collect()
}

fn pin() -> Pin {
    Pin::new(SCRIPT_PIN).unwrap()
}

#[test]
fn reads_a_card_and_reports_expiry() {
    let incident = offline_incident();
    let der = certificate(2099);
    let nfc = card(&der);
    let reading = incident.read_card(&nfc).unwrap();
    nfc.assert_done();
    assert_eq!(reading.certificate_der, der);
    assert_eq!(reading.serial_hex, "0abcde");
    assert_eq!(
        chrono::DateTime::<Utc>::from(reading.not_after).to_rfc3339(),
        "2099-01-01T00:00:00+00:00"
    );
    assert!(!reading.expired);
    assert_eq!(incident.step(), IncidentStep::CardRead);

    // A re-read before identification is allowed; an expired card is reported, not refused.
    let old = certificate(2021);
    let reading = incident.read_card(&card(&old)).unwrap();
    assert!(reading.expired);
    assert_eq!(incident.history().len(), 3);
}

#[test]
fn card_problems_leave_the_incident_where_it_was() {
    let incident = offline_incident();
    let other = ScriptedCard::new(token_script(b"JPKIAPICCTOKEN"));
    assert_eq!(
        incident.read_card(&other),
        Err(MobileError::NotAMyNumberCard)
    );

    let mut script = token_script(jpki::MY_NUMBER_CARD_TOKEN);
    script.push((
        apdu::select_aid(&jpki::JPKI_AP_AID).unwrap(),
        Err(CardLinkError::Lost),
    ));
    let pulled = ScriptedCard::new(script);
    assert_eq!(incident.read_card(&pulled), Err(MobileError::CardLost));

    // A well-formed DER SEQUENCE that is not a certificate.
    let not_x509 = card(&[0x30, 0x03, 0x02, 0x01, 0x00]);
    assert!(matches!(
        incident.read_card(&not_x509),
        Err(MobileError::CertificateUnreadable { .. })
    ));
    assert_eq!(incident.step(), IncidentStep::Started);
}

#[tokio::test]
async fn photo_mismatch_does_not_advance_and_offline_photo_check_is_queued() {
    let incident = offline_incident();
    assert!(is_illegal(incident.confirm_identity(true).await));
    incident.read_card(&card(&certificate(2099))).unwrap();
    assert_eq!(
        incident.confirm_identity(false).await,
        Err(MobileError::PhotoMismatch)
    );
    // The PIN needs a fresh challenge from the edge: without signal it cannot start, and
    // without a challenge the card is not touched (the script is empty).
    let untouched = ScriptedCard::new(vec![]);
    assert!(matches!(
        incident.identify_with_pin(&untouched, pin()).await,
        Err(MobileError::EdgeUnreachable { .. })
    ));
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert!(incident.queued_writes().unwrap().is_empty());
    // The face-photo check stays valid while queued: the open waits for signal.
    let confirmed = incident.confirm_identity(true).await.unwrap();
    assert!(confirmed.queued);
    assert_eq!(confirmed.assurance, AssuranceLevel::CardAndPhoto);
    assert_eq!(incident.step(), IncidentStep::Identified);
    let queued = incident.queued_writes().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].kind, crate::local::WriteKind::OpenIncident);
}

#[tokio::test]
async fn refused_consent_blocks_the_summary_without_a_network_call() {
    let incident = offline_incident();
    at_steps(
        &incident,
        vec![
            IncidentStep::CardRead,
            IncidentStep::Identified,
            IncidentStep::ConsentRecorded(ConsentState::Refused),
        ],
    );
    // IllegalStep, not EdgeUnreachable: the edge was never asked.
    assert_eq!(
        incident.fetch_summary().await,
        Err(MobileError::IllegalStep {
            from: "consent refused".into(),
            to: "summary fetched".into()
        })
    );
    // Hand-off is allowed after a refusal: offline, it waits in the outbox.
    let sent = incident.hand_off(handoff_request()).await.unwrap();
    assert!(sent.queued && !sent.delivered && sent.records_shared.is_none());
}

#[tokio::test]
async fn out_of_order_calls_are_rejected_locally() {
    let incident = offline_incident();
    assert!(is_illegal(incident.fetch_summary().await));
    // Nothing read yet: neither the card (empty script) nor the edge is asked.
    assert!(is_illegal(
        incident
            .identify_with_pin(&ScriptedCard::new(vec![]), pin())
            .await
    ));
    assert!(is_illegal(
        incident.record_consent(ConsentState::Given).await
    ));
    assert!(is_illegal(incident.hand_off(handoff_request()).await));

    at_steps(
        &incident,
        vec![IncidentStep::CardRead, IncidentStep::Identified],
    );
    let empty_note = ConsentState::Difficult {
        reason: DifficultyReason::Other("  ".into()),
    };
    assert!(matches!(
        incident.record_consent(empty_note).await,
        Err(MobileError::ConsentReasonInvalid { .. })
    ));

    incident.close().unwrap();
    incident.close().unwrap();
    assert_eq!(incident.step(), IncidentStep::Closed);
    assert!(incident.state().certificate_der.is_none());
    // No card exchange at all after close: the script is empty.
    assert!(is_illegal(incident.read_card(&ScriptedCard::new(vec![]))));
    assert!(is_illegal(incident.fetch_summary().await));
}

#[tokio::test]
async fn full_scene_against_a_canned_edge() {
    let edge = EdgeClient::new("http://127.0.0.1:9".into(), "t".into()).unwrap();
    let probe = EmergencyIncident::new(edge, "crew-042".into());
    let id = probe.scene.id;
    let summary = EmergencySummary::assemble(
        PatientHeader {
            id: PatientId("p-1".into()),
            name: "Test Patient".into(),
            birth_date: NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
            sex: Sex::Female,
        },
        vec![],
        Utc::now(),
    );
    let handoff = HandoffResponse {
        handoff_id: uuid::Uuid::new_v4(),
        hospital_id: "hosp-1".into(),
        delivered: true,
        records_shared: true,
    };
    let path = |tail: &str| format!("/v1/incidents/{id}{tail}");
    let script = vec![
        Exchange {
            expect: "POST /v1/incidents".into(),
            status: 201,
            body: json(&IncidentOpened {
                incident_id: id,
                assurance: AssuranceLevel::CardAndPhoto,
            }),
        },
        Exchange {
            expect: format!("PUT {}", path("/consent")),
            status: 200,
            body: json(&ConsentRecorded {
                incident_id: id,
                consent: ConsentState::Given,
            }),
        },
        Exchange {
            expect: format!("GET {}", path("/summary")),
            status: 200,
            body: json(&SummaryResponse {
                incident_id: id,
                consent: ConsentState::Given,
                summary: summary.clone(),
            }),
        },
        Exchange {
            expect: "GET /v1/hospitals".into(),
            status: 200,
            body: json(&HospitalList { hospitals: vec![] }),
        },
        Exchange {
            expect: format!("POST {}", path("/handoff")),
            status: 404,
            body: r#"{"code":"unknown_hospital","message":"not found"}"#.into(),
        },
        Exchange {
            expect: format!("POST {}", path("/handoff")),
            status: 200,
            body: json(&handoff),
        },
    ];
    let fake = FakeEdge::start(script).await;
    let incident =
        probe.with_edge(EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap());

    incident.read_card(&card(&certificate(2099))).unwrap();
    let confirmed = incident.confirm_identity(true).await.unwrap();
    assert_eq!(confirmed.incident_id, id.to_string());
    assert_eq!(
        incident.record_consent(ConsentState::Given).await,
        Ok(ConsentState::Given)
    );
    assert_eq!(incident.fetch_summary().await, Ok(summary));
    assert_eq!(incident.hospitals().await, Ok(vec![]));
    let refused = incident.hand_off(handoff_request()).await.unwrap_err();
    assert_eq!(
        refused.to_string(),
        "This hospital is not on the list: refresh the list and choose again"
    );
    let sent = incident.hand_off(handoff_request()).await.unwrap();
    assert_eq!(
        (
            sent.handoff_id,
            sent.delivered,
            sent.records_shared,
            sent.queued
        ),
        (handoff.handoff_id, true, Some(true), false)
    );
    incident.close().unwrap();

    let received = fake.received();
    assert_eq!(received.len(), 6);
    assert_eq!(received[3].line, "GET /v1/hospitals");
    assert!(
        received
            .iter()
            .all(|r| r.authorization.as_deref() == Some("Bearer tablet-token"))
    );
    let open: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
    assert_eq!(open["identity"]["method"], "card_with_photo_check");
    assert_eq!(open["identity"]["photo_matches"], true);
    assert_eq!(open["crew_member_id"], "crew-042");
    assert_eq!(received[1].body, r#"{"decision":"given"}"#);
    // Each handoff carries the tablet's own id, so a resend is recognised.
    let handoff: serde_json::Value = serde_json::from_str(&received[5].body).unwrap();
    assert!(
        handoff["handoff_id"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .is_ok()
    );
    // Where the patient was found goes through the outbox with the rest of the request.
    assert_eq!(handoff["scene"], "home", "{handoff}");
    // The refused handoff stays listed as rejected; nothing is left pending.
    assert_eq!(incident.scene.delivery.store().pending_count().unwrap(), 0);
    let steps: Vec<_> = incident.history().iter().map(|r| r.step.name()).collect();
    assert_eq!(
        steps,
        [
            "started",
            "card read",
            "identified",
            "consent given",
            "summary fetched",
            "handed off",
            "closed"
        ]
    );
}

#[test]
fn an_interrupted_identity_is_finished_not_sent_twice_and_no_other_card_follows() {
    // An edge that accepts connections and never answers; the app is killed while the
    // crew's call waits for it: after the open was queued, before the step was saved.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept() {
            held.push(socket);
        }
    });
    let edge = EdgeClient::new(url, "tablet-token".into()).unwrap();
    let incident = EmergencyIncident::new(edge, "crew-042".into());
    incident.read_card(&card(&certificate(2099))).unwrap();
    let killed = tokio::runtime::Runtime::new().unwrap();
    let cancelled = killed.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_millis(200),
            incident.confirm_identity(true),
        )
        .await
    });
    assert!(
        cancelled.is_err(),
        "the call was still waiting for the edge"
    );
    // The process dies: its runtime, and the step still running on it, are gone.
    drop(killed);
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert_eq!(incident.queued_writes().unwrap().len(), 1);

    // Another card cannot be read into this incident now (its identity is on its way)…
    assert!(is_illegal(incident.read_card(&ScriptedCard::new(vec![]))));
    // …and confirming again finishes the open already queued instead of sending another.
    let edge = EdgeClient::new("http://127.0.0.1:9".into(), "tablet-token".into()).unwrap();
    let incident = incident.with_edge(edge);
    let restarted = tokio::runtime::Runtime::new().unwrap();
    let confirmed = restarted.block_on(incident.confirm_identity(true)).unwrap();
    assert!(confirmed.queued);
    assert_eq!(incident.step(), IncidentStep::Identified);
    assert_eq!(
        queued_kinds(&incident),
        [crate::local::WriteKind::OpenIncident]
    );
}

#[tokio::test]
async fn a_writing_step_runs_to_completion_when_its_caller_stops_waiting() {
    // The crew's call is dropped (a cancelled coroutine, a closed screen) while the edge
    // is still answering the open: the step still finishes, so the delivered write and
    // the saved step stay together.
    let probe = offline_incident();
    let id = probe.scene.id;
    let fake = FakeEdge::slow(
        vec![Exchange {
            expect: "POST /v1/incidents".into(),
            status: 201,
            body: json(&IncidentOpened {
                incident_id: id,
                assurance: AssuranceLevel::CardAndPhoto,
            }),
        }],
        std::time::Duration::from_millis(300),
    )
    .await;
    let incident =
        probe.with_edge(EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap());
    incident.read_card(&card(&certificate(2099))).unwrap();
    let dropped = tokio::time::timeout(
        std::time::Duration::from_millis(50),
        incident.confirm_identity(true),
    )
    .await;
    assert!(dropped.is_err(), "the call was still waiting for the edge");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while incident.step() != IncidentStep::Identified {
        assert!(
            std::time::Instant::now() < deadline,
            "the step did not finish"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let writes = incident.queued_writes().unwrap();
    assert!(matches!(
        writes.as_slice(),
        [QueuedWrite {
            kind: crate::local::WriteKind::OpenIncident,
            state: crate::local::WriteState::Delivered { .. },
            ..
        }]
    ));
    assert_eq!(fake.received().len(), 1);
}
