//! `myna-bench`: benchmarks that print their baseline, measured in the same run, and the
//! ratio against it (these machines are noisy; only ratios travel between runs).
//!
//! # Layout
//! - `card`: certificate read and PIN signature, PC/SC path vs in-process transport.
//! - `audit`: durable access-record appends per second through the edge's group-commit
//!   store vs raw batched SQLite inserts of the same rows.
//! - `proofs`: inclusion proofs from the SQLite-stored tree vs the in-memory tree.
//! - `handoff`: tablet handoff call to the `arrival` event at many connected dashboards,
//!   vs a loopback HTTP round trip.
//! - `population`: the synthetic population streamed into the edge's SQLite file by its
//!   own loader vs generating the same patients without writing; peak memory at two sizes.
//! - `tap`: card presented to the PC/SC reader → summary on the tablet (read, photo,
//!   consent, summary from the edge over mTLS), vs the same chain with the in-process card.
//! - `lookups`: summary fetches with durable audit per second from 5,334 units over mTLS,
//!   open loop at several rates and saturated, vs an authenticated request that writes
//!   nothing over the same connections.
//! - `measure`: latency samples, the benchmarks' data directory, milliseconds.
//! - `crash`: the crash harness ([`simulations::crash`]) against the `myna-edge` binary
//!   built next to this one; prints its report.
//!
//! Build them optimised: `cargo build --release -p simulations --features pcsc` (that also
//! builds `myna-edge`, which `crash` looks for in the same directory). Without the `pcsc`
//! feature, `card` and `tap` (the PC/SC reader path, which links pcsc-lite) say how to
//! enable it instead of running.

mod audit;
#[cfg(feature = "pcsc")]
mod card;
mod crash;
mod handoff;
mod lookups;
mod measure;
mod population;
mod proofs;
#[cfg(feature = "pcsc")]
mod tap;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Benchmarks of My Number emergency.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Certificate read + parse, and PIN signature: PC/SC path vs in-process transport.
    Card {
        /// Measured repetitions of each operation (after a warm-up of a tenth as many).
        #[arg(long, default_value_t = 300)]
        iterations: usize,
    },
    /// Durable audit appends per second: the edge's group-commit store at each
    /// concurrency vs raw SQLite inserts of the same rows, 1,000 per transaction.
    Audit {
        /// Concurrent writers to measure, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,64")]
        concurrency: Vec<usize>,
        /// Appends per measurement (a tenth of it at concurrency 1: one fsync each).
        #[arg(long, default_value_t = 100_000)]
        appends: usize,
        /// Directory for the database files (default: a temporary directory). Use one on
        /// the disk you care about: tmpfs makes fsync free.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Inclusion-proof latency from the SQLite-stored tree vs the in-memory tree.
    Proofs {
        /// Tree sizes (leaves), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
        sizes: Vec<u64>,
        /// Proofs measured per size (random leaves, seeded).
        #[arg(long, default_value_t = 20_000)]
        proofs: usize,
        /// Where the built trees are kept between runs (one SQLite file per size).
        #[arg(long, default_value = "target/myna-bench-proofs")]
        dir: PathBuf,
    },
    /// Handoff call to the event arriving at each connected dashboard, vs a loopback
    /// HTTP round trip.
    Handoff {
        /// Handoffs, one at a time.
        #[arg(long, default_value_t = 1_000)]
        handoffs: usize,
        /// Dashboards connected to the hospital's event stream.
        #[arg(long, default_value_t = 50)]
        dashboards: usize,
    },
    /// Synthetic patients into a real SQLite file through the edge's loader, vs generating
    /// them without writing; peak memory at a tenth of the patients and at all of them.
    Population {
        /// Patients to load (a tenth of them are loaded first, to compare peak memory).
        #[arg(long, default_value_t = 1_000_000)]
        patients: u64,
        /// Seed of the population.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for the database files (default: a temporary directory). Use one on
        /// the disk you care about: tmpfs makes fsync free.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Tap to summary over PC/SC (pcscd + vpcd) vs the in-process card transport.
    Tap {
        /// Timed incidents per path, each a different patient's card (after a warm-up of
        /// a tenth as many).
        #[arg(long, default_value_t = 300)]
        incidents: usize,
    },
    /// Summary lookups per second with durable audit from the national fleet's 5,334
    /// units over mTLS, vs `GET /v1/hospitals` over the same connections.
    Lookups {
        /// Aggregate offered rates of the open-loop phases (requests/s), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000,2500,5000,7500")]
        rates: Vec<u32>,
        /// Seconds of each open-loop phase (baseline and lookups at each rate).
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Seconds of each closed-loop phase (every unit back to back).
        #[arg(long, default_value_t = 5)]
        saturate_seconds: u64,
        /// Ambulance units, each with its own connection and incident.
        #[arg(long, default_value_t = simulations::fleet::NATIONAL_UNITS)]
        units: usize,
        /// Synthetic patients loaded at first start (enough
        /// to give each unit a patient with a valid card; 20,000 takes a minute to load).
        #[arg(long, default_value_t = 10_000)]
        patients: u64,
        /// Data directory (default: a temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Kill the real edge process with SIGKILL under load and restart it, checking the
    /// access log after each restart.
    Crash {
        /// Kill/restart cycles.
        #[arg(long, default_value_t = 200)]
        cycles: usize,
        /// Concurrent tablets.
        #[arg(long, default_value_t = 8)]
        tablets: usize,
        /// Seed of the kill moments and the tablets' choices.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Synthetic patients loaded at first start.
        #[arg(long, default_value_t = 200)]
        patients: u64,
        /// Data directory (kept; reused by later runs). Default: a temporary directory.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The edge executable. Default: `myna-edge` next to this executable.
        #[arg(long)]
        edge: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    myna_service::init_tracing("warn");
    match Args::parse().bench {
        #[cfg(feature = "pcsc")]
        Bench::Card { iterations } => card::run(iterations.max(10)),
        #[cfg(not(feature = "pcsc"))]
        Bench::Card { .. } => Err(without_pcsc()),
        Bench::Audit {
            concurrency,
            appends,
            dir,
        } => audit::run(&concurrency, appends.max(1_000), dir),
        Bench::Proofs { sizes, proofs, dir } => proofs::run(&sizes, proofs.max(100), &dir),
        Bench::Handoff {
            handoffs,
            dashboards,
        } => handoff::run(handoffs.max(10), dashboards.max(1)),
        Bench::Population {
            patients,
            seed,
            dir,
        } => population::run(patients.max(10), seed, dir),
        #[cfg(feature = "pcsc")]
        Bench::Tap { incidents } => tap::run(incidents.max(10)),
        #[cfg(not(feature = "pcsc"))]
        Bench::Tap { .. } => Err(without_pcsc()),
        Bench::Lookups {
            rates,
            seconds,
            saturate_seconds,
            units,
            patients,
            dir,
        } => lookups::run(lookups::Options {
            rates,
            seconds: seconds.max(1),
            saturate_seconds: saturate_seconds.max(1),
            units: units.max(1),
            patients,
            dir,
        }),
        Bench::Crash {
            cycles,
            tablets,
            seed,
            patients,
            dir,
            edge,
        } => crash::run(cycles, tablets, seed, patients, dir, edge),
    }
}

/// Why `card` and `tap` do not run in a build without the `pcsc` feature.
#[cfg(not(feature = "pcsc"))]
fn without_pcsc() -> anyhow::Error {
    anyhow::anyhow!(
        "this myna-bench was built without PC/SC: rebuild it with \
         `cargo build --release -p simulations --features pcsc` \
         (needs the Debian packages libpcsclite-dev and pkg-config, and pcscd with vsmartcard-vpcd to run)"
    )
}
