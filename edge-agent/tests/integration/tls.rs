//! The edge served over TLS on a real loopback socket with development certificates: the
//! tablet's client pinned to the development CA gets through, one pinned to another CA is
//! told the certificate is not trusted, and clients that speak plain HTTP, garbage or
//! nothing at all lose their own connection only.

use std::time::Duration;

use mobile_core::{EdgeClient, EdgeError};
use myna_service::dev_tls::DevTls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{DEVICE, TestEdge};

/// An edge serving HTTPS with the development certificates in `tls_dir`.
struct TlsEdge {
    addr: std::net::SocketAddr,
    tls: DevTls,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<edge_agent::Result<()>>,
    _edge: TestEdge,
}

impl TlsEdge {
    async fn start(tls_dir: &std::path::Path) -> Self {
        let edge = TestEdge::with(|config| {
            config.with_hospital("hosp-a", "Hospital A", 3, "http://127.0.0.1:9", "t-a", None)
        });
        let tls = DevTls::load_or_create(tls_dir).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(edge_agent::run_tls(
            listener,
            edge.state.clone(),
            tls.server_config(),
            async move {
                let _ = stopped.await;
            },
        ));
        TlsEdge {
            addr,
            tls,
            stop,
            server,
            _edge: edge,
        }
    }

    fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    fn client_trusting(&self, ca_der: &[u8]) -> EdgeClient {
        EdgeClient::with_root_certificate(self.url(), DEVICE.into(), ca_der.to_vec()).unwrap()
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

async fn assert_lists_hospitals(client: &EdgeClient) {
    let list = client.hospitals().await.unwrap();
    let ids: Vec<&str> = list.hospitals.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["hosp-a"]);
}

#[tokio::test]
async fn a_client_pinned_to_the_dev_ca_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let edge = TlsEdge::start(&dir.path().join("tls")).await;
    assert_lists_hospitals(&edge.client_trusting(edge.tls.ca_der())).await;
    edge.stop().await;
}

#[tokio::test]
async fn a_client_pinned_to_another_ca_is_told_the_certificate_is_untrusted() {
    let dir = tempfile::tempdir().unwrap();
    let edge = TlsEdge::start(&dir.path().join("tls")).await;
    let other = DevTls::load_or_create(&dir.path().join("other-ca")).unwrap();
    assert_ne!(other.ca_der(), edge.tls.ca_der());
    match edge.client_trusting(other.ca_der()).hospitals().await {
        Err(EdgeError::Unreachable { message }) => {
            assert!(message.contains("not trusted"), "{message}");
        }
        other => panic!("expected an untrusted certificate, got {other:?}"),
    }
    // A client with only the public roots does not trust the development CA either.
    let public = EdgeClient::new(edge.url(), DEVICE.into()).unwrap();
    assert!(matches!(
        public.hospitals().await,
        Err(EdgeError::Unreachable { message }) if message.contains("not trusted")
    ));
    edge.stop().await;
}

#[tokio::test]
async fn plain_http_garbage_and_silence_drop_only_their_own_connection() {
    let dir = tempfile::tempdir().unwrap();
    let edge = TlsEdge::start(&dir.path().join("tls")).await;
    let client = edge.client_trusting(edge.tls.ca_der());

    let plain = reqwest::Client::new()
        .get(format!("http://{}/v1/hospitals", edge.addr))
        .bearer_auth(DEVICE)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP got an answer: {plain:?}");

    let mut garbage = TcpStream::connect(edge.addr).await.unwrap();
    garbage
        .write_all(&[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2, 3])
        .await
        .unwrap();
    garbage.write_all(&[0xab; 512]).await.unwrap();
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), garbage.read_to_end(&mut answer));
    assert!(
        closed.await.is_ok(),
        "the server kept a garbage connection open"
    );

    // Connected, never says anything: holds its connection while others are served.
    let silent = TcpStream::connect(edge.addr).await.unwrap();
    assert_lists_hospitals(&client).await;
    // A fresh connection too, not only the client's kept-alive one.
    assert_lists_hospitals(&edge.client_trusting(edge.tls.ca_der())).await;
    drop(silent);
    edge.stop().await;
}

#[tokio::test]
async fn dev_certificates_are_kept_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let first = TlsEdge::start(&tls_dir).await;
    let pinned = first.tls.ca_der().to_vec();
    first.stop().await;
    let second = TlsEdge::start(&tls_dir).await;
    assert_eq!(second.tls.ca_der(), pinned);
    // The tablet that pinned the first start's CA still gets through.
    assert_lists_hospitals(&second.client_trusting(&pinned)).await;
    second.stop().await;
}
