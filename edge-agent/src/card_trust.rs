//! Card trust: is this card certificate genuine, and still good? (JPKI chain and revocation)
//!
//! A card certificate is readable by anyone without a PIN, and anyone can make a
//! certificate with a patient's serial number. The edge therefore accepts a card only if:
//! 1. its issuer is one of the deployment's JPKI CA certificates (the trust anchors) and
//!    its signature verifies with that CA's key (`x509-parser`'s `verify`, backed by
//!    `ring`: RSA PKCS#1 v1.5 with SHA-256/384/512, RSA-PSS, ECDSA P-256/P-384);
//! 2. its serial is not on a revocation list (CRL, 失効リスト) of its issuer: serials are
//!    unique per issuer name (RFC 5280 §4.1.2.2), so a CRL that verifies with any trusted
//!    CA of that name (say the new key after a key rollover) revokes cards issued under
//!    every key of that name;
//! 3. it is within its validity period.
//!
//! Only a certificate that passed step 1 becomes a [`GenuineCard`], and only a
//! [`GenuineCard`] can be looked up in the patient table
//! ([`crate::store::Tx::patient_by_card`]): a forged certificate never causes a lookup.
//!
//! Deliberately absent: intermediate CAs (JPKI issues user-authentication certificates
//! directly from its CA), OCSP, fetching CRLs (the deployment installs them; a CRL past its
//! next update is still honoured and [`CardTrust::stale_crls`] reports it), and SHA-1
//! signatures (refused).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use myna_domain::access::DenialReason;
use myna_domain::certificate::{CardCertificate, Validity};
use x509_parser::num_bigint::BigUint;
use x509_parser::oid_registry::{OID_PKCS1_SHA1WITHRSA, OID_SHA1_WITH_RSA};
use x509_parser::prelude::{
    CertificateRevocationList, FromDer, SubjectPublicKeyInfo, X509Certificate,
};

use crate::error::{Error, Result};

/// A card certificate issued by a trusted card CA: its issuer is a trust anchor and its
/// signature verifies with the anchor's key. It may still be revoked or expired; only
/// [`CardTrust::check`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenuineCard(CardCertificate);

impl GenuineCard {
    /// The certificate's facts (issuer, serial, validity).
    pub fn certificate(&self) -> &CardCertificate {
        &self.0
    }
}

/// Why a card certificate is not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardProblem {
    /// Not a parseable X.509 certificate.
    Malformed,
    /// Not issued by a trusted card CA: unknown issuer, a signature that does not verify
    /// with the CA's key, a SHA-1 signature, or a CA certificate presented as a card.
    UntrustedIssuer,
    /// Genuine, but on a revocation list (CRL) of its issuer name.
    Revoked(GenuineCard),
    /// Genuine and not revoked, but past its validity.
    Expired(GenuineCard),
    /// Genuine and not revoked, but before its validity.
    NotYetValid(GenuineCard),
}

impl CardProblem {
    /// The denial an identification attempt with this card gets.
    pub fn denial_reason(&self) -> DenialReason {
        match self {
            CardProblem::Malformed => DenialReason::CertificateInvalid,
            CardProblem::UntrustedIssuer => DenialReason::CertificateUntrusted,
            CardProblem::Revoked(_) => DenialReason::CertificateRevoked,
            CardProblem::Expired(_) | CardProblem::NotYetValid(_) => {
                DenialReason::CertificateNotValidNow
            }
        }
    }

    /// Stable code of the problem (metric label `reason`).
    pub fn code(&self) -> &'static str {
        match self {
            CardProblem::Malformed => "malformed",
            CardProblem::UntrustedIssuer => "untrusted_issuer",
            CardProblem::Revoked(_) => "revoked",
            CardProblem::Expired(_) => "expired",
            CardProblem::NotYetValid(_) => "not_yet_valid",
        }
    }

    /// The card, when it is genuine (issued by a trusted CA) but not usable now.
    pub fn genuine_card(&self) -> Option<&GenuineCard> {
        match self {
            CardProblem::Revoked(card)
            | CardProblem::Expired(card)
            | CardProblem::NotYetValid(card) => Some(card),
            CardProblem::Malformed | CardProblem::UntrustedIssuer => None,
        }
    }
}

/// A CRL whose next update has passed: still honoured, but the deployment should
/// install a fresh one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleCrl {
    /// Issuer of the CRL (a CA name, never personal data).
    pub issuer: String,
    /// When the CA said it would publish the next CRL.
    pub next_update: DateTime<Utc>,
}

/// One trusted card CA.
#[derive(Clone)]
struct Authority {
    /// Subject name, RFC 4514 (for logs).
    name: String,
    /// Subject name, DER; compared byte for byte with a card's issuer.
    subject_der: Vec<u8>,
    /// SubjectPublicKeyInfo, DER.
    spki_der: Vec<u8>,
    /// End of the CA certificate's own validity (reported, not enforced).
    not_after: DateTime<Utc>,
}

/// What the CRLs of one issuer name revoke. Serials are unique per issuer name, not per
/// key, so this is shared by every trusted CA of that name (old and new key after a
/// rollover).
#[derive(Clone)]
struct Revocations {
    /// Issuer name, RFC 4514 (for logs).
    issuer: String,
    /// Serials revoked by CRLs of this issuer name that verified with a trusted CA's key.
    revoked: HashSet<BigUint>,
    /// Next update of each CRL loaded for this issuer name, when the CRL states one.
    crl_next_updates: Vec<DateTime<Utc>>,
}

impl Authority {
    fn from_der(index: usize, der: &[u8]) -> Result<Self> {
        let cert = parse_certificate(der)
            .map_err(|reason| Error::Config(format!("card CA {index}: {reason}")))?;
        if !cert.is_ca() {
            return Err(Error::Config(format!(
                "card CA {index} ({}) is not a CA certificate (basicConstraints cA is not set)",
                cert.subject()
            )));
        }
        Ok(Authority {
            name: cert.subject().to_string(),
            subject_der: cert.subject().as_raw().to_vec(),
            spki_der: cert.public_key().raw.to_vec(),
            not_after: timestamp(cert.validity().not_after.timestamp()),
        })
    }

    /// The CA's key. It parsed when the CA was loaded, so it parses again.
    fn key(&self) -> Option<SubjectPublicKeyInfo<'_>> {
        SubjectPublicKeyInfo::from_der(&self.spki_der)
            .ok()
            .map(|(_, spki)| spki)
    }

    /// Whether this CA issued `cert`: same name, and the signature verifies with its key.
    fn issued(&self, cert: &X509Certificate<'_>) -> bool {
        cert.issuer().as_raw() == self.subject_der.as_slice()
            && self
                .key()
                .is_some_and(|key| cert.verify_signature(Some(&key)).is_ok())
    }

    /// Whether this CA signed `crl`.
    fn signed(&self, crl: &CertificateRevocationList<'_>) -> bool {
        crl.issuer().as_raw() == self.subject_der.as_slice()
            && self
                .key()
                .is_some_and(|key| crl.verify_signature(&key).is_ok())
    }
}

/// The deployment's trust in My Number card certificates: the JPKI CA certificates it
/// accepts and the CRLs they published. [`CardTrust::default`] trusts nothing, so every
/// card is refused until the deployment configures its CA (deny by default).
#[derive(Clone, Default)]
pub struct CardTrust {
    authorities: Vec<Authority>,
    /// Revocations by issuer name (subject DER of the trusted CAs whose CRLs were loaded).
    revocations: BTreeMap<Vec<u8>, Revocations>,
}

impl std::fmt::Debug for CardTrust {
    /// CA names and revocation counts, not key material or serial lists.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for a in &self.authorities {
            let revoked = self
                .revocations_of(&a.subject_der)
                .map_or(0, |r| r.revoked.len());
            list.entry(&format_args!("{} ({revoked} revoked)", a.name));
        }
        list.finish()
    }
}

impl CardTrust {
    /// Trusts the CA certificates `ca_ders` (DER) and honours the CRLs `crl_ders` (DER).
    ///
    /// Every CRL must be issued by one of these CAs and verify with its key; a CRL that
    /// does not is a configuration error (an unverifiable CRL would silently revoke
    /// nothing). So is a certificate that is not a CA. A CRL revokes its serials for its
    /// issuer name, whichever key of that name signed it.
    pub fn new(ca_ders: Vec<Vec<u8>>, crl_ders: Vec<Vec<u8>>) -> Result<Self> {
        let authorities = ca_ders
            .iter()
            .enumerate()
            .map(|(i, der)| Authority::from_der(i, der))
            .collect::<Result<Vec<_>>>()?;
        let mut revocations = BTreeMap::<Vec<u8>, Revocations>::new();
        for (index, der) in crl_ders.iter().enumerate() {
            let (rest, crl) = CertificateRevocationList::from_der(der)
                .map_err(|e| Error::Config(format!("card CRL {index} is not valid DER: {e}")))?;
            if !rest.is_empty() {
                return Err(Error::Config(format!(
                    "card CRL {index} has {} trailing bytes",
                    rest.len()
                )));
            }
            let Some(signer) = authorities.iter().find(|a| a.signed(&crl)) else {
                return Err(Error::Config(format!(
                    "card CRL {index} (issuer {}) does not verify with any configured card CA",
                    crl.issuer()
                )));
            };
            let entry = revocations
                .entry(signer.subject_der.clone())
                .or_insert_with(|| Revocations {
                    issuer: signer.name.clone(),
                    revoked: HashSet::new(),
                    crl_next_updates: Vec::new(),
                });
            entry
                .revoked
                .extend(crl.iter_revoked_certificates().map(|r| r.serial().clone()));
            entry
                .crl_next_updates
                .extend(crl.next_update().map(|t| timestamp(t.timestamp())));
        }
        Ok(CardTrust {
            authorities,
            revocations,
        })
    }

    /// What the loaded CRLs of the issuer named `subject_der` (DER) revoke, if any.
    fn revocations_of(&self, subject_der: &[u8]) -> Option<&Revocations> {
        self.revocations.get(subject_der)
    }

    /// True when no CA is configured: every card certificate is refused.
    pub fn is_empty(&self) -> bool {
        self.authorities.is_empty()
    }

    /// Names of the trusted CAs (RFC 4514).
    pub fn authority_names(&self) -> impl Iterator<Item = &str> {
        self.authorities.iter().map(|a| a.name.as_str())
    }

    /// CRLs whose next update is before `now`. They are still honoured.
    pub fn stale_crls(&self, now: DateTime<Utc>) -> Vec<StaleCrl> {
        self.revocations
            .values()
            .flat_map(|r| {
                r.crl_next_updates
                    .iter()
                    .filter(move |next| **next < now)
                    .map(|next| StaleCrl {
                        issuer: r.issuer.clone(),
                        next_update: *next,
                    })
            })
            .collect()
    }

    /// Whether revocation checking is current at `now` (readiness): a card CA is
    /// configured, a CRL is loaded for each CA name, and no CRL is past its next update.
    pub fn crls_current(&self, now: DateTime<Utc>) -> bool {
        !self.is_empty()
            && self
                .authorities
                .iter()
                .all(|a| self.revocations_of(&a.subject_der).is_some())
            && self.stale_crls(now).is_empty()
    }

    /// Logs what the edge trusts at startup: a warning when no CA is configured, for each
    /// CA certificate past its validity, and for each CRL past its next update.
    pub fn log_status(&self, now: DateTime<Utc>) {
        if self.is_empty() {
            tracing::warn!("no card CA configured: every card certificate will be refused");
        }
        for authority in &self.authorities {
            let revocations = self.revocations_of(&authority.subject_der);
            tracing::info!(
                ca = %authority.name,
                revoked = revocations.map_or(0, |r| r.revoked.len()),
                crls = revocations.map_or(0, |r| r.crl_next_updates.len()),
                "trusting card CA"
            );
            if authority.not_after < now {
                tracing::warn!(ca = %authority.name, not_after = %authority.not_after, "card CA certificate has expired");
            }
        }
        for stale in self.stale_crls(now) {
            tracing::warn!(
                ca = %stale.issuer,
                next_update = %stale.next_update,
                "card CRL is past its next update; still honoured, install a fresh one"
            );
        }
    }

    /// Checks a card certificate: chain to a trusted CA, then revocation, then validity
    /// at `now`. A revoked card is reported as revoked even when it has also expired.
    /// Each refusal counts in `edge_card_trust_refusals_total{reason}`.
    pub fn check(&self, der: &[u8], now: DateTime<Utc>) -> Result<GenuineCard, CardProblem> {
        self.verdict(der, now).inspect_err(|problem| {
            metrics::counter!("edge_card_trust_refusals_total", "reason" => problem.code())
                .increment(1);
        })
    }

    fn verdict(&self, der: &[u8], now: DateTime<Utc>) -> Result<GenuineCard, CardProblem> {
        let facts = CardCertificate::from_der(der).map_err(|_| CardProblem::Malformed)?;
        let cert = parse_certificate(der).map_err(|_| CardProblem::Malformed)?;
        let sha1 = [&OID_PKCS1_SHA1WITHRSA, &OID_SHA1_WITH_RSA];
        if cert.is_ca() || sha1.contains(&&cert.signature_algorithm.algorithm) {
            return Err(CardProblem::UntrustedIssuer);
        }
        let authority = self
            .authorities
            .iter()
            .find(|a| a.issued(&cert))
            .ok_or(CardProblem::UntrustedIssuer)?;
        let card = GenuineCard(facts);
        // By issuer name, not by the key that issued the card: a CRL signed with another
        // key of the same name (a key rollover) is just as authoritative.
        if self
            .revocations_of(&authority.subject_der)
            .is_some_and(|r| r.revoked.contains(&cert.serial))
        {
            return Err(CardProblem::Revoked(card));
        }
        match card.0.validity_at(now) {
            Validity::Valid => Ok(card),
            Validity::Expired => Err(CardProblem::Expired(card)),
            Validity::NotYetValid => Err(CardProblem::NotYetValid(card)),
        }
    }
}

/// Parses one DER certificate, refusing trailing bytes. The error names what broke.
fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok((rest, _)) => Err(format!("{} trailing bytes", rest.len())),
        Err(e) => Err(format!("not valid X.509 DER: {e}")),
    }
}

/// A certificate time as UTC; times outside chrono's range clamp to its ends.
fn timestamp(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap_or(if seconds < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

#[cfg(test)]
mod tests;
