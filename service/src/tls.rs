//! Serving a router over TLS: our own accept loop, because `axum::serve` speaks plain TCP
//! only.
//!
//! Each accepted TCP connection gets its own task: the TLS handshake (at most
//! [`TLS_HANDSHAKE_TIMEOUT`]), then hyper serving HTTP/1.1 or HTTP/2 (whichever ALPN and
//! the client's preface choose) with the router as the service. A failed, abandoned or
//! garbage handshake ends that task only; the accept loop never sees it.
//!
//! Shutdown mirrors [`crate::serve::serve_with_drain`]: stop accepting, tell every connection to
//! finish (handshakes in progress are dropped, idle keep-alive connections close, HTTP/2
//! clients get GOAWAY), wait at most `drain` for in-flight requests, then abort the rest.
//! One `watch` signal covers both phases of a connection (hyper-util's `GracefulShutdown`
//! only watches the HTTP phase), and a `JoinSet` owns the tasks so that whatever is left at
//! the end of the drain is aborted rather than left running.
//!
//! At most [`MAX_CONNECTIONS`] connections are served at once; the loop stops accepting
//! while at the cap.
//!
//! Client certificates (mTLS) are a matter of the [`ServerConfig`]: give it a client
//! certificate verifier and the handshake enforces it; the accepted identity then belongs in
//! [`TlsPeer`], which every request carries as an extension.
//! Client certificates (mTLS) are a matter of the [`ServerConfig`]:
//! [`server_config_with_client_auth`] verifies them in the handshake (chain to the given
//! roots, validity period, revocation lists), so an expired, revoked or foreign certificate
//! never gets a connection. The verified chain is in [`TlsPeer::client_certificates`], which
//! every request carries as an extension; which routes require one is the application's
//! business.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// How long a client has, after the handshake, to send a request's headers (also between
/// requests on a kept-alive connection).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Time a client has, from the TCP accept, to complete the TLS handshake. A client that
/// connects and stays silent is dropped after it.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections served at once (handshaking or open). At the cap the loop stops
/// accepting until one ends: further clients wait in the kernel's listen backlog (and are
/// refused by the kernel once that is full) instead of costing a file descriptor and a task
/// each, so a flood cannot exhaust the process's descriptors. Sized for the national fleet:
/// 5,334 tablets each keeping a connection to one edge, plus hospitals and browsers, three
/// times over (4,096 turned a quarter of the fleet away: `myna-bench lookups`). The
/// binaries raise their open-file limit at start ([`crate::process::raise_open_file_limit`]).
pub const MAX_CONNECTIONS: usize = 16_384;

/// ALPN protocols offered, in order of preference.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The other end of a TLS connection, attached to every request it sends (read it with
/// `axum::Extension<TlsPeer>`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TlsPeer {
    /// The client's socket address.
    pub addr: SocketAddr,
    /// The client's certificate chain, leaf first, as the handshake verified it; `None`
    /// when the client presented none (allowed by [`server_config_with_client_auth`], for
    /// browsers) or the server asks for none ([`server_config`]).
    pub client_certificates: Option<Arc<[CertificateDer<'static>]>>,
}

impl TlsPeer {
    /// The verified client (leaf) certificate, if any.
    pub fn client_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.client_certificates.as_deref().and_then(<[_]>::first)
    }
}

/// A server configuration presenting `chain` (leaf first) with `key`: rustls with the ring
/// provider (no process-wide provider needed), its safe default protocol versions, no client
/// authentication, ALPN `h2` and `http/1.1`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> crate::error::Result<Arc<ServerConfig>> {
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// [`server_config`] that also verifies client certificates (mTLS) against `client_roots`
/// and the revocation lists `crls` (webpki: chain, validity period, client-auth usage,
/// revocation of the whole chain; a CRL must be signed by its issuer). A client that
/// presents a certificate failing any of these fails the handshake. A client that presents
/// none is let in without an identity ([`TlsPeer::client_certificates`] is `None`): the
/// patient portal and the public log endpoints serve browsers, so routes that need a
/// device or hospital must refuse such requests themselves.
pub fn server_config_with_client_auth(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_roots: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
) -> crate::error::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for root in client_roots {
        roots.add(root)?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        .allow_unauthenticated()
        .build()
        .map_err(|error| crate::error::Error::Certificate(error.to_string()))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// Serves `router` over TLS (`tls`) on `listener` until `shutdown` completes, then lets
/// in-flight requests finish for at most `drain`. Returns when every connection has ended
/// or the drain timed out (the rest are aborted). A connection whose handshake fails or
/// does not finish within [`TLS_HANDSHAKE_TIMEOUT`] is dropped; the server keeps serving.
pub async fn serve_tls_with_drain(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    serve(
        listener,
        tls,
        router,
        shutdown,
        drain,
        TLS_HANDSHAKE_TIMEOUT,
        MAX_CONNECTIONS,
    )
    .await
}

async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
    handshake_timeout: Duration,
    max_connections: usize,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Forget finished connections as we go, so the set holds only live ones.
        while connections.try_join_next().is_some() {}
        // A free slot first, then the next connection: at the cap, clients queue in the
        // listen backlog. The semaphore is never closed, so acquiring cannot fail.
        let accepted = async {
            let slot = Arc::clone(&slots).acquire_owned().await;
            (slot, accept(&listener).await)
        };
        let (slot, (stream, addr)) = tokio::select! {
            accepted = accepted => accepted,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let connection = connection(
            acceptor.clone(),
            stream,
            addr,
            router.clone(),
            stopping_rx.clone(),
            handshake_timeout,
        );
        connections.spawn(async move {
            connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let _ = stopping_tx.send(true);
    let finished = tokio::time::timeout(drain, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(
            ?drain,
            open = connections.len(),
            "shutdown drain timed out; closing TLS connections with requests in flight"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// The next connection. Errors of one connection (reset before accept) are skipped; others
/// (out of file descriptors) are logged and retried after a second, as `axum::serve` does.
async fn accept(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(error) if is_connection_error(&error) => {}
            Err(error) => {
                tracing::error!(%error, "accept failed; retrying in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Waits until `stopping` is set (or its sender is gone).
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stopping| *stopping).await;
}

/// One connection: handshake, then HTTP until the client closes or the server stops. Logs
/// carry no address or certificate content, only what went wrong.
async fn connection(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    addr: SocketAddr,
    router: axum::Router,
    stopping: watch::Receiver<bool>,
    handshake_timeout: Duration,
) {
    // Small responses go out at once instead of waiting for the client's ACK (Nagle).
    let _ = stream.set_nodelay(true);
    let handshake = tokio::time::timeout(handshake_timeout, acceptor.accept(stream));
    let stream = tokio::select! {
        handshake = handshake => match handshake {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => {
                tracing::debug!(%error, "TLS handshake failed; connection dropped");
                return;
            }
            Err(_) => {
                tracing::debug!(?handshake_timeout, "TLS handshake timed out; connection dropped");
                return;
            }
        },
        () = stopped(stopping.clone()) => return,
    };
    // The chain the verifier accepted (rustls keeps it only when one was presented).
    let client_certificates = stream
        .get_ref()
        .1
        .peer_certificates()
        .filter(|chain| !chain.is_empty())
        .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect());
    let peer = TlsPeer {
        addr,
        client_certificates,
    };
    let service = router.map_request(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(peer.clone());
        request
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A client that finished the handshake must still send its request headers in time:
    // without a timer hyper applies no header-read timeout at all, and silent connections
    // would pile up until the process runs out of file descriptors.
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    let served = tokio::select! {
        served = conn.as_mut() => served,
        () = stopped(stopping) => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(error) = served {
        tracing::debug!(%error, "TLS connection ended with an error");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::dev_tls::DevTls;

    struct Running {
        url: String,
        stop: tokio::sync::oneshot::Sender<()>,
        server: tokio::task::JoinHandle<std::io::Result<()>>,
        tls: DevTls,
        _dir: tempfile::TempDir,
    }

    /// A TLS server on a free loopback port whose `/slow` answers after `slow` and whose
    /// `/peer` answers with the client's port.
    async fn start(slow: Duration, drain: Duration, handshake_timeout: Duration) -> Running {
        start_capped(slow, drain, handshake_timeout, MAX_CONNECTIONS).await
    }

    /// [`start`] serving at most `max_connections` at once.
    async fn start_capped(
        slow: Duration,
        drain: Duration,
        handshake_timeout: Duration,
        max_connections: usize,
    ) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        let router = axum::Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .route(
                "/slow",
                axum::routing::get(move || async move {
                    tokio::time::sleep(slow).await;
                    "slow"
                }),
            )
            .route(
                "/peer",
                axum::routing::get(
                    |axum::Extension(peer): axum::Extension<TlsPeer>| async move {
                        peer.addr.port().to_string()
                    },
                ),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            listener,
            tls.server_config(),
            router,
            async move {
                let _ = stopped.await;
            },
            drain,
            handshake_timeout,
            max_connections,
        ));
        Running {
            url,
            stop,
            server,
            tls,
            _dir: dir,
        }
    }

    fn client(ca_der: &[u8]) -> reqwest::Client {
        reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_der(ca_der).unwrap())
            .build()
            .unwrap()
    }

    async fn get(client: &reqwest::Client, url: &str) -> reqwest::Result<String> {
        client
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    }

    #[tokio::test]
    async fn serves_https_and_survives_bad_clients() {
        let server = start(
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_millis(300),
        )
        .await;
        let client = client(server.tls.ca_der());
        assert_eq!(get(&client, &server.url).await.unwrap(), "ok");
        let addr = server.url.trim_start_matches("https://").to_string();
        // Garbage instead of a ClientHello: the server closes that connection.
        let mut garbage = TcpStream::connect(&addr).await.unwrap();
        garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), garbage.read_to_end(&mut buf))
            .await
            .expect("the server closes a connection that sent garbage");
        assert!(read.is_err() || !buf.starts_with(b"HTTP/"), "{buf:?}");
        // Silent: dropped once the handshake timeout has passed, not before.
        let started = Instant::now();
        let mut silent = TcpStream::connect(&addr).await.unwrap();
        let mut buf = [0; 1];
        let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
            .await
            .expect("the server drops a client that never starts the handshake");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert_eq!(get(&client, &server.url).await.unwrap(), "ok");
        // Each request knows its peer.
        let port = get(&client, &format!("{}/peer", server.url)).await.unwrap();
        assert!(port.parse::<u16>().unwrap() > 0);
        server.stop.send(()).unwrap();
        server.server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn connections_over_the_cap_wait_for_a_free_slot() {
        let server = start_capped(
            Duration::ZERO,
            Duration::from_secs(1),
            TLS_HANDSHAKE_TIMEOUT,
            1,
        )
        .await;
        let addr = server.url.trim_start_matches("https://").to_string();
        // A silent client holds the only slot (its handshake has 10 s).
        let silent = TcpStream::connect(&addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let client = client(server.tls.ca_der());
        let waiting = tokio::time::timeout(Duration::from_millis(500), get(&client, &server.url));
        assert!(waiting.await.is_err(), "served past the cap");
        // Its slot freed, the next client is served.
        drop(silent);
        let client = super::tests::client(server.tls.ca_der());
        let served = tokio::time::timeout(Duration::from_secs(5), get(&client, &server.url));
        assert_eq!(served.await.unwrap().unwrap(), "ok");
        server.stop.send(()).unwrap();
        server.server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn in_flight_request_finishes_during_the_drain() {
        let server = start(
            Duration::from_millis(300),
            Duration::from_secs(5),
            TLS_HANDSHAKE_TIMEOUT,
        )
        .await;
        let client = client(server.tls.ca_der());
        // An idle keep-alive connection must not hold the drain up.
        assert_eq!(get(&client, &server.url).await.unwrap(), "ok");
        let url = format!("{}/slow", server.url);
        let request = tokio::spawn(async move { get(&client, &url).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = Instant::now();
        server.stop.send(()).unwrap();
        assert_eq!(request.await.unwrap().unwrap(), "slow");
        server.server.await.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        // No longer accepting.
        assert!(
            TcpStream::connect(server.url.trim_start_matches("https://"))
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn drain_is_bounded() {
        let server = start(
            Duration::from_secs(600),
            Duration::from_millis(300),
            TLS_HANDSHAKE_TIMEOUT,
        )
        .await;
        let client = client(server.tls.ca_der());
        let url = format!("{}/slow", server.url);
        let request = tokio::spawn(async move { get(&client, &url).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        server.stop.send(()).unwrap();
        server.server.await.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
        // The aborted connection fails the request instead of leaving it hanging.
        let answer = tokio::time::timeout(Duration::from_secs(5), request).await;
        assert!(answer.unwrap().unwrap().is_err());
    }

    #[tokio::test]
    async fn a_client_not_trusting_the_ca_is_refused_by_its_own_check() {
        let server = start(
            Duration::ZERO,
            Duration::from_secs(1),
            TLS_HANDSHAKE_TIMEOUT,
        )
        .await;
        let other = tempfile::tempdir().unwrap();
        let other = DevTls::load_or_create(other.path()).unwrap();
        assert!(get(&client(other.ca_der()), &server.url).await.is_err());
        assert_eq!(
            get(&client(server.tls.ca_der()), &server.url)
                .await
                .unwrap(),
            "ok"
        );
        server.stop.send(()).unwrap();
        server.server.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_verified_client_certificate_reaches_the_handlers() {
        let dir = tempfile::tempdir().unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        let subject = crate::dev_tls::ClientSubject {
            organization: "fd-test".into(),
            organizational_unit: "unit 1".into(),
            common_name: "tablet-1".into(),
            uri: "urn:myna:device:fd-test:unit%201:tablet-1".into(),
        };
        let credentials = tls.client_certificate("tablet-1", &subject).unwrap();
        let leaf =
            rustls::pki_types::pem::PemObject::from_pem_slice(credentials.cert_pem.as_bytes())
                .map(|c: CertificateDer<'static>| c.to_vec())
                .unwrap();
        let router = axum::Router::new().route(
            "/",
            axum::routing::get(
                |axum::Extension(peer): axum::Extension<TlsPeer>| async move {
                    peer.client_certificate()
                        .map_or("none".to_string(), |c| hex_of(c))
                },
            ),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_tls_with_drain(
            listener,
            tls.mtls_server_config(),
            router,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(1),
        ));
        let identity = reqwest::Identity::from_pem(
            format!("{}{}", credentials.cert_pem, credentials.key_pem).as_bytes(),
        )
        .unwrap();
        let with_certificate = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_der(tls.ca_der()).unwrap())
            .identity(identity)
            .build()
            .unwrap();
        assert_eq!(get(&with_certificate, &url).await.unwrap(), hex_of(&leaf));
        assert_eq!(get(&client(tls.ca_der()), &url).await.unwrap(), "none");
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
    }

    fn hex_of(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
