//! The facts the edge needs from a card's JPKI user-authentication certificate.
//!
//! The certificate (JPKI AP, EF 000A) is readable without a PIN and carries no name or
//! address: the record system links it to a patient by issuer and serial number, the way
//! online qualification checks (オンライン資格確認) link a card to an insured person.
//! Parsing uses `x509-parser` (maintained by the Rusticata project); nothing here is
//! hand-written DER.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::{Error, Result};

/// The identifying facts of a card certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardCertificate {
    /// Issuer distinguished name, RFC 4514 form.
    pub issuer: String,
    /// Serial number, lowercase hex without separators.
    pub serial_hex: String,
    /// Start of validity.
    pub not_before: DateTime<Utc>,
    /// End of validity.
    pub not_after: DateTime<Utc>,
}

/// Whether a certificate is usable at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validity {
    /// Within its validity period.
    Valid,
    /// Past `not_after`: the card must be renewed.
    Expired,
    /// Before `not_before`.
    NotYetValid,
}

impl CardCertificate {
    /// Parses DER. Trailing bytes after the certificate are rejected.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let (rest, cert) = X509Certificate::from_der(der)
            .map_err(|e| Error::CertificateMalformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(Error::CertificateMalformed(format!(
                "{} trailing bytes",
                rest.len()
            )));
        }
        let time = |t: x509_parser::time::ASN1Time| {
            DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
                .ok_or_else(|| Error::CertificateMalformed("validity out of range".into()))
        };
        Ok(CardCertificate {
            issuer: cert.issuer().to_string(),
            serial_hex: hex_lower(cert.raw_serial()),
            not_before: time(cert.validity().not_before)?,
            not_after: time(cert.validity().not_after)?,
        })
    }

    /// Validity at `now`.
    pub fn validity_at(&self, now: DateTime<Utc>) -> Validity {
        if now < self.not_before {
            Validity::NotYetValid
        } else if now > self.not_after {
            Validity::Expired
        } else {
            Validity::Valid
        }
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    // Leading zero octets of a DER INTEGER are sign padding, not part of the number.
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &bytes[bytes.len().saturating_sub(1)..],
    };
    trimmed.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cert(serial: &[u8]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2029, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn reads_serial_and_validity() {
        let parsed = CardCertificate::from_der(&cert(&[0x01, 0xab, 0xcd])).unwrap();
        assert_eq!(parsed.serial_hex, "01abcd");
        let at = |y| Utc.with_ymd_and_hms(y, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(parsed.validity_at(at(2023)), Validity::NotYetValid);
        assert_eq!(parsed.validity_at(at(2026)), Validity::Valid);
        assert_eq!(parsed.validity_at(at(2030)), Validity::Expired);
    }

    #[test]
    fn rejects_truncated_and_padded_der() {
        let der = cert(&[0x42]);
        for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
            assert!(
                CardCertificate::from_der(&der[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut padded = der.clone();
        padded.push(0);
        assert!(CardCertificate::from_der(&padded).is_err());
    }
}
