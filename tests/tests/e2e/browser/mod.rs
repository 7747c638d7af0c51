//! Browser tests of the ER dashboard (hospital-view) in headless Chromium, and the harness
//! they share: [`Browser`] starts `chromedriver` on a free loopback port and drives one
//! Chromium session through it with fantoccini (WebDriver).
//!
//! Needs Debian's `chromium` and `chromium-driver` (and `fonts-noto-cjk`, so Japanese
//! renders in screenshots); `scripts/test-all.sh` installs them. Screenshots go to
//! `target/test-artifacts/<name>.png` (see [`artifacts_dir`]).
//!
//! # Layout
//! - `driver`: [`Browser`]: start, navigate, wait for elements, read visible text, fill
//!   and submit forms, detect reloads, resize to a [`Viewport`], take screenshots; closes
//!   the session and stops chromedriver on drop.
//! - `hospital`: [`Hospital`], a hospital-view served in-process on a loopback port.
//! - The tests, here at the end (`browser_` prefix).
//!
//! # Example
//! Signing in through a form, then waiting for a card pushed by the server (live updates)
//! without the page reloading:
//! ```ignore
//! let browser = Browser::start().await?;
//! browser.goto(&format!("{}/sign-in", hospital.url)).await?;
//! browser.submit_form("form.sign-in", &[("staff_id", "er-001"), ("password", "..."), ("code", "...")]).await?;
//! browser.wait_for(r#"form[action="/sign-out"]"#, WAIT).await?; // the next page is there
//! let page = browser.mark_document().await?;
//! hospital.deliver(&notice).await?;
//! browser.wait_for_text("article.arrival", "Chest pain", WAIT).await?;
//! assert!(browser.is_same_document(&page).await?, "the card came without a reload");
//! ```

mod driver;
mod hospital;

pub use driver::{Browser, Viewport, WAIT};
#[allow(
    unused_imports,
    reason = "the rest of the harness's API, for browser tests in other modules"
)]
pub use driver::{DocumentMark, artifacts_dir};
pub use hospital::Hospital;

use chrono::{NaiveDate, Utc};
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::records::{
    Allergy, AllergySeverity, InfectionMarker, InfectionResult, MedicalRecord, QualitativeResult,
};
use myna_domain::summary::{EmergencySummary, PatientHeader};
use myna_domain::wire::ArrivalNotice;
use serde_json::json;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// An ambulance `eta_minutes` out with a patient allergic to `allergen`, HBs antigen
/// positive.
fn arrival_with_alerts(allergen: &str, eta_minutes: i64) -> ArrivalNotice {
    let now = Utc::now();
    ArrivalNotice {
        handoff_id: uuid::Uuid::new_v4(),
        incident_id: IncidentId(uuid::Uuid::now_v7()),
        fire_department: "東京消防庁 Tokyo FD".into(),
        unit: "世田谷救急7 Setagaya Ambulance 7".into(),
        chief_complaint: "胸痛 Chest pain".into(),
        eta: now + chrono::Duration::minutes(eta_minutes),
        vitals: myna_domain::fixtures::shock_vitals(),
        consent: Some(ConsentState::Given),
        summary: Some(EmergencySummary {
            patient: PatientHeader {
                id: PatientId("P-browser-1".into()),
                name: "佐藤 花子".into(),
                birth_date: day(1950, 4, 1),
                sex: Sex::Female,
            },
            records: vec![
                MedicalRecord::DrugAllergy(Allergy {
                    substance: allergen.into(),
                    reaction: "anaphylaxis".into(),
                    severity: AllergySeverity::Severe,
                    recorded_on: day(2024, 1, 10),
                }),
                MedicalRecord::Infection(InfectionResult {
                    marker: InfectionMarker::HbsAntigen,
                    result: QualitativeResult::Positive,
                    tested_on: day(2025, 3, 3),
                }),
            ],
            assembled_at: now,
        }),
        sent_at: now,
        scene: None,
    }
}

#[tokio::test]
async fn browser_dashboard_shows_alerts_and_saves_a_screenshot() -> anyhow::Result<()> {
    let hospital = Hospital::start().await?;
    let notice = arrival_with_alerts("Cefazolin", 6);
    hospital.deliver(&notice).await?;
    let browser = Browser::start().await?;
    hospital.sign_in_directly(&browser).await?;
    browser.goto(&format!("{}/", hospital.url)).await?;

    let card = format!("#arrival-{}", notice.handoff_id);
    let allergy = browser
        .wait_for(&format!("{card} li.allergy"), WAIT)
        .await?;
    let infection = browser
        .wait_for(&format!("{card} li.infection"), WAIT)
        .await?;
    for (alert, expected) in [
        (&allergy, &["ALLERGY", "Cefazolin", "anaphylaxis"][..]),
        (&infection, &["INFECTION", "HBs抗原", "hepatitis B"][..]),
    ] {
        assert!(alert.is_displayed().await?);
        let text = alert.text().await?;
        for needle in expected {
            assert!(text.contains(needle), "{needle:?} not shown in {text:?}");
        }
    }
    // The wall screen never shows the patient's name.
    assert!(!browser.visible_text("body").await?.contains("佐藤"));

    let path = browser.screenshot("browser-dashboard-alerts").await?;
    let png = std::fs::read(&path)?;
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    assert!(
        png.len() > 10_000,
        "{} is only {} bytes",
        path.display(),
        png.len()
    );

    // On a tablet and a phone the alerts still show.
    for (viewport, name) in [(Viewport::Tablet, "tablet"), (Viewport::Phone, "phone")] {
        browser.set_viewport(viewport).await?;
        let width = browser
            .client()
            .execute("return window.innerWidth;", vec![])
            .await?;
        assert_eq!(width, json!(viewport.size().0), "{viewport:?}");
        browser
            .wait_for(&format!("{card} li.allergy"), WAIT)
            .await?;
        browser
            .screenshot(&format!("browser-dashboard-alerts-{name}"))
            .await?;
    }

    browser.close().await?;
    hospital.stop().await
}

#[tokio::test]
async fn browser_new_arrival_appears_without_reload() -> anyhow::Result<()> {
    let hospital = Hospital::start().await?;
    let browser = Browser::start().await?;
    hospital.sign_in(&browser).await?;
    browser.wait_for_text("#live-status", "Live", WAIT).await?;
    let page = browser.mark_document().await?;

    let notice = arrival_with_alerts("Penicillin", 9);
    hospital.deliver(&notice).await?;
    let card = format!("#arrival-{}", notice.handoff_id);
    browser
        .wait_for_text(&format!("{card} li.allergy"), "Penicillin", WAIT)
        .await?;
    assert!(browser.is_same_document(&page).await?, "the page reloaded");
    assert_eq!(
        browser
            .visible_texts("main.arrivals > article.arrival")
            .await?
            .len(),
        1
    );

    browser.close().await?;
    hospital.stop().await
}
