//! Small sampling helpers over the per-patient RNG, and date arithmetic that cannot panic.
//!
//! The generator draws everything from one [`ChaCha8Rng`] per patient; these helpers keep
//! the table-driven code free of `unwrap` and of ad-hoc probability checks.

use chrono::{Days, NaiveDate};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The per-patient random source.
pub(crate) type PatientRng = ChaCha8Rng;

/// True with probability `p` (values outside 0..=1 behave as never / always).
pub(crate) fn chance(rng: &mut PatientRng, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// One element of a non-empty constant table, uniformly.
///
/// Every table passed here is a non-empty `const` (checked by a unit test), so the index
/// range is never empty.
pub(crate) fn pick<'a, T>(rng: &mut PatientRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// One element of a non-empty weighted table; weights need not sum to one.
pub(crate) fn pick_weighted<'a, T>(rng: &mut PatientRng, items: &'a [(T, f64)]) -> &'a T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut target = rng.random::<f64>() * total;
    for (item, weight) in items {
        if target < *weight {
            return item;
        }
        target -= weight;
    }
    &items[items.len() - 1].0
}

/// A normally distributed value (Box–Muller), clamped to `min..=max`.
pub(crate) fn normal(rng: &mut PatientRng, mean: f64, sd: f64, min: f64, max: f64) -> f64 {
    // 1 - u is in (0, 1], so the logarithm is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (mean + sd * z).clamp(min, max)
}

/// A uniform value in `low..=high` rounded to `decimals` places.
pub(crate) fn uniform_rounded(rng: &mut PatientRng, low: f64, high: f64, decimals: u8) -> f64 {
    let value = if high > low {
        rng.random_range(low..=high)
    } else {
        low
    };
    round(value, decimals)
}

/// `value` rounded to `decimals` places.
pub(crate) fn round(value: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    (value * scale).round() / scale
}

/// `date` minus `days` (saturating at the earliest representable date).
pub(crate) fn days_before(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_sub_days(Days::new(days))
        .unwrap_or(NaiveDate::MIN)
}

/// `date` plus `days` (saturating at the latest representable date).
pub(crate) fn days_after(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days))
        .unwrap_or(NaiveDate::MAX)
}

/// A uniform date in `from..=to`; `to` when the range is empty.
pub(crate) fn date_between(rng: &mut PatientRng, from: NaiveDate, to: NaiveDate) -> NaiveDate {
    let span = (to - from).num_days();
    if span <= 0 {
        return to;
    }
    days_after(from, rng.random_range(0..=span.unsigned_abs()))
}

/// A uniform date within the last `days` days up to `today`, but not before `floor`.
pub(crate) fn date_within(
    rng: &mut PatientRng,
    today: NaiveDate,
    days: u64,
    floor: NaiveDate,
) -> NaiveDate {
    date_between(rng, days_before(today, days).max(floor), today)
}
