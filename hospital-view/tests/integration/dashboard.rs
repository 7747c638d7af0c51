//! `GET /` and `GET /arrivals/{handoff_id}`.

use axum::http::StatusCode;

use crate::{fixture, notice, refused_notice};

#[tokio::test]
async fn the_dashboard_shows_the_alerts_and_the_unit() {
    let f = fixture();
    assert_eq!(f.post(&notice(1, 9)).await.status, StatusCode::CREATED);
    let page = f.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    let card = html
        .find(&format!(r#"id="arrival-{}""#, uuid::Uuid::from_u128(1)))
        .expect("card with its id");
    let alerts = html[card..]
        .find(r#"class="alerts""#)
        .expect("alerts block")
        + card;
    for expected in [
        "Cefazolin",
        "HBs antigen",
        "Eliquis",
        "Potassium (K)",
        "6.4 mmol/L",
    ] {
        let at = html
            .find(expected)
            .unwrap_or_else(|| panic!("missing {expected:?}"));
        assert!(
            at > alerts,
            "{expected:?} should be inside the alerts block"
        );
    }
    assert!(html.contains("Setagaya Ambulance 7"));
    assert!(html.contains("Chest pain 胸痛"));
    assert!(html.contains("in 9 min"));
    assert!(!html.contains("佐藤"), "no patient name on the wall screen");
}

#[tokio::test]
async fn the_dashboard_orders_by_eta_soonest_first() {
    let f = fixture();
    f.post(&notice(1, 30)).await;
    f.post(&notice(2, 5)).await;
    let html = f.get("/").await.body;
    let pos = |n: u128| {
        html.find(&format!("arrival-{}", uuid::Uuid::from_u128(n)))
            .expect("card")
    };
    assert!(pos(2) < pos(1));
}

#[tokio::test]
async fn a_refused_arrival_shows_the_notice_and_no_records() {
    let f = fixture();
    f.post(&refused_notice(3, 12)).await;
    let html = f.get("/").await.body;
    assert!(html.contains("No records shared (patient refused consent)"));
    assert!(html.contains("記録の共有なし（同意拒否）"));
    assert!(html.contains("転倒 Fall"));
    assert!(html.contains("118"), "vitals are shown");
    assert!(!html.contains(r#"class="alerts""#));
    let detail = f
        .get(&format!("/arrivals/{}", uuid::Uuid::from_u128(3)))
        .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("No records shared"));
}

#[tokio::test]
async fn the_detail_page_shows_every_record_with_provenance() {
    let f = fixture();
    f.post(&notice(4, 12)).await;
    let page = f
        .get(&format!("/arrivals/{}", uuid::Uuid::from_u128(4)))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = &page.body;
    assert_eq!(html.matches(r#"<tr class="record "#).count(), 4);
    for expected in [
        "佐藤 花子",
        "Drug allergy",
        "Claims",
        "EHR sharing",
        "2025-10-20",
        "apixaban",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
}

#[tokio::test]
async fn unknown_or_malformed_ids_are_a_404_page() {
    let f = fixture();
    for uri in [
        "/arrivals/00000000-0000-0000-0000-000000000009",
        "/arrivals/not-a-uuid",
    ] {
        let page = f.get(uri).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(page.body.contains("No such arrival"));
    }
}

#[tokio::test]
async fn an_empty_dashboard_says_so_and_healthz_is_ok() {
    let f = fixture();
    assert!(f.get("/").await.body.contains("No incoming patients"));
    let health = f.get("/healthz").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (StatusCode::OK, "ok")
    );
}
