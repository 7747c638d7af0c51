//! Crash harness: the real edge-agent process, SIGKILLed under load and restarted on the
//! same data directory, and what must hold after every restart.
//!
//! Each cycle starts the edge executable (`myna-edge`, the edge-agent binary built in this
//! package) on a loopback port, waits for `GET /healthz`, checks the file, then lets several
//! tablet tasks run incidents over HTTP (open with a card and photo check, record consent,
//! fetch the summary one to three times) and kills the process with SIGKILL
//! ([`std::process::Child::kill`]) at a random moment drawn from a seeded RNG.
//!
//! A response is an acknowledgement of an access record: a summary `200` (a disclosure), a
//! consent `refused` `200` (a refusal), a summary `403 consent_refused` (a denial). The
//! edge answers only after the `COMMIT` that holds the record returned, so after any crash:
//! - every acknowledged record is in the file (counted per incident and kind),
//! - the Merkle tree replays ([`edge_agent::verify::verify_db`]: no finding, as many
//!   entries as `access_log` rows) and has exactly the stored hashes of that many leaves,
//! - `PRAGMA integrity_check` says `ok`.
//!
//! Records of requests cut off by the kill may or may not be in the file: both are correct.
//!
//! # Example
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use simulations::crash::{CrashConfig, run};
//! let dir = tempfile::tempdir()?;
//! let edge = std::path::PathBuf::from("target/release/myna-edge");
//! let report = run(CrashConfig::new(edge, dir.path().to_path_buf())).await?;
//! assert!(report.failures.is_empty(), "{report}");
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//! - `edge`: the edge process (start, wait for `/healthz`, SIGKILL).
//! - `load`: the tablets' incidents over HTTP.
//! - `ledger`: the records acknowledged to the tablets.
//! - `check`: the checks on the file after every start.
//! - `report`: [`CrashReport`] and [`Failure`].

mod check;
mod edge;
mod ledger;
mod load;
mod report;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use anyhow::Context;
use myna_domain::transparency::{LogSigner, LogVerifier};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use edge::{Edge, free_port};
use ledger::Ledger;
use load::{issue_cards, tablet};
pub use report::{CrashReport, Failure};

/// What to run.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// The edge-agent executable: `myna-edge` (`env!("CARGO_BIN_EXE_myna-edge")` in tests,
    /// next to `myna-bench` otherwise).
    pub edge_binary: PathBuf,
    /// Data directory, kept across restarts. The first start seeds it; a later run on the
    /// same directory starts fast and checks the older records too.
    pub data_dir: PathBuf,
    /// Kill/restart cycles.
    pub cycles: usize,
    /// Concurrent tablet tasks.
    pub tablets: usize,
    /// Synthetic patients the edge loads at first start.
    pub patients: u64,
    /// Seed of the kill moments and of the tablets' choices.
    pub seed: u64,
    /// The load runs for a time drawn from this range before the kill.
    pub kill_after: Range<Duration>,
}

impl CrashConfig {
    /// 50 cycles, 8 tablets, 100 patients, seed 1, kills 20 to 300 ms into the load.
    pub fn new(edge_binary: PathBuf, data_dir: PathBuf) -> Self {
        CrashConfig {
            edge_binary,
            data_dir,
            cycles: 50,
            tablets: 8,
            patients: 100,
            seed: 1,
            kill_after: Duration::from_millis(20)..Duration::from_millis(300),
        }
    }
}

/// Runs the harness: `config.cycles` kills and restarts under load, checking the file after
/// the first start and after every restart. `Err` only when the harness itself cannot go on
/// (the edge does not start); broken checks are in [`CrashReport::failures`].
pub async fn run(config: CrashConfig) -> anyhow::Result<CrashReport> {
    std::fs::create_dir_all(&config.data_dir).context("creating the data directory")?;
    let edge_config = edge_agent::config::Config::local(config.data_dir.clone());
    let tablets = Arc::new(
        tokio::task::spawn_blocking({
            let seed = crate::load::LOCAL_SEED;
            let tokens = edge_config
                .devices
                .iter()
                .map(|d| d.token.clone())
                .collect();
            let ca_file = config.data_dir.join("card-ca.der");
            move || issue_cards(seed, tokens, &ca_file)
        })
        .await??,
    );
    let mut edge = Edge {
        binary: config.edge_binary.clone(),
        data_dir: config.data_dir.clone(),
        ca_file: config.data_dir.join("card-ca.der"),
        patients: config.patients,
        addr: free_port()?,
        child: None,
    };
    let mut report = CrashReport {
        first_start: edge.start().await?,
        ..CrashReport::default()
    };
    let verifier = log_verifier(&config.data_dir)?;
    let ledger = Arc::new(Ledger::default());
    let mut rng = StdRng::seed_from_u64(config.seed);
    check::check(&edge.database(), &verifier, &ledger, 0, &mut report).await;
    let mut restarts = Duration::ZERO;
    for cycle in 1..=config.cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()?;
        let tasks: Vec<_> = (0..config.tablets)
            .map(|n| {
                tokio::spawn(tablet(
                    client.clone(),
                    edge.url(),
                    Arc::clone(&tablets),
                    n,
                    Arc::clone(&ledger),
                    Arc::clone(&stop),
                    StdRng::seed_from_u64(rng.random()),
                ))
            })
            .collect();
        let kill_after = rng.random_range(config.kill_after.clone());
        tokio::time::sleep(kill_after).await;
        edge.kill()?;
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await?;
        }
        let took = edge.start().await?;
        restarts += took;
        report.max_restart = report.max_restart.max(took);
        report.cycles = cycle;
        check::check(&edge.database(), &verifier, &ledger, cycle, &mut report).await;
    }
    edge.kill()?;
    if report.cycles > 0 {
        report.mean_restart = restarts / report.cycles as u32;
    }
    report.cut_off = ledger.cut_off.load(Ordering::SeqCst);
    for detail in ledger
        .unexpected
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain(..)
    {
        report.failures.push(Failure { cycle: 0, detail });
    }
    Ok(report)
}

/// The verifier key of the log whose signing key the edge keeps in `data_dir`.
fn log_verifier(data_dir: &Path) -> anyhow::Result<LogVerifier> {
    let path = data_dir.join(edge_agent::transparency::KEY_FILE);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let signer = LogSigner::parse(&text).context("parsing the log signing key")?;
    Ok(LogVerifier::new(signer.verifier_key())?)
}
