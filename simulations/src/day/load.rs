//! The day's dispatches, calibrated to DOMAIN.md: about 21,000 ambulance dispatches a day
//! nationwide with a daytime peak, and the FY2024 pilot's mix of My Number emergency uses:
//! 62.6% of patients elderly (65 or older), 74.4% of uses at home, 7.4% with the patient
//! unconscious or unable to communicate (no consent needed), plus patients without a card
//! and refusals.
//!
//! Deterministic for a seed. The shares are assigned with low-discrepancy sequences
//! (dispatch `k` has a trait when `frac(k·α + s) < share`, a different irrational α per
//! trait) rather than independent coin flips, so a few hundred dispatches already match
//! the pilot within a fraction of a point while the traits stay uncorrelated.

use std::time::Duration;

use chrono::NaiveDate;
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::wire::Vitals;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Pilot share of elderly patients (65+).
pub const PILOT_ELDERLY: f64 = 0.626;
/// Pilot share of uses at the patient's home.
pub const PILOT_AT_HOME: f64 = 0.744;
/// Pilot share of uses with the patient unconscious or unable to communicate.
pub const PILOT_NO_CONSENT: f64 = 0.074;
/// Share of dispatches where the patient has no usable card at hand (no card, left at
/// home, expired): the crew works the usual way and the system is not used.
pub const NO_CARD: f64 = 0.08;
/// Share of card uses where the patient refuses: nothing is viewed.
pub const REFUSED: f64 = 0.02;
/// Dispatches a day nationwide (DOMAIN.md, ~21,000).
pub const NATIONAL_DISPATCHES: usize = 21_000;

/// One simulated day.
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Relative dispatch volume by hour of day (0 to 23): lowest before dawn, highest in the
/// late morning, as in the Fire and Disaster Management Agency's yearly reports of calls
/// by time of day (shape only; the total comes from the configuration).
const HOURLY_WEIGHT: [f64; 24] = [
    3.0, 2.6, 2.3, 2.1, 2.0, 2.1, 2.6, 3.4, 4.6, 5.6, 5.9, 5.7, 5.3, 5.2, 5.1, 5.0, 4.9, 4.8, 4.7,
    4.5, 4.2, 3.9, 3.6, 3.3,
];

/// Irrational steps of the low-discrepancy sequences, one per trait.
const STEP_ELDERLY: f64 = 0.618_033_988_749_895; // golden ratio conjugate
const STEP_HOME: f64 = 0.414_213_562_373_095; // √2 − 1
const STEP_CARD: f64 = 0.732_050_807_568_877; // √3 − 1
const STEP_CONSENT: f64 = 0.236_067_977_499_790; // √5 − 2

/// What happens at one scene.
#[derive(Debug, Clone)]
pub struct Dispatch {
    /// Position in the day (0-based, in time order).
    pub n: usize,
    /// When the call comes in, from midnight (simulated time).
    pub at: Duration,
    /// The unit sent (index in the fleet).
    pub unit: usize,
    /// The patient tapped, when they have a usable card (index in the population).
    pub patient: Option<u64>,
    /// 65 or older.
    pub elderly: bool,
    /// At the patient's home.
    pub at_home: bool,
    /// The consent answer at the scene.
    pub consent: ConsentState,
    /// Receiving hospital (index in the stack's hospitals).
    pub hospital: usize,
    /// Chief complaint.
    pub complaint: &'static str,
    /// Vital signs.
    pub vitals: Vitals,
}

/// The population's patients by what the mix needs: elderly or not, each with a card
/// valid today.
#[derive(Debug, Clone)]
pub struct PatientPools {
    elderly: Vec<u64>,
    younger: Vec<u64>,
}

impl PatientPools {
    /// Sorts the first `patients` of population `seed` (generating each once).
    pub fn scan(seed: u64, patients: u64, today: NaiveDate) -> PatientPools {
        let mut pools = PatientPools {
            elderly: Vec::new(),
            younger: Vec::new(),
        };
        for index in 0..patients {
            let patient = population::patient(seed, index, today);
            let valid = patient
                .card
                .as_ref()
                .is_some_and(|c| c.not_before <= today && today < c.not_after);
            if !valid {
                continue;
            }
            if patient.header.age_on(today) >= 65 {
                pools.elderly.push(index);
            } else {
                pools.younger.push(index);
            }
        }
        pools
    }
}

/// `incidents` dispatches over one day for `units` units, time-ordered.
pub fn dispatches(
    seed: u64,
    incidents: usize,
    units: usize,
    pools: &PatientPools,
) -> Vec<Dispatch> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6469_7370_6174_6368); // "dispatch"
    let offsets: [f64; 4] = std::array::from_fn(|_| rng.random());
    let total: f64 = HOURLY_WEIGHT.iter().sum();
    let mut times: Vec<Duration> = (0..incidents)
        .map(|_| {
            let mut pick = rng.random::<f64>() * total;
            let hour = HOURLY_WEIGHT
                .iter()
                .position(|w| {
                    pick -= w;
                    pick < 0.0
                })
                .unwrap_or(23);
            Duration::from_secs_f64((hour as f64 + rng.random::<f64>()) * 3600.0)
        })
        .collect();
    times.sort_unstable();
    times
        .into_iter()
        .enumerate()
        .map(|(n, at)| {
            let trait_at = |step: f64, offset: f64| (n as f64 * step + offset).fract();
            let elderly = trait_at(STEP_ELDERLY, offsets[0]) < PILOT_ELDERLY;
            let at_home = trait_at(STEP_HOME, offsets[1]) < PILOT_AT_HOME;
            let has_card = trait_at(STEP_CARD, offsets[2]) >= NO_CARD;
            let answer = trait_at(STEP_CONSENT, offsets[3]);
            let consent = if answer < PILOT_NO_CONSENT * 0.8 {
                ConsentState::Difficult {
                    reason: DifficultyReason::Unconscious,
                }
            } else if answer < PILOT_NO_CONSENT {
                ConsentState::Difficult {
                    reason: DifficultyReason::CannotCommunicate,
                }
            } else if answer < PILOT_NO_CONSENT + REFUSED {
                ConsentState::Refused
            } else {
                ConsentState::Given
            };
            let pool = if elderly {
                &pools.elderly
            } else {
                &pools.younger
            };
            let patient =
                (has_card && !pool.is_empty()).then(|| pool[rng.random_range(0..pool.len())]);
            let unconscious = matches!(consent, ConsentState::Difficult { .. });
            let (complaint, vitals) = story(&mut rng, unconscious, elderly);
            Dispatch {
                n,
                at,
                unit: rng.random_range(0..units.max(1)),
                patient,
                elderly,
                at_home,
                // The tertiary centre (hospital 0) takes the unconscious; the rest split.
                hospital: if unconscious {
                    0
                } else {
                    rng.random_range(0..2)
                },
                consent,
                complaint,
                vitals,
            }
        })
        .collect()
}

/// A chief complaint and plausible vital signs.
fn story(rng: &mut ChaCha8Rng, unconscious: bool, elderly: bool) -> (&'static str, Vitals) {
    if unconscious {
        let complaint = if elderly {
            "意識障害 Unresponsive, found at home"
        } else {
            "意識障害 Collapsed, unresponsive"
        };
        return (
            complaint,
            Vitals {
                heart_rate: Some(rng.random_range(40..130)),
                systolic_mmhg: Some(rng.random_range(70..200)),
                diastolic_mmhg: Some(rng.random_range(40..110)),
                spo2_percent: Some(rng.random_range(82..97)),
                respiratory_rate: Some(rng.random_range(6..30)),
                gcs: Some(rng.random_range(3..9)),
                temperature_c: Some(rng.random_range(34.5..39.5)),
            },
        );
    }
    const COMPLAINTS: [&str; 8] = [
        "胸痛 Chest pain",
        "呼吸困難 Shortness of breath",
        "転倒 Fall, hip pain",
        "腹痛 Abdominal pain",
        "発熱 Fever",
        "めまい Dizziness",
        "頭痛 Headache",
        "外傷 Laceration",
    ];
    (
        COMPLAINTS[rng.random_range(0..COMPLAINTS.len())],
        Vitals {
            heart_rate: Some(rng.random_range(55..125)),
            systolic_mmhg: Some(rng.random_range(95..185)),
            diastolic_mmhg: Some(rng.random_range(55..105)),
            spo2_percent: Some(rng.random_range(90..100)),
            respiratory_rate: Some(rng.random_range(12..28)),
            gcs: Some(rng.random_range(13..16)),
            temperature_c: Some(rng.random_range(35.8..38.8)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> PatientPools {
        PatientPools {
            elderly: (0..50).collect(),
            younger: (50..100).collect(),
        }
    }

    fn share(dispatches: &[Dispatch], has: impl Fn(&Dispatch) -> bool) -> f64 {
        dispatches.iter().filter(|d| has(d)).count() as f64 / dispatches.len() as f64
    }

    #[test]
    fn a_national_day_matches_the_pilot_mix_and_peaks_by_day() {
        let day = dispatches(1, NATIONAL_DISPATCHES, 5_334, &pools());
        assert_eq!(day.len(), NATIONAL_DISPATCHES);
        assert!(day.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(day.iter().all(|d| d.at < DAY && d.unit < 5_334));
        let tapped: Vec<Dispatch> = day
            .iter()
            .filter(|d| d.patient.is_some())
            .cloned()
            .collect();
        assert!((share(&day, |d| d.patient.is_none()) - NO_CARD).abs() < 0.005);
        assert!((share(&tapped, |d| d.elderly) - PILOT_ELDERLY).abs() < 0.005);
        assert!((share(&tapped, |d| d.at_home) - PILOT_AT_HOME).abs() < 0.005);
        let no_consent = share(&tapped, |d| {
            matches!(d.consent, ConsentState::Difficult { .. })
        });
        assert!(
            (no_consent - PILOT_NO_CONSENT).abs() < 0.005,
            "{no_consent}"
        );
        assert!((share(&tapped, |d| d.consent == ConsentState::Refused) - REFUSED).abs() < 0.005);
        // Elderly dispatches get elderly patients.
        assert!(
            tapped
                .iter()
                .all(|d| d.elderly == (d.patient.unwrap() < 50))
        );
        let in_hours = |from: u64, to: u64| {
            day.iter()
                .filter(|d| (from * 3600..to * 3600).contains(&d.at.as_secs()))
                .count()
        };
        // 10:00–11:00 is about three times 04:00–05:00.
        let ratio = in_hours(10, 11) as f64 / in_hours(4, 5) as f64;
        assert!((2.5..3.5).contains(&ratio), "peak/trough {ratio}");
    }

    #[test]
    fn the_same_seed_gives_the_same_day() {
        let a = dispatches(7, 500, 60, &pools());
        let b = dispatches(7, 500, 60, &pools());
        let c = dispatches(8, 500, 60, &pools());
        let key = |d: &[Dispatch]| -> Vec<(Duration, usize, Option<u64>)> {
            d.iter().map(|d| (d.at, d.unit, d.patient)).collect()
        };
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
    }
}
