//! `offline_` tests: a scene without signal. The tablet (mobile-core with its SQLite store
//! on disk) talks to the real edge through a [`Front`] that can take the network away or
//! swallow the edge's answers after the edge acted. What was queued must reach the edge,
//! and each write must take effect once, also when the app was killed mid-queue.

use std::sync::Arc;

use e2e::{Fixture, Front, FrontMode};
use mobile_core::local::{LocalAccessKind, WriteKind, WriteState};
use mobile_core::{EdgeClient, IncidentStep, MobileError, StorageKey, Tablet};
use myna_domain::access::{AccessAction, ViewerRole};
use myna_domain::consent::ConsentState;
use myna_domain::handoff::SceneKind;
use myna_domain::wire::{HandoffRequest, Vitals};
use simulations::scenario::tap;
use tokio::net::TcpListener;

struct Scene {
    f: Fixture,
    front: Front,
    store: tempfile::TempDir,
    key: StorageKey,
}

impl Scene {
    async fn start() -> Scene {
        let f = Fixture::start(60).await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front = Front::start(listener, &f.stack.edge_url);
        Scene {
            f,
            front,
            store: tempfile::tempdir().unwrap(),
            key: StorageKey::random(),
        }
    }

    /// The app starting: its store on disk, the edge behind the front.
    fn open_tablet(&self) -> Tablet {
        let edge = EdgeClient::new(self.front.url.clone(), self.f.stack.device_token(1)).unwrap();
        Tablet::open(&self.store.path().join("tablet.sqlite3"), &self.key, edge).unwrap()
    }

    fn handoff(&self) -> HandoffRequest {
        HandoffRequest {
            hospital_id: self.f.stack.hospitals[0].id.clone(),
            chief_complaint: "呼吸困難 Shortness of breath".into(),
            eta_minutes: 12,
            vitals: Vitals {
                spo2_percent: Some(89),
                ..Vitals::default()
            },
            handoff_id: None,
            scene: Some(SceneKind::Home),
        }
    }

    fn count(&self, sql: &str, incident: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.f.stack.edge_database()).unwrap();
        conn.query_row(sql, [incident], |r| r.get(0)).unwrap()
    }
}

fn kinds_and_pending(tablet: &Tablet) -> Vec<(WriteKind, bool)> {
    tablet
        .queued_writes()
        .unwrap()
        .into_iter()
        .map(|w| (w.kind, matches!(w.state, WriteState::Pending { .. })))
        .collect()
}

#[tokio::test]
async fn offline_scene_is_queued_then_delivered_exactly_once() {
    let s = Scene::start().await;
    let tablet = s.open_tablet();
    s.front.set(FrontMode::Down);

    // The whole scene without signal: card, face photo, consent, handoff.
    let incident = Arc::new(tablet.start_incident("crew-0042".into()).unwrap());
    let card = s.f.dispatcher.card(s.f.patient(0)).await.unwrap();
    tap(&incident, card).await.unwrap();
    let identity = incident.confirm_identity(true).await.unwrap();
    assert!(identity.queued);
    assert_eq!(
        incident.record_consent(ConsentState::Given).await,
        Ok(ConsentState::Given)
    );
    assert!(matches!(
        incident.fetch_summary().await,
        Err(MobileError::EdgeUnreachable { .. })
    ));
    let sent = incident.hand_off(s.handoff()).await.unwrap();
    assert!(sent.queued && !sent.delivered);
    assert_eq!(incident.step(), IncidentStep::HandedOff);
    let id = incident.incident_id();
    assert_eq!(
        kinds_and_pending(&tablet),
        [
            (WriteKind::OpenIncident, true),
            (WriteKind::Consent, true),
            (WriteKind::Handoff, true)
        ]
    );
    assert!(s.f.log_for(&id).is_empty(), "nothing reached the edge");
    assert_eq!(s.f.incident_count(), 0);

    // Signal again: everything goes, in order, once.
    s.front.set(FrontMode::Up);
    let report = tablet.deliver_now().await.unwrap();
    assert_eq!(
        (report.delivered, report.rejected, report.pending),
        (3, 0, 0)
    );
    assert!(
        kinds_and_pending(&tablet)
            .iter()
            .all(|(_, pending)| !pending),
        "all delivered"
    );
    assert_eq!(s.f.incident_count(), 1);
    assert_eq!(
        s.count("SELECT count(*) FROM handoffs WHERE incident_id = ?1", &id),
        1
    );
    let log = s.f.log_for(&id);
    let relays: Vec<_> = log
        .iter()
        .filter(|r| matches!(r.action, AccessAction::RelayToHospital { .. }))
        .collect();
    assert_eq!(relays.len(), 1, "{log:#?}");
    assert_eq!(relays[0].consent, Some(ConsentState::Given));
    // The hospital gets the patient once, under the tablet's handoff id.
    let arrivals = s.f.arrivals(0).await;
    assert_eq!(arrivals.len(), 1);
    assert_eq!(arrivals[0].handoff_id, sent.handoff_id);
    assert_eq!(
        arrivals[0].scene,
        Some(SceneKind::Home),
        "kept through the queue"
    );

    // Nothing left: a second pass sends nothing.
    let again = tablet.deliver_now().await.unwrap();
    assert_eq!((again.delivered, again.pending), (0, 0));
    assert_eq!(s.f.log_for(&id).len(), log.len());
}

#[tokio::test]
async fn offline_app_killed_mid_queue_still_delivers_once() {
    let s = Scene::start().await;
    let id;
    let handoff_id;
    {
        let tablet = s.open_tablet();
        let incident = Arc::new(tablet.start_incident("crew-0042".into()).unwrap());
        let card = s.f.dispatcher.card(s.f.patient(1)).await.unwrap();
        tap(&incident, card).await.unwrap();
        assert!(!incident.confirm_identity(true).await.unwrap().queued);
        incident.record_consent(ConsentState::Given).await.unwrap();
        incident.fetch_summary().await.unwrap();

        // The edge acts on the handoff, but its answer is lost on the way back.
        s.front.set(FrontMode::LoseAnswers);
        // The switch cut the tablet's pooled connection; let its client see the close, so
        // the handoff goes out on a new connection (through the new mode) and not onto
        // the dead one.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let sent = incident.hand_off(s.handoff()).await.unwrap();
        assert!(sent.queued, "the tablet did not hear back");
        assert!(s.front.answers_lost() >= 1);
        handoff_id = sent.handoff_id;
        // Shown again from the sealed copy, queued behind the handoff.
        incident.summary_again().unwrap();
        id = incident.incident_id();
        assert_eq!(
            s.count("SELECT count(*) FROM handoffs WHERE incident_id = ?1", &id),
            1,
            "the edge has the handoff already"
        );
        assert_eq!(
            kinds_and_pending(&tablet)[2..],
            [
                (WriteKind::Handoff, true),
                (WriteKind::SummaryShownAgain, true)
            ]
        );
    } // the app is killed: tablet and incident dropped, nothing closed or flushed

    s.front.set(FrontMode::Up);
    let tablet = s.open_tablet();
    let unfinished = tablet.unfinished_incidents().unwrap();
    assert_eq!(unfinished.len(), 1);
    let incident = tablet.resume_incident(&unfinished[0].incident_id).unwrap();
    assert_eq!(incident.incident_id(), id);
    assert_eq!(incident.step(), IncidentStep::HandedOff);
    // The restarted app finds the handoff to follow in the outbox.
    let handoffs: Vec<_> = tablet
        .queued_writes()
        .unwrap()
        .into_iter()
        .filter(|w| w.kind == WriteKind::Handoff)
        .map(|w| w.handoff_id)
        .collect();
    assert_eq!(handoffs, [Some(handoff_id.to_string())]);
    let report = tablet.deliver_now().await.unwrap();
    assert_eq!(
        (report.delivered, report.rejected, report.pending),
        (2, 0, 0)
    );

    // Sent twice, took effect once: one handoff, one relay, one arrival, one view record.
    assert_eq!(
        s.count("SELECT count(*) FROM handoffs WHERE incident_id = ?1", &id),
        1
    );
    let log = s.f.log_for(&id);
    let relays = log
        .iter()
        .filter(|r| r.viewer.role == ViewerRole::ReceivingHospital)
        .count();
    assert_eq!(relays, 1, "{log:#?}");
    let arrivals = s.f.arrivals(0).await;
    assert_eq!(arrivals.len(), 1);
    assert_eq!(arrivals[0].handoff_id, handoff_id);
    assert_eq!(
        arrivals[0].scene,
        Some(SceneKind::Home),
        "kept through the queue"
    );
    let device_views: Vec<_> = log
        .iter()
        .filter(|r| matches!(r.action, AccessAction::ViewOnDevice { .. }))
        .collect();
    assert_eq!(device_views.len(), 1, "{log:#?}");
    // The tablet's own record of that view and the edge's are the same record.
    let mine = tablet.access_records(10).unwrap();
    let shown = mine
        .iter()
        .find(|r| r.kind == LocalAccessKind::SummaryShownAgain)
        .unwrap();
    assert_eq!(shown.id, device_views[0].id.0.to_string());
    assert!(mine.iter().all(|r| r.on_edge));

    // The crew follows the hospital's answer on the resumed incident; closing wipes the copy.
    let state = incident.handoff_state(handoff_id, None).await.unwrap();
    assert_eq!(state.handoff_id, handoff_id);
    incident.close().unwrap();
    assert!(matches!(
        incident.summary_again(),
        Err(MobileError::IllegalStep { .. })
    ));
    assert!(tablet.unfinished_incidents().unwrap().is_empty());
}
