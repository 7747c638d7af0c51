//! [`Tablet`]: the app's one handle on the core: the edge client and the tablet's local
//! store, from which incidents are started or resumed and the outbox is delivered.

use std::path::Path;
use std::sync::Arc;

use crate::local::{
    DeliveryReport, LocalAccessRecord, LocalStore, QueuedWrite, SavedIncident, StorageKey,
};
use crate::{EdgeClient, EmergencyIncident, MobileError};

/// The tablet: one edge, one local store.
#[derive(Debug, Clone)]
pub struct Tablet {
    edge: EdgeClient,
    store: Arc<LocalStore>,
}

impl Tablet {
    /// Opens the tablet's store at `path` (created on first start) sealed with `key`, for
    /// the edge `edge`.
    pub fn open(path: &Path, key: &StorageKey, edge: EdgeClient) -> Result<Self, MobileError> {
        Ok(Tablet {
            edge,
            store: Arc::new(LocalStore::open(path, key)?),
        })
    }

    /// A tablet on an already open store.
    pub fn with_store(store: Arc<LocalStore>, edge: EdgeClient) -> Self {
        Tablet { edge, store }
    }

    /// Starts a new incident for `crew_member_id`, saved from its first step.
    pub fn start_incident(&self, crew_member_id: String) -> Result<EmergencyIncident, MobileError> {
        EmergencyIncident::start(self.edge.clone(), Arc::clone(&self.store), crew_member_id)
    }

    /// Picks up incident `incident_id` where it was when the app stopped.
    pub fn resume_incident(&self, incident_id: &str) -> Result<EmergencyIncident, MobileError> {
        EmergencyIncident::resume(self.edge.clone(), Arc::clone(&self.store), incident_id)
    }

    /// Incidents started on this tablet and not closed, oldest first.
    pub fn unfinished_incidents(&self) -> Result<Vec<SavedIncident>, MobileError> {
        self.store.unfinished_incidents()
    }

    /// Every write in the outbox, oldest first.
    pub fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileError> {
        self.store.queued_writes(None)
    }

    /// Writes not delivered yet.
    pub fn pending_writes(&self) -> Result<u32, MobileError> {
        self.store.pending_count()
    }

    /// This tablet's own accesses to patient data, newest first, at most `limit`.
    pub fn access_records(&self, limit: u32) -> Result<Vec<LocalAccessRecord>, MobileError> {
        self.store.access_records(limit)
    }

    /// One delivery pass over the outbox (writes whose backoff has ended).
    pub async fn deliver_due(&self) -> Result<DeliveryReport, MobileError> {
        self.store.deliver_due(&self.edge).await
    }

    /// Sends every pending write now, backoffs or not: call it when the platform reports
    /// that the network is back.
    pub async fn deliver_now(&self) -> Result<DeliveryReport, MobileError> {
        self.store.deliver_now(&self.edge).await
    }

    /// Delivers the outbox in the background until `stop` completes: at once when a write
    /// is queued, and again as each backoff ends. Also wipes summary copies past their
    /// time limit.
    pub async fn run_delivery(&self, stop: impl std::future::Future<Output = ()>) {
        self.store.run_delivery(&self.edge, stop).await;
    }

    /// The local store.
    pub fn store(&self) -> &Arc<LocalStore> {
        &self.store
    }
}
