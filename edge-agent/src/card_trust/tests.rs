//! Card trust with rcgen-made CAs, cards and CRLs (RSA-2048 like JPKI, and ECDSA P-256).

use std::sync::LazyLock;

use chrono::TimeZone;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
    date_time_ymd,
};
use rsa::pkcs8::EncodePrivateKey;

use super::*;

const CA_NAME: &str = "JPKI Test User Authentication CA";

/// PKCS#8 of an RSA-2048 key, generated once per test binary (generation is slow).
static RSA_CA_KEY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    key.to_pkcs8_der().unwrap().as_bytes().to_vec()
});

fn rsa_key_pair() -> KeyPair {
    KeyPair::from_pkcs8_der_and_sign_algo(&RSA_CA_KEY.as_slice().into(), &rcgen::PKCS_RSA_SHA256)
        .unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

fn name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

/// A test certification authority.
struct Ca {
    certificate: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    /// A CA named [`CA_NAME`] with a fresh ECDSA P-256 key.
    fn new() -> Self {
        Ca::with_key(KeyPair::generate().unwrap())
    }

    /// A CA named [`CA_NAME`] with the RSA-2048 key, signing with sha256WithRSAEncryption.
    fn rsa() -> Self {
        Ca::with_key(rsa_key_pair())
    }

    fn with_key(key: KeyPair) -> Self {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.distinguished_name = name(CA_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2014, 1, 1);
        params.not_after = date_time_ymd(2060, 1, 1);
        let certificate = params.self_signed(&key).unwrap();
        Ca { certificate, key }
    }

    fn der(&self) -> Vec<u8> {
        self.certificate.der().to_vec()
    }

    /// A card certificate with `serial`, valid from January 1st of `from` to that of `to`.
    fn issue(&self, serial: &[u8], from: i32, to: i32) -> Vec<u8> {
        let mut params = CertificateParams::new(vec![]).unwrap();
        params.serial_number = Some(SerialNumber::from_slice(serial));
        params.distinguished_name = name("JPKI user authentication");
        params.not_before = date_time_ymd(from, 1, 1);
        params.not_after = date_time_ymd(to, 1, 1);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let card_key = KeyPair::generate().unwrap();
        params
            .signed_by(&card_key, &self.certificate, &self.key)
            .unwrap()
            .der()
            .to_vec()
    }

    /// A CRL revoking `serials`, published on January 1st of the year before `next`, next
    /// update January 1st of `next`.
    fn crl(&self, serials: &[&[u8]], next: i32) -> Vec<u8> {
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(next - 1, 1, 1),
            next_update: date_time_ymd(next, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: date_time_ymd(next - 1, 1, 1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params
            .signed_by(&self.certificate, &self.key)
            .unwrap()
            .der()
            .to_vec()
    }

    fn trust(&self, crls: Vec<Vec<u8>>) -> CardTrust {
        CardTrust::new(vec![self.der()], crls).unwrap()
    }
}

const SERIAL: &[u8] = &[0x4a, 1, 2, 3, 4, 5, 6, 7];

#[test]
fn a_card_issued_by_a_trusted_ca_is_genuine() {
    for (kind, ca) in [("ecdsa", Ca::new()), ("rsa", Ca::rsa())] {
        let card = ca
            .trust(vec![])
            .check(&ca.issue(SERIAL, 2024, 2029), now())
            .unwrap_or_else(|e| panic!("{kind}: {e:?}"));
        assert_eq!(card.certificate().serial_hex, "4a01020304050607", "{kind}");
        assert_eq!(card.certificate().issuer, format!("CN={CA_NAME}"), "{kind}");
    }
}

#[test]
fn a_card_signed_by_another_key_with_the_same_issuer_name_is_untrusted() {
    let (ca, forger) = (Ca::new(), Ca::new());
    let forged = forger.issue(SERIAL, 2024, 2029);
    assert_eq!(
        CardCertificate::from_der(&forged).unwrap().issuer,
        format!("CN={CA_NAME}"),
        "the forgery names the real CA"
    );
    assert_eq!(
        ca.trust(vec![]).check(&forged, now()),
        Err(CardProblem::UntrustedIssuer)
    );
    // The RSA CA, too: an ECDSA forgery under its name does not verify.
    assert_eq!(
        Ca::rsa().trust(vec![]).check(&forged, now()),
        Err(CardProblem::UntrustedIssuer)
    );
}

#[test]
fn a_card_of_another_issuer_or_a_self_signed_one_is_untrusted() {
    let ca = Ca::new();
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name = name("Some Other CA");
    params.serial_number = Some(SerialNumber::from_slice(SERIAL));
    let self_signed = params
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap()
        .der()
        .to_vec();
    assert_eq!(
        ca.trust(vec![]).check(&self_signed, now()),
        Err(CardProblem::UntrustedIssuer)
    );
    // The CA's own certificate is not a card, though it is "issued" by the CA.
    assert_eq!(
        ca.trust(vec![]).check(&ca.der(), now()),
        Err(CardProblem::UntrustedIssuer)
    );
}

#[test]
fn without_anchors_every_card_is_untrusted() {
    let ca = Ca::new();
    let nothing = CardTrust::default();
    assert!(nothing.is_empty());
    for der in [ca.issue(SERIAL, 2024, 2029), ca.der()] {
        assert_eq!(
            nothing.check(&der, now()),
            Err(CardProblem::UntrustedIssuer)
        );
    }
    assert_eq!(
        CardTrust::new(vec![], vec![])
            .unwrap()
            .check(&ca.issue(SERIAL, 2024, 2029), now()),
        Err(CardProblem::UntrustedIssuer)
    );
}

#[test]
fn garbage_is_malformed() {
    let ca = Ca::new();
    let der = ca.issue(SERIAL, 2024, 2029);
    let trust = ca.trust(vec![]);
    for bad in [&[][..], &[0x30, 0x03, 1, 2, 3][..], &der[..der.len() - 1]] {
        assert_eq!(trust.check(bad, now()), Err(CardProblem::Malformed));
    }
    let mut padded = der;
    padded.push(0);
    assert_eq!(trust.check(&padded, now()), Err(CardProblem::Malformed));
}

#[test]
fn genuine_cards_outside_validity_are_reported_with_the_card() {
    let ca = Ca::new();
    let trust = ca.trust(vec![]);
    let expired = trust.check(&ca.issue(SERIAL, 2019, 2024), now());
    assert!(
        matches!(expired, Err(CardProblem::Expired(_))),
        "{expired:?}"
    );
    let future = trust.check(&ca.issue(SERIAL, 2027, 2032), now());
    assert!(
        matches!(future, Err(CardProblem::NotYetValid(_))),
        "{future:?}"
    );
    for problem in [expired.unwrap_err(), future.unwrap_err()] {
        assert_eq!(
            problem.denial_reason(),
            DenialReason::CertificateNotValidNow
        );
        assert_eq!(
            problem
                .genuine_card()
                .map(|c| c.certificate().serial_hex.as_str()),
            Some("4a01020304050607")
        );
    }
}

#[test]
fn a_serial_on_the_crl_is_revoked_and_others_are_not() {
    for ca in [Ca::new(), Ca::rsa()] {
        let other: &[u8] = &[0x4a, 9, 9, 9];
        let trust = ca.trust(vec![ca.crl(&[SERIAL, &[0x11]], 2027)]);
        let revoked = trust.check(&ca.issue(SERIAL, 2024, 2029), now());
        assert!(
            matches!(revoked, Err(CardProblem::Revoked(_))),
            "{revoked:?}"
        );
        assert_eq!(
            revoked.unwrap_err().denial_reason(),
            DenialReason::CertificateRevoked
        );
        assert!(trust.check(&ca.issue(other, 2024, 2029), now()).is_ok());
        // Revocation wins over expiry.
        assert!(matches!(
            trust.check(&ca.issue(SERIAL, 2019, 2024), now()),
            Err(CardProblem::Revoked(_))
        ));
    }
}

#[test]
fn a_crl_signed_with_the_new_key_revokes_a_card_issued_under_the_old_key() {
    // Two CAs with the same name but different keys (a key rollover): serials are unique
    // per issuer name, so a CRL of that name revokes cards issued under either key.
    let (old, new) = (Ca::new(), Ca::rsa());
    let other: &[u8] = &[0x4a, 9, 9, 9];
    let trust = CardTrust::new(vec![old.der(), new.der()], vec![new.crl(&[SERIAL], 2027)]).unwrap();
    let revoked = trust.check(&old.issue(SERIAL, 2024, 2029), now());
    assert!(
        matches!(revoked, Err(CardProblem::Revoked(_))),
        "{revoked:?}"
    );
    assert!(matches!(
        trust.check(&new.issue(SERIAL, 2024, 2029), now()),
        Err(CardProblem::Revoked(_))
    ));
    assert!(trust.check(&old.issue(other, 2024, 2029), now()).is_ok());
    assert!(trust.check(&new.issue(other, 2024, 2029), now()).is_ok());
    // The CRL is one CRL, whichever key signed it.
    assert_eq!(
        trust
            .stale_crls(Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap())
            .len(),
        1
    );
}

#[test]
fn revocation_applies_to_the_issuer_name_of_the_crl_only() {
    let ca = Ca::new();
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name = name("Another JPKI CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let another = Ca {
        certificate: params.self_signed(&key).unwrap(),
        key,
    };
    let trust = CardTrust::new(
        vec![ca.der(), another.der()],
        vec![another.crl(&[SERIAL], 2027)],
    )
    .unwrap();
    assert!(trust.check(&ca.issue(SERIAL, 2024, 2029), now()).is_ok());
    assert!(matches!(
        trust.check(&another.issue(SERIAL, 2024, 2029), now()),
        Err(CardProblem::Revoked(_))
    ));
}

#[test]
fn a_crl_that_does_not_verify_is_a_configuration_error() {
    let (ca, forger) = (Ca::new(), Ca::new());
    // Same issuer name, wrong key.
    let forged = forger.crl(&[SERIAL], 2027);
    assert!(matches!(
        CardTrust::new(vec![ca.der()], vec![forged.clone()]),
        Err(Error::Config(_))
    ));
    // No CA at all to verify it with.
    assert!(CardTrust::new(vec![], vec![forged]).is_err());
    // Not a CRL.
    assert!(CardTrust::new(vec![ca.der()], vec![vec![0x30, 0x00]]).is_err());
    let mut padded = ca.crl(&[SERIAL], 2027);
    padded.push(0);
    assert!(CardTrust::new(vec![ca.der()], vec![padded]).is_err());
}

#[test]
fn only_ca_certificates_can_be_anchors() {
    let ca = Ca::new();
    assert!(matches!(
        CardTrust::new(vec![ca.issue(SERIAL, 2024, 2029)], vec![]),
        Err(Error::Config(_))
    ));
    assert!(CardTrust::new(vec![b"not a certificate".to_vec()], vec![]).is_err());
}

#[test]
fn a_stale_crl_is_reported_and_still_honoured() {
    let ca = Ca::new();
    let trust = ca.trust(vec![ca.crl(&[SERIAL], 2026)]);
    assert_eq!(
        trust.stale_crls(now()),
        vec![StaleCrl {
            issuer: format!("CN={CA_NAME}"),
            next_update: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }]
    );
    assert!(matches!(
        trust.check(&ca.issue(SERIAL, 2024, 2029), now()),
        Err(CardProblem::Revoked(_))
    ));
    let fresh = ca.trust(vec![ca.crl(&[SERIAL], 2027)]);
    assert!(fresh.stale_crls(now()).is_empty());
}
