//! The patient's side of the portal sign-in (マイナポータル風のログイン): the patient's
//! app reads their card's user-authentication certificate and has the card sign the
//! portal's challenge, behind the same PIN guard as the tablet.
//!
//! The card signs [`portal_sign_in_message`] of the challenge (a fixed portal prefix,
//! then the challenge bytes), never the bare challenge a tablet's PIN identification
//! signs, so one signature can never be replayed for the other purpose. The app gets the
//! challenge from `POST /portal/v1/sign-in/challenges` and sends the result to
//! `POST /portal/v1/sign-in`.

use myna_domain::certificate::portal_sign_in_message;
use myna_domain::identity::ChallengeId;
use myna_domain::wire::PortalSignInRequest;

use super::error::CardError;
use super::jpki;
use super::pin::Pin;
use super::transport::CardTransport;

/// Reads the card's user-authentication certificate (no PIN) and signs the portal
/// message over `challenge` with `pin` ([`jpki::sign_challenge`]: the retry counter is
/// asked first and the PIN is not sent with one try or none left). Returns the body of
/// `POST /portal/v1/sign-in`. Blocking: call it off the UI thread.
pub fn sign_in_to_portal(
    transport: &dyn CardTransport,
    pin: &Pin,
    challenge_id: ChallengeId,
    challenge: &[u8],
) -> Result<PortalSignInRequest, CardError> {
    let certificate_der = jpki::read_auth_certificate(transport)?;
    let signature = jpki::sign_challenge(transport, pin, &portal_sign_in_message(challenge))?;
    Ok(PortalSignInRequest::new(
        &certificate_der,
        challenge_id,
        &signature,
    ))
}
