//! The deliverer against a canned edge over a socket, on a real SQLite file: order,
//! retries, rejections kept with their reason, the background run.

use std::sync::Arc;

use chrono::Utc;
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::identity::AssuranceLevel;
use myna_domain::wire::{DeviceViewRecorded, IdentityEvidenceDto, IncidentOpened};

use super::*;
use crate::local::{StorageKey, WriteKind, WriteState};
use crate::test_support::{Exchange, FakeEdge};

fn store(dir: &tempfile::TempDir, key: &StorageKey) -> Arc<LocalStore> {
    Arc::new(LocalStore::open(&dir.path().join("tablet.sqlite3"), key).unwrap())
}

fn incident() -> IncidentId {
    IncidentId(uuid::Uuid::now_v7())
}

fn offline() -> EdgeClient {
    EdgeClient::new("http://127.0.0.1:9".into(), "tablet-token".into()).unwrap()
}

fn open_write(id: IncidentId) -> Write {
    Write::OpenIncident(myna_domain::wire::OpenIncidentRequest {
        incident_id: id,
        crew_member_id: "crew-042".into(),
        identity: IdentityEvidenceDto::card_with_photo(&[0x30, 0x00], true),
    })
}

/// The edge's answer to an open.
fn opened(id: IncidentId) -> Exchange {
    Exchange {
        expect: "POST /v1/incidents".into(),
        status: 201,
        body: serde_json::to_string(&IncidentOpened {
            incident_id: id,
            assurance: AssuranceLevel::CardAndPhoto,
        })
        .unwrap(),
    }
}

/// The edge's answer to a report of the summary shown again on `id`.
fn view_recorded(id: IncidentId, status: u16, view_id: uuid::Uuid) -> Exchange {
    Exchange {
        expect: format!("POST /v1/incidents/{id}/device-views"),
        status,
        body: serde_json::to_string(&DeviceViewRecorded {
            view_id,
            recorded: true,
        })
        .unwrap(),
    }
}

#[tokio::test]
async fn a_waiting_queue_does_not_spin_and_records_outlive_their_delivered_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, &StorageKey::random());
    let id = incident();
    let no_signal = Delivery::new(Arc::clone(&store), offline());
    no_signal.enqueue(id, &open_write(id)).unwrap();
    no_signal
        .record_shown_again(id, "crew-042", Utc::now())
        .unwrap();
    assert!(no_signal.send_incident_now(id).await.unwrap().is_some());
    // The view queued behind the failed open is "due", but waits for it: the deliverer
    // sleeps until the open's backoff ends instead of looping.
    let wait = no_signal.next_due_in().unwrap();
    assert!(wait >= std::time::Duration::from_millis(400), "{wait:?}");

    let fake = FakeEdge::start(vec![
        opened(id),
        view_recorded(id, 201, uuid::Uuid::now_v7()),
    ])
    .await;
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let delivery = Delivery::new(Arc::clone(&store), edge);
    assert_eq!(delivery.deliver_now().await.unwrap().delivered, 2);
    // A week later the delivered writes are forgotten; the access record is not.
    store
        .wipe_expired(Utc::now() + chrono::Duration::days(8))
        .unwrap();
    assert!(store.queued_writes(None).unwrap().is_empty());
    let records = store.access_records(10).unwrap();
    assert_eq!(records.len(), 1);
    assert!(records[0].on_edge);
}

#[tokio::test]
async fn answers_that_are_not_the_edge_keep_the_write_queued() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, &StorageKey::random());
    let id = incident();
    store
        .record_shown_again(id, "crew-042", Utc::now())
        .unwrap();
    // A captive portal's redirect, then a proxy asking for its own sign-in.
    let fake = FakeEdge::start(vec![
        Exchange {
            expect: format!("POST /v1/incidents/{id}/device-views"),
            status: 302,
            body: "<html>sign in to the Wi-Fi</html>".into(),
        },
        Exchange {
            expect: format!("POST /v1/incidents/{id}/device-views"),
            status: 407,
            body: "proxy authentication required".into(),
        },
    ])
    .await;
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let delivery = Delivery::new(store, edge);
    for _ in 0..2 {
        let report = delivery.deliver_now().await.unwrap();
        assert_eq!(
            (report.delivered, report.rejected, report.pending),
            (0, 0, 1)
        );
    }
    assert_eq!(fake.received().len(), 2);
}

#[tokio::test]
async fn writes_leave_in_order_once_and_rejections_are_kept_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::random();
    let (a, b) = (incident(), incident());
    {
        let store = store(&dir, &key);
        let no_signal = Delivery::new(Arc::clone(&store), offline());
        no_signal.enqueue(a, &open_write(a)).unwrap();
        no_signal
            .enqueue(
                a,
                &Write::Consent(myna_domain::wire::ConsentRequest::from_domain(
                    &ConsentState::Given,
                )),
            )
            .unwrap();
        no_signal
            .record_shown_again(b, "crew-042", Utc::now())
            .unwrap();
        // No signal: the open is tried and kept, the consent waits behind it.
        let stuck = no_signal.send_incident_now(a).await.unwrap();
        assert!(matches!(stuck, Some(MobileError::EdgeUnreachable { .. })));
        let writes = store.queued_writes(Some(a)).unwrap();
        assert!(matches!(
            writes[0].state,
            WriteState::Pending { attempts: 1, .. }
        ));
        assert!(matches!(
            writes[1].state,
            WriteState::Pending { attempts: 0, .. }
        ));
    } // the app is killed here: the store is dropped with three writes pending

    let view_id: uuid::Uuid = store(&dir, &key).access_records(1).unwrap()[0]
        .id
        .parse()
        .unwrap();
    let fake = FakeEdge::start(vec![
        opened(a),
        Exchange {
            expect: format!("PUT /v1/incidents/{a}/consent"),
            status: 409,
            body: r#"{"code":"consent_conflict","message":"another decision is recorded"}"#.into(),
        },
        view_recorded(b, 200, view_id),
    ])
    .await;
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let store = store(&dir, &key);
    let delivery = Delivery::new(Arc::clone(&store), edge);
    assert_eq!(delivery.send_incident_now(a).await.unwrap(), None);
    let report = delivery.deliver_due().await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            delivered: 1,
            rejected: 0,
            pending: 0
        }
    );
    // Nothing left: another pass sends nothing (the fake would fail an unexpected call).
    assert_eq!(
        delivery.deliver_due().await.unwrap(),
        DeliveryReport::default()
    );
    assert_eq!(fake.received().len(), 3);

    let states: Vec<_> = store
        .queued_writes(None)
        .unwrap()
        .into_iter()
        .map(|w| (w.kind, w.state))
        .collect();
    assert!(matches!(
        states[0],
        (WriteKind::OpenIncident, WriteState::Delivered { .. })
    ));
    assert!(matches!(
        &states[1],
        (WriteKind::Consent, WriteState::Rejected { message }) if !message.is_empty()
    ));
    assert!(matches!(
        states[2],
        (WriteKind::SummaryShownAgain, WriteState::Delivered { .. })
    ));
    assert!(store.access_records(10).unwrap().iter().all(|r| r.on_edge));
    let sent: serde_json::Value = serde_json::from_str(&fake.received()[2].body).unwrap();
    assert_eq!(sent["view_id"], view_id.to_string());
}

#[tokio::test]
async fn the_background_deliverer_sends_what_is_queued_without_being_asked() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, &StorageKey::random());
    let id = incident();
    let fake = FakeEdge::start(vec![Exchange {
        expect: format!("POST /v1/incidents/{id}/device-views"),
        status: 201,
        body: serde_json::to_string(&DeviceViewRecorded {
            view_id: uuid::Uuid::now_v7(),
            recorded: true,
        })
        .unwrap(),
    }])
    .await;
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let delivery = Delivery::new(Arc::clone(&store), edge);
    let running = {
        let delivery = delivery.clone();
        tokio::spawn(async move {
            delivery
                .run(async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    // Queued after the deliverer went idle: the queueing itself wakes it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    delivery
        .record_shown_again(id, "crew-042", Utc::now())
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.pending_count().unwrap() > 0 {
        assert!(std::time::Instant::now() < deadline, "not delivered");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(fake.received().len(), 1);
    stop.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("the deliverer stops when told")
        .unwrap();
}

#[tokio::test]
async fn two_deliverers_of_one_store_take_turns() {
    // A tablet's deliverer and an incident started on the same store directly: a pass of
    // one waits for the other's, so an incident's writes still leave in order.
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, &StorageKey::random());
    let tablets = Delivery::new(Arc::clone(&store), offline());
    let incidents = Delivery::new(Arc::clone(&store), offline());
    let id = incident();
    incidents.enqueue(id, &open_write(id)).unwrap();
    let pass = store.outbox_gate().pass.lock().await;
    let waiting =
        tokio::time::timeout(std::time::Duration::from_millis(100), tablets.deliver_now());
    assert!(waiting.await.is_err(), "a second pass ran beside the first");
    drop(pass);
    let report = incidents.deliver_now().await.unwrap();
    assert_eq!(report.pending, 1);
}
