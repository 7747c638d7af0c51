//! Development TLS certificates: a local CA and a loopback server certificate, made once and
//! kept.
//!
//! On first start [`DevTls::load_or_create`] generates a self-signed development CA
//! ("My Number emergency dev CA 1a2b3c4d", the tag from its key) and a server certificate
//! it signs for `localhost`, `127.0.0.1` and `::1`, and writes them into a directory:
//!
//! - `ca.pem`: the CA certificate, to give to clients (tablets pin it);
//! - `server.pem`: the server certificate;
//! - `server-key.pem`: the server's private key (mode 0600 on unix);
//! - `ca-key.pem`: the CA's private key (mode 0600), so that client certificates (mTLS) can
//!   be issued for tablets and hospitals added after the first start;
//! - `clients/<name>.pem` and `clients/<name>-key.pem` (0600): client certificates issued
//!   with [`DevTls::client_certificate`], one pair per tablet or hospital.
//!
//! Later starts load these files and never regenerate them: a new CA would break every
//! tablet that pinned the old one. Keeping the CA key is a development-only choice (a
//! stolen `ca-key.pem` lets anyone mint device certificates for this dev CA, which protects
//! synthetic data on loopback); directories made before the key was kept still serve, but
//! issue no client certificates. Every certificate keeps rcgen's default validity (until
//! the year 4096), so none needs reissuing. Development only: production certificates come
//! from the deployment's own CA (`edge-agent --client-ca`).

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// File name of the CA certificate (PEM) in the certificate directory.
pub const CA_FILE: &str = "ca.pem";
/// File name of the server certificate (PEM).
pub const SERVER_CERT_FILE: &str = "server.pem";
/// File name of the server's private key (PEM, PKCS#8).
pub const SERVER_KEY_FILE: &str = "server-key.pem";
/// File name of the CA's private key (PEM, PKCS#8).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Directory (inside the certificate directory) of issued client certificates.
pub const CLIENTS_DIR: &str = "clients";

/// Common name of the development CA, followed by a tag of its key.
pub const DEV_CA_NAME: &str = "My Number emergency dev CA";

/// The development certificates of one server, ready to serve with.
#[derive(Clone)]
pub struct DevTls {
    server_config: Arc<ServerConfig>,
    mtls_server_config: Arc<ServerConfig>,
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    ca_path: PathBuf,
    /// The CA key (PEM), absent in directories made before it was kept.
    ca_key_pem: Option<Arc<str>>,
}

/// What a client certificate names: the subject's readable O/OU/CN and the identity URI
/// (a SAN) that servers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSubject {
    /// Organisation (O): the fire department or hospital.
    pub organization: String,
    /// Organisational unit (OU), e.g. the ambulance unit; empty for none.
    pub organizational_unit: String,
    /// Common name (CN), e.g. the device id.
    pub common_name: String,
    /// The identity URI (ASCII), e.g. `urn:myna:device:...`.
    pub uri: String,
}

/// An issued client certificate and its key, as PEM and where they are kept.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client certificate (PEM).
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub key_pem: String,
    /// Where the certificate is.
    pub cert_path: PathBuf,
    /// Where the key is (mode 0600).
    pub key_path: PathBuf,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DevTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevTls")
            .field("ca_path", &self.ca_path)
            .finish_non_exhaustive()
    }
}

impl DevTls {
    /// Loads the certificates in `dir`, or, when it holds no CA certificate yet, creates the
    /// directory and a new CA and server certificate in it. A CA without its server
    /// certificate or key is an error (the CA key is gone, so the pair cannot be remade
    /// without a new CA that clients would have to trust again).
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        let ca_path = dir.join(CA_FILE);
        if !ca_path.exists() {
            std::fs::create_dir_all(dir)?;
            create(dir)?;
            tracing::info!(ca = %ca_path.display(), "created development TLS certificates");
        }
        Self::load(dir)
    }

    /// Loads `ca.pem`, `server.pem` and `server-key.pem` from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let ca_path = dir.join(CA_FILE);
        let ca_pem = std::fs::read_to_string(&ca_path)?;
        let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
            .map_err(|error| pem_error(&ca_path, error))?;
        let cert_path = dir.join(SERVER_CERT_FILE);
        let chain = CertificateDer::pem_file_iter(&cert_path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|error| pem_error(&cert_path, error))?;
        let key_path = dir.join(SERVER_KEY_FILE);
        let key =
            PrivateKeyDer::from_pem_file(&key_path).map_err(|error| pem_error(&key_path, error))?;
        let ca_key_path = dir.join(CA_KEY_FILE);
        let ca_key_pem = match std::fs::read_to_string(&ca_key_path) {
            Ok(pem) => {
                // A key that is not this CA's would issue certificates no server accepts.
                // The key's public point is a run of bytes inside its certificate's
                // SubjectPublicKeyInfo; another key's is not (without an X.509 parser here).
                let ca_key = KeyPair::from_pem(&pem)?;
                let public = ca_key.public_key_raw();
                if !ca_der.windows(public.len()).any(|w| w == public) {
                    return Err(Error::Certificate(format!(
                        "{} is not the key of {}",
                        ca_key_path.display(),
                        ca_path.display()
                    )));
                }
                Some(Arc::from(pem))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(error.into()),
        };
        Ok(DevTls {
            server_config: crate::tls::server_config(chain.clone(), key.clone_key())?,
            mtls_server_config: crate::tls::server_config_with_client_auth(
                chain.clone(),
                key.clone_key(),
                vec![ca_der.clone()],
                Vec::new(),
            )?,
            chain,
            key: Arc::new(key),
            ca_der,
            ca_pem,
            ca_path,
            ca_key_pem,
        })
    }

    /// The server configuration: the server certificate, ALPN `h2` and `http/1.1`.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.server_config)
    }

    /// [`DevTls::server_config`] that also verifies client certificates issued by this CA
    /// (clients without one are let in unidentified; see
    /// [`crate::tls::server_config_with_client_auth`]).
    pub fn mtls_server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.mtls_server_config)
    }

    /// The development server certificate verifying client certificates against another
    /// CA (`client_roots`, e.g. a deployment's device CA) and its revocation lists `crls`.
    pub fn server_config_with_client_auth(
        &self,
        client_roots: Vec<CertificateDer<'static>>,
        crls: Vec<rustls::pki_types::CertificateRevocationListDer<'static>>,
    ) -> Result<Arc<ServerConfig>> {
        crate::tls::server_config_with_client_auth(
            self.chain.clone(),
            self.key.clone_key(),
            client_roots,
            crls,
        )
    }

    /// The client certificate `name` (a file stem: ASCII letters, digits, `-`, `_`, `.`)
    /// from `clients/`, issued by this CA for `subject` on first use and kept. A kept
    /// certificate is returned as it is, whatever `subject` says now: delete its files to
    /// reissue. Fails when the CA key is not kept (an older directory) or `name` is not a
    /// plain file stem.
    pub fn client_certificate(
        &self,
        name: &str,
        subject: &ClientSubject,
    ) -> Result<ClientCredentials> {
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.starts_with('.') || !name.chars().all(plain) {
            return Err(Error::Certificate(format!(
                "client certificate name {name:?} is not a plain file name"
            )));
        }
        let dir = self
            .ca_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(CLIENTS_DIR);
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}-key.pem"));
        if cert_path.exists() && key_path.exists() {
            return Ok(ClientCredentials {
                cert_pem: std::fs::read_to_string(&cert_path)?,
                key_pem: std::fs::read_to_string(&key_path)?,
                cert_path,
                key_path,
            });
        }
        let ca_key_pem = self.ca_key_pem.as_deref().ok_or_else(|| {
            Error::Certificate(format!(
                "{} has no {CA_KEY_FILE}: client certificates cannot be issued (remove the \
                 directory to make a new development CA)",
                self.ca_path.display()
            ))
        })?;
        let ca_key = KeyPair::from_pem(ca_key_pem)?;
        let ca = ca_certificate(&ca_key)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut distinguished_name = DistinguishedName::new();
        distinguished_name.push(DnType::OrganizationName, subject.organization.as_str());
        if !subject.organizational_unit.is_empty() {
            distinguished_name.push(
                DnType::OrganizationalUnitName,
                subject.organizational_unit.as_str(),
            );
        }
        distinguished_name.push(DnType::CommonName, subject.common_name.as_str());
        params.distinguished_name = distinguished_name;
        params.subject_alt_names = vec![SanType::URI(subject.uri.as_str().try_into()?)];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let certificate = params.signed_by(&key, &ca, &ca_key)?;
        std::fs::create_dir_all(&dir)?;
        // Key first: a certificate without its key is never left behind.
        write_file(&key_path, &key.serialize_pem(), true)?;
        write_file(&cert_path, &certificate.pem(), false)?;
        sync_dir(&dir)?;
        Ok(ClientCredentials {
            cert_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
            cert_path,
            key_path,
        })
    }

    /// The CA certificate (DER), for clients to trust.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The CA certificate (PEM), as in `ca.pem`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Where the CA certificate is.
    pub fn ca_path(&self) -> &Path {
        &self.ca_path
    }
}

fn pem_error(path: &Path, error: rustls::pki_types::pem::Error) -> Error {
    Error::Certificate(format!("{}: {error}", path.display()))
}

/// Generates the CA and the server certificate and writes them, the CA last: a start that
/// died half way finds no `ca.pem` and starts over, and nothing can have pinned that CA.
fn create(dir: &Path) -> Result<()> {
    let ca_key = KeyPair::generate()?;
    let ca = ca_certificate(&ca_key)?;

    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(Vec::<String>::new())?;
    server.distinguished_name = name("My Number emergency dev server (localhost)");
    server.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
    ];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server = server.signed_by(&server_key, &ca, &ca_key)?;

    write_file(
        &dir.join(SERVER_KEY_FILE),
        &server_key.serialize_pem(),
        true,
    )?;
    write_file(&dir.join(SERVER_CERT_FILE), &server.pem(), false)?;
    write_file(&dir.join(CA_KEY_FILE), &ca_key.serialize_pem(), true)?;
    write_file(&dir.join(CA_FILE), &ca.pem(), false)?;
    sync_dir(dir)
}

/// The CA certificate of `ca_key`. Everything but the (randomised ECDSA) signature follows
/// from the key (name, validity, serial, key identifier), so issuing client certificates
/// later rebuilds the same issuer from the kept key alone, without parsing `ca.pem` back
/// into parameters.
fn ca_certificate(ca_key: &KeyPair) -> Result<rcgen::Certificate> {
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    // Each CA's name is its own (the start of its public key after the name): two
    // deployments' CAs are not mistaken for each other by name.
    let tag: String = ca_key.public_key_raw()[1..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ca.distinguished_name = name(&format!("{DEV_CA_NAME} {tag}"));
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(ca.self_signed(ca_key)?)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

/// Writes `contents` to a temporary file beside `path`, flushes it to disk and renames it
/// into place; `secret` files are readable by their owner only (unix).
fn write_file(path: &Path, contents: &str, secret: bool) -> Result<()> {
    let temporary = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&temporary)?;
    #[cfg(unix)]
    if secret {
        // A stale temporary file keeps its old mode through `create`: set it again.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    Ok(())
}

/// Makes the renames durable (unix; elsewhere a no-op).
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl From<rcgen::Error> for Error {
    fn from(error: rcgen::Error) -> Self {
        Error::Certificate(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use x509_parser::prelude::*;

    use super::*;

    #[test]
    fn first_start_creates_later_starts_reuse() {
        let dir = tempfile::tempdir().unwrap();
        let tls_dir = dir.path().join("tls");
        let first = DevTls::load_or_create(&tls_dir).unwrap();
        for file in [CA_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE] {
            assert!(tls_dir.join(file).is_file(), "{file}");
        }
        assert_eq!(first.ca_path(), tls_dir.join(CA_FILE));
        assert_eq!(
            std::fs::read_to_string(first.ca_path()).unwrap(),
            first.ca_pem()
        );
        let server_pem = std::fs::read(tls_dir.join(SERVER_CERT_FILE)).unwrap();
        let second = DevTls::load_or_create(&tls_dir).unwrap();
        assert_eq!(second.ca_der(), first.ca_der());
        assert_eq!(
            std::fs::read(tls_dir.join(SERVER_CERT_FILE)).unwrap(),
            server_pem
        );
        let other = DevTls::load_or_create(&dir.path().join("other")).unwrap();
        assert_ne!(other.ca_der(), first.ca_der());
        let subject = |der: &[u8]| {
            X509Certificate::from_der(der)
                .unwrap()
                .1
                .subject()
                .to_string()
        };
        assert_ne!(
            subject(other.ca_der()),
            subject(first.ca_der()),
            "CA names are distinct"
        );
        assert_eq!(
            first.server_config().alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_the_owner_may_read_the_key() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        DevTls::load_or_create(dir.path()).unwrap();
        let mode = |file: &str| {
            std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(SERVER_KEY_FILE), 0o600);
        assert_eq!(mode(CA_FILE) & 0o044, 0o044, "the CA is public");
    }

    #[test]
    fn ca_signs_a_loopback_server_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        let (_, ca) = X509Certificate::from_der(tls.ca_der()).unwrap();
        assert!(ca.is_ca());
        assert_eq!(ca.subject(), ca.issuer());
        assert!(ca.subject().to_string().contains(DEV_CA_NAME));
        let server_pem = std::fs::read(dir.path().join(SERVER_CERT_FILE)).unwrap();
        let server_der = CertificateDer::from_pem_slice(&server_pem).unwrap();
        let (_, server) = X509Certificate::from_der(&server_der).unwrap();
        assert!(!server.is_ca());
        assert_eq!(server.issuer(), ca.subject());
        server.verify_signature(Some(ca.public_key())).unwrap();
        let names = server.subject_alternative_name().unwrap().unwrap();
        let names: Vec<String> = names
            .value
            .general_names
            .iter()
            .map(|name| match name {
                GeneralName::DNSName(dns) => dns.to_string(),
                GeneralName::IPAddress(ip) => format!("{ip:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            names,
            vec![
                "localhost".to_string(),
                format!("{:?}", [127u8, 0, 0, 1]),
                format!("{:?}", Ipv6Addr::LOCALHOST.octets()),
            ]
        );
    }

    #[test]
    fn a_ca_without_its_server_key_is_an_error_not_a_new_ca() {
        let dir = tempfile::tempdir().unwrap();
        let first = DevTls::load_or_create(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join(SERVER_KEY_FILE)).unwrap();
        assert!(DevTls::load_or_create(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(CA_FILE)).unwrap(),
            first.ca_pem()
        );
        std::fs::write(dir.path().join(SERVER_KEY_FILE), "not a key").unwrap();
        assert!(matches!(
            DevTls::load_or_create(dir.path()),
            Err(Error::Certificate(_))
        ));
    }

    #[test]
    fn a_half_written_directory_without_ca_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SERVER_KEY_FILE), "partial").unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        assert!(
            std::fs::read_to_string(dir.path().join(SERVER_KEY_FILE))
                .unwrap()
                .contains("PRIVATE KEY")
        );
        assert_eq!(DevTls::load(dir.path()).unwrap().ca_der(), tls.ca_der());
    }

    #[test]
    fn client_certificates_are_issued_once_by_the_kept_ca_key() {
        let dir = tempfile::tempdir().unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        let subject = ClientSubject {
            organization: "fd-tokyo".into(),
            organizational_unit: "Setagaya 1".into(),
            common_name: "tablet-tfd-0001".into(),
            uri: "urn:myna:device:fd-tokyo:Setagaya%201:tablet-tfd-0001".into(),
        };
        let issued = tls.client_certificate("tablet-tfd-0001", &subject).unwrap();
        let der = CertificateDer::from_pem_slice(issued.cert_pem.as_bytes()).unwrap();
        let (_, leaf) = X509Certificate::from_der(&der).unwrap();
        let (_, ca) = X509Certificate::from_der(tls.ca_der()).unwrap();
        assert_eq!(leaf.issuer(), ca.subject());
        leaf.verify_signature(Some(ca.public_key())).unwrap();
        let subject_text = leaf.subject().to_string();
        assert!(subject_text.contains("O=fd-tokyo"), "{subject_text}");
        assert!(subject_text.contains("OU=Setagaya 1"), "{subject_text}");
        let uris: Vec<_> = leaf
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::URI(uri) => Some(uri.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(uris, vec![subject.uri.clone()]);
        // Kept: a reload returns the same certificate.
        let again = DevTls::load(dir.path())
            .unwrap()
            .client_certificate("tablet-tfd-0001", &subject)
            .unwrap();
        assert_eq!(again.cert_pem, issued.cert_pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [&issued.key_path, &dir.path().join(CA_KEY_FILE)] {
                let mode = std::fs::metadata(key).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", key.display());
            }
        }
        assert!(tls.client_certificate("../escape", &subject).is_err());
        // Without the CA key (an older directory) nothing new can be issued.
        std::fs::remove_file(dir.path().join(CA_KEY_FILE)).unwrap();
        let old = DevTls::load(dir.path()).unwrap();
        assert!(matches!(
            old.client_certificate("hospital-1", &subject),
            Err(Error::Certificate(_))
        ));
        // Another CA's key is refused.
        let other = tempfile::tempdir().unwrap();
        DevTls::load_or_create(other.path()).unwrap();
        std::fs::copy(other.path().join(CA_KEY_FILE), dir.path().join(CA_KEY_FILE)).unwrap();
        assert!(DevTls::load(dir.path()).is_err());
    }
}
