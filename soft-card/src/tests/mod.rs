//! Tests of the software card: shared fixtures here, card behaviour in `card`, the issuer
//! and population cards in `issuer`.

mod card;
mod issuer;
mod portal;

use std::sync::{Arc, OnceLock};

use chrono::{NaiveDate, TimeZone, Utc};
use mobile_core::card::apdu;
use mobile_core::card::jpki::{EF_AUTH_CERTIFICATE, JPKI_AP_AID};
use mobile_core::{CardKind, read_auth_certificate, read_token_info};
use mobile_core::{CardLinkError, CardTransport};
use myna_domain::certificate::CardCertificate;
use myna_domain::identity::Sex;
use rsa::pkcs8::DecodePublicKey;
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PublicKey};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::card::*;
use crate::facts::{self, *};
use crate::files::*;
use crate::issuer::*;
use crate::population_cards::*;

/// The process's CA and one card key for the whole test binary: RSA key generation is the
/// slow part.
fn issuer() -> &'static DevCardIssuer {
    static ISSUER: OnceLock<DevCardIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| DevCardIssuer::new().unwrap())
}

fn card_key() -> rsa::PrivateKey {
    static KEY: OnceLock<rsa::PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| generate_card_key().unwrap()).clone()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

const SERIAL: [u8; 8] = [0x4a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07];

fn issued() -> Vec<u8> {
    issuer()
        .issue_for_key(&card_key(), &SERIAL, date(2024, 4, 1), date(2029, 3, 31))
        .unwrap()
}

fn holder() -> CardHolderFacts {
    CardHolderFacts {
        name: "佐藤 花子".into(),
        address: "東京都世田谷区桜丘3丁目12-5".into(),
        birth_date: date(1941, 12, 8),
        sex: Sex::Female,
    }
}

/// A complete card: key, CA certificate, facts; auth PIN 1234, card-info PIN 5678.
fn full_card() -> SoftwareCard {
    SoftwareCard::builder(issued())
        .ca_certificate(issuer().ca_certificate_der())
        .key(card_key())
        .auth_pin("1234")
        .facts(holder())
        .card_info_pin("5678")
        .build()
        .unwrap()
}

fn send(card: &SoftwareCard, command: &[u8]) -> Vec<u8> {
    card.transmit(command.to_vec()).unwrap()
}

fn verify(pin: &[u8]) -> Vec<u8> {
    let mut command = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    command.extend_from_slice(pin);
    command
}

const VERIFY_STATUS: [u8; 4] = [0x00, 0x20, 0x00, 0x80];

fn digest_info(message: &[u8]) -> Vec<u8> {
    let mut info = vec![
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ];
    info.extend_from_slice(&Sha256::digest(message));
    info
}

fn sign_command(digest_info: &[u8]) -> Vec<u8> {
    let mut command = vec![0x80, 0x2A, 0x00, 0x80, digest_info.len() as u8];
    command.extend_from_slice(digest_info);
    command.push(0x00);
    command
}

fn select_auth_pin(card: &SoftwareCard) {
    assert_eq!(send(card, &apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);
    assert_eq!(send(card, &apdu::select_ef(EF_AUTH_PIN)), SW_OK);
}

/// Reads the current EF to its end in chunks of `chunk` bytes.
fn read_to_end(card: &SoftwareCard, chunk: u8) -> Vec<u8> {
    let mut content = Vec::new();
    loop {
        let response = send(
            card,
            &apdu::read_binary(content.len() as u16, chunk).unwrap(),
        );
        let (data, sw) = response.split_at(response.len() - 2);
        if sw == SW_OFFSET_OUTSIDE_EF {
            return content;
        }
        assert_eq!(sw, SW_OK);
        content.extend_from_slice(data);
    }
}
