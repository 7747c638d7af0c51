//! [`TestCard`] (feature `test-card`): the `soft-card` software My Number card, exported
//! so the foreign-language tests can put it behind a [`crate::CardTransport`] written in
//! their own language. Each APDU then crosses the FFI twice, as on a phone: core → app
//! transport (foreign), app transport → card (Rust).
//!
//! The card is built from parts the test process made, not issued here: the edge under
//! test trusts the development CA of *its* process, and a foreign test runs in another
//! process. The test issues a certificate for the patient's card serial with that CA and
//! passes the certificate, the card key and the PIN along.
//!
//! Never enabled in an app build: only this crate's own tests turn the feature on.

use std::sync::Arc;

use mobile_core::CardTransport as _;
use rsa::pkcs8::DecodePrivateKey;
use soft_card::{CardPin, SoftwareCard};

use crate::error::{MobileFfiError, TransportError};

/// A software My Number card: JPKI application with `certificate_der`, its RSA key and
/// the user-authentication PIN, answering APDUs like the physical card.
#[derive(Debug, uniffi::Object)]
pub struct TestCard {
    card: SoftwareCard,
}

#[uniffi::export]
impl TestCard {
    /// A card holding `certificate_der` (EF `000A`), the key `private_key_pkcs8_der`
    /// (PKCS#8 DER) and `pin` (4 digits) as its user-authentication PIN, with 3 tries.
    #[uniffi::constructor]
    pub fn new(
        certificate_der: Vec<u8>,
        private_key_pkcs8_der: Vec<u8>,
        pin: String,
    ) -> Result<Arc<Self>, MobileFfiError> {
        let key = rsa::PrivateKey::from_pkcs8_der(&private_key_pkcs8_der)
            .map_err(|_| MobileFfiError::invalid_argument("test card key"))?;
        let card = SoftwareCard::builder(certificate_der)
            .key(key)
            .auth_pin(&pin)
            .build()
            .map_err(|_| MobileFfiError::invalid_argument("test card PIN"))?;
        Ok(Arc::new(TestCard { card }))
    }

    /// Answers one command APDU (response data then SW1 SW2). Fails with
    /// [`TransportError::Lost`] while the card is away from the reader.
    pub fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, TransportError> {
        Ok(self.card.transmit(command)?)
    }

    /// Taps the card: it powers up fresh (nothing selected, no PIN verified; PIN tries
    /// kept).
    pub fn tap(&self) {
        self.card.put_back();
    }

    /// Pulls the card away from the reader.
    pub fn remove(&self) {
        self.card.remove();
    }

    /// Commands answered (or refused) so far.
    pub fn exchanges(&self) -> u64 {
        self.card.exchanges() as u64
    }

    /// Tries left on the user-authentication PIN.
    pub fn pin_tries_left(&self) -> u8 {
        self.card.pin_tries_left(CardPin::UserAuthentication)
    }
}
