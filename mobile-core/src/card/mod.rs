//! Reading a My Number card (マイナンバーカード) over an APDU link.
//!
//! The card layouts and commands used here are public facts, as implemented by
//! open-source readers such as OpenSC (`card-jpki.c`) and the Go tool `jpki/myna`.
//!
//! # Layout
//! - [`transport`]: the [`CardTransport`] trait the platform implements (NFC, PC/SC, a
//!   software card), and its link errors. [`reader`]: errors finding a reader or card.
//! - [`apdu`]: command builders and response APDUs, sans I/O; [`status`]: status words
//!   decoded into [`StatusError`], sans I/O.
//! - [`error`]: [`CardError`], why a card read failed.
//! - `exchange`: one command with its follow-ups (GET RESPONSE on `61xx`, Le retry on
//!   `6Cxx`); logs instruction and status words only.
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
pub mod error;
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
pub mod status;
pub mod tlv;
pub mod transport;

pub use error::CardError;
pub use identity::CardIdentity;
pub use pin::{Pin, PinTries};
pub use reader::ReaderError;
pub use status::StatusError;
pub use transport::{CardLinkError, CardTransport};
