//! The JPKI application (公的個人認証AP) of the My Number card: the token info and
//! certificates (no PIN), and the PIN-guarded user-authentication signature.
//!
//! Public facts, as used by open-source readers (OpenSC's `card-jpki.c`, the Go tool
//! `jpki/myna`):
//! - JPKI AP AID: `D3 92 F0 00 26 01 00 00 00 01`.
//! - EF `0006`: token info, 0x20 bytes of space-padded ASCII: `JPKIAPICCTOKEN2` on a
//!   My Number card, `JPKIAPICCTOKEN` on the older resident-registry card (住基カード),
//!   `JPKIAPGPSETOKEN` for the smartphone JPKI (スマホ用電子証明書).
//! - EF `000A`: the user-authentication certificate (利用者証明用電子証明書), X.509 DER,
//!   readable without a PIN. It carries no name or address. EF `000B`: its CA
//!   certificate, DER.
//! - EF `0018`: the user-authentication PIN, 4 digits, 3 tries. EF `0017`: the
//!   user-authentication private key (RSA-2048), used by COMPUTE DIGITAL SIGNATURE after
//!   that PIN is verified.
//!
//! Reading the token info and the certificates sends only SELECT and READ BINARY and
//! never touches the PIN. [`sign_challenge`] does send the PIN, but only through the
//! retry guard of [`super::pin`]: it asks the counter first and refuses with one try left.
//!
//! # Assurance
//! A certificate read plus the crew's face-photo check gives
//! [`AssuranceLevel::CardAndPhoto`](myna_domain::identity::AssuranceLevel::CardAndPhoto);
//! a signature made with the PIN, verified by the edge against the certificate, gives
//! [`AssuranceLevel::PinVerified`](myna_domain::identity::AssuranceLevel::PinVerified)
//! (see [`super::identity`]).

use myna_domain::certificate::sha256_digest_info;

use super::apdu;
use super::error::CardError;
use super::exchange::{exchange, read_tlv_file};
use super::pin::{self, Pin, PinTries};
use super::status::StatusError;
use super::transport::CardTransport;

/// AID of the JPKI application.
pub const JPKI_AP_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// EF of the token info.
pub const EF_TOKEN_INFO: [u8; 2] = [0x00, 0x06];
/// EF of the user-authentication certificate.
pub const EF_AUTH_CERTIFICATE: [u8; 2] = [0x00, 0x0A];
/// EF of the user-authentication certificate's CA certificate.
pub const EF_AUTH_CA_CERTIFICATE: [u8; 2] = [0x00, 0x0B];
/// EF of the user-authentication private key (RSA-2048).
pub const EF_AUTH_KEY: [u8; 2] = [0x00, 0x17];
/// EF of the user-authentication PIN (4 digits, 3 tries).
pub const EF_AUTH_PIN: [u8; 2] = [0x00, 0x18];
/// Length of the token info.
pub const TOKEN_INFO_LEN: u8 = 0x20;
/// Token info of a My Number card (before the space padding).
pub const MY_NUMBER_CARD_TOKEN: &[u8] = b"JPKIAPICCTOKEN2";
/// Token info of the older resident-registry card, 住基カード (before the padding).
pub const RESIDENT_REGISTRY_CARD_TOKEN: &[u8] = b"JPKIAPICCTOKEN";
/// Token info of the smartphone JPKI, スマホ用電子証明書 (before the padding).
pub const SMARTPHONE_JPKI_TOKEN: &[u8] = b"JPKIAPGPSETOKEN";
/// Largest certificate accepted. Genuine ones are 1 to 2 KiB.
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// Largest signature accepted (RSA-4096); the card's RSA-2048 key gives 256 bytes.
pub const MAX_SIGNATURE_LEN: usize = 512;
/// Bytes read first: enough for a DER SEQUENCE header with a two-byte length.
const HEADER_PROBE_LEN: u8 = 4;
/// DER tag of a SEQUENCE (a certificate's outer structure).
const SEQUENCE_TAG: u32 = 0x30;

/// What kind of card answered as the JPKI application, from its token info.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// A My Number card (token info `JPKIAPICCTOKEN2`).
    MyNumberCard,
    /// The older resident-registry card, 住基カード (token info `JPKIAPICCTOKEN`).
    ResidentRegistryCard,
    /// The smartphone JPKI, スマホ用電子証明書 (token info `JPKIAPGPSETOKEN`).
    SmartphoneJpki,
    /// Anything else with a JPKI application.
    Unknown,
}

impl CardKind {
    /// Classifies a token info: the padding (trailing spaces or NULs) is trimmed and
    /// the rest compared exactly, since `JPKIAPICCTOKEN` is a prefix of
    /// `JPKIAPICCTOKEN2`.
    pub fn from_token_info(token: &[u8]) -> CardKind {
        let end = token
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i + 1);
        match &token[..end] {
            t if t == MY_NUMBER_CARD_TOKEN => CardKind::MyNumberCard,
            t if t == RESIDENT_REGISTRY_CARD_TOKEN => CardKind::ResidentRegistryCard,
            t if t == SMARTPHONE_JPKI_TOKEN => CardKind::SmartphoneJpki,
            _ => CardKind::Unknown,
        }
    }
}

/// Reads the token info (EF 0006) and tells which kind of card this is.
pub fn read_token_info(transport: &dyn CardTransport) -> Result<CardKind, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_TOKEN_INFO))?;
    // A card with a shorter EF answers 6Cxx; the exchange asks again with that Le.
    let token = exchange(transport, apdu::read_binary(0, TOKEN_INFO_LEN)?)?;
    Ok(CardKind::from_token_info(&token))
}

/// Reads the user-authentication certificate (EF 000A) and returns its DER.
///
/// Reads the 4-byte SEQUENCE header first to learn the length, then the rest in chunks
/// of 0xF0 bytes, and checks the result is exactly one DER object of that length.
pub fn read_auth_certificate(transport: &dyn CardTransport) -> Result<Vec<u8>, CardError> {
    read_certificate(transport, EF_AUTH_CERTIFICATE)
}

/// Reads the CA certificate of the user-authentication certificate (EF 000B) and
/// returns its DER, like [`read_auth_certificate`].
pub fn read_ca_certificate(transport: &dyn CardTransport) -> Result<Vec<u8>, CardError> {
    read_certificate(transport, EF_AUTH_CA_CERTIFICATE)
}

/// How many tries the user-authentication PIN has left, asked without spending one
/// (VERIFY with no data on EF 0018). Lets the app decide whether to offer PIN entry at
/// all ([`PinTries::allows_pin_entry`]).
pub fn auth_pin_tries(transport: &dyn CardTransport) -> Result<PinTries, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_AUTH_PIN))?;
    pin::pin_tries(transport)
}

/// Signs `message` with the card's user-authentication key after verifying `pin`, and
/// returns the RSA PKCS#1 v1.5 signature (256 bytes on a genuine card). The card is sent
/// the DER DigestInfo of SHA-256(`message`) from
/// [`myna_domain::certificate::sha256_digest_info`], the function the edge's check
/// ([`CardCertificate::verify_signature`](myna_domain::certificate::CardCertificate::verify_signature))
/// is written against: RSA PKCS#1 v1.5 with SHA-256 over `message`, with the key of the
/// certificate of [`read_auth_certificate`].
///
/// The retry counter is asked first; the PIN is not sent when one try or none is left
/// ([`CardError::PinGuard`], or [`StatusError::PinBlocked`]). A wrong PIN is
/// [`StatusError::WrongPin`] with the tries now left.
pub fn sign_challenge(
    transport: &dyn CardTransport,
    pin: &Pin,
    message: &[u8],
) -> Result<Vec<u8>, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_AUTH_PIN))?;
    pin::verify_guarded(transport, pin)?;
    exchange(transport, apdu::select_ef(EF_AUTH_KEY))?;
    let digest_info = sha256_digest_info(message);
    let signature = exchange(transport, apdu::compute_digital_signature(&digest_info)?)?;
    if signature.is_empty() || signature.len() > MAX_SIGNATURE_LEN {
        return Err(CardError::Malformed(format!(
            "signature of {} bytes",
            signature.len()
        )));
    }
    Ok(signature)
}

fn read_certificate(transport: &dyn CardTransport, ef: [u8; 2]) -> Result<Vec<u8>, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(ef))?;
    read_tlv_file(
        transport,
        SEQUENCE_TAG,
        HEADER_PROBE_LEN,
        MAX_CERTIFICATE_LEN,
    )
}

/// Selects the JPKI application; a card without it is not a My Number card.
fn select_jpki_ap(transport: &dyn CardTransport) -> Result<(), CardError> {
    match exchange(transport, apdu::select_aid(&JPKI_AP_AID)?) {
        Err(CardError::Status(StatusError::FileNotFound)) => Err(CardError::NotAMyNumberCard),
        other => other.map(drop),
    }
}

#[cfg(test)]
pub(crate) mod tests;
