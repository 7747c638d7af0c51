//! Status words (SW1 SW2) decoded into [`StatusError`], sans I/O: callers match on
//! meaning, never on raw numbers. A module of its own so the card's error type
//! ([`super::error::CardError`]) and the command builders ([`super::apdu`]) both use it
//! without importing each other.

/// A status word other than 9000 (success), decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    /// 61xx: more response data is available with GET RESPONSE. The exchange helper
    /// fetches it transparently; this surfaces only if a card never stops saying it.
    #[error("{available} more response bytes available")]
    MoreData {
        /// xx of 61xx (0 means 256 or more).
        available: u8,
    },
    /// 6282: the end of the file was reached before Le bytes were read.
    #[error("end of file reached")]
    EndOfFile,
    /// 63Cx with x ≥ 1: wrong PIN (or, after VERIFY without data, the retry counter);
    /// `tries_left` attempts remain before the PIN blocks.
    #[error("wrong PIN, {tries_left} tries left")]
    WrongPin {
        /// Remaining attempts (x of 63Cx).
        tries_left: u8,
    },
    /// 6983 (authentication method blocked) or 63C0 (no try left): the PIN is blocked.
    #[error("PIN blocked")]
    PinBlocked,
    /// 6581: memory failure.
    #[error("card memory failure")]
    MemoryFailure,
    /// 6700: wrong length.
    #[error("wrong length")]
    WrongLength,
    /// 6982: security status not satisfied (e.g. PIN not verified).
    #[error("security status not satisfied")]
    SecurityStatusNotSatisfied,
    /// 6984: reference data not usable (e.g. the PIN is not set or invalidated).
    #[error("reference data not usable")]
    ReferenceDataNotUsable,
    /// 6985: conditions of use not satisfied (e.g. signing without a selected key).
    #[error("conditions of use not satisfied")]
    ConditionsNotSatisfied,
    /// 6986: command not allowed (no current EF).
    #[error("command not allowed: no current EF")]
    NoCurrentEf,
    /// 6A80: incorrect parameters in the command data.
    #[error("incorrect command data")]
    IncorrectData,
    /// 6A81: function not supported.
    #[error("function not supported")]
    FunctionNotSupported,
    /// 6A82: file or application not found.
    #[error("file not found")]
    FileNotFound,
    /// 6A86 or 6A87: incorrect P1-P2 (or Lc inconsistent with them).
    #[error("incorrect P1-P2")]
    WrongP1P2,
    /// 6A88: referenced data (e.g. a PIN or key reference) not found.
    #[error("referenced data not found")]
    ReferencedDataNotFound,
    /// 6B00: offset outside the EF.
    #[error("offset outside the EF")]
    OffsetOutsideEf,
    /// 6Cxx: wrong Le; `correct` is the length the card can return.
    #[error("wrong Le, card offers {correct} bytes")]
    WrongLe {
        /// xx of 6Cxx.
        correct: u8,
    },
    /// 6D00: instruction not supported.
    #[error("instruction not supported")]
    InsNotSupported,
    /// 6E00: class not supported.
    #[error("class not supported")]
    ClaNotSupported,
    /// 6F00: the card failed without a precise diagnosis.
    #[error("card failed without diagnosis")]
    NoPreciseDiagnosis,
    /// Any other status word.
    #[error("unexpected status word {0:04X}")]
    Unexpected(u16),
}

/// Decodes a status word: `Ok` for 9000, the typed error otherwise.
///
/// `63 C0` (no try left) decodes as [`StatusError::PinBlocked`], like `69 83`: either
/// way no PIN may be sent any more.
pub fn check_status(sw: u16) -> Result<(), StatusError> {
    use StatusError::*;
    let [sw1, sw2] = sw.to_be_bytes();
    Err(match (sw1, sw2) {
        (0x90, 0x00) => return Ok(()),
        (0x61, available) => MoreData { available },
        (0x62, 0x82) => EndOfFile,
        (0x63, 0xC0) => PinBlocked,
        (0x63, x) if x & 0xF0 == 0xC0 => WrongPin {
            tries_left: x & 0x0F,
        },
        (0x65, 0x81) => MemoryFailure,
        (0x67, 0x00) => WrongLength,
        (0x69, 0x82) => SecurityStatusNotSatisfied,
        (0x69, 0x83) => PinBlocked,
        (0x69, 0x84) => ReferenceDataNotUsable,
        (0x69, 0x85) => ConditionsNotSatisfied,
        (0x69, 0x86) => NoCurrentEf,
        (0x6A, 0x80) => IncorrectData,
        (0x6A, 0x81) => FunctionNotSupported,
        (0x6A, 0x82) => FileNotFound,
        (0x6A, 0x86 | 0x87) => WrongP1P2,
        (0x6A, 0x88) => ReferencedDataNotFound,
        (0x6B, 0x00) => OffsetOutsideEf,
        (0x6C, correct) => WrongLe { correct },
        (0x6D, 0x00) => InsNotSupported,
        (0x6E, 0x00) => ClaNotSupported,
        (0x6F, 0x00) => NoPreciseDiagnosis,
        _ => Unexpected(sw),
    })
}
