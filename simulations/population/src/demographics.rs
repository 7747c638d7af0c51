//! Age and sex of ambulance patients.
//!
//! DOMAIN.md: 62.6% of the patients in the FY2024 My Number emergency pilot were elderly
//! (65 or older). [`AGE_BANDS`] reproduces that share and spreads the rest over children,
//! young and middle-aged adults; ages run from 0 to 100. Sex is about half and half.

use chrono::{Months, NaiveDate};
use myna_domain::identity::Sex;
use rand::Rng;

use crate::random::{PatientRng, days_before, pick_weighted};

/// Number of age bands; condition prevalences have one value per band.
pub(crate) const BAND_COUNT: usize = 6;

/// Age bands (youngest, oldest, share of patients). Shares of the last three add to 62.6%.
pub(crate) const AGE_BANDS: [(u32, u32, f64); BAND_COUNT] = [
    (0, 14, 0.050),
    (15, 39, 0.100),
    (40, 64, 0.224),
    (65, 74, 0.170),
    (75, 84, 0.240),
    (85, 100, 0.216),
];

/// The band index of `age`.
pub(crate) fn band_of(age: u32) -> usize {
    AGE_BANDS
        .iter()
        .position(|(low, high, _)| (*low..=*high).contains(&age))
        .unwrap_or(BAND_COUNT - 1)
}

/// Age in whole years, drawn from [`AGE_BANDS`].
pub(crate) fn draw_age(rng: &mut PatientRng) -> u32 {
    let bands: [(usize, f64); BAND_COUNT] = std::array::from_fn(|i| (i, AGE_BANDS[i].2));
    let (low, high, _) = AGE_BANDS[*pick_weighted(rng, &bands)];
    rng.random_range(low..=high)
}

/// Male or female, half and half.
pub(crate) fn draw_sex(rng: &mut PatientRng) -> Sex {
    if rng.random_bool(0.5) {
        Sex::Male
    } else {
        Sex::Female
    }
}

/// A birth date that makes the patient exactly `age` on `today`.
///
/// The latest such date is the `age`-th anniversary on or before today (29 February
/// falls back to the 28th); the earliest is 364 days before it, never reaching the
/// previous anniversary.
pub(crate) fn draw_birth_date(rng: &mut PatientRng, age: u32, today: NaiveDate) -> NaiveDate {
    let anniversary = today
        .checked_sub_months(Months::new(age.saturating_mul(12)))
        .unwrap_or(NaiveDate::MIN);
    days_before(anniversary, rng.random_range(0..=364))
}
