//! A patient's sign-in to the portal with their My Number card (マイナンバーカードでの
//! ログイン): the card signs a one-time server challenge with its user-authentication key
//! after the patient entered their PIN (on the patient's own phone or reader, through
//! the app: a browser cannot talk to the card), and the edge checks that signature
//! against the card's certificate.
//!
//! # The bytes
//! [`issue_challenge`] makes 32 random bytes `c`, valid for the configured challenge
//! lifetime (2 minutes), stored in `portal_challenges` (not `identity_challenges`). The card
//! signs, with RSASSA-PKCS1-v1_5 and SHA-256, the message
//! `"myna-emergency portal sign-in v1" || 0x00 || c` (65 bytes,
//! [`portal_sign_in_message`]); the host sends it the DER DigestInfo of SHA-256 of that
//! message. A tablet's PIN identification signs the bare 32-byte challenge instead, so a
//! signature made for one purpose never verifies for the other, and a challenge id of one
//! table is unknown to the other.
//!
//! # Order of checks ([`sign_in`]), stopping at the first failure
//! 1. take the challenge: it is deleted by the first attempt that names it, whatever the
//!    outcome (single use even on failure), and refused at or after its expiry;
//! 2. [`CardTrust::check`]: issued by a trusted JPKI CA, not revoked, valid now;
//! 3. the signature over the portal message, against the certificate's key;
//! 4. the patient by card ([`Tx::patient_by_card`]: only a [`GenuineCard`]).
//!
//! The client sees one answer for every failure; only the log says which check failed,
//! with no personal data.
//!
//! # No access record for a failed sign-in
//! A failed identification on a tablet is an access record, because a registered tablet
//! made it. A failed portal sign-in is not: the endpoint needs no credentials (and has no
//! rate limit yet), and a card's certificate is readable by anyone holding the card,
//! without the PIN, so recording bad-signature attempts would let anyone with a copy of a
//! certificate grow the patient's append-only, never-purged log without bound. A sign-in
//! discloses nothing, and the access log records institutions' access to records: it has
//! no viewer or purpose for a patient's own sign-in. A patient-visible list of sign-in
//! attempts belongs with the rate limiting of this endpoint.

use chrono::{DateTime, Utc};
use myna_domain::access::DenialReason;
use myna_domain::certificate::{CardCertificate, portal_sign_in_message};
use myna_domain::identity::{ChallengeId, PatientId};
use myna_domain::wire::PortalSignInRequest;
use rand::RngCore;

use crate::card_trust::{CardTrust, GenuineCard};
use crate::error::Result;
use crate::identify::CHALLENGE_BYTES;
use crate::store::{PortalChallengeRow, Tx};

/// Issues a fresh portal challenge, valid for `ttl`, and purges expired ones.
pub fn issue_challenge(
    tx: &Tx<'_>,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<PortalChallengeRow> {
    tx.purge_expired_portal_challenges(now)?;
    let mut challenge = vec![0; CHALLENGE_BYTES];
    rand::rng().fill_bytes(&mut challenge);
    let row = PortalChallengeRow {
        id: ChallengeId(uuid::Uuid::new_v4()),
        challenge,
        issued_at: now,
        expires_at: now + ttl,
    };
    tx.insert_portal_challenge(&row)?;
    Ok(row)
}

/// The patient whose card signed `request`'s challenge, or why not (see the module docs
/// for the order). Writes nothing but the spending of the challenge; the caller opens the
/// session in the same transaction.
pub fn sign_in(
    tx: &Tx<'_>,
    request: &PortalSignInRequest,
    trust: &CardTrust,
    now: DateTime<Utc>,
) -> Result<std::result::Result<PatientId, DenialReason>> {
    let challenge = match tx.take_portal_challenge(request.challenge_id)? {
        Some(row) if now < row.expires_at => row.challenge,
        Some(_) | None => return Ok(Err(DenialReason::ChallengeInvalid)),
    };
    let Ok((certificate_der, signature)) = request.decode() else {
        return Ok(Err(DenialReason::CertificateInvalid));
    };
    let card: GenuineCard = match trust.check(&certificate_der, now) {
        Ok(card) => card,
        Err(problem) => return Ok(Err(problem.denial_reason())),
    };
    let message = portal_sign_in_message(&challenge);
    if CardCertificate::verify_signature(&certificate_der, &message, &signature).is_err() {
        return Ok(Err(DenialReason::SignatureInvalid));
    }
    Ok(tx
        .patient_by_card(&card)?
        .ok_or(DenialReason::UnknownPatient))
}
