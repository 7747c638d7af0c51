//! Who a client certificate (mTLS) says the caller is: a tablet of an ambulance unit of a
//! fire department, a receiving hospital's hospital-view, the edge-agent itself (when it
//! delivers arrival notices to a hospital-view), or a member of staff (a privacy officer or
//! an operator) calling the edge's oversight routes.
//!
//! The deployment's CA writes the identity into one subject-alternative-name URI:
//!
//! - `urn:myna:device:<fire-department-id>:<unit>:<device-id>` for a tablet,
//! - `urn:myna:hospital:<hospital-id>` for a hospital-view instance,
//! - `urn:myna:edge:<edge-id>` for an edge-agent (its id is its access log's origin),
//! - `urn:myna:staff:<role>:<staff-id>` for a member of staff, `<role>` being `officer` or
//!   `operator`. The certificate alone grants nothing: the edge also needs an enabled
//!   account with that id and role.
//!
//! Each component is percent-encoded UTF-8 (a SAN URI is ASCII, and unit names hold
//! Japanese and spaces; `:` and `%` inside a component are encoded too). The subject's
//! O/OU/CN carry the same facts readably, but only the URI is authoritative.
//!
//! Parsing is pure: whether the certificate chains to the deployment's CA, is unexpired and
//! unrevoked is the TLS handshake's business (rustls), done before this is called.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Scheme prefix of every identity URI.
pub const URN_PREFIX: &str = "urn:myna:";

/// Longest accepted identity component, in bytes after decoding.
pub const MAX_COMPONENT_BYTES: usize = 256;

/// Characters encoded in a component: controls, space, and everything a URI or our
/// separator gives meaning to.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The identity a client certificate carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientIdentity {
    /// A tablet (端末) of an ambulance unit.
    Device {
        /// Fire department institution id, e.g. `fd-tokyo`.
        fire_department: String,
        /// Ambulance unit, as registered.
        unit: String,
        /// Device id, as registered.
        device_id: String,
    },
    /// A receiving hospital's hospital-view.
    Hospital {
        /// Hospital institution id.
        hospital_id: String,
    },
    /// An edge-agent, as the client delivering arrival notices to hospital-views.
    Edge {
        /// The edge's id: its access log's origin, e.g. `myna-edge.local/log`.
        edge_id: String,
    },
    /// A member of staff: a privacy officer or an operator.
    Staff {
        /// What the member of staff does.
        role: StaffRole,
        /// Their account id, as registered on the edge.
        id: String,
    },
}

/// The role a staff certificate (and a staff account) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// A privacy officer (個人情報保護担当): the review queue and the security log.
    Officer,
    /// An operator (運用担当): disaster declarations and the security log.
    Operator,
}

impl StaffRole {
    /// Every role.
    pub const ALL: [StaffRole; 2] = [StaffRole::Officer, StaffRole::Operator];

    /// The role's name in identity URIs, account tables and commands.
    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Officer => "officer",
            StaffRole::Operator => "operator",
        }
    }

    /// The role named `code`, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        StaffRole::ALL.into_iter().find(|role| role.code() == code)
    }
}

impl std::fmt::Display for StaffRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A verified client certificate's identity and serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// Who the certificate names.
    pub identity: ClientIdentity,
    /// The certificate's serial number, lower-case hex without separators (as the CA and
    /// its revocation list name it).
    pub serial: String,
}

/// Why a certificate or URI names no usable identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientIdentityError {
    /// The certificate is not X.509 DER.
    #[error("client certificate is not valid X.509 DER")]
    Malformed,
    /// No `urn:myna:` SAN URI.
    #[error("client certificate names no myna identity")]
    Missing,
    /// More than one `urn:myna:` SAN URI: ambiguous, refused.
    #[error("client certificate names more than one myna identity")]
    Duplicate,
    /// The URI starts with `urn:myna:` but is not one of the known forms.
    #[error("client identity URI is malformed: {0}")]
    InvalidUri(&'static str),
}

impl ClientIdentity {
    /// The SAN URI for this identity.
    pub fn to_uri(&self) -> String {
        let encode = |s: &str| utf8_percent_encode(s, COMPONENT).to_string();
        match self {
            ClientIdentity::Device {
                fire_department,
                unit,
                device_id,
            } => format!(
                "{URN_PREFIX}device:{}:{}:{}",
                encode(fire_department),
                encode(unit),
                encode(device_id)
            ),
            ClientIdentity::Hospital { hospital_id } => {
                format!("{URN_PREFIX}hospital:{}", encode(hospital_id))
            }
            ClientIdentity::Edge { edge_id } => {
                format!("{URN_PREFIX}edge:{}", encode(edge_id))
            }
            ClientIdentity::Staff { role, id } => {
                format!("{URN_PREFIX}staff:{}:{}", role.code(), encode(id))
            }
        }
    }

    /// Parses an identity URI (any form; see the module docs).
    pub fn from_uri(uri: &str) -> Result<Self, ClientIdentityError> {
        let rest = uri
            .strip_prefix(URN_PREFIX)
            .ok_or(ClientIdentityError::InvalidUri("not a urn:myna: URI"))?;
        let (kind, rest) = rest
            .split_once(':')
            .ok_or(ClientIdentityError::InvalidUri("no identity kind"))?;
        let parts: Vec<&str> = rest.split(':').collect();
        match (kind, parts.as_slice()) {
            ("device", [fire_department, unit, device_id]) => Ok(ClientIdentity::Device {
                fire_department: component(fire_department)?,
                unit: component(unit)?,
                device_id: component(device_id)?,
            }),
            ("device", _) => Err(ClientIdentityError::InvalidUri(
                "a device needs fire department, unit and device id",
            )),
            ("hospital", [hospital_id]) => Ok(ClientIdentity::Hospital {
                hospital_id: component(hospital_id)?,
            }),
            ("hospital", _) => Err(ClientIdentityError::InvalidUri(
                "a hospital needs exactly one id",
            )),
            ("edge", [edge_id]) => Ok(ClientIdentity::Edge {
                edge_id: component(edge_id)?,
            }),
            ("edge", _) => Err(ClientIdentityError::InvalidUri(
                "an edge needs exactly one id",
            )),
            ("staff", [role, id]) => Ok(ClientIdentity::Staff {
                role: StaffRole::from_code(role).ok_or(ClientIdentityError::InvalidUri(
                    "a staff role is officer or operator",
                ))?,
                id: component(id)?,
            }),
            ("staff", _) => Err(ClientIdentityError::InvalidUri(
                "a member of staff needs a role and an id",
            )),
            _ => Err(ClientIdentityError::InvalidUri("unknown identity kind")),
        }
    }
}

/// One decoded, non-empty, bounded component without control characters.
fn component(encoded: &str) -> Result<String, ClientIdentityError> {
    let decoded = percent_decode_str(encoded)
        .decode_utf8()
        .map_err(|_| ClientIdentityError::InvalidUri("component is not UTF-8"))?;
    if decoded.is_empty() {
        return Err(ClientIdentityError::InvalidUri("empty component"));
    }
    if decoded.len() > MAX_COMPONENT_BYTES {
        return Err(ClientIdentityError::InvalidUri("component too long"));
    }
    if decoded.chars().any(char::is_control) {
        return Err(ClientIdentityError::InvalidUri("control character"));
    }
    Ok(decoded.into_owned())
}

/// Reads the identity and serial of a client certificate (DER). Exactly one
/// `urn:myna:` SAN URI must be present; other SAN entries are ignored.
pub fn parse_client_certificate(der: &[u8]) -> Result<ClientCertificate, ClientIdentityError> {
    let (rest, certificate) =
        X509Certificate::from_der(der).map_err(|_| ClientIdentityError::Malformed)?;
    if !rest.is_empty() {
        return Err(ClientIdentityError::Malformed);
    }
    let names = certificate
        .subject_alternative_name()
        .map_err(|_| ClientIdentityError::Malformed)?;
    let mut uris = names
        .iter()
        .flat_map(|san| san.value.general_names.iter())
        .filter_map(|name| match name {
            GeneralName::URI(uri) if uri.starts_with(URN_PREFIX) => Some(*uri),
            _ => None,
        });
    let uri = uris.next().ok_or(ClientIdentityError::Missing)?;
    if uris.next().is_some() {
        return Err(ClientIdentityError::Duplicate);
    }
    Ok(ClientCertificate {
        identity: ClientIdentity::from_uri(uri)?,
        serial: hex_lower(certificate.raw_serial()),
    })
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rcgen::{CertificateParams, KeyPair, SanType, SerialNumber};

    use super::*;

    fn device() -> ClientIdentity {
        ClientIdentity::Device {
            fire_department: "fd-tokyo".into(),
            unit: "世田谷救急1 Setagaya Ambulance 1".into(),
            device_id: "tablet-tfd-0001".into(),
        }
    }

    fn certificate(uris: &[&str]) -> Vec<u8> {
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.serial_number = Some(SerialNumber::from_slice(&[0x0a, 0xbc, 0x01]));
        for uri in uris {
            params
                .subject_alt_names
                .push(SanType::URI((*uri).try_into().unwrap()));
        }
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    #[test]
    fn uris_round_trip_with_encoded_components() {
        let uri = device().to_uri();
        assert_eq!(
            uri,
            "urn:myna:device:fd-tokyo:%E4%B8%96%E7%94%B0%E8%B0%B7%E6%95%91%E6%80%A51%20Setagaya%20Ambulance%201:tablet-tfd-0001"
        );
        assert_eq!(ClientIdentity::from_uri(&uri).unwrap(), device());
        let odd = ClientIdentity::Hospital {
            hospital_id: "a:b%c/d".into(),
        };
        assert_eq!(odd.to_uri(), "urn:myna:hospital:a%3Ab%25c%2Fd");
        assert_eq!(ClientIdentity::from_uri(&odd.to_uri()).unwrap(), odd);
        // A log origin holds a `/`: encoded, and back.
        let edge = ClientIdentity::Edge {
            edge_id: "myna-edge.local/log".into(),
        };
        assert_eq!(edge.to_uri(), "urn:myna:edge:myna-edge.local%2Flog");
        assert_eq!(ClientIdentity::from_uri(&edge.to_uri()).unwrap(), edge);
        let officer = ClientIdentity::Staff {
            role: StaffRole::Officer,
            id: "po:佐藤 1".into(),
        };
        assert_eq!(
            officer.to_uri(),
            "urn:myna:staff:officer:po%3A%E4%BD%90%E8%97%A4%201"
        );
        assert_eq!(
            ClientIdentity::from_uri(&officer.to_uri()).unwrap(),
            officer
        );
        let operator = ClientIdentity::Staff {
            role: StaffRole::Operator,
            id: "op-1".into(),
        };
        assert_eq!(operator.to_uri(), "urn:myna:staff:operator:op-1");
        assert_eq!(
            ClientIdentity::from_uri(&operator.to_uri()).unwrap(),
            operator
        );
    }

    #[test]
    fn malformed_uris_are_typed_errors() {
        for uri in [
            "urn:other:device:a:b:c",
            "urn:myna:",
            "urn:myna:device",
            "urn:myna:device:a:b",
            "urn:myna:device:a:b:c:d",
            "urn:myna:device:a::c",
            "urn:myna:hospital:",
            "urn:myna:hospital:a:b",
            "urn:myna:patient:p1",
            "urn:myna:hospital:%FF",
            "urn:myna:hospital:a%0Ab",
            "urn:myna:edge:",
            "urn:myna:edge",
            "urn:myna:edge:a:b",
            "urn:myna:staff:officer",
            "urn:myna:staff:officer:",
            "urn:myna:staff:admin:root",
            "urn:myna:staff:Officer:po-1",
            "urn:myna:staff:officer:po-1:extra",
            "urn:myna:staff:po-1",
        ] {
            assert!(
                matches!(
                    ClientIdentity::from_uri(uri),
                    Err(ClientIdentityError::InvalidUri(_))
                ),
                "{uri}"
            );
        }
        let long = format!("urn:myna:hospital:{}", "x".repeat(MAX_COMPONENT_BYTES + 1));
        assert!(ClientIdentity::from_uri(&long).is_err());
    }

    #[test]
    fn a_certificate_names_its_identity_and_serial() {
        let der = certificate(&["https://example.org/", &device().to_uri()]);
        assert_eq!(
            parse_client_certificate(&der).unwrap(),
            ClientCertificate {
                identity: device(),
                serial: "0abc01".into(),
            }
        );
    }

    #[test]
    fn missing_duplicate_and_malformed_identities_are_refused() {
        assert_eq!(
            parse_client_certificate(&certificate(&[])),
            Err(ClientIdentityError::Missing)
        );
        let hospital = "urn:myna:hospital:hosp-1";
        assert_eq!(
            parse_client_certificate(&certificate(&[hospital, &device().to_uri()])),
            Err(ClientIdentityError::Duplicate)
        );
        assert!(matches!(
            parse_client_certificate(&certificate(&["urn:myna:device:x"])),
            Err(ClientIdentityError::InvalidUri(_))
        ));
        assert_eq!(
            parse_client_certificate(b"not der"),
            Err(ClientIdentityError::Malformed)
        );
        let mut trailing = certificate(&[hospital]);
        trailing.push(0);
        assert_eq!(
            parse_client_certificate(&trailing),
            Err(ClientIdentityError::Malformed)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_der_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_client_certificate(&bytes);
        }

        #[test]
        fn arbitrary_uris_never_panic(uri in "(urn:myna:)?(device|hospital|edge|staff)?:?\\PC{0,80}") {
            let _ = ClientIdentity::from_uri(&uri);
        }

        #[test]
        fn every_identity_round_trips(
            fire_department in "[^\\p{Cc}]{1,40}",
            unit in "[^\\p{Cc}]{1,40}",
            device_id in "[^\\p{Cc}]{1,40}",
        ) {
            let edge = ClientIdentity::Edge { edge_id: unit.clone() };
            prop_assert_eq!(ClientIdentity::from_uri(&edge.to_uri()).unwrap(), edge);
            for role in StaffRole::ALL {
                let staff = ClientIdentity::Staff { role, id: device_id.clone() };
                prop_assert_eq!(ClientIdentity::from_uri(&staff.to_uri()).unwrap(), staff);
            }
            let identity = ClientIdentity::Device { fire_department, unit, device_id };
            prop_assert_eq!(ClientIdentity::from_uri(&identity.to_uri()).unwrap(), identity);
        }
    }
}
