//! `myna-bench audit`: how many access records per second the edge can make durable.
//!
//! Measured: [`edge_agent::store::Store::write`] appending one access record per write
//! ([`edge_agent::store::Tx::append_access`]: the row and its Merkle-tree hashes), with 1
//! and with many concurrent writers, each waiting for its commit (`synchronous=FULL`, WAL)
//! before the next write: the group-commit writer batches whatever queued up during the
//! previous fsync. Baseline, in the same run: the same rows inserted with plain SQL into the
//! same schema and file type (WAL, `synchronous=FULL`), 1,000 rows per transaction: what
//! SQLite alone does when nobody waits for an individual row. The baseline writes the
//! `access_log` row only; the store also writes the tree's hashes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use edge_agent::store::Store;
use myna_domain::access::{
    AccessAction, AccessOutcome, AccessRecord, AccessRecordId, IncidentId, Purpose,
};
use myna_domain::consent::ConsentState;
use myna_domain::identity::PatientId;
use myna_domain::records::RecordKind;
use rusqlite::params;

/// Rows per transaction in the baseline.
const BASELINE_BATCH: usize = 1_000;

/// Runs the benchmark and prints its table.
pub fn run(concurrency: &[usize], appends: usize, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (dir, _temporary) = crate::measure::bench_dir(dir)?;
    let records = Arc::new(records(appends));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let baseline = baseline(&dir.join("audit-baseline.sqlite3"), &records)?;
    let mut rows = Vec::new();
    for &writers in concurrency {
        let writers = writers.max(1);
        // One fsync per append at concurrency 1: fewer of them keep the run short.
        let count = if writers == 1 { appends / 10 } else { appends };
        let path = dir.join(format!("audit-store-{writers}.sqlite3"));
        let rate = runtime.block_on(store_appends(&path, &records[..count], writers))?;
        rows.push((writers, count, rate));
    }

    println!(
        "audit benchmark: durable access-record appends, files in {}",
        dir.display()
    );
    println!(
        "{:<58} {:>9} {:>12} {:>9}",
        "writer", "appends", "appends/s", "ratio"
    );
    println!(
        "{:<58} {:>9} {:>12.0} {:>8.2}x",
        format!("baseline: raw INSERTs, {BASELINE_BATCH} rows/transaction"),
        appends,
        baseline,
        1.0
    );
    for (writers, count, rate) in rows {
        println!(
            "{:<58} {:>9} {:>12.0} {:>8.2}x",
            format!("Store::write + append_access, {writers} concurrent writers"),
            count,
            rate,
            rate / baseline
        );
    }
    println!(
        "(each store append waits for its own COMMIT, synchronous=FULL, WAL, and also writes \
         the Merkle-tree hashes; the baseline writes the access_log rows only)"
    );
    Ok(())
}

/// `count` access records like a disclosure's, distinct ids and incidents.
fn records(count: usize) -> Vec<AccessRecord> {
    let config = edge_agent::config::Config::local(".".into());
    let viewer = edge_agent::emergency::crew_viewer(&config.devices[0], "crew-bench");
    let now = Utc::now();
    (0..count)
        .map(|n| AccessRecord {
            // UUIDv7, as the edge and the tablets make them.
            id: AccessRecordId(uuid::Uuid::now_v7()),
            at: now,
            incident: Some(IncidentId(uuid::Uuid::now_v7())),
            patient: Some(PatientId(format!("P{:07}", n % 2_000))),
            viewer: viewer.clone(),
            purpose: Purpose::EmergencyTreatment,
            action: AccessAction::ViewSummary,
            consent: Some(ConsentState::Given),
            outcome: AccessOutcome::Disclosed {
                kinds: vec![
                    RecordKind::DrugInformation,
                    RecordKind::Diagnosis,
                    RecordKind::DrugAllergy,
                    RecordKind::LabResult,
                ],
            },
        })
        .collect()
}

/// A fresh file with the edge's schema (created by opening a store on it).
fn fresh_file(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(&name);
    }
    Store::open(path)
        .with_context(|| format!("creating {}", path.display()))?
        .close();
    Ok(())
}

/// Appends per second through the store with `writers` concurrent writers.
async fn store_appends(
    path: &Path,
    records: &[AccessRecord],
    writers: usize,
) -> anyhow::Result<f64> {
    fresh_file(path)?;
    let store = Arc::new(Store::open(path)?);
    let records: Arc<Vec<AccessRecord>> = Arc::new(records.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (store, records, next) = (store.clone(), records.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let Some(record) = records.get(n).cloned() else {
                        return anyhow::Ok(());
                    };
                    store.write(move |tx| tx.append_access(&record)).await?;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let elapsed = started.elapsed();
    let size = store.read_blocking(|tx| tx.tree_size())?;
    anyhow::ensure!(size == records.len() as u64, "the tree has {size} leaves");
    store.close();
    Ok(rate(records.len(), elapsed))
}

/// Inserts per second of the same rows with plain SQL, `BASELINE_BATCH` per transaction.
fn baseline(path: &Path, records: &[AccessRecord]) -> anyhow::Result<f64> {
    fresh_file(path)?;
    let mut conn = myna_service::open_durable(path)?;
    let started = Instant::now();
    for batch in records.chunks(BASELINE_BATCH) {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO access_log (id, at, incident_id, patient_id, institution_id, record_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for record in batch {
                // The same text the store writes (`serde_json::to_string` of the record).
                insert.execute(params![
                    record.id.0.to_string(),
                    record.at.to_rfc3339(),
                    record.incident.map(|i| i.to_string()),
                    record.patient.as_ref().map(|p| p.0.clone()),
                    record.viewer.institution.id,
                    serde_json::to_string(record)?,
                ])?;
            }
        }
        tx.commit()?;
    }
    Ok(rate(records.len(), started.elapsed()))
}

fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}
