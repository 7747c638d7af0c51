//! The whole system in one process: edge-agent and two hospital-view instances on
//! loopback, each on its own SQLite file in one data directory, and the software My Number
//! cards of the synthetic population, issued by a development CA the edge trusts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::scenario::Dispatcher;
use crate::soft_card::{DevCardIssuer, PopulationCards};

/// Token the edge presents to hospital-view instances in the local stack.
pub const LOCAL_EDGE_TOKEN: &str = "dev-edge-token";

/// Where to run and how much data to load.
#[derive(Debug, Clone)]
pub struct StackConfig {
    /// Directory for every SQLite file.
    pub data_dir: PathBuf,
    /// edge-agent address (port 0: any free port).
    pub edge_addr: SocketAddr,
    /// hospital-view addresses, one per hospital.
    pub hospital_addrs: [SocketAddr; 2],
    /// Synthetic patients to load at first start.
    pub patients: u64,
    /// Patients (by index) whose card certificates are on the CRL the edge gets.
    pub revoked_patients: Vec<u64>,
}

impl StackConfig {
    /// Free ports on loopback, for tests.
    pub fn ephemeral(data_dir: PathBuf, patients: u64) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        StackConfig {
            data_dir,
            edge_addr: any,
            hospital_addrs: [any, any],
            patients,
            revoked_patients: Vec::new(),
        }
    }
}

/// A running hospital-view.
#[derive(Debug, Clone)]
pub struct HospitalInstance {
    /// Institution id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Base URL of its dashboard.
    pub url: String,
}

/// The running system.
pub struct LocalStack {
    /// Base URL of edge-agent.
    pub edge_url: String,
    /// The receiving hospitals.
    pub hospitals: Vec<HospitalInstance>,
    /// edge-agent configuration (devices, dataset, trusted card CA).
    pub edge_config: edge_agent::config::Config,
    /// The population's cards, created on first use; their CA is the one the edge trusts.
    pub cards: Arc<PopulationCards>,
    /// The access log's verifier key (public), for `myna-log verify` and tablets.
    pub log_key: String,
    stops: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<anyhow::Result<()>>>,
}

const HOSPITALS: [(&str, &str, u8); 2] = [
    (
        "hosp-setagaya-3",
        "世田谷救命救急センター Setagaya Critical Care Center",
        3,
    ),
    ("hosp-meguro-2", "目黒総合病院 Meguro General Hospital", 2),
];

fn stop_signal(stops: &mut Vec<oneshot::Sender<()>>) -> impl Future<Output = ()> + Send + 'static {
    let (tx, rx) = oneshot::channel::<()>();
    stops.push(tx);
    async move {
        let _ = rx.await;
    }
}

impl LocalStack {
    /// Binds every listener, opens every database and starts serving.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).context("creating the data directory")?;
        let mut stops = Vec::new();
        let mut tasks = Vec::new();
        let mut hospitals = Vec::new();
        let mut edge_config = edge_agent::config::Config::local(config.data_dir.clone());
        edge_config.dataset.patients = config.patients;
        let (cards, crl) = issue_cards(edge_config.dataset.seed, config.revoked_patients).await?;
        let mut edge_config = edge_config
            .with_card_trust(vec![cards.issuer().ca_certificate_der()], vec![crl])
            .context("trusting the development card CA")?;
        for ((id, name, tier), addr) in HOSPITALS.into_iter().zip(config.hospital_addrs) {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let url = format!("http://{}", listener.local_addr()?);
            let state = hospital_view::AppState::open(hospital_view::Config {
                hospital_id: id.into(),
                hospital_name: name.into(),
                data_dir: config.data_dir.clone(),
                edge_token: LOCAL_EDGE_TOKEN.into(),
            })?;
            let stop = stop_signal(&mut stops);
            tasks.push(tokio::spawn(async move {
                Ok(hospital_view::run(listener, state, stop).await?)
            }));
            edge_config = edge_config.with_hospital(id, name, tier, &url, LOCAL_EDGE_TOKEN);
            hospitals.push(HospitalInstance {
                id: id.into(),
                name: name.into(),
                url,
            });
        }
        let listener = TcpListener::bind(config.edge_addr)
            .await
            .with_context(|| format!("binding {}", config.edge_addr))?;
        let edge_url = format!("http://{}", listener.local_addr()?);
        let state = edge_agent::AppState::open(edge_config.clone(), edge_agent::clock::system())?;
        let log_key = state.log_signer.verifier_key().to_string();
        let stop = stop_signal(&mut stops);
        tasks.push(tokio::spawn(async move {
            Ok(edge_agent::run(listener, state, stop).await?)
        }));
        Ok(LocalStack {
            edge_url,
            hospitals,
            edge_config,
            cards,
            log_key,
            stops,
            tasks,
        })
    }

    /// The edge-agent's database file.
    pub fn edge_database(&self) -> PathBuf {
        self.edge_config.data_dir.join("edge.sqlite3")
    }

    /// Bearer token of dev tablet `n` (1-based).
    pub fn device_token(&self, n: usize) -> String {
        self.edge_config.devices[n - 1].token.clone()
    }

    /// A dispatcher driving incidents from dev tablet `n` (1-based) with this stack's cards.
    pub fn dispatcher(&self, n: usize) -> Dispatcher {
        Dispatcher::new(
            Arc::clone(&self.cards),
            self.edge_url.clone(),
            self.device_token(n),
        )
    }

    /// Stops every service and waits for them to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for task in self.tasks {
            task.await??;
        }
        Ok(())
    }
}

/// The cards of the population `seed` as of today, issued by the process's development
/// CA (no card is made yet), and that CA's CRL listing the certificates of
/// `revoked_patients`, valid for a week. On a blocking thread: the CA's RSA key takes a
/// moment the first time.
async fn issue_cards(
    seed: u64,
    revoked_patients: Vec<u64>,
) -> anyhow::Result<(Arc<PopulationCards>, Vec<u8>)> {
    tokio::task::spawn_blocking(move || {
        let now = Utc::now();
        let today = now.date_naive();
        let cards = PopulationCards::new(DevCardIssuer::new()?, seed, today);
        let serials: Vec<Vec<u8>> = revoked_patients
            .iter()
            .filter_map(|i| population::patient(seed, *i, today).card)
            .map(|card| card.serial)
            .collect();
        let serials: Vec<&[u8]> = serials.iter().map(Vec::as_slice).collect();
        let crl = cards
            .issuer()
            .crl_der(&serials, now, now + chrono::Days::new(7))?;
        Ok((Arc::new(cards), crl))
    })
    .await?
}
