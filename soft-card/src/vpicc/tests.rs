//! The vpicc protocol against a fake driver: a local listener speaking vpcd's side.

use std::net::TcpListener;

use mobile_core::card::apdu;
use mobile_core::card::jpki::{EF_AUTH_CERTIFICATE, JPKI_AP_AID};

use super::*;

/// The driver's side of one connection.
struct FakeDriver {
    stream: TcpStream,
}

impl FakeDriver {
    fn send(&mut self, message: &[u8]) {
        write_message(&mut self.stream, message).unwrap();
    }

    /// The next message, or `None` once the card closed the connection.
    fn receive(&mut self) -> Option<Vec<u8>> {
        read_message(&mut self.stream).unwrap()
    }

    fn exchange(&mut self, command: &[u8]) -> Vec<u8> {
        self.send(command);
        self.receive().expect("an answer")
    }
}

/// A listener, a card inserted into it, and the accepted driver side.
fn insert_into_fake_driver(certificate: Vec<u8>) -> (InsertedCard, FakeDriver) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let slot = VirtualCardSlot::at(listener.local_addr().unwrap());
    let card = Arc::new(SoftwareCard::new(certificate));
    let inserted = slot.insert(card).unwrap();
    let (stream, _) = listener.accept().unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (inserted, FakeDriver { stream })
}

#[test]
fn the_atr_checksum_holds() {
    assert_eq!(MY_NUMBER_CARD_ATR[1] & 0x0F, 8, "eight historical bytes");
    assert_eq!(MY_NUMBER_CARD_ATR.len(), 4 + 8 + 1);
    let xor = MY_NUMBER_CARD_ATR[1..].iter().fold(0, |x, b| x ^ b);
    assert_eq!(xor, 0, "TCK makes T0..TCK XOR to zero");
}

#[test]
fn serves_power_atr_and_apdus_then_closes_on_removal() {
    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x03, 0x02, 0x01, 0x07]);
    // Power on and reset get no answer; the next answer is the ATR's.
    driver.send(&[CTRL_POWER_ON]);
    driver.send(&[CTRL_RESET]);
    assert_eq!(driver.exchange(&[CTRL_GET_ATR]), MY_NUMBER_CARD_ATR);
    assert_eq!(
        driver.exchange(&apdu::select_aid(&JPKI_AP_AID).unwrap()),
        [0x90, 0x00]
    );
    assert_eq!(
        driver.exchange(&apdu::select_ef(EF_AUTH_CERTIFICATE)),
        [0x90, 0x00]
    );
    assert_eq!(
        driver.exchange(&apdu::read_binary(0, 0).unwrap()),
        [0x30, 0x03, 0x02, 0x01, 0x07, 0x90, 0x00]
    );
    // The raw bytes on the wire: 2-byte big-endian length, then the message.
    driver
        .stream
        .write_all(&[0x00, 0x05, 0x00, 0xB0, 0x00, 0x04, 0x01])
        .unwrap();
    let mut raw = [0; 5];
    driver.stream.read_exact(&mut raw).unwrap();
    assert_eq!(raw, [0x00, 0x03, 0x07, 0x90, 0x00]);
    // Unknown control codes are ignored; ATR polling is not an APDU.
    driver.send(&[0x07]);
    assert_eq!(driver.exchange(&[CTRL_GET_ATR]), MY_NUMBER_CARD_ATR);
    assert_eq!(inserted.apdus_served(), 4);
    assert_eq!(inserted.card().exchanges(), 4);

    // Powering off forgets the selection: the next READ BINARY has no current EF.
    driver.send(&[CTRL_POWER_OFF]);
    driver.send(&[CTRL_POWER_ON]);
    assert_eq!(
        driver.exchange(&apdu::read_binary(0, 1).unwrap()),
        [0x69, 0x86]
    );

    let card = Arc::clone(inserted.card());
    assert!(inserted.is_inserted());
    inserted.remove().unwrap();
    assert_eq!(driver.receive(), None, "the driver sees the card leave");
    assert!(!card.is_powered());
}

#[test]
fn remove_after_closes_right_after_the_last_answer() {
    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x00]);
    driver.send(&[CTRL_POWER_ON]);
    inserted.remove_after(2);
    assert_eq!(
        driver.exchange(&apdu::select_aid(&JPKI_AP_AID).unwrap()),
        [0x90, 0x00]
    );
    assert_eq!(
        driver.exchange(&apdu::select_ef(EF_AUTH_CERTIFICATE)),
        [0x90, 0x00]
    );
    // The third command is never answered: the card is gone.
    driver.send(&apdu::read_binary(0, 0).unwrap());
    assert_eq!(driver.receive(), None);
    assert_eq!(inserted.apdus_served(), 2);
    inserted.remove().unwrap();
}

#[test]
fn a_card_removed_in_process_leaves_the_reader() {
    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x00]);
    driver.send(&[CTRL_POWER_ON]);
    inserted.card().remove();
    driver.send(&apdu::select_aid(&JPKI_AP_AID).unwrap());
    assert_eq!(driver.receive(), None);
    assert_eq!(inserted.apdus_served(), 0);
    inserted.remove().unwrap();
}

#[test]
fn remove_after_zero_closes_at_once_and_drop_closes_too() {
    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x00]);
    inserted.remove_after(0);
    assert_eq!(driver.receive(), None);
    drop(inserted);

    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x00]);
    drop(inserted);
    assert_eq!(driver.receive(), None);
}

#[test]
fn a_truncated_message_is_an_error() {
    let (inserted, mut driver) = insert_into_fake_driver(vec![0x30, 0x00]);
    driver.stream.write_all(&[0x00, 0x05, 0x00, 0xA4]).unwrap();
    driver.stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(driver.receive(), None);
    let error = inserted.remove().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
}

#[test]
fn no_driver_gives_an_actionable_error() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let card = Arc::new(SoftwareCard::new(vec![0x30, 0x00]));
    let error = VirtualCardSlot::at(addr).insert(card).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "pcscd with the vpcd driver is not listening on {addr}: run scripts/pcscd.sh start"
        )),
        "{message}"
    );
    assert_eq!(VirtualCardSlot::FIRST.addr().to_string(), "127.0.0.1:35963");
    assert_eq!(
        VirtualCardSlot::SECOND.addr().to_string(),
        "127.0.0.1:35964"
    );
}
