//! Readers and cards coming and going through pcscd: a card pulled away mid-read, two
//! readers at once, an empty reader, and a card another application holds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mobile_core::card::apdu;
use mobile_core::card::jpki::{
    JPKI_AP_AID, read_auth_certificate, read_token_info, sign_challenge,
};
use mobile_core::{CardError, CardKind, CardLinkError, CardTransport, Pin, ReaderError};
use soft_card::CardPin;

use crate::pcsc::{
    AUTH_PIN, CARD_EVENT_TIMEOUT, CONNECT_TIMEOUT, FIRST, SECOND, card, certificate, establish,
};

/// A wait that must run out: the slot is known to be empty, or the card held.
const SHORT: Duration = Duration::from_millis(300);
/// A reader vpcd does not provide.
const THIRD_READER: &str = "Virtual PCD 00 02";
/// `69 86`: the card's answer to READ BINARY with no EF selected.
const SW_NO_CURRENT_EF: [u8; 2] = [0x69, 0x86];
/// Bytes of the certificate read's first READ BINARY (the DER header).
const HEADER_PROBE: usize = 4;
/// Bytes of each later READ BINARY.
const CHUNK: usize = 0xF0;

#[test]
fn pcsc_card_removed_mid_read_is_a_typed_error_with_no_half_state() {
    let slot = SECOND.take();
    let card = card(6, 3);
    let der = certificate(6);
    let chunks = (der.len() - HEADER_PROBE).div_ceil(CHUNK);
    assert!(chunks >= 3, "the certificate must span several chunks");

    let inserted = slot.insert(Arc::clone(&card));
    let pulled = slot.connect();
    // SELECT AP, SELECT EF, the header, the first chunk: then the card leaves the reader.
    inserted.remove_after(4);
    assert_eq!(
        read_auth_certificate(&pulled),
        Err(CardError::Link(CardLinkError::Lost))
    );
    assert_eq!(inserted.apdus_served(), 4);
    slot.readers()
        .wait_for_removal(slot.reader(), CARD_EVENT_TIMEOUT)
        .expect("pcscd sees the card leave");
    assert!(!card.is_powered(), "the card lost power and its selection");
    assert_eq!(
        pulled.transmit(apdu::select_aid(&JPKI_AP_AID).unwrap()),
        Err(CardLinkError::Lost)
    );
    drop(inserted);

    // The same card back on the reader. The broken connection was released when the
    // loss was seen, so a new one succeeds while the old value still lives; the old one
    // stays dead and never talks to the card that came back.
    let inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();
    assert_eq!(
        read_auth_certificate(&pulled),
        Err(CardError::Link(CardLinkError::Lost))
    );
    assert_eq!(inserted.apdus_served(), 0);
    // Nothing of the broken read survives: no EF is selected.
    assert_eq!(
        transport.transmit(apdu::read_binary(0, 4).unwrap()),
        Ok(SW_NO_CURRENT_EF.to_vec())
    );
    assert_eq!(read_auth_certificate(&transport), Ok(der));
    assert_eq!(inserted.apdus_served(), 1 + 3 + chunks);
}

#[test]
fn pcsc_two_readers_present() {
    let (first, second) = (FIRST.take(), SECOND.take());
    let (first_der, second_der) = (certificate(0x71), certificate(0x72));
    let first_card = first.insert(card(0x71, 3));
    let _second_card = second.insert(card(0x72, 3));
    let readers = establish();

    let names = readers.readers().unwrap();
    assert!(
        names.iter().any(|n| n == first.reader()) && names.iter().any(|n| n == second.reader()),
        "{names:?}"
    );
    // Both connections open at once, each reading its own card, interleaved.
    let on_first = readers.connect(first.reader(), CONNECT_TIMEOUT).unwrap();
    let on_second = readers.connect(second.reader(), CONNECT_TIMEOUT).unwrap();
    assert_eq!(read_auth_certificate(&on_second), Ok(second_der.clone()));
    assert_eq!(read_auth_certificate(&on_first), Ok(first_der));
    assert_eq!(read_token_info(&on_second), Ok(CardKind::MyNumberCard));
    drop((on_first, on_second));

    // Selection by name, and the first reader with a card.
    assert_eq!(
        readers.select_reader(Some(second.reader())),
        Ok(second.reader().to_owned())
    );
    let any = readers.select_reader(None).unwrap();
    assert!(any == first.reader() || any == second.reader(), "{any}");
    assert_eq!(readers.reader_with_card(), Ok(any));
    first.remove(first_card);
    assert_eq!(readers.reader_with_card(), Ok(second.reader().to_owned()));
    assert_eq!(
        readers.wait_for_card(None, SHORT),
        Ok(second.reader().to_owned())
    );
    let by_selection = readers.select_reader(None).unwrap();
    let transport = readers.connect(&by_selection, CONNECT_TIMEOUT).unwrap();
    assert_eq!(read_auth_certificate(&transport), Ok(second_der));

    let not_found = || ReaderError::ReaderNotFound {
        name: THIRD_READER.into(),
    };
    assert!(!names.iter().any(|n| n == THIRD_READER), "{names:?}");
    assert_eq!(readers.select_reader(Some(THIRD_READER)), Err(not_found()));
    assert_eq!(
        readers.wait_for_card(Some(THIRD_READER), SHORT),
        Err(not_found())
    );
    assert_eq!(
        readers.connect(THIRD_READER, SHORT).unwrap_err(),
        not_found()
    );
}

#[test]
fn pcsc_no_card_in_reader_is_a_clear_error() {
    let slot = FIRST.take();
    let started = Instant::now();
    assert_eq!(
        slot.readers().wait_for_card(Some(slot.reader()), SHORT),
        Err(ReaderError::Timeout)
    );
    assert!(started.elapsed() >= SHORT, "waited the whole timeout");
    assert_eq!(
        slot.readers().connect(slot.reader(), SHORT).unwrap_err(),
        ReaderError::NoCard
    );
}

#[test]
fn pcsc_exclusive_access() {
    let slot = FIRST.take();
    let card = card(10, 3);
    let inserted = slot.insert(Arc::clone(&card));
    let holder = slot.connect();
    sign_challenge(&holder, &Pin::new(AUTH_PIN).unwrap(), b"challenge").unwrap();
    assert!(card.is_pin_verified(CardPin::UserAuthentication));

    // Another application, with its own context, waits for the card, then gives up.
    let other_application = establish();
    let started = Instant::now();
    assert_eq!(
        other_application.connect(slot.reader(), SHORT).unwrap_err(),
        ReaderError::CardInUse
    );
    assert!(started.elapsed() >= SHORT, "retried until the timeout");
    // The holder is undisturbed.
    assert_eq!(read_token_info(&holder), Ok(CardKind::MyNumberCard));

    drop(holder);
    let transport = other_application
        .connect(slot.reader(), CONNECT_TIMEOUT)
        .expect("the card is free once the holder is gone");
    // The holder's disconnect reset the card: no EF selected, no PIN verified.
    let served = inserted.apdus_served();
    assert_eq!(
        transport.transmit(apdu::read_binary(0, 4).unwrap()),
        Ok(SW_NO_CURRENT_EF.to_vec())
    );
    assert!(!card.is_pin_verified(CardPin::UserAuthentication));
    assert_eq!(inserted.apdus_served(), served + 1);
    assert_eq!(read_auth_certificate(&transport), Ok(certificate(10)));
}
