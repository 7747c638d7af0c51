//! Reading a My Number card (マイナンバーカード) over an APDU link.
//!
//! The card layouts and commands used here are public facts, as implemented by
//! open-source readers such as OpenSC (`card-jpki.c`) and the Go tool `jpki/myna`.
//!
//! # Layout
//! - [`transport`]: the [`CardTransport`] trait the platform implements (NFC, PC/SC, a
//!   software card), and its link errors. [`reader`]: errors finding a reader or card.
//! - [`apdu`]: command builders and status-word decoding, sans I/O.
//! - [`tlv`]: BER-TLV parsing (headers, objects, children of constructed objects),
//!   sans I/O.
//! - [`pin`]: the [`Pin`] and the retry guard ([`PinTries`]).
//! - [`jpki`]: the JPKI application: token info and certificates (no PIN), and the
//!   PIN-guarded signature over a challenge.
//! - [`portal`]: the patient's portal sign-in: the certificate and the PIN-guarded
//!   signature over the portal's challenge.
//! - [`input_support`]: the card-info input-support application: the four basic facts
//!   (PIN-guarded).
//! - [`identity`]: [`CardIdentity`], the evidence a card read yields and its assurance.
//! - `pcsc` (feature `pcsc`): a [`CardTransport`] over PC/SC readers.
//!
//! Exchanges go through one helper that follows `61 xx` with GET RESPONSE and corrects
//! Le on `6C xx`, and logs only INS and status words.
//!
//! # The PIN guard
//! A patient's PINs block after three wrong tries, and only the town hall can unblock
//! them, so the crew must never lock a card. Reading the token info and certificates
//! never sends VERIFY. The PIN paths ([`jpki::sign_challenge`], also behind
//! [`portal::sign_in_to_portal`],
//! [`input_support::read_basic_facts`]) first ask the retry counter with a VERIFY that
//! carries no data (it spends no try), and refuse to send the PIN when only one try is
//! left ([`CardError::PinGuard`]) or the PIN is blocked. The crew then uses the
//! face-photo check instead.

pub mod apdu;
mod exchange;
pub mod identity;
pub mod input_support;
pub mod jpki;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod pin;
pub mod portal;
pub mod reader;
#[cfg(test)]
pub(crate) mod scripted;
pub mod tlv;
pub mod transport;

pub use apdu::StatusError;
pub use identity::CardIdentity;
pub use pin::{Pin, PinTries};
pub use reader::ReaderError;
pub use transport::{CardLinkError, CardTransport};

/// Why reading the card failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The link to the card failed (card removed, timeout, reader error).
    #[error(transparent)]
    Link(#[from] CardLinkError),
    /// No reader or no card could be reached (before any exchange).
    #[error(transparent)]
    Reader(#[from] ReaderError),
    /// The card answered with an error status word.
    #[error("card status: {0}")]
    Status(#[from] StatusError),
    /// The PIN was not sent: only `tries_left` tries remain, and a typo would block
    /// the card.
    #[error("only {tries_left} PIN try left; the PIN was not sent")]
    PinGuard {
        /// Tries the card reported (1).
        tries_left: u8,
    },
    /// The PIN entered is not exactly four digits (nothing was sent to the card).
    #[error("a PIN is exactly 4 digits")]
    PinFormat,
    /// The card's answer does not have the expected shape.
    #[error("malformed card response: {0}")]
    Malformed(String),
    /// The card announced an object larger than any genuine one.
    #[error("card object of {len} bytes exceeds the {max} byte limit")]
    Oversized {
        /// Announced length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The card has no JPKI application or is not a My Number card.
    #[error("not a My Number card")]
    NotAMyNumberCard,
    /// A command could not be built (a bug in the caller, not a card problem).
    #[error("invalid command: {0}")]
    InvalidCommand(&'static str),
}

impl From<tlv::TlvError> for CardError {
    fn from(error: tlv::TlvError) -> Self {
        match error {
            tlv::TlvError::Oversized { len, max } => CardError::Oversized { len, max },
            other => CardError::Malformed(other.to_string()),
        }
    }
}
