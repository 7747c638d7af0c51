//! ISO 7816-4 command and response APDUs, sans I/O.
//!
//! Only the short-length commands the My Number card's JPKI and input-support
//! applications need: SELECT by AID, SELECT EF by file id, READ BINARY, VERIFY (with a
//! PIN, or without data to ask the retry counter), COMPUTE DIGITAL SIGNATURE and
//! GET RESPONSE. Status words are decoded into [`StatusError`] so callers match on
//! meaning, never on raw numbers.
//!
//! The byte layouts are public facts, as used by open-source readers (OpenSC's
//! `card-jpki.c`, the Go tool `jpki/myna`):
//! - VERIFY `00 20 00 80 Lc PIN` (the PIN as ASCII digits) after selecting the PIN EF;
//!   `00 20 00 80` with no data answers the retry counter as `63 Cx` without spending a
//!   try (9000 when already verified in this session).
//! - COMPUTE DIGITAL SIGNATURE `80 2A 00 80 Lc DigestInfo 00` after selecting the key
//!   EF: the card pads (PKCS#1 v1.5) and signs the DER DigestInfo the host sends.
//! - GET RESPONSE `00 C0 00 00 Le` when a card answers `61 xx` (more data available).

use super::error::CardError;
pub use super::status::{StatusError, check_status};

/// Longest AID ISO 7816-4 allows.
const MAX_AID_LEN: usize = 16;
/// Highest offset READ BINARY can address with P1-P2 (bit 8 of P1 must be 0).
pub const MAX_READ_OFFSET: u16 = 0x7FFF;

/// `SELECT` by DF name (AID), no response data: `00 A4 04 0C Lc AID`.
///
/// Rejects an empty AID or one longer than 16 bytes.
pub fn select_aid(aid: &[u8]) -> Result<Vec<u8>, CardError> {
    if aid.is_empty() || aid.len() > MAX_AID_LEN {
        return Err(CardError::InvalidCommand("AID must be 1 to 16 bytes"));
    }
    let mut apdu = Vec::with_capacity(5 + aid.len());
    // The length fits: it was checked against 16 above.
    apdu.extend_from_slice(&[0x00, 0xA4, 0x04, 0x0C, aid.len() as u8]);
    apdu.extend_from_slice(aid);
    Ok(apdu)
}

/// `SELECT` an elementary file of the current DF by file id, no response data:
/// `00 A4 02 0C 02 FID`.
pub fn select_ef(fid: [u8; 2]) -> Vec<u8> {
    vec![0x00, 0xA4, 0x02, 0x0C, 0x02, fid[0], fid[1]]
}

/// `READ BINARY` of the current EF: `00 B0 offset_hi offset_lo Le`. `le` 0 asks for 256
/// bytes. Rejects offsets above 0x7FFF (P1 bit 8 would mean "short EF id").
pub fn read_binary(offset: u16, le: u8) -> Result<Vec<u8>, CardError> {
    if offset > MAX_READ_OFFSET {
        return Err(CardError::InvalidCommand("READ BINARY offset above 0x7FFF"));
    }
    let [hi, lo] = offset.to_be_bytes();
    Ok(vec![0x00, 0xB0, hi, lo, le])
}

/// `VERIFY` the PIN of the current PIN EF: `00 20 00 80 04 PIN` (four ASCII digits).
///
/// Takes the plain digits (a [`super::pin::Pin`]'s), so this builder knows nothing of the
/// guard. Spends one try of the card's retry counter if the PIN is wrong: callers go
/// through the guard in [`super::pin`], never straight here.
pub(crate) fn verify(digits: &[u8]) -> Vec<u8> {
    let mut apdu = Vec::with_capacity(5 + digits.len());
    apdu.extend_from_slice(&[0x00, 0x20, 0x00, 0x80, digits.len() as u8]);
    apdu.extend_from_slice(digits);
    apdu
}

/// `VERIFY` with no data (case 1): `00 20 00 80`. Asks the current PIN EF's retry
/// counter without spending a try: `63 Cx` (x tries left), `9000` (already verified in
/// this session), `69 83` (blocked).
pub fn verify_status() -> Vec<u8> {
    vec![0x00, 0x20, 0x00, 0x80]
}

/// `COMPUTE DIGITAL SIGNATURE` with the current key EF: `80 2A 00 80 Lc DigestInfo 00`.
///
/// The card adds the PKCS#1 v1.5 padding; the host sends the DER DigestInfo. Rejects an
/// empty input or one longer than 255 bytes (short APDUs only).
pub fn compute_digital_signature(digest_info: &[u8]) -> Result<Vec<u8>, CardError> {
    let lc = u8::try_from(digest_info.len())
        .ok()
        .filter(|&lc| lc > 0)
        .ok_or(CardError::InvalidCommand(
            "signature input must be 1 to 255 bytes",
        ))?;
    let mut apdu = Vec::with_capacity(6 + digest_info.len());
    apdu.extend_from_slice(&[0x80, 0x2A, 0x00, 0x80, lc]);
    apdu.extend_from_slice(digest_info);
    apdu.push(0x00);
    Ok(apdu)
}

/// `GET RESPONSE`: `00 C0 00 00 Le`, fetching what a card announced with `61 xx`.
/// `le` 0 asks for 256 bytes.
pub fn get_response(le: u8) -> Vec<u8> {
    vec![0x00, 0xC0, 0x00, 0x00, le]
}

/// The Le byte of a short command APDU, if it has one (ISO 7816-4 cases 2 and 4).
pub(crate) fn le_position(command: &[u8]) -> Option<usize> {
    match command.len() {
        0..=4 => None,
        5 => Some(4),
        len => {
            let lc = usize::from(command[4]);
            (len == 5 + lc + 1).then_some(len - 1)
        }
    }
}

/// A response APDU split into its data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseApdu {
    /// Response data (may be empty).
    pub data: Vec<u8>,
    /// SW1.
    pub sw1: u8,
    /// SW2.
    pub sw2: u8,
}

impl ResponseApdu {
    /// Splits a raw response. Fewer than two bytes cannot hold a status word.
    pub fn parse(mut bytes: Vec<u8>) -> Result<ResponseApdu, CardError> {
        if bytes.len() < 2 {
            return Err(CardError::Malformed(
                "response shorter than a status word".into(),
            ));
        }
        let sw2 = bytes.pop().unwrap_or_default();
        let sw1 = bytes.pop().unwrap_or_default();
        Ok(ResponseApdu {
            data: bytes,
            sw1,
            sw2,
        })
    }

    /// SW1 SW2 as one number, e.g. `0x9000`.
    pub fn sw(&self) -> u16 {
        u16::from_be_bytes([self.sw1, self.sw2])
    }

    /// The data when the status word is 9000, the decoded status otherwise.
    pub fn into_data(self) -> Result<Vec<u8>, StatusError> {
        check_status(self.sw())?;
        Ok(self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPKI_AID: [u8; 10] = [0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01];

    #[test]
    fn select_aid_is_byte_exact() {
        assert_eq!(
            select_aid(&JPKI_AID).unwrap(),
            [
                0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00,
                0x01
            ]
        );
        assert!(select_aid(&[]).is_err());
        assert!(select_aid(&[0u8; 17]).is_err());
    }

    #[test]
    fn select_ef_is_byte_exact() {
        assert_eq!(
            select_ef([0x00, 0x0A]),
            [0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A]
        );
    }

    #[test]
    fn read_binary_is_byte_exact() {
        assert_eq!(read_binary(0, 4).unwrap(), [0x00, 0xB0, 0x00, 0x00, 0x04]);
        assert_eq!(
            read_binary(0x01F0, 0xF0).unwrap(),
            [0x00, 0xB0, 0x01, 0xF0, 0xF0]
        );
        assert_eq!(
            read_binary(0x7FFF, 0).unwrap(),
            [0x00, 0xB0, 0x7F, 0xFF, 0x00]
        );
        assert!(matches!(
            read_binary(0x8000, 1),
            Err(CardError::InvalidCommand(_))
        ));
    }

    #[test]
    fn verify_is_byte_exact() {
        let pin = crate::card::pin::Pin::new("1234").unwrap();
        assert_eq!(
            verify(pin.digits()),
            [0x00, 0x20, 0x00, 0x80, 0x04, 0x31, 0x32, 0x33, 0x34]
        );
        assert_eq!(verify_status(), [0x00, 0x20, 0x00, 0x80]);
        assert_eq!(le_position(&verify(pin.digits())), None);
        assert_eq!(le_position(&verify_status()), None);
    }

    #[test]
    fn compute_digital_signature_is_byte_exact() {
        assert_eq!(
            compute_digital_signature(&[0xAA, 0xBB]).unwrap(),
            [0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00]
        );
        let apdu = compute_digital_signature(&[0x11; 51]).unwrap();
        assert_eq!(apdu.len(), 5 + 51 + 1);
        assert_eq!(apdu[4], 51);
        assert_eq!(le_position(&apdu), Some(56));
        assert!(compute_digital_signature(&[0x11; 255]).is_ok());
        for bad in [&[][..], &[0u8; 256][..]] {
            assert!(matches!(
                compute_digital_signature(bad),
                Err(CardError::InvalidCommand(_))
            ));
        }
    }

    #[test]
    fn get_response_is_byte_exact() {
        assert_eq!(get_response(0x10), [0x00, 0xC0, 0x00, 0x00, 0x10]);
        assert_eq!(get_response(0), [0x00, 0xC0, 0x00, 0x00, 0x00]);
        assert_eq!(le_position(&get_response(0)), Some(4));
        assert_eq!(le_position(&select_ef([0, 6])), None);
        assert_eq!(le_position(&read_binary(0, 4).unwrap()), Some(4));
    }

    #[test]
    fn response_splits_data_and_status() {
        let r = ResponseApdu::parse(vec![0x30, 0x82, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, [0x30, 0x82]);
        assert_eq!(r.sw(), 0x9000);
        assert_eq!(r.into_data(), Ok(vec![0x30, 0x82]));

        let r = ResponseApdu::parse(vec![0x6A, 0x82]).unwrap();
        assert!(r.data.is_empty());
        assert_eq!(r.into_data(), Err(StatusError::FileNotFound));

        for short in [vec![], vec![0x90]] {
            assert!(matches!(
                ResponseApdu::parse(short),
                Err(CardError::Malformed(_))
            ));
        }
    }

    #[test]
    fn status_words() {
        fn check(bytes: [u8; 2], expected: Result<(), StatusError>) {
            // From the raw response bytes, as a card sends them.
            let response = ResponseApdu::parse(bytes.to_vec()).unwrap();
            let sw = response.sw();
            assert_eq!(check_status(sw), expected, "SW {sw:04X}");
            assert_eq!(response.into_data().map(drop), expected, "SW {sw:04X}");
        }
        use StatusError::*;
        check([0x90, 0x00], Ok(()));
        check([0x61, 0x10], Err(MoreData { available: 0x10 }));
        check([0x61, 0x00], Err(MoreData { available: 0 }));
        check([0x62, 0x82], Err(EndOfFile));
        check([0x63, 0xC3], Err(WrongPin { tries_left: 3 }));
        check([0x63, 0xC1], Err(WrongPin { tries_left: 1 }));
        check([0x63, 0xCF], Err(WrongPin { tries_left: 15 }));
        check([0x63, 0xC0], Err(PinBlocked));
        check([0x63, 0x00], Err(Unexpected(0x6300)));
        check([0x65, 0x81], Err(MemoryFailure));
        check([0x67, 0x00], Err(WrongLength));
        check([0x69, 0x82], Err(SecurityStatusNotSatisfied));
        check([0x69, 0x83], Err(PinBlocked));
        check([0x69, 0x84], Err(ReferenceDataNotUsable));
        check([0x69, 0x85], Err(ConditionsNotSatisfied));
        check([0x69, 0x86], Err(NoCurrentEf));
        check([0x6A, 0x80], Err(IncorrectData));
        check([0x6A, 0x81], Err(FunctionNotSupported));
        check([0x6A, 0x82], Err(FileNotFound));
        check([0x6A, 0x86], Err(WrongP1P2));
        check([0x6A, 0x87], Err(WrongP1P2));
        check([0x6A, 0x88], Err(ReferencedDataNotFound));
        check([0x6B, 0x00], Err(OffsetOutsideEf));
        check([0x6C, 0x10], Err(WrongLe { correct: 0x10 }));
        check([0x6C, 0x00], Err(WrongLe { correct: 0 }));
        check([0x6D, 0x00], Err(InsNotSupported));
        check([0x6E, 0x00], Err(ClaNotSupported));
        check([0x6F, 0x00], Err(NoPreciseDiagnosis));
        check([0x90, 0x01], Err(Unexpected(0x9001)));
        check([0x6A, 0x83], Err(Unexpected(0x6A83)));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_response_splits_or_is_too_short(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            match ResponseApdu::parse(bytes.clone()) {
                Ok(response) => {
                    prop_assert_eq!(&response.data[..], &bytes[..bytes.len() - 2]);
                    prop_assert_eq!(response.sw().to_be_bytes(), [bytes[bytes.len() - 2], bytes[bytes.len() - 1]]);
                    let decoded = check_status(response.sw());
                    prop_assert_eq!(decoded.is_ok(), response.sw() == 0x9000);
                    prop_assert_eq!(response.into_data().is_ok(), decoded.is_ok());
                }
                Err(_) => prop_assert!(bytes.len() < 2),
            }
        }

        #[test]
        fn every_status_word_decodes(sw in any::<u16>()) {
            // Never panics; only 9000 is success.
            prop_assert_eq!(check_status(sw).is_ok(), sw == 0x9000);
        }

        #[test]
        fn le_position_stays_inside_the_command(command in proptest::collection::vec(any::<u8>(), 0..270)) {
            if let Some(at) = le_position(&command) {
                prop_assert!(at < command.len());
            }
        }
    }
}
