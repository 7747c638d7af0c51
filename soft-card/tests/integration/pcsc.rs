//! The software card in a real pcscd, read through the tablet core's own PC/SC transport
//! (`mobile_core::card::pcsc`) and card functions: the path a USB reader on a desktop
//! takes, down to pcsc-lite, pcscd and the vsmartcard `vpcd` driver.
//!
//! This module holds the shared fixtures (the two vpcd slots, cards sharing one RSA key)
//! and the PIN-less reads; `pcsc_pin` holds the PIN paths and `pcsc_readers` the reader
//! handling (removal, two readers, an empty reader, exclusive access).
//!
//! A vpcd slot holds one card, so a test takes the slots it uses ([`Slot::take`]) and
//! holds them until it ends; tests using different slots run in parallel. Nothing else may
//! use the slots meanwhile (`myna-local` and `myna-bench` use the first one). Without a
//! running pcscd the tests fail, with a message naming the fix.

use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::NaiveDate;
use mobile_core::card::input_support::read_basic_facts;
use mobile_core::card::jpki::{read_auth_certificate, read_ca_certificate, read_token_info};
use mobile_core::card::pcsc::{PcscReaders, PcscTransport};
use mobile_core::{CardKind, Pin};
use myna_domain::certificate::CardCertificate;
use myna_domain::identity::{AddressOrInsurer, BasicFacts, Sex};
use soft_card::vpicc::{InsertedCard, VPCD_READER_NAME, VPCD_SECOND_READER_NAME, VirtualCardSlot};
use soft_card::{
    CARD_ISSUER_CN, CardHolderFacts, CardPin, DEFAULT_TEST_PIN, DevCardIssuer, SoftwareCard,
    generate_card_key,
};

/// What to do when the daemon or its virtual readers cannot be reached.
const NOT_RUNNING: &str = "pcscd with the vpcd driver is not running: run scripts/pcscd.sh start";
/// How long pcscd may take to notice a card entering or leaving (it polls vpcd).
pub(crate) const CARD_EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may wait for another holder of the card.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The auth PIN of the test cards.
pub(crate) const AUTH_PIN: &str = DEFAULT_TEST_PIN;
/// A PIN no test card has.
pub(crate) const WRONG_PIN: &str = "0000";

/// A vpcd slot, its PC/SC reader, and the lock of the tests using it.
pub(crate) struct Slot {
    slot: VirtualCardSlot,
    reader: &'static str,
    lock: Mutex<()>,
}

/// The first slot, "Virtual PCD 00 00".
pub(crate) static FIRST: Slot = Slot {
    slot: VirtualCardSlot::FIRST,
    reader: VPCD_READER_NAME,
    lock: Mutex::new(()),
};
/// The second slot, "Virtual PCD 00 01".
pub(crate) static SECOND: Slot = Slot {
    slot: VirtualCardSlot::SECOND,
    reader: VPCD_SECOND_READER_NAME,
    lock: Mutex::new(()),
};

impl Slot {
    /// Takes the slot for the calling test: waits until no other test uses it, and until
    /// pcscd reports its reader empty. A test taking both takes [`FIRST`] first.
    pub(crate) fn take(&'static self) -> TakenSlot {
        let guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let readers = establish();
        readers
            .wait_for_removal(self.reader, CARD_EVENT_TIMEOUT)
            .unwrap_or_else(|e| {
                panic!(
                    "{NOT_RUNNING}, or something else keeps a card in {:?} ({e})",
                    self.reader
                )
            });
        TakenSlot {
            slot: self,
            readers,
            _guard: guard,
        }
    }
}

/// A slot this test holds, with its own connection to pcscd.
pub(crate) struct TakenSlot {
    slot: &'static Slot,
    readers: PcscReaders,
    _guard: MutexGuard<'static, ()>,
}

impl TakenSlot {
    /// The PC/SC name of the slot's reader.
    pub(crate) fn reader(&self) -> &'static str {
        self.slot.reader
    }

    /// This test's connection to pcscd.
    pub(crate) fn readers(&self) -> &PcscReaders {
        &self.readers
    }

    /// Inserts `card` and waits until pcscd reports it in the reader.
    pub(crate) fn insert(&self, card: Arc<SoftwareCard>) -> InsertedCard {
        let inserted = self
            .slot
            .slot
            .insert(card)
            .unwrap_or_else(|e| panic!("{NOT_RUNNING} ({e})"));
        let reader = self
            .readers
            .wait_for_card(Some(self.reader()), CARD_EVENT_TIMEOUT)
            .expect("pcscd sees the inserted card");
        assert_eq!(reader, self.reader());
        inserted
    }

    /// Pulls the card out and waits until pcscd reports the reader empty.
    pub(crate) fn remove(&self, inserted: InsertedCard) {
        inserted
            .remove()
            .expect("the card was served without error");
        self.readers
            .wait_for_removal(self.reader(), CARD_EVENT_TIMEOUT)
            .expect("pcscd sees the card leave");
    }

    /// Connects exclusively to the card in the reader, as the tablet does.
    pub(crate) fn connect(&self) -> PcscTransport {
        PcscTransport::connect_reader(&self.readers, self.reader(), CONNECT_TIMEOUT)
            .expect("connects to the card")
    }
}

/// A connection to pcscd, or a failure naming the fix.
pub(crate) fn establish() -> PcscReaders {
    PcscReaders::establish().unwrap_or_else(|e| panic!("{NOT_RUNNING} ({e})"))
}

/// The key of every card in this binary: generating one takes up to a second.
static CARD_KEY: LazyLock<rsa::PrivateKey> =
    LazyLock::new(|| generate_card_key().expect("an RSA key"));

/// The user-authentication certificate with `serial` for the shared card key, from the
/// process's development CA. Each test uses its own serial, so a card left over from
/// another test can never pass for its own.
pub(crate) fn certificate(serial: u8) -> Vec<u8> {
    DevCardIssuer::new()
        .unwrap()
        .issue_for_key(
            &CARD_KEY,
            &[0x5C, serial],
            NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            NaiveDate::from_ymd_opt(2035, 4, 1).unwrap(),
        )
        .unwrap()
}

/// A card with [`certificate`]`(serial)`, the CA certificate, the shared key and
/// [`AUTH_PIN`] with `auth_tries_left` tries.
pub(crate) fn card(serial: u8, auth_tries_left: u8) -> Arc<SoftwareCard> {
    Arc::new(
        SoftwareCard::builder(certificate(serial))
            .ca_certificate(DevCardIssuer::new().unwrap().ca_certificate_der())
            .key(CARD_KEY.clone())
            .auth_pin(AUTH_PIN)
            .auth_pin_tries_left(auth_tries_left)
            .build()
            .unwrap(),
    )
}

#[test]
fn pcsc_reads_the_certificate() {
    let slot = FIRST.take();
    let card = card(1, 3);
    let _inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();
    assert_eq!(transport.reader(), slot.reader());

    assert_eq!(read_token_info(&transport), Ok(CardKind::MyNumberCard));
    let der = read_auth_certificate(&transport).unwrap();
    assert_eq!(der, certificate(1));
    let ca_der = read_ca_certificate(&transport).unwrap();
    assert_eq!(ca_der, DevCardIssuer::new().unwrap().ca_certificate_der());

    let parsed = CardCertificate::from_der(&der).unwrap();
    assert_eq!(parsed.serial_hex, "5c01");
    assert_eq!(parsed.issuer, format!("CN={CARD_ISSUER_CN}"));
    assert_eq!(
        parsed.not_after.date_naive(),
        NaiveDate::from_ymd_opt(2035, 4, 1).unwrap()
    );
    let ca = CardCertificate::from_der(&ca_der).unwrap();
    assert_eq!(ca.issuer, parsed.issuer);
    // Reading never touches the PIN.
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 3);
}

#[test]
fn pcsc_basic_facts_with_the_card_info_pin() {
    let slot = SECOND.take();
    // Long enough that the file takes several READ BINARY chunks through the reader.
    let address = "東京都千代田区千代田一丁目一番一号 ".repeat(8);
    let card = Arc::new(
        SoftwareCard::builder(certificate(8))
            .facts(CardHolderFacts {
                name: "山田 花子".into(),
                address: address.clone(),
                birth_date: NaiveDate::from_ymd_opt(1952, 2, 29).unwrap(),
                sex: Sex::Female,
            })
            .card_info_pin("5678")
            .build()
            .unwrap(),
    );
    let _inserted = slot.insert(Arc::clone(&card));
    let transport = slot.connect();

    let facts = read_basic_facts(&transport, &Pin::new("5678").unwrap()).unwrap();
    assert_eq!(
        facts,
        BasicFacts {
            name: "山田 花子".into(),
            birth_date: NaiveDate::from_ymd_opt(1952, 2, 29).unwrap(),
            sex: Sex::Female,
            address_or_insurer: AddressOrInsurer::Address(address),
        }
    );
    assert_eq!(card.pin_tries_left(CardPin::CardInfo), 3);
    assert_eq!(card.pin_tries_left(CardPin::UserAuthentication), 3);
}
