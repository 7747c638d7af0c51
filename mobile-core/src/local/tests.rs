//! The local store on a real SQLite file: sessions, the sealed summary copy, the outbox
//! against a canned edge over a socket.

use chrono::{NaiveDate, Utc};
use myna_domain::consent::ConsentState;
use myna_domain::identity::{AssuranceLevel, PatientId, Sex};
use myna_domain::summary::PatientHeader;
use myna_domain::wire::{DeviceViewRecorded, IdentityEvidenceDto, IncidentOpened};

use super::delivery::Write;
use super::*;
use crate::EdgeClient;
use crate::incident::IncidentStep;
use crate::test_support::{Exchange, FakeEdge};

fn store(dir: &tempfile::TempDir, key: &StorageKey) -> LocalStore {
    LocalStore::open(&dir.path().join("tablet.sqlite3"), key).unwrap()
}

fn incident() -> IncidentId {
    IncidentId(uuid::Uuid::now_v7())
}

fn summary() -> EmergencySummary {
    EmergencySummary::assemble(
        PatientHeader {
            id: PatientId("p-1".into()),
            name: "Sato Hanako".into(),
            birth_date: NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
            sex: Sex::Female,
        },
        vec![],
        Utc::now(),
    )
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

fn file_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
    // The main file and the WAL: either may hold the newest pages.
    let mut bytes = std::fs::read(dir.path().join("tablet.sqlite3")).unwrap();
    if let Ok(wal) = std::fs::read(dir.path().join("tablet.sqlite3-wal")) {
        bytes.extend(wal);
    }
    bytes
}

#[test]
fn sessions_survive_reopening_and_another_key_cannot_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::random();
    let id = incident();
    let mut progress = IncidentProgress::start(Utc::now());
    progress
        .advance(IncidentStep::CardRead, Utc::now())
        .unwrap();
    progress
        .advance(IncidentStep::Identified, Utc::now())
        .unwrap();
    // A consent note is free text that may name people: the steps are sealed too.
    let note = "daughter Tanaka Yumi speaks for her";
    progress
        .advance(
            IncidentStep::ConsentRecorded(ConsentState::Difficult {
                reason: myna_domain::consent::DifficultyReason::Other(note.into()),
            }),
            Utc::now(),
        )
        .unwrap();
    store(&dir, &key)
        .save_session(id, "crew-042", &progress, Some(b"certificate DER"))
        .unwrap();

    let reopened = store(&dir, &key);
    let (saved, certificate) = reopened.load_session(id).unwrap().unwrap();
    assert_eq!(saved.progress, progress);
    assert_eq!(saved.crew_member_id, "crew-042");
    assert_eq!(certificate.as_deref(), Some(&b"certificate DER"[..]));
    assert_eq!(reopened.unfinished_incidents().unwrap(), vec![saved]);
    assert!(
        !file_bytes(&dir)
            .windows(15)
            .any(|w| w == b"certificate DER")
    );
    assert!(!file_bytes(&dir).windows(11).any(|w| w == b"Tanaka Yumi"));

    let wrong_key = store(&dir, &StorageKey::random());
    assert!(matches!(
        wrong_key.load_session(id),
        Err(MobileError::LocalStorage { .. })
    ));

    // Closing forgets the certificate and leaves nothing to resume.
    progress.advance(IncidentStep::Closed, Utc::now()).unwrap();
    reopened
        .save_session(id, "crew-042", &progress, None)
        .unwrap();
    let (saved, certificate) = reopened.load_session(id).unwrap().unwrap();
    assert!(saved.closed && certificate.is_none());
    assert!(reopened.unfinished_incidents().unwrap().is_empty());
    // A second handle still holding the incident open cannot reopen it.
    let mut stale = IncidentProgress::start(Utc::now());
    stale.advance(IncidentStep::CardRead, Utc::now()).unwrap();
    assert_eq!(
        reopened.save_session(id, "crew-042", &stale, Some(b"certificate DER")),
        Err(MobileError::IncidentNotOnTablet)
    );
    let (saved, certificate) = reopened.load_session(id).unwrap().unwrap();
    assert!(saved.closed && certificate.is_none());
}

#[test]
fn summary_copy_is_sealed_logged_and_wiped_at_its_time_limit_or_close() {
    let dir = tempfile::tempdir().unwrap();
    let key = StorageKey::random();
    let store = store(&dir, &key).with_summary_ttl(std::time::Duration::from_secs(60));
    let (id, now, summary) = (incident(), Utc::now(), summary());
    store.keep_summary(id, "crew-042", &summary, now).unwrap();
    assert!(!file_bytes(&dir).windows(10).any(|w| w == b"Sato Hanak"));
    assert_eq!(store.kept_summary(id, now).unwrap(), Some(summary.clone()));
    // Another incident's id does not open this copy (sealed with the incident as context).
    assert_eq!(store.kept_summary(incident(), now).unwrap(), None);

    store.record_shown_again(id, "crew-042", now).unwrap();
    let records = store.access_records(10).unwrap();
    let kinds: Vec<_> = records.iter().map(|r| (r.kind, r.on_edge)).collect();
    assert_eq!(
        kinds,
        [
            (LocalAccessKind::SummaryShownAgain, false),
            (LocalAccessKind::SummaryFetched, true)
        ]
    );
    assert_eq!(store.pending_count().unwrap(), 1);

    let later = now + chrono::Duration::seconds(61);
    assert_eq!(store.kept_summary(id, later).unwrap(), None);
    assert!(!store.has_summary_row(id));

    // Close wipes it at once, whatever its age.
    let other = incident();
    store
        .keep_summary(other, "crew-042", &summary, now)
        .unwrap();
    let mut progress = IncidentProgress::start(now);
    progress.advance(IncidentStep::Closed, now).unwrap();
    store
        .save_session(other, "crew-042", &progress, None)
        .unwrap();
    assert!(!store.has_summary_row(other));
    // A fetch that finishes after the close keeps nothing.
    assert_eq!(
        store.keep_summary(other, "crew-042", &summary, now),
        Err(MobileError::IncidentNotOnTablet)
    );
    assert!(!store.has_summary_row(other));
}

#[tokio::test]
async fn a_waiting_queue_does_not_spin_and_records_outlive_their_delivered_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, &StorageKey::random());
    let id = incident();
    store.enqueue(id, &open_write(id)).unwrap();
    store
        .record_shown_again(id, "crew-042", Utc::now())
        .unwrap();
    assert!(
        store
            .send_incident_now(&offline(), id)
            .await
            .unwrap()
            .is_some()
    );
    // The view queued behind the failed open is "due", but waits for it: the deliverer
    // sleeps until the open's backoff ends instead of looping.
    let wait = store.next_due_in().unwrap();
    assert!(wait >= std::time::Duration::from_millis(400), "{wait:?}");

    let fake = FakeEdge::start(vec![
        opened(id),
        view_recorded(id, 201, uuid::Uuid::now_v7()),
    ])
    .await;
    let edge = EdgeClient::new(fake.base_url.clone(), "tablet-token".into()).unwrap();
    assert_eq!(store.deliver_now(&edge).await.unwrap().delivered, 2);
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
    for _ in 0..2 {
        let report = store.deliver_now(&edge).await.unwrap();
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
        store.enqueue(a, &open_write(a)).unwrap();
        store
            .enqueue(
                a,
                &Write::Consent(myna_domain::wire::ConsentRequest::from_domain(
                    &ConsentState::Given,
                )),
            )
            .unwrap();
        store.record_shown_again(b, "crew-042", Utc::now()).unwrap();
        // No signal: the open is tried and kept, the consent waits behind it.
        let stuck = store.send_incident_now(&offline(), a).await.unwrap();
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
    assert_eq!(store.send_incident_now(&edge, a).await.unwrap(), None);
    let report = store.deliver_due(&edge).await.unwrap();
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
        store.deliver_due(&edge).await.unwrap(),
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
    let store = std::sync::Arc::new(store(&dir, &StorageKey::random()));
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
    let running = {
        let store = std::sync::Arc::clone(&store);
        tokio::spawn(async move {
            store
                .run_delivery(&edge, async {
                    let _ = stopped.await;
                })
                .await;
        })
    };
    // Queued after the deliverer went idle: the queueing itself wakes it.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    store
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
