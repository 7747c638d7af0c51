//! The whole system in one process: edge-agent and two hospital-view instances on
//! loopback, each on its own SQLite file in one data directory, and the software My Number
//! cards of the synthetic population, issued by a development CA the edge trusts.
//! [`LocalStack::start`] serves everything over plain HTTP; [`LocalStack::start_with_edge_tls`]
//! serves the edge and both hospital-views over HTTPS with the development TLS certificates
//! of `myna_service::dev_tls`, each requiring client certificates (mTLS) that the
//! development CA issues: tablets and hospital-views present theirs to the edge, the edge
//! presents its own (`urn:myna:edge:...`) when it delivers arrival notices.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use edge_agent::AppState;
use soft_card::{DevCardIssuer, PopulationCards};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::load::Population;
use crate::scenario::{Dispatcher, TabletTls};

/// Prefix of the per-hospital tokens in the local stack: hospital `ID`'s is
/// `dev-edge-token-ID`, presented by the edge to that hospital-view and back.
pub const LOCAL_EDGE_TOKEN: &str = "dev-edge-token";

/// The local stack's token for hospital `id`.
pub fn hospital_token(id: &str) -> String {
    format!("{LOCAL_EDGE_TOKEN}-{id}")
}

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
    /// Where the edge reaches each hospital, when not at its own address: a proxy that
    /// injects faults (dropped connections, lost acknowledgements) in between.
    pub hospital_fronts: [Option<String>; 2],
    /// Tablets registered after the three development ones (dev tablet `n` stays `n`):
    /// a simulated fleet ([`crate::fleet::Fleet::devices`]).
    pub more_devices: Vec<edge_agent::config::DeviceRegistration>,
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
            hospital_fronts: [None, None],
            more_devices: Vec::new(),
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
    /// Its token (the edge presents it; the hospital answers with it).
    pub token: String,
}

/// The running system.
pub struct LocalStack {
    /// Base URL of edge-agent.
    pub edge_url: String,
    /// The receiving hospitals.
    pub hospitals: Vec<HospitalInstance>,
    /// edge-agent configuration (devices, trusted card CA).
    pub edge_config: edge_agent::config::Config,
    /// The synthetic population loaded into the edge's store at first start.
    pub population: Population,
    /// The population's cards, created on first use; their CA is the one the edge trusts.
    pub cards: Arc<PopulationCards>,
    /// The access log's verifier key (public), for `myna-log verify` and tablets.
    pub log_key: String,
    /// The development CA of the edge's TLS certificate (DER), when served over TLS.
    edge_ca_der: Option<Vec<u8>>,
    /// Each dev tablet's client certificate and key (PEM), in device order, over TLS.
    device_certificates: Vec<(String, String)>,
    /// The edge's own client certificate and key (PEM), over TLS.
    edge_certificate: Option<(String, String)>,
    edge: Service<edge_agent::config::Config>,
    hospital_services: Vec<Service<hospital_view::Config>>,
    /// The edge store's injected commit delay (a slow disk), kept across restarts.
    slow_disk: std::time::Duration,
    /// How many development tablets come before [`StackConfig::more_devices`].
    dev_devices: usize,
}

/// One service of the stack: what it needs to start again on the same address, and, while
/// it runs, how to stop it.
struct Service<C> {
    addr: SocketAddr,
    config: C,
    tls: Option<Arc<rustls::ServerConfig>>,
    running: Option<Running>,
}

/// A started service.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
    /// The edge's store (for the slow-disk fault); `None` for a hospital-view.
    store: Option<Arc<edge_agent::store::Store>>,
}

impl Running {
    /// Signals the stop and waits for the service to drain.
    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

impl Service<edge_agent::config::Config> {
    /// Opens the edge's state, loads `people` at first start (as of today), serves `socket`.
    fn start_edge(&mut self, socket: TcpListener, people: Population) -> anyhow::Result<AppState> {
        let state = AppState::open(self.config.clone(), edge_agent::clock::system())?;
        crate::load::load(&state.store, people, Utc::now().date_naive())?;
        let (stop, stopped) = myna_service::stop_signal();
        let (serving, tls) = (state.clone(), self.tls.clone());
        let task = tokio::spawn(async move {
            match tls {
                Some(tls) => edge_agent::run_tls(socket, serving, tls, stopped).await?,
                None => edge_agent::run(socket, serving, stopped).await?,
            }
            Ok(())
        });
        self.running = Some(Running {
            stop,
            task,
            store: Some(Arc::clone(&state.store)),
        });
        Ok(state)
    }
}

impl Service<hospital_view::Config> {
    /// Opens the hospital-view's state and serves `listener`.
    fn start_hospital(&mut self, listener: TcpListener) -> anyhow::Result<()> {
        let state = hospital_view::AppState::open(self.config.clone())?;
        let (stop, stopped) = myna_service::stop_signal();
        let tls = self.tls.clone();
        let task = tokio::spawn(async move {
            match tls {
                Some(tls) => hospital_view::run_tls(listener, state, tls, stopped).await?,
                None => hospital_view::run(listener, state, stopped).await?,
            }
            Ok(())
        });
        self.running = Some(Running {
            stop,
            task,
            store: None,
        });
        Ok(())
    }
}

/// Binds `addr` again after its service stopped (the listener sets `SO_REUSEADDR`).
async fn rebind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr} again"))
}

/// The local stack's hospitals: id, name, tier, location (Setagaya and Meguro, Tokyo).
const HOSPITALS: [(&str, &str, u8, (f64, f64)); 2] = [
    (
        "hosp-setagaya-3",
        "世田谷救命救急センター Setagaya Critical Care Center",
        3,
        (35.6466, 139.6533),
    ),
    (
        "hosp-meguro-2",
        "目黒総合病院 Meguro General Hospital",
        2,
        (35.6415, 139.6982),
    ),
];

impl LocalStack {
    /// Binds every listener, opens every database and starts serving; the edge over plain
    /// HTTP.
    pub async fn start(config: StackConfig) -> anyhow::Result<Self> {
        Self::launch(config, false).await
    }

    /// [`LocalStack::start`], with the edge and the hospital-views served over TLS:
    /// development certificates from `data_dir/tls` (created at first start, then kept),
    /// `edge_url` and each `hospitals[i].url` are `https://ADDR` (`https://127.0.0.1:PORT`
    /// with [`StackConfig::ephemeral`]), and [`LocalStack::edge_ca_der`] is the CA to trust
    /// for all of them.
    ///
    /// The edge requires client certificates (mTLS) and refuses tablet and hospital bearer
    /// tokens: each dev tablet's certificate is [`LocalStack::device_client_certificate`]
    /// ([`LocalStack::dispatcher`] and [`LocalStack::tablet_tls`] use it), and each
    /// hospital-view presents its own when it sends answers to the edge. All are issued by
    /// the development CA into `data_dir/tls/clients` and kept.
    ///
    /// Each hospital-view requires the edge's client certificate on its edge routes
    /// (`POST /v1/arrivals`, withdrawals, `GET /v1/arrivals`) and refuses the bearer token
    /// there: the edge's relay presents [`LocalStack::edge_client_certificate`] and trusts
    /// only the development CA.
    // A separate entry point rather than a `StackConfig` field: adding a field would break
    // the struct literals that build the configuration outside this file (myna-local).
    pub async fn start_with_edge_tls(config: StackConfig) -> anyhow::Result<Self> {
        Self::launch(config, true).await
    }

    async fn launch(config: StackConfig, edge_tls: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).context("creating the data directory")?;
        let mut hospitals = Vec::new();
        let mut hospital_services = Vec::new();
        let mut edge_config = edge_agent::config::Config::local(config.data_dir.clone());
        let population = Population::local(config.patients);
        let dev_devices = edge_config.devices.len();
        edge_config.devices.extend(config.more_devices);
        // The stack serves load tools (`myna-bench`) and end-to-end tests that drive far more
        // requests per second from its three tablets than a crew ever would: no rate limits.
        edge_config.rate_limits = edge_agent::config::RateLimits::OFF;
        let (cards, crl) = issue_cards(population.seed, config.revoked_patients).await?;
        let mut edge_config = edge_config
            .with_card_trust(vec![cards.issuer().ca_certificate_der()], vec![crl])
            .context("trusting the development card CA")?;
        // The edge's address first: each hospital-view sends its answers there.
        let edge_listener = TcpListener::bind(config.edge_addr)
            .await
            .with_context(|| format!("binding {}", config.edge_addr))?;
        let edge_tls = if edge_tls {
            let dir = config.data_dir.join("tls");
            let tls = myna_service::dev_tls::DevTls::load_or_create(&dir)
                .with_context(|| format!("development TLS certificates in {}", dir.display()))?;
            Some(tls)
        } else {
            None
        };
        let scheme = if edge_tls.is_some() { "https" } else { "http" };
        let edge_url = format!("{scheme}://{}", edge_listener.local_addr()?);
        for (((id, name, tier, (lat, lon)), addr), front) in HOSPITALS
            .into_iter()
            .zip(config.hospital_addrs)
            .zip(config.hospital_fronts.clone())
        {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding {addr}"))?;
            let url = format!("{scheme}://{}", listener.local_addr()?);
            let token = hospital_token(id);
            edge_config = edge_config.with_hospital(
                id,
                name,
                tier,
                front.as_deref().unwrap_or(&url),
                &token,
                myna_domain::handoff::GeoPoint::new(lat, lon),
            );
            let hospital_tls = match (&edge_tls, edge_config.hospitals.last()) {
                (Some(tls), Some(endpoint)) => {
                    let issued = edge_agent::client_certs::hospital_credentials(tls, endpoint)
                        .context("issuing a hospital's client certificate")?;
                    Some(hospital_view::EdgeTls {
                        ca_der: tls.ca_der().to_vec(),
                        client_certificate_pem: issued.cert_pem,
                        client_key_pem: issued.key_pem,
                    })
                }
                _ => None,
            };
            let mut service = Service {
                addr: listener.local_addr()?,
                config: hospital_view::Config {
                    hospital_id: id.into(),
                    hospital_name: name.into(),
                    data_dir: config.data_dir.clone(),
                    edge_token: Some(token.clone()),
                    edge_url: Some(edge_url.clone()),
                    edge_tls: hospital_tls,
                    staff: hospital_view::dev_staff(),
                    sign_in: hospital_view::SignInPolicy::default(),
                    totp_key: None,
                },
                // The dev CA issues the edge's client certificate, so it verifies it here.
                tls: edge_tls.as_ref().map(|tls| tls.mtls_server_config()),
                running: None,
            };
            service.start_hospital(listener)?;
            hospital_services.push(service);
            hospitals.push(HospitalInstance {
                id: id.into(),
                name: name.into(),
                url,
                token,
            });
        }
        let listener = edge_listener;
        let mut device_certificates = Vec::new();
        let mut edge_certificate = None;
        if let Some(tls) = &edge_tls {
            edge_config.require_client_certificates = true;
            let relay_tls = edge_agent::client_certs::dev_relay_tls(tls, &edge_config)
                .context("issuing the edge's client certificate")?;
            edge_certificate = Some((
                relay_tls.client_certificate_pem.clone(),
                relay_tls.client_key_pem.clone(),
            ));
            edge_config.relay_tls = Some(relay_tls);
            for device in &edge_config.devices {
                let issued = edge_agent::client_certs::device_credentials(tls, device)
                    .context("issuing a tablet's client certificate")?;
                device_certificates.push((issued.cert_pem, issued.key_pem));
            }
        }
        let mut edge = Service {
            addr: listener.local_addr()?,
            config: edge_config.clone(),
            tls: edge_tls.as_ref().map(|tls| tls.mtls_server_config()),
            running: None,
        };
        let state = edge.start_edge(listener, population)?;
        let log_key = state.log_signer.verifier_key().to_string();
        let edge_ca_der = edge_tls.as_ref().map(|tls| tls.ca_der().to_vec());
        Ok(LocalStack {
            edge_url,
            hospitals,
            edge_config,
            population,
            cards,
            log_key,
            edge_ca_der,
            device_certificates,
            edge_certificate,
            edge,
            hospital_services,
            slow_disk: std::time::Duration::ZERO,
            dev_devices,
        })
    }

    /// Stops the edge (draining in-flight requests, as on a deploy) and starts it again on
    /// the same address and files after `down_for`. Tablets see refused connections
    /// meanwhile.
    pub async fn restart_edge(&mut self, down_for: std::time::Duration) -> anyhow::Result<()> {
        if let Some(running) = self.edge.running.take() {
            running.stop().await?;
        }
        tokio::time::sleep(down_for).await;
        let listener = rebind(self.edge.addr).await?;
        self.edge.start_edge(listener, self.population)?;
        self.set_slow_disk(self.slow_disk);
        Ok(())
    }

    /// Stops hospital-view `n` (0-based, in [`LocalStack::hospitals`] order): the edge's
    /// deliveries to it fail and wait in its outbox. Stopping a stopped one does nothing.
    pub async fn stop_hospital(&mut self, n: usize) -> anyhow::Result<()> {
        let service = self
            .hospital_services
            .get_mut(n)
            .context("no such hospital")?;
        if let Some(running) = service.running.take() {
            running.stop().await?;
        }
        Ok(())
    }

    /// Starts hospital-view `n` again on its address and files, if it is stopped.
    pub async fn start_hospital(&mut self, n: usize) -> anyhow::Result<()> {
        let service = self
            .hospital_services
            .get_mut(n)
            .context("no such hospital")?;
        if service.running.is_none() {
            let listener = rebind(service.addr).await?;
            service.start_hospital(listener)?;
        }
        Ok(())
    }

    /// Makes every commit of the edge's store wait `delay` first, as a slow disk would
    /// (zero: the disk's own speed); kept across [`LocalStack::restart_edge`].
    pub fn set_slow_disk(&mut self, delay: std::time::Duration) {
        self.slow_disk = delay;
        if let Some(store) = self.edge.running.as_ref().and_then(|r| r.store.as_ref()) {
            store.inject_commit_delay(delay);
        }
    }

    /// The CA certificate (DER) the edge's TLS certificate chains to, for clients to pin;
    /// `None` when the edge is served over plain HTTP.
    pub fn edge_ca_der(&self) -> Option<Vec<u8>> {
        self.edge_ca_der.clone()
    }

    /// An HTTP client builder as a browser or an officer's tool would use: over TLS it
    /// trusts the development CA only, and it presents no client certificate.
    pub fn browser_client(&self) -> anyhow::Result<reqwest::ClientBuilder> {
        let builder = reqwest::Client::builder();
        Ok(match &self.edge_ca_der {
            Some(ca) => builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_der(ca)?),
            None => builder,
        })
    }

    /// Dev tablet `n`'s (1-based) client certificate and key (PEM), when the edge is served
    /// over TLS; `None` over plain HTTP or for an unknown tablet.
    pub fn device_client_certificate(&self, n: usize) -> Option<(String, String)> {
        self.device_certificates.get(n.checked_sub(1)?).cloned()
    }

    /// The edge's client certificate and key (PEM), which its relay presents to the
    /// hospital-views (and which their edge routes require), when served over TLS.
    pub fn edge_client_certificate(&self) -> Option<(String, String)> {
        self.edge_certificate.clone()
    }

    /// What dev tablet `n` (1-based) needs to reach the edge over mTLS: the CA and its
    /// client certificate; `None` over plain HTTP.
    pub fn tablet_tls(&self, n: usize) -> Option<TabletTls> {
        let (certificate_pem, key_pem) = self.device_client_certificate(n)?;
        Some(TabletTls {
            ca_der: self.edge_ca_der.clone()?,
            certificate_pem,
            key_pem,
        })
    }

    /// The edge-agent's database file.
    pub fn edge_database(&self) -> PathBuf {
        self.edge_config.data_dir.join("edge.sqlite3")
    }

    /// Hospital-view `n`'s database file (0-based, [`LocalStack::hospitals`] order).
    pub fn hospital_database(&self, n: usize) -> Option<PathBuf> {
        self.hospital_services
            .get(n)
            .map(|s| s.config.database_path())
    }

    /// The tablet number (1-based, as [`LocalStack::device_token`] and
    /// [`LocalStack::tablet_tls`] take it) of `StackConfig::more_devices[n]`.
    pub fn more_device(&self, n: usize) -> usize {
        self.dev_devices + 1 + n
    }

    /// Bearer token of dev tablet `n` (1-based).
    pub fn device_token(&self, n: usize) -> String {
        self.edge_config.devices[n - 1].token.clone()
    }

    /// A dispatcher driving incidents from dev tablet `n` (1-based) with this stack's cards.
    pub fn dispatcher(&self, n: usize) -> Dispatcher {
        let dispatcher = Dispatcher::new(
            Arc::clone(&self.cards),
            self.edge_url.clone(),
            self.device_token(n),
        );
        match self.tablet_tls(n) {
            Some(tls) => dispatcher.with_tls(tls),
            None => dispatcher,
        }
    }

    /// Stops every service and waits for them to drain.
    pub async fn stop(self) -> anyhow::Result<()> {
        let services = self.hospital_services.into_iter().map(|s| s.running);
        for running in services.chain([self.edge.running]).flatten() {
            running.stop().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn more_devices_follow_the_development_tablets() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = StackConfig::ephemeral(dir.path().to_path_buf(), 5);
        config.more_devices = crate::fleet::Fleet::new(2, 4).devices();
        let expected: Vec<String> = config
            .more_devices
            .iter()
            .map(|d| d.token.clone())
            .collect();
        let stack = LocalStack::start(config).await.unwrap();
        let tokens: Vec<String> = (0..4)
            .map(|n| stack.device_token(stack.more_device(n)))
            .collect();
        assert_eq!(tokens, expected);
        stack.stop().await.unwrap();
    }

    #[tokio::test]
    async fn edge_over_tls_is_reached_with_its_ca_only() {
        let dir = tempfile::tempdir().unwrap();
        let stack =
            LocalStack::start_with_edge_tls(StackConfig::ephemeral(dir.path().to_path_buf(), 5))
                .await
                .unwrap();
        assert!(stack.edge_url.starts_with("https://127.0.0.1:"));
        let ca = stack.edge_ca_der().expect("a TLS edge has a CA");
        let with_certificate = stack
            .tablet_tls(1)
            .unwrap()
            .edge_client(stack.edge_url.clone(), stack.device_token(1))
            .unwrap();
        assert_eq!(
            with_certificate.hospitals().await.unwrap().hospitals.len(),
            2
        );
        // The right CA and token but no client certificate: refused.
        let pinned = mobile_core::EdgeClient::with_root_certificate(
            stack.edge_url.clone(),
            stack.device_token(1),
            ca.clone(),
        )
        .unwrap();
        assert!(matches!(
            pinned.hospitals().await,
            Err(mobile_core::EdgeError::Rejected { status: 401, .. })
        ));
        let unpinned =
            mobile_core::EdgeClient::new(stack.edge_url.clone(), stack.device_token(1)).unwrap();
        assert!(matches!(
            unpinned.hospitals().await,
            Err(mobile_core::EdgeError::Unreachable { .. })
        ));
        stack.stop().await.unwrap();
        // The same data directory keeps its CA.
        let again =
            LocalStack::start_with_edge_tls(StackConfig::ephemeral(dir.path().to_path_buf(), 5))
                .await
                .unwrap();
        assert_eq!(again.edge_ca_der(), Some(ca));
        again.stop().await.unwrap();

        let plain = LocalStack::start(StackConfig::ephemeral(dir.path().to_path_buf(), 5))
            .await
            .unwrap();
        assert!(plain.edge_url.starts_with("http://"));
        assert_eq!(plain.edge_ca_der(), None);
        assert!(plain.tablet_tls(1).is_none());
        plain.stop().await.unwrap();
    }
}
