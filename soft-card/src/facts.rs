//! The four basic facts (基本4情報) as EF `0002` of the card-info input-support AP holds
//! them: one BER-TLV
//!
//! ```text
//! FF 20 82 hh ll            the outer template, always with the long form 82 hh ll
//!   DF 21 len header        an opaque header (16 fixed bytes here)
//!   DF 22 len name          UTF-8
//!   DF 23 len address       UTF-8
//!   DF 24 08 YYYYMMDD       date of birth, ASCII
//!   DF 25 01 sex            ASCII '1' male, '2' female, '9' not applicable
//! ```
//!
//! Inner lengths use the shortest BER form (`81 xx` from 128 bytes, `82 xx xx` from 256).
//! [`decode`] is a small strict parser of exactly this layout, for tests.

use chrono::NaiveDate;
use myna_domain::identity::Sex;

use crate::error::{Error, Result};

/// The fixed DF 21 header of every software card: opaque on real cards, so any value does.
pub const BASIC_FACTS_HEADER: [u8; 16] = *b"MYNA-SOFT-CARD01";

const TAG_TEMPLATE: [u8; 2] = [0xFF, 0x20];
const TAG_HEADER: [u8; 2] = [0xDF, 0x21];
const TAG_NAME: [u8; 2] = [0xDF, 0x22];
const TAG_ADDRESS: [u8; 2] = [0xDF, 0x23];
const TAG_BIRTH_DATE: [u8; 2] = [0xDF, 0x24];
const TAG_SEX: [u8; 2] = [0xDF, 0x25];

/// The four basic facts printed on the card (基本4情報): name, address, date of birth, sex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardHolderFacts {
    /// Full name as printed, e.g. "佐藤 花子".
    pub name: String,
    /// Address as printed.
    pub address: String,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Sex.
    pub sex: Sex,
}

/// The content of EF `0002` for `facts`. Fails only for a name or address so long that
/// the template would exceed 65535 bytes.
pub fn encode(facts: &CardHolderFacts) -> Result<Vec<u8>> {
    let birth_date = facts.birth_date.format("%Y%m%d").to_string();
    let mut sex = [0; 4];
    let sex = facts.sex.card_code().encode_utf8(&mut sex);
    let mut inner = Vec::new();
    for (tag, value) in [
        (TAG_HEADER, &BASIC_FACTS_HEADER[..]),
        (TAG_NAME, facts.name.as_bytes()),
        (TAG_ADDRESS, facts.address.as_bytes()),
        (TAG_BIRTH_DATE, birth_date.as_bytes()),
        (TAG_SEX, sex.as_bytes()),
    ] {
        inner.extend_from_slice(&tag);
        inner.extend_from_slice(&ber_length(value.len())?);
        inner.extend_from_slice(value);
    }
    let total = u16::try_from(inner.len())
        .map_err(|_| Error::FactsTooLong("basic facts longer than 65535 bytes"))?;
    let mut out = Vec::with_capacity(5 + inner.len());
    out.extend_from_slice(&TAG_TEMPLATE);
    // Real cards always use the three-byte form here, e.g. `82 00 9F`.
    out.push(0x82);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&inner);
    Ok(out)
}

/// The shortest BER definite length for `len`.
fn ber_length(len: usize) -> Result<Vec<u8>> {
    Ok(match len {
        0..=0x7F => vec![len as u8],
        0x80..=0xFF => vec![0x81, len as u8],
        _ => {
            let len = u16::try_from(len)
                .map_err(|_| Error::FactsTooLong("TLV value longer than 65535 bytes"))?;
            let [hi, lo] = len.to_be_bytes();
            vec![0x82, hi, lo]
        }
    })
}

/// Splits one TLV with a two-byte tag off `input`: (tag, value, rest). Strict: rejects
/// indefinite and non-shortest lengths.
fn split_tlv(input: &[u8]) -> Result<([u8; 2], &[u8], &[u8])> {
    let [t0, t1, first, rest @ ..] = input else {
        return Err(malformed("truncated TLV header"));
    };
    let (len, rest) = match *first {
        n @ 0..=0x7F => (usize::from(n), rest),
        0x81 => match rest {
            [n @ 0x80..=0xFF, rest @ ..] => (usize::from(*n), rest),
            _ => return Err(malformed("bad 81 xx length")),
        },
        0x82 => match rest {
            [hi, lo, rest @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), rest),
            _ => return Err(malformed("truncated 82 xx xx length")),
        },
        other => return Err(malformed(format!("unsupported length byte {other:02X}"))),
    };
    check(rest.len() >= len, "TLV value truncated")?;
    let (value, rest) = rest.split_at(len);
    Ok(([*t0, *t1], value, rest))
}

/// Parses the content of EF `0002` as [`encode`] writes it (the outer length must use
/// the `82 hh ll` form; nothing may follow the template).
pub fn decode(bytes: &[u8]) -> Result<CardHolderFacts> {
    check(
        bytes.len() >= 5 && bytes[..2] == TAG_TEMPLATE && bytes[2] == 0x82,
        "EF 0002 must start FF 20 82 hh ll",
    )?;
    let (_, mut inner, rest) = split_tlv(bytes)?;
    check(rest.is_empty(), "bytes after the FF 20 template")?;
    let mut values = Vec::new();
    while !inner.is_empty() {
        let (tag, value, rest) = split_tlv(inner)?;
        values.push((tag, value));
        inner = rest;
    }
    let tags: Vec<[u8; 2]> = values.iter().map(|(t, _)| *t).collect();
    if tags != [TAG_HEADER, TAG_NAME, TAG_ADDRESS, TAG_BIRTH_DATE, TAG_SEX] {
        return Err(malformed(format!(
            "expected DF21..DF25 in order, got {tags:02X?}"
        )));
    }
    let text =
        |i: usize| String::from_utf8(values[i].1.to_vec()).map_err(|_| malformed("not UTF-8"));
    let birth_date =
        NaiveDate::parse_from_str(&text(3)?, "%Y%m%d").map_err(|_| malformed("DF 24"))?;
    let sex = match values[4].1 {
        b"1" => Sex::Male,
        b"2" => Sex::Female,
        b"9" => Sex::NotApplicable,
        other => return Err(malformed(format!("DF 25 is {other:02X?}"))),
    };
    Ok(CardHolderFacts {
        name: text(1)?,
        address: text(2)?,
        birth_date,
        sex,
    })
}

fn malformed(detail: impl Into<String>) -> Error {
    Error::MalformedFacts(detail.into())
}

/// `Ok` when `holds`, else the malformed-facts error `detail`.
fn check(holds: bool, detail: &'static str) -> Result<()> {
    if holds {
        Ok(())
    } else {
        Err(malformed(detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(name: &str, address: &str) -> CardHolderFacts {
        CardHolderFacts {
            name: name.into(),
            address: address.into(),
            birth_date: NaiveDate::from_ymd_opt(1948, 2, 29).unwrap(),
            sex: Sex::Female,
        }
    }

    #[test]
    fn short_facts_use_the_long_outer_form_and_round_trip() {
        let f = facts("佐藤 花子", "東京都世田谷区桜丘3丁目12-5");
        let bytes = encode(&f).unwrap();
        let inner_len = bytes.len() - 5;
        assert!(inner_len < 128, "this case checks short inner values");
        assert_eq!(bytes[..5], [0xFF, 0x20, 0x82, 0x00, inner_len as u8]);
        // Header first, then the name with a one-byte length.
        assert_eq!(bytes[5..8], [0xDF, 0x21, 0x10]);
        assert_eq!(bytes[8..24], BASIC_FACTS_HEADER);
        assert_eq!(bytes[24..27], [0xDF, 0x22, 13]);
        assert!(bytes.ends_with(&[
            0xDF, 0x24, 0x08, b'1', b'9', b'4', b'8', b'0', b'2', b'2', b'9', 0xDF, 0x25, 0x01,
            b'2'
        ]));
        assert_eq!(decode(&bytes).unwrap(), f);
    }

    #[test]
    fn long_values_use_81_and_82_lengths() {
        let f = facts(&"名".repeat(50), &"丁目".repeat(60)); // 150 and 360 bytes
        let bytes = encode(&f).unwrap();
        let name_at = 5 + 3 + 16;
        assert_eq!(bytes[name_at..name_at + 4], [0xDF, 0x22, 0x81, 150]);
        let address_at = name_at + 4 + 150;
        assert_eq!(
            bytes[address_at..address_at + 5],
            [0xDF, 0x23, 0x82, 0x01, 0x68]
        );
        let total = u16::from_be_bytes([bytes[3], bytes[4]]);
        assert_eq!(usize::from(total), bytes.len() - 5);
        assert_eq!(decode(&bytes).unwrap(), f);
    }

    #[test]
    fn decode_rejects_what_a_card_would_not_hold() {
        let good = encode(&facts("a", "b")).unwrap();
        assert!(decode(&good[..good.len() - 1]).is_err());
        let mut short_outer = good.clone();
        short_outer.splice(2..5, [good.len() as u8 - 5]);
        assert!(decode(&short_outer).is_err());
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        let mut bad_sex = good.clone();
        *bad_sex.last_mut().unwrap() = b'3';
        assert!(decode(&bad_sex).is_err());
    }
}
