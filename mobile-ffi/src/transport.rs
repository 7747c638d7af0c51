//! The card link as a foreign trait: the app implements [`CardTransport`] over its NFC stack
//! and passes it to [`crate::Incident::read_card`] and
//! [`crate::Incident::identify_with_pin`].
//!
//! `transmit` sends one command APDU as is and returns the full response APDU (data then
//! SW1 SW2). It is called on a core worker thread, never the app's UI thread, and may
//! block until the card answers.
//!
//! - **Android**: `IsoDep.get(tag)`, `connect()`, `setTimeout(5000)` (the default is too
//!   short for the card's RSA signature), then `transceive(command)`.
//! - **iOS**: in an `NFCTagReaderSession` (polling `.iso14443`), `NFCISO7816Tag.sendCommand(
//!   apdu: NFCISO7816APDU(data:))`, waiting on its completion handler (a semaphore is
//!   fine: this is not the main thread), and return `data + [sw1, sw2]`. `Info.plist`
//!   must list the AIDs `D392F000260100000001` and `D3921000310001010408`.
//!
//! Map failures to [`TransportError`] as its docs say. Anything else the implementation
//! throws reaches the crew as "Card reader problem" instead of crashing the app.

use std::sync::Arc;

use mobile_core::CardLinkError;

use crate::error::TransportError;

/// A link to the patient's My Number card, implemented by the app (Kotlin, Swift, Python).
#[uniffi::export(foreign)]
pub trait CardTransport: Send + Sync {
    /// Sends one command APDU and returns the full response APDU (data then SW1 SW2).
    /// Blocks until the card answers or the link fails.
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, TransportError>;
}

/// The app's transport as mobile-core's [`mobile_core::CardTransport`].
pub(crate) struct ForeignCard(pub(crate) Arc<dyn CardTransport>);

impl mobile_core::CardTransport for ForeignCard {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        self.0.transmit(command).map_err(CardLinkError::from)
    }
}
