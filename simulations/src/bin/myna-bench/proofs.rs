//! `myna-bench proofs`: inclusion-proof latency from the tree the edge keeps in SQLite
//! (`log_hashes`, read through [`edge_agent::store::Tx::inclusion_proof`] on the store's
//! read-only connection, as `GET /v1/log/proof/inclusion` does) against the in-memory
//! [`MemoryTree`] over the same leaves.
//!
//! Building 10^7 leaves through full access records would take hours, so the file is made
//! directly: the edge's schema (a [`Store`] opened on it), then `log_hashes` filled with
//! [`tlog_tiles::tlog::stored_hashes`] over synthetic leaves (`synthetic leaf <n>`), in
//! transactions of 100,000 leaves with `synchronous=OFF`. `access_log` stays empty: the tree
//! is real, the entries are not. Files are kept under `--dir` and reused.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
use edge_agent::store::Store;
use myna_domain::transparency::{Hash, HashReader, MemoryTree};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;
use tlog_tiles::tlog::{stored_hash_index, stored_hashes};

use crate::measure::{Sample, ms};

/// Leaves per build transaction.
const BUILD_BATCH: u64 = 100_000;

/// Runs the benchmark and prints its table.
pub fn run(sizes: &[u64], proofs: usize, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut rows = Vec::new();
    for &size in sizes {
        anyhow::ensure!(size > 0, "a tree needs at least one leaf");
        let path = tree_file(dir, size)?;
        let started = Instant::now();
        let mut memory = MemoryTree::new();
        for n in 0..size {
            memory.push(&leaf(n));
        }
        eprintln!(
            "in-memory tree of {size} leaves built in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let store = Store::open(&path)?;
        let stored_root = store.read_blocking(|tx| {
            ensure_size(tx.tree_size()?, size)?;
            tx.tree_root(size)
        })?;
        ensure!(
            stored_root == memory.root(size)?,
            "the stored tree's root differs from the in-memory tree's"
        );
        let mut rng = StdRng::seed_from_u64(size);
        let indexes: Vec<u64> = (0..proofs + proofs / 10)
            .map(|_| rng.random_range(0..size))
            .collect();
        for &index in indexes.iter().take(100) {
            let stored = store.read_blocking(|tx| tx.inclusion_proof(index, size))?;
            ensure!(
                stored.ok() == memory.prove_inclusion(index, size).ok(),
                "proofs of leaf {index} differ"
            );
        }
        let mut next = indexes.iter().cycle();
        let sqlite = Sample::measure("SQLite log_hashes (Tx::inclusion_proof)", proofs, || {
            let index = *next.next().unwrap_or(&0);
            store
                .read_blocking(|tx| tx.inclusion_proof(index, size))?
                .map_err(anyhow::Error::from)?;
            Ok(())
        })?;
        let mut next = indexes.iter().cycle();
        let in_memory = Sample::measure("in-memory MemoryTree (baseline)", proofs, || {
            let index = *next.next().unwrap_or(&0);
            memory.prove_inclusion(index, size)?;
            Ok(())
        })?;
        store.close();
        rows.push((size, in_memory, sqlite));
    }

    println!("proofs benchmark: inclusion proofs for {proofs} random leaves per size");
    println!(
        "{:>10}  {:<42} {:>10} {:>10} {:>10}",
        "leaves", "tree", "p50 µs", "p99 µs", "p50 ratio"
    );
    for (size, baseline, sqlite) in &rows {
        for sample in [baseline, sqlite] {
            println!(
                "{:>10}  {:<42} {:>10.1} {:>10.1} {:>9.1}x",
                size,
                sample.name,
                ms(sample.percentile(50.0)) * 1e3,
                ms(sample.percentile(99.0)) * 1e3,
                ms(sample.percentile(50.0)) / ms(baseline.percentile(50.0)),
            );
        }
    }
    println!(
        "(the SQLite trees hold synthetic leaves written straight into log_hashes, not \
         access records; files kept in {})",
        dir.display()
    );
    Ok(())
}

fn ensure_size(found: u64, size: u64) -> edge_agent::Result<()> {
    if found == size {
        Ok(())
    } else {
        Err(edge_agent::Error::Corrupt(format!(
            "tree file has {found} leaves, expected {size}"
        )))
    }
}

/// Entry `n` of the synthetic log.
fn leaf(n: u64) -> Vec<u8> {
    format!("synthetic leaf {n}").into_bytes()
}

/// The file holding a tree of `size` leaves under `dir`, built now unless a previous run
/// left it (built under a temporary name, renamed when complete).
fn tree_file(dir: &Path, size: u64) -> anyhow::Result<PathBuf> {
    let path = dir.join(format!("tree-{size}.sqlite3"));
    if path.exists() {
        return Ok(path);
    }
    let building = dir.join(format!("tree-{size}.building.sqlite3"));
    for suffix in ["", "-wal", "-shm"] {
        let mut name = building.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(&name);
    }
    let started = Instant::now();
    Store::open(&building)?.close();
    let mut conn = rusqlite::Connection::open(&building)?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -262_144)?;
    let mut frontier = Frontier::default();
    let mut n = 0;
    while n < size {
        let tx = conn.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)")?;
            for _ in 0..BUILD_BATCH.min(size - n) {
                let hashes = stored_hashes(n, &leaf(n), &frontier)?;
                let first = stored_hash_index(0, n);
                for (offset, hash) in hashes.iter().enumerate() {
                    insert.execute(params![(first + offset as u64) as i64, &hash.0[..]])?;
                }
                frontier.add(n, &hashes);
                n += 1;
            }
        }
        tx.commit()?;
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);
    std::fs::rename(&building, &path)?;
    eprintln!(
        "SQLite tree of {size} leaves built in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(path)
}

/// The roots of the complete subtrees left of the next leaf (largest first), by stored
/// index: all [`stored_hashes`] reads to add a leaf.
#[derive(Default)]
struct Frontier {
    roots: Vec<(u64, Hash)>,
}

impl Frontier {
    /// Leaf `n` was added with `hashes` (its leaf hash, then the subtrees it completed).
    fn add(&mut self, n: u64, hashes: &[Hash]) {
        let merged = hashes.len() - 1;
        self.roots.truncate(self.roots.len() - merged);
        let level = merged as u8;
        self.roots
            .push((stored_hash_index(level, n >> level), hashes[merged]));
    }
}

impl HashReader for Frontier {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::tlog::Error> {
        indexes
            .iter()
            .map(|index| {
                self.roots
                    .iter()
                    .find(|(i, _)| i == index)
                    .map(|(_, hash)| *hash)
                    .ok_or(tlog_tiles::tlog::Error::IndexesNotInTree)
            })
            .collect()
    }
}
