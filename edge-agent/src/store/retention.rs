//! Retention purge (保存期間): deletes the medical records that the domain's retention
//! rules ([`RecordKind::retention`], [`Retention::keeps`]) no longer keep, so the edge holds
//! no more than the emergency summary could ever show.
//!
//! The rule is written once, in the domain: each kind's age limit becomes a cut-off date
//! here ([`oldest_kept_date`]), and "the newest N of a kind for a patient" becomes a
//! `ROW_NUMBER()` window per patient. Ties on date (a lab panel is many results of one day)
//! rank by `id` ascending: [`Tx::summary`] reads a patient's records through the
//! `records_by_patient` index, hence in id order, and [`EmergencySummary::assemble`] sorts
//! them stably, so a purge deletes exactly what the summary had stopped showing.
//!
//! **Architecture invariant:** only the `records` table is written. The access log and its
//! Merkle hashes and checkpoints (`access_log`, `log_hashes`, `log_checkpoints`) are
//! append-only and are never purged; rows of kinds this build does not know are left alone.
//!
//! [`EmergencySummary::assemble`]: myna_domain::summary::EmergencySummary::assemble

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use myna_domain::records::{RecordKind, Retention};
use rusqlite::{Connection, params};

use super::tx::Tx;
use crate::error::Result;

/// How many medical records a purge deleted, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    deleted: BTreeMap<RecordKind, u64>,
}

impl PurgeReport {
    /// Records of `kind` deleted.
    pub fn deleted(&self, kind: RecordKind) -> u64 {
        self.deleted.get(&kind).copied().unwrap_or(0)
    }

    /// Records deleted, all kinds together.
    pub fn total(&self) -> u64 {
        self.deleted.values().sum()
    }

    /// The kinds with at least one record deleted, and how many.
    pub fn by_kind(&self) -> impl Iterator<Item = (RecordKind, u64)> + '_ {
        self.deleted.iter().map(|(kind, n)| (*kind, *n))
    }
}

impl Tx<'_> {
    /// Deletes every medical record that retention no longer keeps on `today`: older than
    /// its kind's age limit and, for kinds that keep the last few regardless of age, not
    /// among the patient's newest of that kind. Touches only the `records` table.
    pub fn purge_expired_records(&self, today: NaiveDate) -> Result<PurgeReport> {
        purge(self.tx, today)
    }
}

/// The purge on a connection (or a transaction, which derefs to one).
pub(super) fn purge(conn: &Connection, today: NaiveDate) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    for kind in RecordKind::ALL {
        let retention = kind.retention();
        let Some(oldest_kept) = oldest_kept_date(retention, today) else {
            continue; // the limit reaches before the calendar: nothing is old
        };
        let deleted = match retention.keep_last {
            None => conn
                .prepare_cached("DELETE FROM records WHERE kind = ?1 AND date < ?2")?
                .execute(params![kind.as_str(), oldest_kept.to_string()])?,
            Some(keep_last) => conn
                .prepare_cached(
                    "DELETE FROM records WHERE id IN (
                         SELECT id FROM (
                             SELECT id, date, ROW_NUMBER() OVER (
                                 PARTITION BY patient_id ORDER BY date DESC, id ASC
                             ) AS newest_first
                             FROM records
                             WHERE kind = ?1 AND patient_id IN (
                                 SELECT patient_id FROM records WHERE kind = ?1 AND date < ?2
                             )
                         )
                         WHERE date < ?2 AND newest_first > ?3
                     )",
                )?
                .execute(params![kind.as_str(), oldest_kept.to_string(), keep_last])?,
        };
        if deleted > 0 {
            report.deleted.insert(kind, deleted as u64);
        }
    }
    Ok(report)
}

/// The oldest date [`Retention::keeps`] still calls young on `today` (any rank); `None`
/// when that would be before the earliest representable date.
fn oldest_kept_date(retention: Retention, today: NaiveDate) -> Option<NaiveDate> {
    today.checked_sub_days(Days::new(u64::from(retention.days)))
}

#[cfg(test)]
mod tests {
    use myna_domain::records::MedicalRecord;
    use myna_domain::summary::EmergencySummary;

    use super::*;
    use crate::store::import::{BATCH_PATIENTS, Dataset, ImportedPatient, import};
    use crate::store::schema;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn store() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        schema::apply(&conn).unwrap();
        for id in ["P1", "P2"] {
            conn.execute(
                "INSERT INTO patients (id, name, birth_date, sex, address, insurer)
                 VALUES (?1, 'n', '1940-01-02', '\"female\"', 'a', 'i')",
                [id],
            )
            .unwrap();
        }
        conn
    }

    fn insert(conn: &Connection, patient: &str, kind: &str, date: NaiveDate) -> i64 {
        conn.execute(
            "INSERT INTO records (patient_id, kind, date, record_json) VALUES (?1, ?2, ?3, '{}')",
            params![patient, kind, date.to_string()],
        )
        .unwrap();
        conn.last_insert_rowid()
    }

    fn remaining(conn: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = conn
            .prepare("SELECT patient_id, kind, date FROM records ORDER BY patient_id, kind, date DESC, id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    fn count(conn: &Connection, table: &str) -> i64 {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn cut_off_dates_agree_with_the_domain_rule() {
        let today = d(2026, 11, 25);
        for kind in RecordKind::ALL {
            let retention = kind.retention();
            let oldest = oldest_kept_date(retention, today).unwrap();
            assert!(retention.keeps(oldest, usize::MAX, today), "{kind:?}");
            assert!(
                !retention.keeps(oldest.pred_opt().unwrap(), usize::MAX, today),
                "{kind:?}"
            );
        }
        assert_eq!(
            oldest_kept_date(RecordKind::Diagnosis.retention(), today),
            Some(d(2021, 11, 26))
        );
        assert_eq!(
            oldest_kept_date(RecordKind::LabResult.retention(), today),
            Some(d(2025, 11, 25))
        );
    }

    #[test]
    fn purge_deletes_exactly_what_retention_drops() {
        let conn = store();
        conn.execute_batch(
            "INSERT INTO access_log (id, at, patient_id, institution_id, record_json)
                 VALUES ('a1', '2019-01-01T00:00:00.000Z', 'P1', 'fd', '{}'),
                        ('a2', '2026-01-01T00:00:00.000Z', 'P2', 'fd', '{}');
             INSERT INTO log_hashes (idx, hash) VALUES (0, x'00'), (1, x'01');
             INSERT INTO log_checkpoints (tree_size, root, signed_at, note)
                 VALUES (2, x'02', '2026-01-01T00:00:00.000Z', 'note');",
        )
        .unwrap();
        let today = d(2026, 11, 25);
        // P1 labs: two young, then old ones; the newest three are kept whatever their age.
        for date in [
            d(2026, 6, 1),
            d(2026, 1, 10),
            d(2024, 5, 1),
            d(2024, 3, 1),
            d(2023, 1, 1),
            d(2022, 1, 1),
        ] {
            insert(&conn, "P1", "lab_result", date);
        }
        // P2 labs: all old; the last three stay.
        for date in [d(2020, 1, 1), d(2019, 1, 1), d(2018, 1, 1), d(2017, 1, 1)] {
            insert(&conn, "P2", "lab_result", date);
        }
        // Diagnoses: five years (1,825 days), no "last N": the boundary day stays.
        insert(&conn, "P1", "diagnosis", d(2021, 11, 26));
        insert(&conn, "P1", "diagnosis", d(2021, 11, 25));
        insert(&conn, "P2", "diagnosis", d(2010, 1, 1));
        // Prescriptions: 100 days or the last three.
        for date in [d(2026, 10, 1), d(2025, 1, 1), d(2024, 1, 1), d(2023, 1, 1)] {
            insert(&conn, "P1", "prescription", date);
        }
        // A kind this build does not know is left alone.
        insert(&conn, "P2", "future_kind", d(2000, 1, 1));

        let report = purge(&conn, today).unwrap();

        assert_eq!(report.deleted(RecordKind::LabResult), 4);
        assert_eq!(report.deleted(RecordKind::Diagnosis), 2);
        assert_eq!(report.deleted(RecordKind::Prescription), 1);
        assert_eq!(report.deleted(RecordKind::Visit), 0);
        assert_eq!(report.total(), 7);
        assert_eq!(
            report.by_kind().collect::<Vec<_>>(),
            [
                (RecordKind::Prescription, 1),
                (RecordKind::Diagnosis, 2),
                (RecordKind::LabResult, 4)
            ]
        );
        let row =
            |p: &str, k: &str, date: NaiveDate| (p.to_string(), k.to_string(), date.to_string());
        assert_eq!(
            remaining(&conn),
            [
                row("P1", "diagnosis", d(2021, 11, 26)),
                row("P1", "lab_result", d(2026, 6, 1)),
                row("P1", "lab_result", d(2026, 1, 10)),
                row("P1", "lab_result", d(2024, 5, 1)),
                row("P1", "prescription", d(2026, 10, 1)),
                row("P1", "prescription", d(2025, 1, 1)),
                row("P1", "prescription", d(2024, 1, 1)),
                row("P2", "future_kind", d(2000, 1, 1)),
                row("P2", "lab_result", d(2020, 1, 1)),
                row("P2", "lab_result", d(2019, 1, 1)),
                row("P2", "lab_result", d(2018, 1, 1)),
            ]
        );
        assert_eq!(count(&conn, "access_log"), 2);
        assert_eq!(count(&conn, "log_hashes"), 2);
        assert_eq!(count(&conn, "log_checkpoints"), 1);
        // A second purge the same day finds nothing more.
        assert_eq!(purge(&conn, today).unwrap(), PurgeReport::default());
    }

    #[test]
    fn same_day_records_rank_by_id_as_the_summary_reads_them() {
        let conn = store();
        let ids: Vec<i64> = (0..5)
            .map(|_| insert(&conn, "P1", "lab_result", d(2020, 1, 1)))
            .collect();
        purge(&conn, d(2026, 11, 25)).unwrap();
        let kept: Vec<i64> = conn
            .prepare("SELECT id FROM records ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(kept, ids[..3]);
    }

    /// Each patient's records, oldest id first, as `Tx::summary` reads them.
    fn records_by_patient(conn: &Connection) -> BTreeMap<String, Vec<MedicalRecord>> {
        let mut stmt = conn
            .prepare("SELECT patient_id, record_json FROM records ORDER BY id")
            .unwrap();
        let mut map: BTreeMap<String, Vec<MedicalRecord>> = BTreeMap::new();
        for row in stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap()
        {
            let (patient, json) = row.unwrap();
            map.entry(patient)
                .or_default()
                .push(serde_json::from_str(&json).unwrap());
        }
        map
    }

    fn canonical(records: &[MedicalRecord]) -> Vec<String> {
        let mut texts: Vec<String> = records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        texts.sort();
        texts
    }

    #[test]
    fn purge_keeps_exactly_what_the_summary_shows() {
        let mut conn = Connection::open_in_memory().unwrap();
        schema::apply(&conn).unwrap();
        let generated = d(2026, 11, 25);
        // The synthetic population (a dev-dependency): every record kind, realistic dates.
        let patients = population::patients(7, 60, generated).map(|p| ImportedPatient {
            header: p.header,
            address: p.address,
            insurer: p.insurer,
            card: None,
            records: p.records,
        });
        let dataset = Dataset {
            seed: 7,
            generated_on: generated,
        };
        import(&mut conn, dataset, patients, BATCH_PATIENTS).unwrap();
        let before = records_by_patient(&conn);
        let later = d(2027, 6, 1);
        let report = purge(&conn, later).unwrap();
        assert!(report.deleted(RecordKind::LabResult) > 0, "{report:?}");
        assert!(report.deleted(RecordKind::Diagnosis) > 0, "{report:?}");
        let after = records_by_patient(&conn);
        let now = later.and_hms_opt(12, 0, 0).unwrap().and_utc();
        for (patient, records) in before {
            let header = myna_domain::summary::PatientHeader {
                id: myna_domain::identity::PatientId(patient.clone()),
                name: String::new(),
                birth_date: d(1950, 1, 1),
                sex: myna_domain::identity::Sex::Female,
            };
            let shown = EmergencySummary::assemble(header, records, now).records;
            let kept = after.get(&patient).map(Vec::as_slice).unwrap_or_default();
            assert_eq!(canonical(kept), canonical(&shown), "patient {patient}");
        }
    }
}
