//! ISO 7816-4 command and response APDUs, sans I/O.
//!
//! Only the short-length commands a PIN-less certificate read needs: SELECT by AID,
//! SELECT EF by file id, READ BINARY. Status words are decoded into [`StatusError`] so
//! callers match on meaning, never on raw numbers.

use super::CardError;

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

/// A status word other than 9000 (success), decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// 63Cx: wrong PIN, `tries_left` attempts remain before the PIN blocks.
    #[error("wrong PIN, {tries_left} tries left")]
    WrongPin {
        /// Remaining attempts (x of 63Cx).
        tries_left: u8,
    },
    /// 6983: the PIN is blocked.
    #[error("PIN blocked")]
    PinBlocked,
    /// 6A82: file or application not found.
    #[error("file not found")]
    FileNotFound,
    /// 6982: security status not satisfied (e.g. PIN not verified).
    #[error("security status not satisfied")]
    SecurityStatusNotSatisfied,
    /// 6700: wrong length.
    #[error("wrong length")]
    WrongLength,
    /// 6Cxx: wrong Le; `correct` is the length the card can return.
    #[error("wrong Le, card offers {correct} bytes")]
    WrongLe {
        /// xx of 6Cxx.
        correct: u8,
    },
    /// Any other status word.
    #[error("unexpected status word {0:04X}")]
    Unexpected(u16),
}

/// Decodes a status word: `Ok` for 9000, the typed error otherwise.
pub fn check_status(sw: u16) -> Result<(), StatusError> {
    let [sw1, sw2] = sw.to_be_bytes();
    match (sw1, sw2) {
        (0x90, 0x00) => Ok(()),
        (0x63, x) if x & 0xF0 == 0xC0 => Err(StatusError::WrongPin {
            tries_left: x & 0x0F,
        }),
        (0x69, 0x83) => Err(StatusError::PinBlocked),
        (0x6A, 0x82) => Err(StatusError::FileNotFound),
        (0x69, 0x82) => Err(StatusError::SecurityStatusNotSatisfied),
        (0x67, 0x00) => Err(StatusError::WrongLength),
        (0x6C, correct) => Err(StatusError::WrongLe { correct }),
        _ => Err(StatusError::Unexpected(sw)),
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
        fn check(sw: u16, expected: Result<(), StatusError>) {
            assert_eq!(check_status(sw), expected, "SW {sw:04X}");
        }
        use StatusError::*;
        check(0x9000, Ok(()));
        check(0x63C3, Err(WrongPin { tries_left: 3 }));
        check(0x63C0, Err(WrongPin { tries_left: 0 }));
        check(0x63CF, Err(WrongPin { tries_left: 15 }));
        check(0x6300, Err(Unexpected(0x6300)));
        check(0x6983, Err(PinBlocked));
        check(0x6A82, Err(FileNotFound));
        check(0x6982, Err(SecurityStatusNotSatisfied));
        check(0x6700, Err(WrongLength));
        check(0x6C10, Err(WrongLe { correct: 0x10 }));
        check(0x6C00, Err(WrongLe { correct: 0 }));
        check(0x6B00, Err(Unexpected(0x6B00)));
        check(0x6D00, Err(Unexpected(0x6D00)));
        check(0x6282, Err(Unexpected(0x6282)));
        check(0x9001, Err(Unexpected(0x9001)));
    }
}
