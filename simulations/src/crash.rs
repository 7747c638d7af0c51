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

use std::collections::HashMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::transparency::{LogSigner, LogVerifier};
use myna_domain::wire::{ConsentRequest, IdentityEvidenceDto, OpenIncidentRequest};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, OpenFlags};

use crate::scenario::carded_patients;
use crate::soft_card::{DevCardIssuer, generate_card_key};

/// Longest wait for `/healthz` after a start (the first start seeds the population).
const START_TIMEOUT: Duration = Duration::from_secs(180);
/// Card certificates the tablets present (one per carded patient, all with one key: the
/// harness never signs).
const CARDS: usize = 24;

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

/// A check that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// After which restart (1-based; 0: the first start).
    pub cycle: usize,
    /// What was wrong.
    pub detail: String,
}

/// What a run did and found.
#[derive(Debug, Clone, Default)]
pub struct CrashReport {
    /// Kill/restart cycles completed.
    pub cycles: usize,
    /// Access records acknowledged to a tablet (disclosures, refusals, denials).
    pub acknowledged: u64,
    /// Of those, found in the file at the last check.
    pub found: u64,
    /// `access_log` rows at the last check (acknowledged or not).
    pub log_entries: u64,
    /// Requests that got no answer (cut off by a kill).
    pub cut_off: u64,
    /// Slowest start to a `/healthz` answer, after a kill.
    pub max_restart: Duration,
    /// Mean of those.
    pub mean_restart: Duration,
    /// The first start (seeding on a new directory).
    pub first_start: Duration,
    /// Every check that failed.
    pub failures: Vec<Failure>,
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        writeln!(f, "kill/restart cycles        {}", self.cycles)?;
        writeln!(f, "acknowledged records       {}", self.acknowledged)?;
        writeln!(f, "  found in the file        {}", self.found)?;
        writeln!(f, "access_log rows            {}", self.log_entries)?;
        writeln!(f, "requests cut off by kills  {}", self.cut_off)?;
        writeln!(
            f,
            "first start                {:.1} ms",
            ms(self.first_start)
        )?;
        writeln!(
            f,
            "restart to /healthz        mean {:.1} ms, max {:.1} ms",
            ms(self.mean_restart),
            ms(self.max_restart)
        )?;
        writeln!(f, "failures                   {}", self.failures.len())?;
        for failure in self.failures.iter().take(20) {
            writeln!(f, "  cycle {}: {}", failure.cycle, failure.detail)?;
        }
        Ok(())
    }
}

/// Access records acknowledged for one incident, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Acknowledged {
    disclosed: u64,
    refused: u64,
    denied: u64,
}

impl Acknowledged {
    fn total(&self) -> u64 {
        self.disclosed + self.refused + self.denied
    }
}

/// Acknowledgements by incident id (as the edge stores it), shared by the tablets.
#[derive(Default)]
struct Ledger {
    incidents: Mutex<HashMap<String, Acknowledged>>,
    cut_off: std::sync::atomic::AtomicU64,
    unexpected: Mutex<Vec<String>>,
}

impl Ledger {
    fn acknowledge(&self, incident: &str, add: impl FnOnce(&mut Acknowledged)) {
        let mut incidents = self
            .incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        add(incidents.entry(incident.to_string()).or_default());
    }

    fn snapshot(&self) -> HashMap<String, Acknowledged> {
        self.incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// What the tablets need to talk to the edge.
struct Tablets {
    cards: Vec<Vec<u8>>,
    tokens: Vec<String>,
}

/// The edge process and how to start it again.
struct Edge {
    binary: PathBuf,
    data_dir: PathBuf,
    ca_file: PathBuf,
    patients: u64,
    addr: SocketAddr,
    child: Option<Child>,
}

impl Edge {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn database(&self) -> PathBuf {
        self.data_dir.join("edge.sqlite3")
    }

    /// Starts the process and waits for `/healthz`; returns how long that took. A start
    /// that fails (say the port was taken meanwhile) is retried on a new port.
    async fn start(&mut self) -> anyhow::Result<Duration> {
        let mut last_error = None;
        for _ in 0..3 {
            match self.try_start().await {
                Ok(took) => return Ok(took),
                Err(error) => {
                    last_error = Some(error);
                    self.addr = free_port()?;
                }
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("edge did not start")))
    }

    async fn try_start(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.join("edge.log"))
            .context("opening the edge's log file")?;
        let mut child = Command::new(&self.binary)
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--patients")
            .arg(self.patients.to_string())
            .arg("--card-ca")
            .arg(&self.ca_file)
            // The load tablets run flat out, far above a crew's pace.
            .arg("--no-rate-limit")
            .env_remove("EDGE_CARD_CA")
            .env_remove("EDGE_CARD_CRL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let health = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let url = format!("{}/healthz", self.url());
        loop {
            if let Some(status) = child.try_wait()? {
                bail!("the edge exited while starting ({status}); see edge.log");
            }
            if let Ok(response) = health.get(&url).send().await
                && response.status().is_success()
            {
                self.child = Some(child);
                return Ok(started.elapsed());
            }
            if started.elapsed() > START_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                bail!("no /healthz answer within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// SIGKILL, then reap.
    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().context("killing the edge")?;
            child.wait()?;
        }
        Ok(())
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A loopback address with a port nobody listens on right now.
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?)
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
    check(&edge.database(), &verifier, &ledger, 0, &mut report).await;
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
        check(&edge.database(), &verifier, &ledger, cycle, &mut report).await;
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

/// Certificates of the process's development CA for the first carded patients (one
/// throw-away key for all: the tablets never ask the card to sign), the CA written to
/// `ca_file` for `--card-ca`.
fn issue_cards(seed: u64, tokens: Vec<String>, ca_file: &Path) -> anyhow::Result<Tablets> {
    let issuer = DevCardIssuer::new()?;
    std::fs::write(ca_file, issuer.ca_certificate_der()).context("writing the card CA")?;
    let today = chrono::Utc::now().date_naive();
    let key = generate_card_key()?;
    let cards = carded_patients(seed, today, CARDS)
        .into_iter()
        .map(|index| {
            let card = population::patient(seed, index, today)
                .card
                .context("carded patient without a card")?;
            issuer.issue_for_key(&key, &card.serial, card.not_before, card.not_after)
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Tablets { cards, tokens })
}

/// One tablet: incidents back to back until `stop`. Errors are requests the kill cut off.
async fn tablet(
    client: reqwest::Client,
    url: String,
    tablets: Arc<Tablets>,
    n: usize,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
    mut rng: StdRng,
) {
    let token = &tablets.tokens[n % tablets.tokens.len()];
    while !stop.load(Ordering::SeqCst) {
        let card = &tablets.cards[rng.random_range(0..tablets.cards.len())];
        let plan = IncidentPlan {
            incident: uuid::Builder::from_random_bytes(rng.random()).into_uuid(),
            consent: match rng.random_range(0..10) {
                0 => ConsentState::Refused,
                1 | 2 => ConsentState::Difficult {
                    reason: DifficultyReason::Unconscious,
                },
                _ => ConsentState::Given,
            },
            summaries: rng.random_range(1..=3),
        };
        let call = Call {
            client: &client,
            url: &url,
            token,
            ledger: &ledger,
        };
        if call.incident(card, &plan).await.is_err() {
            ledger.cut_off.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct IncidentPlan {
    incident: uuid::Uuid,
    consent: ConsentState,
    summaries: u32,
}

struct Call<'a> {
    client: &'a reqwest::Client,
    url: &'a str,
    token: &'a str,
    ledger: &'a Ledger,
}

impl Call<'_> {
    /// Runs one incident, acknowledging each access record the edge confirms. `Err`: a
    /// request got no answer.
    async fn incident(&self, card: &[u8], plan: &IncidentPlan) -> reqwest::Result<()> {
        let id = plan.incident.to_string();
        let open = OpenIncidentRequest {
            incident_id: myna_domain::access::IncidentId(plan.incident),
            crew_member_id: "crew-crash".into(),
            identity: IdentityEvidenceDto::card_with_photo(card, true),
        };
        let response = self
            .client
            .post(format!("{}/v1/incidents", self.url))
            .bearer_auth(self.token)
            .json(&open)
            .send()
            .await?;
        if !self.expect(response, 201, "open").await? {
            return Ok(());
        }
        let response = self
            .client
            .put(format!("{}/v1/incidents/{id}/consent", self.url))
            .bearer_auth(self.token)
            .json(&ConsentRequest::from_domain(&plan.consent))
            .send()
            .await?;
        if !self.expect(response, 200, "consent").await? {
            return Ok(());
        }
        let refused = plan.consent == ConsentState::Refused;
        if refused {
            self.ledger.acknowledge(&id, |a| a.refused += 1);
        }
        for _ in 0..plan.summaries {
            let response = self
                .client
                .get(format!("{}/v1/incidents/{id}/summary", self.url))
                .bearer_auth(self.token)
                .send()
                .await?;
            let expected = if refused { 403 } else { 200 };
            if !self.expect(response, expected, "summary").await? {
                return Ok(());
            }
            self.ledger.acknowledge(&id, |a| {
                if refused {
                    a.denied += 1;
                } else {
                    a.disclosed += 1;
                }
            });
        }
        Ok(())
    }

    /// Whether the response has `status` (its whole body read: the answer is complete).
    /// Any other status is noted as unexpected.
    async fn expect(
        &self,
        response: reqwest::Response,
        status: u16,
        step: &str,
    ) -> reqwest::Result<bool> {
        let got = response.status().as_u16();
        let body = response.bytes().await?;
        if got == status {
            return Ok(true);
        }
        let code = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default();
        self.ledger
            .unexpected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(format!("{step}: expected {status}, got {got} {code}"));
        Ok(false)
    }
}

/// Runs the checks on the file (on a blocking thread) and adds what it found to `report`.
async fn check(
    db: &Path,
    verifier: &LogVerifier,
    ledger: &Ledger,
    cycle: usize,
    report: &mut CrashReport,
) {
    let acknowledged = ledger.snapshot();
    let (db, verifier) = (db.to_path_buf(), verifier.clone());
    let checked =
        tokio::task::spawn_blocking(move || check_file(&db, &verifier, &acknowledged)).await;
    let found = match checked {
        Ok(Ok(found)) => found,
        Ok(Err(error)) => FileCheck {
            problems: vec![format!("could not check the file: {error:#}")],
            ..FileCheck::default()
        },
        Err(error) => FileCheck {
            problems: vec![format!("the check panicked: {error}")],
            ..FileCheck::default()
        },
    };
    report.acknowledged = found.acknowledged;
    report.found = found.found;
    report.log_entries = found.rows;
    report.failures.extend(
        found
            .problems
            .into_iter()
            .map(|detail| Failure { cycle, detail }),
    );
}

/// What one check of the file found.
#[derive(Debug, Default)]
struct FileCheck {
    acknowledged: u64,
    found: u64,
    rows: u64,
    problems: Vec<String>,
}

/// The checks of the module documentation, on the file as it is now.
fn check_file(
    db: &Path,
    verifier: &LogVerifier,
    acknowledged: &HashMap<String, Acknowledged>,
) -> anyhow::Result<FileCheck> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let mut check = FileCheck::default();

    // Read the rows, the tree size and the records in one snapshot.
    conn.execute_batch("BEGIN")?;
    let rows: i64 = conn.query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))?;
    check.rows = rows as u64;
    let stored: i64 = conn.query_row(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_hashes",
        [],
        |r| r.get(0),
    )?;
    let in_file = recorded_by_incident(&conn)?;
    conn.execute_batch("COMMIT")?;

    for (incident, wanted) in acknowledged {
        let got = in_file.get(incident).copied().unwrap_or_default();
        check.acknowledged += wanted.total();
        check.found += wanted.disclosed.min(got.disclosed)
            + wanted.refused.min(got.refused)
            + wanted.denied.min(got.denied);
        if got.disclosed < wanted.disclosed
            || got.refused < wanted.refused
            || got.denied < wanted.denied
        {
            check.problems.push(format!(
                "incident {incident}: acknowledged {wanted:?}, the file holds {got:?}"
            ));
        }
    }
    let expected_hashes = tlog_tiles::tlog::stored_hash_count(check.rows);
    if stored as u64 != expected_hashes {
        check.problems.push(format!(
            "log_hashes holds {stored} hashes; {} entries need {expected_hashes}",
            check.rows
        ));
    }
    match edge_agent::verify::verify_db(db, verifier) {
        Ok(replay) => {
            if let Some(finding) = replay.finding {
                check
                    .problems
                    .push(format!("the log does not replay: {finding:?}"));
            }
            if replay.entries != check.rows {
                check.problems.push(format!(
                    "replayed {} entries, access_log has {} rows",
                    replay.entries, check.rows
                ));
            }
        }
        Err(error) => check.problems.push(format!("verify_db failed: {error}")),
    }
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if integrity != ["ok"] {
        check
            .problems
            .push(format!("integrity_check: {}", integrity.join("; ")));
    }
    Ok(check)
}

/// Disclosures, refusals and denials in `access_log`, by incident id.
fn recorded_by_incident(conn: &Connection) -> anyhow::Result<HashMap<String, Acknowledged>> {
    let mut stmt = conn.prepare(
        "SELECT incident_id, json_extract(record_json, '$.action.type'),
                json_extract(record_json, '$.outcome.type'), COUNT(*)
         FROM access_log WHERE incident_id IS NOT NULL GROUP BY 1, 2, 3",
    )?;
    let mut found: HashMap<String, Acknowledged> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let incident: String = row.get(0)?;
        let action: Option<String> = row.get(1)?;
        let outcome: Option<String> = row.get(2)?;
        let count: i64 = row.get(3)?;
        let entry = found.entry(incident).or_default();
        match (action.as_deref(), outcome.as_deref()) {
            (Some("view_summary"), Some("disclosed")) => entry.disclosed += count as u64,
            (Some("record_consent"), Some("refused")) => entry.refused += count as u64,
            (Some("view_summary"), Some("denied")) => entry.denied += count as u64,
            _ => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks are not vacuous: an acknowledged record the file lacks is reported.
    #[test]
    fn a_missing_acknowledged_record_is_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("edge.sqlite3");
        edge_agent::store::Store::open(&db).unwrap().close();
        let signer = LogSigner::from_secret("crash.test/log", [7; 32]).unwrap();
        let verifier = LogVerifier::new(signer.verifier_key()).unwrap();
        let mut acknowledged = HashMap::new();
        let check = check_file(&db, &verifier, &acknowledged).unwrap();
        assert_eq!(check.problems, Vec::<String>::new());
        acknowledged.insert(
            "7a1f0c2e-0000-4000-8000-000000000001".to_string(),
            Acknowledged {
                disclosed: 1,
                ..Acknowledged::default()
            },
        );
        let check = check_file(&db, &verifier, &acknowledged).unwrap();
        assert_eq!((check.acknowledged, check.found), (1, 0));
        assert_eq!(check.problems.len(), 1, "{:?}", check.problems);
    }
}
