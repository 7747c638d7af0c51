//! Specific health checkups (特定健診), offered yearly to insured people aged 40–74.
//!
//! About half of those eligible take part; a participant attends most years. Values
//! follow the patient: someone with hypertension has a higher systolic pressure, a
//! diabetic a higher HbA1c, and each year varies a little around the patient's baseline.

use chrono::{Datelike, NaiveDate};
use myna_domain::records::{Checkup, MedicalRecord};

use crate::random::{PatientRng, chance, date_between, days_before, normal, round};

/// Share of eligible patients who take part in checkups.
pub(crate) const PARTICIPATION: f64 = 0.55;

/// Share of years a participant attends.
const ATTENDANCE: f64 = 0.85;

/// Years of history looked at.
const YEARS: u64 = 6;

/// Ages eligible for specific health checkups.
const ELIGIBLE: std::ops::RangeInclusive<u32> = 40..=74;

/// What the patient's conditions imply for checkup values.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Risk {
    /// Hypertension (I10).
    pub hypertension: bool,
    /// Diabetes (E11).
    pub diabetes: bool,
    /// Dyslipidaemia (E78).
    pub dyslipidaemia: bool,
}

/// Whole years from `birth` to `date`.
pub(crate) fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    let had_birthday = (date.month(), date.day()) >= (birth.month(), birth.day());
    let years = date.year() - birth.year() - i32::from(!had_birthday);
    u32::try_from(years).unwrap_or(0)
}

/// The patient's checkup records between `start` and `today`.
pub(crate) fn draw(
    rng: &mut PatientRng,
    birth: NaiveDate,
    risk: Risk,
    start: NaiveDate,
    today: NaiveDate,
) -> Vec<MedicalRecord> {
    let eligible_some_year = (0..YEARS).any(|k| {
        let age = age_on(birth, days_before(today, k * 365));
        ELIGIBLE.contains(&age)
    });
    if !eligible_some_year || !chance(rng, PARTICIPATION) {
        return Vec::new();
    }
    let baseline = Baseline::draw(rng, risk);
    let mut records = Vec::new();
    for k in 0..YEARS {
        let latest = days_before(today, k * 365);
        let earliest = days_before(latest, 364).max(start);
        if earliest > latest || !chance(rng, ATTENDANCE) {
            continue;
        }
        let date = date_between(rng, earliest, latest);
        if ELIGIBLE.contains(&age_on(birth, date)) {
            records.push(MedicalRecord::Checkup(baseline.year(rng, date)));
        }
    }
    records
}

/// A participant's usual values.
struct Baseline {
    bmi: f64,
    systolic: f64,
    hba1c: f64,
    ldl: f64,
}

impl Baseline {
    fn draw(rng: &mut PatientRng, risk: Risk) -> Self {
        let bmi_mean = if risk.diabetes { 25.5 } else { 23.0 };
        let (sys_mean, a1c_mean, a1c_sd) = (
            if risk.hypertension { 142.0 } else { 122.0 },
            if risk.diabetes { 7.2 } else { 5.5 },
            if risk.diabetes { 0.9 } else { 0.3 },
        );
        let ldl_mean = if risk.dyslipidaemia { 150.0 } else { 115.0 };
        Baseline {
            bmi: normal(rng, bmi_mean, 3.5, 15.0, 40.0),
            systolic: normal(rng, sys_mean, 14.0, 90.0, 200.0),
            hba1c: normal(rng, a1c_mean, a1c_sd, 4.5, 12.5),
            ldl: normal(rng, ldl_mean, 28.0, 50.0, 260.0),
        }
    }

    fn year(&self, rng: &mut PatientRng, date: NaiveDate) -> Checkup {
        let systolic = normal(rng, self.systolic, 6.0, 85.0, 220.0);
        let diastolic = normal(rng, systolic * 0.6, 6.0, 45.0, 130.0);
        Checkup {
            date,
            bmi: round(normal(rng, self.bmi, 0.5, 14.0, 42.0), 1),
            systolic_mmhg: systolic.round() as u16,
            diastolic_mmhg: diastolic.round() as u16,
            hba1c_percent: round(normal(rng, self.hba1c, 0.2, 4.3, 13.0), 1),
            ldl_mg_dl: normal(rng, self.ldl, 10.0, 40.0, 300.0).round() as u16,
        }
    }
}
