//! A software My Number card: an APDU responder modelling the card's two applications, its
//! PINs and its signing key; a development issuer of JPKI-like certificates; the cards of a
//! synthetic population; and a bridge that plugs the card into a real pcscd.
//!
//! The card implements [`mobile_core::CardTransport`], so the tablet core reads it exactly
//! as it reads a real card over NFC. It models, after OpenSC's `card-jpki.c` and the
//! `jpki`/`myna` tools:
//! - the JPKI application (公的個人認証AP, AID `D3 92 F0 00 26 01 00 00 00 01`): EF `0006`
//!   token info (`JPKIAPICCTOKEN2`, space-padded to 0x20 bytes), EF `000A` the
//!   user-authentication certificate and EF `000B` its CA certificate (both readable
//!   without a PIN), EF `0018` the auth PIN, EF `0017` the RSA-2048 private key;
//! - the card-info input-support application (券面事項入力補助AP, AID
//!   `D3 92 10 00 31 00 01 01 04 08`): EF `0011` its PIN, EF `0002` the four basic facts
//!   ([`facts`]), readable only after that PIN;
//! - SELECT, READ BINARY, VERIFY and COMPUTE DIGITAL SIGNATURE (see `commands`), PIN
//!   counters of 3 tries that block for good at 0;
//! - power and removal: the card forgets its selection and verified PINs, never its
//!   counters.
//!
//! Used by the simulations, the end-to-end tests and mobile-ffi's `test-card` feature; it
//! depends on no service crate.
//!
//! # Features
//! - `issuer` (default): the development issuer and the population's cards, with rcgen
//!   and the synthetic population generator. Without it the crate is the card and the
//!   vpcd bridge only: mobile-ffi's test card builds its card from parts.
//!
//! # Layout
//! - `card`: [`SoftwareCard`] (power, removal, `transmit`) and [`SoftwareCardBuilder`].
//! - `files`: identifiers, status words, the file and state model.
//! - `commands`: the pure command interpreter.
//! - [`facts`]: the EF `0002` TLV.
//! - `issuer` (feature `issuer`): `DevCardIssuer` (RSA CA, certificates, CRLs, patient
//!   cards) and `generate_card_key`.
//! - `population_cards` (feature `issuer`): `PopulationCards` (lazily created cards of a
//!   synthetic population) and `dev_pin`.
//! - [`vpicc`]: plugs a card into a real pcscd through the vsmartcard `vpcd` virtual
//!   reader driver.
//! - `error`: the crate's [`Error`] and [`Result`].
#![warn(missing_docs)]

mod card;
mod commands;
mod error;
pub mod facts;
mod files;
#[cfg(feature = "issuer")]
mod issuer;
#[cfg(feature = "issuer")]
mod population_cards;
#[cfg(all(test, feature = "issuer"))]
mod tests;
pub mod vpicc;

pub use card::{DEFAULT_TEST_PIN, SoftwareCard, SoftwareCardBuilder};
pub use error::{Error, Result};
pub use facts::CardHolderFacts;
pub use files::{
    CARD_INFO_AP_AID, CardPin, EF_AUTH_CA_CERTIFICATE, EF_AUTH_KEY, EF_AUTH_PIN, EF_BASIC_FACTS,
    EF_CARD_INFO_PIN, PIN_MAX_TRIES,
};
#[cfg(feature = "issuer")]
pub use issuer::{
    CARD_ISSUER_CN, CARD_KEY_BITS, CARD_SUBJECT_CN, DevCardIssuer, generate_card_key,
};
#[cfg(feature = "issuer")]
pub use population_cards::{PopulationCards, dev_pin};
