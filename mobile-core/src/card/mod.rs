//! Reading a My Number card (マイナンバーカード) over an APDU link.
//!
//! # Layout
//! - [`transport`]: the [`CardTransport`] trait the platform implements (NFC, PC/SC, a
//!   software card), and its link errors.
//! - [`apdu`]: command builders and status-word decoding, sans I/O.
//! - [`tlv`]: BER-TLV header parsing, sans I/O.
//! - [`jpki`]: the JPKI application: token info and the user-authentication certificate,
//!   both readable without a PIN.
//!
//! Nothing here ever sends VERIFY: a patient's PIN has a small retry counter and the
//! crew must never lock a card.

pub mod apdu;
pub mod jpki;
pub mod tlv;
pub mod transport;

pub use apdu::StatusError;
pub use transport::{CardLinkError, CardTransport};

/// Why reading the card failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The link to the card failed (card removed, timeout, reader error).
    #[error(transparent)]
    Link(#[from] CardLinkError),
    /// The card answered with an error status word.
    #[error("card status: {0}")]
    Status(#[from] StatusError),
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
