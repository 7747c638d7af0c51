//! The card link: one blocking APDU exchange with whatever reader the platform offers.
//!
//! Everything in [`crate::card`] takes `&dyn CardTransport`, so one trait serves the
//! platform NFC stacks, PC/SC readers (`card::pcsc`, feature `pcsc`), the software card
//! of the `simulations` crate and scripted test cards. The trait is shaped to become a
//! uniffi foreign trait unchanged: `Send + Sync`, owned arguments, a `Result` return.
//! uniffi hands a foreign implementation over as `Arc<dyn CardTransport>`; `Arc` (and
//! `Box`) implement the trait too, so `&arc` or `&*arc` can be passed wherever a
//! `&dyn CardTransport` is expected. (The exported error will then also need
//! `From<uniffi::UnexpectedUniFFICallbackError>`, so a failing callback does not panic.)
//!
//! # Implementing it on a phone or tablet
//! `transmit` sends the command bytes as they are and returns the full response, data
//! followed by SW1 SW2. It is called off the UI thread and may block.
//!
//! - **Android**: `IsoDep.get(tag)`, `connect()`, then `transceive(command)` returns
//!   exactly the response APDU. Call `setTimeout(5000)` after connecting: the default
//!   (about 1 s) is too short for the card's RSA signature (COMPUTE DIGITAL SIGNATURE).
//!   `TagLostException` → [`CardLinkError::Lost`]; other `IOException`s →
//!   [`CardLinkError::Io`] with the exception's message (never APDU bytes).
//! - **iOS**: in an `NFCTagReaderSession` with polling `.iso14443`, connect to the
//!   `NFCISO7816Tag` and call `sendCommand(apdu: NFCISO7816APDU(data:))`; it answers
//!   `(data, sw1, sw2)`, which `transmit` returns concatenated. The reader session
//!   lasts at most about 60 s in all. `readerTransceiveErrorTagConnectionLost` or
//!   `readerTransceiveErrorTagNotConnected` → [`CardLinkError::Lost`];
//!   `readerSessionInvalidationErrorSessionTimeout` → [`CardLinkError::Timeout`]; other
//!   `NFCReaderError`s → [`CardLinkError::Io`] with the error's description.
//!   The app's `Info.plist` must list the AIDs it selects
//!   (`com.apple.developer.nfc.readersession.iso7816.select-identifiers`): the JPKI AP
//!   `D392F000260100000001` and the input-support AP `D3921000310001010408`.
//!
//! Short APDUs are enough (no extended length): the core reads in chunks of 0xF0 bytes
//! and follows `61 xx` with GET RESPONSE itself.

use std::sync::Arc;

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

impl<T: CardTransport + ?Sized> CardTransport for Arc<T> {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        (**self).transmit(command)
    }
}

impl<T: CardTransport + ?Sized> CardTransport for Box<T> {
    fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
        (**self).transmit(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::jpki::{self, CardKind};
    use crate::card::scripted::{ScriptedCard, ok};
    use crate::card::{CardError, apdu};

    fn token_card() -> ScriptedCard {
        let mut token = jpki::MY_NUMBER_CARD_TOKEN.to_vec();
        token.resize(0x20, b' ');
        ScriptedCard::new(vec![
            (apdu::select_aid(&jpki::JPKI_AP_AID).unwrap(), ok(&[])),
            (apdu::select_ef(jpki::EF_TOKEN_INFO), ok(&[])),
            (apdu::read_binary(0, 0x20).unwrap(), ok(&token)),
        ])
    }

    #[test]
    fn foreign_transports_arrive_as_arc_dyn() {
        fn shared<T: Send + Sync + 'static>(_: &T) {}
        let foreign: Arc<dyn CardTransport> = Arc::new(token_card());
        shared(&foreign);
        assert_eq!(jpki::read_token_info(&*foreign), Ok(CardKind::MyNumberCard));

        let foreign: Arc<dyn CardTransport> = Arc::new(token_card());
        assert_eq!(jpki::read_token_info(&foreign), Ok(CardKind::MyNumberCard));

        let boxed: Box<dyn CardTransport> = Box::new(token_card());
        assert_eq!(jpki::read_token_info(&boxed), Ok(CardKind::MyNumberCard));

        // Moves into a blocking thread, as `spawn_blocking` would.
        let foreign: Arc<dyn CardTransport> = Arc::new(token_card());
        let kind = std::thread::spawn(move || jpki::read_token_info(&foreign))
            .join()
            .unwrap();
        assert_eq!(kind, Ok::<_, CardError>(CardKind::MyNumberCard));
    }
}
