//! [`CardError`]: why reading the card failed. Its own module, below every card module
//! that returns it, so none of them imports the card module root.

use super::reader::ReaderError;
use super::status::StatusError;
use super::tlv;
use super::transport::CardLinkError;

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
