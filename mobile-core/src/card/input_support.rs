//! The card-info input-support application (券面事項入力補助AP): the four basic facts
//! (基本4情報) — name, address, date of birth, sex — behind the patient's 4-digit PIN.
//!
//! Public facts, as used by open-source readers (OpenSC's `card-jpki.c` neighbours, the
//! Go tool `jpki/myna`):
//! - AID `D3 92 10 00 31 00 01 01 04 08`.
//! - EF `0011`: the input-support PIN (4 digits, 3 tries).
//! - EF `0002`: the basic facts as one constructed TLV,
//!   `FF 20 len { DF 21 len header, DF 22 len name (UTF-8), DF 23 len address (UTF-8),
//!   DF 24 len date of birth (8 ASCII digits, YYYYMMDD), DF 25 len sex (1 ASCII char:
//!   '1' male, '2' female, '9' not applicable) }`. Lengths may use the long form
//!   (`FF 20 82 00 9F`).
//!
//! The PIN goes through the retry guard of [`super::pin`]: the counter is asked first
//! and the PIN is not sent with one try left. The facts are personal data: they are
//! never logged and never appear in an error (only INS and SW are traced).
//!
//! # Assurance
//! The four facts alone give
//! [`AssuranceLevel::BasicFactsOnly`](myna_domain::identity::AssuranceLevel::BasicFactsOnly)
//! (see [`super::identity`]).

use chrono::NaiveDate;
use myna_domain::identity::{AddressOrInsurer, BasicFacts, Sex};

use super::apdu;
use super::error::CardError;
use super::exchange::{exchange, read_tlv_file};
use super::pin::{self, Pin, PinTries};
use super::status::StatusError;
use super::tlv;
use super::transport::CardTransport;

/// AID of the card-info input-support application.
pub const INPUT_SUPPORT_AP_AID: [u8; 10] =
    [0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08];
/// EF of the input-support PIN (4 digits, 3 tries).
pub const EF_INPUT_SUPPORT_PIN: [u8; 2] = [0x00, 0x11];
/// EF of the four basic facts.
pub const EF_BASIC_FACTS: [u8; 2] = [0x00, 0x02];
/// Largest basic-facts file accepted. Genuine ones are a few hundred bytes.
pub const MAX_BASIC_FACTS_LEN: usize = 2 * 1024;
/// Tag of the constructed basic-facts object.
pub const TAG_BASIC_FACTS: u32 = 0xFF20;
/// Tag of the header child (ignored).
pub const TAG_HEADER: u32 = 0xDF21;
/// Tag of the name (UTF-8).
pub const TAG_NAME: u32 = 0xDF22;
/// Tag of the address (UTF-8).
pub const TAG_ADDRESS: u32 = 0xDF23;
/// Tag of the date of birth (8 ASCII digits, YYYYMMDD).
pub const TAG_BIRTH_DATE: u32 = 0xDF24;
/// Tag of the sex (one ASCII character).
pub const TAG_SEX: u32 = 0xDF25;
/// Bytes read first: enough for `FF 20 82 xx xx`.
const HEADER_PROBE_LEN: u8 = 5;
/// Most children accepted in the basic-facts object (five are defined).
const MAX_CHILDREN: usize = 16;

/// How many tries the input-support PIN has left, asked without spending one (VERIFY
/// with no data on EF 0011).
pub fn basic_facts_pin_tries(transport: &dyn CardTransport) -> Result<PinTries, CardError> {
    select_input_support_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_INPUT_SUPPORT_PIN))?;
    pin::pin_tries(transport)
}

/// Reads the four basic facts after verifying the input-support `pin`.
///
/// The retry counter is asked first; the PIN is not sent when one try or none is left
/// ([`CardError::PinGuard`], or [`StatusError::PinBlocked`]). A wrong PIN is
/// [`StatusError::WrongPin`] with the tries now left. The file is read header first,
/// then in chunks; anything not matching the layout in the module docs is
/// [`CardError::Malformed`], a file over [`MAX_BASIC_FACTS_LEN`] is
/// [`CardError::Oversized`].
pub fn read_basic_facts(transport: &dyn CardTransport, pin: &Pin) -> Result<BasicFacts, CardError> {
    select_input_support_ap(transport)?;
    exchange(transport, apdu::select_ef(EF_INPUT_SUPPORT_PIN))?;
    pin::verify_guarded(transport, pin)?;
    exchange(transport, apdu::select_ef(EF_BASIC_FACTS))?;
    let file = read_tlv_file(
        transport,
        TAG_BASIC_FACTS,
        HEADER_PROBE_LEN,
        MAX_BASIC_FACTS_LEN,
    )?;
    parse_basic_facts(&file)
}

/// Parses the content of EF 0002: exactly one `FF 20` object holding DF22 to DF25 once
/// each (DF21 and unknown tags are skipped). Errors name the field, never its content.
pub fn parse_basic_facts(file: &[u8]) -> Result<BasicFacts, CardError> {
    let (header, value) = tlv::split_exact(file, MAX_BASIC_FACTS_LEN)?;
    if header.tag != TAG_BASIC_FACTS {
        return Err(CardError::Malformed(format!(
            "basic facts have tag {:X}, expected FF20",
            header.tag
        )));
    }
    let mut fields: [Option<&[u8]>; 4] = [None; 4];
    for child in tlv::children(value, MAX_CHILDREN)? {
        let slot = match child.tag {
            TAG_NAME => 0,
            TAG_ADDRESS => 1,
            TAG_BIRTH_DATE => 2,
            TAG_SEX => 3,
            _ => continue,
        };
        if fields[slot].replace(child.value).is_some() {
            return Err(CardError::Malformed(format!(
                "basic facts repeat tag {:X}",
                child.tag
            )));
        }
    }
    let [name, address, birth_date, sex] = fields;
    let facts = BasicFacts {
        name: text(name, "name")?,
        address_or_insurer: AddressOrInsurer::Address(text(address, "address")?),
        birth_date: birth_date_field(birth_date)?,
        sex: sex_field(sex)?,
    };
    facts
        .validate()
        .map_err(|_| CardError::Malformed("basic facts have an empty name or address".into()))?;
    Ok(facts)
}

fn present<'a>(field: Option<&'a [u8]>, what: &str) -> Result<&'a [u8], CardError> {
    field.ok_or_else(|| CardError::Malformed(format!("basic facts lack the {what}")))
}

fn text(field: Option<&[u8]>, what: &str) -> Result<String, CardError> {
    let bytes = present(field, what)?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| CardError::Malformed(format!("the {what} is not UTF-8")))
}

fn birth_date_field(field: Option<&[u8]>) -> Result<NaiveDate, CardError> {
    let bytes = present(field, "date of birth")?;
    let invalid = || CardError::Malformed("the date of birth is not a valid YYYYMMDD".into());
    if bytes.len() != 8 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(invalid());
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let year = i32::try_from(number(0..4)).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, number(4..6), number(6..8)).ok_or_else(invalid)
}

fn sex_field(field: Option<&[u8]>) -> Result<Sex, CardError> {
    match present(field, "sex")? {
        b"1" => Ok(Sex::Male),
        b"2" => Ok(Sex::Female),
        b"9" => Ok(Sex::NotApplicable),
        _ => Err(CardError::Malformed("the sex code is not 1, 2 or 9".into())),
    }
}

/// Selects the input-support application; a card without it is not a My Number card.
fn select_input_support_ap(transport: &dyn CardTransport) -> Result<(), CardError> {
    match exchange(transport, apdu::select_aid(&INPUT_SUPPORT_AP_AID)?) {
        Err(CardError::Status(StatusError::FileNotFound)) => Err(CardError::NotAMyNumberCard),
        other => other.map(drop),
    }
}

#[cfg(test)]
mod tests;
