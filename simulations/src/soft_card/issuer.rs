//! The development stand-in for the JPKI certification authority (J-LIS): an RSA-2048 CA
//! signing with sha256WithRSAEncryption like JPKI, per-card RSA-2048 keys, user-
//! authentication certificates, CRLs, and the cards of synthetic patients.
//!
//! Keys come from the `rsa` crate (rcgen's ring backend cannot generate RSA keys, but it
//! signs with one imported from PKCS#8). RUSTSEC-2023-0071 (the Marvin timing side
//! channel in `rsa`) does not matter here: these keys protect test data only, on a
//! software card nobody can time over a network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, ensure};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair,
    KeyUsagePurpose, RevokedCertParams, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use time::OffsetDateTime;

use super::facts::CardHolderFacts;
use super::{SoftwareCard, SoftwareCardBuilder};

pub use population::CARD_ISSUER_CN;

/// Subject common name of every issued certificate: a fixed label, never personal data.
pub const CARD_SUBJECT_CN: &str = "JPKI user authentication";
/// Modulus size of the CA and card keys, as on real cards.
pub const CARD_KEY_BITS: usize = 2048;

/// A fresh RSA-2048 key (about 0.1 to 1 s): create one per card, when the card is made.
pub fn generate_card_key() -> anyhow::Result<rsa::PrivateKey> {
    rsa::PrivateKey::new(&mut getrandom::SysRng, CARD_KEY_BITS).context("generating an RSA key")
}

/// `key` as an rcgen key pair signing with sha256WithRSAEncryption.
fn rcgen_key(key: &rsa::PrivateKey) -> anyhow::Result<KeyPair> {
    let pkcs8 = key.to_pkcs8_der().context("encoding the RSA key")?;
    KeyPair::try_from(pkcs8.as_bytes()).context("importing the RSA key into rcgen")
}

/// The test-only PIN of a synthetic patient's card: four digits derived from the patient
/// id, the same for both PINs (as real cards usually are). Public knowledge by design:
/// never use it for anything but synthetic data.
pub fn dev_pin(patient: &population::SyntheticPatient) -> String {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let hash = patient
        .header
        .id
        .0
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{:04}", hash % 10_000)
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
    pub fn new() -> anyhow::Result<Self> {
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
    pub fn generate() -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(vec![])?;
        params.distinguished_name = common_name(CARD_ISSUER_CN);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = rcgen::date_time_ymd(2014, 1, 1);
        params.not_after = rcgen::date_time_ymd(2060, 1, 1);
        let ca_key = rcgen_key(&generate_card_key()?)?;
        let ca_certificate = params.self_signed(&ca_key).context("self-signing the CA")?;
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
    ) -> anyhow::Result<Vec<u8>> {
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
    ) -> anyhow::Result<Vec<u8>> {
        check_serial(serial)?;
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
        let certificate = params
            .signed_by(
                &rcgen_key(key)?,
                &self.authority.ca_certificate,
                &self.authority.ca_key,
            )
            .context("signing the card certificate")?;
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
    ) -> anyhow::Result<Vec<u8>> {
        ensure!(
            this_update < next_update,
            "next_update must follow this_update"
        );
        let crl_number =
            u64::try_from(this_update.timestamp()).context("this_update before 1970")?;
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
            .collect::<anyhow::Result<_>>()?;
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
            .context("signing the CRL")?;
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
    ) -> anyhow::Result<SoftwareCard> {
        // Check before the costly key generation.
        ensure!(patient.card.is_some(), "this patient has no My Number card");
        self.card_with_key(patient, pin, generate_card_key()?)
    }

    /// [`DevCardIssuer::card_for`] with `key` instead of a fresh one.
    pub fn card_with_key(
        &self,
        patient: &population::SyntheticPatient,
        pin: &str,
        key: rsa::PrivateKey,
    ) -> anyhow::Result<SoftwareCard> {
        let card = patient
            .card
            .as_ref()
            .context("this patient has no My Number card")?;
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

fn check_serial(serial: &[u8]) -> anyhow::Result<()> {
    ensure!(
        (1..=20).contains(&serial.len()),
        "serial must be 1 to 20 bytes"
    );
    Ok(())
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

fn offset_date_time(at: DateTime<Utc>) -> anyhow::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(at.timestamp()).context("date out of range")
}

/// The cards of one synthetic population, each created (key, certificate) the first time
/// it is asked for and kept: the same patient always taps the same card, PIN counters
/// included. Nothing is generated up front.
pub struct PopulationCards {
    seed: u64,
    today: NaiveDate,
    issuer: DevCardIssuer,
    /// One key for every card, when set ([`PopulationCards::sharing_one_key`]).
    shared_key: Option<rsa::PrivateKey>,
    cards: Mutex<HashMap<u64, Arc<SoftwareCard>>>,
}

impl std::fmt::Debug for PopulationCards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopulationCards")
            .field("seed", &self.seed)
            .field("created", &self.created())
            .finish_non_exhaustive()
    }
}

impl PopulationCards {
    /// No cards yet; the population `seed` as of `today`, issued by `issuer`.
    pub fn new(issuer: DevCardIssuer, seed: u64, today: NaiveDate) -> Self {
        PopulationCards {
            seed,
            today,
            issuer,
            shared_key: None,
            cards: Mutex::new(HashMap::new()),
        }
    }

    /// These cards, all made with one RSA key generated now (blocking) instead of a key
    /// each: for load simulations that tap tens of thousands of different cards, where
    /// generating a key per card (0.1 to 1 s each) would cost more than the day being
    /// simulated. Certificates, serials and PINs stay per card, and the edge identifies a
    /// card by issuer and serial, so nothing it checks changes; only signatures of two
    /// cards share a key.
    pub fn sharing_one_key(mut self) -> anyhow::Result<Self> {
        self.shared_key = Some(generate_card_key()?);
        Ok(self)
    }

    /// The CA that issued every card of this population.
    pub fn issuer(&self) -> &DevCardIssuer {
        &self.issuer
    }

    /// The population's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The day the population is generated for.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The card of patient `index`, PINs [`dev_pin`]: created now if this is the first
    /// time (blocking: RSA key generation). Fails if the patient has no card.
    pub fn card(&self, index: u64) -> anyhow::Result<Arc<SoftwareCard>> {
        if let Some(card) = self.lock().get(&index) {
            return Ok(Arc::clone(card));
        }
        // Generate without holding the lock; if two callers race, the first insert wins.
        let patient = population::patient(self.seed, index, self.today);
        let pin = dev_pin(&patient);
        let card = match &self.shared_key {
            Some(key) => self.issuer.card_with_key(&patient, &pin, key.clone())?,
            None => self.issuer.card_for(&patient, &pin)?,
        };
        let card = Arc::new(card);
        Ok(Arc::clone(self.lock().entry(index).or_insert(card)))
    }

    /// How many cards exist so far.
    pub fn created(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<SoftwareCard>>> {
        self.cards.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
