//! Card certificates as the tablet reads them and the edge receives them: the facts
//! (`CardCertificate::from_der`), the PIN signature check, and the edge's trust check
//! (chain to a CA, CRL, validity). Each input is tried as it is, and as byte patches
//! (offset, xor) over a genuine card certificate, so the fuzzer also reaches the parts
//! behind a well-formed outer structure.
#![no_main]

use std::sync::LazyLock;

use chrono::{TimeZone, Utc};
use edge_agent::card_trust::CardTrust;
use libfuzzer_sys::fuzz_target;
use myna_domain::certificate::CardCertificate;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber,
};

struct Fixture {
    trust: CardTrust,
    card: Vec<u8>,
}

fn name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let mut params = CertificateParams::new(vec![]).unwrap();
    params.distinguished_name = name("JPKI User Authentication CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate().unwrap();
    let ca = params.self_signed(&ca_key).unwrap();

    let mut params = CertificateParams::new(vec![]).unwrap();
    params.serial_number = Some(SerialNumber::from_slice(&[1, 2, 3, 4]));
    params.distinguished_name = name("JPKI user authentication");
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2029, 1, 1);
    let card = params
        .signed_by(&KeyPair::generate().unwrap(), &ca, &ca_key)
        .unwrap()
        .der()
        .to_vec();

    let crl = CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2026, 1, 1),
        next_update: rcgen::date_time_ymd(2027, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&[9, 9]),
            revocation_time: rcgen::date_time_ymd(2026, 1, 1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca, &ca_key)
    .unwrap()
    .der()
    .to_vec();
    let trust = CardTrust::new(vec![ca.der().to_vec()], vec![crl]).unwrap();
    Fixture { trust, card }
});

fn check(der: &[u8]) {
    let facts = CardCertificate::from_der(der);
    let _ = CardCertificate::verify_signature(der, b"challenge", &[0u8; 256]);
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 3, 0, 0).unwrap();
    let checked = FIXTURE.trust.check(der, now);
    if facts.is_err() {
        assert!(checked.is_err(), "a malformed certificate was trusted");
    }
    if let Ok(card) = checked {
        assert_eq!(Some(card.certificate()), facts.as_ref().ok());
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut patched = FIXTURE.card.clone();
    for patch in data.chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([patch[0], patch[1]])) % patched.len();
        patched[at] ^= patch[2];
    }
    if data.len() % 3 == 1 {
        // Also truncated, at a place the input picks.
        let cut = usize::from(data[data.len() - 1]) * patched.len() / 256;
        patched.truncate(cut);
    }
    check(&patched);
});
