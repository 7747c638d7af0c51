//! Loading the synthetic population (crate `population`) into an edge's store, through the
//! edge's only door for patients, [`Store::import`]: the patients with their records and
//! card links, in batches, the dataset marker last (an interrupted load is redone by the
//! next). `myna-local`, the crash harness's `myna-edge`, the end-to-end tests and the
//! benchmarks load this way; the edge itself never makes patients up.

use chrono::NaiveDate;
use edge_agent::store::{CardLink, Dataset, ImportedPatient, Store};
use population::SyntheticPatient;

/// Which synthetic population to load: the generator's seed and how many patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    /// Generator seed.
    pub seed: u64,
    /// Number of patients.
    pub patients: u64,
}

impl Population {
    /// The local development population: seed 20251001, 2,000 patients.
    pub const LOCAL: Population = Population {
        seed: LOCAL_SEED,
        patients: 2_000,
    };

    /// The local seed with `patients` patients.
    pub fn local(patients: u64) -> Population {
        Population {
            patients,
            ..Population::LOCAL
        }
    }
}

/// The seed of the local development population (`myna-local`, `myna-edge`, the tests).
pub const LOCAL_SEED: u64 = 20_251_001;

/// Issuer name of every synthetic card certificate, as
/// [`myna_domain::certificate::CardCertificate::from_der`] renders it: the development CA's
/// subject is exactly this one common name.
pub fn synthetic_card_issuer() -> String {
    format!("CN={}", population::CARD_ISSUER_CN)
}

/// A synthetic patient as the edge imports them, their card linked under `issuer`.
pub fn imported(patient: SyntheticPatient, issuer: &str) -> ImportedPatient {
    ImportedPatient {
        card: patient.card.as_ref().map(|card| CardLink {
            issuer: issuer.to_owned(),
            serial_hex: card.serial_hex(),
        }),
        header: patient.header,
        address: patient.address,
        insurer: patient.insurer,
        records: patient.records,
    }
}

/// Loads `population` as of `today` into `store` unless a dataset is there already,
/// blocking until done (call before serving; not from inside an async task). Returns the
/// number of patients loaded, 0 when the store had its dataset.
///
/// Files from before cards were linked by issuer have synthetic cards with no issuer
/// recorded: they get the synthetic issuer here (the schema names no issuer).
pub fn load(store: &Store, population: Population, today: NaiveDate) -> edge_agent::Result<u64> {
    let Population { seed, patients } = population;
    let issuer = synthetic_card_issuer();
    let dataset = Dataset {
        seed,
        generated_on: today,
    };
    let loaded = store.import(
        dataset,
        (0..patients).map(move |index| imported(population::patient(seed, index, today), &issuer)),
    )?;
    store.assign_card_issuer(&synthetic_card_issuer())?;
    if loaded > 0 {
        tracing::info!(patients = loaded, seed, "loaded synthetic population");
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn count(store: &Store, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_population_is_loaded_once_with_its_cards_linked_to_the_synthetic_issuer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("edge.sqlite3")).unwrap();
        let population = Population {
            seed: 3,
            patients: 20,
        };
        assert_eq!(load(&store, population, today()).unwrap(), 20);
        assert_eq!(load(&store, population, today()).unwrap(), 0);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM patients"), 20);
        assert_eq!(count(&store, "SELECT patients FROM dataset"), 20);
        let carded = (0..20)
            .filter(|i| population::patient(3, *i, today()).card.is_some())
            .count();
        assert!(carded > 0);
        let synthetic = count(
            &store,
            &format!(
                "SELECT COUNT(*) FROM patients WHERE card_issuer = '{}'",
                synthetic_card_issuer()
            ),
        );
        assert_eq!(synthetic, carded as i64);
    }

    #[test]
    fn an_empty_population_still_marks_the_database_seeded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("edge.sqlite3")).unwrap();
        assert_eq!(load(&store, Population::local(0), today()).unwrap(), 0);
        assert_eq!(count(&store, "SELECT COUNT(*) FROM dataset"), 1);
    }
}
