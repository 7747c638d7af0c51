//! Loading the deterministic synthetic population (crate `population`) at first start.

use chrono::NaiveDate;
use rusqlite::{Connection, params};

use crate::Result;

/// Issuer name of every synthetic card certificate, as
/// [`myna_domain::certificate::CardCertificate::from_der`] renders it: the development CA's
/// subject is exactly this one common name.
pub fn synthetic_card_issuer() -> String {
    format!("CN={}", population::CARD_ISSUER_CN)
}

/// Streams `count` patients into the database in one transaction, if it has none yet.
pub fn seed_if_empty(
    conn: &mut Connection,
    seed: u64,
    count: u64,
    today: NaiveDate,
) -> Result<u64> {
    let existing: i64 = conn.query_row("SELECT COUNT(*) FROM dataset", [], |r| r.get(0))?;
    if existing > 0 {
        return Ok(0);
    }
    let tx = conn.transaction()?;
    {
        let mut patient_stmt = tx.prepare(
            "INSERT INTO patients
                 (id, name, birth_date, sex, address, insurer, card_issuer, card_serial)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let issuer = synthetic_card_issuer();
        let mut record_stmt = tx.prepare(
            "INSERT INTO records (patient_id, kind, date, record_json) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for patient in population::patients(seed, count, today) {
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
    }
    tx.execute(
        "INSERT INTO dataset (seed, patients, generated_on) VALUES (?1, ?2, ?3)",
        params![seed as i64, count as i64, today.to_string()],
    )?;
    tx.commit()?;
    Ok(count)
}
