//! A national day of My Number emergency, sped up, against the real services: the edge
//! and two hospital-views over TLS with mutual authentication ([`LocalStack`]), every
//! unit's tablet a real `mobile_core::Tablet` with its store on disk, the software cards
//! of the synthetic population, a privacy officer working the review queue in office
//! hours, and faults at set times ([`faults`]). At the end the services' own files are
//! checked: every access record each scene must have left is in the edge's log, and every
//! handoff is stored exactly once by its hospital ([`report::verify`]).
//!
//! # Layout
//! - [`load`]: the dispatches (time of day, unit, patient, consent, hospital).
//! - [`clock`]: simulated time.
//! - [`tablets`]: the units' tablets, opened while in use.
//! - [`scene`]: one call, tap to arrival.
//! - [`faults`]: the faults and their schedule.
//! - [`report`]: checks, mix, the Markdown summary.
//! - [`plots`]: SVG plots of the day.

pub mod clock;
pub mod faults;
pub mod load;
pub mod plots;
pub mod report;
pub mod scene;
pub mod tablets;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use soft_card::PopulationCards;
use tokio::net::TcpListener;

use crate::fleet::Fleet;
use crate::front::Front;
use crate::stack::{LocalStack, StackConfig};
use clock::SimClock;
use faults::{Fault, FaultKind};
use report::{DayReport, QueueSample, ReviewSample};
use scene::Crew;
use tablets::{Link, Tablets};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct DayConfig {
    /// Seed of the dispatches.
    pub seed: u64,
    /// Dispatches over the day.
    pub dispatches: usize,
    /// Headquarters and units.
    pub hqs: usize,
    /// Units.
    pub units: usize,
    /// Synthetic patients the edge loads (and the dispatches draw from).
    pub patients: u64,
    /// Simulated seconds per real second.
    pub speedup: f64,
    /// The faults.
    pub faults: Vec<Fault>,
    /// Where every file goes (the services' databases, the tablets' stores).
    pub data_dir: PathBuf,
    /// Draw a progress bar on the terminal.
    pub progress: bool,
}

/// How often the queues are sampled and the tablets retry their outboxes (simulated).
const SAMPLE_EVERY: Duration = Duration::from_secs(60);
/// How often the review queue is counted (simulated).
const REVIEW_SAMPLE_EVERY: Duration = Duration::from_secs(30 * 60);
/// The privacy officer works 09:00–17:00, a batch every 15 simulated minutes.
const OFFICE_HOURS: std::ops::Range<u64> = 9..17;
const REVIEW_BATCH_EVERY: Duration = Duration::from_secs(15 * 60);
/// Findings per batch (about 240 an hour: a small office).
const REVIEW_BATCH: usize = 60;
/// Privacy officer token of the local stack's edge.
const OFFICER_TOKEN: &str = "dev-privacy-officer-token";
/// How long (real) the end of the day may take to drain the outboxes.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the day and checks it.
pub async fn run(config: DayConfig) -> anyhow::Result<DayReport> {
    let fleet = Fleet::new(config.hqs, config.units);
    let mut stack_config =
        StackConfig::ephemeral(config.data_dir.join("services"), config.patients);
    stack_config.more_devices = fleet.devices();
    let stack = LocalStack::start_with_edge_tls(stack_config)
        .await
        .context("starting the stack")?;
    let (seed, today) = (stack.cards.seed(), stack.cards.today());
    let issuer = stack.cards.issuer().clone();
    let patients = config.patients;
    let (cards, pools) = tokio::task::spawn_blocking(move || {
        let cards = PopulationCards::new(issuer, seed, today).sharing_one_key()?;
        anyhow::Ok((cards, load::PatientPools::scan(seed, patients, today)))
    })
    .await??;
    let plan = load::dispatches(config.seed, config.dispatches, fleet.units.len(), &pools);

    // Fronts for the headquarters whose network fails; the others dial the edge.
    let mut fronts = HashMap::new();
    for fault in &config.faults {
        if let FaultKind::TabletsOffline { hq } = fault.kind {
            let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
            fronts.insert(hq, Front::start(listener, &stack.edge_url));
        }
    }
    let mut links = Vec::with_capacity(fleet.units.len());
    for (n, unit) in fleet.units.iter().enumerate() {
        let device = stack.more_device(n);
        links.push(Link {
            url: fronts
                .get(&unit.hq)
                .map_or_else(|| stack.edge_url.clone(), |f| f.url.clone()),
            token: stack.device_token(device),
            tls: stack
                .tablet_tls(device)
                .context("the stack serves TLS: every tablet has a certificate")?,
        });
    }
    let tablets = Arc::new(Tablets::new(config.data_dir.join("tablets"), links)?);
    let officer = Officer::new(&stack)?;
    let edge_db = stack.edge_database();
    let hospital_dbs: Vec<(String, PathBuf)> = (stack.hospitals.iter().enumerate())
        .filter_map(|(n, h)| Some((h.id.clone(), stack.hospital_database(n)?)))
        .collect();
    let crew = Arc::new(Crew {
        clock: SimClock::start(config.speedup),
        tablets: Arc::clone(&tablets),
        cards: Arc::new(cards),
        hospitals: stack.hospitals.iter().map(|h| h.id.clone()).collect(),
        unit_hq: fleet.units.iter().map(|u| u.hq).collect(),
    });
    let clock = crew.clock;
    let started = Instant::now();

    let faults = tokio::spawn(faults::run(stack, config.faults.clone(), fronts, clock));
    let done = Arc::new(AtomicBool::new(false));
    let active = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample_queues(
        clock,
        Arc::clone(&tablets),
        edge_db.clone(),
        Arc::clone(&active),
        Arc::clone(&done),
    ));
    let reviewer = tokio::spawn(officer.work(clock, Arc::clone(&done)));
    let bar = progress_bar(config.progress, plan.len());

    let mut scenes = Vec::with_capacity(plan.len());
    for dispatch in plan {
        clock.until(dispatch.at).await;
        let (crew, active, bar) = (Arc::clone(&crew), Arc::clone(&active), bar.clone());
        active.fetch_add(1, Ordering::Relaxed);
        scenes.push(tokio::spawn(async move {
            let outcome = crew.respond(dispatch).await;
            active.fetch_sub(1, Ordering::Relaxed);
            if let Some(bar) = bar {
                bar.inc(1);
                bar.set_message(clock::hhmm(crew.clock.now()));
            }
            outcome
        }));
    }
    let mut outcomes = Vec::with_capacity(scenes.len());
    for scene in scenes {
        outcomes.push(scene.await?);
    }
    let (mut stack, _fronts) = faults.await??;
    if let Some(bar) = &bar {
        bar.finish_with_message("day over; draining outboxes");
    }
    // The day is over: every tablet gets signal back and sends what it holds; the edge
    // delivers what it holds to the hospitals.
    let tablet_outbox_left = drain(&tablets, &edge_db).await?;
    done.store(true, Ordering::Relaxed);
    let queues = sampler.await??;
    let review = reviewer.await??;
    let real_seconds = started.elapsed().as_secs_f64();
    stack.set_slow_disk(Duration::ZERO);
    stack.stop().await?;
    let (mut verification, mix) = report::verify(&edge_db, &hospital_dbs, &outcomes, today)?;
    verification.tablet_outbox_left = tablet_outbox_left;
    Ok(DayReport {
        dispatches: config.dispatches,
        units: fleet.units.len(),
        hqs: fleet.hqs.len(),
        patients: config.patients,
        speedup: clock.speedup(),
        real_seconds,
        faults: config.faults,
        scenes: outcomes,
        queues,
        review,
        mix,
        verification,
    })
}

/// Retries every tablet's outbox and waits for the edge's outbox to empty (at most
/// [`DRAIN_TIMEOUT`]). Returns the writes still on tablets.
async fn drain(tablets: &Tablets, edge_db: &std::path::Path) -> anyhow::Result<u64> {
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        let left = tablets.deliver().await;
        let relay = report::relay_outbox(&report::read_only(edge_db)?)?;
        if (left == 0 && relay == 0) || Instant::now() > deadline {
            return Ok(left);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Every simulated minute: the tablets with queued writes try them (as the app does when
/// the platform reports signal), and the queues are sampled.
async fn sample_queues(
    clock: SimClock,
    tablets: Arc<Tablets>,
    edge_db: PathBuf,
    active: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
) -> anyhow::Result<Vec<QueueSample>> {
    let mut samples = Vec::new();
    let mut next = Duration::ZERO;
    while !done.load(Ordering::Relaxed) {
        clock.until(next).await;
        let tablet_outbox = tablets.deliver().await;
        let relay_outbox = report::read_only(&edge_db)
            .and_then(|db| report::relay_outbox(&db))
            .unwrap_or(0);
        samples.push(QueueSample {
            at_ms: clock.now().as_millis() as u64,
            tablet_outbox,
            relay_outbox,
            active_incidents: active.load(Ordering::Relaxed),
        });
        next += SAMPLE_EVERY;
    }
    Ok(samples)
}

/// The privacy officer (個人情報保護担当者), through the edge's API over TLS with the
/// officer's token (no client certificate: officers sign in from a browser).
struct Officer {
    http: reqwest::Client,
    edge_url: String,
}

impl Officer {
    fn new(stack: &LocalStack) -> anyhow::Result<Officer> {
        Ok(Officer {
            http: stack
                .browser_client()?
                .timeout(Duration::from_secs(30))
                .build()?,
            edge_url: stack.edge_url.clone(),
        })
    }

    /// Counts the open items every half hour; in office hours records a finding on up to
    /// [`REVIEW_BATCH`] of them every quarter hour.
    async fn work(
        self,
        clock: SimClock,
        done: Arc<AtomicBool>,
    ) -> anyhow::Result<Vec<ReviewSample>> {
        let mut samples = Vec::new();
        let mut reviewed = 0;
        let mut next = Duration::ZERO;
        while !done.load(Ordering::Relaxed) {
            clock.until(next).await;
            let hour = next.as_secs() / 3600;
            // The edge may be restarting: no sample this time.
            let Ok(open) = self.open_items().await else {
                next += REVIEW_BATCH_EVERY;
                continue;
            };
            if next.as_secs().is_multiple_of(REVIEW_SAMPLE_EVERY.as_secs()) {
                samples.push(ReviewSample {
                    at_ms: next.as_millis() as u64,
                    open: open.len() as u64,
                    reviewed,
                });
            }
            if OFFICE_HOURS.contains(&hour) {
                for access in open.iter().take(REVIEW_BATCH) {
                    if self.record_finding(access).await.is_ok() {
                        reviewed += 1;
                    }
                }
            }
            next += REVIEW_BATCH_EVERY;
        }
        Ok(samples)
    }

    /// Ids of every open item, oldest first (page by page).
    async fn open_items(&self) -> anyhow::Result<Vec<String>> {
        let mut ids = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let mut url = format!("{}/v1/review-queue?state=open&limit=200", self.edge_url);
            if let Some(after) = after {
                url.push_str(&format!("&after={after}"));
            }
            let page: myna_domain::wire::ReviewQueue = self
                .http
                .get(url)
                .bearer_auth(OFFICER_TOKEN)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            ids.extend(page.items.iter().map(|i| i.access_id.0.to_string()));
            match page.next_after {
                Some(next) => after = Some(next),
                None => return Ok(ids),
            }
        }
    }

    async fn record_finding(&self, access_id: &str) -> anyhow::Result<()> {
        self.http
            .post(format!(
                "{}/v1/review-queue/{access_id}/outcome",
                self.edge_url
            ))
            .bearer_auth(OFFICER_TOKEN)
            .json(&myna_domain::wire::ReviewOutcomeRequest {
                outcome: myna_domain::access::ReviewOutcome::Appropriate,
                note: None,
            })
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

fn progress_bar(show: bool, total: usize) -> Option<indicatif::ProgressBar> {
    if !show {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} sim {msg} [{bar:40}] {pos}/{len} calls, {elapsed} real, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}
