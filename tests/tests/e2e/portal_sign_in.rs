//! End-to-end: a patient signs in to the portal with their (software) card through
//! mobile-core's `sign_in_to_portal`, over real sockets, and sees the incident's entry.

use std::sync::Arc;

use e2e::Fixture;
use mobile_core::Pin;
use mobile_core::card::portal::sign_in_to_portal;
use myna_domain::consent::ConsentState;
use myna_domain::wire::{PortalChallenge, PortalHistory, PortalSession};
use soft_card::{CardPin, PIN_MAX_TRIES, dev_pin};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_portal_sign_in_with_the_card_shows_the_patients_history() {
    let f = Fixture::start(80).await;
    let index = f.patient(3);
    let report = f
        .dispatcher
        .run(f.plan(index, ConsentState::Given))
        .await
        .unwrap();
    let other = f
        .dispatcher
        .run(f.plan(f.patient(4), ConsentState::Given))
        .await
        .unwrap();
    let edge = &f.stack.edge_url;

    let challenge: PortalChallenge = f
        .http
        .post(format!("{edge}/portal/v1/sign-in/challenges"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let card = f.dispatcher.card(index).await.unwrap();
    let pin = Pin::new(&dev_pin(&population::patient(f.seed, index, f.today))).unwrap();
    let request = sign_in_to_portal(
        &*Arc::clone(&card),
        &pin,
        challenge.challenge_id,
        &challenge.challenge().unwrap(),
    )
    .unwrap();
    assert_eq!(
        card.pin_tries_left(CardPin::UserAuthentication),
        PIN_MAX_TRIES
    );

    let response = f
        .http
        .post(format!("{edge}/portal/v1/sign-in"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("set-cookie")
            .is_some_and(|c| c.to_str().unwrap().contains("HttpOnly"))
    );
    let session: PortalSession = response.json().await.unwrap();
    let history: PortalHistory = f
        .http
        .get(format!("{edge}/portal/v1/history"))
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown: Vec<_> = history.entries.iter().map(|e| e.access_id).collect();
    let mine: Vec<_> = f
        .log_for(&report.incident_id)
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|id| shown.contains(id)), "{shown:?}");
    assert!(
        f.log_for(&other.incident_id)
            .iter()
            .all(|r| !shown.contains(&r.id)),
        "another patient's entries are not shown"
    );

    // The same signature again is refused: the challenge was spent.
    let replay = f
        .http
        .post(format!("{edge}/portal/v1/sign-in"))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
}
