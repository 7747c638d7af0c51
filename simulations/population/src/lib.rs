//! Deterministic, seeded synthetic patients for My Number emergency (マイナ救急).
//!
//! Every patient is a pure function of `(seed, index, today)`: [`patient`] gives random
//! access to patient number `index`, and [`patients`] streams the first `count` patients
//! without holding them in memory; both give identical patients. Each patient has a
//! Japanese name, address and insurer, usually a My Number card ([`CardFacts`]), and
//! about five to forty medical records of every [`RecordKind`] over the past six years,
//! calibrated to DOMAIN.md (62.6% of ambulance patients aged 65 or older).
//!
//! The crate does no I/O and reads no clock.
//!
//! # Layout
//! - `demographics`: age bands and sex.
//! - `names`: names, addresses, insurers, institution names.
//! - `card`: card serials (unique by construction) and certificate validity.
//! - `conditions`: the condition table (ICD-10, prevalence by age, drugs, labs, surgery).
//! - `drugs`: the drug catalogue (generic and brand labels, ingredient, class).
//! - `labs`: analytes, units, reference ranges, blood group.
//! - `checkups`, `allergies`, `infections`: the other record kinds.
//! - `history`: assembling one patient's records from those tables.
//! - `random`: sampling helpers.
//!
//! # Example
//! ```
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
//! let p = population::patient(7, 42, today);
//! assert_eq!(p.header.id.0, "P0000042");
//! assert_eq!(population::patients(7, 43, today).last(), Some(p));
//! ```
//!
//! [`RecordKind`]: myna_domain::records::RecordKind
#![warn(missing_docs)]

mod allergies;
mod card;
mod checkups;
mod conditions;
mod demographics;
#[rustfmt::skip] // A catalogue: one drug per line reads as a table.
mod drugs;
mod history;
mod infections;
mod labs;
mod names;
mod random;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use myna_domain::identity::PatientId;
use myna_domain::records::MedicalRecord;
use myna_domain::summary::PatientHeader;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use card::CardFacts;

/// Issuer common name used for every synthetic card certificate.
pub const CARD_ISSUER_CN: &str = "JPKI Development User Authentication CA";

/// One synthetic patient: who they are, their card, and their medical records.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticPatient {
    /// Id ("P0000042"), name ("佐藤 花子"), date of birth and sex.
    pub header: PatientHeader,
    /// Japanese street address, e.g. "東京都世田谷区桜丘3丁目12-5".
    pub address: String,
    /// Health insurer (保険者), e.g. "全国健康保険協会" or "東京都後期高齢者医療広域連合".
    pub insurer: String,
    /// The patient's My Number card, if they have one (about 93% do).
    pub card: Option<CardFacts>,
    /// Medical records, oldest first, all dated on or before `today`.
    pub records: Vec<MedicalRecord>,
}

/// Patient number `index` of the population for `seed`: random access, same result every
/// call, equal to the `index`-th item of [`patients`].
pub fn patient(seed: u64, index: u64, today: NaiveDate) -> SyntheticPatient {
    // One ChaCha stream per patient: the key comes from the seed, the stream id is the
    // index, so patients are independent and need no shared state.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index);
    let rng = &mut rng;

    let sex = demographics::draw_sex(rng);
    let age = demographics::draw_age(rng);
    let birth_date = demographics::draw_birth_date(rng, age, today);
    let name = names::full_name(rng, sex, birth_date);
    let area = random::pick(rng, names::AREAS);
    let address = names::address(rng, area);
    let insurer = names::insurer(rng, age, area);
    let card = card::draw(rng, seed, index, birth_date, today);
    let person = history::Person {
        age,
        sex,
        birth_date,
    };
    let records = history::records(rng, person, area, today);
    SyntheticPatient {
        header: PatientHeader {
            id: PatientId(format!("P{index:07}")),
            name,
            birth_date,
            sex,
        },
        address,
        insurer,
        card,
        records,
    }
}

/// The first `count` patients of the population for `seed`, generated lazily one at a
/// time (nothing is held in memory between items).
pub fn patients(seed: u64, count: u64, today: NaiveDate) -> impl Iterator<Item = SyntheticPatient> {
    (0..count).map(move |index| patient(seed, index, today))
}
