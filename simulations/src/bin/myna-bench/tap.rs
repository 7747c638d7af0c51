//! `myna-bench tap`: tap to summary over the PC/SC path, what the paramedic waits for
//! between laying the card on a desktop reader and seeing the emergency summary, against
//! the same chain with the card in-process (the baseline), measured in the same run.
//!
//! The whole stack runs in this process (`LocalStack` with the edge and the
//! hospital-views over TLS, the edge requiring the tablet's client certificate; SQLite
//! files with `synchronous=FULL` in a temporary directory). The tablet is mobile-core's
//! `EmergencyIncident` with its store on disk (`LocalStore`), one `EdgeClient` kept for the
//! whole run as the app keeps it. Each incident is a different synthetic patient's card
//! (cards sharing one RSA key: certificates, serials and PINs stay per card). Timed, per
//! incident:
//! 1. PC/SC: the card enters the vpcd reader (the software card connects to the vsmartcard
//!    driver in pcscd); pcsc-lite reports it (`PcscReaders::wait_for_card`); the tablet
//!    connects (`PcscTransport`) and `EmergencyIncident::read_card` reads the token info
//!    and the JPKI user-authentication certificate and parses it; the link is dropped.
//!    In-process: `read_card` straight on the software card.
//! 2. `confirm_identity` (face photo matches): the edge checks the card certificate and
//!    opens the incident, fsyncing the access record; the tablet fsyncs its outbox.
//! 3. `record_consent(Given)`, then `fetch_summary` (the edge logs the access durably
//!    before answering; the tablet keeps a sealed copy).
//!
//! Both paths alternate incident by incident on the same tablet and edge, the same
//! patient for both, so noise falls on both alike.
//!
//! pcscd notices a card in a vpcd reader by polling it every [`POLL_PERIOD`], so when the
//! card arrives within that period decides how long it waits to be seen. A paramedic lays
//! it down at any moment: each card here is presented after an untimed random delay,
//! uniform over one period, so its moment in pcscd's cycle is uniform too (presenting it
//! right after the last card was seen gone would always land just after a poll, nearly a
//! whole period from the next). The PC/SC incidents alternate between vpcd's two readers,
//! so the previous card's removal is noticed on one while the next card is read on the
//! other. Needs a running pcscd with the vpcd driver (`scripts/pcscd.sh start`) and both
//! readers to itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use chrono::Utc;
use mobile_core::card::pcsc::{PcscReaders, PcscTransport};
use mobile_core::{EdgeClient, EmergencyIncident, LocalStore, StorageKey};
use myna_domain::consent::ConsentState;
use myna_domain::identity::PatientId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use simulations::scenario::{carded_patients, tap};
use simulations::stack::{LocalStack, StackConfig};
use soft_card::vpicc::{VPCD_READER_NAME, VPCD_SECOND_READER_NAME, VirtualCardSlot};
use soft_card::{DevCardIssuer, PopulationCards, SoftwareCard};

use crate::measure::{Sample, ms};

/// The goal for the PC/SC tap-to-summary p99.
const GOAL: Duration = Duration::from_millis(1_500);
/// How long pcscd may take to notice a card entering or leaving (it polls vpcd).
const CARD_EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may wait for another holder of the card.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CREW: &str = "crew-bench";
/// How often pcscd polls a reader whose driver cannot signal card events, as vpcd's
/// cannot (pcsc-lite's `PCSCLITE_STATUS_POLL_RATE`, 400,000 µs).
const POLL_PERIOD: Duration = Duration::from_millis(400);
/// vpcd's two slots and their PC/SC readers.
const SLOTS: [(VirtualCardSlot, &str); 2] = [
    (VirtualCardSlot::FIRST, VPCD_READER_NAME),
    (VirtualCardSlot::SECOND, VPCD_SECOND_READER_NAME),
];

/// Runs the benchmark: a tenth as many incidents first to warm up, then `incidents` timed.
pub fn run(incidents: usize) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(incidents))
}

/// One patient: their card and who the summary must be about.
struct Patient {
    card: Arc<SoftwareCard>,
    id: PatientId,
}

/// One incident's timings.
#[derive(Default)]
struct Times {
    /// Card presented → summary on the tablet.
    total: Vec<Duration>,
    /// Card presented → pcsc-lite reports it in the reader (PC/SC only).
    detect: Vec<Duration>,
    /// Reader connect (PC/SC), `read_card`, disconnect.
    read: Vec<Duration>,
    /// Photo confirmed, consent, summary: the edge calls.
    edge: Vec<Duration>,
}

async fn bench(incidents: usize) -> anyhow::Result<()> {
    let warm_up = (incidents / 10).max(1);
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("stack");
    // The stack's population: its seed, as of today; load just enough patients for
    // `incidents` different carded ones.
    let seed = simulations::load::LOCAL_SEED;
    let today = Utc::now().date_naive();
    let indices = carded_patients(seed, today, incidents);
    let loaded = indices.last().map_or(1, |last| last + 1);
    let stack = LocalStack::start_with_edge_tls(StackConfig::ephemeral(data_dir, loaded)).await?;
    ensure!(
        stack.cards.seed() == seed && stack.cards.today() == today,
        "the stack's population is not the one the cards were made for"
    );
    let tls = stack.tablet_tls(1).context("the edge is not on mTLS")?;
    let edge = tls.edge_client(stack.edge_url.clone(), stack.device_token(1))?;
    let store = Arc::new(LocalStore::open(
        &dir.path().join("tablet.sqlite3"),
        &StorageKey::random(),
    )?);

    // Every card before any timing: one RSA key, then a certificate per card, from the
    // development CA the edge trusts (the process's own).
    let patients = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<Patient>> {
        let cards = PopulationCards::new(DevCardIssuer::new()?, seed, today).sharing_one_key()?;
        indices
            .iter()
            .map(|&index| {
                Ok(Patient {
                    card: cards.card(index)?,
                    id: population::patient(seed, index, today).header.id,
                })
            })
            .collect()
    })
    .await??;

    let readers = tokio::task::spawn_blocking(|| -> anyhow::Result<PcscReaders> {
        let readers =
            PcscReaders::establish().context("pcscd is not running: run scripts/pcscd.sh start")?;
        for (_, reader) in SLOTS {
            readers
                .wait_for_removal(reader, CARD_EVENT_TIMEOUT)
                .with_context(|| format!("something else keeps a card in {reader:?}"))?;
        }
        Ok(readers)
    })
    .await??;
    let readers = Arc::new(readers);

    let (mut local, mut pcsc) = (Times::default(), Times::default());
    let (mut warm_local, mut warm_pcsc) = (Times::default(), Times::default());
    let mut rng = StdRng::seed_from_u64(1);
    let started = Instant::now();
    // The warm-up taps the first patients; then each timed incident is another patient.
    for n in 0..warm_up + incidents {
        let (patient, local_times, pcsc_times) = match n.checked_sub(warm_up) {
            Some(timed) => (&patients[timed], &mut local, &mut pcsc),
            None => (
                &patients[n % patients.len()],
                &mut warm_local,
                &mut warm_pcsc,
            ),
        };
        in_process(&edge, &store, patient, local_times).await?;
        let presented_after = POLL_PERIOD.mul_f64(rng.random::<f64>());
        let (slot, reader) = SLOTS[n % SLOTS.len()];
        let pcsc = Pcsc {
            readers: Arc::clone(&readers),
            slot,
            reader,
        };
        over_pcsc(&edge, &store, pcsc, presented_after, patient, pcsc_times).await?;
    }
    let elapsed = started.elapsed();
    stack.stop().await?;

    report(incidents, warm_up, elapsed, local, pcsc);
    Ok(())
}

/// A fresh incident on the tablet (saved before the tap, as the app starts it).
fn incident(edge: &EdgeClient, store: &Arc<LocalStore>) -> anyhow::Result<Arc<EmergencyIncident>> {
    Ok(Arc::new(EmergencyIncident::start(
        edge.clone(),
        Arc::clone(store),
        CREW.into(),
    )?))
}

/// The chain with the card read in-process (the baseline).
async fn in_process(
    edge: &EdgeClient,
    store: &Arc<LocalStore>,
    patient: &Patient,
    times: &mut Times,
) -> anyhow::Result<()> {
    let incident = incident(edge, store)?;
    let start = Instant::now();
    let reading = tap(&incident, Arc::clone(&patient.card)).await?;
    let read = start.elapsed();
    ensure!(
        reading.certificate_der == patient.card.certificate_der(),
        "read another card"
    );
    summary(&incident, patient).await?;
    let total = start.elapsed();
    incident.close()?;
    times.total.push(total);
    times.read.push(read);
    times.edge.push(total - read);
    Ok(())
}

/// A vpcd reader, through the run's connection to pcscd.
struct Pcsc {
    readers: Arc<PcscReaders>,
    slot: VirtualCardSlot,
    reader: &'static str,
}

/// The chain with the card presented to a vpcd reader `presented_after` its previous card
/// was seen gone, and read over PC/SC.
async fn over_pcsc(
    edge: &EdgeClient,
    store: &Arc<LocalStore>,
    pcsc: Pcsc,
    presented_after: Duration,
    patient: &Patient,
    times: &mut Times,
) -> anyhow::Result<()> {
    let incident = incident(edge, store)?;
    let (start, inserted, detected, read) = {
        let (incident, card) = (Arc::clone(&incident), Arc::clone(&patient.card));
        let Pcsc {
            readers,
            slot,
            reader,
        } = pcsc;
        // Card I/O blocks: off the async runtime, as the app does it.
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            // Untimed: the reader's previous card seen gone, then a random moment.
            readers.wait_for_removal(reader, CARD_EVENT_TIMEOUT)?;
            std::thread::sleep(presented_after);
            let start = Instant::now();
            let inserted = slot
                .insert(Arc::clone(&card))
                .context("inserting the software card into vpcd")?;
            readers.wait_for_card(Some(reader), CARD_EVENT_TIMEOUT)?;
            let detected = start.elapsed();
            let link = PcscTransport::connect_reader(&readers, reader, CONNECT_TIMEOUT)?;
            let reading = incident.read_card(&link)?;
            drop(link);
            let read = start.elapsed();
            ensure!(
                reading.certificate_der == card.certificate_der(),
                "read another card: is something else using the vpcd reader?"
            );
            Ok((start, inserted, detected, read))
        })
        .await??
    };
    summary(&incident, patient).await?;
    let total = start.elapsed();
    incident.close()?;
    // The card leaves the reader (untimed); pcscd notices while the other reader works.
    tokio::task::spawn_blocking(move || inserted.remove()).await??;
    times.total.push(total);
    times.detect.push(detected);
    times.read.push(read - detected);
    times.edge.push(total - read);
    Ok(())
}

/// Photo confirmed, consent given, summary fetched: each step durable on the edge.
async fn summary(incident: &EmergencyIncident, patient: &Patient) -> anyhow::Result<()> {
    let confirmed = incident.confirm_identity(true).await?;
    ensure!(!confirmed.queued, "the edge is up: nothing may be queued");
    incident.record_consent(ConsentState::Given).await?;
    let summary = incident.fetch_summary().await?;
    ensure!(
        summary.patient.id == patient.id,
        "the summary is about another patient"
    );
    Ok(())
}

fn sample(name: &'static str, mut sorted: Vec<Duration>) -> Sample {
    sorted.sort_unstable();
    Sample { name, sorted }
}

fn report(incidents: usize, warm_up: usize, elapsed: Duration, local: Times, pcsc: Times) {
    let local_total = sample("tap → summary, in-process card", local.total);
    let pcsc_total = sample("tap → summary, PC/SC (pcscd + vpcd)", pcsc.total);
    let detect = sample("  card seen by pcscd", pcsc.detect);
    let pcsc_read = sample("  connect + read_card + disconnect", pcsc.read);
    let pcsc_edge = sample("  photo + consent + summary (mTLS)", pcsc.edge);
    let local_read = sample("  read_card", local.read);
    let local_edge = sample("  photo + consent + summary (mTLS)", local.edge);

    println!(
        "tap-to-summary benchmark: {incidents} incidents per path ({warm_up} more to warm up), \
         a different patient's card each, edge over loopback TLS + mTLS, {:.0} s in all",
        elapsed.as_secs_f64()
    );
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>10} {:>10}",
        "path / step", "p50 ms", "p99 ms", "p99.9 ms", "p50 ratio", "p99 ratio"
    );
    let rows: [(&Sample, Option<&Sample>); 7] = [
        (&local_total, Some(&local_total)),
        (&local_read, Some(&local_read)),
        (&local_edge, Some(&local_edge)),
        (&pcsc_total, Some(&local_total)),
        (&detect, None),
        (&pcsc_read, Some(&local_read)),
        (&pcsc_edge, Some(&local_edge)),
    ];
    for (sample, baseline) in rows {
        let ratio = |p: f64| match baseline {
            Some(b) => format!("{:.1}x", ms(sample.percentile(p)) / ms(b.percentile(p))),
            None => "-".into(),
        };
        println!(
            "{:<40} {:>9.2} {:>9.2} {:>9.2} {:>10} {:>10}",
            sample.name,
            ms(sample.percentile(50.0)),
            ms(sample.percentile(99.0)),
            ms(sample.percentile(99.9)),
            ratio(50.0),
            ratio(99.0),
        );
    }
    println!("(ratios: each row against the in-process row of the same step)");
    println!(
        "(card seen by pcscd: it polls vpcd every {:.0} ms, cards are presented at random moments)",
        ms(POLL_PERIOD)
    );
    if incidents < 1_000 {
        println!("(p99.9 of fewer than 1,000 incidents is the slowest one)");
    }
    let p99 = pcsc_total.percentile(99.0);
    println!(
        "goal: PC/SC tap → summary p99 ≤ {:.0} ms: {} ({:.2} ms)",
        ms(GOAL),
        if p99 <= GOAL { "met" } else { "NOT met" },
        ms(p99)
    );
}
