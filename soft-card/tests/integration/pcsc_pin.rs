//! The PIN paths through pcscd: a signature with the right PIN, a wrong PIN spending one
//! try, and the retry guard that never sends a PIN with one try left or none.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use mobile_core::card::apdu;
use mobile_core::card::input_support::{
    EF_INPUT_SUPPORT_PIN, INPUT_SUPPORT_AP_AID, read_basic_facts,
};
use mobile_core::card::jpki::{EF_AUTH_PIN, JPKI_AP_AID, auth_pin_tries, sign_challenge};
use mobile_core::{CardError, CardLinkError, CardTransport, Pin, PinTries, StatusError};
use myna_domain::certificate::CardCertificate;
use myna_domain::identity::Sex;
use soft_card::{CardHolderFacts, CardPin, SoftwareCard};

use crate::pcsc::{AUTH_PIN, FIRST, SECOND, WRONG_PIN, card, certificate};

const CHALLENGE: &[u8] = b"edge challenge 7f3a";

/// A transport that notes every command before passing it on: what the tablet core sent.
struct Recorded<'a> {
    link: &'a dyn CardTransport,
    sent: Mutex<Vec<Vec<u8>>>,
}

impl<'a> Recorded<'a> {
    fn new(link: &'a dyn CardTransport) -> Self {
        Recorded {
            link,
            sent: Mutex::new(Vec::new()),
        }
    }

    fn sent(&self) -> Vec<Vec<u8>> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl CardTransport for Recorded<'_> {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(command.clone());
        self.link.transmit(command)
    }
}

fn pin(digits: &str) -> Pin {
    Pin::new(digits).unwrap()
}

/// What a PIN path sends before the guard decides: select the application and the PIN
/// EF, then ask the counter with a VERIFY that carries no PIN.
fn counter_query(aid: &[u8], pin_ef: [u8; 2]) -> Vec<Vec<u8>> {
    vec![
        apdu::select_aid(aid).unwrap(),
        apdu::select_ef(pin_ef),
        apdu::verify_status(),
    ]
}

#[test]
fn pcsc_pin_ok_signs_a_challenge() {
    let slot = SECOND.take();
    let card = card(2, 3);
    let _inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();

    let signature = sign_challenge(&transport, &pin(AUTH_PIN), CHALLENGE).unwrap();
    assert_eq!(signature.len(), 256);
    let der = certificate(2);
    CardCertificate::verify_signature(&der, CHALLENGE, &signature)
        .expect("the card's signature verifies against its certificate");
    assert!(
        CardCertificate::verify_signature(&der, b"another challenge", &signature).is_err(),
        "the check is not vacuous"
    );
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 3);
}

#[test]
fn pcsc_wrong_pin_decreases_the_counter() {
    let slot = FIRST.take();
    let card = card(3, 3);
    let inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();

    assert_eq!(
        sign_challenge(&transport, &pin(WRONG_PIN), CHALLENGE),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 2 }))
    );
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);

    // Asking the counter spends nothing, however often.
    for _ in 0..2 {
        let served = inserted.apdus_served();
        assert_eq!(auth_pin_tries(&transport), Ok(PinTries::Left(2)));
        assert_eq!(inserted.apdus_served() - served, 3);
    }
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);

    // The right PIN, with two tries left, still gets through and resets the counter.
    let signature = sign_challenge(&transport, &pin(AUTH_PIN), CHALLENGE).unwrap();
    CardCertificate::verify_signature(&certificate(3), CHALLENGE, &signature).unwrap();
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 3);
}

#[test]
fn pcsc_guard_refuses_at_one_remaining_try() {
    let slot = SECOND.take();
    let card = Arc::new(
        SoftwareCard::builder(certificate(4))
            .auth_pin(AUTH_PIN)
            .auth_pin_tries_left(1)
            .facts(CardHolderFacts {
                name: "鈴木 一郎".into(),
                address: "大阪府大阪市北区".into(),
                birth_date: NaiveDate::from_ymd_opt(1940, 5, 3).unwrap(),
                sex: Sex::Male,
            })
            .card_info_pin_tries_left(1)
            .build()
            .unwrap(),
    );
    let inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();

    // A wrong PIN: had it been sent, the card would now be blocked.
    let link = Recorded::new(&transport);
    assert_eq!(
        sign_challenge(&link, &pin(WRONG_PIN), CHALLENGE),
        Err(CardError::PinGuard { tries_left: 1 })
    );
    assert_eq!(link.sent(), counter_query(&JPKI_AP_AID, EF_AUTH_PIN));
    // The card received exactly those three commands through pcscd, and no try was spent.
    assert_eq!(inserted.apdus_served(), 3);
    assert_eq!(card.exchanges(), 3);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 1);

    // The card-info PIN has the same guard.
    let link = Recorded::new(&transport);
    assert_eq!(
        read_basic_facts(&link, &pin(WRONG_PIN)),
        Err(CardError::PinGuard { tries_left: 1 })
    );
    assert_eq!(
        link.sent(),
        counter_query(&INPUT_SUPPORT_AP_AID, EF_INPUT_SUPPORT_PIN)
    );
    assert_eq!(inserted.apdus_served(), 6);
    assert_eq!(card.pin_tries_left(CardPin::CardInfo), 1);
}

#[test]
fn pcsc_blocked_pin_is_reported() {
    let slot = FIRST.take();
    let card = card(5, 0);
    let inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();

    let link = Recorded::new(&transport);
    assert_eq!(
        sign_challenge(&link, &pin(AUTH_PIN), CHALLENGE),
        Err(CardError::Status(StatusError::PinBlocked))
    );
    // Only the counter query: not the PIN, not the signature.
    assert_eq!(link.sent(), counter_query(&JPKI_AP_AID, EF_AUTH_PIN));
    assert_eq!(inserted.apdus_served(), 3);
    assert_eq!(auth_pin_tries(&transport), Ok(PinTries::Blocked));
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 0);
}
