//! The development stand-in for the JPKI certification authority (J-LIS): an RSA-2048 CA
//! signing with sha256WithRSAEncryption like JPKI, per-card RSA-2048 keys, user-
//! authentication certificates, CRLs, and the cards of synthetic patients
//! ([`DevCardIssuer::card_for`]).
//!
//! Keys come from the `rsa` crate (rcgen's ring backend cannot generate RSA keys, but it
//! signs with one imported from PKCS#8). RUSTSEC-2023-0071 (the Marvin timing side
//! channel in `rsa`) does not matter here: these keys protect test data only, on a
//! software card nobody can time over a network.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use time::OffsetDateTime;

use crate::card::{SoftwareCard, SoftwareCardBuilder};
use crate::error::{Error, Result, certificate};
use crate::facts::CardHolderFacts;

pub use population::CARD_ISSUER_CN;

/// Subject common name of every issued certificate: a fixed label, never personal data.
pub const CARD_SUBJECT_CN: &str = "JPKI user authentication";
/// Modulus size of the CA and card keys, as on real cards.
pub const CARD_KEY_BITS: usize = 2048;

/// A fresh RSA-2048 key (about 0.1 to 1 s): create one per card, when the card is made.
pub fn generate_card_key() -> Result<rsa::PrivateKey> {
    rsa::PrivateKey::new(&mut getrandom::SysRng, CARD_KEY_BITS).map_err(Error::KeyGeneration)
}

/// `key` as an rcgen key pair signing with sha256WithRSAEncryption.
fn rcgen_key(key: &rsa::PrivateKey) -> Result<KeyPair> {
    let pkcs8 = key.to_pkcs8_der().map_err(Error::KeyEncoding)?;
    KeyPair::try_from(pkcs8.as_bytes()).map_err(certificate("importing the RSA key into rcgen"))
}

/// A development certification authority issuing JPKI-like user-authentication
/// certificates and CRLs. Its key lives only in memory.
///
/// Like JPKI, a process has one: [`DevCardIssuer::new`] hands out the process's
/// development CA (generated on first use), so the local stack's edge, which trusts it,
/// accepts every card any part of the process issues with it. [`DevCardIssuer::generate`]
/// makes a separate CA, e.g. to forge cards the edge must refuse. Clones share the CA.
#[derive(Clone)]
pub struct DevCardIssuer {
    authority: Arc<Authority>,
}

/// A CA certificate and its key.
struct Authority {
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
    /// The development CA of this process, generated on first use (RSA key generation,
    /// blocking) and shared by every caller.
    pub fn new() -> Result<Self> {
        static PROCESS_CA: Mutex<Option<DevCardIssuer>> = Mutex::new(None);
        let mut shared = PROCESS_CA.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(issuer) = shared.as_ref() {
            return Ok(issuer.clone());
        }
        let issuer = DevCardIssuer::generate()?;
        *shared = Some(issuer.clone());
        Ok(issuer)
    }

    /// A new self-signed RSA-2048 CA with common name [`CARD_ISSUER_CN`], distinct from
    /// every other (same name, different key).
    pub fn generate() -> Result<Self> {
        let mut params =
            CertificateParams::new(vec![]).map_err(certificate("building the CA certificate"))?;
        params.distinguished_name = common_name(CARD_ISSUER_CN);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2014, 1, 1);
        params.not_after = rcgen::date_time_ymd(2060, 1, 1);
        let ca_key = rcgen_key(&generate_card_key()?)?;
        let ca_certificate = params
            .self_signed(&ca_key)
            .map_err(certificate("self-signing the CA"))?;
        Ok(DevCardIssuer {
            authority: Arc::new(Authority {
                ca_certificate,
                ca_key,
            }),
        })
    }

    /// DER of the CA certificate.
    pub fn ca_certificate_der(&self) -> Vec<u8> {
        self.authority.ca_certificate.der().to_vec()
    }

    /// Issues a certificate as [`DevCardIssuer::issue_for_key`] does, for a fresh key that
    /// is then thrown away: for a card that only needs to be read, never to sign.
    pub fn issue(
        &self,
        serial: &[u8],
        not_before: NaiveDate,
        not_after: NaiveDate,
    ) -> Result<Vec<u8>> {
        self.issue_for_key(&generate_card_key()?, serial, not_before, not_after)
    }

    /// Issues a user-authentication certificate for `key` with exactly this serial number
    /// (1 to 20 bytes, big-endian) valid from `not_before` to `not_after` (midnight UTC).
    /// The subject holds no personal data: the edge links the card to a patient by issuer
    /// and serial.
    pub fn issue_for_key(
        &self,
        key: &rsa::PrivateKey,
        serial: &[u8],
        not_before: NaiveDate,
        not_after: NaiveDate,
    ) -> Result<Vec<u8>> {
        check_serial(serial)?;
        if not_before >= not_after {
            return Err(Error::InvalidRequest("validity must not be empty"));
        }
        let mut params =
            CertificateParams::new(vec![]).map_err(certificate("building the card certificate"))?;
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
        let certificate = params
            .signed_by(
                &rcgen_key(key)?,
                &self.authority.ca_certificate,
                &self.authority.ca_key,
            )
            .map_err(certificate("signing the card certificate"))?;
        Ok(certificate.der().to_vec())
    }

    /// A CRL signed by this CA listing `revoked_serials` (each 1 to 20 bytes, revoked at
    /// `this_update`). Its CRL number is `this_update` in Unix seconds, so later CRLs
    /// have larger numbers.
    pub fn crl_der(
        &self,
        revoked_serials: &[&[u8]],
        this_update: DateTime<Utc>,
        next_update: DateTime<Utc>,
    ) -> Result<Vec<u8>> {
        if this_update >= next_update {
            return Err(Error::InvalidRequest("next_update must follow this_update"));
        }
        let crl_number = u64::try_from(this_update.timestamp())
            .map_err(|_| Error::InvalidRequest("this_update before 1970"))?;
        let this_update = offset_date_time(this_update)?;
        let revoked_certs = revoked_serials
            .iter()
            .map(|serial| {
                check_serial(serial)?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: this_update,
                    reason_code: None,
                    invalidity_date: None,
                })
            })
            .collect::<Result<_>>()?;
        let params = CertificateRevocationListParams {
            this_update,
            next_update: offset_date_time(next_update)?,
            crl_number: SerialNumber::from(crl_number),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params
            .signed_by(&self.authority.ca_certificate, &self.authority.ca_key)
            .map_err(certificate("signing the CRL"))?;
        Ok(crl.der().to_vec())
    }

    /// The card of a synthetic patient: a fresh RSA-2048 key, a certificate with the
    /// serial and validity of the patient's [`population::CardFacts`], this CA's
    /// certificate in EF `000B`, the patient's four basic facts, and `pin` for both PINs
    /// with full tries. Fails for a patient without a card or a malformed PIN.
    pub fn card_for(
        &self,
        patient: &population::SyntheticPatient,
        pin: &str,
    ) -> Result<SoftwareCard> {
        // Check before the costly key generation.
        if patient.card.is_none() {
            return Err(Error::NoCard);
        }
        self.card_with_key(patient, pin, generate_card_key()?)
    }

    /// [`DevCardIssuer::card_for`] with `key` instead of a fresh one.
    pub fn card_with_key(
        &self,
        patient: &population::SyntheticPatient,
        pin: &str,
        key: rsa::PrivateKey,
    ) -> Result<SoftwareCard> {
        let card = patient.card.as_ref().ok_or(Error::NoCard)?;
        let certificate =
            self.issue_for_key(&key, &card.serial, card.not_before, card.not_after)?;
        SoftwareCardBuilder::new(certificate)
            .ca_certificate(self.ca_certificate_der())
            .key(key)
            .auth_pin(pin)
            .facts(CardHolderFacts::from(patient))
            .card_info_pin(pin)
            .build()
    }
}

/// The four basic facts of a synthetic patient, as their card holds them.
impl From<&population::SyntheticPatient> for CardHolderFacts {
    fn from(patient: &population::SyntheticPatient) -> Self {
        CardHolderFacts {
            name: patient.header.name.clone(),
            address: patient.address.clone(),
            birth_date: patient.header.birth_date,
            sex: patient.header.sex,
        }
    }
}

fn check_serial(serial: &[u8]) -> Result<()> {
    if !(1..=20).contains(&serial.len()) {
        return Err(Error::InvalidRequest("serial must be 1 to 20 bytes"));
    }
    Ok(())
}

fn common_name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

/// Year, month and day of `date` for `rcgen::date_time_ymd` (midnight UTC), which
/// panics outside the `time` crate's range: stay well inside it.
fn ymd(date: NaiveDate) -> Result<(i32, u8, u8)> {
    if !(1950..=9999).contains(&date.year()) {
        return Err(Error::InvalidRequest(
            "certificate dates must be in years 1950 to 9999",
        ));
    }
    // Month and day come from a valid date, so they fit in u8.
    Ok((date.year(), date.month() as u8, date.day() as u8))
}

fn offset_date_time(at: DateTime<Utc>) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at.timestamp())
        .map_err(|_| Error::InvalidRequest("date out of range"))
}
