//! The cards of a synthetic population ([`PopulationCards`]): each patient's card issued
//! by a [`DevCardIssuer`] the first time it is asked for, with the patient's test PIN
//! ([`dev_pin`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;

use crate::card::SoftwareCard;
use crate::error::Result;
use crate::issuer::{DevCardIssuer, generate_card_key};

/// The test-only PIN of a synthetic patient's card: four digits derived from the patient
/// id, the same for both PINs (as real cards usually are). Public knowledge by design:
/// never use it for anything but synthetic data.
pub fn dev_pin(patient: &population::SyntheticPatient) -> String {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let hash = patient
        .header
        .id
        .0
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    format!("{:04}", hash % 10_000)
}

/// The cards of one synthetic population, each created (key, certificate) the first time
/// it is asked for and kept: the same patient always taps the same card, PIN counters
/// included. Nothing is generated up front.
pub struct PopulationCards {
    seed: u64,
    today: NaiveDate,
    issuer: DevCardIssuer,
    /// One key for every card, when set ([`PopulationCards::sharing_one_key`]).
    shared_key: Option<rsa::PrivateKey>,
    cards: Mutex<HashMap<u64, Arc<SoftwareCard>>>,
}

impl std::fmt::Debug for PopulationCards {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopulationCards")
            .field("seed", &self.seed)
            .field("created", &self.created())
            .finish_non_exhaustive()
    }
}

impl PopulationCards {
    /// No cards yet; the population `seed` as of `today`, issued by `issuer`.
    pub fn new(issuer: DevCardIssuer, seed: u64, today: NaiveDate) -> Self {
        PopulationCards {
            seed,
            today,
            issuer,
            shared_key: None,
            cards: Mutex::new(HashMap::new()),
        }
    }

    /// These cards, all made with one RSA key generated now (blocking) instead of a key
    /// each: for load simulations that tap tens of thousands of different cards, where
    /// generating a key per card (0.1 to 1 s each) would cost more than the day being
    /// simulated. Certificates, serials and PINs stay per card, and the edge identifies a
    /// card by issuer and serial, so nothing it checks changes; only signatures of two
    /// cards share a key.
    pub fn sharing_one_key(mut self) -> Result<Self> {
        self.shared_key = Some(generate_card_key()?);
        Ok(self)
    }

    /// The CA that issued every card of this population.
    pub fn issuer(&self) -> &DevCardIssuer {
        &self.issuer
    }

    /// The population's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The day the population is generated for.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The card of patient `index`, PINs [`dev_pin`]: created now if this is the first
    /// time (blocking: RSA key generation). Fails if the patient has no card.
    pub fn card(&self, index: u64) -> Result<Arc<SoftwareCard>> {
        if let Some(card) = self.lock().get(&index) {
            return Ok(Arc::clone(card));
        }
        // Generate without holding the lock; if two callers race, the first insert wins.
        let patient = population::patient(self.seed, index, self.today);
        let pin = dev_pin(&patient);
        let card = match &self.shared_key {
            Some(key) => self.issuer.card_with_key(&patient, &pin, key.clone())?,
            None => self.issuer.card_for(&patient, &pin)?,
        };
        let card = Arc::new(card);
        Ok(Arc::clone(self.lock().entry(index).or_insert(card)))
    }

    /// How many cards exist so far.
    pub fn created(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<SoftwareCard>>> {
        self.cards.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
