//! The local store on a real SQLite file: sessions, the sealed summary copy. (The outbox
//! against a canned edge is tested with its deliverer, in `delivery/tests.rs`.)

use chrono::{NaiveDate, Utc};
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use myna_domain::identity::{PatientId, Sex};
use myna_domain::summary::{EmergencySummary, PatientHeader};

use super::*;
use crate::error::MobileError;
use crate::progress::{IncidentProgress, IncidentStep};

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
