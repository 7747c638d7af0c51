//! Loading the deterministic synthetic population (crate `population`) at first start.

use chrono::NaiveDate;
use rusqlite::{Connection, Transaction, params};

use crate::error::Result;

/// Patients per transaction while loading. One transaction for the whole population made
/// the write-ahead log a second copy of the database (5 GB for a million patients,
/// kept on disk while the edge runs); with a commit per batch, the checkpoint after each
/// commit keeps it near one batch (`myna-bench population` measures both).
const BATCH_PATIENTS: u64 = 10_000;

/// Issuer name of every synthetic card certificate, as
/// [`myna_domain::certificate::CardCertificate::from_der`] renders it: the development CA's
/// subject is exactly this one common name.
pub fn synthetic_card_issuer() -> String {
    format!("CN={}", population::CARD_ISSUER_CN)
}

/// Streams `count` patients into the database, if it has no dataset row yet.
///
/// Patients are committed in batches; the `dataset` row is written last, in the final
/// transaction, so a load interrupted midway leaves no dataset row and the next start
/// deletes the partial patients and loads again.
pub fn seed_if_empty(
    conn: &mut Connection,
    seed: u64,
    count: u64,
    today: NaiveDate,
) -> Result<u64> {
    load(conn, seed, count, today, BATCH_PATIENTS)
}

fn load(conn: &mut Connection, seed: u64, count: u64, today: NaiveDate, batch: u64) -> Result<u64> {
    let existing: i64 = conn.query_row("SELECT COUNT(*) FROM dataset", [], |r| r.get(0))?;
    if existing > 0 {
        return Ok(0);
    }
    let tx = conn.transaction()?;
    // Left by an interrupted load (the edge serves nothing before the dataset row exists,
    // so no access record can point at them; a foreign key would stop this if one did).
    tx.execute("DELETE FROM records", [])?;
    tx.execute("DELETE FROM patients", [])?;
    tx.commit()?;
    let batch = batch.max(1);
    let mut start: u64 = 0;
    loop {
        let end = start.saturating_add(batch).min(count);
        let tx = conn.transaction()?;
        insert_patients(&tx, seed, start..end, today)?;
        if end == count {
            tx.execute(
                "INSERT INTO dataset (seed, patients, generated_on) VALUES (?1, ?2, ?3)",
                params![seed as i64, count as i64, today.to_string()],
            )?;
            tx.commit()?;
            return Ok(count);
        }
        tx.commit()?;
        start = end;
    }
}

/// Patients `indexes` of the population for `seed`, with their records.
fn insert_patients(
    tx: &Transaction<'_>,
    seed: u64,
    indexes: std::ops::Range<u64>,
    today: NaiveDate,
) -> Result<()> {
    let mut patient_stmt = tx.prepare_cached(
        "INSERT INTO patients
             (id, name, birth_date, sex, address, insurer, card_issuer, card_serial)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let issuer = synthetic_card_issuer();
    let mut record_stmt = tx.prepare_cached(
        "INSERT INTO records (patient_id, kind, date, record_json) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for index in indexes {
        let patient = population::patient(seed, index, today);
        let h = &patient.header;
        patient_stmt.execute(params![
            h.id.0,
            h.name,
            h.birth_date.to_string(),
            serde_json::to_string(&h.sex)?,
            patient.address,
            patient.insurer,
            patient.card.as_ref().map(|_| issuer.as_str()),
            patient.card.as_ref().map(|c| c.serial_hex()),
        ])?;
        for record in &patient.records {
            record_stmt.execute(params![
                h.id.0,
                record.kind().as_str(),
                record.date().to_string(),
                serde_json::to_string(record)?,
            ])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn fresh() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        crate::store::schema::apply(&conn).unwrap();
        conn
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
    fn batches_load_the_same_rows_as_one_transaction() {
        let mut whole = fresh();
        assert_eq!(load(&mut whole, 3, 20, today(), 1_000).unwrap(), 20);
        let mut batched = fresh();
        assert_eq!(load(&mut batched, 3, 20, today(), 7).unwrap(), 20);
        let expected = contents(&whole);
        assert_eq!(expected.0, 20);
        assert_eq!(expected.2, 1);
        assert!(!expected.3.is_empty());
        assert_eq!(contents(&batched), expected);
        // Seeded: a second call loads nothing.
        assert_eq!(load(&mut batched, 3, 20, today(), 7).unwrap(), 0);
        assert_eq!(contents(&batched), expected);
    }

    #[test]
    fn an_interrupted_load_is_redone_at_the_next_start() {
        let mut conn = fresh();
        // What a crash after two committed batches leaves: patients, no dataset row.
        let tx = conn.transaction().unwrap();
        insert_patients(&tx, 3, 0..14, today()).unwrap();
        tx.commit().unwrap();
        assert_eq!(contents(&conn).0, 14);
        assert_eq!(load(&mut conn, 3, 20, today(), 7).unwrap(), 20);
        let mut clean = fresh();
        load(&mut clean, 3, 20, today(), 7).unwrap();
        assert_eq!(contents(&conn), contents(&clean));
    }

    #[test]
    fn an_empty_population_still_marks_the_database_seeded() {
        let mut conn = fresh();
        assert_eq!(load(&mut conn, 3, 0, today(), 7).unwrap(), 0);
        assert_eq!(contents(&conn).2, 1);
    }
}
