//! Card facts: the serial number and validity of the JPKI user-authentication certificate.
//!
//! Serials are not random: they are a keyed bijection of the patient index, so two
//! patients of one population never share a serial (guaranteed, not just likely). Real
//! user-authentication certificates are valid for about five years; a small share of
//! patients carry a card whose certificate has already expired.

use chrono::{Months, NaiveDate};
use rand::Rng;

use crate::random::{PatientRng, chance, days_before};

/// The facts of a card's JPKI user-authentication certificate that identify the patient.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CardFacts {
    /// Certificate serial number: 8 bytes, first byte in `0x01..=0x7f` (a positive DER
    /// integer without a leading zero byte), unique among the patients of one seed.
    pub serial: Vec<u8>,
    /// Start of validity (issue date).
    pub not_before: NaiveDate,
    /// End of validity, about five years after issue; about 2% are already past.
    pub not_after: NaiveDate,
}

impl CardFacts {
    /// The serial as lowercase hex without separators, as in
    /// `myna_domain::certificate::CardCertificate::serial_hex`.
    pub fn serial_hex(&self) -> String {
        self.serial.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Share of patients carrying a My Number card (マイナ保険証).
pub(crate) const CARD_SHARE: f64 = 0.93;

/// Share of card holders whose certificate expired before today.
pub(crate) const EXPIRED_SHARE: f64 = 0.02;

/// Validity period of a user-authentication certificate, in months.
const VALIDITY_MONTHS: u32 = 60;

const LOW_56: u64 = (1 << 56) - 1;

/// The splitmix64 finaliser: a bijection on `u64` with good avalanche.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A bijection on 56-bit values (xor-shift and odd multiplications modulo 2^56).
fn permute_56(mut x: u64) -> u64 {
    x &= LOW_56;
    x ^= x >> 29;
    x = x.wrapping_mul(0x00bf_5847_6d1c_e4e5) & LOW_56;
    x ^= x >> 25;
    x = x.wrapping_mul(0x0094_d049_bb13_3111) & LOW_56;
    x ^ (x >> 31)
}

/// The 8-byte serial of patient `index` for `seed`.
///
/// The first byte, fixed per seed, is in `0x01..=0x7f` (a positive DER integer with no
/// leading zero byte); the other seven are a keyed permutation of the index, so serials
/// are unique for all indices below 2^56.
pub(crate) fn serial(seed: u64, index: u64) -> Vec<u8> {
    let key = splitmix64(seed ^ 0x4a50_4b49_5f43_4152); // "JPKI_CAR"
    let first = 1 + (key >> 56) % 0x7f;
    let low = permute_56((index & LOW_56) ^ (key & LOW_56));
    ((first << 56) | low).to_be_bytes().to_vec()
}

/// The card of patient `index` born on `birth_date`, or `None` for patients who carry none.
pub(crate) fn draw(
    rng: &mut PatientRng,
    seed: u64,
    index: u64,
    birth_date: NaiveDate,
    today: NaiveDate,
) -> Option<CardFacts> {
    if !chance(rng, CARD_SHARE) {
        return None;
    }
    // Sixty months span at least 1,826 days, so issuing up to 1,800 days ago leaves the
    // certificate valid today, and 1,830 days or more ago leaves it expired.
    let issued_days_ago = if chance(rng, EXPIRED_SHARE) {
        rng.random_range(1830..=2200)
    } else {
        rng.random_range(0..=1800)
    };
    // No card is issued before birth; an infant's card is therefore always still valid.
    let not_before = days_before(today, issued_days_ago).max(birth_date);
    let not_after = not_before
        .checked_add_months(Months::new(VALIDITY_MONTHS))
        .unwrap_or(NaiveDate::MAX);
    Some(CardFacts {
        serial: serial(seed, index),
        not_before,
        not_after,
    })
}
