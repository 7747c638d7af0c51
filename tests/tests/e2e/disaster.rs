//! Disaster mode end to end: without a declaration the tablet's basic-facts identification
//! is refused with a message the crew can act on; once the operator declares a disaster for
//! the tablet's area, the same facts identify the patient, consent is still asked, and the
//! summary is disclosed and logged.

use e2e::Fixture;
use mobile_core::MobileError;
use myna_domain::access::AccessOutcome;
use myna_domain::consent::ConsentState;
use myna_domain::identity::{AddressOrInsurer, AssuranceLevel, BasicFacts};

fn facts(f: &Fixture, index: u64) -> BasicFacts {
    let patient = population::patient(f.seed, index, f.today);
    BasicFacts {
        name: patient.header.name,
        birth_date: patient.header.birth_date,
        sex: patient.header.sex,
        address_or_insurer: AddressOrInsurer::Address(patient.address),
    }
}

#[tokio::test]
async fn e2e_disaster_mode_allows_basic_facts_only_when_declared() {
    let f = Fixture::start(40).await;
    let index = f.patient(0);
    let incident = f.dispatcher.incident("crew-0009").unwrap();
    assert!(incident.active_disasters().await.unwrap().is_empty());
    let refused = incident.identify_by_basic_facts(facts(&f, index)).await;
    match &refused {
        Err(error @ MobileError::Rejected { code, .. }) => {
            assert_eq!(code, "outside_declared_disaster");
            assert!(
                error.to_string().contains("identify the patient by card"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }

    let now = chrono::Utc::now();
    let declared = f
        .http
        .post(format!("{}/v1/disasters", f.stack.edge_url))
        .bearer_auth("dev-operator-token")
        .json(&serde_json::json!({
            "name": "首都直下地震 (訓練 drill)",
            "area": "13",
            "starts_at": now - chrono::Duration::minutes(5),
            "ends_at": now + chrono::Duration::hours(6),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), reqwest::StatusCode::CREATED);
    assert_eq!(incident.active_disasters().await.unwrap().len(), 1);

    let confirmed = incident
        .identify_by_basic_facts(facts(&f, index))
        .await
        .unwrap();
    assert_eq!(confirmed.assurance, AssuranceLevel::BasicFactsOnly);
    incident.record_consent(ConsentState::Given).await.unwrap();
    let summary = incident.fetch_summary().await.unwrap();
    assert!(!summary.records.is_empty());
    let log = f.log_for(&incident.incident_id());
    assert!(
        log.iter()
            .any(|r| matches!(r.outcome, AccessOutcome::Disclosed { .. })),
        "the disclosure is logged"
    );
}
