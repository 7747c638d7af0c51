//! What the tablets were told: access records the edge acknowledged, by incident and kind,
//! which the checks then look for in the file.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

/// Access records acknowledged for one incident, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Acknowledged {
    pub(super) disclosed: u64,
    pub(super) refused: u64,
    pub(super) denied: u64,
}

impl Acknowledged {
    pub(super) fn total(&self) -> u64 {
        self.disclosed + self.refused + self.denied
    }
}

/// Acknowledgements by incident id (as the edge stores it), shared by the tablets.
#[derive(Default)]
pub(super) struct Ledger {
    incidents: Mutex<HashMap<String, Acknowledged>>,
    /// Requests that got no answer (cut off by a kill).
    pub(super) cut_off: AtomicU64,
    /// Answers other than the expected one, described.
    pub(super) unexpected: Mutex<Vec<String>>,
}

impl Ledger {
    pub(super) fn acknowledge(&self, incident: &str, add: impl FnOnce(&mut Acknowledged)) {
        let mut incidents = self
            .incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        add(incidents.entry(incident.to_string()).or_default());
    }

    pub(super) fn snapshot(&self) -> HashMap<String, Acknowledged> {
        self.incidents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
