//! Problems finding a card reader or a card, before any APDU is exchanged.
//!
//! Reported by the PC/SC transport (`card::pcsc`, feature `pcsc`) and available to any
//! other reader integration; link failures during an exchange are
//! [`CardLinkError`](super::CardLinkError) instead. This type does not depend on the
//! `pcsc` crate, so [`CardError`](super::CardError) and the flat `MobileError` can carry
//! it in every build, including Android and iOS ones.

/// Why no card could be reached through a reader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReaderError {
    /// The smart-card service (pcscd) is not running or stopped.
    #[error("smart-card service not running")]
    ServiceUnavailable,
    /// The service runs but no reader is connected.
    #[error("no card reader connected")]
    NoReaders,
    /// No reader of that name is connected (or it was unplugged).
    #[error("card reader {name:?} not found")]
    ReaderNotFound {
        /// The reader name asked for.
        name: String,
    },
    /// No card is on the reader (or it does not answer).
    #[error("no card on the reader")]
    NoCard,
    /// Another application holds the card exclusively.
    #[error("card in use by another application")]
    CardInUse,
    /// Waiting for a card, or for the card to be released, took longer than allowed.
    #[error("timed out waiting for the card")]
    Timeout,
    /// Any other reader failure.
    #[error("card reader error: {message}")]
    Other {
        /// The reader library's description. Never contains card data.
        message: String,
    },
}
