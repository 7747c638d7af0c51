//! `myna-bench population`: loading the synthetic population into the edge's SQLite file.
//!
//! Measured: [`simulations::load::load`], what `myna-local` and the tests run at first
//! start: through [`edge_agent::store::Store::import`], the edge's only door for patients,
//! it streams [`population::patients`] into a fresh file with the edge's schema
//! (WAL, `synchronous=FULL`), one `patients` row per patient and one `records` row (the
//! record as JSON) per medical record. Baseline, in the same run: generating the same
//! patients and serialising each record to JSON the way the loader does, writing nothing.
//! The ratio says what the database costs on top of generation.
//!
//! Each size runs twice (baseline, then loader) and reports the process's peak resident
//! memory (`VmHWM` in `/proc/self/status`) after each, reset in between through
//! `/proc/self/clear_refs` where the kernel allows it: the loader streams, so the peak must
//! not grow with the number of patients.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::NaiveDate;
use edge_agent::store::Store;
use simulations::load::{self, Population};

/// The date the population is generated for: fixed, so every run loads the same data.
fn generated_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap_or(NaiveDate::MIN)
}

/// One timed pass over `patients` patients.
struct Pass {
    patients: u64,
    records: u64,
    elapsed: Duration,
    /// Peak resident memory during the pass, KiB (since the process started when the
    /// kernel cannot reset the peak).
    peak_kib: Option<u64>,
}

impl Pass {
    fn patients_per_s(&self) -> f64 {
        self.patients as f64 / self.elapsed.as_secs_f64()
    }

    fn records_per_s(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
}

/// What the loader left on disk.
struct Files {
    /// Database file after the store closed, bytes.
    database: u64,
    /// Write-ahead log just before the store closed, bytes.
    wal: u64,
}

/// Runs the benchmark and prints its table.
pub fn run(patients: u64, seed: u64, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let (dir, _temporary) = crate::measure::bench_dir(dir)?;
    let resettable = reset_peak();
    let mut rows = Vec::new();
    for n in [(patients / 10).max(1), patients] {
        let baseline = generate(seed, n);
        let path = dir.join(format!("population-{n}.sqlite3"));
        let (loaded, files) = load(&path, seed, n)?;
        anyhow::ensure!(
            loaded.records == baseline.records,
            "loaded {} records, generated {}",
            loaded.records,
            baseline.records
        );
        eprintln!(
            "{n} patients: generated in {:.1} s, loaded in {:.1} s",
            baseline.elapsed.as_secs_f64(),
            loaded.elapsed.as_secs_f64()
        );
        rows.push((baseline, loaded, files));
    }

    println!(
        "population benchmark: synthetic patients (seed {seed}) into the edge's SQLite file, files in {}",
        dir.display()
    );
    println!(
        "| {:>9} | {:<44} | {:>10} | {:>10} | {:>12} | {:>7} | {:>8} | {:>8} | {:>9} |",
        "patients",
        "pass",
        "records",
        "patients/s",
        "records/s",
        "time s",
        "file MiB",
        "WAL MiB",
        "peak MiB"
    );
    println!(
        "|{:->11}|{:-<46}|{:->12}|{:->12}|{:->14}|{:->9}|{:->10}|{:->10}|{:->11}|",
        ":", "", ":", ":", ":", ":", ":", ":", ":"
    );
    for (baseline, loaded, files) in &rows {
        let line = |pass: &Pass, name: &str, files: Option<&Files>| {
            println!(
                "| {:>9} | {:<44} | {:>10} | {:>10.0} | {:>12.0} | {:>7.1} | {:>8} | {:>8} | {:>9} |",
                pass.patients,
                name,
                pass.records,
                pass.patients_per_s(),
                pass.records_per_s(),
                pass.elapsed.as_secs_f64(),
                files.map_or("-".into(), |f| format!("{:.0}", mib(f.database))),
                files.map_or("-".into(), |f| format!("{:.0}", mib(f.wal))),
                pass.peak_kib
                    .map_or("?".into(), |k| format!("{:.0}", k as f64 / 1024.0)),
            );
        };
        line(baseline, "baseline: generate + JSON, no writes", None);
        line(loaded, "load → Store::import (edge importer)", Some(files));
    }
    for (baseline, loaded, _) in &rows {
        println!(
            "{} patients: loader throughput / generation-only throughput = {:.2}",
            loaded.patients,
            loaded.patients_per_s() / baseline.patients_per_s()
        );
    }
    println!(
        "(peak = VmHWM of this process{}; WAL = its size just before the store closed)",
        if resettable {
            ", reset before each pass"
        } else {
            " since it started: the kernel refused to reset it"
        }
    );
    Ok(())
}

/// The baseline: the same patients generated and their records serialised as the loader
/// does, nothing written.
fn generate(seed: u64, count: u64) -> Pass {
    reset_peak();
    let today = generated_on();
    let started = Instant::now();
    let mut records = 0;
    for patient in population::patients(seed, count, today) {
        // The loader's per-patient conversions: sex as JSON, the card serial as hex.
        black_box(serde_json::to_string(&patient.header.sex).ok());
        black_box(patient.card.as_ref().map(|c| c.serial_hex()));
        for record in &patient.records {
            black_box(serde_json::to_string(record).ok());
            records += 1;
        }
    }
    Pass {
        patients: count,
        records,
        elapsed: started.elapsed(),
        peak_kib: peak_kib(),
    }
}

/// The loader, through the edge's importer, into a fresh file at `path`.
fn load(path: &Path, seed: u64, count: u64) -> anyhow::Result<(Pass, Files)> {
    let wal_path = sibling(path, "-wal");
    for file in [path.to_path_buf(), wal_path.clone(), sibling(path, "-shm")] {
        let _ = std::fs::remove_file(file);
    }
    let store = Store::open(path).with_context(|| format!("creating {}", path.display()))?;
    reset_peak();
    let started = Instant::now();
    let population = Population {
        seed,
        patients: count,
    };
    let loaded = load::load(&store, population, generated_on())?;
    let elapsed = started.elapsed();
    anyhow::ensure!(loaded == count, "loaded {loaded} of {count} patients");
    let peak = peak_kib();
    let wal = file_size(&wal_path);
    store.close();
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let records: i64 = conn.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0))?;
    drop(conn);
    let pass = Pass {
        patients: count,
        records: records as u64,
        elapsed,
        peak_kib: peak,
    };
    Ok((
        pass,
        Files {
            database: file_size(path),
            wal,
        },
    ))
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Resets this process's peak resident set size (`VmHWM`) to its current size, as
/// `proc(5)` documents for writing `5` to `/proc/self/clear_refs`. False if refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `VmHWM` from `/proc/self/status`, KiB (None off Linux).
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
