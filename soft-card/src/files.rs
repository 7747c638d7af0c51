//! The card's file system: its two applications, their elementary files, the two PINs,
//! and the status words the card answers with.
//!
//! Identifiers follow OpenSC (`src/libopensc/card-jpki.c`, `jpki.h`) and the `jpki`/`myna`
//! client tools: the JPKI AP holds the user-authentication key (EF `0017`) behind its PIN
//! (EF `0018`), the card-info input-support AP (券面事項入力補助AP) the four basic facts
//! (EF `0002`) behind its own PIN (EF `0011`).

// The card's identifiers are the tablet's: one definition of each, in mobile-core.
pub use mobile_core::card::input_support::{
    EF_BASIC_FACTS, EF_INPUT_SUPPORT_PIN as EF_CARD_INFO_PIN,
    INPUT_SUPPORT_AP_AID as CARD_INFO_AP_AID,
};
pub use mobile_core::card::jpki::{EF_AUTH_CA_CERTIFICATE, EF_AUTH_KEY, EF_AUTH_PIN};
/// Wrong tries a PIN allows before it blocks; a correct PIN restores this count.
pub const PIN_MAX_TRIES: u8 = 3;

pub(crate) const SW_OK: [u8; 2] = [0x90, 0x00];
pub(crate) const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
pub(crate) const SW_SECURITY_NOT_SATISFIED: [u8; 2] = [0x69, 0x82];
pub(crate) const SW_PIN_BLOCKED: [u8; 2] = [0x69, 0x83];
pub(crate) const SW_NO_CURRENT_EF: [u8; 2] = [0x69, 0x86];
pub(crate) const SW_WRONG_DATA: [u8; 2] = [0x6A, 0x80];
pub(crate) const SW_WRONG_P1P2: [u8; 2] = [0x6A, 0x86];
pub(crate) const SW_FILE_NOT_FOUND: [u8; 2] = [0x6A, 0x82];
pub(crate) const SW_OFFSET_OUTSIDE_EF: [u8; 2] = [0x6B, 0x00];
pub(crate) const SW_INS_NOT_SUPPORTED: [u8; 2] = [0x6D, 0x00];
pub(crate) const SW_CLA_NOT_SUPPORTED: [u8; 2] = [0x6E, 0x00];

/// `63 Cx`: a PIN with `tries_left` tries left (x is at most 15).
pub(crate) fn sw_tries_left(tries_left: u8) -> [u8; 2] {
    [0x63, 0xC0 | tries_left.min(0x0F)]
}

/// One of the card's two PINs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardPin {
    /// The JPKI user-authentication PIN (利用者証明用電子証明書暗証番号), EF `0018`:
    /// needed to sign with the user-authentication key.
    UserAuthentication,
    /// The card-info input-support PIN (券面事項入力補助用暗証番号), EF `0011`: needed to
    /// read the four basic facts. On real cards the same digits as the auth PIN.
    CardInfo,
}

impl CardPin {
    /// Both PINs, in index order.
    pub const ALL: [CardPin; 2] = [CardPin::UserAuthentication, CardPin::CardInfo];

    pub(crate) fn index(self) -> usize {
        match self {
            CardPin::UserAuthentication => 0,
            CardPin::CardInfo => 1,
        }
    }
}

/// What an elementary file holds, and what it takes to use it.
pub(crate) enum FileBody {
    /// Transparent data for READ BINARY, after `read_requires` was verified if set.
    Binary {
        content: Vec<u8>,
        read_requires: Option<CardPin>,
    },
    /// A PIN: the target of VERIFY, never readable.
    Pin { pin: CardPin, digits: [u8; 4] },
    /// A private key: the target of COMPUTE DIGITAL SIGNATURE after the auth PIN, never
    /// readable.
    SigningKey(Box<rsa::PrivateKey>),
}

impl std::fmt::Debug for FileBody {
    /// Never prints PIN digits or key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileBody::Binary {
                content,
                read_requires,
            } => f
                .debug_struct("Binary")
                .field("len", &content.len())
                .field("read_requires", read_requires)
                .finish(),
            FileBody::Pin { pin, .. } => f.debug_struct("Pin").field("pin", pin).finish(),
            FileBody::SigningKey(_) => f.write_str("SigningKey"),
        }
    }
}

/// An elementary file of an application.
#[derive(Debug)]
pub(crate) struct ElementaryFile {
    pub(crate) id: [u8; 2],
    pub(crate) body: FileBody,
}

/// An application (DF) and its elementary files.
#[derive(Debug)]
pub(crate) struct Application {
    pub(crate) aid: Vec<u8>,
    pub(crate) files: Vec<ElementaryFile>,
}

/// The volatile and persistent state of one card. Selection and verified PINs are the
/// security state (lost at power-off, reset and removal); PIN counters persist.
#[derive(Debug)]
pub(crate) struct CardState {
    pub(crate) present: bool,
    pub(crate) powered: bool,
    /// Index into the card's applications.
    pub(crate) application: Option<usize>,
    /// Index into that application's files.
    pub(crate) file: Option<usize>,
    /// Which PINs are verified in this session, by [`CardPin::index`].
    pub(crate) verified: [bool; 2],
    /// Tries left per PIN, by [`CardPin::index`]; 0 is blocked, for good.
    pub(crate) tries_left: [u8; 2],
    /// Exchanges left before the card is pulled away, if a removal is scheduled.
    pub(crate) exchanges_left: Option<usize>,
    /// Exchanges answered (or attempted) so far.
    pub(crate) exchanges: usize,
}

impl CardState {
    pub(crate) fn new(tries_left: [u8; 2]) -> Self {
        CardState {
            present: true,
            powered: true,
            application: None,
            file: None,
            verified: [false; 2],
            tries_left,
            exchanges_left: None,
            exchanges: 0,
        }
    }

    /// Forgets the selection and every verified PIN, as at power-off. Counters stay.
    pub(crate) fn clear_security(&mut self) {
        self.application = None;
        self.file = None;
        self.verified = [false; 2];
    }
}
