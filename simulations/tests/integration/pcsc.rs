//! The software card seen through a real pcscd: inserted into vpcd's second slot
//! ("Virtual PCD 00 01", so it does not collide with tests using the first), then read,
//! verified and used to sign over PC/SC exactly as a USB reader would be.

use std::ffi::CString;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use mobile_core::card::apdu;
use mobile_core::card::jpki::JPKI_AP_AID;
use mobile_core::{CardKind, CardLinkError, CardTransport, read_auth_certificate, read_token_info};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};
use rsa::Pkcs1v15Sign;
use rsa::sha2::{Digest, Sha256};
use simulations::soft_card::{
    CARD_INFO_AP_AID, CardPin, DevCardIssuer, EF_AUTH_KEY, EF_AUTH_PIN, EF_BASIC_FACTS,
    EF_CARD_INFO_PIN, SoftwareCard, facts,
};
use simulations::vpicc::{MY_NUMBER_CARD_ATR, VPCD_SECOND_READER_NAME, VirtualCardSlot};

/// A [`CardTransport`] over a PC/SC card handle (local to this test: the tablet core's own
/// PC/SC transport is not what is under test here).
struct PcscLink(pcsc::Card);

impl CardTransport for PcscLink {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        let mut buffer = [0; pcsc::MAX_BUFFER_SIZE];
        match self.0.transmit(&command, &mut buffer) {
            Ok(response) => Ok(response.to_vec()),
            // pcsc-lite reports a card that vanished during the exchange as "not
            // transacted" (the driver's transmit failed); later calls as removed.
            Err(
                pcsc::Error::NotTransacted | pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard,
            ) => Err(CardLinkError::Lost),
            Err(e) => Err(CardLinkError::Io {
                message: e.to_string(),
            }),
        }
    }
}

/// Both tests use the same slot, and a slot holds one card: run them one at a time.
static SLOT: Mutex<()> = Mutex::new(());

fn slot() -> MutexGuard<'static, ()> {
    SLOT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits until pcscd reports a card in `reader` (or none, for `present == false`).
fn wait_for_card(context: &Context, reader: &CString, present: bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut states = [ReaderState::new(reader.clone(), State::UNAWARE)];
    loop {
        context
            .get_status_change(Duration::from_millis(500), &mut states)
            .or_else(|e| match e {
                pcsc::Error::Timeout => Ok(()),
                e => Err(e),
            })
            .unwrap();
        if states[0].event_state().contains(State::PRESENT) == present {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "pcscd did not see the card {} {reader:?}",
            if present { "enter" } else { "leave" }
        );
        states[0].sync_current_state();
    }
}

fn exchange(link: &PcscLink, command: &[u8]) -> Vec<u8> {
    link.transmit(command.to_vec()).unwrap()
}

fn verify(pin: &[u8]) -> Vec<u8> {
    let mut command = vec![0x00, 0x20, 0x00, 0x80, pin.len() as u8];
    command.extend_from_slice(pin);
    command
}

#[test]
fn pcsc_reads_verifies_and_signs_through_pcscd() {
    let _slot = slot();
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let index = (0..)
        .find(|i| population::patient(11, *i, today).card.is_some())
        .unwrap();
    let patient = population::patient(11, index, today);
    let issuer = DevCardIssuer::new().unwrap();
    let card = Arc::new(issuer.card_for(&patient, "4321").unwrap());

    let inserted = VirtualCardSlot::SECOND
        .insert(Arc::clone(&card))
        .expect("the vpcd driver must be running");
    let context = Context::establish(Scope::User).expect("pcscd must be running");
    let reader = CString::new(VPCD_SECOND_READER_NAME).unwrap();
    wait_for_card(&context, &reader, true);
    let handle = context
        .connect(&reader, ShareMode::Exclusive, Protocols::ANY)
        .unwrap();
    assert_eq!(handle.status2_owned().unwrap().atr(), MY_NUMBER_CARD_ATR);
    let link = PcscLink(handle);

    // The PIN-less read of the tablet core.
    assert_eq!(read_token_info(&link), Ok(CardKind::MyNumberCard));
    assert_eq!(
        read_auth_certificate(&link).unwrap(),
        card.certificate_der()
    );

    // A wrong PIN spends a try, the right one restores the counter; then sign.
    assert_eq!(
        exchange(&link, &apdu::select_aid(&JPKI_AP_AID).unwrap()),
        [0x90, 0x00]
    );
    assert_eq!(exchange(&link, &apdu::select_ef(EF_AUTH_PIN)), [0x90, 0x00]);
    assert_eq!(exchange(&link, &verify(b"0000")), [0x63, 0xC2]);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 2);
    assert_eq!(exchange(&link, &[0x00, 0x20, 0x00, 0x80]), [0x63, 0xC2]);
    assert_eq!(exchange(&link, &verify(b"4321")), [0x90, 0x00]);
    assert_eq!(exchange(&link, &apdu::select_ef(EF_AUTH_KEY)), [0x90, 0x00]);
    let hash = Sha256::digest(b"pcsc challenge");
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, 51];
    sign.extend_from_slice(&[
        0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0x04, 0x20,
    ]);
    sign.extend_from_slice(&hash);
    sign.push(0x00);
    let response = exchange(&link, &sign);
    assert_eq!(response[response.len() - 2..], [0x90, 0x00]);
    card.public_key()
        .unwrap()
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &hash,
            &response[..response.len() - 2],
        )
        .unwrap();

    // The four basic facts behind the card-info PIN.
    assert_eq!(
        exchange(&link, &apdu::select_aid(&CARD_INFO_AP_AID).unwrap()),
        [0x90, 0x00]
    );
    assert_eq!(
        exchange(&link, &apdu::select_ef(EF_CARD_INFO_PIN)),
        [0x90, 0x00]
    );
    assert_eq!(exchange(&link, &verify(b"4321")), [0x90, 0x00]);
    assert_eq!(
        exchange(&link, &apdu::select_ef(EF_BASIC_FACTS)),
        [0x90, 0x00]
    );
    let mut content = Vec::new();
    loop {
        let response = exchange(&link, &apdu::read_binary(content.len() as u16, 0).unwrap());
        let (data, sw) = response.split_at(response.len() - 2);
        if sw == [0x6B, 0x00] {
            break;
        }
        assert_eq!(sw, [0x90, 0x00]);
        content.extend_from_slice(data);
    }
    assert_eq!(
        facts::decode(&content).unwrap(),
        facts::CardHolderFacts::from(&patient)
    );
    assert!(inserted.apdus_served() >= 15);

    // Pulled away mid-session: PC/SC reports the card gone.
    inserted.remove().unwrap();
    assert_eq!(
        link.transmit(apdu::select_aid(&JPKI_AP_AID).unwrap()),
        Err(CardLinkError::Lost)
    );
    wait_for_card(&context, &reader, false);
    assert_eq!(
        link.transmit(apdu::select_aid(&JPKI_AP_AID).unwrap()),
        Err(CardLinkError::Lost)
    );
    assert!(!card.is_powered());
}

#[test]
fn pcsc_sees_a_card_pulled_away_mid_read() {
    let _slot = slot();
    let card = Arc::new(SoftwareCard::new(
        DevCardIssuer::new()
            .unwrap()
            .issue(
                &[0x11; 8],
                NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
                NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
            )
            .unwrap(),
    ));
    let inserted = VirtualCardSlot::SECOND
        .insert(card)
        .expect("the vpcd driver must be running");
    let context = Context::establish(Scope::User).expect("pcscd must be running");
    let reader = CString::new(VPCD_SECOND_READER_NAME).unwrap();
    wait_for_card(&context, &reader, true);
    let link = PcscLink(
        context
            .connect(&reader, ShareMode::Exclusive, Protocols::ANY)
            .unwrap(),
    );
    // SELECT AP, SELECT EF, the header read, then the card leaves.
    inserted.remove_after(3);
    let error = read_auth_certificate(&link).unwrap_err();
    assert_eq!(error, mobile_core::CardError::Link(CardLinkError::Lost));
    assert_eq!(inserted.apdus_served(), 3);
    let deadline = Instant::now() + Duration::from_secs(5);
    while inserted.is_inserted() {
        assert!(Instant::now() < deadline, "the connection stayed open");
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_for_card(&context, &reader, false);
}
