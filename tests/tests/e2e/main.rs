//! End-to-end: one ambulance incident from card tap to portal entry, across every crate,
//! over real loopback sockets and real SQLite files.

mod browser;
mod browser_live;
mod disaster;
mod handoff;
mod log_witness;
mod offline;
mod portal_sign_in;

use std::sync::Arc;

use e2e::Fixture;
use mobile_core::{IncidentStep, MobileError, Pin};
use myna_domain::access::{AccessAction, AccessOutcome, DenialReason, ViewerRole};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::AssuranceLevel;
use myna_domain::records::MedicalRecord;
use myna_domain::wire::Vitals;
use simulations::scenario::tap;
use soft_card::{CardPin, DevCardIssuer, PIN_MAX_TRIES, SoftwareCard, dev_pin, generate_card_key};

/// Distinctive text of a record: what must never appear where records were not disclosed.
fn record_text(record: &MedicalRecord) -> Vec<String> {
    match record {
        MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => {
            vec![m.drug.clone(), m.ingredient.clone()]
        }
        MedicalRecord::Diagnosis(d) => vec![d.name.clone(), d.icd10.clone()],
        MedicalRecord::Surgery(s) => vec![s.procedure.clone()],
        MedicalRecord::DrugAllergy(a) | MedicalRecord::OtherAllergy(a) => vec![a.substance.clone()],
        MedicalRecord::Visit(_)
        | MedicalRecord::Checkup(_)
        | MedicalRecord::Infection(_)
        | MedicalRecord::LabResult(_) => vec![],
    }
}

#[tokio::test]
async fn e2e_consent_given_returns_summary_and_exactly_one_access_record() {
    let f = Fixture::start(80).await;
    let index = f.patient(0);
    let report = f
        .dispatcher
        .run(f.plan(index, ConsentState::Given))
        .await
        .unwrap();
    let summary = report.summary.expect("summary returned");
    assert_eq!(summary.patient.id, report.patient_id);
    assert!(!summary.records.is_empty());

    let log = f.log_for(&report.incident_id);
    let views: Vec<_> = log
        .iter()
        .filter(|r| r.viewer.role == ViewerRole::Paramedic)
        .collect();
    assert_eq!(
        views.len(),
        1,
        "exactly one access record for the crew's view: {log:#?}"
    );
    assert_eq!(
        views[0].outcome,
        AccessOutcome::Disclosed {
            kinds: summary.kinds()
        }
    );
    assert_eq!(views[0].consent, Some(ConsentState::Given));
    assert_eq!(views[0].patient.as_ref(), Some(&report.patient_id));
    // The hospital received it, and that relay is its own access record.
    assert!(report.handoff.delivered && report.handoff.records_shared == Some(true));
    let relays: Vec<_> = log
        .iter()
        .filter(|r| r.viewer.role == ViewerRole::ReceivingHospital)
        .collect();
    assert_eq!(relays.len(), 1);
    let arrivals = f.arrivals(0).await;
    assert_eq!(arrivals.len(), 1);
    assert_eq!(
        arrivals[0].summary.as_ref().map(|s| &s.patient.id),
        Some(&report.patient_id)
    );
    assert!(
        f.arrivals(1).await.is_empty(),
        "the other hospital receives nothing"
    );
    assert!(f.dashboard_html().await.contains("Chest pain"));
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_refused_discloses_nothing_anywhere_and_is_logged() {
    let f = Fixture::start(80).await;
    let index = f.patient(1);
    let patient = population::patient(f.seed, index, f.today);
    let secrets: Vec<String> = patient
        .records
        .iter()
        .flat_map(record_text)
        .chain([patient.header.name.clone()])
        .collect();
    assert!(!secrets.is_empty());

    // The tablet itself will not ask after a refusal: no network call is made.
    let incident = f.dispatcher.incident("crew-0007").unwrap();
    tap(&incident, f.dispatcher.card_for(index).unwrap())
        .await
        .unwrap();
    incident.confirm_identity(true).await.unwrap();
    incident
        .record_consent(ConsentState::Refused)
        .await
        .unwrap();
    let local = incident.fetch_summary().await.unwrap_err();
    assert!(
        matches!(local, mobile_core::MobileError::IllegalStep { .. }),
        "{local:?}"
    );

    // A tablet that asks anyway gets a 403 with no record content.
    let response = f
        .http
        .get(format!(
            "{}/v1/incidents/{}/summary",
            f.stack.edge_url,
            incident.incident_id()
        ))
        .bearer_auth(f.stack.device_token(1))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body = response.text().await.unwrap();

    // The hospital still gets the patient, without records.
    let handoff = incident
        .hand_off(myna_domain::wire::HandoffRequest {
            hospital_id: f.stack.hospitals[0].id.clone(),
            chief_complaint: "転倒 Fall".into(),
            eta_minutes: 12,
            vitals: Vitals::default(),
            handoff_id: None,
            scene: None,
        })
        .await
        .unwrap();
    assert!(handoff.delivered && handoff.records_shared == Some(false));
    let arrivals = f.arrivals(0).await;
    assert_eq!(arrivals.len(), 1);
    assert!(arrivals[0].summary.is_none());
    let arrivals_json = serde_json::to_string(&arrivals).unwrap();
    let page = f.dashboard_html().await;
    assert!(page.contains("Fall"), "the arrival itself is shown");
    for secret in &secrets {
        for (place, text) in [
            ("summary response", &body),
            ("arrival JSON", &arrivals_json),
            ("dashboard", &page),
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "{place} leaks record text {secret:?}"
            );
        }
    }

    let log = f.log_for(&incident.incident_id());
    let outcomes: Vec<_> = log.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        vec![
            AccessOutcome::Refused,
            AccessOutcome::Denied {
                reason: DenialReason::ConsentRefused
            },
            AccessOutcome::RelayedWithoutRecords,
        ]
    );
    assert!(log.iter().all(|r| !r.outcome.disclosed_records()));
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_difficult_unconscious_returns_summary_marked_without_consent() {
    let f = Fixture::start(80).await;
    let unconscious = ConsentState::Difficult {
        reason: DifficultyReason::Unconscious,
    };
    let report = f
        .dispatcher
        .run(f.plan(f.patient(2), unconscious.clone()))
        .await
        .unwrap();
    assert!(report.summary.is_some());
    let log = f.log_for(&report.incident_id);
    let view = log
        .iter()
        .find(|r| r.viewer.role == ViewerRole::Paramedic)
        .unwrap();
    assert!(view.outcome.disclosed_records());
    assert_eq!(view.consent, Some(unconscious.clone()));
    let arrivals = f.arrivals(0).await;
    assert_eq!(arrivals[0].consent, Some(unconscious));
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_portal_patient_a_never_sees_patient_b() {
    let f = Fixture::start(80).await;
    let (a, b) = (f.patient(3), f.patient(4));
    let report_a = f
        .dispatcher
        .run(f.plan(a, ConsentState::Given))
        .await
        .unwrap();
    for _ in 0..2 {
        f.dispatcher
            .run(f.plan(
                b,
                ConsentState::Difficult {
                    reason: DifficultyReason::SeverePain,
                },
            ))
            .await
            .unwrap();
    }
    let history_a = f.portal_history(&report_a.patient_id.0).await;
    // Crew view + hospital relay for A's one incident; B had two incidents.
    assert_eq!(history_a.entries.len(), 2, "{history_a:#?}");
    assert!(
        history_a
            .entries
            .iter()
            .all(|e| e.consent == Some(ConsentState::Given))
    );
    let b_id = population::patient(f.seed, b, f.today).header.id;
    let history_b = f.portal_history(&b_id.0).await;
    assert_eq!(history_b.entries.len(), 4);
    assert!(
        history_b
            .entries
            .iter()
            .all(|e| e.consent != Some(ConsentState::Given))
    );
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_bad_input_gets_4xx_and_only_the_attempt_is_written() {
    let f = Fixture::start(80).await;
    // Unknown card: a well-formed certificate whose serial belongs to nobody.
    let issuer = DevCardIssuer::new().unwrap();
    let stranger = SoftwareCard::new(
        issuer
            .issue(
                &[0x7e, 0, 0, 0, 0, 0, 0, 1],
                f.today - chrono::Days::new(30),
                f.today + chrono::Days::new(300),
            )
            .unwrap(),
    );
    let incident = f.dispatcher.incident("crew-0009").unwrap();
    tap(&incident, stranger).await.unwrap();
    let error = incident.confirm_identity(true).await.unwrap_err();
    assert!(
        matches!(&error, mobile_core::MobileError::Rejected { status: 404, code, .. } if code == "unknown_patient"),
        "{error:?}"
    );
    assert!(
        error.to_string().to_lowercase().contains("no records"),
        "{error}"
    );

    // Malformed JSON and a difficult consent without a reason, straight at the API.
    let url = format!("{}/v1/incidents", f.stack.edge_url);
    let token = f.stack.device_token(1);
    let malformed = f
        .http
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"incident_id\":")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let known = f.dispatcher.incident("crew-0009").unwrap();
    tap(&known, f.dispatcher.card_for(f.patient(5)).unwrap())
        .await
        .unwrap();
    known.confirm_identity(true).await.unwrap();
    let missing_reason = f
        .http
        .put(format!("{url}/{}/consent", known.incident_id()))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "decision": "difficult" }))
        .send()
        .await
        .unwrap();
    assert_eq!(missing_reason.status(), 422);
    let code: serde_json::Value = missing_reason.json().await.unwrap();
    assert_eq!(code["code"], "consent_reason_required");

    let log = f.access_log();
    let reasons: Vec<_> = log.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            AccessOutcome::Denied {
                reason: DenialReason::UnknownPatient
            },
            AccessOutcome::Denied {
                reason: DenialReason::ConsentReasonMissing
            },
        ]
    );
    let conn = rusqlite::Connection::open(f.stack.edge_database()).unwrap();
    let incidents: i64 = conn
        .query_row("SELECT COUNT(*) FROM incidents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(incidents, 1, "only the known patient's incident exists");
    f.stack.stop().await.unwrap();
}

/// The patient's PIN as they would type it: the dev PIN of synthetic patient `index`.
fn patient_pin(f: &Fixture, index: u64) -> Pin {
    Pin::new(&dev_pin(&population::patient(f.seed, index, f.today))).unwrap()
}

/// The edge's answer to a tablet asking for the summary of `incident_id` directly.
async fn summary_status(f: &Fixture, incident_id: &str) -> (u16, serde_json::Value) {
    let response = f
        .http
        .get(format!(
            "{}/v1/incidents/{incident_id}/summary",
            f.stack.edge_url
        ))
        .bearer_auth(f.stack.device_token(1))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

// Multi-threaded, like the app's runtime: the card exchange inside `identify_with_pin`
// goes through `block_in_place` while the stack keeps serving on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_pin_verified_identity_fetches_the_summary() {
    let f = Fixture::start(80).await;
    let index = f.patient(6);
    let patient_id = population::patient(f.seed, index, f.today).header.id;
    let card = f.dispatcher.card(index).await.unwrap();
    let incident = f.dispatcher.incident("crew-0011").unwrap();
    tap(&incident, Arc::clone(&card)).await.unwrap();

    let confirmed = incident
        .identify_with_pin(&*card, patient_pin(&f, index))
        .await
        .unwrap();
    assert_eq!(confirmed.assurance, AssuranceLevel::PinVerified);
    assert_eq!(confirmed.incident_id, incident.incident_id());
    assert_eq!(incident.step(), IncidentStep::Identified);
    // The right PIN keeps every try; the edge stored the incident as PIN-verified and
    // spent the challenge on it.
    assert_eq!(
        card.pin_tries_left(CardPin::UserAuthentication),
        PIN_MAX_TRIES
    );
    assert_eq!(
        f.incident_assurance(&incident.incident_id()),
        Some(AssuranceLevel::PinVerified)
    );
    let conn = rusqlite::Connection::open(f.stack.edge_database()).unwrap();
    let used_for: Vec<Option<String>> = conn
        .prepare("SELECT used_for_incident FROM identity_challenges")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(used_for, [Some(incident.incident_id())]);

    incident.record_consent(ConsentState::Given).await.unwrap();
    let summary = incident.fetch_summary().await.unwrap();
    assert_eq!(summary.patient.id, patient_id);
    assert!(!summary.records.is_empty());
    // The access record does not carry the assurance (the incident row above does); it
    // shows the one disclosure, to this crew, of this patient.
    let log = f.log_for(&incident.incident_id());
    assert_eq!(log.len(), 1, "{log:#?}");
    assert_eq!(log[0].viewer.role, ViewerRole::Paramedic);
    assert_eq!(log[0].viewer.staff_id.as_deref(), Some("crew-0011"));
    assert_eq!(log[0].patient.as_ref(), Some(&patient_id));
    assert_eq!(
        log[0].outcome,
        AccessOutcome::Disclosed {
            kinds: summary.kinds()
        }
    );
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_revoked_card_is_refused_and_logged() {
    let f = Fixture::start_revoking(80, &[0]).await;
    let index = f.patient(0);
    let patient_id = population::patient(f.seed, index, f.today).header.id;
    let card = f.dispatcher.card(index).await.unwrap();
    let incident = f.dispatcher.incident("crew-0012").unwrap();
    // The tablet cannot see a revocation: the card reads as valid.
    let reading = tap(&incident, Arc::clone(&card)).await.unwrap();
    assert!(!reading.expired && !reading.not_yet_valid);

    let by_photo = incident.confirm_identity(true).await.unwrap_err();
    assert_eq!(by_photo, MobileError::CardRevoked);
    assert_eq!(
        by_photo.to_string(),
        "This card has been revoked: identify the patient another way"
    );
    let by_pin = incident
        .identify_with_pin(&*card, patient_pin(&f, index))
        .await
        .unwrap_err();
    assert_eq!(by_pin, MobileError::CardRevoked);
    assert_eq!(incident.step(), IncidentStep::CardRead);

    // No summary: the tablet refuses locally, and the edge has no such incident.
    assert!(matches!(
        incident.fetch_summary().await,
        Err(MobileError::IllegalStep { .. })
    ));
    let (status, body) = summary_status(&f, &incident.incident_id()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("incident_not_found"))
    );
    assert_eq!(f.incident_count(), 0);

    // Both refusals are access records naming the card holder, who sees them in the portal.
    let log = f.log_for(&incident.incident_id());
    assert_eq!(log.len(), 2, "{log:#?}");
    for record in &log {
        assert_eq!(record.action, AccessAction::IdentifyPatient);
        assert_eq!(
            record.outcome,
            AccessOutcome::Denied {
                reason: DenialReason::CertificateRevoked
            }
        );
        assert_eq!(record.patient.as_ref(), Some(&patient_id));
    }
    let history = f.portal_history(&patient_id.0).await;
    assert_eq!(history.entries.len(), 2, "{history:#?}");
    assert!(
        history
            .entries
            .iter()
            .all(|e| !e.outcome.disclosed_records())
    );

    // Only that card is revoked: the next patient is identified as usual.
    let report = f
        .dispatcher
        .run(f.plan(f.patient(1), ConsentState::Given))
        .await
        .unwrap();
    assert!(report.summary.is_some());
    f.stack.stop().await.unwrap();
}

#[tokio::test]
async fn e2e_guard_protects_a_card_with_one_try_left() {
    let f = Fixture::start(80).await;
    let index = f.patient(7);
    let patient = population::patient(f.seed, index, f.today);
    // The patient's card as the population issues it, but with one auth PIN try left.
    let (issuer, facts, pin) = (
        f.dispatcher.issuer().clone(),
        patient.card.clone().unwrap(),
        dev_pin(&patient),
    );
    let card = tokio::task::spawn_blocking(move || {
        let key = generate_card_key()?;
        let der = issuer.issue_for_key(&key, &facts.serial, facts.not_before, facts.not_after)?;
        SoftwareCard::builder(der)
            .ca_certificate(issuer.ca_certificate_der())
            .key(key)
            .auth_pin(&pin)
            .auth_pin_tries_left(1)
            .build()
    })
    .await
    .unwrap()
    .unwrap();
    let card = Arc::new(card);
    let incident = f.dispatcher.incident("crew-0013").unwrap();
    tap(&incident, Arc::clone(&card)).await.unwrap();

    // Even the right PIN is not sent: a typo would have locked the card.
    let refused = incident
        .identify_with_pin(&*card, patient_pin(&f, index))
        .await
        .unwrap_err();
    assert_eq!(refused, MobileError::PinGuard { tries_left: 1 });
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 1);
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));
    assert_eq!(incident.step(), IncidentStep::CardRead);
    assert_eq!(f.incident_count(), 0, "no incident exists on the edge");
    assert!(f.log_for(&incident.incident_id()).is_empty());
    let (status, _) = summary_status(&f, &incident.incident_id()).await;
    assert_eq!(status, 404);

    // The crew falls back to the face photo; the card still has its one try.
    let confirmed = incident.confirm_identity(true).await.unwrap();
    assert_eq!(confirmed.assurance, AssuranceLevel::CardAndPhoto);
    assert_eq!(
        f.incident_assurance(&incident.incident_id()),
        Some(AssuranceLevel::CardAndPhoto)
    );
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 1);
    f.stack.stop().await.unwrap();
}
