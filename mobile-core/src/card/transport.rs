//! The card link: one blocking APDU exchange with whatever reader the platform offers.
//!
//! On Android this wraps `IsoDep.transceive`, on iOS `NFCISO7816Tag.sendCommand`, in tests
//! a scripted responder or the software card of the `simulations` crate. The trait is
//! shaped so it can later become a uniffi foreign trait unchanged: `Send + Sync`, owned
//! arguments, a `Result` return (the exported error will then also need
//! `From<uniffi::UnexpectedUniFFICallbackError>`, so a failing callback does not panic).

/// Why an APDU exchange failed below the ISO 7816 layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardLinkError {
    /// The card left the field (tag lost, card removed or moved).
    #[error("card link lost")]
    Lost,
    /// The card did not answer in time.
    #[error("card did not answer in time")]
    Timeout,
    /// Any other reader or platform failure.
    #[error("card reader I/O error: {message}")]
    Io {
        /// Platform description of the failure. Never contains card data.
        message: String,
    },
}

/// A link to a contactless (or contact) ISO 7816 card.
pub trait CardTransport: Send + Sync {
    /// Sends one command APDU and returns the full response APDU (data then SW1 SW2).
    /// Blocks until the card answers or the link fails.
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError>;
}
