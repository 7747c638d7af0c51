//! Development client certificates (mTLS) for the configured tablets and hospitals, issued
//! by the development CA of `myna_service::dev_tls` with the identity scheme of
//! [`myna_domain::client_identity`].
//!
//! `edge-agent --tls` calls [`issue_for_config`] at start: each device gets
//! `<tls-dir>/clients/<device-id>.pem` (+ `-key.pem`), each hospital `hospital-<id>.pem`,
//! and the edge itself `edge.pem`: the client certificate its relay presents to
//! hospital-views served over TLS (`urn:myna:edge:<log origin>`). [`staff_credentials`]
//! issues a privacy officer's or an operator's (`staff-<role>-<id>.pem`), which the edge
//! accepts only while an enabled account of that id and role exists (`edge-agent admin`).
//! Production certificates come from the deployment's CA, not from here.

use myna_domain::client_identity::{ClientIdentity, StaffRole};
use myna_service::dev_tls::{ClientCredentials, ClientSubject, DevTls};

use crate::config::{Config, DeviceRegistration, HospitalEndpoint, RelayTls};

/// The certificate subject naming `device`.
pub fn device_subject(device: &DeviceRegistration) -> ClientSubject {
    ClientSubject {
        organization: device.fire_department.id.clone(),
        organizational_unit: device.unit.clone(),
        common_name: device.device_id.clone(),
        uri: ClientIdentity::Device {
            fire_department: device.fire_department.id.clone(),
            unit: device.unit.clone(),
            device_id: device.device_id.clone(),
        }
        .to_uri(),
    }
}

/// The certificate subject naming `hospital`.
pub fn hospital_subject(hospital: &HospitalEndpoint) -> ClientSubject {
    ClientSubject {
        organization: hospital.institution.id.clone(),
        organizational_unit: String::new(),
        common_name: format!("hospital-view {}", hospital.institution.id),
        uri: ClientIdentity::Hospital {
            hospital_id: hospital.institution.id.clone(),
        }
        .to_uri(),
    }
}

/// The certificate subject naming this edge (its id is its log origin).
pub fn edge_subject(config: &Config) -> ClientSubject {
    ClientSubject {
        organization: "myna-edge".into(),
        organizational_unit: String::new(),
        common_name: format!("edge-agent {}", config.log_origin),
        uri: ClientIdentity::Edge {
            edge_id: config.log_origin.clone(),
        }
        .to_uri(),
    }
}

/// The certificate subject naming a member of staff.
pub fn staff_subject(role: StaffRole, id: &str) -> ClientSubject {
    ClientSubject {
        organization: "myna-staff".into(),
        organizational_unit: role.code().into(),
        common_name: id.into(),
        uri: ClientIdentity::Staff {
            role,
            id: id.into(),
        }
        .to_uri(),
    }
}

/// A privacy officer's or operator's development client certificate, issued on first use
/// and kept.
pub fn staff_credentials(
    tls: &DevTls,
    role: StaffRole,
    id: &str,
) -> myna_service::Result<ClientCredentials> {
    tls.client_certificate(
        &file_stem(&format!("staff-{role}-"), id),
        &staff_subject(role, id),
    )
}

/// File stem of an id: ASCII letters, digits, `-`, `_`, `.` kept, anything else `_`.
fn file_stem(prefix: &str, id: &str) -> String {
    let id: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{id}")
}

/// `device`'s development client certificate, issued on first use and kept.
pub fn device_credentials(
    tls: &DevTls,
    device: &DeviceRegistration,
) -> myna_service::Result<ClientCredentials> {
    tls.client_certificate(&file_stem("", &device.device_id), &device_subject(device))
}

/// `hospital`'s development client certificate, issued on first use and kept.
pub fn hospital_credentials(
    tls: &DevTls,
    hospital: &HospitalEndpoint,
) -> myna_service::Result<ClientCredentials> {
    tls.client_certificate(
        &file_stem("hospital-", &hospital.institution.id),
        &hospital_subject(hospital),
    )
}

/// The edge's own development client certificate (`clients/edge.pem`), issued on first
/// use and kept; its relay presents it to hospital-views.
pub fn edge_credentials(tls: &DevTls, config: &Config) -> myna_service::Result<ClientCredentials> {
    tls.client_certificate("edge", &edge_subject(config))
}

/// The relay's TLS settings from the development CA: hospital-views' server certificates
/// chain to it, and the edge presents [`edge_credentials`].
pub fn dev_relay_tls(tls: &DevTls, config: &Config) -> myna_service::Result<RelayTls> {
    let issued = edge_credentials(tls, config)?;
    Ok(RelayTls {
        hospital_ca_ders: vec![tls.ca_der().to_vec()],
        client_certificate_pem: issued.cert_pem,
        client_key_pem: issued.key_pem,
    })
}

/// Issues (or finds kept) client certificates for every configured device and hospital,
/// and the edge's own.
pub fn issue_for_config(tls: &DevTls, config: &Config) -> myna_service::Result<()> {
    edge_credentials(tls, config)?;
    for device in &config.devices {
        device_credentials(tls, device)?;
    }
    for hospital in &config.hospitals {
        hospital_credentials(tls, hospital)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use myna_domain::client_identity::parse_client_certificate;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    use super::*;

    #[test]
    fn every_configured_caller_gets_a_certificate_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let tls = DevTls::load_or_create(dir.path()).unwrap();
        let config = Config::local(dir.path().into()).with_hospital(
            "hosp-1",
            "Hospital 1",
            3,
            "http://h",
            "t",
            None,
        );
        issue_for_config(&tls, &config).unwrap();
        for device in &config.devices {
            let pem = device_credentials(&tls, device).unwrap().cert_pem;
            let der = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
            assert_eq!(
                parse_client_certificate(&der).unwrap().identity,
                ClientIdentity::Device {
                    fire_department: device.fire_department.id.clone(),
                    unit: device.unit.clone(),
                    device_id: device.device_id.clone(),
                }
            );
        }
        let hospital = hospital_credentials(&tls, &config.hospitals[0]).unwrap();
        assert!(hospital.cert_path.ends_with("clients/hospital-hosp-1.pem"));
        let edge = edge_credentials(&tls, &config).unwrap();
        assert!(edge.cert_path.ends_with("clients/edge.pem"));
        let der = CertificateDer::from_pem_slice(edge.cert_pem.as_bytes()).unwrap();
        assert_eq!(
            parse_client_certificate(&der).unwrap().identity,
            ClientIdentity::Edge {
                edge_id: config.log_origin.clone()
            }
        );
        assert_eq!(file_stem("x-", "a/b c"), "x-a_b_c");
        let officer = staff_credentials(&tls, StaffRole::Officer, "po-1").unwrap();
        assert!(
            officer
                .cert_path
                .ends_with("clients/staff-officer-po-1.pem")
        );
        let der = CertificateDer::from_pem_slice(officer.cert_pem.as_bytes()).unwrap();
        assert_eq!(
            parse_client_certificate(&der).unwrap().identity,
            ClientIdentity::Staff {
                role: StaffRole::Officer,
                id: "po-1".into()
            }
        );
    }
}
