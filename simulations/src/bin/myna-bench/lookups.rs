//! `myna-bench lookups`: summary fetches (`GET /v1/incidents/{id}/summary`, "lookups") per
//! second with durable audit, from the national fleet of 5,334 ambulance units at once,
//! against the baseline of an authenticated request that writes nothing (`GET
//! /v1/hospitals`) over the same connections, measured in the same run.
//!
//! Each lookup reads the patient's records and appends an access record (row, Merkle-tree
//! hashes, review-queue check) in one group-committed transaction (WAL,
//! `synchronous=FULL`) before the edge answers: the baseline has the same TLS, routing,
//! client-certificate identification and JSON answer, without the store.
//!
//! # Setup (not timed)
//! The local stack over TLS with client certificates (`LocalStack::start_with_edge_tls`,
//! rate limits off) and the national fleet registered. Each unit gets its own
//! `EdgeClient` (its own reqwest pool, so its own TLS connection, presenting the unit's
//! certificate) and opens one incident through the real API with `mobile-core` (card tap
//! with a software card, photo confirmed, consent given), each for a different patient.
//!
//! # Load
//! - Open loop, per rate: arrivals at the aggregate rate, exponential gaps (Poisson),
//!   spread over the units; a unit works through its own arrivals one at a time on its one
//!   connection, as a tablet would. Latency runs from the *scheduled* arrival, so a queue
//!   behind a slow answer counts (no coordinated omission). Arrivals left waiting when the
//!   phase has run twice its length are "unserved".
//! - Saturation: every unit back to back (closed loop).
//!
//! Every unit looks at its one patient again and again: after the tenth view in 24 hours
//! each lookup also raises the review queue's `repeated_views` flag (one more insert).
//! Real crews look a few times per patient; here most lookups carry the flag, which makes
//! the measured work a little more than the real one, not less.
//!
//! The load generator (5,334 reqwest clients, TLS client side) shares this process and
//! the machine's cores with the edge (TLS server side, SQLite): a client-side cost the
//! edge would not pay on its own server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use mobile_core::{EdgeClient, EmergencyIncident};
use myna_domain::access::IncidentId;
use myna_domain::consent::ConsentState;
use rand::{Rng, SeedableRng};
use simulations::fleet::Fleet;
use simulations::scenario::{carded_patients, tap};
use simulations::soft_card::PopulationCards;
use simulations::stack::{LocalStack, StackConfig};

use crate::measure::{Sample, ms};

/// Incidents opened at once during setup.
const SETUP_CONCURRENCY: usize = 64;
/// The goal: lookups per second, with p99 at most this.
const GOAL_RATE: f64 = 5_000.0;
const GOAL_P99: Duration = Duration::from_millis(20);

/// What to measure.
pub struct Options {
    /// Aggregate offered rates (requests per second) of the open-loop phases.
    pub rates: Vec<u32>,
    /// Length of each open-loop phase.
    pub seconds: u64,
    /// Length of each closed-loop (saturation) phase.
    pub saturate_seconds: u64,
    /// Ambulance units (the national fleet: 5,334).
    pub units: usize,
    /// Synthetic patients loaded at first start.
    pub patients: u64,
    /// Data directory (default: a temporary directory).
    pub dir: Option<PathBuf>,
}

/// One unit's tablet: its connection and its open incident.
struct Unit {
    edge: EdgeClient,
    incident: IncidentId,
}

/// The request a phase sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    /// `GET /v1/incidents/{id}/summary`: records read, access record committed.
    Lookup,
    /// `GET /v1/hospitals`: authenticated, nothing written (baseline).
    Baseline,
}

impl Request {
    fn name(self) -> &'static str {
        match self {
            Request::Lookup => "lookup (summary + durable audit)",
            Request::Baseline => "baseline (GET /v1/hospitals)",
        }
    }

    async fn send(self, unit: &Unit) -> bool {
        match self {
            Request::Lookup => unit.edge.fetch_summary(unit.incident).await.is_ok(),
            Request::Baseline => unit.edge.hospitals().await.is_ok(),
        }
    }
}

/// What one phase measured.
struct Phase {
    load: String,
    request: Request,
    offered: Option<f64>,
    ok: usize,
    errors: usize,
    unserved: usize,
    elapsed: Duration,
    latency: Sample,
}

impl Phase {
    fn achieved(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs the benchmark and prints its table.
pub fn run(options: Options) -> anyhow::Result<()> {
    // Each unit holds two sockets in this process (client and server end).
    let limit = myna_service::raise_open_file_limit().context("raising the open-file limit")?;
    let needed = 2 * options.units as u64 + 1_000;
    if let Some(limit) = limit {
        anyhow::ensure!(
            limit >= needed,
            "{} units need about {needed} open files; the limit is {limit} (ulimit -n)",
            options.units
        );
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(options))
}

async fn bench(options: Options) -> anyhow::Result<()> {
    let (dir, _temporary) = crate::measure::bench_dir(options.dir.clone())?;
    let fleet = Fleet::new(simulations::fleet::NATIONAL_HQS, options.units);
    let units_count = fleet.units.len();
    let mut config = StackConfig::ephemeral(dir.clone(), options.patients);
    config.more_devices = fleet.devices();
    let started = Instant::now();
    let stack = LocalStack::start_with_edge_tls(config).await?;
    eprintln!(
        "stack up with {units_count} units and {} patients in {:.1} s",
        options.patients,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let units = Arc::new(open_incidents(&stack, units_count).await?);
    eprintln!(
        "{units_count} incidents opened (consent given) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let database = stack.edge_database();
    let records_before = access_records(&database)?;

    let mut phases = Vec::new();
    for &rate in &options.rates {
        for request in [Request::Baseline, Request::Lookup] {
            let phase = open_loop(&units, request, f64::from(rate.max(1)), options.seconds).await;
            eprintln!(
                "  {} at {rate}/s: {:.0}/s, p99 {:.1} ms",
                request.name(),
                phase.achieved(),
                ms(phase.latency.percentile(99.0))
            );
            phases.push(phase);
        }
    }
    for request in [Request::Baseline, Request::Lookup] {
        let phase = closed_loop(&units, request, options.saturate_seconds).await;
        eprintln!(
            "  {} back to back: {:.0}/s",
            request.name(),
            phase.achieved()
        );
        phases.push(phase);
    }
    let lookups: usize = phases
        .iter()
        .filter(|p| p.request == Request::Lookup)
        .map(|p| p.ok)
        .sum();
    drop(units);
    stack.stop().await?;
    let records_after = access_records(&database)?;

    print_table(&options, units_count, &phases);
    let failed: usize = phases
        .iter()
        .filter(|p| p.request == Request::Lookup)
        .map(|p| p.errors)
        .sum();
    let added = records_after - records_before;
    // A lookup the client gave up on (timeout) may still have committed its record: the
    // edge logged a disclosure nobody received. Fewer records than answered lookups would
    // be a lost record.
    let durable = added >= lookups as u64 && added <= (lookups + failed) as u64;
    println!(
        "\naccess records after setup: {records_before}; after the run: {records_after}; \
         added: {added}; lookups answered: {lookups}, failed: {failed}: {}",
        if durable {
            "every answered lookup has its durable access record"
        } else {
            "MISMATCH"
        }
    );
    anyhow::ensure!(
        durable,
        "{lookups} lookups answered ({failed} failed) but {added} access records were added"
    );
    Ok(())
}

/// One `EdgeClient` per fleet unit, each with an incident opened through the real API
/// (card tap, photo confirmed, consent given), for distinct patients.
async fn open_incidents(stack: &LocalStack, count: usize) -> anyhow::Result<Vec<Unit>> {
    let cards = Arc::new(
        PopulationCards::new(
            stack.cards.issuer().clone(),
            stack.cards.seed(),
            stack.cards.today(),
        )
        .sharing_one_key()?,
    );
    let patients = carded_patients(cards.seed(), cards.today(), count);
    anyhow::ensure!(
        patients.len() == count,
        "{count} units need as many patients with a valid card"
    );
    futures_util::stream::iter(patients.into_iter().enumerate())
        .map(|(n, patient)| {
            let cards = Arc::clone(&cards);
            let device = stack.more_device(n);
            let tls = stack.tablet_tls(device);
            let (url, token) = (stack.edge_url.clone(), stack.device_token(device));
            async move {
                let edge = tls
                    .context("the stack serves TLS")?
                    .edge_client(url, token)?;
                // A clone shares the connection pool: setup opens the unit's connection.
                let incident = Arc::new(EmergencyIncident::new(edge.clone(), "crew-1".into()));
                let card = tokio::task::spawn_blocking(move || cards.card(patient)).await??;
                tap(&incident, card).await?;
                incident.confirm_identity(true).await?;
                incident.record_consent(ConsentState::Given).await?;
                let incident = IncidentId(incident.incident_id().parse()?);
                anyhow::Ok(Unit { edge, incident })
            }
        })
        .buffered(SETUP_CONCURRENCY)
        .try_collect()
        .await
}

/// Arrivals at `rate` per second for `seconds`, Poisson, spread over the units.
async fn open_loop(units: &Arc<Vec<Unit>>, request: Request, rate: f64, seconds: u64) -> Phase {
    let start = tokio::time::Instant::now() + Duration::from_millis(100);
    let window = Duration::from_secs(seconds);
    let give_up = start + 2 * window;
    // Each unit's mean gap: the units together make `rate`.
    let mean_gap = units.len() as f64 / rate;
    let tasks: Vec<_> = (0..units.len())
        .map(|n| {
            let units = Arc::clone(units);
            tokio::spawn(async move {
                let unit = &units[n];
                let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64 ^ rate.to_bits());
                let mut gap =
                    || Duration::from_secs_f64(-mean_gap * (1.0 - rng.random::<f64>()).ln());
                let (mut latencies, mut errors, mut unserved) = (Vec::new(), 0, 0);
                let mut at = start + gap();
                while at < start + window {
                    if tokio::time::Instant::now() >= give_up {
                        unserved += 1;
                    } else {
                        tokio::time::sleep_until(at).await;
                        if request.send(unit).await {
                            latencies.push(at.elapsed());
                        } else {
                            errors += 1;
                        }
                    }
                    at += gap();
                }
                (latencies, errors, unserved, tokio::time::Instant::now())
            })
        })
        .collect();
    let mut phase = collect(tasks, start.into_std()).await;
    phase.load = format!("open loop {rate:.0}/s");
    phase.request = request;
    phase.offered = Some(rate);
    phase.elapsed = phase.elapsed.max(window);
    phase
}

/// Every unit back to back for `seconds`.
async fn closed_loop(units: &Arc<Vec<Unit>>, request: Request, seconds: u64) -> Phase {
    let start = tokio::time::Instant::now();
    let end = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..units.len())
        .map(|n| {
            let units = Arc::clone(units);
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                while tokio::time::Instant::now() < end {
                    let sent = Instant::now();
                    if request.send(&units[n]).await {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors, 0, tokio::time::Instant::now())
            })
        })
        .collect();
    let mut phase = collect(tasks, start.into_std()).await;
    phase.load = format!("all {} units back to back", units.len());
    phase.request = request;
    phase
}

type UnitResult = (Vec<Duration>, usize, usize, tokio::time::Instant);

/// Merges the units' results; the phase lasts until the last unit finished.
async fn collect(tasks: Vec<tokio::task::JoinHandle<UnitResult>>, start: Instant) -> Phase {
    let (mut sorted, mut errors, mut unserved, mut last) = (Vec::new(), 0, 0, start);
    for task in tasks {
        match task.await {
            Ok((latencies, e, u, done)) => {
                sorted.extend(latencies);
                errors += e;
                unserved += u;
                last = last.max(done.into_std());
            }
            Err(_) => errors += 1,
        }
    }
    sorted.sort_unstable();
    let ok = sorted.len();
    if sorted.is_empty() {
        sorted.push(Duration::ZERO);
    }
    Phase {
        load: String::new(),
        request: Request::Lookup,
        offered: None,
        ok,
        errors,
        unserved,
        elapsed: last.saturating_duration_since(start),
        latency: Sample { name: "", sorted },
    }
}

/// Access records in the edge's file, read-only.
fn access_records(path: &Path) -> anyhow::Result<u64> {
    let connection =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {} read-only", path.display()))?;
    Ok(connection.query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))?)
}

fn print_table(options: &Options, units: usize, phases: &[Phase]) {
    println!(
        "lookups benchmark: {units} units (one mTLS connection each), {} patients, \
         {} s per open-loop phase, {} s saturated; edge, hospital-views and the load \
         generator share this process and its {} cores",
        options.patients,
        options.seconds,
        options.saturate_seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "\n| load | request | achieved/s | ok | errors | unserved | p50 ms | p99 ms | p99.9 ms \
         | rate ratio | p99 ratio |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for phase in phases {
        // Each lookup phase is compared with the baseline phase at the same load.
        let baseline = phases
            .iter()
            .find(|b| b.request == Request::Baseline && b.load == phase.load)
            .unwrap_or(phase);
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.1}x |",
            phase.load,
            phase.request.name(),
            phase.achieved(),
            phase.ok,
            phase.errors,
            phase.unserved,
            ms(phase.latency.percentile(50.0)),
            ms(phase.latency.percentile(99.0)),
            ms(phase.latency.percentile(99.9)),
            phase.achieved() / baseline.achieved(),
            phase.latency.percentile(99.0).as_secs_f64()
                / baseline.latency.percentile(99.0).as_secs_f64()
        );
    }
    let met = phases.iter().find(|p| {
        p.request == Request::Lookup
            && p.offered.is_some_and(|rate| rate >= GOAL_RATE)
            // Poisson arrivals: the count in a window varies by a few tenths of a percent.
            && p.achieved() >= 0.98 * p.offered.unwrap_or_default()
            && p.errors == 0
            && p.unserved == 0
            && p.latency.percentile(99.0) <= GOAL_P99
    });
    println!(
        "\ngoal ≥ {GOAL_RATE:.0} lookups/s with p99 ≤ {} ms: {}",
        GOAL_P99.as_millis(),
        match met {
            Some(p) => format!(
                "met ({}: {:.0}/s, p99 {:.1} ms)",
                p.load,
                p.achieved(),
                ms(p.latency.percentile(99.0))
            ),
            None => "not met at any measured rate".into(),
        }
    );
}
