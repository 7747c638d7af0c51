//! Mutual TLS on a real loopback socket: tablets and hospital-views are identified by the
//! client certificate the handshake verified. A certificate matrix — valid, expired,
//! revoked, from another CA, none, a hospital's on a tablet route, a tablet's naming the
//! wrong unit, a bearer token alone — of which only the valid one gets through; and the
//! access record of a disclosure names the certificate that asked for it.

use myna_domain::access::{AccessAction, AccessOutcome};
use myna_domain::client_identity::{ClientIdentity, parse_client_certificate};
use myna_service::dev_tls::DevTls;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SanType, SerialNumber,
};
use reqwest::StatusCode;
use tokio::net::TcpListener;

use crate::support::{DEVICE, TestEdge, card_for, carded_patient, open_request, signed_crl};

/// A CA issuing client certificates, as a deployment's would.
struct ClientCa {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

/// A client certificate and its key, as PEM, and the certificate as DER.
struct Issued {
    pem: String,
    der: Vec<u8>,
}

impl ClientCa {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().unwrap();
        let certificate = params.self_signed(&key).unwrap();
        ClientCa { certificate, key }
    }

    /// A client certificate naming `identity`, with `serial`, valid between January 1st of
    /// the two years.
    fn issue(&self, identity: &ClientIdentity, serial: &[u8], from: i32, to: i32) -> Issued {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.subject_alt_names = vec![SanType::URI(identity.to_uri().try_into().unwrap())];
        params.not_before = rcgen::date_time_ymd(from, 1, 1);
        params.not_after = rcgen::date_time_ymd(to, 1, 1);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let certificate = params
            .signed_by(&key, &self.certificate, &self.key)
            .unwrap();
        Issued {
            pem: format!("{}{}", certificate.pem(), key.serialize_pem()),
            der: certificate.der().to_vec(),
        }
    }

    /// A current CRL revoking `serials`.
    fn crl(&self, serials: &[&[u8]]) -> Vec<u8> {
        signed_crl(&self.certificate, &self.key, serials, (2025, 2099))
    }
}

const VALID_SERIAL: &[u8] = &[0x10, 0x01];
const REVOKED_SERIAL: &[u8] = &[0x10, 0x02];

/// The identity of the first development tablet (`dev-device-token-1`).
fn tablet(unit: &str) -> ClientIdentity {
    ClientIdentity::Device {
        fire_department: "fd-tokyo".into(),
        unit: unit.into(),
        device_id: "tablet-tfd-0001".into(),
    }
}

const UNIT: &str = "世田谷救急1 Setagaya Ambulance 1";

/// An edge over TLS requiring client certificates from `ca` (whose CRL revokes
/// [`REVOKED_SERIAL`]), with one hospital, `hosp-a`.
struct MtlsEdge {
    url: String,
    server_ca: Vec<u8>,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<edge_agent::Result<()>>,
    edge: TestEdge,
}

impl MtlsEdge {
    async fn start(ca: &ClientCa) -> Self {
        Self::start_with(ca, |config| config).await
    }

    /// [`MtlsEdge::start`] with `configure` applied to the edge's configuration.
    async fn start_with(
        ca: &ClientCa,
        configure: impl FnOnce(edge_agent::config::Config) -> edge_agent::config::Config,
    ) -> Self {
        let edge = TestEdge::with(|config| {
            let mut config =
                config.with_hospital("hosp-a", "Hospital A", 3, "http://127.0.0.1:9", "t-a", None);
            config.require_client_certificates = true;
            configure(config)
        });
        let server_tls = DevTls::load_or_create(&edge.dir.path().join("tls")).unwrap();
        let config = server_tls
            .server_config_with_client_auth(
                vec![ca.certificate.der().clone()],
                vec![ca.crl(&[REVOKED_SERIAL]).into()],
            )
            .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(edge_agent::run_tls(
            listener,
            edge.state.clone(),
            config,
            async move {
                let _ = stopped.await;
            },
        ));
        MtlsEdge {
            url,
            server_ca: server_tls.ca_der().to_vec(),
            stop,
            server,
            edge,
        }
    }

    /// A client trusting the server, presenting `certificate` if any.
    fn client(&self, certificate: Option<&Issued>) -> reqwest::Client {
        let mut builder = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_der(&self.server_ca).unwrap())
            .timeout(std::time::Duration::from_secs(10));
        if let Some(issued) = certificate {
            builder = builder.identity(reqwest::Identity::from_pem(issued.pem.as_bytes()).unwrap());
        }
        builder.build().unwrap()
    }

    /// `GET /v1/hospitals` (a tablet route): the status, or `None` when the connection
    /// failed (the handshake refused the certificate).
    async fn hospitals_status(&self, client: &reqwest::Client) -> Option<StatusCode> {
        client
            .get(format!("{}/v1/hospitals", self.url))
            .send()
            .await
            .ok()
            .map(|response| response.status())
    }

    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn mtls_only_a_valid_registered_certificate_reaches_a_tablet_route() {
    let ca = ClientCa::new("Test device CA");
    let wrong_ca = ClientCa::new("Test device CA");
    let edge = MtlsEdge::start(&ca).await;
    let valid = ca.issue(&tablet(UNIT), VALID_SERIAL, 2024, 2090);
    let expired = ca.issue(&tablet(UNIT), &[0x10, 0x03], 2020, 2021);
    let revoked = ca.issue(&tablet(UNIT), REVOKED_SERIAL, 2024, 2090);
    let foreign = wrong_ca.issue(&tablet(UNIT), VALID_SERIAL, 2024, 2090);
    let hospital = ca.issue(
        &ClientIdentity::Hospital {
            hospital_id: "hosp-a".into(),
        },
        &[0x20, 0x01],
        2024,
        2090,
    );
    let other_unit = ca.issue(
        &tablet("目黒救急2 Meguro Ambulance 2"),
        &[0x10, 0x04],
        2024,
        2090,
    );

    let check = |name: &'static str, certificate: Option<&Issued>, expected: Option<StatusCode>| {
        let client = edge.client(certificate);
        let edge = &edge;
        async move {
            assert_eq!(edge.hospitals_status(&client).await, expected, "{name}");
        }
    };
    check("valid", Some(&valid), Some(StatusCode::OK)).await;
    check("expired", Some(&expired), None).await;
    check("revoked", Some(&revoked), None).await;
    check("wrong CA", Some(&foreign), None).await;
    check("no certificate", None, Some(StatusCode::UNAUTHORIZED)).await;
    check(
        "hospital on a tablet route",
        Some(&hospital),
        // Identified, but the route table does not allow its role.
        Some(StatusCode::FORBIDDEN),
    )
    .await;
    check(
        "another unit",
        Some(&other_unit),
        Some(StatusCode::UNAUTHORIZED),
    )
    .await;

    // A valid tablet token alone is refused once certificates are required.
    let bearer = edge
        .client(None)
        .get(format!("{}/v1/hospitals", edge.url))
        .bearer_auth(DEVICE)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);

    // The hospital's certificate identifies it on its own route (the handoff is unknown:
    // 404, not 401); a tablet's does not.
    let decision = |certificate: &Issued| {
        edge.client(Some(certificate))
            .post(format!(
                "{}/v1/hospital/handoffs/{}/decision",
                edge.url,
                uuid::Uuid::new_v4()
            ))
            .json(&serde_json::json!({"decision": "accepted"}))
            .send()
    };
    assert_eq!(
        decision(&hospital).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // A tablet's certificate identifies a paramedic, whom the hospital route refuses.
    assert_eq!(
        decision(&valid).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Browsers without a certificate still reach the public routes.
    let health = edge
        .client(None)
        .get(format!("{}/healthz", edge.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    edge.stop().await;
}

#[tokio::test]
async fn mtls_access_records_name_the_calling_certificate() {
    let ca = ClientCa::new("Test device CA");
    let edge = MtlsEdge::start(&ca).await;
    let valid = ca.issue(&tablet(UNIT), VALID_SERIAL, 2024, 2090);
    let client = edge.client(Some(&valid));
    let incident = myna_domain::access::IncidentId(uuid::Uuid::new_v4());
    let index = carded_patient(0);
    let opened = client
        .post(format!("{}/v1/incidents", edge.url))
        .json(&open_request(incident, &card_for(index)))
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::CREATED);
    let consent = client
        .put(format!("{}/v1/incidents/{incident}/consent", edge.url))
        .header("content-type", "application/json")
        .body(r#"{"decision":"given"}"#)
        .send()
        .await
        .unwrap();
    assert!(consent.status().is_success(), "{}", consent.status());
    let summary = client
        .get(format!("{}/v1/incidents/{incident}/summary", edge.url))
        .send()
        .await
        .unwrap();
    assert_eq!(summary.status(), StatusCode::OK);

    let certificate = parse_client_certificate(&valid.der).unwrap();
    let ClientIdentity::Device {
        fire_department,
        unit,
        device_id,
    } = certificate.identity
    else {
        unreachable!("a tablet's certificate")
    };
    let log = edge.edge.access_log();
    let view = log
        .iter()
        .find(|r| r.action == AccessAction::ViewSummary)
        .expect("the disclosure is logged");
    assert!(matches!(view.outcome, AccessOutcome::Disclosed { .. }));
    assert_eq!(view.viewer.device_id.as_deref(), Some(device_id.as_str()));
    assert_eq!(view.viewer.unit.as_deref(), Some(unit.as_str()));
    assert_eq!(view.viewer.institution.id, fire_department);
    assert_eq!(view.viewer.certificate_serial.as_deref(), Some("1001"));
    assert_eq!(certificate.serial, "1001");
    // Every record of the request names the certificate.
    assert!(
        log.iter()
            .all(|r| r.viewer.certificate_serial.as_deref() == Some("1001")),
        "{log:?}"
    );
    edge.stop().await;
}

/// Tablets over mTLS are rate-limited each by its certificate, not by their address:
/// ambulance tablets may reach the edge through one carrier NAT address.
#[tokio::test]
async fn mtls_tablets_are_rate_limited_per_certificate_not_per_address() {
    use edge_agent::config::{RateLimit, RateLimits};
    let ca = ClientCa::new("Myna Test Device CA");
    let edge = MtlsEdge::start_with(&ca, |mut config| {
        config.rate_limits = RateLimits {
            per_caller: RateLimit::new(3, 1),
            per_address: RateLimit::new(5, 1),
        };
        config
    })
    .await;
    let first = ca.issue(&tablet(UNIT), VALID_SERIAL, 2024, 2090);
    let second = ca.issue(
        &ClientIdentity::Device {
            fire_department: "fd-tokyo".into(),
            unit: "目黒救急2 Meguro Ambulance 2".into(),
            device_id: "tablet-tfd-0002".into(),
        },
        &[0x10, 0x05],
        2024,
        2090,
    );
    let hospitals = |certificate: &Issued| {
        edge.client(Some(certificate))
            .get(format!("{}/v1/hospitals", edge.url))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(hospitals(&first).await.unwrap().status().as_u16());
    }
    // The first tablet's own burst of 3 is spent; the shared address's 5 is not.
    assert_eq!(statuses, [200, 200, 200, 429]);
    // The second tablet, from the same address, has its own limit.
    for _ in 0..3 {
        assert_eq!(hospitals(&second).await.unwrap().status(), StatusCode::OK);
    }
    edge.stop().await;
}
