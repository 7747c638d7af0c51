//! Importing patients: the only way patients, their records and their card links get into
//! the database. The edge makes none up: a deployment imports its patients, and the
//! simulations import a synthetic population (`simulations::load`).
//!
//! An import is committed in batches of [`BATCH_PATIENTS`]; the `dataset` row, the marker
//! that the import is complete, is written last, in the final transaction. An import
//! interrupted midway leaves no marker, and the next import deletes the partial patients
//! and starts again.

use chrono::NaiveDate;
use myna_domain::records::MedicalRecord;
use myna_domain::summary::PatientHeader;
use rusqlite::{Connection, Transaction, params};

use crate::error::Result;

/// Patients per transaction while importing. One transaction for a whole population made
/// the write-ahead log a second copy of the database (5 GB for a million patients, kept on
/// disk while the edge runs); with a commit per batch, the checkpoint after each commit
/// keeps it near one batch (`myna-bench population` measures both).
pub const BATCH_PATIENTS: usize = 10_000;

/// A card linked to a patient: its JPKI user-authentication certificate's issuer and
/// serial, as [`myna_domain::certificate::CardCertificate`] renders them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardLink {
    /// Issuer distinguished name (RFC 4514), e.g. `CN=…`.
    pub issuer: String,
    /// Serial number, lowercase hex without separators.
    pub serial_hex: String,
}

/// A patient to import: who they are, their card, their medical records.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPatient {
    /// Id, name, date of birth and sex.
    pub header: PatientHeader,
    /// Street address.
    pub address: String,
    /// Health insurer (保険者).
    pub insurer: String,
    /// The patient's My Number card, if they have one.
    pub card: Option<CardLink>,
    /// Medical records.
    pub records: Vec<MedicalRecord>,
}

/// Which dataset an import brings: the marker row written when it is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dataset {
    /// Generator seed of a synthetic dataset (0 when the data was not generated).
    pub seed: u64,
    /// The day the data is as of.
    pub generated_on: NaiveDate,
}

/// Imports `patients` unless a dataset is complete already (then 0): deletes what an
/// interrupted import left, inserts the patients in batches of `batch`, and writes the
/// marker with the last batch. Returns the number of patients imported.
pub(super) fn import(
    conn: &mut Connection,
    dataset: Dataset,
    patients: impl IntoIterator<Item = ImportedPatient>,
    batch: usize,
) -> Result<u64> {
    let existing: i64 = conn.query_row("SELECT COUNT(*) FROM dataset", [], |r| r.get(0))?;
    if existing > 0 {
        return Ok(0);
    }
    let tx = conn.transaction()?;
    // Left by an interrupted import. Import before serving (`cli::main_with`, the
    // simulations' loader): then no incident or access record can point at them. If one
    // does (an edge that served during an interrupted import), the foreign key stops this
    // delete and the import fails with a storage error rather than orphaning the record.
    tx.execute("DELETE FROM records", [])?;
    tx.execute("DELETE FROM patients", [])?;
    tx.commit()?;
    let batch = batch.max(1);
    let mut patients = patients.into_iter().peekable();
    let mut imported: u64 = 0;
    loop {
        let tx = conn.transaction()?;
        for patient in patients.by_ref().take(batch) {
            insert_patient(&tx, &patient)?;
            imported += 1;
        }
        if patients.peek().is_none() {
            tx.execute(
                "INSERT INTO dataset (seed, patients, generated_on) VALUES (?1, ?2, ?3)",
                params![
                    dataset.seed as i64,
                    imported as i64,
                    dataset.generated_on.to_string()
                ],
            )?;
            tx.commit()?;
            return Ok(imported);
        }
        tx.commit()?;
    }
}

/// One patient with their records.
pub(super) fn insert_patient(tx: &Transaction<'_>, patient: &ImportedPatient) -> Result<()> {
    let mut patient_stmt = tx.prepare_cached(
        "INSERT INTO patients
             (id, name, birth_date, sex, address, insurer, card_issuer, card_serial)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut record_stmt = tx.prepare_cached(
        "INSERT INTO records (patient_id, kind, date, record_json) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let h = &patient.header;
    patient_stmt.execute(params![
        h.id.0,
        h.name,
        h.birth_date.to_string(),
        serde_json::to_string(&h.sex)?,
        patient.address,
        patient.insurer,
        patient.card.as_ref().map(|c| c.issuer.as_str()),
        patient.card.as_ref().map(|c| c.serial_hex.as_str()),
    ])?;
    for record in &patient.records {
        record_stmt.execute(params![
            h.id.0,
            record.kind().as_str(),
            record.date().to_string(),
            serde_json::to_string(record)?,
        ])?;
    }
    Ok(())
}

/// Gives `issuer` to every card linked without one: files from before cards were linked
/// by issuer and serial got the column empty (`schema`), and only whoever imported their
/// patients knows which issuer their cards have. Returns how many cards it named.
pub(super) fn assign_card_issuer(conn: &Connection, issuer: &str) -> Result<u64> {
    let named = conn.execute(
        "UPDATE patients SET card_issuer = ?1
         WHERE card_serial IS NOT NULL AND card_issuer IS NULL",
        [issuer],
    )?;
    Ok(named as u64)
}

#[cfg(test)]
mod tests {
    use myna_domain::identity::{PatientId, Sex};
    use myna_domain::records::{Allergy, AllergySeverity};

    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn dataset() -> Dataset {
        Dataset {
            seed: 3,
            generated_on: today(),
        }
    }

    fn fresh() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::schema::apply(&conn).unwrap();
        conn
    }

    /// Patient `n`: every third without a card, `n % 4` allergy records.
    fn patient(n: u64) -> ImportedPatient {
        ImportedPatient {
            header: PatientHeader {
                id: PatientId(format!("P{n:07}")),
                name: format!("患者 {n}"),
                birth_date: NaiveDate::from_ymd_opt(1940 + (n % 60) as i32, 1, 2).unwrap(),
                sex: if n.is_multiple_of(2) {
                    Sex::Female
                } else {
                    Sex::Male
                },
            },
            address: format!("東京都世田谷区{n}"),
            insurer: "全国健康保険協会".into(),
            card: (!n.is_multiple_of(3)).then(|| CardLink {
                issuer: "CN=Test CA".into(),
                serial_hex: format!("{:016x}", n + 1),
            }),
            records: (0..n % 4)
                .map(|k| {
                    MedicalRecord::DrugAllergy(Allergy {
                        substance: format!("substance {k}"),
                        reaction: "rash".into(),
                        severity: AllergySeverity::Mild,
                        recorded_on: today() - chrono::Duration::days(k as i64),
                    })
                })
                .collect(),
        }
    }

    fn patients(count: u64) -> impl Iterator<Item = ImportedPatient> {
        (0..count).map(patient)
    }

    /// (patients, records, dataset rows, records of patient P0000019 as JSON).
    fn contents(conn: &Connection) -> (i64, i64, i64, Vec<String>) {
        let count = |table: &str| {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        };
        let mut stmt = conn
            .prepare("SELECT record_json FROM records WHERE patient_id = 'P0000019' ORDER BY id")
            .unwrap();
        let last = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<Vec<String>>>()
            .unwrap();
        (count("patients"), count("records"), count("dataset"), last)
    }

    #[test]
    fn batches_import_the_same_rows_as_one_transaction() {
        let mut whole = fresh();
        assert_eq!(
            import(&mut whole, dataset(), patients(20), 1_000).unwrap(),
            20
        );
        let mut batched = fresh();
        assert_eq!(
            import(&mut batched, dataset(), patients(20), 7).unwrap(),
            20
        );
        let expected = contents(&whole);
        assert_eq!(expected.0, 20);
        assert_eq!(expected.2, 1);
        assert!(!expected.3.is_empty());
        assert_eq!(contents(&batched), expected);
        // Imported: a second call imports nothing.
        assert_eq!(import(&mut batched, dataset(), patients(20), 7).unwrap(), 0);
        assert_eq!(contents(&batched), expected);
    }

    #[test]
    fn an_interrupted_import_is_redone_at_the_next_call() {
        let mut conn = fresh();
        // What a crash after two committed batches leaves: patients, no dataset row.
        let tx = conn.transaction().unwrap();
        for patient in patients(14) {
            insert_patient(&tx, &patient).unwrap();
        }
        tx.commit().unwrap();
        assert_eq!(contents(&conn).0, 14);
        assert_eq!(import(&mut conn, dataset(), patients(20), 7).unwrap(), 20);
        let mut clean = fresh();
        import(&mut clean, dataset(), patients(20), 7).unwrap();
        assert_eq!(contents(&conn), contents(&clean));
    }

    #[test]
    fn an_empty_population_still_marks_the_database_seeded() {
        let mut conn = fresh();
        assert_eq!(import(&mut conn, dataset(), patients(0), 7).unwrap(), 0);
        assert_eq!(contents(&conn).2, 1);
    }

    #[test]
    fn the_marker_names_the_dataset_and_counts_the_patients() {
        let mut conn = fresh();
        import(&mut conn, dataset(), patients(9), 4).unwrap();
        let row: (i64, i64, String) = conn
            .query_row(
                "SELECT seed, patients, generated_on FROM dataset",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, (3, 9, "2026-11-25".into()));
    }

    #[test]
    fn only_cards_without_an_issuer_get_one() {
        let mut conn = fresh();
        import(&mut conn, dataset(), patients(3), 7).unwrap();
        conn.execute(
            "UPDATE patients SET card_issuer = NULL WHERE id = 'P0000001'",
            [],
        )
        .unwrap();
        assert_eq!(assign_card_issuer(&conn, "CN=Old CA").unwrap(), 1);
        let issuers: Vec<Option<String>> = conn
            .prepare("SELECT card_issuer FROM patients ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            issuers,
            [None, Some("CN=Old CA".into()), Some("CN=Test CA".into())]
        );
    }
}
