//! JPKI reader tests over a scripted card. The helpers are shared with the incident
//! tests (`crate::card::jpki::tests::{ScriptedCard, Step, certificate_script}`).

use super::*;
use crate::card::CardLinkError;
use crate::card::exchange::READ_CHUNK;
pub(crate) use crate::card::scripted::{ScriptedCard, Step};
use crate::card::scripted::{ok, sw};

fn select_ap() -> Vec<u8> {
    apdu::select_aid(&JPKI_AP_AID).unwrap()
}

fn read(offset: u16, le: u8) -> Vec<u8> {
    apdu::read_binary(offset, le).unwrap()
}

/// A fake DER SEQUENCE with a `value_len`-byte value.
pub(crate) fn fake_der(value_len: u16) -> Vec<u8> {
    let [hi, lo] = value_len.to_be_bytes();
    let mut der = vec![0x30, 0x82, hi, lo];
    der.extend((0..value_len).map(|i| (i % 251) as u8));
    der
}

/// The exchanges reading `der` from EF 000A in the production chunking.
pub(crate) fn certificate_script(der: &[u8]) -> Vec<Step> {
    certificate_script_for(EF_AUTH_CERTIFICATE, der)
}

/// The exchanges reading `der` from `ef` in the production chunking.
fn certificate_script_for(ef: [u8; 2], der: &[u8]) -> Vec<Step> {
    let mut steps = vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(ef), ok(&[])),
        (read(0, 4), ok(&der[..4])),
    ];
    let mut offset = 4;
    while offset < der.len() {
        let n = READ_CHUNK.min(der.len() - offset);
        steps.push((read(offset as u16, n as u8), ok(&der[offset..offset + n])));
        offset += n;
    }
    steps
}

#[test]
fn reads_a_certificate_in_chunks() {
    let der = fake_der(300);
    let steps = certificate_script(&der);
    // Header, then 240 + 60 bytes.
    assert_eq!(steps.len(), 5);
    assert_eq!(steps[3].0, read(4, 0xF0));
    assert_eq!(steps[4].0, read(244, 60));
    let card = ScriptedCard::new(steps);
    assert_eq!(read_auth_certificate(&card), Ok(der));
    card.assert_done();
}

#[test]
fn reads_a_small_certificate_and_tolerates_short_chunks() {
    // One-byte length form: 0x30 0x05 ..., the probe already holds part of the value.
    let der = vec![0x30, 0x05, 1, 2, 3, 4, 5];
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
        (read(0, 4), ok(&der[..4])),
        (read(4, 3), ok(&der[4..5])),
        (read(5, 2), ok(&der[5..])),
    ]);
    assert_eq!(read_auth_certificate(&card), Ok(der));
    card.assert_done();
}

#[test]
fn card_without_jpki_is_not_a_my_number_card() {
    let card = ScriptedCard::new(vec![(select_ap(), sw(0x6A82))]);
    assert_eq!(
        read_auth_certificate(&card),
        Err(CardError::NotAMyNumberCard)
    );
}

#[test]
fn missing_certificate_file_is_a_status_error() {
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(EF_AUTH_CERTIFICATE), sw(0x6A82)),
    ]);
    assert_eq!(
        read_auth_certificate(&card),
        Err(CardError::Status(StatusError::FileNotFound))
    );
}

#[test]
fn response_without_status_word_is_malformed() {
    let card = ScriptedCard::new(vec![(select_ap(), Ok(vec![0x90]))]);
    assert!(matches!(
        read_auth_certificate(&card),
        Err(CardError::Malformed(_))
    ));
}

#[test]
fn bad_headers_and_short_files_are_rejected() {
    let script = |probe: &[u8]| {
        ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
            (read(0, 4), ok(probe)),
        ])
    };
    let malformed = |r| matches!(r, Err(CardError::Malformed(_)));
    assert!(malformed(read_auth_certificate(&script(&[
        0x04, 0x82, 0x01, 0x00
    ]))));
    assert!(malformed(read_auth_certificate(&script(&[
        0x30, 0x80, 0, 0
    ]))));
    assert!(malformed(read_auth_certificate(&script(&[0x30, 0x82]))));
    assert!(malformed(read_auth_certificate(&script(&[
        0x30, 0x82, 1, 0, 0
    ]))));
    assert_eq!(
        read_auth_certificate(&script(&[0x30, 0x82, 0x7F, 0xFF])),
        Err(CardError::Oversized {
            len: 0x7FFF + 4,
            max: MAX_CERTIFICATE_LEN
        })
    );
    // The file ends early: the card answers with no data.
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
        (read(0, 4), ok(&[0x30, 0x10, 0, 0])),
        (read(4, 14), ok(&[])),
    ]);
    assert!(malformed(read_auth_certificate(&card)));
}

#[test]
fn lost_card_surfaces_as_link_error() {
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (
            apdu::select_ef(EF_AUTH_CERTIFICATE),
            Err(CardLinkError::Lost),
        ),
    ]);
    assert_eq!(
        read_auth_certificate(&card),
        Err(CardError::Link(CardLinkError::Lost))
    );
}

#[test]
fn token_info_tells_the_card_kind() {
    let token = |data: &[u8]| {
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_TOKEN_INFO), ok(&[])),
            (read(0, 0x20), ok(data)),
        ]);
        let kind = read_token_info(&card);
        card.assert_done();
        kind
    };
    let mut padded = MY_NUMBER_CARD_TOKEN.to_vec();
    padded.resize(0x20, b' ');
    assert_eq!(token(&padded), Ok(CardKind::MyNumberCard));
    let mut juki = RESIDENT_REGISTRY_CARD_TOKEN.to_vec();
    juki.resize(0x20, b' ');
    assert_eq!(token(&juki), Ok(CardKind::ResidentRegistryCard));
    let mut phone = SMARTPHONE_JPKI_TOKEN.to_vec();
    phone.resize(0x20, b' ');
    assert_eq!(token(&phone), Ok(CardKind::SmartphoneJpki));
    assert_eq!(token(&[]), Ok(CardKind::Unknown));

    // A shorter EF: the card says the right Le, the reader asks again.
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(EF_TOKEN_INFO), ok(&[])),
        (read(0, 0x20), sw(0x6C0F)),
        (read(0, 0x0F), ok(MY_NUMBER_CARD_TOKEN)),
    ]);
    assert_eq!(read_token_info(&card), Ok(CardKind::MyNumberCard));
    card.assert_done();
}

#[test]
fn token_kinds_compare_the_trimmed_token_exactly() {
    fn check(token: &[u8], expected: CardKind) {
        assert_eq!(CardKind::from_token_info(token), expected, "{token:?}");
    }
    check(b"JPKIAPICCTOKEN2", CardKind::MyNumberCard);
    check(b"JPKIAPICCTOKEN2                 ", CardKind::MyNumberCard);
    check(b"JPKIAPICCTOKEN2\0\0\0", CardKind::MyNumberCard);
    check(
        b"JPKIAPICCTOKEN                  ",
        CardKind::ResidentRegistryCard,
    );
    check(
        b"JPKIAPGPSETOKEN                 ",
        CardKind::SmartphoneJpki,
    );
    check(b"JPKIAPICCTOKEN23", CardKind::Unknown);
    check(b"JPKIAPICCTOKEN2X", CardKind::Unknown);
    check(b" JPKIAPICCTOKEN2", CardKind::Unknown);
    check(b"JPKIAPICCTOKE", CardKind::Unknown);
    check(b"                ", CardKind::Unknown);
    check(&[0xFF; 0x20], CardKind::Unknown);
}

#[test]
fn reads_the_ca_certificate_from_ef_000b() {
    let der = fake_der(500);
    let card = ScriptedCard::new(certificate_script_for(EF_AUTH_CA_CERTIFICATE, &der));
    assert_eq!(read_ca_certificate(&card), Ok(der));
    card.assert_done();
}

#[test]
fn certificate_read_follows_get_response() {
    // A reader that answers READ BINARY with 61xx and the data on GET RESPONSE.
    let der = vec![0x30, 0x03, 1, 2, 3];
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
        (read(0, 4), sw(0x6104)),
        (apdu::get_response(4), ok(&der[..4])),
        (read(4, 1), ok(&der[4..])),
    ]);
    assert_eq!(read_auth_certificate(&card), Ok(der));
    card.assert_done();
}

// --- PIN guard and signature ---------------------------------------------------------

fn select_pin() -> Step {
    (apdu::select_ef(EF_AUTH_PIN), ok(&[]))
}

fn tries(status: u16) -> Step {
    (apdu::verify_status(), sw(status))
}

/// The PIN every scripted PIN exchange expects.
pub(crate) const SCRIPT_PIN: &str = "1234";

fn pin() -> Pin {
    Pin::new(SCRIPT_PIN).unwrap()
}

fn verify(answer: u16) -> Step {
    (apdu::verify(pin().digits()), sw(answer))
}

fn sign_steps(message: &[u8], answer: Result<Vec<u8>, CardLinkError>) -> Vec<Step> {
    let digest_info = sha256_digest_info(message);
    vec![
        (apdu::select_ef(EF_AUTH_KEY), ok(&[])),
        (
            apdu::compute_digital_signature(&digest_info).unwrap(),
            answer,
        ),
    ]
}

/// The exchanges of [`sign_challenge`] up to the retry query, which the card answers
/// with `tries_status` (`63C3`: three tries left). A guard refusal stops here.
pub(crate) fn pin_query_script(tries_status: u16) -> Vec<Step> {
    vec![(select_ap(), ok(&[])), select_pin(), tries(tries_status)]
}

/// [`pin_query_script`] with three tries left, then VERIFY with [`SCRIPT_PIN`] answered
/// with `verify_status` (`9000`, or `63C2` for a wrong PIN).
pub(crate) fn pin_verify_script(verify_status: u16) -> Vec<Step> {
    let mut steps = pin_query_script(0x63C3);
    steps.push(verify(verify_status));
    steps
}

/// Every exchange of a successful [`sign_challenge`] with [`SCRIPT_PIN`] over `message`,
/// the card answering `signature`.
pub(crate) fn signing_script(message: &[u8], signature: &[u8]) -> Vec<Step> {
    let mut steps = pin_verify_script(0x9000);
    steps.extend(sign_steps(message, ok(signature)));
    steps
}

#[test]
fn the_card_is_sent_the_domain_digest_info() {
    // The bytes themselves are tested beside `sha256_digest_info` in myna-domain; here,
    // that the COMPUTE DIGITAL SIGNATURE command carries exactly them.
    let info = sha256_digest_info(b"abc");
    let command = apdu::compute_digital_signature(&info).unwrap();
    assert_eq!(command[..5], [0x80, 0x2A, 0x00, 0x80, 0x33]);
    assert_eq!(command[5..5 + 0x33], info[..]);
    assert_eq!(command.len(), 5 + 0x33 + 1);
    assert_eq!(*command.last().unwrap(), 0x00);
}

#[test]
fn signs_after_checking_tries_and_verifying() {
    let signature = vec![0x5A; 256];
    let card = ScriptedCard::new(signing_script(b"challenge", &signature));
    assert_eq!(sign_challenge(&card, &pin(), b"challenge"), Ok(signature));
    card.assert_done();
}

#[test]
fn signature_arrives_through_get_response() {
    // T=0 style: 61 00 (256 bytes waiting), then GET RESPONSE with Le 00.
    let signature: Vec<u8> = (0..=255).collect();
    let mut steps = vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x63C2),
        verify(0x9000),
    ];
    steps.extend(sign_steps(b"c", sw(0x6100)));
    steps.push((apdu::get_response(0), ok(&signature)));
    let card = ScriptedCard::new(steps);
    assert_eq!(sign_challenge(&card, &pin(), b"c"), Ok(signature));
    card.assert_done();
}

#[test]
fn guard_refuses_with_one_try_left_and_sends_no_pin() {
    // The script ends after the retry query: a VERIFY with the PIN would be an
    // "unexpected extra command" and fail the test.
    let card = ScriptedCard::new(vec![(select_ap(), ok(&[])), select_pin(), tries(0x63C1)]);
    assert_eq!(
        sign_challenge(&card, &pin(), b"challenge"),
        Err(CardError::PinGuard { tries_left: 1 })
    );
    card.assert_done();
}

#[test]
fn blocked_pin_is_reported_without_sending_the_pin() {
    for blocked in [0x6983, 0x63C0] {
        let card = ScriptedCard::new(vec![(select_ap(), ok(&[])), select_pin(), tries(blocked)]);
        assert_eq!(
            sign_challenge(&card, &pin(), b"challenge"),
            Err(CardError::Status(StatusError::PinBlocked)),
            "SW {blocked:04X}"
        );
        card.assert_done();
    }
}

#[test]
fn wrong_pin_reports_the_tries_left() {
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x63C3),
        verify(0x63C2),
    ]);
    assert_eq!(
        sign_challenge(&card, &pin(), b"challenge"),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 2 }))
    );
    card.assert_done();

    // The third wrong try blocks the card.
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x63C2),
        verify(0x63C0),
    ]);
    assert_eq!(
        sign_challenge(&card, &pin(), b"challenge"),
        Err(CardError::Status(StatusError::PinBlocked))
    );
}

#[test]
fn an_already_verified_session_still_checks_the_pin_typed_now() {
    let signature = vec![1; 256];
    let mut steps = vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x9000),
        verify(0x9000),
    ];
    steps.extend(sign_steps(b"c", ok(&signature)));
    let card = ScriptedCard::new(steps);
    assert_eq!(sign_challenge(&card, &pin(), b"c"), Ok(signature));
    card.assert_done();

    // A wrong PIN in a verified session is refused by the card, and nothing is signed.
    let card = ScriptedCard::new(vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x9000),
        verify(0x63C2),
    ]);
    assert_eq!(
        sign_challenge(&card, &pin(), b"c"),
        Err(CardError::Status(StatusError::WrongPin { tries_left: 2 }))
    );
    card.assert_done();
}

#[test]
fn empty_or_oversized_signatures_are_malformed() {
    for answer in [vec![], vec![0; MAX_SIGNATURE_LEN + 1]] {
        let mut steps = vec![
            (select_ap(), ok(&[])),
            select_pin(),
            tries(0x63C3),
            verify(0x9000),
        ];
        steps.extend(sign_steps(b"c", ok(&answer)));
        let card = ScriptedCard::new(steps);
        assert!(matches!(
            sign_challenge(&card, &pin(), b"c"),
            Err(CardError::Malformed(_))
        ));
    }
}

#[test]
fn signing_refusals_and_lost_cards_surface() {
    let mut steps = vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x63C3),
        verify(0x9000),
    ];
    steps.extend(sign_steps(b"c", sw(0x6985)));
    let card = ScriptedCard::new(steps);
    assert_eq!(
        sign_challenge(&card, &pin(), b"c"),
        Err(CardError::Status(StatusError::ConditionsNotSatisfied))
    );

    let mut steps = vec![
        (select_ap(), ok(&[])),
        select_pin(),
        tries(0x63C3),
        verify(0x9000),
    ];
    steps.extend(sign_steps(b"c", Err(CardLinkError::Lost)));
    let card = ScriptedCard::new(steps);
    assert_eq!(
        sign_challenge(&card, &pin(), b"c"),
        Err(CardError::Link(CardLinkError::Lost))
    );
}

#[test]
fn pin_tries_are_read_without_spending_one() {
    let check = |answer: u16, expected: Result<PinTries, CardError>| {
        let card = ScriptedCard::new(vec![(select_ap(), ok(&[])), select_pin(), tries(answer)]);
        assert_eq!(auth_pin_tries(&card), expected, "SW {answer:04X}");
        card.assert_done();
    };
    check(0x63C3, Ok(PinTries::Left(3)));
    check(0x63C1, Ok(PinTries::Left(1)));
    check(0x9000, Ok(PinTries::Verified));
    check(0x6983, Ok(PinTries::Blocked));
    check(0x63C0, Ok(PinTries::Blocked));
    check(0x6A82, Err(CardError::Status(StatusError::FileNotFound)));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn token_info_classification_never_panics(token in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = CardKind::from_token_info(&token);
        }

        #[test]
        fn padding_does_not_change_the_kind(pad in proptest::collection::vec(prop_oneof![Just(b' '), Just(0u8)], 0..20)) {
            let token = [MY_NUMBER_CARD_TOKEN, &pad[..]].concat();
            prop_assert_eq!(CardKind::from_token_info(&token), CardKind::MyNumberCard);
        }
    }
}
