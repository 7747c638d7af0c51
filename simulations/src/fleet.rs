//! The national ambulance fleet as the edge sees it: 720 fire headquarters (消防本部) and
//! 5,334 ambulance units (DOMAIN.md, from 2025-10-01), one registered tablet per unit.
//!
//! Headquarters differ a lot in size (Tokyo Fire Department runs about 270 ambulances,
//! many rural headquarters three or four): unit counts follow a power law, rank r getting
//! about `r^-0.8` of the fleet, which puts about 270 units in the largest and at least two
//! in every other. Deterministic: the same fleet every time.

use edge_agent::config::DeviceRegistration;
use myna_domain::access::{Institution, InstitutionKind};
use myna_domain::disaster::AreaCode;

/// Fire headquarters nationwide from 2025-10-01.
pub const NATIONAL_HQS: usize = 720;
/// Ambulance units nationwide from 2025-10-01.
pub const NATIONAL_UNITS: usize = 5_334;

/// Prefecture codes (JIS X 0401) 01 to 47.
const PREFECTURES: u8 = 47;
/// Tokyo, where the largest headquarters is.
const TOKYO: u8 = 13;

/// One ambulance unit and its tablet.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The tablet's registration at the edge.
    pub device: DeviceRegistration,
    /// Index of its headquarters in [`Fleet::hqs`].
    pub hq: usize,
}

/// A fire headquarters.
#[derive(Debug, Clone)]
pub struct Headquarters {
    /// The fire department as an institution (`fd-sim-0001`).
    pub institution: Institution,
    /// Its prefecture (1 to 47).
    pub prefecture: u8,
    /// Indices of its units in [`Fleet::units`].
    pub units: std::ops::Range<usize>,
}

/// Headquarters and units.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// Every headquarters, largest first.
    pub hqs: Vec<Headquarters>,
    /// Every unit, grouped by headquarters.
    pub units: Vec<Unit>,
}

impl Fleet {
    /// The national fleet: [`NATIONAL_HQS`] headquarters, [`NATIONAL_UNITS`] units.
    pub fn national() -> Fleet {
        Fleet::new(NATIONAL_HQS, NATIONAL_UNITS)
    }

    /// `hqs` headquarters sharing `units` units (at least two each, so `units >= 2 * hqs`
    /// is expected; fewer units give every headquarters one or two).
    pub fn new(hqs: usize, units: usize) -> Fleet {
        let hqs = hqs.clamp(1, units.max(1));
        let sizes = unit_counts(hqs, units);
        let mut fleet = Fleet {
            hqs: Vec::with_capacity(hqs),
            units: Vec::with_capacity(units),
        };
        for (rank, size) in sizes.into_iter().enumerate() {
            // The largest in Tokyo, the rest round-robin over the prefectures.
            let prefecture = ((TOKYO as usize - 1 + rank) % PREFECTURES as usize) as u8 + 1;
            let number = rank + 1;
            let institution = Institution {
                id: format!("fd-sim-{number:04}"),
                name: format!("第{number}消防本部 Fire HQ {number}"),
                kind: InstitutionKind::FireDepartment,
            };
            // A municipality code of the prefecture: a valid 5-digit local-government code.
            let area = AreaCode::parse(&format!("{prefecture:02}{:03}", 100 + rank % 900))
                .unwrap_or_else(|| unreachable!("prefecture 1..=47 and three digits"));
            let start = fleet.units.len();
            for n in 1..=size {
                let id = fleet.units.len() + 1;
                fleet.units.push(Unit {
                    device: DeviceRegistration {
                        token: format!("sim-device-token-{id:04}"),
                        device_id: format!("tablet-sim-{id:04}"),
                        unit: format!("救急{n} Ambulance {n} (HQ {number})"),
                        fire_department: institution.clone(),
                        area: area.clone(),
                        certificate_serial: None,
                    },
                    hq: rank,
                });
            }
            fleet.hqs.push(Headquarters {
                institution,
                prefecture,
                units: start..fleet.units.len(),
            });
        }
        fleet
    }

    /// Every unit's tablet registration, for the edge's configuration.
    pub fn devices(&self) -> Vec<DeviceRegistration> {
        self.units.iter().map(|u| u.device.clone()).collect()
    }
}

/// Units per headquarters, largest first, summing to `units`: rank r (from 1) weighs
/// `r^-0.8`, every headquarters gets at least two (one when there are too few units).
fn unit_counts(hqs: usize, units: usize) -> Vec<usize> {
    let floor = if units >= 2 * hqs { 2 } else { 1 };
    let weights: Vec<f64> = (1..=hqs).map(|r| (r as f64).powf(-0.8)).collect();
    let total: f64 = weights.iter().sum();
    let spare = units.saturating_sub(floor * hqs) as f64;
    let mut counts: Vec<usize> = weights
        .iter()
        .map(|w| floor + (spare * w / total).floor() as usize)
        .collect();
    // Hand the units lost to rounding down to the largest, one each.
    let left = units.saturating_sub(counts.iter().sum());
    for n in 0..left {
        counts[n % hqs] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn the_national_fleet_has_every_unit_and_headquarters() {
        let fleet = Fleet::national();
        assert_eq!(fleet.hqs.len(), NATIONAL_HQS);
        assert_eq!(fleet.units.len(), NATIONAL_UNITS);
        let largest = fleet.hqs[0].units.len();
        let smallest = fleet.hqs.iter().map(|h| h.units.len()).min().unwrap();
        assert!((200..=300).contains(&largest), "largest HQ: {largest}");
        assert!(smallest >= 2, "smallest HQ: {smallest}");
        assert_eq!(fleet.hqs[0].prefecture, TOKYO);
        let ids: HashSet<_> = fleet.units.iter().map(|u| &u.device.device_id).collect();
        let tokens: HashSet<_> = fleet.units.iter().map(|u| &u.device.token).collect();
        assert_eq!(ids.len(), NATIONAL_UNITS);
        assert_eq!(tokens.len(), NATIONAL_UNITS);
        for (n, hq) in fleet.hqs.iter().enumerate() {
            for unit in &fleet.units[hq.units.clone()] {
                assert_eq!(unit.hq, n);
                assert_eq!(unit.device.fire_department, hq.institution);
                assert!(
                    unit.device
                        .area
                        .as_str()
                        .starts_with(&format!("{:02}", hq.prefecture))
                );
            }
        }
    }

    #[test]
    fn small_fleets_still_cover_every_headquarters() {
        for (hqs, units) in [(1, 1), (3, 4), (10, 60), (720, 700)] {
            let fleet = Fleet::new(hqs, units);
            assert_eq!(fleet.units.len(), units, "{hqs} HQs, {units} units");
            assert!(fleet.hqs.iter().all(|h| !h.units.is_empty()));
        }
    }
}
