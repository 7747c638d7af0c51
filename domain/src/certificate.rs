//! The facts the edge needs from a card's JPKI user-authentication certificate, and the
//! check of the card's signature over a server challenge.
//!
//! The certificate (JPKI AP, EF 000A) is readable without a PIN and carries no name or
//! address: the record system links it to a patient by issuer and serial number, the way
//! online qualification checks (オンライン資格確認) link a card to an insured person.
//! Parsing uses `x509-parser` (maintained by the Rusticata project); nothing here is
//! hand-written DER.
//!
//! # PIN-verified identification
//! After the patient enters their 4-digit PIN, the card signs with its user-authentication
//! key: the host sends the DER `DigestInfo` of SHA-256(challenge) ([`sha256_digest_info`]),
//! and the card adds the PKCS#1 v1.5 padding and signs. That is RSASSA-PKCS1-v1_5 with
//! SHA-256 over the challenge, which [`CardCertificate::verify_signature`] checks with
//! `ring`. Both the tablet and the edge use these two functions, so they agree on the bytes.
//!
//! Whether the certificate itself is genuine (issued by the JPKI CA, not revoked) is the
//! edge's trust check, not decided here.

use chrono::{DateTime, Utc};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{Error, Result};

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

/// Parses one DER certificate; trailing bytes after it are rejected.
fn parse(der: &[u8]) -> Result<X509Certificate<'_>> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::CertificateMalformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::CertificateMalformed(format!(
            "{} trailing bytes",
            rest.len()
        )));
    }
    Ok(cert)
}

/// DER prefix of a `DigestInfo` for SHA-256 (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// The DER `DigestInfo` of SHA-256(`message`): what the host sends to the card's COMPUTE
/// DIGITAL SIGNATURE so that the card's signature is RSASSA-PKCS1-v1_5 with SHA-256 over
/// `message`.
pub fn sha256_digest_info(message: &[u8]) -> Vec<u8> {
    let digest = ring::digest::digest(&ring::digest::SHA256, message);
    [&SHA256_DIGEST_INFO_PREFIX[..], digest.as_ref()].concat()
}

/// What a card signs to sign its holder in to the patient portal, before the challenge:
/// 32 ASCII bytes and a NUL.
///
/// The portal and the tablets both have the card sign a server challenge with the same
/// key, so the two messages must never coincide. The tablet's message is the bare 32-byte
/// challenge; the portal's is [`portal_sign_in_message`], this prefix and then the
/// challenge (65 bytes). Messages of different lengths have different SHA-256 digests
/// (barring a collision), so a signature made for one can never verify for the other.
pub const PORTAL_SIGN_IN_CONTEXT: &[u8; 33] = b"myna-emergency portal sign-in v1\0";

/// The exact message the card signs (RSASSA-PKCS1-v1_5, SHA-256: the host sends
/// [`sha256_digest_info`] of it) to sign in to the patient portal with portal challenge
/// `challenge`: [`PORTAL_SIGN_IN_CONTEXT`] followed by the challenge bytes.
pub fn portal_sign_in_message(challenge: &[u8]) -> Vec<u8> {
    [&PORTAL_SIGN_IN_CONTEXT[..], challenge].concat()
}

impl CardCertificate {
    /// Parses DER. Trailing bytes after the certificate are rejected.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = parse(der)?;
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

    /// Verifies `signature`, made by the key of the certificate `certificate_der`, over
    /// `message`: RSASSA-PKCS1-v1_5 with SHA-256 and an RSA key of 2048 to 8192 bits, as a
    /// JPKI card signs after PIN entry. A non-RSA key, a short key, or any other signature
    /// is [`Error::SignatureInvalid`]; an unreadable certificate is
    /// [`Error::CertificateMalformed`].
    ///
    /// This proves possession of the certificate's key only: check that the certificate
    /// is genuine (chain, revocation) separately.
    pub fn verify_signature(
        certificate_der: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let cert = parse(certificate_der)?;
        let spki = cert.public_key();
        if spki.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
            return Err(Error::SignatureInvalid);
        }
        UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &spki.subject_public_key.data)
            .verify(message, signature)
            .map_err(|_| Error::SignatureInvalid)
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
    use std::sync::LazyLock;

    use chrono::TimeZone;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::sha2::Sha256;

    use super::*;

    fn cert(serial: &[u8]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial));
        params.not_before = rcgen::date_time_ymd(2024, 1, 1);
        params.not_after = rcgen::date_time_ymd(2029, 1, 1);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn the_portal_message_is_the_context_then_the_challenge_and_never_a_tablet_one() {
        let challenge = [0x5a; 32];
        let message = portal_sign_in_message(&challenge);
        assert_eq!(message.len(), 65);
        assert_eq!(&message[..32], b"myna-emergency portal sign-in v1");
        assert_eq!(message[32], 0);
        assert_eq!(&message[33..], &challenge);
        // What the card is asked to sign differs from the tablet's for the same bytes.
        assert_ne!(sha256_digest_info(&message), sha256_digest_info(&challenge));
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

    fn rsa_key() -> rsa::PrivateKey {
        rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap()
    }

    /// Two RSA-2048 keys, generated once per test binary (generation is slow).
    static CARD_KEY: LazyLock<rsa::PrivateKey> = LazyLock::new(rsa_key);
    static OTHER_KEY: LazyLock<rsa::PrivateKey> = LazyLock::new(rsa_key);

    /// A certificate for the RSA key `key`, as a JPKI card carries (sha256WithRSA).
    fn rsa_cert(key: &rsa::PrivateKey) -> Vec<u8> {
        let pkcs8 = key.to_pkcs8_der().unwrap();
        let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
            &pkcs8.as_bytes().into(),
            &rcgen::PKCS_RSA_SHA256,
        )
        .unwrap();
        let mut params = rcgen::CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x12, 0x34]));
        params.self_signed(&key_pair).unwrap().der().to_vec()
    }

    /// What the card does after PIN entry: pad and sign the DigestInfo the host sends.
    fn card_sign(key: &rsa::PrivateKey, challenge: &[u8]) -> Vec<u8> {
        key.sign(
            rsa::Pkcs1v15Sign::new_unprefixed(),
            &sha256_digest_info(challenge),
        )
        .unwrap()
    }

    #[test]
    fn card_signature_over_the_challenge_verifies() {
        let der = rsa_cert(&CARD_KEY);
        let challenge = [7u8; 32];
        let signature = card_sign(&CARD_KEY, &challenge);
        assert_eq!(
            CardCertificate::verify_signature(&der, &challenge, &signature),
            Ok(())
        );
        // The card's raw DigestInfo signature is exactly PKCS#1 v1.5 with SHA-256.
        assert_eq!(
            CARD_KEY.pkcs1v15_sign::<Sha256>(&challenge).unwrap(),
            signature
        );
    }

    #[test]
    fn any_other_signature_is_invalid() {
        let der = rsa_cert(&CARD_KEY);
        let challenge = [7u8; 32];
        let good = card_sign(&CARD_KEY, &challenge);
        let mut flipped = good.clone();
        flipped[100] ^= 0x01;
        let cases: [(&str, Vec<u8>, Vec<u8>); 5] = [
            ("flipped bit", challenge.to_vec(), flipped),
            (
                "other key",
                challenge.to_vec(),
                card_sign(&OTHER_KEY, &challenge),
            ),
            ("other challenge", vec![8u8; 32], good.clone()),
            (
                "truncated",
                challenge.to_vec(),
                good[..good.len() - 1].to_vec(),
            ),
            ("empty", challenge.to_vec(), Vec::new()),
        ];
        for (name, message, signature) in cases {
            assert_eq!(
                CardCertificate::verify_signature(&der, &message, &signature),
                Err(Error::SignatureInvalid),
                "{name}"
            );
        }
    }

    #[test]
    fn non_rsa_keys_and_bad_certificates_are_refused() {
        // An ECDSA certificate cannot carry a PIN signature of a JPKI card.
        let ec = cert(&[0x42]);
        assert_eq!(
            CardCertificate::verify_signature(&ec, &[7; 32], &[0; 256]),
            Err(Error::SignatureInvalid)
        );
        let der = rsa_cert(&CARD_KEY);
        let signature = card_sign(&CARD_KEY, &[7; 32]);
        assert!(matches!(
            CardCertificate::verify_signature(&der[..der.len() - 1], &[7; 32], &signature),
            Err(Error::CertificateMalformed(_))
        ));
    }

    #[test]
    fn digest_info_is_the_sha256_der_structure() {
        let info = sha256_digest_info(b"abc");
        assert_eq!(info.len(), 51);
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            info[19..],
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ]
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        static GOOD: LazyLock<Vec<u8>> = LazyLock::new(|| cert(&[0x01, 0x02, 0x03]));

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_never_panic(der in proptest::collection::vec(any::<u8>(), 0..400)) {
                let _ = CardCertificate::from_der(&der);
                let _ = CardCertificate::verify_signature(&der, b"challenge", &[0; 256]);
            }

            #[test]
            fn mangled_certificate_never_panics(
                patches in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                cut in any::<prop::sample::Index>(),
            ) {
                let mut der = GOOD.clone();
                for (at, xor) in patches {
                    let at = at.index(der.len());
                    der[at] ^= xor;
                }
                der.truncate(cut.index(der.len() + 1));
                if let Ok(facts) = CardCertificate::from_der(&der) {
                    // Whatever parses has an ordered-or-not but representable validity.
                    let _ = facts.validity_at(Utc::now());
                }
                let _ = CardCertificate::verify_signature(&der, b"challenge", &[0; 256]);
            }
        }
    }
}
