//! The JPKI application (公的個人認証AP) of the My Number card: what can be read
//! without a PIN.
//!
//! Public facts, as used by open-source readers (e.g. the Go tool `jpki/myna` and
//! OpenSC's `card-jpki.c`):
//! - JPKI AP AID: `D3 92 F0 00 26 01 00 00 00 01`.
//! - EF `0006`: token info, 0x20 bytes of space-padded ASCII. `JPKIAPICCTOKEN2` means a
//!   My Number card (the older resident-registry card says `JPKIAPICCTOKEN`).
//! - EF `000A`: the user-authentication certificate (利用者証明用電子証明書), X.509 DER,
//!   readable without a PIN. It carries no name or address.
//!
//! Only SELECT and READ BINARY are sent: never VERIFY, so a patient's PIN retry counter
//! is never touched.

use super::apdu::{self, ResponseApdu, StatusError};
use super::{CardError, CardTransport, tlv};

/// AID of the JPKI application.
pub const JPKI_AP_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];
/// EF of the token info.
pub const EF_TOKEN_INFO: [u8; 2] = [0x00, 0x06];
/// EF of the user-authentication certificate.
pub const EF_AUTH_CERTIFICATE: [u8; 2] = [0x00, 0x0A];
/// Length of the token info.
pub const TOKEN_INFO_LEN: u8 = 0x20;
/// Token info prefix of a My Number card.
pub const MY_NUMBER_CARD_TOKEN: &[u8] = b"JPKIAPICCTOKEN2";
/// Largest certificate accepted. Genuine ones are 1 to 2 KiB.
pub const MAX_CERTIFICATE_LEN: usize = 16 * 1024;
/// Bytes read first: enough for a DER SEQUENCE header with a two-byte length.
const HEADER_PROBE_LEN: u8 = 4;
/// READ BINARY chunk: below 256 so every reader and every card accepts it.
const READ_CHUNK: usize = 0xF0;
/// DER tag of a SEQUENCE (a certificate's outer structure).
const SEQUENCE_TAG: u32 = 0x30;

/// What kind of card answered as the JPKI application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardKind {
    /// A My Number card (token info `JPKIAPICCTOKEN2`).
    MyNumberCard,
    /// Anything else with a JPKI-like token info.
    Unknown,
}

/// Reads the token info (EF 0006) and tells which kind of card this is.
pub fn read_token_info(transport: &dyn CardTransport) -> Result<CardKind, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_TOKEN_INFO))?;
    let token = match exchange(transport, apdu::read_binary(0, TOKEN_INFO_LEN)?) {
        // A card with a shorter EF tells the right Le; ask again with it.
        Err(CardError::Status(StatusError::WrongLe { correct })) if correct > 0 => {
            exchange(transport, apdu::read_binary(0, correct)?)?
        }
        other => other?,
    };
    Ok(if token.starts_with(MY_NUMBER_CARD_TOKEN) {
        CardKind::MyNumberCard
    } else {
        CardKind::Unknown
    })
}

/// Reads the user-authentication certificate (EF 000A) and returns its DER.
///
/// Reads the 4-byte SEQUENCE header first to learn the length, then the rest in chunks
/// of 0xF0 bytes, and checks the result is exactly one DER object of that length.
pub fn read_auth_certificate(transport: &dyn CardTransport) -> Result<Vec<u8>, CardError> {
    select_jpki_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_AUTH_CERTIFICATE))?;
    let mut der = exchange(transport, apdu::read_binary(0, HEADER_PROBE_LEN)?)?;
    if der.len() > usize::from(HEADER_PROBE_LEN) {
        return Err(CardError::Malformed(
            "card returned more bytes than requested".into(),
        ));
    }
    let header = tlv::parse_header(&der, MAX_CERTIFICATE_LEN)?;
    if header.tag != SEQUENCE_TAG {
        return Err(CardError::Malformed(
            "certificate is not a DER SEQUENCE".into(),
        ));
    }
    let total = header.total_len();
    der.truncate(total);
    der.reserve_exact(total - der.len());
    while der.len() < total {
        let offset = u16::try_from(der.len())
            .map_err(|_| CardError::InvalidCommand("certificate offset beyond u16"))?;
        let want = READ_CHUNK.min(total - der.len());
        // `want` is at most 0xF0, so it fits in a byte.
        let chunk = exchange(transport, apdu::read_binary(offset, want as u8)?)?;
        if chunk.is_empty() {
            return Err(CardError::Malformed(
                "certificate ends before its announced length".into(),
            ));
        }
        if chunk.len() > want {
            return Err(CardError::Malformed(
                "card returned more bytes than requested".into(),
            ));
        }
        der.extend_from_slice(&chunk);
    }
    let (_, _, rest) = tlv::split(&der, MAX_CERTIFICATE_LEN)?;
    if !rest.is_empty() || der.len() != total {
        return Err(CardError::Malformed(
            "certificate length does not match its header".into(),
        ));
    }
    Ok(der)
}

/// Selects the JPKI application; a card without it is not a My Number card.
fn select_jpki_ap(transport: &dyn CardTransport) -> Result<(), CardError> {
    match exchange(transport, apdu::select_aid(&JPKI_AP_AID)?) {
        Err(CardError::Status(StatusError::FileNotFound)) => Err(CardError::NotAMyNumberCard),
        other => other.map(drop),
    }
}

/// One command/response exchange: the response data on 9000, a typed error otherwise.
fn exchange(transport: &dyn CardTransport, command: Vec<u8>) -> Result<Vec<u8>, CardError> {
    let ins = command.get(1).copied().unwrap_or_default();
    let response = ResponseApdu::parse(transport.transmit(command)?)?;
    let sw = response.sw();
    response.into_data().map_err(|status| {
        // INS and SW only: command and response data stay out of logs.
        tracing::debug!(
            ins = format_args!("{ins:02X}"),
            sw = format_args!("{sw:04X}"),
            "card refused command"
        );
        CardError::Status(status)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::card::CardLinkError;

    /// One scripted exchange: the expected command and the link's answer.
    pub(crate) type Step = (Vec<u8>, Result<Vec<u8>, CardLinkError>);

    /// A transport that expects an exact sequence of commands and plays back responses.
    pub(crate) struct ScriptedCard {
        steps: Mutex<VecDeque<Step>>,
    }

    impl ScriptedCard {
        pub(crate) fn new(steps: Vec<Step>) -> Self {
            ScriptedCard {
                steps: Mutex::new(steps.into()),
            }
        }

        pub(crate) fn assert_done(&self) {
            let left = self.steps.lock().unwrap().len();
            assert_eq!(left, 0, "{left} scripted exchanges not used");
        }
    }

    impl CardTransport for ScriptedCard {
        fn transmit(&self, command: Vec<u8>) -> Result<Vec<u8>, CardLinkError> {
            let (expected, response) = self
                .steps
                .lock()
                .unwrap()
                .pop_front()
                .expect("unexpected extra command");
            assert_eq!(command, expected, "command out of script");
            response
        }
    }

    fn ok(data: &[u8]) -> Result<Vec<u8>, CardLinkError> {
        let mut r = data.to_vec();
        r.extend_from_slice(&[0x90, 0x00]);
        Ok(r)
    }

    fn sw(sw: u16) -> Result<Vec<u8>, CardLinkError> {
        Ok(sw.to_be_bytes().to_vec())
    }

    fn select_ap() -> Vec<u8> {
        apdu::select_aid(&JPKI_AP_AID).unwrap()
    }

    fn read(offset: u16, le: u8) -> Vec<u8> {
        apdu::read_binary(offset, le).unwrap()
    }

    /// A fake DER SEQUENCE with a `value_len`-byte value.
    pub(crate) fn fake_der(value_len: u16) -> Vec<u8> {
        let [hi, lo] = value_len.to_be_bytes();
        let mut der = vec![0x30, 0x82, hi, lo];
        der.extend((0..value_len).map(|i| (i % 251) as u8));
        der
    }

    /// The exchanges reading `der` from EF 000A in the production chunking.
    pub(crate) fn certificate_script(der: &[u8]) -> Vec<Step> {
        let mut steps = vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
            (read(0, 4), ok(&der[..4])),
        ];
        let mut offset = 4;
        while offset < der.len() {
            let n = READ_CHUNK.min(der.len() - offset);
            steps.push((read(offset as u16, n as u8), ok(&der[offset..offset + n])));
            offset += n;
        }
        steps
    }

    #[test]
    fn reads_a_certificate_in_chunks() {
        let der = fake_der(300);
        let steps = certificate_script(&der);
        // Header, then 240 + 60 bytes.
        assert_eq!(steps.len(), 5);
        assert_eq!(steps[3].0, read(4, 0xF0));
        assert_eq!(steps[4].0, read(244, 60));
        let card = ScriptedCard::new(steps);
        assert_eq!(read_auth_certificate(&card), Ok(der));
        card.assert_done();
    }

    #[test]
    fn reads_a_small_certificate_and_tolerates_short_chunks() {
        // One-byte length form: 0x30 0x05 ..., the probe already holds part of the value.
        let der = vec![0x30, 0x05, 1, 2, 3, 4, 5];
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
            (read(0, 4), ok(&der[..4])),
            (read(4, 3), ok(&der[4..5])),
            (read(5, 2), ok(&der[5..])),
        ]);
        assert_eq!(read_auth_certificate(&card), Ok(der));
        card.assert_done();
    }

    #[test]
    fn card_without_jpki_is_not_a_my_number_card() {
        let card = ScriptedCard::new(vec![(select_ap(), sw(0x6A82))]);
        assert_eq!(
            read_auth_certificate(&card),
            Err(CardError::NotAMyNumberCard)
        );
    }

    #[test]
    fn missing_certificate_file_is_a_status_error() {
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_AUTH_CERTIFICATE), sw(0x6A82)),
        ]);
        assert_eq!(
            read_auth_certificate(&card),
            Err(CardError::Status(StatusError::FileNotFound))
        );
    }

    #[test]
    fn response_without_status_word_is_malformed() {
        let card = ScriptedCard::new(vec![(select_ap(), Ok(vec![0x90]))]);
        assert!(matches!(
            read_auth_certificate(&card),
            Err(CardError::Malformed(_))
        ));
    }

    #[test]
    fn bad_headers_and_short_files_are_rejected() {
        let script = |probe: &[u8]| {
            ScriptedCard::new(vec![
                (select_ap(), ok(&[])),
                (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
                (read(0, 4), ok(probe)),
            ])
        };
        let malformed = |r| matches!(r, Err(CardError::Malformed(_)));
        assert!(malformed(read_auth_certificate(&script(&[
            0x04, 0x82, 0x01, 0x00
        ]))));
        assert!(malformed(read_auth_certificate(&script(&[
            0x30, 0x80, 0, 0
        ]))));
        assert!(malformed(read_auth_certificate(&script(&[0x30, 0x82]))));
        assert!(malformed(read_auth_certificate(&script(&[
            0x30, 0x82, 1, 0, 0
        ]))));
        assert_eq!(
            read_auth_certificate(&script(&[0x30, 0x82, 0x7F, 0xFF])),
            Err(CardError::Oversized {
                len: 0x7FFF + 4,
                max: MAX_CERTIFICATE_LEN
            })
        );
        // The file ends early: the card answers with no data.
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_AUTH_CERTIFICATE), ok(&[])),
            (read(0, 4), ok(&[0x30, 0x10, 0, 0])),
            (read(4, 14), ok(&[])),
        ]);
        assert!(malformed(read_auth_certificate(&card)));
    }

    #[test]
    fn lost_card_surfaces_as_link_error() {
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (
                apdu::select_ef(EF_AUTH_CERTIFICATE),
                Err(CardLinkError::Lost),
            ),
        ]);
        assert_eq!(
            read_auth_certificate(&card),
            Err(CardError::Link(CardLinkError::Lost))
        );
    }

    #[test]
    fn token_info_tells_the_card_kind() {
        let token = |data: &[u8]| {
            let card = ScriptedCard::new(vec![
                (select_ap(), ok(&[])),
                (apdu::select_ef(EF_TOKEN_INFO), ok(&[])),
                (read(0, 0x20), ok(data)),
            ]);
            let kind = read_token_info(&card);
            card.assert_done();
            kind
        };
        let mut padded = MY_NUMBER_CARD_TOKEN.to_vec();
        padded.resize(0x20, b' ');
        assert_eq!(token(&padded), Ok(CardKind::MyNumberCard));
        let mut juki = b"JPKIAPICCTOKEN".to_vec();
        juki.resize(0x20, b' ');
        assert_eq!(token(&juki), Ok(CardKind::Unknown));
        assert_eq!(token(&[]), Ok(CardKind::Unknown));

        // A shorter EF: the card says the right Le, the reader asks again.
        let card = ScriptedCard::new(vec![
            (select_ap(), ok(&[])),
            (apdu::select_ef(EF_TOKEN_INFO), ok(&[])),
            (read(0, 0x20), sw(0x6C0F)),
            (read(0, 0x0F), ok(MY_NUMBER_CARD_TOKEN)),
        ]);
        assert_eq!(read_token_info(&card), Ok(CardKind::MyNumberCard));
        card.assert_done();
    }
}
