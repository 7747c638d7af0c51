//! The ER dashboard in a real Chromium, fed by the real path: the tablet core hands a
//! patient off through edge-agent, the card appears on the open page within a second
//! without a reload, leading with the allergy and infection warnings; the nurse accepts
//! on the page and the tablet hears it.

use std::time::{Duration, Instant};

use e2e::Fixture;
use myna_domain::consent::ConsentState;
use myna_domain::handoff::HandoffStatus;
use myna_domain::records::{MedicalRecord, QualitativeResult};
use myna_domain::summary::EmergencySummary;
use myna_domain::wire::{HandoffRequest, Vitals};
use simulations::scenario::{carded_patients, tap};

use crate::browser::{Browser, WAIT};

/// A carded synthetic patient whose summary today holds a drug allergy and a positive
/// infection result.
fn patient_with_allergy_and_infection(f: &Fixture) -> u64 {
    let now = chrono::Utc::now();
    carded_patients(f.seed, f.today, 400)
        .into_iter()
        .find(|&index| {
            let p = population::patient(f.seed, index, f.today);
            let summary = EmergencySummary::assemble(p.header, p.records, now);
            let allergy = summary
                .records
                .iter()
                .any(|r| matches!(r, MedicalRecord::DrugAllergy(_)));
            let infection = summary
                .infection_alerts()
                .any(|i| i.result == QualitativeResult::Positive);
            allergy && infection
        })
        .expect("the population has a patient with both")
}

#[tokio::test]
async fn browser_handoff_from_the_tablet_appears_live_within_a_second() -> anyhow::Result<()> {
    let f = Fixture::start(400).await;
    let hospital = &f.stack.hospitals[0];
    let browser = Browser::start().await?;
    // Sign in through the form, as a nurse would.
    browser.goto(&format!("{}/", hospital.url)).await?;
    browser
        .submit_form(
            "form.sign-in",
            &[
                ("staff_id", "er-nurse"),
                ("password", hospital_view::DEV_STAFF_PASSWORD),
                ("code", &hospital_view::dev_totp_code(chrono::Utc::now())),
            ],
        )
        .await?;
    browser.wait_for_text("#live-status", "Live", WAIT).await?;
    let page = browser.mark_document().await?;

    let incident = f.dispatcher.incident("crew-0007")?;
    tap(
        &incident,
        f.dispatcher
            .card(patient_with_allergy_and_infection(&f))
            .await?,
    )
    .await?;
    incident.confirm_identity(true).await?;
    incident.record_consent(ConsentState::Given).await?;
    incident.fetch_summary().await?;
    let sent_at = Instant::now();
    let sent = incident
        .hand_off(HandoffRequest {
            hospital_id: hospital.id.clone(),
            chief_complaint: "意識障害 Altered consciousness".into(),
            eta_minutes: 7,
            vitals: Vitals {
                heart_rate: Some(124),
                spo2_percent: Some(89),
                ..Vitals::default()
            },
            handoff_id: None,
            scene: None,
        })
        .await?;
    let card = format!("#arrival-{}", sent.handoff_id);
    browser.wait_for(&card, WAIT).await?;
    let shown_after = sent_at.elapsed();
    assert!(
        shown_after < Duration::from_secs(1),
        "the card took {shown_after:?} to appear"
    );
    assert!(browser.is_same_document(&page).await?, "the page reloaded");

    // Alerts lead the card, and they are on screen, not just in the markup.
    let allergy = browser
        .wait_for(&format!("{card} li.allergy"), WAIT)
        .await?;
    let infection = browser
        .wait_for(&format!("{card} li.infection"), WAIT)
        .await?;
    assert!(allergy.is_displayed().await? && infection.is_displayed().await?);
    assert!(allergy.text().await?.contains("ALLERGY"));
    assert!(infection.text().await?.contains("INFECTION"));
    assert!(
        browser
            .visible_text(&format!("{card} .countdown"))
            .await?
            .contains("min")
    );
    browser.screenshot("browser-live-handoff").await?;

    // The nurse accepts on the card; the tablet hears it.
    browser
        .click(&format!(
            r#"{card} button[name="decision"][value="accepted"]"#
        ))
        .await?;
    browser
        .wait_for_text(&format!("{card} .answered"), "ACCEPTED", WAIT)
        .await?;
    let mut known = "delivered".to_string();
    let status = loop {
        let state = incident
            .handoff_state(sent.handoff_id, Some(&known))
            .await?;
        match state.status {
            HandoffStatus::Sent { .. } => known = "delivered".into(),
            other => break other,
        }
    };
    assert_eq!(status, HandoffStatus::Accepted);
    browser
        .wait_for_text(&format!("{card} .crew-notice"), "Crew notified", WAIT)
        .await?;
    browser.screenshot("browser-live-accepted").await?;
    browser.close().await?;
    Ok(())
}
