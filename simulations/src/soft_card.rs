//! A software My Number card: an APDU responder modelling the card's file system, and a
//! development issuer of JPKI-like user-authentication certificates.
//!
//! [`SoftwareCard`] implements [`mobile_core::CardTransport`], so the tablet core reads it
//! exactly as it reads a real card over NFC. It models:
//! - the JPKI application (公的個人認証AP, AID `D3 92 F0 00 26 01 00 00 00 01`) with
//!   EF `0006` (token info `JPKIAPICCTOKEN2`, space-padded to 0x20 bytes) and EF `000A`
//!   (the user-authentication certificate, readable without a PIN);
//! - SELECT by AID and by EF id, READ BINARY with offset and Le; nothing else (no PIN,
//!   no signing). The card-info input-support application (AID
//!   `D3 92 10 00 31 00 01 01 04 08`) is not modelled yet;
//! - a card pulled away: [`SoftwareCard::remove`] and [`SoftwareCard::remove_after`]
//!   make `transmit` fail with [`CardLinkError::Lost`].
//!
//! [`DevCardIssuer`] stands in for the JPKI certification authority: a self-signed
//! development CA that issues ECDSA P-256 end-entity certificates with a chosen serial
//! number and validity, and, like the real user-authentication certificate, no name or
//! address in the subject.

use std::sync::{Mutex, PoisonError};

use anyhow::{Context, ensure};
use chrono::{Datelike, NaiveDate};
use mobile_core::card::jpki::{
    EF_AUTH_CERTIFICATE, EF_TOKEN_INFO, JPKI_AP_AID, MY_NUMBER_CARD_TOKEN,
};
use mobile_core::{CardLinkError, CardTransport};
use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SerialNumber,
};

pub use population::CARD_ISSUER_CN;

/// Subject common name of every issued certificate: a fixed label, never personal data.
pub const CARD_SUBJECT_CN: &str = "JPKI user authentication";

/// Size of the token info file.
const TOKEN_INFO_LEN: usize = 0x20;

const SW_OK: [u8; 2] = [0x90, 0x00];
const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
const SW_NO_CURRENT_EF: [u8; 2] = [0x69, 0x86];
const SW_WRONG_P1P2: [u8; 2] = [0x6A, 0x86];
const SW_FILE_NOT_FOUND: [u8; 2] = [0x6A, 0x82];
const SW_OFFSET_OUTSIDE_EF: [u8; 2] = [0x6B, 0x00];
const SW_INS_NOT_SUPPORTED: [u8; 2] = [0x6D, 0x00];
const SW_CLA_NOT_SUPPORTED: [u8; 2] = [0x6E, 0x00];

/// An application (DF) of the card and its elementary files.
#[derive(Debug, Clone)]
struct Application {
    aid: Vec<u8>,
    files: Vec<([u8; 2], Vec<u8>)>,
}

#[derive(Debug, Default)]
struct Session {
    /// Index into `SoftwareCard::applications`.
    application: Option<usize>,
    /// Index into that application's files.
    file: Option<usize>,
    present: bool,
    /// Exchanges left before the card is pulled away, if a removal is scheduled.
    exchanges_left: Option<usize>,
    /// Exchanges answered (or attempted) so far.
    exchanges: usize,
}

/// A My Number card in software, answering APDUs like the physical card's JPKI
/// application. Thread-safe; moves freely into `spawn_blocking`.
#[derive(Debug)]
pub struct SoftwareCard {
    applications: Vec<Application>,
    session: Mutex<Session>,
}

impl SoftwareCard {
    /// A present card whose EF 000A holds `certificate_der`.
    pub fn new(certificate_der: Vec<u8>) -> Self {
        let mut token = MY_NUMBER_CARD_TOKEN.to_vec();
        token.resize(TOKEN_INFO_LEN, b' ');
        SoftwareCard {
            applications: vec![Application {
                aid: JPKI_AP_AID.to_vec(),
                files: vec![
                    (EF_TOKEN_INFO, token),
                    (EF_AUTH_CERTIFICATE, certificate_der),
                ],
            }],
            session: Mutex::new(Session {
                present: true,
                ..Session::default()
            }),
        }
    }

    /// The same card, already away from the reader.
    pub fn removed(self) -> Self {
        self.remove();
        self
    }

    /// Pulls the card away: every exchange fails with [`CardLinkError::Lost`].
    pub fn remove(&self) {
        let mut session = self.session();
        session.present = false;
        session.exchanges_left = None;
        session.application = None;
        session.file = None;
    }

    /// Puts the card back. It powers up fresh: nothing selected.
    pub fn put_back(&self) {
        let mut session = self.session();
        session.present = true;
        session.exchanges_left = None;
    }

    /// Answers `exchanges` more commands, then is pulled away mid-read.
    pub fn remove_after(&self, exchanges: usize) {
        self.session().exchanges_left = Some(exchanges);
    }

    /// Whether the card is on the reader.
    pub fn is_present(&self) -> bool {
        self.session().present
    }

    /// How many commands were sent to the card so far (including failed ones).
    pub fn exchanges(&self) -> usize {
        self.session().exchanges
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers one command APDU on an already-powered card: response data then SW.
    fn respond(&self, session: &mut Session, command: &[u8]) -> Vec<u8> {
        let [cla, ins, p1, p2, body @ ..] = command else {
            return SW_WRONG_LENGTH.to_vec();
        };
        if *cla != 0x00 {
            return SW_CLA_NOT_SUPPORTED.to_vec();
        }
        match *ins {
            0xA4 => self.select(session, *p1, *p2, body).to_vec(),
            0xB0 => self.read_binary(session, *p1, *p2, body),
            _ => SW_INS_NOT_SUPPORTED.to_vec(),
        }
    }

    fn select(&self, session: &mut Session, p1: u8, p2: u8, body: &[u8]) -> [u8; 2] {
        // Case 3 (Lc data) or case 4 (Lc data Le) short APDU.
        let Some((&lc, rest)) = body.split_first() else {
            return SW_WRONG_LENGTH;
        };
        let lc = usize::from(lc);
        if lc == 0 || (rest.len() != lc && rest.len() != lc + 1) {
            return SW_WRONG_LENGTH;
        }
        let name = &rest[..lc];
        // P2 0C: no response data; 00: return FCI, which this card does not model.
        if !matches!(p2, 0x0C | 0x00) {
            return SW_WRONG_P1P2;
        }
        match p1 {
            0x04 => match self.applications.iter().position(|a| a.aid == name) {
                Some(index) => {
                    session.application = Some(index);
                    session.file = None;
                    SW_OK
                }
                None => SW_FILE_NOT_FOUND,
            },
            0x02 => {
                let Ok(fid) = <[u8; 2]>::try_from(name) else {
                    return SW_WRONG_LENGTH;
                };
                let file = session.application.and_then(|a| {
                    self.applications[a]
                        .files
                        .iter()
                        .position(|(id, _)| *id == fid)
                });
                match file {
                    Some(index) => {
                        session.file = Some(index);
                        SW_OK
                    }
                    None => SW_FILE_NOT_FOUND,
                }
            }
            _ => SW_WRONG_P1P2,
        }
    }

    fn read_binary(&self, session: &Session, p1: u8, p2: u8, body: &[u8]) -> Vec<u8> {
        // Case 2 short APDU: exactly one Le byte.
        let [le] = body else {
            return SW_WRONG_LENGTH.to_vec();
        };
        if p1 & 0x80 != 0 {
            // Short-EF addressing is not modelled.
            return SW_WRONG_P1P2.to_vec();
        }
        let (Some(application), Some(file)) = (session.application, session.file) else {
            return SW_NO_CURRENT_EF.to_vec();
        };
        let content = &self.applications[application].files[file].1;
        let offset = usize::from(u16::from_be_bytes([p1, p2]));
        if offset >= content.len() {
            return SW_OFFSET_OUTSIDE_EF.to_vec();
        }
        let le = if *le == 0 { 256 } else { usize::from(*le) };
        let end = content.len().min(offset + le);
        let mut response = content[offset..end].to_vec();
        response.extend_from_slice(&SW_OK);
        response
    }
}

impl CardTransport for SoftwareCard {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        let mut session = self.session();
        session.exchanges += 1;
        match session.exchanges_left {
            Some(0) => {
                drop(session);
                self.remove();
                return Err(CardLinkError::Lost);
            }
            Some(n) => session.exchanges_left = Some(n - 1),
            None => {}
        }
        if !session.present {
            return Err(CardLinkError::Lost);
        }
        Ok(self.respond(&mut session, &command))
    }
}

/// A development certification authority issuing JPKI-like user-authentication
/// certificates. Its key lives only in memory; every instance is a different CA.
pub struct DevCardIssuer {
    ca_certificate: rcgen::Certificate,
    ca_key: KeyPair,
}

impl std::fmt::Debug for DevCardIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevCardIssuer")
            .field("issuer_cn", &CARD_ISSUER_CN)
            .finish_non_exhaustive()
    }
}

impl DevCardIssuer {
    /// Generates a self-signed CA with common name [`CARD_ISSUER_CN`].
    pub fn new() -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(vec![])?;
        params.distinguished_name = common_name(CARD_ISSUER_CN);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2014, 1, 1);
        params.not_after = rcgen::date_time_ymd(2060, 1, 1);
        let ca_key = KeyPair::generate().context("generating the CA key")?;
        let ca_certificate = params.self_signed(&ca_key).context("self-signing the CA")?;
        Ok(DevCardIssuer {
            ca_certificate,
            ca_key,
        })
    }

    /// DER of the CA certificate.
    pub fn ca_certificate_der(&self) -> Vec<u8> {
        self.ca_certificate.der().to_vec()
    }

    /// Issues a user-authentication certificate with exactly this serial number (1 to 20
    /// bytes, big-endian) valid from `not_before` to `not_after` (midnight UTC). The
    /// subject holds no personal data: the edge links the card to a patient by issuer
    /// and serial.
    pub fn issue(
        &self,
        serial: &[u8],
        not_before: NaiveDate,
        not_after: NaiveDate,
    ) -> anyhow::Result<Vec<u8>> {
        ensure!(
            (1..=20).contains(&serial.len()),
            "serial must be 1 to 20 bytes"
        );
        ensure!(not_before < not_after, "validity must not be empty");
        let mut params = CertificateParams::new(vec![])?;
        params.serial_number = Some(SerialNumber::from_slice(serial));
        let ((y0, m0, d0), (y1, m1, d1)) = (ymd(not_before)?, ymd(not_after)?);
        params.not_before = rcgen::date_time_ymd(y0, m0, d0);
        params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        params.distinguished_name = common_name(CARD_SUBJECT_CN);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec!["http://jpki-dev.invalid/crl/user-authentication.crl".into()],
        }];
        let key = KeyPair::generate().context("generating the card key")?;
        let certificate = params
            .signed_by(&key, &self.ca_certificate, &self.ca_key)
            .context("signing the card certificate")?;
        Ok(certificate.der().to_vec())
    }
}

fn common_name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

/// Year, month and day of `date` for `rcgen::date_time_ymd` (midnight UTC), which
/// panics outside the `time` crate's range: stay well inside it.
fn ymd(date: NaiveDate) -> anyhow::Result<(i32, u8, u8)> {
    ensure!(
        (1950..=9999).contains(&date.year()),
        "certificate dates must be in years 1950 to 9999"
    );
    // Month and day come from a valid date, so they fit in u8.
    Ok((date.year(), date.month() as u8, date.day() as u8))
}

#[cfg(test)]
mod tests {
    use mobile_core::card::apdu;
    use mobile_core::{CardKind, read_auth_certificate, read_token_info};
    use myna_domain::certificate::CardCertificate;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn issued() -> Vec<u8> {
        let issuer = DevCardIssuer::new().unwrap();
        issuer
            .issue(
                &[0x8a, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07],
                date(2024, 4, 1),
                date(2029, 3, 31),
            )
            .unwrap()
    }

    fn send(card: &SoftwareCard, command: Vec<u8>) -> Vec<u8> {
        card.transmit(command).unwrap()
    }

    #[test]
    fn mobile_core_reads_exactly_the_issued_certificate() {
        let der = issued();
        assert!(
            der.len() > 300,
            "certificate of {} bytes does not exercise chunking",
            der.len()
        );
        let card = SoftwareCard::new(der.clone());
        assert_eq!(read_token_info(&card), Ok(CardKind::MyNumberCard));
        assert_eq!(read_auth_certificate(&card), Ok(der.clone()));

        let parsed = CardCertificate::from_der(&der).unwrap();
        assert_eq!(parsed.serial_hex, "8a01020304050607");
        assert_eq!(parsed.issuer, format!("CN={CARD_ISSUER_CN}"));
        assert_eq!(parsed.not_before.date_naive(), date(2024, 4, 1));
        assert_eq!(parsed.not_after.date_naive(), date(2029, 3, 31));
    }

    #[test]
    fn a_removed_card_is_lost() {
        let card = SoftwareCard::new(issued()).removed();
        assert_eq!(
            card.transmit(apdu::select_aid(&JPKI_AP_AID).unwrap()),
            Err(CardLinkError::Lost)
        );
        card.put_back();
        assert_eq!(send(&card, apdu::select_aid(&JPKI_AP_AID).unwrap()), SW_OK);

        // Pulled away mid-read: the third exchange fails, and so does everything after.
        card.remove_after(2);
        assert_eq!(
            read_auth_certificate(&card),
            Err(mobile_core::CardError::Link(CardLinkError::Lost))
        );
        assert!(!card.is_present());
        assert_eq!(card.transmit(vec![0, 0xA4]), Err(CardLinkError::Lost));
    }

    #[test]
    fn status_words_of_the_file_system() {
        let card = SoftwareCard::new(vec![0x30, 0x03, 0x02, 0x01, 0x07]);
        let check = |command: Vec<u8>, expected: &[u8]| {
            assert_eq!(
                send(&card, command.clone()),
                expected,
                "command {command:02X?}"
            );
        };
        let other_aid = [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
        // Nothing selected yet.
        check(apdu::select_ef(EF_AUTH_CERTIFICATE), &SW_FILE_NOT_FOUND);
        check(apdu::read_binary(0, 1).unwrap(), &SW_NO_CURRENT_EF);
        check(apdu::select_aid(&other_aid).unwrap(), &SW_FILE_NOT_FOUND);
        check(apdu::select_aid(&JPKI_AP_AID).unwrap(), &SW_OK);
        check(apdu::select_ef([0x00, 0x01]), &SW_FILE_NOT_FOUND);
        check(apdu::select_ef(EF_AUTH_CERTIFICATE), &SW_OK);
        check(
            apdu::read_binary(0, 0).unwrap(),
            &[0x30, 0x03, 0x02, 0x01, 0x07, 0x90, 0x00],
        );
        check(apdu::read_binary(3, 10).unwrap(), &[0x01, 0x07, 0x90, 0x00]);
        check(apdu::read_binary(4, 1).unwrap(), &[0x07, 0x90, 0x00]);
        check(apdu::read_binary(5, 1).unwrap(), &SW_OFFSET_OUTSIDE_EF);
        check(apdu::read_binary(0x7FFF, 1).unwrap(), &SW_OFFSET_OUTSIDE_EF);
        // Malformed and unsupported commands.
        check(vec![], &SW_WRONG_LENGTH);
        check(vec![0x00, 0xB0, 0x00], &SW_WRONG_LENGTH);
        check(vec![0x00, 0xB0, 0x00, 0x00], &SW_WRONG_LENGTH);
        check(vec![0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3], &SW_WRONG_LENGTH);
        check(vec![0x00, 0x20, 0x00, 0x80], &SW_INS_NOT_SUPPORTED);
        check(vec![0x80, 0xB0, 0x00, 0x00, 0x01], &SW_CLA_NOT_SUPPORTED);
        check(vec![0x00, 0xB0, 0x81, 0x00, 0x01], &SW_WRONG_P1P2);
        // A failed SELECT keeps the current file.
        check(apdu::read_binary(0, 2).unwrap(), &[0x30, 0x03, 0x90, 0x00]);
        assert_eq!(card.exchanges(), 19);
    }

    #[test]
    fn issuer_rejects_impossible_requests() {
        let issuer = DevCardIssuer::new().unwrap();
        let (a, b) = (date(2024, 1, 1), date(2030, 1, 1));
        assert!(issuer.issue(&[], a, b).is_err());
        assert!(issuer.issue(&[1; 21], a, b).is_err());
        assert!(issuer.issue(&[1], b, a).is_err());
        assert!(issuer.issue(&[1], date(1900, 1, 1), b).is_err());
        assert!(issuer.issue(&[1], a, date(10000, 1, 1)).is_err());
    }
}
