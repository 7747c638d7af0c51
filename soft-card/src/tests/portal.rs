//! mobile-core's portal sign-in (`mobile_core::card::portal::sign_in_to_portal`) against
//! the software card: the certificate it sends is the card's, the signature verifies over
//! the portal message only, and the PIN guard holds.

use mobile_core::card::portal::sign_in_to_portal;
use mobile_core::card::{CardError, Pin, StatusError};
use myna_domain::certificate::portal_sign_in_message;
use myna_domain::identity::ChallengeId;

use super::*;

const CHALLENGE: [u8; 32] = [0x3c; 32];

fn challenge_id() -> ChallengeId {
    ChallengeId(uuid::Uuid::from_u128(7))
}

fn sign(card: &SoftwareCard, pin: &str) -> Result<(Vec<u8>, Vec<u8>), CardError> {
    let request = sign_in_to_portal(card, &Pin::new(pin).unwrap(), challenge_id(), &CHALLENGE)?;
    assert_eq!(request.challenge_id, challenge_id());
    Ok(request.decode().unwrap())
}

#[test]
fn portal_sign_in_signs_the_portal_message_with_the_card_key() {
    let card = full_card();
    let (certificate, signature) = sign(&card, "1234").unwrap();
    assert_eq!(certificate, issued());
    CardCertificate::verify_signature(
        &certificate,
        &portal_sign_in_message(&CHALLENGE),
        &signature,
    )
    .expect("verifies over the portal message");
    assert!(
        CardCertificate::verify_signature(&certificate, &CHALLENGE, &signature).is_err(),
        "not a tablet-purpose signature"
    );
}

#[test]
fn portal_sign_in_never_sends_the_pin_with_one_try_left() {
    let card = full_card();
    assert_eq!(
        sign(&card, "0000"),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 2 }))
    );
    assert_eq!(
        sign(&card, "0000"),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 1 }))
    );
    let exchanges = card.exchanges();
    // Even the right PIN is not sent now: one more mistake would block the card.
    assert_eq!(
        sign(&card, "1234"),
        Err(CardError::PinGuard { tries_left: 1 })
    );
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 1);
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));
    assert!(card.exchanges() > exchanges, "the counter was asked");

    let blocked = SoftwareCard::builder(issued())
        .key(card_key())
        .auth_pin("1234")
        .auth_pin_tries_left(0)
        .build()
        .unwrap();
    assert!(matches!(
        sign(&blocked, "1234"),
        Err(CardError::Status(StatusError::PinBlocked))
    ));
    assert_eq!(blocked.pin_tries_left(CardPin::UserAuthentication), 0);
}
